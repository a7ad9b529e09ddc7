//! Bytes in, candidates out: a literal gate over all keywords, then each
//! gated rule's regex, END markers bound to the BEGIN label, disguises
//! unwrapped. Keys whose very markers are encoded (base64, percent/form
//! encoding, UTF-16) are decoded and scanned again.

use super::decode;
use super::unwrap::{self, Armor};
use super::{Rule, Validator};
use anyhow::{Context, Result};
use memchr::memmem;
use regex::bytes::Regex;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;

/// How deep encodings inside encodings are followed (UTF-16 holding
/// base64 holding a PEM is three).
const MAX_NESTING: usize = 3;

/// A stretch of bytes that a rule matched, ready for a validator.
#[derive(Debug)]
pub struct Candidate<'r, 'd> {
    pub rule: &'r Rule,
    /// Span in the scanned blob (for decoded candidates: the encoded run's span).
    pub span: Range<usize>,
    /// 1-based first and last line, when counting newline bytes in `span`
    /// would be wrong (UTF-16: the lines of the decoded text).
    pub lines: Option<(usize, usize)>,
    /// The matched bytes (decoded ones for base64-wrapped keys).
    pub bytes: Cow<'d, [u8]>,
    /// Unwrapped armor, for text rules.
    pub armor: Option<Armor>,
    /// The rules whose decoding revealed this candidate, outermost first.
    pub wrapped_by: Vec<&'r Rule>,
}

pub struct Engine {
    rules: Vec<Rule>,
    /// One pass over the blob finds out whether any keyword is there at all.
    gate: Option<Regex>,
    /// Per rule, a finder per keyword.
    finders: Vec<Vec<memmem::Finder<'static>>>,
}

impl Engine {
    pub fn new(rules: Vec<Rule>) -> Result<Self> {
        let keywords: Vec<String> = rules
            .iter()
            .flat_map(|r| r.keywords.iter().map(|k| regex::escape(k)))
            .collect();
        let gate = if keywords.is_empty() {
            None
        } else {
            Some(Regex::new(&keywords.join("|")).context("building the keyword gate")?)
        };
        let finders = rules
            .iter()
            .map(|r| {
                r.keywords
                    .iter()
                    .map(|k| memmem::Finder::new(k.as_bytes()).into_owned())
                    .collect()
            })
            .collect();
        Ok(Engine {
            rules,
            gate,
            finders,
        })
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Rule id -> description, for reports that describe their rules.
    pub fn descriptions(&self) -> BTreeMap<String, String> {
        (self.rules.iter())
            .map(|r| (r.id.clone(), r.description.clone()))
            .collect()
    }

    /// True when some candidate in `data` came from (or through) rule `id`.
    pub fn matches_rule(&self, data: &[u8], id: &str) -> bool {
        self.candidates(data)
            .iter()
            .any(|c| c.rule.id == id || c.wrapped_by.iter().any(|r| r.id == id))
    }

    /// Every candidate in `data`, in order of position.
    pub fn candidates<'r, 'd>(&'r self, data: &'d [u8]) -> Vec<Candidate<'r, 'd>> {
        let mut out = Vec::new();
        self.find(data, &[], &mut out);
        out.sort_by_key(|c| (c.span.start, std::cmp::Reverse(c.span.end)));
        // A span inside an earlier one is the same key seen twice (e.g. a
        // PEM block inside a PPK comment, or a key both in plain sight and
        // decoded); keep the first. Several keys in one encoded run share
        // its span, so those all stay. A whole-blob binary candidate hides
        // nothing: text that merely starts like DER still gets scanned.
        let mut kept: Vec<Candidate<'r, 'd>> = Vec::with_capacity(out.len());
        for c in out {
            match kept.last() {
                Some(prev)
                    if c.span.end <= prev.span.end
                        && !prev.rule.binary
                        && (c.wrapped_by.is_empty() || prev.wrapped_by.is_empty()) => {}
                _ => kept.push(c),
            }
        }
        kept
    }

    /// Whether a keyword of any rule is in `data`. Unless this or
    /// [`Engine::binary_matches`] holds, `data` has no candidate (and only
    /// an archive could hold a key). A keyword is a literal: whether one is
    /// at a place depends on its bytes alone, at most
    /// [`Engine::longest_keyword`] of them.
    pub fn gate_matches(&self, data: &[u8]) -> bool {
        self.gate.as_ref().is_some_and(|g| g.is_match(data))
    }

    /// Whether a binary rule (a whole-blob candidate) matches `data`.
    pub fn binary_matches(&self, data: &[u8]) -> bool {
        self.rules
            .iter()
            .any(|r| r.binary && r.start.is_match(data))
    }

    /// The length of the longest keyword, in bytes.
    pub fn longest_keyword(&self) -> usize {
        (self.rules.iter())
            .flat_map(|r| r.keywords.iter().map(|k| k.len()))
            .max()
            .unwrap_or(0)
    }

    /// Candidates in `data`, which is the output of the decoding rules in
    /// `within` (outermost first).
    fn find<'r, 'd>(
        &'r self,
        data: &'d [u8],
        within: &[&'r Rule],
        out: &mut Vec<Candidate<'r, 'd>>,
    ) {
        for rule in self.rules.iter().filter(|r| r.binary) {
            if rule.start.is_match(data) {
                out.push(Candidate {
                    rule,
                    span: 0..data.len(),
                    lines: None,
                    bytes: Cow::Borrowed(data),
                    armor: None,
                    wrapped_by: Vec::new(),
                });
            }
        }
        match &self.gate {
            Some(gate) if gate.is_match(data) => {}
            _ => return,
        }
        for (rule, finders) in self.rules.iter().zip(&self.finders) {
            if rule.binary || !finders.iter().any(|f| f.find(data).is_some()) {
                continue;
            }
            // A whole-blob decoding never applies to its own output.
            if rule.validator.decodes_whole_blob() && within.iter().any(|w| w.id == rule.id) {
                continue;
            }
            let mut pos = 0;
            while let Some(caps) = rule.start.captures_at(data, pos) {
                let m = caps.get(0).expect("group 0 always matches");
                pos = m.end().max(m.start() + 1);
                let label = caps
                    .name("label")
                    .map(|l| String::from_utf8_lossy(l.as_bytes()).into_owned())
                    .unwrap_or_default();
                let found = match (&rule.end, &rule.end_regex) {
                    (Some(end), _) => find_end(data, m.start(), m.end(), rule, end, &label),
                    (None, Some(end)) => {
                        let limit = window_end(data, m.start(), rule);
                        end.find_at(&data[..limit], m.end())
                            .map(|e| (m.start()..e.end(), m.start()..e.end()))
                    }
                    (None, None) => Some((m.range(), m.range())),
                };
                let Some((span, body)) = found else { continue };
                pos = pos.max(span.end);
                match rule.validator {
                    Validator::Base64 => {
                        let decoded = unwrap::decode_base64_prefix(&data[span.clone()]);
                        self.expand(rule, &decoded, within, Mapping::Run(span), out);
                        continue;
                    }
                    Validator::Percent => {
                        let decoded = decode::decode_percent_run(&data[span.clone()]);
                        self.expand(rule, &decoded, within, Mapping::Run(span), out);
                        continue;
                    }
                    Validator::Escaped => {
                        let run = String::from_utf8_lossy(&data[span.clone()]);
                        let decoded = decode::peel_layers(run);
                        self.expand(rule, decoded.as_bytes(), within, Mapping::Run(span), out);
                        continue;
                    }
                    // One decoding of the whole blob serves every key in it.
                    Validator::Utf16 => {
                        let big_endian = m.start() % 2 == 1;
                        let decoded = decode::utf16_to_ascii(data, big_endian);
                        self.expand(rule, &decoded, within, Mapping::Utf16(&decoded), out);
                        break;
                    }
                    Validator::QuotedPrintable => {
                        let from = span.end;
                        let (decoded, offsets) = decode::decode_quoted_printable(&data[from..]);
                        let mapping = Mapping::Offsets { from, offsets };
                        self.expand(rule, &decoded, within, mapping, out);
                        break;
                    }
                    _ => {}
                }
                let prefix = line_prefix(data, m.start());
                let armor = unwrap::armor_in(&label, &data[body], prefix);
                out.push(Candidate {
                    rule,
                    bytes: Cow::Borrowed(&data[span.clone()]),
                    span,
                    lines: None,
                    armor: Some(armor),
                    wrapped_by: Vec::new(),
                });
            }
        }
    }

    /// Scan text decoded from `data` again with every rule; what it reveals
    /// is reported where `mapping` says.
    fn expand<'r, 'd>(
        &'r self,
        rule: &'r Rule,
        decoded: &[u8],
        within: &[&'r Rule],
        mapping: Mapping,
        out: &mut Vec<Candidate<'r, 'd>>,
    ) {
        if within.len() >= MAX_NESTING {
            return;
        }
        let mut chain = within.to_vec();
        chain.push(rule);
        let mut inner = Vec::new();
        self.find(decoded, &chain, &mut inner);
        for c in inner {
            let (span, lines) = match &mapping {
                Mapping::Run(run) => (run.clone(), None),
                Mapping::Utf16(text) => {
                    let first = 1 + memchr::memchr_iter(b'\n', &text[..c.span.start]).count();
                    let last_byte = c.span.end.saturating_sub(1).max(c.span.start);
                    let last =
                        first + memchr::memchr_iter(b'\n', &text[c.span.start..last_byte]).count();
                    (2 * c.span.start..2 * c.span.end, Some((first, last)))
                }
                Mapping::Offsets { from, offsets } => {
                    let at = |i: usize| from + offsets[i.min(offsets.len() - 1)];
                    (at(c.span.start)..at(c.span.end), None)
                }
            };
            let mut wrapped_by = vec![rule];
            wrapped_by.extend(c.wrapped_by);
            out.push(Candidate {
                rule: c.rule,
                span,
                lines,
                bytes: Cow::Owned(c.bytes.into_owned()),
                armor: c.armor,
                wrapped_by,
            });
        }
    }
}

/// Where candidates found in decoded text are reported.
enum Mapping<'t> {
    /// At the encoded run (base64, percent), whatever it holds.
    Run(Range<usize>),
    /// At the same characters: the decoded text has one byte per UTF-16
    /// code unit, so offsets double.
    Utf16(&'t [u8]),
    /// Decoded byte `i` came from `from + offsets[i]` (one entry more than
    /// decoded bytes, for the end).
    Offsets { from: usize, offsets: Vec<usize> },
}

/// What precedes `start` on its line (a comment marker, an open quote),
/// bounded so a huge one-line file costs little.
fn line_prefix(data: &[u8], start: usize) -> &[u8] {
    const MAX_PREFIX: usize = 4096;
    let from = start.saturating_sub(MAX_PREFIX);
    // A lone CR ends a line too.
    let line_start =
        memchr::memrchr2(b'\n', b'\r', &data[from..start]).map_or(from, |i| from + i + 1);
    &data[line_start..start]
}

/// Find the END marker bound to this BEGIN's label; returns the whole span
/// and the body between the markers. A second BEGIN before the END means the
/// first block never ended (a placeholder, a doc), so there is no candidate.
fn find_end(
    data: &[u8],
    start: usize,
    body_start: usize,
    rule: &Rule,
    template: &str,
    label: &str,
) -> Option<(Range<usize>, Range<usize>)> {
    let marker = template.replace("{label}", label);
    let window = &data[body_start..window_end(data, start, rule)];
    let at = memmem::find(window, marker.as_bytes())?;
    let body = &window[..at];
    if memmem::find(body, b"BEGIN ").is_some() {
        return None;
    }
    let body_end = body_start + at;
    Some((start..body_end + marker.len(), body_start..body_end))
}

/// The furthest a match starting at `start` may reach.
fn window_end(data: &[u8], start: usize, rule: &Rule) -> usize {
    if rule.max_len == 0 {
        data.len()
    } else {
        data.len().min(start.saturating_add(rule.max_len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::builtin;

    fn engine() -> Engine {
        Engine::new(builtin().unwrap()).unwrap()
    }

    const BODY: &str = "MIIEpAIBAAKCAQEAwJ7x0n3Gq1tV9hZkF8mB2yQpL4sDcXaR6eUoT5vNiWjHgKbYfMzl";

    #[test]
    fn end_marker_is_bound_to_the_begin_label() {
        let e = engine();
        let text = format!("-----BEGIN RSA PRIVATE KEY-----\n{BODY}\n-----END PUBLIC KEY-----\n");
        assert!(e.candidates(text.as_bytes()).is_empty());
        let text = format!(
            "-----BEGIN RSA PRIVATE KEY-----\n...\n\n-----BEGIN PRIVATE KEY-----\n{BODY}\n-----END PRIVATE KEY-----\n-----END RSA PRIVATE KEY-----\n"
        );
        let c = e.candidates(text.as_bytes());
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].armor.as_ref().unwrap().label, "PRIVATE KEY");
    }

    #[test]
    fn several_keys_and_positions() {
        let e = engine();
        let one = format!("-----BEGIN EC PRIVATE KEY-----\n{BODY}\n-----END EC PRIVATE KEY-----");
        let text = format!("a\n{one}\nb\n{one}");
        let c = e.candidates(text.as_bytes());
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].span.start, 2);
        assert!(c[1].span.start > c[0].span.end);
        assert_eq!(c[1].span.end, text.len());
    }

    #[test]
    fn base64_wrapped_pem_is_decoded_and_rescanned() {
        use base64::Engine as _;
        let e = engine();
        let pem = format!("-----BEGIN PRIVATE KEY-----\n{BODY}\n-----END PRIVATE KEY-----\n");
        let enc = base64::engine::general_purpose::STANDARD.encode(pem);
        let text = format!("data:\n  tls.key: {enc}\n  other: x\n");
        let c = e.candidates(text.as_bytes());
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].rule.id, "pem-private-key");
        let ids: Vec<&str> = c[0].wrapped_by.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, vec!["base64-encoded-pem"]);
        assert_eq!(&text[c[0].span.clone()], enc);
    }

    #[test]
    fn text_that_starts_like_der_still_shows_its_keys() {
        let e = engine();
        let text = format!(
            "0 - notes\n-----BEGIN EC PRIVATE KEY-----\n{BODY}\n-----END EC PRIVATE KEY-----\n"
        );
        let c = e.candidates(text.as_bytes());
        assert_eq!(c.len(), 2, "{c:#?}");
        assert_eq!(c[0].rule.id, "der-private-key");
        assert_eq!(c[1].rule.id, "pem-private-key");
    }

    #[test]
    fn key_free_text_gives_nothing() {
        let e = engine();
        let text = "fn main() { println!(\"BEGIN\"); }\n".repeat(1000);
        assert!(e.candidates(text.as_bytes()).is_empty());
    }

    fn wrappers(c: &Candidate) -> Vec<String> {
        c.wrapped_by.iter().map(|r| r.id.clone()).collect()
    }

    #[test]
    fn percent_encoded_key_is_reported_at_its_run() {
        let e = engine();
        let pem =
            format!("-----BEGIN EC PRIVATE KEY-----\n{BODY}+/=\n-----END EC PRIVATE KEY-----\n");
        let enc = pem
            .replace(' ', "%20")
            .replace('\n', "%0A")
            .replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D");
        let text = format!("log line\nGET /?key={enc}&x=1 HTTP/1.1\n");
        let c = e.candidates(text.as_bytes());
        assert_eq!(c.len(), 1);
        assert_eq!(wrappers(&c[0]), vec!["percent-encoded-key"]);
        assert_eq!(&text[c[0].span.clone()], enc);
        assert!(c[0].armor.as_ref().unwrap().data().ends_with("+/="));
    }

    #[test]
    fn utf16_key_keeps_its_place_and_lines() {
        let e = engine();
        let pem = format!("-----BEGIN EC PRIVATE KEY-----\n{BODY}\n-----END EC PRIVATE KEY-----\n");
        let text = format!("\u{feff}one\ntwo \u{40a}\n{pem}");
        for big_endian in [false, true] {
            let bytes: Vec<u8> = text
                .encode_utf16()
                .flat_map(|u| {
                    if big_endian {
                        u.to_be_bytes()
                    } else {
                        u.to_le_bytes()
                    }
                })
                .collect();
            let c = e.candidates(&bytes);
            assert_eq!(c.len(), 1, "big endian: {big_endian}");
            assert_eq!(wrappers(&c[0]), vec!["utf16-text"]);
            assert_eq!(c[0].lines, Some((3, 5)));
            assert_eq!(
                c[0].span.start,
                2 * "\u{feff}one\ntwo \u{40a}\n".chars().count()
            );
            assert_eq!(c[0].armor.as_ref().unwrap().data(), BODY);
        }
    }

    #[test]
    fn quoted_printable_mail_is_decoded_once_and_not_reported_twice() {
        let e = engine();
        let head = "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
        // A marker cut by a soft break is only found in the decoded text.
        let split = format!(
            "{head}-----BEGIN EC PRIVATE KEY-----=0A{BODY}=0A-----END EC PRI=\r\nVATE KEY-----=0A"
        );
        let c = e.candidates(split.as_bytes());
        assert_eq!(c.len(), 1);
        assert_eq!(wrappers(&c[0]), vec!["quoted-printable-text"]);
        assert_eq!(c[0].span.start, head.len());
        assert_eq!(c[0].span.end, split.len() - 3);
        // In plain sight too: one candidate, the plain one.
        let plain = format!(
            "{head}-----BEGIN EC PRIVATE KEY-----\r\n{BODY}=3D\r\n-----END EC PRIVATE KEY-----\r\n"
        );
        let c = e.candidates(plain.as_bytes());
        assert_eq!(c.len(), 1);
        assert!(c[0].wrapped_by.is_empty());
        assert!(c[0].armor.as_ref().unwrap().data().ends_with('='));
    }
}
