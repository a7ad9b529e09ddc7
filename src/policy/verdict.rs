//! What every scanning command does once its source is done: policy
//! warnings and skip counts, the baseline (write, then apply) and the
//! allowlist check. Commands call [`finish`] before rendering the report.

use crate::policy::baseline::Baseline;
use crate::policy::Policy;
use crate::report::words::plural;
use crate::report::Report;
use crate::scan::finding::Finding;
use anyhow::Result;
use std::collections::HashMap;
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

/// How many findings each fingerprint has.
fn by_fingerprint(findings: &[Finding]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for fp in findings.iter().filter_map(|f| f.fingerprint.clone()) {
        *counts.entry(fp).or_insert(0) += 1;
    }
    counts
}

/// "1 known key (2 locations) suppressed by baseline".
fn suppressed(keys: usize, locations: usize) -> Option<String> {
    let s = |n: usize| if n == 1 { "" } else { "s" };
    (locations > 0).then(|| {
        let at = if locations == keys {
            String::new()
        } else {
            format!(" ({locations} location{})", s(locations))
        };
        format!("{keys} known key{}{at} suppressed by baseline", s(keys))
    })
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
        let before = by_fingerprint(&report.findings);
        let applied = b.apply(&mut report.findings, opts.baseline_strict);
        let after = by_fingerprint(&report.findings);
        // Keys and locations apart: one key at two paths is one key.
        let keys = before
            .iter()
            .filter(|(fp, n)| after.get(*fp).copied().unwrap_or(0) < **n)
            .count();
        summary.extend(suppressed(keys, applied.suppressed));
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
