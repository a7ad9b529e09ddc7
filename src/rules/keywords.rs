//! Every rule's keywords, found in one pass over a blob (SIMD Teddy, as
//! ripgrep searches literals), and where each rule's regex may then match.
//!
//! A rule's regex only runs near its keywords: a blob that holds "kty" once
//! in 10 MB costs one short regex search, not a scan of the 10 MB. See
//! [`super::Rule::near`] for what "near" is.

use super::Rule;
use aho_corasick::{packed, AhoCorasick, Input, MatchKind, Span};
use anyhow::{Context, Result};
use std::ops::Range;

pub struct Keywords {
    searcher: Searcher,
    /// Distinct keywords, by id.
    words: Vec<Vec<u8>>,
    /// Keyword id -> the rules it gates.
    rules_of: Vec<Vec<usize>>,
    /// Keyword id -> the other keywords inside it, with their offset: where
    /// the longer one is reported, these occur too.
    inside: Vec<Vec<(usize, usize)>>,
}

enum Searcher {
    None,
    Packed(packed::Searcher),
    /// More keywords than Teddy takes, or no SIMD.
    Automaton(AhoCorasick),
}

/// Where a rule's regex may start a match in one blob: merged ranges, in
/// order.
pub type Starts = Vec<Range<usize>>;

impl Keywords {
    pub fn new(rules: &[Rule]) -> Result<Self> {
        let mut words: Vec<Vec<u8>> = Vec::new();
        let mut rules_of: Vec<Vec<usize>> = Vec::new();
        for (i, rule) in rules.iter().enumerate().filter(|(_, r)| !r.binary) {
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
        let inside = (words.iter())
            .map(|outer| {
                (words.iter().enumerate())
                    .filter(|(_, w)| w.len() < outer.len())
                    .flat_map(|(id, w)| {
                        let starts = memchr::memmem::find_iter(outer, w).collect::<Vec<_>>();
                        starts.into_iter().map(move |at| (id, at))
                    })
                    .collect()
            })
            .collect();
        let searcher = if words.is_empty() {
            Searcher::None
        } else {
            let packed = packed::Config::new()
                .match_kind(packed::MatchKind::LeftmostLongest)
                .builder()
                .extend(&words)
                .build();
            match packed {
                Some(p) => Searcher::Packed(p),
                None => Searcher::Automaton(
                    AhoCorasick::builder()
                        .match_kind(MatchKind::LeftmostLongest)
                        .build(&words)
                        .context("building the keyword automaton")?,
                ),
            }
        };
        Ok(Keywords {
            searcher,
            words,
            rules_of,
            inside,
        })
    }

    /// The first keyword at or after `from`: (keyword id, position).
    fn next(&self, data: &[u8], from: usize) -> Option<(usize, usize)> {
        match &self.searcher {
            Searcher::None => None,
            Searcher::Packed(p) => p
                .find_in(data, Span::from(from..data.len()))
                .map(|m| (m.pattern().as_usize(), m.start())),
            Searcher::Automaton(a) => a
                .find(Input::new(data).span(from..data.len()))
                .map(|m| (m.pattern().as_usize(), m.start())),
        }
    }

    /// Whether any keyword is in `data`.
    pub fn any(&self, data: &[u8]) -> bool {
        self.next(data, 0).is_some()
    }

    /// The longest keyword, in bytes.
    pub fn longest(&self) -> usize {
        self.words.iter().map(Vec::len).max().unwrap_or(0)
    }

    /// Every keyword occurrence in `data` (a keyword inside another at the
    /// same place included), as (keyword id, position). Each position where
    /// some keyword starts is reported: the search resumes one byte on.
    fn each(&self, data: &[u8], mut f: impl FnMut(usize, usize)) {
        let mut from = 0;
        while let Some((id, at)) = self.next(data, from) {
            f(id, at);
            for &(inner, offset) in &self.inside[id] {
                f(inner, at + offset);
            }
            from = at + 1;
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

/// Sorts and merges: windows come nearly in order, but a keyword inside
/// another may start after the next one reported.
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
