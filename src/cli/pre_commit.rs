//! `keyscan pre-commit`: the staged changes, as the pre-commit hook runs it.

use super::args::{CheckArgs, ConfigFrom, Options, TopArgs};
use super::output::{closed_pipe, conclude, failed_closed};
use anyhow::Result;
use keyscan::policy::verdict::Finish;
use keyscan::report::{Mode, Report};
use keyscan::source::staged;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct PreCommitArgs {
    #[command(flatten)]
    check: CheckArgs,
}

impl PreCommitArgs {
    /// Anything that stops the check (a bad config, an unreadable index)
    /// blocks the commit, and says so.
    pub fn run(&self, top: &TopArgs) -> Result<u8> {
        let opts = &self.check.options(top);
        match self.check(opts) {
            Err(err) if !closed_pipe(&err) => Ok(failed_closed("commit blocked", &err)),
            other => other,
        }
    }

    fn check(&self, opts: &Options) -> Result<u8> {
        let started = std::time::SystemTime::now();
        staged::timing("start");
        let loaded = opts.load(ConfigFrom::Work, Some(&self.check.baseline))?;
        staged::timing("config and rules loaded");
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
        let code = conclude(opts, &loaded, &mut report, Finish::default(), true);
        staged::timing("reported");
        code
    }
}
