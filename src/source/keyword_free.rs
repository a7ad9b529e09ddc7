//! The literal gate of the rules, run on a history's blobs as their packs
//! are decoded: a blob rebuilt by a delta from a base known to hold no
//! keyword is gated only where the delta wrote new bytes. Shared by the
//! history door and pre-receive, which decode packs the same way.

use crate::git::packs::{KeySet, Object};
use crate::scan::{Hit, Scanner};

/// The packed blobs known to hold no keyword of the rules' literal gate. A
/// blob rebuilt from such a base by a delta holds a keyword only where the
/// delta put new bytes, or across the edge of a copied range: only there is
/// the gate run, instead of over the whole blob (most blobs of a history
/// are small edits of another).
pub(super) struct KeywordFree {
    free: KeySet,
    /// The longest keyword, in bytes.
    reach: usize,
}

impl KeywordFree {
    pub fn new(scanner: &Scanner, packed: u64) -> Self {
        KeywordFree {
            free: KeySet::new(packed as usize),
            reach: scanner.engine.longest_keyword(),
        }
    }

    /// The blob's hits: the whole pipeline runs only when the gate, an
    /// anchored binary rule or an archive could find something, as
    /// [`crate::rules::matcher::Engine::gate_matches`] requires.
    pub fn hits(&self, scanner: &Scanner, o: &Object<'_>) -> Vec<Hit> {
        let engine = &scanner.engine;
        let data = o.data;
        let windows = (o.base.as_ref())
            .filter(|b| self.free.has(b.key))
            .map(|b| joined(fresh_windows(b.copied, data.len(), self.reach)));
        let gate = match windows {
            Some(windows) => windows.into_iter().any(|w| engine.gate_matches(&data[w])),
            None => engine.gate_matches(data),
        };
        if let Some(key) = o.key.filter(|_| !gate) {
            self.free.add(key);
        }
        let may_hold =
            gate || crate::scan::archive::kind(data).is_some() || engine.binary_matches(data);
        if may_hold {
            scanner.hits(data)
        } else {
            Vec::new()
        }
    }
}

/// `windows` (in order), those less than [`JOIN`] bytes apart searched as
/// one: a search call costs more than searching that many bytes.
fn joined(mut windows: Vec<std::ops::Range<usize>>) -> Vec<std::ops::Range<usize>> {
    const JOIN: usize = 256;
    let mut kept = 0;
    for i in 0..windows.len() {
        if kept > 0 && windows[i].start <= windows[kept - 1].end + JOIN {
            windows[kept - 1].end = windows[i].end;
        } else {
            windows[kept] = windows[i].clone();
            kept += 1;
        }
    }
    windows.truncate(kept);
    windows
}

/// The ranges of a blob of `len` bytes where a keyword of at most `reach`
/// bytes may start or lie, given the ranges `copied` (in order) that a delta
/// copied from a keyword-free base: any keyword wholly inside one copied
/// range would be in the base.
fn fresh_windows(
    copied: &[std::ops::Range<usize>],
    len: usize,
    reach: usize,
) -> Vec<std::ops::Range<usize>> {
    if reach == 0 {
        return Vec::new();
    }
    let mut out = Vec::new();
    // The first start position not known to be safe.
    let mut from = 0;
    for r in copied.iter().filter(|r| r.len() >= reach) {
        // Starts whose keyword would end within `r`.
        let safe = r.start..r.end + 1 - reach;
        if safe.start > from {
            out.push(from..(safe.start + reach - 1).min(len));
        }
        from = from.max(safe.end);
    }
    if from < len {
        out.push(from..len);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{fresh_windows, joined};

    #[test]
    fn windows_close_together_are_joined() {
        assert!(joined(Vec::new()).is_empty());
        assert_eq!(
            joined(vec![0..10, 100..120, 377..380, 700..710]),
            vec![0..120, 377..380, 700..710]
        );
        assert_eq!(joined(vec![0..10, 266..270]), vec![0..270]);
    }

    /// A keyword that is new in a blob rebuilt by copies from a base that
    /// lacks it always lies wholly within one of the windows.
    #[test]
    fn fresh_windows_hold_every_new_keyword() {
        let key = b"KEYWORD";
        let base: Vec<u8> = (0..400u32)
            .map(|i| b"abcdefgh"[(i * 7 % 8) as usize])
            .collect();
        let mut seed = 7u32;
        let mut next = |n: u32| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (seed >> 8) % n
        };
        for _ in 0..2000 {
            // A target of copies from the base and inserts of random bits
            // of the keyword, so that keywords form across edges.
            let (mut data, mut copied) = (Vec::new(), Vec::new());
            for _ in 0..1 + next(6) {
                if next(2) == 0 {
                    let at = next(390) as usize;
                    let n = 1 + next(10) as usize;
                    copied.push(data.len()..data.len() + n);
                    data.extend_from_slice(&base[at..at + n]);
                } else {
                    let a = next(7) as usize;
                    let b = a + next(8 - a as u32) as usize;
                    data.extend_from_slice(&key[a..b]);
                }
            }
            let windows = fresh_windows(&copied, data.len(), key.len());
            for at in 0..data.len() {
                if data[at..].starts_with(key) {
                    assert!(
                        windows
                            .iter()
                            .any(|w| w.start <= at && at + key.len() <= w.end),
                        "{data:?} {copied:?} {windows:?}"
                    );
                }
            }
        }
        assert_eq!(
            fresh_windows(&[0..100, 100..120], 120, 10),
            [91..109, 111..120]
        );
        assert_eq!(
            fresh_windows(&[0..50, 60..100], 100, 10),
            vec![41..69, 91..100]
        );
    }
}
