//! `keyscan rules`: compile the rules and check their examples.

use anyhow::Result;
use keyscan::rules::{self, Engine};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    /// Extra rule files to check; the built-in rules are always checked.
    files: Vec<PathBuf>,
}

impl RulesArgs {
    pub fn run(&self) -> Result<u8> {
        let mut all = rules::builtin()?;
        for path in &self.files {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read rule file {}: {e}", path.display()))?;
            all.extend(rules::parse_rules(&path.display().to_string(), &text)?);
        }
        let engine = Engine::new(all)?;
        let failures = rules::check_examples(&engine);
        for f in &failures {
            eprintln!("keyscan: rule check failed: {f}");
        }
        if failures.is_empty() {
            super::output::say(&format!("keyscan: {} rules ok", engine.rules().len()))?;
            Ok(0)
        } else {
            Ok(1)
        }
    }
}
