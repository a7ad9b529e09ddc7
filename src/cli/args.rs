//! Flags shared by several subcommands.

use keyscan::policy::baseline::{self, Baseline};
use keyscan::policy::config::Config;
use std::path::PathBuf;

/// The baseline flags, for every command that reports findings.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BaselineArgs {
    /// Drop findings of keys recorded in this baseline file (see --write-baseline).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// With --baseline: a known key still blocks at a path the baseline does not list.
    #[arg(long, requires = "baseline")]
    pub baseline_strict: bool,
}

impl BaselineArgs {
    /// The baseline to apply and whether strictly (the flags, else the config).
    pub fn resolve(&self, config: &Config) -> anyhow::Result<(Option<Baseline>, bool)> {
        baseline::resolve(self.baseline.as_deref(), self.baseline_strict, config)
    }
}
