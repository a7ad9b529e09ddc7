//! `keyscan audit`: one entry per distinct key (by its `SHA256:`
//! fingerprint), where its private copies live, where it is authorized, and
//! the flags that say what is wrong. Flags are recomputed from the entries
//! alone, so per-host reports merged later are judged across the fleet.

use crate::scan::finding::AwsFingerprints;
use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// The flag vocabulary, in order of risk.
pub const FLAGS: &[&str] = &[
    "readable-by-others",
    "unencrypted",
    "weak-passphrase",
    "shared",
    "authorized-without-known-owner",
    "root-login",
    "known-key-expired",
    "weak-algorithm",
    "no-from-restriction",
    "stale",
];

/// Flags that make the exit code 1 unless `[audit] block` says otherwise.
pub const DEFAULT_BLOCK: &[&str] = &[
    "readable-by-others",
    "unencrypted",
    "weak-passphrase",
    "shared",
    "authorized-without-known-owner",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivateCopy {
    pub path: String,
    pub host: String,
    pub host_path: String,
    pub user: String,
    pub owner: String,
    /// Octal, e.g. `0600`.
    pub mode: String,
    /// Seconds since 1970.
    pub mtime: i64,
    pub format: String,
    pub encrypted: bool,
    pub weak_passphrase: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposed: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicCopy {
    pub path: String,
    pub host: String,
    pub user: String,
    pub mtime: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizedIn {
    pub path: String,
    pub line: usize,
    pub host: String,
    pub host_path: String,
    pub user: String,
    pub options: Vec<String>,
    #[serde(default)]
    pub comment: String,
    pub mtime: i64,
}

/// One distinct key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyEntry {
    pub fingerprint: String,
    /// `RSA`, `DSA`, `ECDSA`, `ED25519`, ...
    pub algorithm: String,
    #[serde(default)]
    pub bits: Option<usize>,
    #[serde(default)]
    pub public_key: Option<String>,
    #[serde(default)]
    pub aws_fingerprints: AwsFingerprints,
    /// From `--known-keys`.
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub flags: Vec<String>,
    #[serde(default)]
    pub blocking: bool,
    #[serde(default)]
    pub private_copies: Vec<PrivateCopy>,
    #[serde(default)]
    pub public_copies: Vec<PublicCopy>,
    #[serde(default)]
    pub authorized_in: Vec<AuthorizedIn>,
}

impl KeyEntry {
    pub fn new(fingerprint: &str) -> Self {
        KeyEntry {
            fingerprint: fingerprint.to_string(),
            algorithm: String::new(),
            bits: None,
            public_key: None,
            aws_fingerprints: AwsFingerprints::default(),
            owner: None,
            flags: Vec::new(),
            blocking: false,
            private_copies: Vec::new(),
            public_copies: Vec::new(),
            authorized_in: Vec::new(),
        }
    }

    /// Where it was first seen, for a stable order.
    fn first_path(&self) -> String {
        let private = self.private_copies.iter().map(|c| &c.path);
        let auth = self.authorized_in.iter().map(|a| &a.path);
        let public = self.public_copies.iter().map(|p| &p.path);
        private
            .chain(auth)
            .chain(public)
            .min()
            .cloned()
            .unwrap_or_default()
    }

    /// Add what `other` (the same key, seen elsewhere) knows.
    pub fn absorb(&mut self, other: KeyEntry) {
        if self.algorithm.is_empty() {
            self.algorithm = other.algorithm;
        }
        self.bits = self.bits.or(other.bits);
        if self.public_key.is_none() {
            self.public_key = other.public_key;
        }
        self.aws_fingerprints.merge(&other.aws_fingerprints);
        push_new(&mut self.private_copies, other.private_copies);
        push_new(&mut self.public_copies, other.public_copies);
        push_new(&mut self.authorized_in, other.authorized_in);
    }
}

fn push_new<T: PartialEq>(to: &mut Vec<T>, from: Vec<T>) {
    for x in from {
        if !to.contains(&x) {
            to.push(x);
        }
    }
}

/// A line of an `authorized_keys` file that is not a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MalformedLine {
    pub path: String,
    pub host: String,
    pub line: usize,
    pub reason: String,
}

/// A whole audit: what `--format json` prints and `--merge` reads.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AuditReport {
    /// Always `"audit"`: tells this report from scan reports.
    #[serde(default)]
    pub report: String,
    pub keys: Vec<KeyEntry>,
    #[serde(default)]
    pub malformed: Vec<MalformedLine>,
    #[serde(default)]
    pub warnings: Vec<String>,
    #[serde(default)]
    pub errors: Vec<String>,
    #[serde(default)]
    pub files_seen: usize,
}

impl AuditReport {
    pub fn blocking(&self) -> usize {
        self.keys.iter().filter(|k| k.blocking).count()
    }

    /// Join entries of the same key (after a merge) and sort.
    pub fn consolidate(&mut self) {
        let mut by_fp: BTreeMap<String, KeyEntry> = BTreeMap::new();
        for k in std::mem::take(&mut self.keys) {
            match by_fp.get_mut(&k.fingerprint) {
                Some(have) => have.absorb(k),
                None => {
                    by_fp.insert(k.fingerprint.clone(), k);
                }
            }
        }
        self.keys = by_fp.into_values().collect();
        self.report = "audit".into();
    }
}

/// An expected key, from `--known-keys`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownKey {
    pub fingerprint: String,
    pub owner: String,
    /// `YYYY-MM-DD`: after it, the key is flagged `known-key-expired`.
    #[serde(default)]
    pub expires: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KnownFile {
    #[serde(default, alias = "key")]
    keys: Vec<KnownKey>,
}

/// Read `--known-keys FILE`: `[[keys]]` tables of fingerprint, owner, expires.
pub fn load_known(path: &Path) -> Result<HashMap<String, KnownKey>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let file: KnownFile = toml::from_str(&text).map_err(|e| {
        anyhow!(
            "{}: not a known-keys file: {}",
            path.display(),
            e.message().lines().next().unwrap_or("")
        )
    })?;
    let mut out = HashMap::new();
    for k in file.keys {
        if !k.fingerprint.starts_with("SHA256:") {
            bail!(
                "{}: {:?} is not a SHA256: fingerprint",
                path.display(),
                k.fingerprint
            );
        }
        if let Some(e) = &k.expires {
            parse_date(e)
                .ok_or_else(|| anyhow!("{}: bad date {e:?} (YYYY-MM-DD)", path.display()))?;
        }
        out.insert(k.fingerprint.clone(), k);
    }
    Ok(out)
}

fn parse_date(s: &str) -> Option<(i64, u32, u32)> {
    let mut it = s.split('-');
    let y = it.next()?.parse().ok()?;
    let m = it.next()?.parse().ok()?;
    let d = it.next()?.parse().ok()?;
    (it.next().is_none() && (1..=12).contains(&m) && (1..=31).contains(&d)).then_some((y, m, d))
}

/// How entries are judged.
#[derive(Debug, Clone)]
pub struct AuditPolicy {
    pub max_age_secs: i64,
    pub now: i64,
    pub known: HashMap<String, KnownKey>,
    pub block: BTreeSet<String>,
}

impl AuditPolicy {
    pub fn new(max_age_secs: i64, known: HashMap<String, KnownKey>) -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        AuditPolicy {
            max_age_secs,
            now,
            known,
            block: DEFAULT_BLOCK.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// Set every entry's flags, owner and `blocking`.
    pub fn judge(&self, report: &mut AuditReport) {
        for k in &mut report.keys {
            if let Some(known) = self.known.get(&k.fingerprint) {
                k.owner = Some(known.owner.clone());
            }
            k.flags = self.flags(k);
            k.blocking = k.flags.iter().any(|f| self.block.contains(f));
        }
        // Highest risk first: blocking, then by the first flag's rank.
        let rank = |k: &KeyEntry| {
            let first = k
                .flags
                .first()
                .and_then(|f| FLAGS.iter().position(|x| x == f));
            let at = k.first_path();
            (
                !k.blocking,
                first.unwrap_or(FLAGS.len()),
                at,
                k.fingerprint.clone(),
            )
        };
        report.keys.sort_by_key(rank);
    }

    fn flags(&self, k: &KeyEntry) -> Vec<String> {
        let mut set = BTreeSet::new();
        let privs = &k.private_copies;
        if privs.iter().any(|c| c.exposed.is_some()) {
            set.insert("readable-by-others");
        }
        if privs.iter().any(|c| !c.encrypted && !c.weak_passphrase) {
            set.insert("unencrypted");
        }
        if privs.iter().any(|c| c.weak_passphrase) {
            set.insert("weak-passphrase");
        }
        let holders: BTreeSet<(&str, &str)> = privs
            .iter()
            .map(|c| (c.host.as_str(), c.user.as_str()))
            .collect();
        if holders.len() > 1 {
            set.insert("shared");
        }
        let known = self.known.get(&k.fingerprint);
        let auth = &k.authorized_in;
        if !auth.is_empty() && privs.is_empty() && known.is_none() {
            set.insert("authorized-without-known-owner");
        }
        if auth.iter().any(|a| a.user == "root") {
            set.insert("root-login");
        }
        if auth.iter().any(|a| !has_from(&a.options)) {
            set.insert("no-from-restriction");
        }
        if weak_algorithm(&k.algorithm, k.bits) {
            set.insert("weak-algorithm");
        }
        if let Some(exp) = known
            .and_then(|k| k.expires.as_deref())
            .and_then(parse_date)
        {
            if exp < crate::policy::time::today() {
                set.insert("known-key-expired");
            }
        }
        let newest = (privs.iter().map(|c| c.mtime))
            .chain(k.public_copies.iter().map(|c| c.mtime))
            .chain(auth.iter().map(|a| a.mtime))
            .max();
        if newest.is_some_and(|t| self.now - t > self.max_age_secs) {
            set.insert("stale");
        }
        FLAGS
            .iter()
            .filter(|f| set.contains(**f))
            .map(|f| f.to_string())
            .collect()
    }
}

fn has_from(options: &[String]) -> bool {
    options.iter().any(|o| {
        o.split('=')
            .next()
            .is_some_and(|n| n.eq_ignore_ascii_case("from"))
    })
}

/// DSA, RSA under 2048 bits, ECDSA under 256.
pub fn weak_algorithm(algorithm: &str, bits: Option<usize>) -> bool {
    match algorithm {
        "DSA" => true,
        "RSA" => bits.is_some_and(|b| b < 2048),
        "ECDSA" => bits.is_some_and(|b| b < 256),
        _ => false,
    }
}

/// `365d`, `12w`, `6m` (30 days), `1y` (365 days) or plain days.
pub fn parse_age(s: &str) -> Result<i64> {
    let s = s.trim();
    let (num, unit) = match s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => (&s[..i], &s[i..]),
        None => (s, "d"),
    };
    let n: i64 = num
        .parse()
        .map_err(|_| anyhow!("--max-age {s:?}: expected e.g. 90d, 12w, 6m or 1y"))?;
    let days = match unit {
        "d" => 1,
        "w" => 7,
        "m" => 30,
        "y" => 365,
        _ => bail!("--max-age {s:?}: expected e.g. 90d, 12w, 6m or 1y"),
    };
    Ok(n * days * 86_400)
}

/// Check `[audit] block` names.
pub fn check_block(names: &[String]) -> Result<BTreeSet<String>> {
    for n in names {
        if !FLAGS.contains(&n.as_str()) {
            bail!(
                "[audit] block: unknown flag {n:?} (known: {})",
                FLAGS.join(", ")
            );
        }
    }
    Ok(names.iter().cloned().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_algorithms() {
        assert_eq!(parse_age("1y").unwrap(), 365 * 86_400);
        assert_eq!(parse_age("10").unwrap(), 10 * 86_400);
        assert!(parse_age("soon").is_err());
        assert!(weak_algorithm("DSA", Some(1024)));
        assert!(weak_algorithm("RSA", Some(1024)));
        assert!(!weak_algorithm("RSA", Some(2048)));
        assert!(!weak_algorithm("ED25519", Some(256)));
    }

    #[test]
    fn shared_needs_two_holders() {
        let copy = |host: &str, user: &str| PrivateCopy {
            path: "p".into(),
            host: host.into(),
            host_path: "p".into(),
            user: user.into(),
            owner: user.into(),
            mode: "0600".into(),
            mtime: 0,
            format: "OpenSSH".into(),
            encrypted: true,
            weak_passphrase: false,
            exposed: None,
        };
        let mut k = KeyEntry::new("SHA256:x");
        k.private_copies = vec![copy("a", "u"), copy("a", "u")];
        let policy = AuditPolicy::new(i64::MAX, HashMap::new());
        assert!(!policy.flags(&k).contains(&"shared".to_string()));
        k.private_copies.push(copy("b", "u"));
        assert!(policy.flags(&k).contains(&"shared".to_string()));
    }
}
