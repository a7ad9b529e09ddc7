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
    /// An alternation of every keyword (see `new` for their order). The
    /// regex crate picks the literal search (SIMD Teddy); measured faster
    /// here than aho-corasick's packed searcher once there are more than 32
    /// keywords.
    searcher: Option<Regex>,
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
        let same_start = (words.iter().enumerate())
            .map(|(i, w)| {
                (words.iter().enumerate())
                    .filter(|&(j, v)| j != i && (v.starts_with(w) || w.starts_with(v)))
                    .map(|(j, _)| j)
                    .collect()
            })
            .collect();
        let searcher = if words.is_empty() {
            None
        } else {
            let alternation: Vec<String> = (words.iter())
                .map(|w| regex_syntax::escape(&String::from_utf8_lossy(w)))
                .collect();
            let pattern = alternation.join("|");
            Some(Regex::new(&pattern).context("building the keyword search")?)
        };
        let ids = (words.iter().cloned()).zip(0..).collect();
        Ok(Keywords {
            searcher,
            ids,
            words,
            rules_of,
            same_start,
        })
    }

    /// The first keyword at or after `from`: (keyword id, position).
    fn next(&self, data: &[u8], from: usize) -> Option<(usize, usize)> {
        let m = self.searcher.as_ref()?.find_at(data, from)?;
        Some((self.ids[m.as_bytes()], m.start()))
    }

    /// Whether any keyword is in `data`.
    pub fn any(&self, data: &[u8]) -> bool {
        self.next(data, 0).is_some()
    }

    /// The longest keyword, in bytes.
    pub fn longest(&self) -> usize {
        self.words.iter().map(Vec::len).max().unwrap_or(0)
    }

    /// Every keyword occurrence in `data`, as (keyword id, position). The
    /// search resumes one byte on, so every position where some keyword
    /// starts is reported; the others starting there are checked.
    fn each(&self, data: &[u8], mut f: impl FnMut(usize, usize)) {
        let mut from = 0;
        while let Some((id, at)) = self.next(data, from) {
            f(id, at);
            for &other in &self.same_start[id] {
                if data[at..].starts_with(&self.words[other]) {
                    f(other, at);
                }
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
