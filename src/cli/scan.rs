//! `keyscan scan`: files and directories on disk, or standard input.

use super::args::{AuditArgs, CheckArgs, TopArgs};
use super::output::conclude;
use anyhow::Result;
use keyscan::report::Report;
use keyscan::source::files;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Files or directories; defaults to the current directory.
    paths: Vec<PathBuf>,
    /// Also scan files that .gitignore, .ignore and git excludes would skip.
    #[arg(long)]
    no_ignore: bool,
    #[command(flatten)]
    audit: AuditArgs,
    #[command(flatten)]
    check: CheckArgs,
}

impl ScanArgs {
    pub fn run(&self, top: &TopArgs) -> Result<u8> {
        let started = std::time::SystemTime::now();
        let (options, loaded) = self.check.load(top)?;
        let paths = if self.paths.is_empty() {
            vec![PathBuf::from(".")]
        } else {
            self.paths.clone()
        };
        let opts = files::WalkOptions {
            no_ignore: self.no_ignore,
        };
        let scan = files::scan_paths(&loaded.scanner, &paths, &opts)?;
        let mut report = Report {
            findings: scan.findings,
            warnings: scan.warnings,
            scanned: format!(
                "{} file{}",
                scan.files,
                if scan.files == 1 { "" } else { "s" }
            ),
            started: Some(started),
            ..Report::default()
        };
        let finish = self.audit.finish();
        conclude(&options, &loaded, &mut report, finish, false)
    }
}
