//! `keyscan fingerprint`: every fingerprint of every key in some files.

use super::args::{ConfigFrom, Global};
use anyhow::Result;
use keyscan::report::fingerprints::{render_human, render_json};
use keyscan::report::Format;
use keyscan::scan::fingerprints::{self, fingerprint_files};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct FingerprintArgs {
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

impl FingerprintArgs {
    pub fn run(&self, global: &Global) -> Result<u8> {
        // The config's passphrases and --no-crack, not its rules or allowlist.
        let loaded = global.load(ConfigFrom::Work, None)?;
        let scanner = fingerprints::scanner(&loaded.scanner.policy)?;
        let keys = fingerprint_files(&scanner, &self.files)?;
        let mut out = std::io::stdout().lock();
        match Format::from(global.format) {
            Format::Json => render_json(&keys, &mut out)?,
            Format::Human => render_human(&keys, &mut out)?,
            other => anyhow::bail!("keyscan fingerprint prints human or json, not {other:?}"),
        }
        out.flush()?;
        if keys.is_empty() {
            eprintln!("keyscan: no key found");
            return Ok(1);
        }
        Ok(0)
    }
}
