//! `keyscan history`: every blob of a repository's history, and which
//! commit brought each key in.

use super::args::{AuditArgs, CheckArgs, TopArgs};
use super::output::conclude;
use anyhow::Result;
use keyscan::report::{escape, Mode, Report};
use keyscan::source::history;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// The repository (work tree, .git directory or bare); defaults to here.
    path: Option<PathBuf>,
    /// Only this ref (full name, or a branch, tag or remote-tracking ref's
    /// short name). Repeatable.
    #[arg(long = "ref", value_name = "REF")]
    refs: Vec<String>,
    /// Leave out commits reachable from REV (scan REV..refs).
    #[arg(long, value_name = "REV")]
    since: Option<String>,
    /// Also scan objects no ref reaches (dangling commits after a force-push).
    #[arg(long)]
    all_objects: bool,
    #[command(flatten)]
    audit: AuditArgs,
    #[command(flatten)]
    check: CheckArgs,
}

impl HistoryArgs {
    pub fn run(&self, top: &TopArgs) -> Result<u8> {
        let started = std::time::SystemTime::now();
        let (options, mut loaded) = self.check.load(top)?;
        let policy = &mut loaded.scanner.policy;
        if !policy.crack_budget_set {
            policy.crack_budget = keyscan::validate::crack::HISTORY_BUDGET;
        }
        let opts = history::HistoryOptions {
            refs: self.refs.clone(),
            since: self.since.clone(),
            all_objects: self.all_objects,
            progress: !options.quiet,
        };
        let path = self.path.clone().unwrap_or_else(|| PathBuf::from("."));
        let scan = history::scan_history(&loaded.scanner, &path, &opts)?;
        for e in &scan.errors {
            eprintln!("keyscan: error: {}", escape::text(e));
        }
        let read_errors = scan.errors.len();
        let mut report = Report {
            scanned: scan.summary(),
            findings: scan.findings,
            warnings: scan.notes.clone(),
            errors: scan.errors.clone(),
            mode: Mode::History,
            // History paths are relative to the top of the repository.
            root: git2::Repository::discover(&path).ok().map(|r| {
                r.workdir()
                    .map(PathBuf::from)
                    .unwrap_or_else(|| r.path().to_path_buf())
            }),
            started: Some(started),
            ..Report::default()
        };
        let finish = self.audit.finish();
        let code = conclude(&options, &loaded, &mut report, finish, false)?;
        if read_errors > 0 {
            eprintln!(
                "keyscan: {read_errors} object{} could not be read: not everything was scanned",
                if read_errors == 1 { "" } else { "s" }
            );
            return Ok(2);
        }
        Ok(code)
    }
}
