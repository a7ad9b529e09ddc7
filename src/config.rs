//! `.keyscan.toml`: policy and the fingerprint allowlist.
//!
//! ```toml
//! [policy]
//! block_unverified = false   # placeholders that look real, corrupted keys
//! crack = true                # try common passphrases on encrypted keys
//! passphrases = []            # more passphrases to try
//!
//! [allowlist]
//! # Test fixtures, by fingerprint only: a path allowlist would let a real key
//! # hide next to them.
//! fingerprints = ["SHA256:..."]
//! ```

use crate::scan::Policy;
use anyhow::{Context, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = ".keyscan.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub policy: PolicySection,
    #[serde(default)]
    pub allowlist: Allowlist,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySection {
    #[serde(default)]
    pub block_unverified: bool,
    /// Try common passphrases on encrypted keys.
    #[serde(default = "yes")]
    pub crack: bool,
    /// Extra passphrases to try (a team's usual ones).
    #[serde(default)]
    pub passphrases: Vec<String>,
}

impl Default for PolicySection {
    fn default() -> Self {
        PolicySection {
            block_unverified: false,
            crack: true,
            passphrases: Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allowlist {
    #[serde(default)]
    pub fingerprints: Vec<String>,
}

impl Config {
    pub fn parse(origin: &Path, text: &str) -> Result<Self> {
        toml::from_str(text).with_context(|| format!("config {} is not valid", origin.display()))
    }

    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config {}", path.display()))?;
        Self::parse(path, &text)
    }

    /// The explicit `--config` file, else `.keyscan.toml` at the top of the
    /// enclosing git work tree or in the current directory, else defaults.
    pub fn discover(explicit: Option<&Path>) -> Result<Self> {
        if let Some(path) = explicit {
            return Self::load(path);
        }
        match default_path() {
            Some(path) => Self::load(&path),
            None => Ok(Config::default()),
        }
    }

    pub fn policy(&self) -> Policy {
        Policy {
            block_unverified: self.policy.block_unverified,
            allow_fingerprints: self.allowlist.fingerprints.iter().cloned().collect(),
            crack: self.policy.crack,
            passphrases: self.policy.passphrases.clone(),
            ..Policy::default()
        }
    }
}

fn default_path() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    for dir in cwd.ancestors() {
        let candidate = dir.join(FILE_NAME);
        if candidate.is_file() {
            return Some(candidate);
        }
        if dir.join(".git").exists() {
            break;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_policy_and_allowlist() {
        let c = Config::parse(
            Path::new("x"),
            "[policy]\nblock_unverified = true\n[allowlist]\nfingerprints = [\"SHA256:abc\"]\n",
        )
        .unwrap();
        let p = c.policy();
        assert!(p.block_unverified);
        assert!(p.allow_fingerprints.contains("SHA256:abc"));
        assert!(p.crack, "cracking is on unless turned off");
        let off = Config::parse(Path::new("x"), "[policy]\ncrack = false\npasphrases = []\n");
        assert!(off.is_err(), "a misspelt key is an error");
        let off = Config::parse(
            Path::new("x"),
            "[policy]\ncrack = false\npassphrases = [\"hunter2\"]\n",
        )
        .unwrap()
        .policy();
        assert!(!off.crack);
        assert_eq!(off.passphrases, ["hunter2"]);
    }

    #[test]
    fn unknown_keys_are_errors() {
        let err = Config::parse(Path::new(".keyscan.toml"), "[allowlist]\npaths = [\"x\"]\n")
            .unwrap_err();
        assert!(format!("{err:#}").contains(".keyscan.toml"));
    }
}
