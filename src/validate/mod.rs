//! Parse every candidate: a real key gets a status and fingerprints, a
//! look-alike is dropped or marked `unverified`. Never judged by looks alone.
//!
//! One module per key format, each registered once in `FORMATS` with its
//! validation, its weak-passphrase opener and its redaction label. Shared
//! pieces sit below the formats: `asn1` (DER), `wire` (SSH encodings),
//! `oids`, `fingerprint`, `pbe`; `crack` runs the openers. Uses `rules`
//! (the candidate) and `scan::finding` (what is learnt), nothing later.

pub mod age;
mod asn1;
pub mod authorized_keys;
pub mod base58;
pub mod bech32;
pub mod bitcoin;
pub mod bks;
pub mod crack;
pub mod curve448;
pub mod der;
pub mod ec;
pub mod fingerprint;
pub mod gnupg;
mod javaser;
pub mod jks;
pub mod jwk;
pub mod minisign;
pub mod nostr;
pub mod oids;
pub mod openssh;
pub mod pbe;
pub mod pem;
pub mod pgp;
pub mod ppk;
pub mod signify;
pub mod solana;
pub mod ssh1;
pub mod sshcom;
pub mod tor;
mod wire;
pub mod wireguard;
pub mod xmlrsa;

use crate::rules::{Candidate, Validator};
use crate::scan::finding::KeyInfo;

/// What a parser of one structure says: the key, or why it is none.
pub type Parsed = Result<KeyInfo, String>;

/// One key format: everything keyscan does that depends on it.
pub struct Format {
    /// The `validator` its rules name.
    pub validator: Validator,
    /// What a candidate is. `None`: not a private key at all (e.g. a
    /// binary blob that merely starts like DER), so nothing is reported.
    pub validate: fn(&Candidate) -> Option<KeyInfo>,
    /// What a passphrase must open, for an `encrypted` candidate; `Err`
    /// says why the check cannot try it.
    pub lock: fn(&Candidate) -> Result<Lock, &'static str>,
    /// The redacted picture of a match, from its number of lines
    /// ("27 lines") and how it was disguised (" (base64-encoded)").
    pub redact: fn(&Candidate, &str, &str) -> String,
    /// Placeholder bodies (`AAAA...`, `...`) are examples, not keys. False
    /// for formats whose body is not base64 armor.
    pub placeholders: bool,
}

/// Every key format, in no particular order: each `validator` once.
pub const FORMATS: &[Format] = &[
    pem::FORMAT,
    openssh::FORMAT,
    ppk::FORMAT,
    pgp::FORMAT,
    pgp::BINARY,
    sshcom::FORMAT,
    der::FORMAT,
    ssh1::FORMAT,
    gnupg::FORMAT,
    jks::FORMAT,
    bks::FORMAT,
    age::FORMAT,
    wireguard::FORMAT,
    minisign::FORMAT,
    signify::FORMAT,
    jwk::FORMAT,
    xmlrsa::FORMAT,
    tor::FORMAT,
    bitcoin::FORMAT,
    nostr::FORMAT,
    solana::FORMAT,
];

/// The format a rule's validator names; `None` for the decoders, which the
/// engine handles itself.
pub fn format(validator: Validator) -> Option<&'static Format> {
    FORMATS.iter().find(|f| f.validator == validator)
}

/// Decide what a candidate is. `None`: not a private key at all.
pub fn validate(c: &Candidate) -> Option<KeyInfo> {
    match format(c.rule.validator) {
        Some(f) => (f.validate)(c),
        None => {
            // The engine decodes these itself and rescans; none reach here.
            debug_assert!(c.rule.validator.rescans(), "{:?}", c.rule.validator);
            None
        }
    }
}

/// A container of several keys (a Java keystore's private key entries, a
/// PKCS#12's key bags) is a candidate per key: entry `n` (n >= 1) is a copy
/// of the container's bytes ending with this marker and `n`, keyscan's
/// own, never written to a file.
const PART: &[u8] = b"\0keyscan:entry:";
/// More entries than any real container holds: a hostile one. The rest
/// share the last finding's fate.
const MAX_PARTS: usize = 64;

/// The candidates' bytes for entries 1..count of `data` (entry 0 is
/// `data` itself).
pub fn parts(data: &[u8], count: usize) -> Vec<Vec<u8>> {
    (1..count.min(MAX_PARTS))
        .map(|n| [data, PART, &(n as u32).to_be_bytes()].concat())
        .collect()
}

/// The container's own bytes and the entry a candidate stands for.
pub fn part_of(data: &[u8]) -> (&[u8], usize) {
    match data.len().checked_sub(PART.len() + 4) {
        Some(at) if data[at..].starts_with(PART) => {
            let n: [u8; 4] = data[data.len() - 4..].try_into().unwrap_or_default();
            (&data[..at], u32::from_be_bytes(n) as usize)
        }
        _ => (data, 0),
    }
}

/// Adds a candidate for each further key a candidate's structure holds (a
/// Java keystore's private key entries, a PKCS#12's key bags), so that
/// each is its own finding.
pub fn add_entries<'r, 'd>(candidates: &mut Vec<Candidate<'r, 'd>>) {
    let mut more = Vec::new();
    for c in candidates.iter() {
        let entries = match c.rule.validator {
            Validator::Jks => jks::more_entries(&c.bytes),
            Validator::Bks => bks::more_entries(&c.bytes),
            Validator::Der => der::more_bags(&c.bytes),
            _ => continue,
        };
        more.extend(entries.into_iter().map(|bytes| Candidate {
            rule: c.rule,
            span: c.span.clone(),
            lines: c.lines,
            bytes: std::borrow::Cow::Owned(bytes),
            armor: None,
            wrapped_by: c.wrapped_by.clone(),
        }));
    }
    candidates.extend(more);
}

/// Tries one passphrase: the key in clear, or `None`.
pub type Opener = Box<dyn Fn(&[u8]) -> Option<KeyInfo> + Send + Sync>;

/// An encrypted key, ready for passphrases: it owns what it needs, so it
/// can outlive the blob it came from and be tried on any thread.
pub struct Lock {
    /// The key in clear as a finding, when the passphrase opens it.
    pub open: Opener,
    /// Work of one try, in microseconds of one core (an estimate from the
    /// key's KDF parameters, the same on every run).
    pub cost: u64,
    /// Whether the empty passphrase can open it at all (OpenSSH and PuTTY
    /// write a key without a passphrase in clear, never encrypted).
    pub empty: bool,
}

impl Lock {
    pub fn new(cost: u64, open: impl Fn(&[u8]) -> Option<KeyInfo> + Send + Sync + 'static) -> Self {
        Lock {
            open: Box::new(open),
            cost: cost.max(1),
            empty: true,
        }
    }

    /// A format that never encrypts under the empty passphrase.
    pub fn never_empty(mut self) -> Self {
        self.empty = false;
        self
    }
}

/// A format without a weak-passphrase check.
pub fn no_lock(_: &Candidate) -> Result<Lock, &'static str> {
    Err(NO_CHECK)
}

pub const NO_CHECK: &str = "no weak-passphrase check for this format";

/// Hostile files can ask for any KDF cost, and one try cannot be cut
/// short: keys costlier than the formats' limits are not tried at all.
pub const TOO_COSTLY: &str = "key derivation too costly for a weak-passphrase check";

/// The PEM-style picture: `-----BEGIN RSA PRIVATE KEY----- [27 lines redacted]`.
pub fn redact_armor(c: &Candidate, lines: &str, via: &str) -> String {
    let label = c.armor.as_ref().map(|a| a.label.as_str()).unwrap_or("");
    format!("-----BEGIN {label}----- [{lines} redacted]{via}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_validator_has_exactly_one_format() {
        let rules = crate::rules::builtin().unwrap();
        for rule in &rules {
            let v = rule.validator;
            let n = FORMATS.iter().filter(|f| f.validator == v).count();
            let expected = usize::from(!v.rescans());
            assert_eq!(n, expected, "{} ({v:?})", rule.id);
        }
    }
}
