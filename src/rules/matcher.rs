//! Bytes in, candidates out: every keyword found in one pass, then each
//! rule's regex near its keywords, END markers bound to the BEGIN label,
//! disguises unwrapped. Keys whose very markers are encoded (base64, percent/form
//! encoding, UTF-16) are decoded and scanned again.

use super::decode;
use super::keywords::Keywords;
use super::unwrap::{self, Armor};
use super::{Rule, Validator};
use anyhow::Result;
use memchr::memmem;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::mem;
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
    /// Every rule's keywords, found in one pass.
    keywords: Keywords,
}

impl Engine {
    pub fn new(rules: Vec<Rule>) -> Result<Self> {
        let keywords = Keywords::new(&rules)?;
        Ok(Engine { rules, keywords })
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
        self.keywords.any(data)
    }

    /// Whether a binary rule (a whole-blob candidate) matches `data`.
    pub fn binary_matches(&self, data: &[u8]) -> bool {
        self.binary_rules_matching(data).next().is_some()
    }

    /// The binary rules (whole-blob candidates) that match `data`.
    fn binary_rules_matching<'r, 'd>(
        &'r self,
        data: &'d [u8],
    ) -> impl Iterator<Item = &'r Rule> + use<'r, 'd> {
        (self.rules.iter())
            .filter(move |r| r.binary && may_start(r, data) && r.start.is_match(data))
    }

    /// The length of the longest keyword, in bytes.
    pub fn longest_keyword(&self) -> usize {
        self.keywords.longest()
    }

    /// Candidates in `data`, which is the output of the decoding rules in
    /// `within` (outermost first).
    fn find<'r, 'd>(
        &'r self,
        data: &'d [u8],
        within: &[&'r Rule],
        out: &mut Vec<Candidate<'r, 'd>>,
    ) {
        for rule in self.binary_rules_matching(data) {
            out.push(Candidate {
                rule,
                span: 0..data.len(),
                lines: None,
                bytes: Cow::Borrowed(data),
                armor: None,
                wrapped_by: Vec::new(),
            });
        }
        for (i, starts) in self.keywords.starts(&self.rules, data) {
            let rule = &self.rules[i];
            // A whole-blob decoding never applies to its own output.
            if rule.validator.decodes_whole_blob() && within.iter().any(|w| w.id == rule.id) {
                continue;
            }
            self.find_rule(rule, data, &starts, within, out);
        }
    }

    /// The candidates of `rule` whose match starts in one of `starts`.
    fn find_rule<'r, 'd>(
        &'r self,
        rule: &'r Rule,
        data: &'d [u8],
        starts: &[Range<usize>],
        within: &[&'r Rule],
        out: &mut Vec<Candidate<'r, 'd>>,
    ) {
        let mut pos = 0;
        let mut orders = [false; 2];
        for window in starts {
            pos = pos.max(window.start);
            // No match starting in the window reaches past this.
            let end = rule
                .reach()
                .map_or(data.len(), |r| data.len().min(window.end.saturating_add(r)));
            // Searched to the blob's end (an unbounded rule), a miss holds
            // for every later window too: each byte is searched once.
            let to_the_end = end == data.len();
            while pos < window.end {
                let Some(caps) = captures_at(rule, data, end, pos) else {
                    if to_the_end {
                        return;
                    }
                    break;
                };
                let m = caps.get(0).expect("group 0 always matches");
                if m.start() >= window.end {
                    if to_the_end {
                        pos = m.start();
                    }
                    break;
                }
                pos = m.end().max(m.start() + 1);
                // UTF-16: the whole blob is decoded once per byte order (a
                // match's alignment says which), whichever marker comes first.
                if rule.validator == Validator::Utf16
                    && mem::replace(&mut orders[m.start() % 2], true)
                {
                    continue;
                }
                match self.take(rule, data, &caps, within, out) {
                    Taken::Upto(end) => pos = pos.max(end),
                    Taken::WholeBlob => return,
                }
            }
        }
    }

    /// The candidate (or decoded candidates) of one match of `rule`.
    fn take<'r, 'd>(
        &'r self,
        rule: &'r Rule,
        data: &'d [u8],
        caps: &regex::bytes::Captures<'d>,
        within: &[&'r Rule],
        out: &mut Vec<Candidate<'r, 'd>>,
    ) -> Taken {
        let m = caps.get(0).expect("group 0 always matches");
        let label = caps
            .name("label")
            .map(|l| String::from_utf8_lossy(l.as_bytes()).into_owned())
            .unwrap_or_default();
        let found = match (&rule.end, &rule.end_regex) {
            (Some(end), _) => find_end(data, m.start(), m.end(), rule, end, &label),
            // A second start before the end: the first never ended (a
            // decoy, a doc), as with a second BEGIN before an END.
            (None, Some(end)) => {
                let limit = window_end(data, m.start(), rule);
                end.find_at(&data[..limit], m.end())
                    .filter(|e| !rule.start.is_match(&data[m.end()..e.end()]))
                    .map(|e| (m.start()..e.end(), m.start()..e.end()))
            }
            (None, None) => Some((m.range(), m.range())),
        };
        let Some((span, body)) = found else {
            return Taken::Upto(0);
        };
        let end = span.end;
        match rule.validator {
            Validator::Base64 => {
                let decoded = unwrap::decode_base64_prefix(&data[span.clone()]);
                self.expand(rule, &decoded, within, Mapping::Run(span), out);
                return Taken::Upto(end);
            }
            Validator::Percent => {
                let decoded = decode::decode_percent_run(&data[span.clone()]);
                self.expand(rule, &decoded, within, Mapping::Run(span), out);
                return Taken::Upto(end);
            }
            Validator::Escaped => {
                let run = String::from_utf8_lossy(&data[span.clone()]);
                let decoded = decode::peel_layers(run);
                self.expand(rule, decoded.as_bytes(), within, Mapping::Run(span), out);
                return Taken::Upto(end);
            }
            // One decoding of the whole blob serves every key in it.
            Validator::Utf16 => {
                let big_endian = m.start() % 2 == 1;
                let decoded = decode::utf16_to_ascii(data, big_endian);
                self.expand(rule, &decoded, within, Mapping::Utf16(&decoded), out);
                return Taken::Upto(end);
            }
            Validator::QuotedPrintable => {
                let from = span.end;
                let (decoded, offsets) = decode::decode_quoted_printable(&data[from..]);
                let mapping = Mapping::Offsets { from, offsets };
                self.expand(rule, &decoded, within, mapping, out);
                return Taken::WholeBlob;
            }
            _ => {}
        }
        // Only armored text formats read it; for the others the line's
        // prefix (up to 4 KiB) would be read for nothing, per candidate.
        let armor = (rule.validator.reads_armor())
            .then(|| unwrap::armor_in(&label, &data[body], line_prefix(data, m.start())));
        out.push(Candidate {
            rule,
            bytes: Cow::Borrowed(&data[span.clone()]),
            span,
            lines: None,
            armor,
            wrapped_by: Vec::new(),
        });
        Taken::Upto(end)
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

/// Whether a binary rule (anchored at the blob's start) may match `data`,
/// from its first byte: most blobs are ruled out without a regex search.
fn may_start(rule: &Rule, data: &[u8]) -> bool {
    data.first().is_none_or(|&b| rule.start.may_start_with(b))
}

/// How far one match took the search.
enum Taken {
    /// Go on after this offset (0: wherever the search already is).
    Upto(usize),
    /// The rule decoded the whole blob: its search is over.
    WholeBlob,
}

/// The first match of `rule` at or after `pos` among `data[..end]` (a
/// match cannot reach past `end`). A match that touches `end` is searched
/// again in all of `data`, where what follows may change it (`$`, `\b`).
fn captures_at<'d>(
    rule: &Rule,
    data: &'d [u8],
    end: usize,
    pos: usize,
) -> Option<regex::bytes::Captures<'d>> {
    let caps = rule.start.captures_at(&data[..end], pos)?;
    let m = caps.get(0).expect("group 0 always matches");
    if m.end() == end && end < data.len() {
        return rule.start.captures_at(data, m.start());
    }
    Some(caps)
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
    // Only up to the next BEGIN: a run of BEGINs costs a pass, not a
    // window each.
    let next_begin = memmem::find(window, b"BEGIN ").unwrap_or(window.len());
    let at = memmem::find(&window[..next_begin], marker.as_bytes())?;
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

    /// (rule, span) of every candidate, decoded ones at their encoded run.
    fn spans(e: &Engine, data: &[u8]) -> Vec<(String, Range<usize>)> {
        let ids = |c: &Candidate| match c.wrapped_by.first() {
            Some(outer) => outer.id.clone(),
            None => c.rule.id.clone(),
        };
        e.candidates(data)
            .iter()
            .map(|c| (ids(c), c.span.clone()))
            .collect()
    }

    #[test]
    fn regexes_run_near_keywords_yet_find_what_a_whole_blob_search_finds() {
        let e = Engine::new(crate::rules::builtin_compiled().unwrap()).unwrap();
        // Key-free text with every rule's keywords scattered through it, so
        // that windows open, merge and close all over the blob.
        let mut filler = String::new();
        for (n, rule) in e.rules().iter().enumerate() {
            for k in &rule.keywords {
                filler.push_str(&format!("line {n}: {k} and some words\n"));
                filler.push_str(&"fn main() { let x = [1, 2, 3]; }\n".repeat(97 * (n % 5 + 1)));
            }
        }
        for rule in e.rules().iter().filter(|r| !r.binary) {
            for ex in &rule.examples {
                let alone = spans(&e, ex.as_bytes());
                assert!(!alone.is_empty(), "{}: {ex}", rule.id);
                for cut in [0, filler.len() / 3, filler.len()] {
                    // An even shift: UTF-16 text keeps its byte order.
                    // At a line's start: what follows a key may continue it.
                    let at = filler[..cut].rfind('\n').map_or(0, |i| i + 1);
                    let nl = if at % 2 == 0 { "\n\n" } else { "\n" };
                    let text = format!("{}{nl}{ex}\n{}", &filler[..at], &filler[at..]);
                    let shift = at + nl.len();
                    let found = spans(&e, text.as_bytes());
                    // Where a span ends may depend on what follows it.
                    for (id, span) in &alone {
                        let at = span.start + shift;
                        assert!(
                            found.iter().any(|(i, s)| i == id && s.start == at),
                            "{}: {ex} at {at} not in {found:?}",
                            rule.id
                        );
                    }
                }
            }
        }
    }

    fn engine_of(toml: &str) -> Engine {
        Engine::new(crate::rules::parse_rules("test.toml", toml).unwrap()).unwrap()
    }

    #[test]
    fn a_keyword_inside_another_still_gates_its_rule() {
        let e = engine_of(
            r#"
            [[rule]]
            id = "long"
            description = "long"
            keywords = ["abcdef"]
            start = 'abcdef'
            validator = "pem"
            [[rule]]
            id = "short"
            description = "short"
            keywords = ["cde"]
            start = 'cde[0-9]'
            validator = "pem"
            "#,
        );
        let found = spans(&e, b"xx abcdef cde1 abcdx9 ");
        let ids: Vec<&str> = found.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, vec!["long", "short"], "{found:?}");
        assert_eq!(found[1].1, 10..14);
        // The only "cde" is inside "abcdef": the rule still runs there.
        let found = spans(&e, b"abcdef7");
        assert_eq!(found.len(), 1);
        let e2 = engine_of(
            r#"
            [[rule]]
            id = "short"
            description = "short"
            keywords = ["cde"]
            start = 'cdef[0-9]'
            validator = "pem"
            [[rule]]
            id = "long"
            description = "long"
            keywords = ["abcdef"]
            start = 'zzz'
            validator = "pem"
            "#,
        );
        assert_eq!(spans(&e2, b"abcdef7").len(), 1);
    }

    #[test]
    fn a_match_longer_than_its_bound_is_taken_whole_and_context_is_near() {
        let e = engine_of(
            r#"
            [[rule]]
            id = "run"
            description = "an unbounded run"
            keywords = ["KEYWORD"]
            start = 'KEYWORD[a-z]*'
            validator = "pem"
            max_len = 16
            [[rule]]
            id = "context"
            description = "a number near a word"
            keywords = ["near"]
            near = 100
            start = '(?-u:\b)[0-9]{6}(?-u:\b)'
            validator = "pem"
            max_len = 16
            "#,
        );
        let text = format!("KEYWORD{}!", "a".repeat(100));
        assert_eq!(
            spans(&e, text.as_bytes()),
            vec![("run".to_string(), 0..107)]
        );
        // Within 100 bytes of "near", either side: found; further: not.
        let pad = |n| "x ".repeat(n);
        for (text, found) in [
            (format!("123456 {}near", pad(40)), 1),
            (format!("near{} 123456", pad(40)), 1),
            (format!("123456 {}near", pad(60)), 0),
            (format!("near{} 123456 1234567", pad(60)), 0),
        ] {
            assert_eq!(spans(&e, text.as_bytes()).len(), found, "{text}");
        }
    }

    #[test]
    fn an_unbounded_context_rule_finds_matches_in_later_windows_only() {
        let e = engine_of(
            r#"
            [[rule]]
            id = "unbounded"
            description = "a number near a word, any length"
            keywords = ["kw"]
            near = 10
            start = 'N[0-9]+'
            validator = "pem"
            max_len = 0
            "#,
        );
        let gap = " ".repeat(1000);
        let text = format!("kw{gap}kw N123{gap}N999{gap}kw{gap}kw N45{gap}N6");
        let found: Vec<&str> = spans(&e, text.as_bytes())
            .into_iter()
            .map(|(_, s)| &text[s])
            .collect();
        assert_eq!(found, vec!["N123", "N45"]);
    }

    #[test]
    fn a_decoy_marker_before_a_key_hides_nothing() {
        let e = engine();
        // A start whose end lies past a real key's start (GnuPG's end is a
        // pattern, not a marker bound to the start).
        let key = "Key: (private-key (ecc (curve Ed25519)(q\n  #40D4#)\n (d #C6BB#)\n ))\n";
        let text = format!("Key: (private-key is what the file holds\n{key}");
        let c = e.candidates(text.as_bytes());
        assert_eq!(c.len(), 1, "{c:#?}");
        assert_eq!(c[0].span.start, text.len() - key.len());
        // UTF-16LE text whose first "BEGIN " is at the other byte order:
        // CJK characters that read as one, then a real key.
        let pem = format!("-----BEGIN EC PRIVATE KEY-----\n{BODY}\n-----END EC PRIVATE KEY-----\n");
        let text = format!("\u{4200}\u{4500}\u{4700}\u{4900}\u{4e00}\u{2000}\n{pem}");
        let bytes: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let c = e.candidates(&bytes);
        assert_eq!(c.len(), 1, "{c:#?}");
        assert_eq!(c[0].rule.id, "pem-private-key");
        assert_eq!(wrappers(&c[0]), vec!["utf16-text"]);
    }
}
