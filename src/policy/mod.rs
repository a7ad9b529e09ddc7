//! What is reported, what blocks and what is skipped: the config file, the
//! allowlist, the baseline and the verdict with its exit code. Knows nothing
//! of git or of how keys are parsed.

pub mod allowlist;
pub mod audit;
pub mod baseline;
pub mod config;
pub mod revoke;
pub mod server;
pub mod time;
pub mod verdict;

use crate::report::words::plural;
use crate::scan::finding::{KeyInfo, Status};
use allowlist::{Allowlist, Verdict};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// What to report, what blocks and what is skipped. Sources ask it before
/// reading a file (`admit_path`, `admit_size`, `admit_content`); it counts
/// what it skipped, so every mode reports skips the same way.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Unverified candidates (placeholders that look real, truncated or
    /// corrupted keys) block too.
    pub block_unverified: bool,
    /// Keys allowed by fingerprint, files skipped by path.
    pub allowlist: Allowlist,
    /// Larger files are skipped with a warning.
    pub max_file_size: Option<u64>,
    /// Skip files that look binary (a NUL byte near the start, as git
    /// decides); binary DER keys are then not found.
    pub skip_binaries: bool,
    /// Folders that sync or share their files (Dropbox, a network share):
    /// a real key in one is flagged. Absolute paths.
    pub shared_folders: Vec<PathBuf>,
    /// Where the config lives: allowlist paths are relative to it (the
    /// current directory when there is no config).
    pub config_dir: Option<PathBuf>,
    skips: Arc<Skips>,
    /// Try common passphrases on encrypted keys (`--no-crack` turns it off).
    pub crack: bool,
    /// More passphrases to try, after the built-in list.
    pub passphrases: Vec<String>,
    /// The KDF work the passphrase check may spend in the whole run.
    pub crack_budget: std::time::Duration,
    /// Whether the config or a flag chose `crack_budget` (else each
    /// command's default applies).
    pub crack_budget_set: bool,
    /// What loading the config had to say (a baseline it names is missing).
    pub config_warnings: Vec<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            block_unverified: false,
            allowlist: Allowlist::default(),
            max_file_size: None,
            skip_binaries: false,
            shared_folders: Vec::new(),
            config_dir: None,
            skips: Arc::default(),
            crack: true,
            passphrases: Vec::new(),
            crack_budget: crate::validate::crack::BUDGET,
            crack_budget_set: false,
            config_warnings: Vec::new(),
        }
    }
}

#[derive(Debug, Default)]
struct Skips {
    binary: AtomicUsize,
    too_large: Mutex<Vec<String>>,
}

/// How far `admit_content` looks for a NUL byte (git looks as far).
const BINARY_SNIFF: usize = 8000;

impl Policy {
    pub fn verdict(&self, info: &KeyInfo) -> Verdict {
        self.allowlist.verdict(info)
    }

    pub fn blocks(&self, status: Status) -> bool {
        status != Status::Unverified || self.block_unverified
    }

    /// False when the allowlist skips this path (relative to the config's
    /// directory, `/` separators).
    pub fn admit_path(&self, rel: &str) -> bool {
        !self.allowlist.skips_path(rel)
    }

    /// False (and a warning) when a file is over `max_file_size`.
    pub fn admit_size(&self, shown: &str, len: u64) -> bool {
        self.admit_size_of(|| shown.to_string(), len)
    }

    /// As [`Policy::admit_size`], the name spelt out only for a file skipped.
    pub fn admit_size_of(&self, shown: impl FnOnce() -> String, len: u64) -> bool {
        match self.max_file_size {
            Some(max) if len > max => {
                let shown = shown();
                let mut w = self
                    .skips
                    .too_large
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                w.push(format!(
                    "skipped {shown}: {len} bytes is over max_file_size ({max} bytes)"
                ));
                false
            }
            _ => true,
        }
    }

    /// False when binaries are skipped and `data` looks binary.
    pub fn admit_content(&self, data: &[u8]) -> bool {
        if self.skip_binaries && memchr::memchr(0, &data[..data.len().min(BINARY_SNIFF)]).is_some()
        {
            self.skips.binary.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// "3 files skipped by allowlist, 1 binary file skipped", or `None`.
    pub fn skip_summary(&self) -> Option<String> {
        let mut parts = Vec::new();
        let by_allowlist = self.allowlist.files_skipped();
        if by_allowlist > 0 {
            parts.push(format!(
                "{} skipped by allowlist",
                plural(by_allowlist, "file")
            ));
        }
        let binary = self.skips.binary.load(Ordering::Relaxed);
        if binary > 0 {
            parts.push(format!("{} skipped", plural(binary, "binary file")));
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }

    /// Warnings so far: the config's, expired allowlist entries, files over
    /// the size limit.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = self.config_warnings.clone();
        out.extend(self.allowlist.expired_warnings());
        let mut large = self
            .skips
            .too_large
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        large.sort();
        out.extend(large);
        out
    }
}
