//! `keyscan rules`: compile the rules and check their examples.

use super::args::{ListFormat, ListFormatArgs, TopArgs};
use super::output::say;
use anyhow::Result;
use keyscan::report::escape;
use keyscan::rules;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    /// Extra rule files to check; the built-in rules are always checked.
    files: Vec<PathBuf>,
    #[command(flatten)]
    format: ListFormatArgs,
}

impl RulesArgs {
    pub fn run(&self, top: &TopArgs) -> Result<u8> {
        let format = self.format.resolve(top, "rules")?;
        let check = rules::check_files(&self.files)?;
        match format {
            ListFormat::Human => {
                for f in &check.failures {
                    eprintln!(
                        "keyscan: rule check failed: {}",
                        escape::text(&f.to_string())
                    );
                }
                if check.failures.is_empty() {
                    say(&format!("keyscan: {} rules ok", check.ids.len()))?;
                }
            }
            ListFormat::Json => {
                let failures: Vec<String> = check.failures.iter().map(|f| f.to_string()).collect();
                let v = serde_json::json!({ "ok": failures.is_empty(), "rules": check.ids, "failures": failures });
                say(&serde_json::to_string_pretty(&v)?)?;
            }
        }
        Ok(check.exit_code())
    }
}
