//! One blob through the pipeline: candidates, validation, policy, findings.
//! Sources call `Scanner::scan` and attach where the blob lives.

pub mod audit;
pub mod finding;
pub mod inspect;

use crate::policy::allowlist::Verdict;
use crate::policy::Policy;
use crate::rules::{Candidate, Engine, Validator};
use crate::scan::finding::{add_note, CommitInfo, Finding, KeyInfo, Status};
use crate::validate::{self, crack};
use memchr::memchr_iter;
use sha2::Digest;
use std::collections::HashMap;
use std::sync::Mutex;

/// A validated key in a blob, not yet tied to a path.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Byte span in the blob.
    pub start: usize,
    pub end: usize,
    /// 1-based lines.
    pub line: usize,
    pub end_line: usize,
    pub rule: String,
    pub info: KeyInfo,
    pub redacted: String,
}

/// Where a blob lives, for the findings made from it.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub path: String,
    pub blob: Option<String>,
    pub commit: Option<CommitInfo>,
}

pub struct Scanner {
    pub engine: Engine,
    pub policy: Policy,
    /// Passphrase-check results by key bytes and file stem: the same
    /// encrypted key copied across a tree costs its budget once.
    cracked: Mutex<HashMap<CrackKey, KeyInfo>>,
}

/// SHA-256 of the candidate's bytes, and the file stem tried with them.
type CrackKey = (Vec<u8>, Option<String>);

impl Scanner {
    pub fn new(engine: Engine, policy: Policy) -> Self {
        Scanner {
            engine,
            policy,
            cracked: Mutex::default(),
        }
    }

    /// Every key in `data` that the policy does not allow.
    pub fn hits(&self, data: &[u8]) -> Vec<Hit> {
        self.hits_named(data, None)
    }

    /// As `hits`, for a blob whose file name is known: its stem is one of
    /// the passphrases tried on encrypted keys.
    pub fn hits_named(&self, data: &[u8], path: Option<&str>) -> Vec<Hit> {
        let candidates = self.engine.candidates(data);
        if candidates.is_empty() {
            return Vec::new();
        }
        let mut lines = LineIndex::new(data);
        candidates
            .iter()
            .filter_map(|c| {
                // S-expressions are not base64 armor: their validator
                // judges them whole.
                let armored = c.rule.validator != Validator::Gnupg;
                if armored && c.armor.as_ref().is_some_and(|a| a.is_placeholder()) {
                    return None;
                }
                let mut info = validate::validate(c)?;
                // An allowlisted fixture is dropped before any passphrase
                // check spends its budget on it.
                if self.policy.verdict(&info) == Verdict::Allowed {
                    return None;
                }
                if info.status == Status::Encrypted && self.policy.crack {
                    info = self.try_weak_passphrases(c, info, path);
                }
                match self.policy.verdict(&info) {
                    Verdict::Allowed => return None,
                    Verdict::Expired(why) => add_note(&mut info.note, why),
                    Verdict::NotListed => {}
                }
                let (line, end_line) = c.lines.unwrap_or_else(|| {
                    let line = lines.line_of(c.span.start);
                    (
                        line,
                        lines.line_of(c.span.end.saturating_sub(1).max(c.span.start)),
                    )
                });
                Some(Hit {
                    start: c.span.start,
                    end: c.span.end,
                    line,
                    end_line,
                    rule: c.rule.id.clone(),
                    redacted: redact(c, end_line + 1 - line),
                    info,
                })
            })
            .collect()
    }

    /// An encrypted key that opens with a common passphrase is as good as
    /// one in clear: report it so. The passphrase itself is never kept.
    fn try_weak_passphrases(&self, c: &Candidate, info: KeyInfo, path: Option<&str>) -> KeyInfo {
        let stem = path
            .map(std::path::Path::new)
            .and_then(|p| p.file_stem())
            .and_then(|s| s.to_str());
        let digest = sha2::Sha256::digest(&c.bytes).to_vec();
        let key = (digest, stem.map(String::from));
        if let Some(known) = self.cracked.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return known;
        }
        let result = self.crack_once(c, info, stem);
        if let Ok(mut cache) = self.cracked.lock() {
            cache.insert(key, result.clone());
        }
        result
    }

    fn crack_once(&self, c: &Candidate, info: KeyInfo, stem: Option<&str>) -> KeyInfo {
        let words = crack::Wordlist::new(stem, &self.policy.passphrases);
        match crack::crack(c, &words, self.policy.crack_budget) {
            crack::Outcome::Opened(opened) => opened,
            crack::Outcome::OutOfTime(tried, total) => {
                let mut info = info;
                let stopped = format!(
                    "weak-passphrase check stopped at its time budget after {tried} of {total} passphrases"
                );
                add_note(&mut info.note, stopped);
                info
            }
            crack::Outcome::Held | crack::Outcome::Skipped(_) => info,
        }
    }

    /// Findings for one blob at `origin`.
    pub fn scan(&self, data: &[u8], origin: &Origin) -> Vec<Finding> {
        self.hits_named(data, Some(&origin.path))
            .into_iter()
            .map(|h| self.finding(h, origin))
            .collect()
    }

    pub fn finding(&self, hit: Hit, origin: &Origin) -> Finding {
        let info = hit.info;
        Finding {
            path: origin.path.clone(),
            raw_path: None,
            outside_git: false,
            line: hit.line,
            end_line: hit.end_line,
            rule: hit.rule,
            format: info.format,
            key_type: info.key_type,
            blocking: self.policy.blocks(info.status),
            status: info.status,
            fingerprint: info.fingerprint,
            aws_fingerprints: info.aws_fingerprints,
            public_key: info.public_key,
            commit: origin.commit.clone(),
            blob: origin.blob.clone(),
            still_in: None,
            permissions: None,
            redacted: hit.redacted,
            note: info.note,
        }
    }
}

/// Line numbers for increasing offsets, counting each newline once.
struct LineIndex<'a> {
    data: &'a [u8],
    pos: usize,
    line: usize,
}

impl<'a> LineIndex<'a> {
    fn new(data: &'a [u8]) -> Self {
        LineIndex {
            data,
            pos: 0,
            line: 1,
        }
    }

    fn line_of(&mut self, offset: usize) -> usize {
        let offset = offset.min(self.data.len());
        if offset < self.pos {
            self.pos = 0;
            self.line = 1;
        }
        self.line += memchr_iter(b'\n', &self.data[self.pos..offset]).count();
        self.pos = offset;
        self.line
    }
}

/// A picture of the match that shows what it is, never the body.
fn redact(c: &Candidate, lines: usize) -> String {
    let label = c.armor.as_ref().map(|a| a.label.as_str()).unwrap_or("");
    let via = match c.wrapped_by.first().map(|r| r.validator) {
        Some(Validator::Base64) => " (base64-encoded)",
        Some(Validator::Percent) => " (percent-encoded)",
        Some(Validator::Escaped) => " (escaped)",
        Some(Validator::Utf16) => " (UTF-16)",
        Some(Validator::QuotedPrintable) => " (quoted-printable)",
        _ => "",
    };
    match c.rule.validator {
        Validator::Der => format!("<{} bytes of binary DER, redacted>", c.bytes.len()),
        Validator::PgpBinary => format!("<{} bytes of binary OpenPGP, redacted>", c.bytes.len()),
        Validator::Ssh1 => format!("<{} bytes of SSH-1 private key, redacted>", c.bytes.len()),
        Validator::Gnupg => format!("GnuPG private key ({lines} lines redacted)"),
        Validator::Ppk => {
            let head = c
                .armor
                .as_ref()
                .and_then(|a| {
                    a.lines.iter().find_map(|l| match l {
                        crate::rules::unwrap::Line::Header(k, v)
                            if k.starts_with("PuTTY-User-Key-File-") =>
                        {
                            Some(format!("{k}: {v}"))
                        }
                        _ => None,
                    })
                })
                .unwrap_or_else(|| "PuTTY-User-Key-File".to_string());
            format!("{head} [{lines} lines redacted]{via}")
        }
        Validator::Sshcom => format!("---- BEGIN {label} ---- [{lines} lines redacted]{via}"),
        _ => format!("-----BEGIN {label}----- [{lines} lines redacted]{via}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_counts_from_one_and_rewinds() {
        let data = b"a\nb\nc\n";
        let mut li = LineIndex::new(data);
        assert_eq!(li.line_of(0), 1);
        assert_eq!(li.line_of(2), 2);
        assert_eq!(li.line_of(5), 3);
        assert_eq!(li.line_of(1), 1);
        assert_eq!(li.line_of(100), 4);
    }
}
