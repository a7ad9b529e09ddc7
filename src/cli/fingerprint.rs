//! `keyscan fingerprint`: every fingerprint of every key in some files.

use super::args::{ConfigFrom, ListFormat, ListFormatArgs, LoadArgs, ReportArgs, TopArgs};
use anyhow::Result;
use keyscan::report::fingerprints::{render_human, render_json};
use keyscan::scan::fingerprints::{self, fingerprint_files};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct FingerprintArgs {
    /// Key files, public-key files or `-` for standard input.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    #[command(flatten)]
    format: ListFormatArgs,
    #[command(flatten)]
    load: LoadArgs,
}

impl FingerprintArgs {
    pub fn run(&self, top: &TopArgs) -> Result<u8> {
        let format = self.format.resolve(top, "fingerprint")?;
        // The config's passphrases and --no-crack, not its rules or allowlist.
        let loaded = top
            .with(&ReportArgs::default(), &self.load)
            .load(ConfigFrom::Work, None)?;
        let scanner = fingerprints::scanner(&loaded.scanner.policy)?;
        let keys = fingerprint_files(&scanner, &self.files)?;
        let mut out = std::io::stdout().lock();
        match format {
            ListFormat::Json => render_json(&keys, &mut out)?,
            ListFormat::Human => render_human(&keys, &mut out)?,
        }
        out.flush()?;
        if keys.is_empty() {
            eprintln!("keyscan: no key found");
            return Ok(1);
        }
        Ok(0)
    }
}
