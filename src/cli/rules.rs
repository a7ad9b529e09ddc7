//! `keyscan rules`: compile the rules and check their examples.

use super::args::{ListFormat, ListFormatArgs, TopArgs};
use super::output::say;
use anyhow::Result;
use keyscan::rules::{self, Engine};
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
        let mut all = rules::builtin()?;
        for path in &self.files {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read rule file {}: {e}", path.display()))?;
            all.extend(rules::parse_rules(&path.display().to_string(), &text)?);
        }
        let engine = Engine::new(all)?;
        let failures = rules::check_examples(&engine);
        match format {
            ListFormat::Human => {
                for f in &failures {
                    eprintln!("keyscan: rule check failed: {f}");
                }
                if failures.is_empty() {
                    say(&format!("keyscan: {} rules ok", engine.rules().len()))?;
                }
            }
            ListFormat::Json => {
                let ids: Vec<&str> = engine.rules().iter().map(|r| r.id.as_str()).collect();
                let failures: Vec<String> = failures.iter().map(|f| f.to_string()).collect();
                let v = serde_json::json!({ "ok": failures.is_empty(), "rules": ids, "failures": failures });
                say(&serde_json::to_string_pretty(&v)?)?;
            }
        }
        Ok(u8::from(!failures.is_empty()))
    }
}
