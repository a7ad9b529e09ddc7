//! Objects too big to inflate, found from the pack's entry headers before
//! anything is decoded: a multi-gigabyte blob never enters memory. Such an
//! object is reported (id, kind, size) and left out of the traversal,
//! together with every delta built on it, since reading those would inflate
//! it too.

use super::ObjectId;
use gix::objs::Kind;
use gix::odb::pack;
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};

/// An object that was not read because of the size limit per object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Oversized {
    pub id: ObjectId,
    /// None when even its header could not be resolved.
    pub kind: Option<Kind>,
    /// The bytes that reading it would hold in memory at once: its own size,
    /// or that of the over-limit object it is a delta of.
    pub size: u64,
}

/// What one pack holds over the limit, and the pack offsets a traversal
/// has to leave out.
#[derive(Debug, Default)]
pub(super) struct PackLimits {
    pub found: Vec<Oversized>,
    pub skip: HashSet<u64>,
}

/// The pack's entries whose declared size is over `limit`, and the deltas
/// that depend on them. Only entry headers are read (no inflation), so this
/// costs a walk over the index.
pub(super) fn in_pack(bundle: &pack::Bundle, limit: u64) -> Result<PackLimits, String> {
    if limit == u64::MAX {
        return Ok(PackLimits::default());
    }
    // On all cores: this touches every entry of the pack.
    let seeds: HashMap<u64, u64> = (0..bundle.index.num_objects())
        .into_par_iter()
        .map(|i| {
            let offset = bundle.index.pack_offset_at_index(i);
            match bundle.pack.entry(offset) {
                Ok(header) => Ok((offset, header.decompressed_size)),
                Err(e) => Err(format!("pack entry at {offset} cannot be read: {e}")),
            }
        })
        .filter(|r| r.as_ref().map_or(true, |(_, size)| *size > limit))
        .collect::<Result<_, String>>()?;
    if seeds.is_empty() {
        return Ok(PackLimits::default());
    }
    let mut by_offset: Vec<(u64, ObjectId)> = bundle
        .index
        .iter()
        .map(|e| (e.pack_offset, e.oid))
        .collect();
    by_offset.sort_unstable_by_key(|(offset, _)| *offset);
    let base_of = |offset: u64| -> Option<u64> { delta_base(bundle, offset) };
    // Which over-limit object each left-out delta depends on. Bases usually
    // come first in a pack; a forward reference takes another round.
    let mut needs: HashMap<u64, u64> = seeds.clone();
    loop {
        let before = needs.len();
        for (offset, _) in &by_offset {
            if needs.contains_key(offset) {
                continue;
            }
            if let Some(size) = base_of(*offset).and_then(|b| needs.get(&b).copied()) {
                needs.insert(*offset, size);
            }
        }
        if needs.len() == before {
            break;
        }
    }
    let mut inflate = gix::zlib::Inflate::default();
    let mut found: Vec<Oversized> = by_offset
        .iter()
        .filter_map(|(offset, id)| needs.get(offset).map(|size| (*offset, *id, *size)))
        .map(|(offset, id, size)| Oversized {
            id,
            kind: resolved_kind(bundle, offset, &mut inflate),
            size,
        })
        .collect();
    found.sort_by_key(|o| o.id);
    Ok(PackLimits {
        found,
        skip: needs.into_keys().collect(),
    })
}

/// The pack offset of the entry's delta base, if it is a delta.
fn delta_base(bundle: &pack::Bundle, offset: u64) -> Option<u64> {
    use pack::data::entry::Header;
    match bundle.pack.entry(offset).ok()?.header {
        Header::OfsDelta { base_distance } => {
            Header::verified_base_pack_offset(offset, base_distance)
        }
        Header::RefDelta { base_id } => bundle
            .index
            .lookup(base_id.as_ref())
            .map(|i| bundle.index.pack_offset_at_index(i)),
        _ => None,
    }
}

/// The object's kind, from its delta chain's headers only.
fn resolved_kind(
    bundle: &pack::Bundle,
    offset: u64,
    inflate: &mut gix::zlib::Inflate,
) -> Option<Kind> {
    let entry = bundle.pack.entry(offset).ok()?;
    if let Some(kind) = entry.header.as_kind() {
        return Some(kind);
    }
    let resolve = |id: &gix::hash::oid| {
        Ok(bundle.index.lookup(id).and_then(|i| {
            let at = bundle.index.pack_offset_at_index(i);
            bundle
                .pack
                .entry(at)
                .ok()
                .map(pack::data::decode::header::ResolvedBase::InPack)
        }))
    };
    let outcome = bundle.pack.decode_header(entry, inflate, &resolve).ok()?;
    Some(outcome.kind)
}
