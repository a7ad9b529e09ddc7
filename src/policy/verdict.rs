//! What every scanning command does once its source is done: policy
//! warnings and skip counts, the baseline (write, then apply) and the
//! allowlist check. Commands call [`finish`] before rendering the report.

use crate::policy::baseline::Baseline;
use crate::policy::Policy;
use crate::report::words::plural;
use crate::report::Report;
use anyhow::Result;
use std::path::Path;

#[derive(Debug, Default, Clone, Copy)]
pub struct Finish<'a> {
    /// Drop findings of these known keys.
    pub baseline: Option<&'a Baseline>,
    /// With `baseline`: a known key at a new path still blocks.
    pub baseline_strict: bool,
    /// Record every key found here first (then apply it).
    pub write_baseline: Option<&'a Path>,
    /// List allowlist entries that matched nothing; any makes the run fail.
    pub check_config: bool,
}

#[derive(Debug, Default)]
pub struct Finished {
    /// Allowlist entries that matched nothing (with `check_config`).
    pub unused_entries: Vec<String>,
    /// Messages for standard error (e.g. that a baseline was written).
    pub notes: Vec<String>,
}

impl Finished {
    /// The exit code: 1 for blocking findings or a failed config check.
    pub fn exit_code(&self, report: &Report) -> u8 {
        u8::from(report.blocking() > 0 || !self.unused_entries.is_empty())
    }
}

pub fn finish(policy: &Policy, report: &mut Report, opts: &Finish) -> Result<Finished> {
    let mut done = Finished::default();
    report.warnings.extend(policy.warnings());
    let mut summary: Vec<String> = policy.skip_summary().into_iter().collect();

    let written;
    let mut baseline = opts.baseline;
    if let Some(path) = opts.write_baseline {
        let (b, without) = Baseline::from_findings(&report.findings);
        b.write(path)?;
        let mut note = format!(
            "keyscan: wrote baseline {} ({})",
            path.display(),
            plural(b.keys.len(), "key")
        );
        if without > 0 {
            note.push_str(&format!(
                "; {} without a fingerprint cannot be recorded and will still be reported",
                plural(without, "finding")
            ));
        }
        done.notes.push(note);
        written = b;
        baseline = Some(&written);
    }
    if let Some(b) = baseline {
        let applied = b.apply(&mut report.findings, opts.baseline_strict);
        summary.extend(applied.summary());
    }

    if opts.check_config {
        done.unused_entries = policy.allowlist.unused();
        report.warnings.extend(done.unused_entries.iter().cloned());
    }
    if !summary.is_empty() {
        report.scanned = format!("{} ({})", report.scanned, summary.join(", "));
    }
    Ok(done)
}
