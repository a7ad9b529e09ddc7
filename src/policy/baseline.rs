//! Baselines: the keys a repository already had when the gate was turned on.
//!
//! `--write-baseline FILE` records every key a run found (fingerprint, type,
//! where it was seen); `--baseline FILE` then drops findings of those keys,
//! so only new keys block. `--baseline-strict` keeps a known key blocking at
//! a path the baseline does not list (a copied fixture).
//!
//! The file is sorted, pretty JSON with no key material and no timestamps of
//! its own, so rewriting it after a scan diffs only by what changed.

use crate::policy::allowlist::normalize;
use crate::scan::finding::Finding;
use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub version: u32,
    /// Sorted by fingerprint.
    pub keys: Vec<KnownKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownKey {
    /// OpenSSH `SHA256:` (or OpenPGP) fingerprint.
    pub fingerprint: String,
    pub key_type: String,
    /// The earliest commit a location names, in git modes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_date: Option<String>,
    /// Sorted, without duplicates.
    pub locations: Vec<Location>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

/// The baseline to apply and whether strictly: an explicit file, else the
/// config's `[baseline]`. Read early, so a bad file fails before the scan.
pub fn resolve(
    explicit: Option<&Path>,
    explicit_strict: bool,
    config: &crate::policy::config::Config,
) -> Result<(Option<Baseline>, bool)> {
    let (path, strict) = match explicit {
        Some(path) => (Some(path), explicit_strict),
        None => (config.baseline.as_deref(), config.baseline_strict),
    };
    Ok((path.map(Baseline::load).transpose()?, strict))
}

/// What applying a baseline did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    pub suppressed: usize,
    /// Known keys kept because they turned up at a new path (strict mode).
    pub new_locations: usize,
}

impl Applied {
    /// For the summary line: "2 known keys suppressed by baseline".
    pub fn summary(&self) -> Option<String> {
        (self.suppressed > 0).then(|| {
            format!(
                "{} known key{} suppressed by baseline",
                self.suppressed,
                if self.suppressed == 1 { "" } else { "s" }
            )
        })
    }
}

impl Baseline {
    /// Every finding that has a fingerprint; the second value counts those
    /// without one (e.g. encrypted PKCS#8, unverified look-alikes), which a
    /// baseline cannot name and which therefore keep being reported.
    pub fn from_findings(findings: &[Finding]) -> (Baseline, usize) {
        let mut by_fp: BTreeMap<String, KnownKey> = BTreeMap::new();
        let mut without = 0;
        for f in findings {
            let Some(fp) = &f.fingerprint else {
                without += 1;
                continue;
            };
            let key = by_fp.entry(fp.clone()).or_insert_with(|| KnownKey {
                fingerprint: fp.clone(),
                key_type: f.key_type.clone(),
                first_commit: None,
                first_date: None,
                locations: Vec::new(),
            });
            key.locations.push(Location {
                path: clean_path(&f.path).to_string(),
                commit: f.commit.as_ref().map(|c| c.id.clone()),
                date: f.commit.as_ref().and_then(|c| c.date.clone()),
            });
        }
        let keys = by_fp
            .into_values()
            .map(|mut k| {
                k.locations.sort();
                k.locations.dedup();
                // RFC 3339 dates: the earliest sorts first within one offset.
                if let Some(first) = k
                    .locations
                    .iter()
                    .filter(|l| l.date.is_some())
                    .min_by(|a, b| a.date.cmp(&b.date))
                {
                    k.first_commit = first.commit.clone();
                    k.first_date = first.date.clone();
                }
                k
            })
            .collect();
        (
            Baseline {
                version: VERSION,
                keys,
            },
            without,
        )
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a baseline serialises");
        s.push('\n');
        s
    }

    pub fn parse(origin: &Path, text: &str) -> Result<Baseline> {
        let b: Baseline = serde_json::from_str(text)
            .map_err(|e| anyhow!("baseline {} is not valid: {e}", origin.display()))?;
        if b.version != VERSION {
            bail!(
                "baseline {} has version {}; this keyscan reads version {VERSION}",
                origin.display(),
                b.version
            );
        }
        Ok(b)
    }

    pub fn load(path: &Path) -> Result<Baseline> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow!("cannot read baseline {}: {e}", path.display()))?;
        Self::parse(path, &text)
    }

    /// Write atomically: a reader never sees half a file.
    pub fn write(&self, path: &Path) -> Result<()> {
        let name = path
            .file_name()
            .with_context(|| format!("baseline path {} names no file", path.display()))?;
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(".keyscan-tmp");
        let tmp = path.with_file_name(tmp_name);
        std::fs::write(&tmp, self.to_json())
            .with_context(|| format!("cannot write baseline {}", path.display()))?;
        std::fs::rename(&tmp, path)
            .with_context(|| format!("cannot write baseline {}", path.display()))
    }

    fn find(&self, fingerprint: &str) -> Option<&KnownKey> {
        let want = normalize(fingerprint);
        self.keys.iter().find(|k| normalize(&k.fingerprint) == want)
    }

    /// Drop findings of known keys. Strict: a known key at a path the
    /// baseline does not list is kept, with a note saying so.
    pub fn apply(&self, findings: &mut Vec<Finding>, strict: bool) -> Applied {
        let mut applied = Applied::default();
        findings.retain_mut(|f| {
            let Some(known) = f.fingerprint.as_deref().and_then(|fp| self.find(fp)) else {
                return true;
            };
            let path = clean_path(&f.path);
            if strict && !known.locations.iter().any(|l| l.path == path) {
                applied.new_locations += 1;
                let seen: Vec<&str> = known.locations.iter().map(|l| l.path.as_str()).collect();
                let note = format!("a known key (baseline: {}) at a new path", seen.join(", "));
                crate::scan::finding::add_note(&mut f.note, note);
                return true;
            }
            applied.suppressed += 1;
            false
        });
        applied
    }
}

/// `./a/b` and `a/b` are one path.
fn clean_path(path: &str) -> &str {
    let mut p = path;
    while let Some(rest) = p.strip_prefix("./") {
        p = rest;
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::finding::CommitInfo;

    fn finding(path: &str, fp: Option<&str>, commit: Option<(&str, &str)>) -> Finding {
        Finding {
            rule: "r".into(),
            fingerprint: fp.map(String::from),
            public_key: Some("ssh-ed25519 AAAA".into()),
            commit: commit.map(|(id, date)| CommitInfo {
                id: id.into(),
                date: Some(date.into()),
                ..CommitInfo::default()
            }),
            redacted: "x".into(),
            ..Finding::sample(path)
        }
    }

    #[test]
    fn sorted_deduplicated_with_the_first_commit() {
        let findings = [
            finding(
                "b/k",
                Some("SHA256:bbb"),
                Some(("c2", "2021-01-01T00:00:00Z")),
            ),
            finding(
                "./a/k",
                Some("SHA256:bbb"),
                Some(("c1", "2019-05-01T00:00:00Z")),
            ),
            finding(
                "a/k",
                Some("SHA256:bbb"),
                Some(("c1", "2019-05-01T00:00:00Z")),
            ),
            finding("z", Some("SHA256:aaa"), None),
            finding("enc", None, None),
        ];
        let (b, without) = Baseline::from_findings(&findings);
        assert_eq!(without, 1);
        let fps: Vec<&str> = b.keys.iter().map(|k| k.fingerprint.as_str()).collect();
        assert_eq!(fps, ["SHA256:aaa", "SHA256:bbb"]);
        let k = &b.keys[1];
        assert_eq!(k.locations.len(), 2);
        assert_eq!(k.first_commit.as_deref(), Some("c1"));
        assert_eq!(k.first_date.as_deref(), Some("2019-05-01T00:00:00Z"));
        // Same input in another order: the same bytes.
        let mut rev = findings.to_vec();
        rev.reverse();
        assert_eq!(Baseline::from_findings(&rev).0.to_json(), b.to_json());
        let json = b.to_json();
        assert_eq!(Baseline::parse(Path::new("b"), &json).unwrap(), b);
        assert!(!json.contains("AAAA"));
    }

    #[test]
    fn strict_keeps_a_known_key_at_a_new_path() {
        let (b, _) = Baseline::from_findings(&[finding("a/k", Some("SHA256:aaa"), None)]);
        let mut f = vec![
            finding("./a/k", Some("SHA256:aaa"), None),
            finding("copy/k", Some("SHA256:aaa"), None),
            finding("n", Some("SHA256:new"), None),
        ];
        let mut lax = f.clone();
        assert_eq!(b.apply(&mut lax, false).suppressed, 2);
        assert_eq!(lax.len(), 1);
        let applied = b.apply(&mut f, true);
        assert_eq!((applied.suppressed, applied.new_locations), (1, 1));
        assert_eq!(f[0].path, "copy/k");
        assert!(f[0].note.as_deref().unwrap().contains("new path"));
    }
}
