//! Reporters render what a scan found. They only see `Finding`s, which carry
//! no key material, so redaction cannot be forgotten here.

mod human;
mod json;
mod sarif;

use crate::finding::Finding;
use std::io::{self, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
}

/// Everything one run has to say.
#[derive(Debug, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// Not findings but worth knowing: skipped files, loose permissions.
    pub warnings: Vec<String>,
    /// What was scanned, for the summary line ("3 files", "5 staged files").
    pub scanned: String,
}

impl Report {
    pub fn blocking(&self) -> usize {
        self.findings.iter().filter(|f| f.blocking).count()
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
    }
}
