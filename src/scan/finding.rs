//! The one `Finding` type every stage agrees on.
//!
//! A finding never holds key material: validators hand over only what is
//! derived from the public half, so a reporter cannot leak a secret.

use serde::Serialize;

/// What parsing the candidate proved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// A real private key in clear.
    Valid,
    /// A real key protected by a passphrase: still a leak, it can be cracked offline.
    Encrypted,
    /// Looks like a private key but does not parse (truncated, corrupted, placeholder).
    Unverified,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::Encrypted => "encrypted",
            Status::Unverified => "unverified",
        }
    }
}

/// Fingerprints in the forms `aws ec2 describe-key-pairs` prints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AwsFingerprints {
    /// RSA key pairs created by EC2: SHA-1 of the DER PKCS#8 private key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha1_pkcs8: Option<String>,
    /// RSA key pairs imported into EC2: MD5 of the DER SubjectPublicKeyInfo.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub md5_spki: Option<String>,
    /// Ed25519 key pairs: base64 SHA-256 of the public key, padded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

impl AwsFingerprints {
    /// Fill what `self` lacks from `other`.
    pub fn merge(&mut self, other: &AwsFingerprints) {
        for (mine, theirs) in [
            (&mut self.sha1_pkcs8, &other.sha1_pkcs8),
            (&mut self.md5_spki, &other.md5_spki),
            (&mut self.sha256, &other.sha256),
        ] {
            if mine.is_none() {
                mine.clone_from(theirs);
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.sha1_pkcs8.is_none() && self.md5_spki.is_none() && self.sha256.is_none()
    }
}

/// Every fingerprint form a key has, the OpenSSH one first: what an
/// allowlist entry or a push option may name it by.
pub fn fingerprint_forms<'a>(
    ssh: &'a Option<String>,
    aws: &'a AwsFingerprints,
) -> impl Iterator<Item = &'a str> {
    [ssh, &aws.sha1_pkcs8, &aws.md5_spki, &aws.sha256]
        .into_iter()
        .filter_map(|v| v.as_deref())
}

/// What a validator learnt from one candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub status: Status,
    /// Container format, e.g. "PKCS#8", "OpenSSH", "PuTTY PPK v3".
    pub format: String,
    /// Algorithm and size, e.g. "RSA 2048", "Ed25519", "ECDSA P-256"; "unknown" when hidden.
    pub key_type: String,
    /// OpenSSH `SHA256:` fingerprint, as `ssh-keygen -lf` prints it.
    pub fingerprint: Option<String>,
    pub aws_fingerprints: AwsFingerprints,
    /// The public half as an OpenSSH line (`ssh-ed25519 AAAA...`), for `authorized_keys` greps.
    pub public_key: Option<String>,
    /// Why the status is what it is, when that is worth saying (e.g. a parse error).
    pub note: Option<String>,
}

impl KeyInfo {
    /// A candidate that does not parse.
    pub fn unverified(format: &str, key_type: &str, why: impl Into<String>) -> Self {
        KeyInfo {
            status: Status::Unverified,
            format: format.to_string(),
            key_type: key_type.to_string(),
            fingerprint: None,
            aws_fingerprints: AwsFingerprints::default(),
            public_key: None,
            note: Some(why.into()),
        }
    }

    /// A real key whose details are not (yet) known.
    pub fn new(status: Status, format: &str, key_type: impl Into<String>) -> Self {
        KeyInfo {
            status,
            format: format.to_string(),
            key_type: key_type.into(),
            fingerprint: None,
            aws_fingerprints: AwsFingerprints::default(),
            public_key: None,
            note: None,
        }
    }
}

/// Add `more` to a note: "first; more".
pub fn add_note(note: &mut Option<String>, more: impl Into<String>) {
    let more = more.into();
    *note = Some(match note.take() {
        Some(old) => format!("{old}; {more}"),
        None => more,
    });
}

/// Git context of a finding, in git sources: the commit that brought the
/// blob in at this path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CommitInfo {
    pub id: String,
    /// Author name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Author date, RFC 3339 (`2019-03-01T12:00:00+01:00`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// The ref the push or scan reached this commit through, when one is known
    /// (pre-receive, pre-push).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#ref: Option<String>,
}

/// One private key found somewhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Where, for people and JSON: bytes that are not UTF-8 shown as `\xff`.
    pub path: String,
    /// The path's real bytes when they are not UTF-8, for URIs and shell
    /// words that must name the real file.
    #[serde(skip)]
    pub raw_path: Option<Vec<u8>>,
    /// `scan`: the file is outside every git work tree (or git ignores it),
    /// so the advice does not say `git rm`. Not serialised.
    #[serde(skip)]
    pub outside_git: bool,
    /// 1-based line where the key starts.
    pub line: usize,
    pub end_line: usize,
    pub rule: String,
    pub format: String,
    pub key_type: String,
    pub status: Status,
    pub blocking: bool,
    pub fingerprint: Option<String>,
    pub aws_fingerprints: AwsFingerprints,
    pub public_key: Option<String>,
    pub commit: Option<CommitInfo>,
    /// The git blob id, in git sources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
    /// History: the refs whose tip still holds this blob (empty when it was
    /// deleted everywhere). Absent in other modes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub still_in: Option<Vec<String>>,
    /// Files on disk: why where the key file sits is a risk of its own, e.g.
    /// "0644: readable by group and others; chmod 600" or a synced folder.
    /// Only for real keys (valid, encrypted) outside git work trees or in
    /// files git ignores (git checks every file out 0644).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<String>,
    /// A redacted one-line picture of the match: the marker, never the body.
    pub redacted: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The key's id in the run's weak-passphrase check until
    /// `Scanner::settle` has applied it. Never reported.
    #[serde(skip)]
    pub locked: Option<usize>,
}

#[cfg(test)]
impl Finding {
    /// A valid, blocking Ed25519 OpenSSH key at `path`, line 1 to 5, for
    /// tests to adjust.
    pub fn sample(path: &str) -> Finding {
        Finding {
            path: path.into(),
            raw_path: None,
            outside_git: false,
            line: 1,
            end_line: 5,
            rule: "openssh-private-key".into(),
            format: "OpenSSH".into(),
            key_type: "Ed25519".into(),
            status: Status::Valid,
            blocking: true,
            fingerprint: None,
            aws_fingerprints: AwsFingerprints::default(),
            public_key: None,
            commit: None,
            blob: None,
            still_in: None,
            permissions: None,
            redacted: String::new(),
            note: None,
            locked: None,
        }
    }
}

impl Finding {
    /// The path's real bytes.
    pub fn path_bytes(&self) -> &[u8] {
        self.raw_path.as_deref().unwrap_or(self.path.as_bytes())
    }
}
