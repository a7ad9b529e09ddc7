//! Every object in a repository's object stores, each read once.
//!
//! Packs are decoded along their delta chains (`packs/delta.rs`): each
//! delta base is inflated once and its deltas applied to it in memory, on
//! all cores, and each delta says what it copied. Reading object by object
//! instead re-inflates shared bases again and again (libgit2 is ~8x slower
//! on git's own pack). Loose objects are read after the packs. An object
//! that is in several stores belongs to the first one that holds it, so it
//! is handed over once.
//!
//! A pre-pass over the entry headers (on all cores) gives each entry its
//! kind (a delta's is its base's) and its base, so the trees are left out
//! of the first pass and decoded in a second one
//! ([`Stores::for_each_tree`]), for work that needs to know what the first
//! pass found in the blobs: every object is still decoded once.
//!
//! This yields objects no ref reaches too; the history door decides what is
//! reachable from its walk of the commit graph.

mod delta;

use super::ObjectId;
use anyhow::{anyhow, Result};
use gix::objs::Kind;
use gix::odb::pack;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Counts that a progress display reads while the traversal runs.
#[derive(Debug, Default)]
pub struct Counters {
    /// Objects decoded (all kinds).
    pub objects: AtomicU64,
    /// Blobs handed over, and their bytes.
    pub blobs: AtomicU64,
    pub bytes: AtomicU64,
}

/// The object stores of a repository: its own objects directory and every
/// alternate it borrows from.
pub struct Stores {
    packs: Vec<pack::Bundle>,
    loose: Vec<gix::odb::loose::Store>,
    /// Objects in all pack indexes together (for progress and ETA).
    pub packed_objects: u64,
    /// Objects bigger than this are reported, never inflated.
    limit: u64,
}

impl Stores {
    /// The stores under `objects_dir`, followed by its alternates.
    pub fn open(objects_dir: &Path) -> Result<Self> {
        let mut dirs = vec![objects_dir.to_path_buf()];
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let alternates =
            gix::odb::alternate::resolve(objects_dir.to_path_buf(), &cwd).map_err(|e| {
                anyhow!(
                    "cannot read the alternates of {}: {e}",
                    objects_dir.display()
                )
            })?;
        dirs.extend(alternates);
        let mut packs = Vec::new();
        let mut loose = Vec::new();
        for dir in &dirs {
            let pack_dir = dir.join("pack");
            let mut idx: Vec<PathBuf> = match std::fs::read_dir(&pack_dir) {
                Ok(rd) => rd
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "idx"))
                    .collect(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(e) => return Err(anyhow!("cannot list {}: {e}", pack_dir.display())),
            };
            idx.sort();
            for path in idx {
                let bundle = pack::Bundle::at(&path, gix::hash::Kind::Sha1)
                    .map_err(|e| anyhow!("cannot open pack {}: {e}", path.display()))?;
                packs.push(bundle);
            }
            loose.push(gix::odb::loose::Store::at(dir, gix::hash::Kind::Sha1));
        }
        let packed_objects = packs.iter().map(|b| b.index.num_objects() as u64).sum();
        Ok(Stores {
            packs,
            loose,
            packed_objects,
            limit: u64::MAX,
        })
    }

    /// Objects over `limit` bytes are reported in [`Traversal::oversized`]
    /// instead of being read: their sizes come from their headers, and a
    /// delta built on one is left out too (reading it would inflate it).
    pub fn with_limit(mut self, limit: u64) -> Self {
        self.limit = limit;
        self
    }

    /// The size limit per object ([`Stores::with_limit`]).
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Whether there are loose objects, or stores borrowed from elsewhere
    /// (where objects can go missing without a pack failing to read).
    pub fn has_loose_or_alternates(&self) -> bool {
        self.loose.len() > 1 || self.loose.iter().any(|s| s.iter().next().is_some())
    }

    /// Whether any store holds `id` (without reading it).
    pub fn contains(&self, id: &gix::hash::oid) -> bool {
        self.packs.iter().any(|b| b.index.lookup(id).is_some())
            || self.loose.iter().any(|s| s.contains(id))
    }

    /// Whether a pack before `pack_no` already holds `id`.
    fn in_earlier_pack(&self, pack_no: usize, id: &gix::hash::oid) -> bool {
        self.packs[..pack_no]
            .iter()
            .any(|b| b.index.lookup(id).is_some())
    }

    /// Calls `f(kind, id, data)` once for every distinct object, in
    /// parallel (blobs are counted in `counters`), trees excepted: those are
    /// only located, for [`Stores::for_each_tree`]. A delta is of its base's
    /// kind, so the trees and the rest are two separate sets of delta chains,
    /// and neither pass decodes the other's.
    pub fn for_each_object(
        &self,
        repo: &gix::Repository,
        counters: &Counters,
        f: &(dyn Fn(Kind, ObjectId, &[u8]) + Sync),
    ) -> Traversal {
        self.for_each_object_with(repo, counters, &|o| f(o.kind, o.id, o.data))
    }

    /// [`Stores::for_each_object`], telling which packed objects were
    /// rebuilt from which base: see [`Object`].
    pub fn for_each_object_with(
        &self,
        repo: &gix::Repository,
        counters: &Counters,
        f: &(dyn Fn(&Object<'_>) + Sync),
    ) -> Traversal {
        let by_id_f = |kind, id, data: &[u8]| {
            f(&Object {
                kind,
                id,
                data,
                key: None,
                base: None,
            })
        };
        let by_id_f: &(dyn Fn(Kind, ObjectId, &[u8]) + Sync) = &by_id_f;
        let errors = Mutex::new(Vec::new());
        let mut notes = Vec::new();
        let by_id = Mutex::new(Vec::new());
        let mut oversized = Vec::new();
        let mut packed = Vec::new();
        for (pack_no, bundle) in self.packs.iter().enumerate() {
            // What a traversal that fails half-way handed over already.
            let handed = KeySet::new(bundle.index.num_objects() as usize);
            let traversed = self.first_pass_of(pack_no, counters, &handed, f);
            match traversed {
                Ok((trees, over)) => {
                    packed.push(trees);
                    oversized.extend(over);
                }
                Err(e) => {
                    // A damaged pack: read it object by object.
                    notes.push(format!(
                        "pack {} could not be traversed ({e}); reading it object by object",
                        bundle.pack.path().display()
                    ));
                    packed.push(Vec::new());
                    let read = ByObject {
                        counters,
                        f: by_id_f,
                        errors: &errors,
                        trees: &by_id,
                    };
                    oversized.extend(self.read_pack_by_object(repo, pack_no, &read, &handed));
                }
            }
        }
        let read = ByObject {
            counters,
            f: by_id_f,
            errors: &errors,
            trees: &by_id,
        };
        oversized.extend(self.read_loose(&read));
        Traversal {
            errors: errors.into_inner().unwrap(),
            notes,
            oversized,
            trees: TreeLocations {
                packed,
                by_id: by_id.into_inner().unwrap(),
            },
        }
    }

    /// Pack `pack_no`'s objects but its trees handed to `f` (and added to
    /// `handed`), along their delta chains; its trees located, and its
    /// objects over the limit set apart.
    fn first_pass_of(
        &self,
        pack_no: usize,
        counters: &Counters,
        handed: &KeySet,
        f: &(dyn Fn(&Object<'_>) + Sync),
    ) -> Result<(Vec<Slot>, Vec<Oversized>), String> {
        let slots = classify(&self.packs[pack_no], self.limit)?;
        let oversized = self.oversized(pack_no, &slots);
        let trees = kept(&slots, |s| s.over == 0 && s.kind == Kind::Tree)?;
        let rest = kept(&slots, |s| s.over == 0 && s.kind != Kind::Tree)?;
        drop(slots);
        counters
            .objects
            .fetch_add(trees.len() as u64, Ordering::Relaxed);
        let first_key = self.first_key(pack_no);
        self.traverse(pack_no, &rest, &|o| {
            handed.add(o.key.expect("packed") - first_key);
            counters.objects.fetch_add(1, Ordering::Relaxed);
            if pack_no > 0 && self.in_earlier_pack(pack_no, &o.id) {
                return;
            }
            if o.kind == Kind::Blob {
                counters.blobs.fetch_add(1, Ordering::Relaxed);
                counters
                    .bytes
                    .fetch_add(o.data.len() as u64, Ordering::Relaxed);
            }
            f(o);
        })?;
        Ok((trees, oversized))
    }

    /// Calls `f(id, data)` once for every distinct tree of `trees`, in
    /// parallel. Only the trees' own delta chains are decoded. A pack that
    /// cannot be traversed so is read tree by tree.
    pub fn for_each_tree(
        &self,
        repo: &gix::Repository,
        trees: &TreeLocations,
        f: &(dyn Fn(ObjectId, &[u8]) + Sync),
    ) -> Vec<String> {
        let errors = Mutex::new(Vec::new());
        for (pack_no, slots) in trees.packed.iter().enumerate() {
            if slots.is_empty() {
                continue;
            }
            let hand_over = |id: &ObjectId| pack_no == 0 || !self.in_earlier_pack(pack_no, id);
            let hand_over_trees = |o: &Object<'_>| {
                if o.kind == Kind::Tree && hand_over(&o.id) {
                    f(o.id, o.data)
                }
            };
            let traversed = self.traverse(pack_no, slots, &hand_over_trees);
            if traversed.is_err() {
                // A damaged pack.
                let index = &self.packs[pack_no].index;
                let ids: Vec<ObjectId> = slots
                    .iter()
                    .map(|s| index.oid_at_index(s.index).to_owned())
                    .filter(|id| hand_over(id))
                    .collect();
                read_trees_by_id(repo, &ids, f, &errors);
            }
        }
        read_trees_by_id(repo, &trees.by_id, f, &errors);
        errors.into_inner().unwrap()
    }

    /// Decodes the entries `slots` (sorted by offset, every delta's base
    /// among them) along their delta chains on all cores, calling `f` for
    /// each.
    fn traverse(
        &self,
        pack_no: usize,
        slots: &[Slot],
        f: &(dyn Fn(&Object<'_>) + Sync),
    ) -> Result<(), String> {
        let first_key = self.first_key(pack_no);
        let bundle = &self.packs[pack_no];
        let key = |slot: &Slot| first_key + slot.index as usize;
        let chains = delta::Chains::new(slots);
        let walk = delta::Walk {
            pack: &bundle.pack,
            slots,
            chains: &chains,
            limit: self.limit,
        };
        walk.run(&|d| {
            let slot = &slots[d.at];
            f(&Object {
                kind: slot.kind,
                id: bundle.index.oid_at_index(slot.index).to_owned(),
                data: d.data,
                key: Some(key(slot)),
                base: d.copied.map(|copied| Base {
                    key: key(&slots[slot.parent as usize]),
                    copied,
                }),
            })
        })
    }

    /// The [`Object::key`] of the first object of pack `pack_no`.
    fn first_key(&self, pack_no: usize) -> usize {
        (self.packs[..pack_no].iter())
            .map(|b| b.index.num_objects() as usize)
            .sum()
    }

    /// Every tree that `trees` locates, by id.
    pub fn tree_ids(&self, trees: &TreeLocations) -> Vec<ObjectId> {
        let packed = trees
            .packed
            .iter()
            .enumerate()
            .flat_map(|(pack_no, slots)| {
                let index = &self.packs[pack_no].index;
                slots.iter().map(|s| index.oid_at_index(s.index).to_owned())
            });
        packed.chain(trees.by_id.iter().copied()).collect()
    }

    /// Maps every pack afresh, so that the pages the last pass read no
    /// longer count against this process (they stay in the page cache).
    pub fn release_pages(&mut self) -> Result<()> {
        for bundle in &mut self.packs {
            let path = bundle.index.path().to_path_buf();
            *bundle = pack::Bundle::at(&path, gix::hash::Kind::Sha1)
                .map_err(|e| anyhow!("cannot open pack {}: {e}", path.display()))?;
        }
        Ok(())
    }

    /// The pack's objects over the limit (from [`classify`]).
    fn oversized(&self, pack_no: usize, slots: &[Slot]) -> Vec<Oversized> {
        let index = &self.packs[pack_no].index;
        (slots.iter().filter(|s| s.over > 0))
            .map(|s| Oversized {
                id: index.oid_at_index(s.index).to_owned(),
                kind: Some(s.kind),
                size: s.over,
            })
            .filter(|o| !(pack_no > 0 && self.in_earlier_pack(pack_no, &o.id)))
            .collect()
    }

    /// A pack read one object at a time (damaged), but for what `handed`
    /// holds: each object's size is read from its header first.
    fn read_pack_by_object(
        &self,
        repo: &gix::Repository,
        pack_no: usize,
        read: &ByObject<'_>,
        handed: &KeySet,
    ) -> Vec<Oversized> {
        use gix::prelude::Find;
        let mut oversized = Vec::new();
        let mut buf = Vec::new();
        for (place, entry) in self.packs[pack_no].index.iter().enumerate() {
            let id = entry.oid;
            if handed.has(place) || (pack_no > 0 && self.in_earlier_pack(pack_no, &id)) {
                continue;
            }
            read.counters.objects.fetch_add(1, Ordering::Relaxed);
            match header(&repo.objects, &id) {
                Ok(Some((kind, size))) if size > self.limit => {
                    let kind = Some(kind);
                    oversized.push(Oversized { id, kind, size });
                    continue;
                }
                Ok(_) => {}
                Err(e) => {
                    read.error(format!("object {id} cannot be read: {e}"));
                    continue;
                }
            }
            match repo.objects.try_find(&id, &mut buf) {
                Ok(Some(data)) => read.handle(data.kind, id, data.data),
                Ok(None) => read.error(format!("object {id} cannot be found")),
                Err(e) => read.error(format!("object {id} cannot be read: {e}")),
            }
        }
        oversized
    }

    fn read_loose(&self, read: &ByObject<'_>) -> Vec<Oversized> {
        let oversized = Mutex::new(Vec::new());
        for (store_no, store) in self.loose.iter().enumerate() {
            let ids: Vec<ObjectId> = store.iter().filter_map(|r| r.ok()).collect();
            ids.par_iter().for_each_init(Vec::new, |buf, id| {
                if self.packs.iter().any(|b| b.index.lookup(id).is_some())
                    || self.loose[..store_no].iter().any(|s| s.contains(id))
                {
                    return;
                }
                read.counters.objects.fetch_add(1, Ordering::Relaxed);
                match store.try_header(id) {
                    Ok(Some((size, kind))) if size > self.limit => {
                        let (id, kind) = (*id, Some(kind));
                        oversized.lock().unwrap().push(Oversized { id, kind, size });
                        return;
                    }
                    Ok(_) => {}
                    Err(e) => return read.error(format!("loose object {id} cannot be read: {e}")),
                }
                match store.try_find(id, buf) {
                    Ok(Some(data)) => read.handle(data.kind, *id, data.data),
                    Ok(None) => {}
                    Err(e) => read.error(format!("loose object {id} cannot be read: {e}")),
                }
            });
        }
        oversized.into_inner().unwrap()
    }
}

/// An object that was not read because of the size limit per object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Oversized {
    pub id: ObjectId,
    pub kind: Option<Kind>,
    /// The bytes reading it would hold at once: its own size, or that of
    /// the over-limit object it is a delta of.
    pub size: u64,
}

/// An object's kind and size from its header, without inflating it.
fn header(store: &impl gix::odb::Header, id: &ObjectId) -> Result<Option<(Kind, u64)>, String> {
    store
        .try_header(id)
        .map(|h| h.map(|h| (h.kind(), h.size())))
        .map_err(|e| e.to_string())
}

/// One object handed over by a traversal.
pub struct Object<'a> {
    pub kind: Kind,
    pub id: ObjectId,
    pub data: &'a [u8],
    /// A number for a packed object, unique among all the stores' packs
    /// (below [`Stores::packed_objects`]).
    pub key: Option<usize>,
    /// For an object rebuilt from a delta: its base, handed over before it.
    pub base: Option<Base<'a>>,
}

/// The delta base of an object, and what the delta took from it.
pub struct Base<'a> {
    /// The base's [`Object::key`].
    pub key: usize,
    /// The ranges of the object that were copied from the base, each by one
    /// delta instruction, in order. Everything else of the object is new.
    pub copied: &'a [std::ops::Range<usize>],
}

/// The result of the git delta `delta` on `base`, and the ranges of it
/// copied from `base`. For the fuzz target.
#[doc(hidden)]
pub fn apply_delta(
    base: &[u8],
    delta: &[u8],
) -> Result<(Vec<u8>, Vec<std::ops::Range<usize>>), &'static str> {
    let (mut out, mut copied) = (Vec::new(), Vec::new());
    delta::apply(base, delta, 1 << 24, &mut out, &mut copied)?;
    Ok((out, copied))
}

/// One entry of a pack: where it is, its place in the pack's index, and
/// its kind (a delta's is its base's).
#[derive(Debug, Clone, Copy)]
pub struct Slot {
    offset: u64,
    index: u32,
    /// The place of its delta base in the same list of slots
    /// ([`NOT_WANTED`]: none).
    parent: u32,
    kind: Kind,
    /// Over the size limit (itself, or a delta built on such an object):
    /// the size it would take to read it; 0 otherwise.
    over: u64,
}

/// No slot: the parent of an entry that is no delta.
const NOT_WANTED: u32 = u32::MAX;

/// Every entry of `bundle`'s pack, sorted by offset, with its kind (and
/// whether it is over `limit`, or a delta of one that is), from
/// the entry headers alone: an offset delta's base comes before it, so one
/// pass in pack order knows every kind; a ref delta whose base comes later
/// waits for it.
fn classify(bundle: &pack::Bundle, limit: u64) -> Result<Vec<Slot>, String> {
    let index = &bundle.index;
    let mut slots: Vec<Slot> = (0..index.num_objects())
        .map(|i| Slot {
            offset: index.pack_offset_at_index(i),
            index: i,
            parent: NOT_WANTED,
            kind: Kind::Blob,
            over: 0,
        })
        .collect();
    slots.sort_unstable_by_key(|s| s.offset);
    let headers = read_headers(bundle, &slots)?;
    // (entry, its base) for deltas whose base's kind is not known yet.
    let mut later: Vec<(usize, usize)> = Vec::new();
    let mut waiting = vec![false; slots.len()];
    for (i, (header, size)) in headers.into_iter().enumerate() {
        if size > limit {
            slots[i].over = size;
        }
        let base = match header {
            EntryHeader::Whole(kind) => {
                slots[i].kind = kind;
                continue;
            }
            EntryHeader::DeltaOn(base) => base as usize,
        };
        slots[i].parent = base as u32;
        // A base before this entry may itself still wait for a later base.
        if base < i && !waiting[base] {
            slots[i].kind = slots[base].kind;
            slots[i].over = slots[i].over.max(slots[base].over);
        } else {
            waiting[i] = true;
            later.push((i, base));
        }
    }
    // Ref deltas on later bases, possibly chained: settle what can be.
    while !later.is_empty() {
        let before = later.len();
        later.retain(|&(i, base)| {
            if waiting[base] {
                return true;
            }
            slots[i].kind = slots[base].kind;
            slots[i].over = slots[i].over.max(slots[base].over);
            waiting[i] = false;
            false
        });
        if later.len() == before {
            return Err("ref deltas in a cycle".to_string());
        }
    }
    Ok(slots)
}

/// What an entry's header says it is.
#[derive(Clone, Copy)]
enum EntryHeader {
    Whole(Kind),
    /// A delta on the entry at this place of the slots.
    DeltaOn(u32),
}

/// The header of every entry of `slots` (sorted by offset) and the size it
/// declares, read in stretches on all cores. The headers are read, not
/// mapped, so that this pass does not keep the pack's pages.
fn read_headers(bundle: &pack::Bundle, slots: &[Slot]) -> Result<Vec<(EntryHeader, u64)>, String> {
    const STRETCH: usize = 1 << 15;
    let mut headers = vec![(EntryHeader::Whole(Kind::Blob), 0); slots.len()];
    (slots.par_chunks(STRETCH))
        .zip(headers.par_chunks_mut(STRETCH))
        .try_for_each(|(stretch, out)| read_stretch(bundle, slots, stretch, out))?;
    Ok(headers)
}

/// The headers of `stretch`, a run of `slots`, into `out`.
fn read_stretch(
    bundle: &pack::Bundle,
    slots: &[Slot],
    stretch: &[Slot],
    out: &mut [(EntryHeader, u64)],
) -> Result<(), String> {
    use pack::data::entry::Header;
    let index = &bundle.index;
    let file = std::fs::File::open(bundle.pack.path()).map_err(|e| e.to_string())?;
    let mut r = std::io::BufReader::with_capacity(64 * 1024, file);
    let mut at = 0u64;
    for (slot, out) in stretch.iter().zip(out) {
        let offset = slot.offset;
        r.seek_relative(offset as i64 - at as i64)
            .map_err(|e| e.to_string())?;
        let entry = pack::data::Entry::from_read(&mut r, offset, 20).map_err(|e| e.to_string())?;
        at = offset + entry.header_size() as u64;
        let base = match entry.header {
            Header::OfsDelta { base_distance } => entry
                .checked_base_pack_offset(base_distance)
                .and_then(|o| position(slots, o)),
            Header::RefDelta { base_id } => index
                .lookup(base_id)
                .and_then(|b| position(slots, index.pack_offset_at_index(b))),
            _ => {
                let kind = entry.header.as_kind().expect("not a delta");
                *out = (EntryHeader::Whole(kind), entry.decompressed_size);
                continue;
            }
        };
        let Some(base) = base else {
            return Err(format!(
                "the delta base of the entry at {offset} is not in the pack"
            ));
        };
        *out = (EntryHeader::DeltaOn(base as u32), entry.decompressed_size);
    }
    Ok(())
}

/// The slots `keep` accepts, their delta bases renumbered among them; fails
/// if a base of one of them is left out.
fn kept(slots: &[Slot], keep: impl Fn(&Slot) -> bool) -> Result<Vec<Slot>, String> {
    let mut place = vec![NOT_WANTED; slots.len()];
    let mut out = Vec::new();
    for (at, slot) in slots.iter().enumerate().filter(|(_, s)| keep(s)) {
        place[at] = out.len() as u32;
        out.push(*slot);
    }
    for slot in out.iter_mut().filter(|s| s.parent != NOT_WANTED) {
        slot.parent = place[slot.parent as usize];
        if slot.parent == NOT_WANTED {
            return Err(format!(
                "the delta base of the entry at {} is not among its kind",
                slot.offset
            ));
        }
    }
    Ok(out)
}

/// Where the entry at `offset` is in `slots`.
fn position(slots: &[Slot], offset: u64) -> Option<usize> {
    slots.binary_search_by_key(&offset, |s| s.offset).ok()
}

/// Where the trees are, found by [`Stores::for_each_object`].
#[derive(Debug, Default)]
pub struct TreeLocations {
    /// Per pack, every tree in it.
    packed: Vec<Vec<Slot>>,
    /// Trees that were read one by one (loose, or in a damaged pack).
    by_id: Vec<ObjectId>,
}

/// What a traversal of every object leaves behind.
#[derive(Debug, Default)]
pub struct Traversal {
    /// What could not be read, a line each.
    pub errors: Vec<String>,
    /// Packs read object by object, their objects all read unless `errors`
    /// says otherwise.
    pub notes: Vec<String>,
    /// Objects over the size limit per object: never read.
    pub oversized: Vec<Oversized>,
    pub trees: TreeLocations,
}

/// A set of packed objects, by number (an [`Object::key`], or a place in
/// one pack's index), that threads add to at once.
pub struct KeySet(Vec<AtomicU64>);

impl KeySet {
    /// An empty set of numbers below `len`.
    pub fn new(len: usize) -> Self {
        KeySet((0..len.div_ceil(64)).map(|_| AtomicU64::new(0)).collect())
    }

    /// Adds `key`; one out of range is not kept.
    pub fn add(&self, key: usize) {
        if let Some(word) = self.0.get(key / 64) {
            word.fetch_or(1 << (key % 64), Ordering::Relaxed);
        }
    }

    pub fn has(&self, key: usize) -> bool {
        (self.0.get(key / 64)).is_some_and(|w| w.load(Ordering::Relaxed) & (1 << (key % 64)) != 0)
    }
}

/// What reading objects one by one hands its results to.
struct ByObject<'a> {
    counters: &'a Counters,
    f: &'a (dyn Fn(Kind, ObjectId, &[u8]) + Sync),
    errors: &'a Mutex<Vec<String>>,
    trees: &'a Mutex<Vec<ObjectId>>,
}

impl ByObject<'_> {
    /// One object read by id: counted, handed over, a tree remembered.
    fn handle(&self, kind: Kind, id: ObjectId, data: &[u8]) {
        match kind {
            Kind::Blob => {
                self.counters.blobs.fetch_add(1, Ordering::Relaxed);
                self.counters
                    .bytes
                    .fetch_add(data.len() as u64, Ordering::Relaxed);
            }
            Kind::Tree => self.trees.lock().unwrap().push(id),
            _ => {}
        }
        (self.f)(kind, id, data);
    }

    fn error(&self, line: String) {
        self.errors.lock().unwrap().push(line);
    }
}

fn read_trees_by_id(
    repo: &gix::Repository,
    ids: &[ObjectId],
    f: &(dyn Fn(ObjectId, &[u8]) + Sync),
    errors: &Mutex<Vec<String>>,
) {
    use gix::prelude::Find;
    // One by one: a gix::Repository is not shared between threads. This is
    // the path for loose trees and damaged packs, not the common one.
    let mut buf = Vec::new();
    for id in ids {
        match repo.objects.try_find(id, &mut buf) {
            Ok(Some(data)) if data.kind == Kind::Tree => f(*id, data.data),
            Ok(_) => {}
            Err(e) => errors
                .lock()
                .unwrap()
                .push(format!("tree {id} cannot be read: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) {
        let out = Command::new("git")
            .args(["-c", "user.name=T", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(dir)
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {out:?}");
    }

    /// A repository of 40 commits over 4 folders, packed so that tree
    /// versions and file versions are deltas of one another.
    fn packed_history() -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        git(dir, &["init", "-q"]);
        for i in 0..40 {
            let sub = dir.join(format!("d{}", i % 4));
            std::fs::create_dir_all(&sub).unwrap();
            for j in 0..30 {
                // Versions of a file share most lines: blob deltas.
                let body: String = (0..40).map(|k| format!("line {k} of f{j}\n")).collect();
                std::fs::write(sub.join(format!("f{j}")), format!("{body}{i} {j}\n")).unwrap();
            }
            git(dir, &["add", "-A"]);
            git(dir, &["commit", "-qm", &format!("c{i}")]);
        }
        git(dir, &["repack", "-adq", "--depth=50", "--window=50"]);
        tmp
    }

    /// The packed history's repository, stores, and a first pass over it.
    fn first_pass(tmp: &tempfile::TempDir) -> (gix::Repository, Stores, Traversal) {
        let repo = gix::open(tmp.path()).unwrap();
        let stores = Stores::open(&tmp.path().join(".git/objects")).unwrap();
        let traversal = stores.for_each_object(&repo, &Counters::default(), &|_, _, _| {});
        assert!(traversal.errors.is_empty(), "{:?}", traversal.errors);
        (repo, stores, traversal)
    }

    fn id_of(stores: &Stores, slot: &Slot) -> ObjectId {
        stores.packs[0].index.oid_at_index(slot.index).to_owned()
    }

    /// The first pass hands over every object but the trees, once each,
    /// with its kind; the trees are located, each once.
    #[test]
    fn first_pass_hands_over_all_but_trees_which_it_locates() {
        let tmp = packed_history();
        let repo = gix::open(tmp.path()).unwrap();
        let stores = Stores::open(&tmp.path().join(".git/objects")).unwrap();
        let got = Mutex::new(Vec::new());
        let traversal = stores.for_each_object(&repo, &Counters::default(), &|kind, id, data| {
            let hashed = gix::objs::compute_hash(gix::hash::Kind::Sha1, kind, data).unwrap();
            assert_eq!(hashed, id);
            got.lock().unwrap().push((id, kind));
        });
        assert!(traversal.errors.is_empty(), "{:?}", traversal.errors);
        let mut got = got.into_inner().unwrap();
        got.extend(
            traversal.trees.packed[0]
                .iter()
                .map(|s| (id_of(&stores, s), s.kind)),
        );
        got.sort();
        let out = Command::new("git")
            .args(["cat-file", "--batch-all-objects", "--batch-check"])
            .current_dir(tmp.path())
            .output()
            .unwrap();
        let mut want: Vec<(ObjectId, Kind)> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| {
                let mut f = l.split(' ');
                let id = ObjectId::from_hex(f.next().unwrap().as_bytes()).unwrap();
                (id, Kind::from_bytes(f.next().unwrap().as_bytes()).unwrap())
            })
            .collect();
        want.sort();
        assert!(want.iter().filter(|(_, k)| *k == Kind::Tree).count() >= 80);
        assert_eq!(got, want);
        // The trees it locates, by id (what pre-receive asks of a quarantine).
        let mut trees = stores.tree_ids(&traversal.trees);
        trees.sort();
        let want_trees: Vec<ObjectId> = (want.iter())
            .filter(|(_, k)| *k == Kind::Tree)
            .map(|(id, _)| *id)
            .collect();
        assert_eq!(trees, want_trees);
    }

    /// Every object rebuilt from a delta names its base, handed over
    /// before it, and what it says was copied from the base is in the base.
    #[test]
    fn deltas_name_their_base_and_what_they_copied() {
        let tmp = packed_history();
        let repo = gix::open(tmp.path()).unwrap();
        let stores = Stores::open(&tmp.path().join(".git/objects")).unwrap();
        let seen: Mutex<HashMap<usize, Vec<u8>>> = Mutex::new(HashMap::new());
        let deltas = AtomicU64::new(0);
        let traversal = stores.for_each_object_with(&repo, &Counters::default(), &|o| {
            let key = o.key.expect("packed");
            if let Some(base) = &o.base {
                let copied = base.copied;
                let seen = seen.lock().unwrap();
                let from = &seen[&base.key];
                let mut end = 0;
                for r in copied.iter().cloned() {
                    assert!(r.start >= end && r.end <= o.data.len());
                    let part = &o.data[r.clone()];
                    assert!(from.windows(part.len()).any(|w| w == part));
                    end = r.end;
                }
                deltas.fetch_add(1, Ordering::Relaxed);
            }
            seen.lock().unwrap().insert(key, o.data.to_vec());
        });
        assert!(traversal.errors.is_empty());
        assert!(deltas.into_inner() > 10);
    }

    /// A delta whose data is damaged stops the traversal; the pack is then
    /// read object by object: every object that can be read is handed over,
    /// and each that cannot is named.
    #[test]
    fn a_damaged_delta_sends_its_pack_to_reading_object_by_object() {
        let tmp = packed_history();
        let stores = Stores::open(&tmp.path().join(".git/objects")).unwrap();
        let slots = classify(&stores.packs[0], u64::MAX).unwrap();
        let total = slots.len();
        let (at, victim) = (slots.iter().enumerate().rev())
            .find(|(_, s)| s.kind == Kind::Blob && s.parent != NOT_WANTED)
            .expect("a blob delta");
        let victim_id = id_of(&stores, victim);
        let data_at = stores.packs[0]
            .pack
            .entry(victim.offset)
            .unwrap()
            .data_offset as usize;
        let path = stores.packs[0].pack.path().to_owned();
        drop(stores);
        let mut bytes = std::fs::read(&path).unwrap();
        let end = slots
            .get(at + 1)
            .map_or(bytes.len() - 20, |s| s.offset as usize);
        // After the zlib header: a block of the reserved type.
        bytes[data_at + 2..end].fill(0xff);
        let mut permissions = std::fs::metadata(&path).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        permissions.set_readonly(false);
        std::fs::set_permissions(&path, permissions).unwrap();
        std::fs::write(&path, bytes).unwrap();

        let repo = gix::open(tmp.path()).unwrap();
        let stores = Stores::open(&tmp.path().join(".git/objects")).unwrap();
        let got = Mutex::new(Vec::new());
        let traversal = stores.for_each_object(&repo, &Counters::default(), &|_, id, _| {
            got.lock().unwrap().push(id)
        });
        assert!(
            (traversal.notes.iter()).any(|n| n.contains("could not be traversed")),
            "{:?}",
            traversal.notes
        );
        let named = |id: &ObjectId| traversal.errors.iter().any(|e| e.contains(&id.to_string()));
        assert!(named(&victim_id), "{:?}", traversal.errors);
        let got = got.into_inner().unwrap();
        assert!(!got.contains(&victim_id));
        assert_eq!(got.len() + traversal.errors.len(), total);
    }

    #[test]
    fn trees_alone_decode_like_reading_each_tree() {
        let tmp = packed_history();
        let (repo, stores, traversal) = first_pass(&tmp);
        let slots = &traversal.trees.packed[0];
        assert!(slots.len() >= 80, "{} trees", slots.len());

        let got = Mutex::new(HashMap::new());
        stores
            .traverse(0, slots, &|o| {
                assert_eq!(o.kind, Kind::Tree);
                got.lock().unwrap().insert(o.id, o.data.to_vec());
            })
            .expect("the trees-only traversal works on a git-written pack");
        let got = got.into_inner().unwrap();
        assert_eq!(got.len(), slots.len());
        let mut buf = Vec::new();
        for slot in slots {
            use gix::prelude::Find;
            let id = id_of(&stores, slot);
            let want = repo.objects.try_find(&id, &mut buf).unwrap().unwrap();
            assert_eq!(want.kind, Kind::Tree);
            assert_eq!(got[&id], want.data, "tree {id}");
        }
    }

    /// A tree whose delta base is not among the trees (here: left out of
    /// the list) makes the fast path fail; every tree asked for is still
    /// handed over, read one by one.
    #[test]
    fn trees_fall_back_to_reading_one_by_one() {
        let tmp = packed_history();
        let (repo, stores, traversal) = first_pass(&tmp);
        let all = &traversal.trees.packed[0];
        // Leave out every base: only deltas remain, so their bases are missing.
        assert!(kept(all, |s| s.parent != NOT_WANTED).is_err());
        // Deltas each made its own base: none is reached.
        let deltas: Vec<Slot> = (all.iter().filter(|s| s.parent != NOT_WANTED))
            .enumerate()
            .map(|(at, s)| Slot {
                parent: at as u32,
                ..*s
            })
            .collect();
        assert!(!deltas.is_empty() && deltas.len() < all.len());
        assert!(stores.traverse(0, &deltas, &|_| {}).is_err());

        let locations = TreeLocations {
            packed: vec![deltas.clone()],
            by_id: Vec::new(),
        };
        let got = Mutex::new(Vec::new());
        let errors = stores.for_each_tree(&repo, &locations, &|id, data| {
            let hashed = gix::objs::compute_hash(gix::hash::Kind::Sha1, Kind::Tree, data).unwrap();
            assert_eq!(hashed, id);
            got.lock().unwrap().push(id);
        });
        assert!(errors.is_empty(), "{errors:?}");
        let mut got = got.into_inner().unwrap();
        got.sort();
        let mut want: Vec<ObjectId> = deltas.iter().map(|s| id_of(&stores, s)).collect();
        want.sort();
        assert_eq!(got, want);
    }
}
