//! A pack's entries decoded along their delta chains, on all cores: each
//! base is inflated once and every delta on it applied to it in memory.
//!
//! Written here rather than taken from gitoxide's traversal for two things
//! it does not hand over: the chains are laid out from the header pass
//! already made ([`super::classify`]), not by reading every header again;
//! and each delta's copy instructions come with the object, so the history
//! door searches only what a delta wrote without inflating it a second time.

use super::{Slot, NOT_WANTED};
use gix::odb::pack;
use rayon::Scope;
use std::cell::RefCell;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Which entries are built on which: for each slot (in pack order) the
/// slots whose delta base it is.
#[derive(Debug, Default)]
pub(super) struct Chains {
    /// Where each slot's children start in `children` (one more than there
    /// are slots).
    start: Vec<u32>,
    children: Vec<u32>,
}

impl Chains {
    pub fn new(slots: &[Slot]) -> Self {
        let mut start = vec![0u32; slots.len() + 1];
        for s in slots.iter().filter(|s| s.parent != NOT_WANTED) {
            start[s.parent as usize + 1] += 1;
        }
        for i in 1..start.len() {
            start[i] += start[i - 1];
        }
        let mut next = start.clone();
        let mut children = vec![0u32; start[slots.len()] as usize];
        for (at, s) in slots.iter().enumerate() {
            if s.parent != NOT_WANTED {
                let place = &mut next[s.parent as usize];
                children[*place as usize] = at as u32;
                *place += 1;
            }
        }
        Chains { start, children }
    }

    fn children(&self, at: usize) -> &[u32] {
        &self.children[self.start[at] as usize..self.start[at + 1] as usize]
    }
}

/// One decoded entry, as the walk hands it over.
pub(super) struct Decoded<'a> {
    /// Its place among the slots.
    pub at: usize,
    pub data: &'a [u8],
    /// For a delta: the ranges of `data` it copied from its base, in order.
    pub copied: Option<&'a [Range<usize>]>,
}

/// The slots of one pack to decode, and where they are.
pub(super) struct Walk<'a> {
    pub pack: &'a pack::data::File,
    pub slots: &'a [Slot],
    pub chains: &'a Chains,
    /// No object, delta or result of one bigger than this is inflated.
    pub limit: u64,
}

/// What the walk's tasks share.
struct Shared<'a> {
    f: &'a (dyn Fn(&Decoded<'_>) + Sync),
    decoded: AtomicUsize,
    stop: AtomicBool,
    failure: Mutex<Option<String>>,
}

impl Walk<'_> {
    /// Decodes every slot, calling `f` for each: a base before the deltas
    /// built on it. Stops at the first entry that cannot be decoded, and
    /// fails if a slot is not built on any base in the list.
    pub fn run(&self, f: &(dyn Fn(&Decoded<'_>) + Sync)) -> Result<(), String> {
        let roots: Vec<u32> = (0..self.slots.len() as u32)
            .filter(|&at| self.slots[at as usize].parent == NOT_WANTED)
            .collect();
        let shared = Shared {
            f,
            decoded: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            failure: Mutex::new(None),
        };
        let shared = &shared;
        rayon::scope(|s| {
            for some in roots.chunks(64) {
                s.spawn(move |s| {
                    for &root in some {
                        self.chain(s, shared, root as usize, None);
                    }
                });
            }
        });
        if let Some(e) = shared.failure.lock().unwrap().take() {
            return Err(e);
        }
        let unreached = self.slots.len() - shared.decoded.load(Ordering::Relaxed);
        if unreached > 0 {
            return Err(format!(
                "{unreached} entries are built on no base in the pack"
            ));
        }
        Ok(())
    }

    /// Decodes the entry `at` (on `base`, for a delta) and everything built
    /// on it: the first child here, the others as tasks of their own.
    fn chain<'s, 'f: 's>(
        &'s self,
        s: &Scope<'s>,
        shared: &'s Shared<'f>,
        mut at: usize,
        mut base: Option<Arc<Vec<u8>>>,
    ) {
        let mut copied = Vec::new();
        loop {
            if shared.stop.load(Ordering::Relaxed) {
                return;
            }
            let mut data = Vec::new();
            if let Err(e) = self.decode(at, base.as_deref().map(|b| &b[..]), &mut data, &mut copied)
            {
                let offset = self.slots[at].offset;
                *shared.failure.lock().unwrap() = Some(format!("the entry at {offset}: {e}"));
                shared.stop.store(true, Ordering::Relaxed);
                return;
            }
            shared.decoded.fetch_add(1, Ordering::Relaxed);
            (shared.f)(&Decoded {
                at,
                data: &data,
                copied: base.is_some().then_some(&copied[..]),
            });
            let Some((&first, others)) = self.chains.children(at).split_first() else {
                return;
            };
            let data = Arc::new(data);
            for &other in others {
                let data = Arc::clone(&data);
                s.spawn(move |s| self.chain(s, shared, other as usize, Some(data)));
            }
            base = Some(data);
            at = first as usize;
        }
    }

    /// Inflates the entry at `at` into `out`; for a delta, applies it to
    /// `base` and lists what it copied in `copied`.
    fn decode(
        &self,
        at: usize,
        base: Option<&[u8]>,
        out: &mut Vec<u8>,
        copied: &mut Vec<Range<usize>>,
    ) -> Result<(), String> {
        let slot = &self.slots[at];
        let end = (self.slots.get(at + 1)).map_or(self.pack.pack_end() as u64, |s| s.offset);
        let entry = self.pack.entry(slot.offset).map_err(|e| e.to_string())?;
        let compressed = (self.pack)
            .entry_slice(entry.data_offset..end)
            .ok_or("its data lies outside the pack")?;
        let Some(base) = base else {
            return inflate(compressed, entry.decompressed_size, self.limit, out);
        };
        thread_local! {
            // One inflater and delta buffer per thread.
            static DELTA: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
        }
        DELTA.with(|delta| {
            let delta = &mut *delta.borrow_mut();
            inflate(compressed, entry.decompressed_size, self.limit, delta)?;
            apply(base, delta, self.limit, out, copied).map_err(str::to_string)
        })
    }
}

/// Inflates `compressed` into `out` (cleared first), which must come to
/// `size` bytes, at most `limit`.
fn inflate(compressed: &[u8], size: u64, limit: u64, out: &mut Vec<u8>) -> Result<(), String> {
    thread_local! {
        static INFLATER: RefCell<flate2::Decompress> = RefCell::new(flate2::Decompress::new(true));
    }
    if size > limit {
        return Err(format!("{size} bytes, over the limit of {limit}"));
    }
    let size = usize::try_from(size).map_err(|_| "too big to hold".to_string())?;
    out.clear();
    // One byte more: a stream that would run past its declared size is
    // caught, not cut short.
    (out.try_reserve_exact(size.saturating_add(1)))
        .map_err(|_| format!("{size} bytes cannot be held in memory"))?;
    INFLATER.with(|z| {
        let z = &mut *z.borrow_mut();
        z.reset(true);
        z.decompress_vec(compressed, out, flate2::FlushDecompress::Finish)
            .map_err(|e| format!("cannot be inflated: {e}"))?;
        if out.len() != size {
            return Err(format!("inflates to {} bytes, not {size}", out.len()));
        }
        Ok(())
    })
}

/// Builds the result of the git delta `delta` on `base` into `out`,
/// listing the ranges of it that were copied from `base` in `copied`.
pub(super) fn apply(
    base: &[u8],
    delta: &[u8],
    limit: u64,
    out: &mut Vec<u8>,
    copied: &mut Vec<Range<usize>>,
) -> Result<(), &'static str> {
    let mut at = 0;
    let base_size = varint(delta, &mut at).ok_or("a truncated delta header")?;
    let size = varint(delta, &mut at).ok_or("a truncated delta header")?;
    if base_size != base.len() as u64 {
        return Err("the delta's base is not the size it says");
    }
    if size > limit {
        return Err("the delta builds an object over the size limit");
    }
    let size = usize::try_from(size).map_err(|_| "the delta builds an object too big to hold")?;
    out.clear();
    (out.try_reserve_exact(size)).map_err(|_| "the delta builds an object too big to hold")?;
    copied.clear();
    while let Some(&cmd) = delta.get(at) {
        at += 1;
        if cmd & 0x80 != 0 {
            let (from, len) = copy_operands(cmd, delta, &mut at).ok_or("a truncated copy")?;
            let part = (from.checked_add(len))
                .and_then(|end| base.get(from..end))
                .ok_or("a copy from outside the base")?;
            if out.len() + len > size {
                return Err("the delta builds more than it says");
            }
            copied.push(out.len()..out.len() + len);
            out.extend_from_slice(part);
        } else if cmd != 0 {
            let part = delta
                .get(at..at + cmd as usize)
                .ok_or("a truncated insert")?;
            if out.len() + part.len() > size {
                return Err("the delta builds more than it says");
            }
            out.extend_from_slice(part);
            at += cmd as usize;
        } else {
            return Err("a reserved delta instruction");
        }
    }
    if out.len() != size {
        return Err("the delta builds less than it says");
    }
    Ok(())
}

/// A copy instruction's base offset and length: the low four bits of `cmd`
/// say which offset bytes follow, the next three which length bytes.
fn copy_operands(cmd: u8, delta: &[u8], at: &mut usize) -> Option<(usize, usize)> {
    let mut read = |bits: u8, count: usize| -> Option<usize> {
        let mut value = 0usize;
        for i in 0..count {
            if bits & (1 << i) != 0 {
                value |= (*delta.get(*at)? as usize) << (8 * i);
                *at += 1;
            }
        }
        Some(value)
    };
    let from = read(cmd & 0x0f, 4)?;
    let len = read((cmd >> 4) & 0x07, 3)?;
    Some((from, if len == 0 { 0x10000 } else { len }))
}

/// A little-endian base-128 number, as delta headers write sizes.
fn varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(base: &[u8], delta: &[u8]) -> Result<(Vec<u8>, Vec<Range<usize>>), &'static str> {
        let (mut out, mut copied) = (Vec::new(), Vec::new());
        apply(base, delta, 1 << 20, &mut out, &mut copied)?;
        Ok((out, copied))
    }

    #[test]
    fn a_delta_copies_and_inserts() {
        // base 8 bytes, result 8: copy 2 from 0, insert "xy", copy 4 from 2.
        let delta = [8, 8, 0x91, 0, 2, 2, b'x', b'y', 0x91, 2, 4];
        let (out, copied) = applied(b"abcdefgh", &delta).unwrap();
        assert_eq!(out, b"abxycdef");
        assert_eq!(copied, vec![0..2, 4..8]);
        // A copy with no length bytes copies 0x10000 bytes.
        let base = vec![7u8; 0x10000];
        let delta = [0x80, 0x80, 0x04, 0x80, 0x80, 0x04, 0x80];
        let (out, copied) = applied(&base, &delta).unwrap();
        assert_eq!(out.len(), 0x10000);
        assert_eq!((copied.len(), copied[0].clone()), (1, 0..0x10000));
    }

    #[test]
    fn a_malformed_delta_is_refused() {
        let base = b"abcdefgh";
        for (delta, why) in [
            (&[9, 2, 0x91, 0, 2][..], "base size"),
            (&[8, 2, 0x91, 7, 2], "copy past the base"),
            (&[8, 2, 0x91, 0], "truncated copy"),
            (&[8, 2, 3, b'x'], "truncated insert"),
            (&[8, 2, 0], "reserved"),
            (&[8, 1, 0x91, 0, 2], "more than it says"),
            (&[8, 3, 0x91, 0, 2], "less than it says"),
            (
                &[
                    8, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                ],
                "header",
            ),
            (
                &[8, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x91, 0, 2],
                "over the limit",
            ),
        ] {
            assert!(applied(base, delta).is_err(), "{why}");
        }
    }

    #[test]
    fn inflating_checks_the_declared_size() {
        use std::io::Write;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(b"hello, world").unwrap();
        let compressed = z.finish().unwrap();
        let mut out = Vec::new();
        inflate(&compressed, 12, 100, &mut out).unwrap();
        assert_eq!(out, b"hello, world");
        assert!(inflate(&compressed, 11, 100, &mut out).is_err());
        assert!(inflate(&compressed, 13, 100, &mut out).is_err());
        assert!(inflate(&compressed, 12, 11, &mut out).is_err());
        assert!(inflate(&compressed[..5], 12, 100, &mut out).is_err());
    }
}
