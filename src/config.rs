//! `.keyscan.toml`: policy and the fingerprint allowlist.
//!
//! ```toml
//! [policy]
//! block_unverified = false   # placeholders that look real, corrupted keys
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

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySection {
    #[serde(default)]
    pub block_unverified: bool,
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
    }

    #[test]
    fn unknown_keys_are_errors() {
        let err = Config::parse(Path::new(".keyscan.toml"), "[allowlist]\npaths = [\"x\"]\n")
            .unwrap_err();
        assert!(format!("{err:#}").contains(".keyscan.toml"));
    }
}
