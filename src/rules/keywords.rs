//! Every rule's keywords, found in one pass over a blob (SIMD Teddy, as
//! ripgrep searches literals), and where each rule's regex may then match.
//!
//! A rule's regex only runs near its keywords: a blob that holds "kty" once
//! in 10 MB costs one short regex search, not a scan of the 10 MB. See
//! [`super::Rule::near`] for what "near" is.

use super::Rule;
use anyhow::{Context, Result};
use regex::bytes::Regex;
use std::collections::HashMap;
use std::ops::Range;

pub struct Keywords {
    /// Alternations of the keywords (see `new` for their order): those of
    /// at least [`FINGERPRINT`] bytes, then any shorter ones. The regex
    /// crate picks the literal search (SIMD Teddy), measured 3-4x faster
    /// here than aho-corasick's packed searcher.
    searchers: Vec<Regex>,
    /// Keyword -> id.
    ids: HashMap<Vec<u8>, usize>,
    /// Distinct keywords, by id.
    words: Vec<Vec<u8>>,
    /// Keyword id -> the rules it gates.
    rules_of: Vec<Vec<usize>>,
    /// Keyword id -> the other keywords that start like it: where one is
    /// reported, a shorter one is there too and a longer one may be.
    same_start: Vec<Vec<usize>>,
}

/// Where a rule's regex may start a match in one blob: merged ranges, in
/// order.
pub type Starts = Vec<Range<usize>>;

/// How many leading bytes of each keyword Teddy matches at most: it takes
/// as many as the shortest keyword has. A few 3-byte keywords searched with
/// 50 longer ones made the whole search 2-3x slower (3.0 GB/s on key-free
/// text, 8.4 without them; 18 GB/s for the short ones alone), so they are
/// searched apart.
const FINGERPRINT: usize = 4;

impl Keywords {
    pub fn new(rules: &[Rule]) -> Result<Self> {
        let mut words: Vec<Vec<u8>> = Vec::new();
        let mut rules_of: Vec<Vec<usize>> = Vec::new();
        // In the order of the rule files' names: the literal search's speed
        // depends on the order (how Teddy buckets the keywords), and this is
        // the order `scripts/bench` hands ripgrep, its baseline.
        let mut order: Vec<(usize, &Rule)> = rules
            .iter()
            .enumerate()
            .filter(|(_, r)| !r.binary)
            .collect();
        order.sort_by(|a, b| a.1.origin.cmp(&b.1.origin));
        for (i, rule) in order {
            for k in &rule.keywords {
                let id = match words.iter().position(|w| w == k.as_bytes()) {
                    Some(id) => id,
                    None => {
                        words.push(k.as_bytes().to_vec());
                        rules_of.push(Vec::new());
                        words.len() - 1
                    }
                };
                if !rules_of[id].contains(&i) {
                    rules_of[id].push(i);
                }
            }
        }
        let long = |w: &[u8]| w.len() >= FINGERPRINT;
        // Within one search: the search reports one keyword per position.
        let same_start = (words.iter().enumerate())
            .map(|(i, w)| {
                (words.iter().enumerate())
                    .filter(|&(j, v)| j != i && long(v) == long(w))
                    .filter(|(_, v)| v.starts_with(w) || w.starts_with(v))
                    .map(|(j, _)| j)
                    .collect()
            })
            .collect();
        let mut searchers = Vec::new();
        for group in [true, false] {
            let alternation: Vec<String> = (words.iter())
                .filter(|w| long(w) == group)
                .map(|w| regex_syntax::escape(&String::from_utf8_lossy(w)))
                .collect();
            if !alternation.is_empty() {
                let pattern = alternation.join("|");
                searchers.push(Regex::new(&pattern).context("building the keyword search")?);
            }
        }
        let ids = (words.iter().cloned()).zip(0..).collect();
        Ok(Keywords {
            searchers,
            ids,
            words,
            rules_of,
            same_start,
        })
    }

    /// Whether any keyword is in `data`.
    pub fn any(&self, data: &[u8]) -> bool {
        self.searchers.iter().any(|s| s.is_match(data))
    }

    /// The longest keyword, in bytes.
    pub fn longest(&self) -> usize {
        self.words.iter().map(Vec::len).max().unwrap_or(0)
    }

    /// Every keyword occurrence in `data`, as (keyword id, position), in
    /// order within each search. A search resumes one byte on, so every
    /// position where one of its keywords starts is reported; its others
    /// starting there are checked.
    fn each(&self, data: &[u8], mut f: impl FnMut(usize, usize)) {
        for searcher in &self.searchers {
            let mut from = 0;
            while let Some(m) = searcher.find_at(data, from) {
                let (id, at) = (self.ids[m.as_bytes()], m.start());
                f(id, at);
                for &other in &self.same_start[id] {
                    if data[at..].starts_with(&self.words[other]) {
                        f(other, at);
                    }
                }
                from = at + 1;
            }
        }
    }

    /// Per rule (by index) whose keywords are in `data`, where its regex
    /// may start a match; rules without one are absent.
    pub fn starts(&self, rules: &[Rule], data: &[u8]) -> Vec<(usize, Starts)> {
        let mut per_rule: Vec<(usize, Starts)> = Vec::new();
        self.each(data, |id, at| {
            let len = self.words[id].len();
            for &r in &self.rules_of[id] {
                let window = rules[r].starts_near(at, len, data.len());
                let starts = match per_rule.iter_mut().find(|(i, _)| *i == r) {
                    Some((_, s)) => s,
                    None => {
                        per_rule.push((r, Vec::new()));
                        &mut per_rule.last_mut().expect("just pushed").1
                    }
                };
                add_window(starts, window);
            }
        });
        per_rule.sort_by_key(|(r, _)| *r);
        for (_, starts) in &mut per_rule {
            merge(starts);
        }
        per_rule
    }
}

/// Adds `w` to `starts`, merging it with the last range when they touch
/// (the common case, which keeps the list short).
fn add_window(starts: &mut Starts, w: Range<usize>) {
    if let Some(last) = starts.last_mut() {
        if w.start <= last.end && w.end >= last.start {
            last.start = last.start.min(w.start);
            last.end = last.end.max(w.end);
            return;
        }
    }
    starts.push(w);
}

/// Sorts and merges: windows come nearly in order, but a short keyword
/// just after a long one may open its window first.
fn merge(starts: &mut Starts) {
    starts.sort_unstable_by_key(|w| w.start);
    let mut out: Starts = Vec::with_capacity(starts.len());
    for w in starts.drain(..) {
        add_window(&mut out, w);
    }
    *starts = out;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keywords shorter than Teddy's fingerprint are searched apart from
    /// the others; every occurrence of each is still reported once, also
    /// where a short and a long one start at the same byte.
    #[test]
    fn short_keywords_are_searched_apart_and_all_found() {
        let rules = crate::rules::parse_rules(
            "test.toml",
            r#"
            [[rule]]
            id = "short"
            description = "short"
            keywords = ["prv", "WIF"]
            start = 'prv[0-9]'
            validator = "pem"
            [[rule]]
            id = "long"
            description = "long"
            keywords = ["prvkey", "PRIVATE"]
            start = 'prvkey'
            validator = "pem"
            "#,
        )
        .unwrap();
        let k = Keywords::new(&rules).unwrap();
        assert_eq!(k.searchers.len(), 2);
        let data = b"prvkey WIF PRIVATE prv1 xWIFprvkey";
        let mut found = Vec::new();
        k.each(data, |id, at| found.push((k.words[id].clone(), at)));
        found.sort();
        let want: Vec<(Vec<u8>, usize)> = [
            ("PRIVATE", 11),
            ("WIF", 7),
            ("WIF", 25),
            ("prv", 0),
            ("prv", 19),
            ("prv", 28),
            ("prvkey", 0),
            ("prvkey", 28),
        ]
        .iter()
        .map(|(w, at)| (w.as_bytes().to_vec(), *at))
        .collect();
        assert_eq!(found, want);
        assert!(k.any(b"..WIF..") && k.any(b"..PRIVATE..") && !k.any(b"private wi f"));
    }

    #[test]
    fn windows_merge_when_they_touch_even_slightly_out_of_order() {
        let mut s = Starts::new();
        add_window(&mut s, 10..20);
        add_window(&mut s, 15..30);
        add_window(&mut s, 12..14);
        add_window(&mut s, 40..50);
        add_window(&mut s, 35..41);
        add_window(&mut s, 0..5);
        merge(&mut s);
        assert_eq!(s, vec![0..5, 10..30, 35..50]);
    }
}
