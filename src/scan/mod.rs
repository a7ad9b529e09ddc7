//! One blob through the pipeline: candidates, validation, policy, findings.
//! Sources call `Scanner::hits` on a blob's bytes (archives are opened
//! here, member by member), then `Scanner::finding` once they know where the
//! blob lives; `Scanner::scan` does both for a blob whose place is known.

pub mod archive;
pub mod audit;
pub mod finding;
pub mod fingerprints;

use crate::policy::allowlist::Verdict;
use crate::policy::Policy;
use crate::rules::{Candidate, Engine, Validator};
use crate::scan::finding::{add_note, CommitInfo, Finding, KeyInfo, Status};
use crate::validate::{self, crack};
use memchr::memchr_iter;
use std::time::Instant;

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
    /// Inside an archive: the member's path (`inner/key.pem`, nested
    /// `lib.jar!key.pem`); lines count within the member.
    pub member: Option<String>,
    /// The key's id in the run's weak-passphrase check, when it has one.
    pub locked: Option<usize>,
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
    /// The run's weak-passphrase check: every distinct encrypted key once,
    /// one budget for all.
    checker: crack::Checker,
}

impl Scanner {
    pub fn new(engine: Engine, policy: Policy) -> Self {
        Scanner {
            engine,
            policy,
            checker: crack::Checker::default(),
        }
    }

    /// Every key in `data` that the policy does not allow.
    pub fn hits(&self, data: &[u8]) -> Vec<Hit> {
        self.hits_named(data, None)
    }

    /// As `hits`, for a blob whose file name is known: its stem is one of
    /// the passphrases tried on encrypted keys. An encrypted key is only
    /// registered for the check here; `settle` runs it.
    pub fn hits_named(&self, data: &[u8], path: Option<&str>) -> Vec<Hit> {
        if archive::kind(data).is_some() {
            let mut budget = archive::Budget::default();
            if let Some(mut hits) = self.archive_hits(data, 1, &mut budget) {
                hits.extend(refused_hit(&budget));
                return hits;
            }
        }
        self.blob_hits(data, path)
    }

    /// Every member of an archive through the pipeline, nested archives
    /// too up to the depth limit; `None` when it does not parse.
    fn archive_hits(
        &self,
        data: &[u8],
        depth: usize,
        budget: &mut archive::Budget,
    ) -> Option<Vec<Hit>> {
        let mut out = Vec::new();
        let parsed = archive::each_member(data, budget, &mut |name, bytes, budget| {
            let nested = match archive::kind(bytes) {
                Some(_) if depth >= archive::MAX_DEPTH => {
                    budget.refuse(format!("{name}: archives nested deeper than {depth}"));
                    return;
                }
                Some(_) => self.archive_hits(bytes, depth + 1, budget),
                None => None,
            };
            let hits = nested.unwrap_or_else(|| self.blob_hits(bytes, Some(name)));
            out.extend(hits.into_iter().map(|mut h| {
                h.member = Some(match h.member.take() {
                    Some(inner) => format!("{name}!{inner}"),
                    None => name.to_string(),
                });
                h
            }));
        });
        parsed.then_some(out)
    }

    /// One blob that is no archive (or a damaged one).
    fn blob_hits(&self, data: &[u8], path: Option<&str>) -> Vec<Hit> {
        let mut candidates = self.engine.candidates(data);
        if candidates.is_empty() {
            return Vec::new();
        }
        validate::add_entries(&mut candidates);
        let mut lines = LineIndex::new(data);
        candidates
            .iter()
            .filter_map(|c| {
                let format = validate::format(c.rule.validator)?;
                if format.placeholders && c.armor.as_ref().is_some_and(|a| a.is_placeholder()) {
                    return None;
                }
                let mut info = validate::validate(c)?;
                // An allowlisted fixture is dropped before any passphrase
                // check spends its budget on it.
                if self.policy.verdict(&info) == Verdict::Allowed {
                    return None;
                }
                let locked = (info.status == Status::Encrypted && self.policy.crack).then(|| {
                    let id = self.checker.register(c);
                    if let Some(path) = path {
                        self.checker.add_path(id, path);
                    }
                    id
                });
                if !self.admit(&mut info) {
                    return None;
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
                    redacted: redact(c, format, end_line + 1 - line),
                    info,
                    member: None,
                    locked,
                })
            })
            .collect()
    }

    /// The allowlist's verdict: `false` drops the key; an expired entry
    /// leaves a note.
    fn admit(&self, info: &mut KeyInfo) -> bool {
        match self.policy.verdict(info) {
            Verdict::Allowed => return false,
            Verdict::Expired(why) => add_note(&mut info.note, why),
            Verdict::NotListed => {}
        }
        true
    }

    /// Run the weak-passphrase check on every encrypted key found so far
    /// (within the run's budget, and before `deadline` when given), then
    /// apply it to `findings`: a key that opens with a common passphrase is
    /// as good as one in clear and is reported so (or dropped, when the
    /// allowlist names what it opened to). `None` when there was nothing to
    /// check. Call it once the sources are done, before the verdict.
    pub fn settle(
        &self,
        findings: &mut Vec<Finding>,
        deadline: Option<Instant>,
    ) -> Option<crack::Summary> {
        let summary = self.crack_check(deadline)?;
        findings.retain_mut(|f| {
            let Some(id) = f.locked.take() else {
                return true;
            };
            let mut info = KeyInfo {
                status: f.status,
                format: std::mem::take(&mut f.format),
                key_type: std::mem::take(&mut f.key_type),
                fingerprint: f.fingerprint.take(),
                aws_fingerprints: std::mem::take(&mut f.aws_fingerprints),
                public_key: f.public_key.take(),
                note: f.note.take(),
            };
            let keep = self.resolve(id, &mut info);
            f.blocking = self.policy.blocks(info.status);
            f.status = info.status;
            f.format = info.format;
            f.key_type = info.key_type;
            f.fingerprint = info.fingerprint;
            f.aws_fingerprints = info.aws_fingerprints;
            f.public_key = info.public_key;
            f.note = info.note;
            keep
        });
        Some(summary)
    }

    /// `settle` for hits (`keyscan fingerprint`, tests).
    pub fn settle_hits(&self, hits: &mut Vec<Hit>) -> Option<crack::Summary> {
        let summary = self.crack_check(None)?;
        hits.retain_mut(|h| match h.locked.take() {
            Some(id) => self.resolve(id, &mut h.info),
            None => true,
        });
        Some(summary)
    }

    fn crack_check(&self, deadline: Option<Instant>) -> Option<crack::Summary> {
        if !self.policy.crack {
            return None;
        }
        let summary = self.checker.run(&crack::Limits {
            budget: self.policy.crack_budget,
            passphrases: &self.policy.passphrases,
            deadline,
        });
        (summary.keys > 0).then_some(summary)
    }

    /// What the check learnt about key `id`, applied to `info`; `false`
    /// when what it opened to is allowlisted. The passphrase is never kept.
    fn resolve(&self, id: usize, info: &mut KeyInfo) -> bool {
        match self.checker.outcome(id, &self.policy.passphrases) {
            crack::Outcome::Opened(opened) => {
                *info = opened;
                self.admit(info)
            }
            crack::Outcome::Stopped(why) => {
                add_note(&mut info.note, why);
                true
            }
            crack::Outcome::Held | crack::Outcome::Skipped(_) => true,
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
        if let Some(id) = hit.locked {
            self.checker.add_path(id, &origin.path);
        }
        let info = hit.info;
        // A key in an archive: shown as `archive.zip!inner/path`, while
        // advice and URIs name the archive, the file that exists.
        let (path, raw_path) = match &hit.member {
            Some(member) => (
                format!("{}!{member}", origin.path),
                Some(origin.path.as_bytes().to_vec()),
            ),
            None => (origin.path.clone(), None),
        };
        Finding {
            path,
            raw_path,
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
            locked: hit.locked,
        }
    }
}

/// Members an archive left unscanned (a bomb, over a limit): a warning,
/// `unverified`, so that the gap is seen and does not block by itself.
fn refused_hit(budget: &archive::Budget) -> Option<Hit> {
    let first = budget.refused.first()?;
    let more = budget.refused_count - 1;
    let mut note = format!("archive member not scanned: {first}");
    if more > 0 {
        note.push_str(&format!(" (and {more} more)"));
    }
    Some(Hit {
        start: 0,
        end: 0,
        line: 1,
        end_line: 1,
        rule: "archive".into(),
        info: KeyInfo::unverified("archive", "unknown", note),
        redacted: format!("<archive, {} member(s) not scanned>", budget.refused_count),
        member: None,
        locked: None,
    })
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

/// A picture of the match that shows what it is, never the body. A
/// disguised key counts the lines of the key, not of its disguise.
fn redact(c: &Candidate, format: &validate::Format, span_lines: usize) -> String {
    let via = match c.wrapped_by.first().map(|r| r.validator) {
        Some(Validator::Base64) => " (base64-encoded)",
        Some(Validator::Percent) => " (percent-encoded)",
        Some(Validator::Escaped) => " (escaped)",
        Some(Validator::Utf16) => " (UTF-16)",
        Some(Validator::QuotedPrintable) => " (quoted-printable)",
        _ => "",
    };
    let lines = if c.wrapped_by.is_empty() || c.lines.is_some() {
        span_lines
    } else {
        decoded_lines(&c.bytes)
    };
    let lines = format!("{lines} line{}", if lines == 1 { "" } else { "s" });
    (format.redact)(c, &lines, via)
}

/// Lines of decoded text, a final line break not starting another.
fn decoded_lines(bytes: &[u8]) -> usize {
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    memchr_iter(b'\n', &bytes[..end]).count() + 1
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

    #[test]
    fn decoded_lines_ignore_the_final_break() {
        assert_eq!(decoded_lines(b"a\nb\nc\n"), 3);
        assert_eq!(decoded_lines(b"a\r\nb"), 2);
        assert_eq!(decoded_lines(b"one"), 1);
    }
}
