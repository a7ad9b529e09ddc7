//! Every fingerprint of every key in some input (`keyscan fingerprint`), so
//! an operator holding a leaked key can find it in `authorized_keys`, in
//! `aws ec2 describe-key-pairs` or on a key server.
//!
//! Private keys in any format the scanner parses, and OpenSSH public-key
//! lines (`id.pub`, `authorized_keys`) too. Nothing secret is kept: the
//! fingerprints and the public half only. `report::fingerprints` renders them.

use crate::policy::Policy;
use crate::rules::{self, Engine};
use crate::scan::finding::AwsFingerprints;
use crate::scan::Scanner;
use crate::validate::fingerprint::{bits, ssh_md5};
use anyhow::{anyhow, Result};
use serde::Serialize;
use ssh_key::public::{EcdsaPublicKey, KeyData};
use ssh_key::PublicKey;
use std::io::Read;
use std::path::PathBuf;

/// One key's fingerprints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyPrints {
    pub path: String,
    /// 1-based line where the key starts.
    pub line: usize,
    pub format: String,
    pub key_type: String,
    /// `valid`, `encrypted`, `unverified`, or `public` for a public-key line.
    pub status: String,
    /// Bits and type as `ssh-keygen -l` prints them (`2048`, `RSA`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bits: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssh_type: Option<String>,
    /// `SHA256:...`, as `ssh-keygen -l` prints it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// `MD5:aa:bb:...`, as `ssh-keygen -E md5 -l` prints it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
    pub aws_fingerprints: AwsFingerprints,
    /// OpenPGP v4 (or v5/v6) fingerprint, as `gpg --fingerprint` prints it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub openpgp: Option<String>,
    /// The format's own fingerprint otherwise (age recipient, WireGuard
    /// public key, minisign key id, JWK thumbprint, .onion address...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The scanner for fingerprints: the built-in rules and no allowlist (an
/// allowed key has fingerprints too), trying the passphrases `policy` tries
/// (the config's, unless it or `--no-crack` turns the check off).
pub fn scanner(policy: &Policy) -> Result<Scanner> {
    let mut plain = Policy::default();
    plain.crack = policy.crack;
    plain.passphrases = policy.passphrases.clone();
    plain.crack_budget = policy.crack_budget;
    Ok(Scanner::new(Engine::new(rules::builtin()?)?, plain))
}

/// Every key in the files (`-` is standard input). A file's stem is one of
/// the passphrases tried, as `keyscan scan` does.
pub fn fingerprint_files(scanner: &Scanner, files: &[PathBuf]) -> Result<Vec<KeyPrints>> {
    let mut keys = Vec::new();
    for path in files {
        if path.as_os_str() == "-" {
            let mut data = Vec::new();
            std::io::stdin()
                .read_to_end(&mut data)
                .map_err(|e| anyhow!("cannot read standard input: {e}"))?;
            keys.extend(fingerprints(scanner, "<stdin>", None, &data));
        } else {
            let data =
                std::fs::read(path).map_err(|e| anyhow!("cannot read {}: {e}", path.display()))?;
            let shown = path.display().to_string();
            keys.extend(fingerprints(scanner, &shown, Some(&shown), &data));
        }
    }
    Ok(keys)
}

/// Every key in `data` (shown as `path`; `file` names it for the
/// passphrase check): private keys through the scanner's rules and
/// validators, then OpenSSH public-key lines.
pub fn fingerprints(
    scanner: &Scanner,
    path: &str,
    file: Option<&str>,
    data: &[u8],
) -> Vec<KeyPrints> {
    let mut hits = scanner.hits_named(data, file);
    scanner.settle_hits(&mut hits);
    let mut out: Vec<KeyPrints> = hits
        .into_iter()
        .map(|hit| {
            let path = match &hit.member {
                Some(member) => format!("{path}!{member}"),
                None => path.to_string(),
            };
            let info = hit.info;
            let pgp = info.format.contains("PGP") || info.format.starts_with("GnuPG");
            let (sha256, openpgp, fingerprint) = match info.fingerprint {
                Some(fp) if fp.starts_with("SHA256:") => (Some(fp), None, None),
                other if pgp => (None, other, None),
                other => (None, None, other),
            };
            let mut k = KeyPrints {
                path,
                line: hit.line,
                format: info.format,
                key_type: info.key_type,
                status: info.status.as_str().to_string(),
                bits: None,
                ssh_type: None,
                sha256,
                md5: None,
                aws_fingerprints: info.aws_fingerprints,
                openpgp,
                fingerprint,
                public_key: info.public_key,
                note: info.note,
            };
            if let Some(line) = k.public_key.clone() {
                fill_from_public(&mut k, &line);
            }
            k
        })
        .collect();
    let text = String::from_utf8_lossy(data);
    for (i, line) in text.lines().enumerate() {
        if let Some(k) = public_line(path, i + 1, line) {
            out.push(k);
        }
    }
    out.sort_by_key(|k| k.line);
    out
}

/// An OpenSSH public-key line (`authorized_keys` options are not parsed).
fn public_line(path: &str, line: usize, text: &str) -> Option<KeyPrints> {
    let text = text.trim();
    if !text.starts_with("ssh-") && !text.starts_with("ecdsa-") && !text.starts_with("sk-") {
        return None;
    }
    let key = PublicKey::from_openssh(text).ok()?;
    let mut k = KeyPrints {
        path: path.to_string(),
        line,
        format: "OpenSSH public key".to_string(),
        key_type: key.algorithm().as_str().to_string(),
        status: "public".to_string(),
        bits: None,
        ssh_type: None,
        sha256: None,
        md5: None,
        aws_fingerprints: AwsFingerprints::default(),
        openpgp: None,
        fingerprint: None,
        public_key: None,
        note: None,
    };
    let bare = PublicKey::new(key.key_data().clone(), "");
    let line = bare.to_openssh().ok()?;
    fill_from_public(&mut k, line.trim_end());
    if let KeyData::Rsa(rsa) = key.key_data() {
        if let (Some(n), Some(e)) = (rsa.n().as_positive_bytes(), rsa.e().as_positive_bytes()) {
            k.aws_fingerprints.md5_spki = Some(crate::validate::fingerprint::md5_spki(n, e));
        }
    }
    if let KeyData::Ed25519(_) = key.key_data() {
        k.aws_fingerprints.sha256 = k
            .sha256
            .as_deref()
            .map(|s| format!("{}=", s.trim_start_matches("SHA256:")));
    }
    Some(k)
}

/// Bits, type, SHA256 and MD5 from the public-key line.
fn fill_from_public(k: &mut KeyPrints, line: &str) {
    let Ok(key) = PublicKey::from_openssh(line) else {
        return;
    };
    let (bits, ssh_type) = size_and_type(key.key_data());
    k.bits = bits;
    k.ssh_type = Some(ssh_type.to_string());
    k.sha256 = Some(key.fingerprint(ssh_key::HashAlg::Sha256).to_string());
    k.md5 = ssh_md5(line);
    k.public_key = Some(line.to_string());
}

/// What `ssh-keygen -l` prints before the fingerprint and in brackets.
fn size_and_type(key: &KeyData) -> (Option<usize>, &'static str) {
    match key {
        KeyData::Rsa(k) => (k.n().as_positive_bytes().map(bits), "RSA"),
        KeyData::Dsa(k) => (k.p().as_positive_bytes().map(bits), "DSA"),
        KeyData::Ed25519(_) => (Some(256), "ED25519"),
        KeyData::Ecdsa(k) => (
            Some(match k {
                EcdsaPublicKey::NistP256(_) => 256,
                EcdsaPublicKey::NistP384(_) => 384,
                EcdsaPublicKey::NistP521(_) => 521,
            }),
            "ECDSA",
        ),
        KeyData::SkEcdsaSha2NistP256(_) => (Some(256), "ECDSA-SK"),
        KeyData::SkEd25519(_) => (Some(256), "ED25519-SK"),
        _ => (None, "UNKNOWN"),
    }
}
