//! `keyscan pre-commit`: the staged changes, as the pre-commit hook runs it.

use super::args::{BaselineArgs, ConfigFrom, Global};
use super::output::{closed_pipe, conclude};
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
    /// Anything that stops the check (a bad config, an unreadable index)
    /// blocks the commit, and says so.
    pub fn run(&self, global: &Global) -> Result<u8> {
        match self.check(global) {
            Err(err) if !closed_pipe(&err) => {
                eprintln!("keyscan: error: {err:#}");
                eprintln!(
                    "keyscan: commit blocked: the staged changes could not be checked for private keys; fix the error above, or commit without the check on purpose with `git commit --no-verify`"
                );
                Ok(2)
            }
            other => other,
        }
    }

    fn check(&self, global: &Global) -> Result<u8> {
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
