//! Reporters render what a scan found. They only see `Finding`s, which carry
//! no key material, so redaction cannot be forgotten here. `words` holds the
//! wording helpers every layer's messages share.

mod advice;
pub mod audit;
pub mod escape;
pub mod fingerprints;
mod gitlab;
mod human;
mod json;
mod location;
pub mod plan;
mod sarif;
pub mod words;

use crate::scan::finding::Finding;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::SystemTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitLab's secret-detection report (`gl-secret-detection-report.json`).
    Gitlab,
    /// Only `revoke-plan` prints Markdown.
    Markdown,
}

/// Which command produced the report: it decides the headline ("commit
/// blocked", "push blocked") and which advice comes first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    #[default]
    Scan,
    PreCommit,
    History,
    PrePush,
    PreReceive,
}

/// Everything one run has to say.
#[derive(Debug, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// Not findings but worth knowing: skipped files, loose permissions.
    pub warnings: Vec<String>,
    /// What could not be read (e.g. blobs a partial clone lacks): the run
    /// did not see everything, fails (exit 2), and machine reports say so.
    pub errors: Vec<String>,
    /// What was scanned, for the summary line ("3 files", "5 staged files").
    pub scanned: String,
    pub mode: Mode,
    /// The directory that relative finding paths are relative to (the work
    /// tree's top in git modes). `None`: the current directory.
    pub root: Option<PathBuf>,
    /// When the scan started, for reports that record it (GitLab). `None`:
    /// when the report is rendered.
    pub started: Option<SystemTime>,
    /// Rule id -> description of the rules the scan ran (custom ones
    /// included), for reports that describe their rules (SARIF).
    pub rule_descriptions: BTreeMap<String, String>,
}

impl Report {
    pub fn blocking(&self) -> usize {
        self.findings.iter().filter(|f| f.blocking).count()
    }

    /// `root` made absolute, falling back to the current directory.
    fn root_dir(&self) -> PathBuf {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        match &self.root {
            Some(root) => cwd.join(root),
            None => cwd,
        }
    }
}

pub struct Style {
    pub color: bool,
    /// Human output: only blocking findings and errors.
    pub quiet: bool,
}

pub fn render(
    report: &Report,
    format: Format,
    style: &Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Human => human::render(report, style, out),
        Format::Json => json::render(report, out),
        Format::Sarif => sarif::render(report, out),
        Format::Gitlab => gitlab::render(report, out),
        Format::Markdown => Err(io::Error::other(
            "markdown output is for revoke-plan; use human, json, sarif or gitlab",
        )),
    }
}
