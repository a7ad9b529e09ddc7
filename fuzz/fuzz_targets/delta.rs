//! The hand-written git delta applier that history and pre-receive run on
//! every packed delta, hostile pushes included. Input: a byte giving the
//! base's length, the base, then the delta. It must never panic, agree with
//! a plain reading of git's delta format (`gitformat-pack`), and say truly
//! which ranges of the result it copied from the base: the history door
//! searches only the rest for keywords.
#![no_main]

use keyscan::git::packs::apply_delta;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let (base, delta) = rest.split_at((n as usize).min(rest.len()));
    let ours = apply_delta(base, delta);
    let plain = plain_apply(base, delta);
    match (&ours, &plain) {
        (Ok((out, copied)), Some((want, want_copied))) => {
            assert_eq!(out, want, "results differ");
            assert_eq!(copied, want_copied, "copied ranges differ");
        }
        (Err(_), None) => {}
        _ => panic!("ours {:?}, plain reading {:?}", ours.is_ok(), plain.is_some()),
    }
});

/// git's delta format read as plainly as can be: two sizes, then copy
/// (high bit set: offset and length bytes as its low bits say, length 0
/// meaning 65536) and insert (1-127 literal bytes) instructions.
fn plain_apply(base: &[u8], delta: &[u8]) -> Option<(Vec<u8>, Vec<std::ops::Range<usize>>)> {
    let mut bytes = delta.iter().copied();
    let mut size = || -> Option<u64> {
        let mut value = 0u64;
        let mut shift = 0;
        loop {
            let b = bytes.next()?;
            if shift >= 64 {
                return None;
            }
            value |= u64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                return Some(value);
            }
        }
    };
    let (base_size, out_size) = (size()?, size()?);
    if base_size != base.len() as u64 || out_size > 1 << 24 {
        return None;
    }
    let mut out = Vec::new();
    let mut copied = Vec::new();
    while let Some(cmd) = bytes.next() {
        if cmd & 0x80 != 0 {
            let mut field = |first_bit: u32, count: u32| -> Option<usize> {
                let mut v = 0usize;
                for i in 0..count {
                    if cmd & (1 << (first_bit + i)) != 0 {
                        v |= (bytes.next()? as usize) << (8 * i);
                    }
                }
                Some(v)
            };
            let offset = field(0, 4)?;
            let len = match field(4, 3)? {
                0 => 0x10000,
                n => n,
            };
            let part = base.get(offset..offset.checked_add(len)?)?;
            copied.push(out.len()..out.len() + len);
            out.extend_from_slice(part);
        } else if cmd > 0 {
            for _ in 0..cmd {
                out.push(bytes.next()?);
            }
        } else {
            return None;
        }
        if out.len() as u64 > out_size {
            return None;
        }
    }
    (out.len() as u64 == out_size).then_some((out, copied))
}
