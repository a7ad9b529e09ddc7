//! Bytes in, candidates out: a literal gate over all keywords, then each
//! gated rule's regex, END markers bound to the BEGIN label, disguises
//! unwrapped, base64-wrapped PEM decoded and scanned again.

use super::unwrap::{self, Armor};
use super::{Rule, Validator};
use anyhow::{Context, Result};
use memchr::memmem;
use regex::bytes::Regex;
use std::borrow::Cow;
use std::ops::Range;

/// How deep base64-in-base64 is followed.
const MAX_NESTING: usize = 2;

/// A stretch of bytes that a rule matched, ready for a validator.
#[derive(Debug)]
pub struct Candidate<'r, 'd> {
    pub rule: &'r Rule,
    /// Span in the scanned blob (for decoded candidates: the encoded run's span).
    pub span: Range<usize>,
    /// The matched bytes (decoded ones for base64-wrapped keys).
    pub bytes: Cow<'d, [u8]>,
    /// Unwrapped armor, for text rules.
    pub armor: Option<Armor>,
    /// Ids of the rules whose decoding revealed this candidate, outermost first.
    pub wrapped_by: Vec<&'r str>,
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

    /// True when some candidate in `data` came from (or through) rule `id`.
    pub fn matches_rule(&self, data: &[u8], id: &str) -> bool {
        self.candidates(data)
            .iter()
            .any(|c| c.rule.id == id || c.wrapped_by.contains(&id))
    }

    /// Every candidate in `data`, in order of position.
    pub fn candidates<'r, 'd>(&'r self, data: &'d [u8]) -> Vec<Candidate<'r, 'd>> {
        let mut out = Vec::new();
        self.find(data, 0, &mut out);
        out.sort_by_key(|c| (c.span.start, std::cmp::Reverse(c.span.end)));
        // A span inside an earlier one is the same key seen twice (e.g. a
        // PEM block inside a PPK comment); keep the outer one.
        let mut kept: Vec<Candidate<'r, 'd>> = Vec::with_capacity(out.len());
        for c in out {
            match kept.last() {
                Some(prev) if c.span.end <= prev.span.end && c.wrapped_by.is_empty() => {}
                _ => kept.push(c),
            }
        }
        kept
    }

    fn find<'r, 'd>(&'r self, data: &'d [u8], depth: usize, out: &mut Vec<Candidate<'r, 'd>>) {
        for rule in self.rules.iter().filter(|r| r.binary) {
            if rule.start.is_match(data) {
                out.push(Candidate {
                    rule,
                    span: 0..data.len(),
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
                if rule.validator == Validator::Base64 {
                    self.expand_base64(rule, data, span, depth, out);
                    continue;
                }
                let armor = unwrap::armor(&label, &data[body]);
                out.push(Candidate {
                    rule,
                    bytes: Cow::Borrowed(&data[span.clone()]),
                    span,
                    armor: Some(armor),
                    wrapped_by: Vec::new(),
                });
            }
        }
    }

    /// Decode a base64 run and scan it again; what it reveals is reported at
    /// the run's own span.
    fn expand_base64<'r, 'd>(
        &'r self,
        rule: &'r Rule,
        data: &[u8],
        span: Range<usize>,
        depth: usize,
        out: &mut Vec<Candidate<'r, 'd>>,
    ) {
        if depth >= MAX_NESTING {
            return;
        }
        let decoded = unwrap::decode_base64_prefix(&data[span.clone()]);
        let mut inner = Vec::new();
        self.find(&decoded, depth + 1, &mut inner);
        for c in inner {
            let mut wrapped_by = vec![rule.id.as_str()];
            wrapped_by.extend(c.wrapped_by);
            out.push(Candidate {
                rule: c.rule,
                span: span.clone(),
                bytes: Cow::Owned(c.bytes.into_owned()),
                armor: c.armor,
                wrapped_by,
            });
        }
    }
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
        assert_eq!(c[0].wrapped_by, vec!["base64-encoded-pem"]);
        assert_eq!(&text[c[0].span.clone()], enc);
    }

    #[test]
    fn key_free_text_gives_nothing() {
        let e = engine();
        let text = "fn main() { println!(\"BEGIN\"); }\n".repeat(1000);
        assert!(e.candidates(text.as_bytes()).is_empty());
    }
}
