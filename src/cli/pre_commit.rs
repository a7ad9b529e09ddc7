//! `keyscan pre-commit`: the staged changes, as the pre-commit hook runs it.

use super::args::{BaselineArgs, ConfigFrom, Global};
use super::output::conclude;
use anyhow::Result;
use keyscan::policy::verdict::Finish;
use keyscan::report::{Mode, Report};
use keyscan::source::staged;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct PreCommitArgs {
    #[command(flatten)]
    baseline: BaselineArgs,
}

impl PreCommitArgs {
    pub fn run(&self, global: &Global) -> Result<u8> {
        let started = std::time::SystemTime::now();
        let loaded = global.load(ConfigFrom::Work, Some(&self.baseline))?;
        let mut report = Report {
            findings: staged::scan_staged(&loaded.scanner)?,
            scanned: "the staged changes".to_string(),
            mode: Mode::PreCommit,
            // Staged paths are relative to the top of the work tree.
            root: git2::Repository::discover(".")
                .ok()
                .and_then(|r| r.workdir().map(PathBuf::from)),
            started: Some(started),
            ..Report::default()
        };
        conclude(global, &loaded, &mut report, Finish::default(), true)
    }
}
