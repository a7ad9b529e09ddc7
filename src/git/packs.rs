//! Every object in a repository's object stores, each read once.
//!
//! Packs are decoded in pack order with gitoxide's delta-tree traversal: each
//! delta base is inflated once and its deltas applied to it in memory, on all
//! cores. Reading object by object instead re-inflates shared bases again and
//! again (libgit2 is ~8x slower on git's own pack). Loose objects are read
//! after the packs. An object that is in several stores belongs to the first
//! one that holds it, so it is handed over once.
//!
//! A second pass can decode the trees alone ([`Stores::for_each_tree`]), for
//! work that needs to know what the first pass found in the blobs.
//!
//! This yields objects no ref reaches too; the history door decides what is
//! reachable from its walk of the commit graph.

use super::oversized::{self, Oversized, PackLimits};
use super::ObjectId;
use anyhow::{anyhow, Result};
use gix::objs::Kind;
use gix::odb::pack;
use rayon::prelude::*;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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
    /// instead of being read: found from their headers, never inflated.
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

    /// Calls `blob(id, data)` once for every distinct blob, in parallel.
    /// Objects that cannot be decoded or are over the limit are returned
    /// after everything else was read.
    pub fn for_each_blob(
        &self,
        repo: &gix::Repository,
        counters: &Counters,
        blob: &(dyn Fn(ObjectId, &[u8]) + Sync),
    ) -> Traversal {
        self.for_each_object(repo, counters, &|kind, id, data| {
            if kind == Kind::Blob {
                blob(id, data)
            }
        })
    }

    /// Calls `f(kind, id, data)` once for every distinct object, in
    /// parallel (blobs are counted in `counters`). Also says where the
    /// trees are, for [`Stores::for_each_tree`], and which objects were
    /// over the size limit and so never read.
    pub fn for_each_object(
        &self,
        repo: &gix::Repository,
        counters: &Counters,
        f: &(dyn Fn(Kind, ObjectId, &[u8]) + Sync),
    ) -> Traversal {
        let errors = Mutex::new(Vec::new());
        let by_id = Mutex::new(Vec::new());
        let mut oversized = Vec::new();
        let mut packed = Vec::new();
        for pack_no in 0..self.packs.len() {
            let shared = pack_no > 0;
            let trees = Mutex::new(Vec::new());
            let processor = |kind: Kind, offset: u64, id: ObjectId, data: &[u8]| {
                counters.objects.fetch_add(1, Ordering::Relaxed);
                if kind == Kind::Tree {
                    // Every tree of the pack: a tree another pack hands over
                    // may still be the delta base of one this pack does.
                    trees.lock().unwrap().push((offset, id));
                }
                if !(shared && self.in_earlier_pack(pack_no, &id)) {
                    if kind == Kind::Blob {
                        counters.blobs.fetch_add(1, Ordering::Relaxed);
                        counters
                            .bytes
                            .fetch_add(data.len() as u64, Ordering::Relaxed);
                    }
                    f(kind, id, data);
                }
            };
            let limits = match oversized::in_pack(&self.packs[pack_no], self.limit) {
                Ok(limits) => limits,
                Err(e) => {
                    errors.lock().unwrap().push(e);
                    PackLimits::default()
                }
            };
            oversized.extend(
                limits
                    .found
                    .iter()
                    .filter(|o| !(shared && self.in_earlier_pack(pack_no, &o.id)))
                    .cloned(),
            );
            let outcome = if limits.skip.is_empty() {
                self.traverse_pack(pack_no, &processor)
            } else if limits.skip.contains(&FIRST_ENTRY) {
                Err("its first object is over the size limit".to_string())
            } else {
                self.traverse_listed(
                    pack_no,
                    self.entries_except(pack_no, &limits.skip),
                    &processor,
                )
            };
            match outcome {
                Ok(()) => packed.push(trees.into_inner().unwrap()),
                Err(e) => {
                    if !limits.skip.contains(&FIRST_ENTRY) {
                        // A damaged pack: read what can be read of it object by object.
                        errors.lock().unwrap().push(format!(
                            "pack {} could not be traversed ({e}); reading it object by object",
                            self.packs[pack_no].pack.path().display()
                        ));
                    }
                    packed.push(Vec::new());
                    let read = ByObject {
                        counters,
                        f,
                        errors: &errors,
                        trees: &by_id,
                    };
                    oversized.extend(self.read_pack_by_object(repo, pack_no, &limits, &read));
                }
            }
        }
        oversized.extend(self.read_loose(counters, f, &errors, &by_id));
        Traversal {
            errors: errors.into_inner().unwrap(),
            oversized,
            trees: TreeLocations {
                packed,
                by_id: by_id.into_inner().unwrap(),
            },
        }
    }

    /// The whole pack, by gitoxide's traversal of its index.
    fn traverse_pack(&self, pack_no: usize, processor: &PackProcessor) -> Result<(), String> {
        let bundle = &self.packs[pack_no];
        let interrupt = AtomicBool::new(false);
        bundle
            .index
            .traverse_with_index(
                &bundle.pack,
                |kind, data, entry: &pack::index::Entry, _: &dyn gix::progress::Progress| {
                    processor(kind, entry.pack_offset, entry.oid, data);
                    Ok(())
                },
                &mut gix::progress::Discard,
                &interrupt,
                pack::index::traverse::with_index::Options {
                    thread_limit: Some(rayon::current_num_threads()),
                    check:
                        pack::index::traverse::SafetyCheck::SkipFileAndObjectChecksumVerification,
                    // A delta whose declared result is over the limit stops
                    // the traversal; the pack is then read object by object.
                    alloc_limit_bytes: self.alloc_limit(),
                },
            )
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// The pack's entries by offset, but for those at `skip`.
    fn entries_except(&self, pack_no: usize, skip: &HashSet<u64>) -> Vec<(u64, ObjectId)> {
        self.packs[pack_no]
            .index
            .iter()
            .filter(|e| !skip.contains(&e.pack_offset))
            .map(|e| (e.pack_offset, e.oid))
            .collect()
    }

    fn alloc_limit(&self) -> Option<usize> {
        (self.limit != u64::MAX).then(|| usize::try_from(self.limit).unwrap_or(usize::MAX))
    }

    /// Calls `f(id, data)` once for every distinct tree of `trees`, in
    /// parallel. Only the trees' own delta chains are decoded: git deltas a
    /// tree against trees only, so this is a fraction of the whole pack.
    /// A pack where that does not hold is read tree by tree.
    pub fn for_each_tree(
        &self,
        repo: &gix::Repository,
        trees: &TreeLocations,
        f: &(dyn Fn(ObjectId, &[u8]) + Sync),
    ) -> Vec<String> {
        let errors = Mutex::new(Vec::new());
        for (pack_no, entries) in trees.packed.iter().enumerate() {
            if entries.is_empty() {
                continue;
            }
            let hand_over = |id: &ObjectId| pack_no == 0 || !self.in_earlier_pack(pack_no, id);
            let traversed = self.traverse_trees(pack_no, entries, &|id, data| {
                if hand_over(&id) {
                    f(id, data)
                }
            });
            if traversed.is_err() {
                // A tree deltified against another kind, or a damaged pack.
                let ids: Vec<ObjectId> = entries
                    .iter()
                    .map(|(_, id)| *id)
                    .filter(|id| hand_over(id))
                    .collect();
                read_trees_by_id(repo, &ids, f, &errors);
            }
        }
        read_trees_by_id(repo, &trees.by_id, f, &errors);
        errors.into_inner().unwrap()
    }

    fn traverse_trees(
        &self,
        pack_no: usize,
        entries: &[(u64, ObjectId)],
        f: &(dyn Fn(ObjectId, &[u8]) + Sync),
    ) -> Result<(), String> {
        self.traverse_listed(pack_no, entries.to_vec(), &|kind, _, id, data| {
            if kind == Kind::Tree {
                f(id, data)
            }
        })
    }

    /// The listed entries of a pack (and those there were no need to list,
    /// as a delta's bases), by gitoxide's delta tree over just them. Fails
    /// when a delta's base is neither listed nor reachable.
    fn traverse_listed(
        &self,
        pack_no: usize,
        mut entries: Vec<(u64, ObjectId)>,
        processor: &PackProcessor<'_>,
    ) -> Result<(), String> {
        use pack::cache::delta::{traverse, Tree};
        let bundle = &self.packs[pack_no];
        entries.sort_unstable_by_key(|(offset, _)| *offset);
        // gitoxide reads the first header right after the pack's own
        // (12 bytes) without seeking: start the list with whatever object is
        // there, and hand over only the objects that were asked for.
        if entries
            .first()
            .is_none_or(|(offset, _)| *offset != FIRST_ENTRY)
        {
            entries.insert(0, (FIRST_ENTRY, ObjectId::null(gix::hash::Kind::Sha1)));
        }
        let interrupt = AtomicBool::new(false);
        let tree = Tree::from_offsets_in_pack(
            bundle.pack.path(),
            entries.into_iter(),
            &|(offset, _)| *offset,
            &|id| {
                Ok(bundle
                    .index
                    .lookup(id)
                    .map(|i| bundle.index.pack_offset_at_index(i)))
            },
            &mut gix::progress::Discard,
            &interrupt,
            gix::hash::Kind::Sha1,
        )
        .map_err(|e| e.to_string())?;
        tree.traverse(
            |slice, pack: &pack::data::File| pack.entry_slice(slice),
            &bundle.pack,
            bundle.pack.pack_end() as u64,
            |(offset, id): &mut (u64, ObjectId), _, ctx: traverse::Context<'_>| {
                if let (Some(kind), false) = (ctx.entry.header.as_kind(), id.is_null()) {
                    processor(kind, *offset, *id, ctx.decompressed);
                }
                Ok(())
            },
            traverse::Options {
                object_progress: Box::new(gix::progress::Discard),
                size_progress: &mut gix::progress::Discard,
                thread_limit: Some(rayon::current_num_threads()),
                should_interrupt: &interrupt,
                object_hash: gix::hash::Kind::Sha1,
                alloc_limit_bytes: self.alloc_limit(),
            },
        )
        .map_err(|e| e.to_string())?;
        Ok(())
    }

    /// A pack read one object at a time (damaged, or led by an object over
    /// the limit): each object's size is read from its header first.
    fn read_pack_by_object(
        &self,
        repo: &gix::Repository,
        pack_no: usize,
        limits: &PackLimits,
        read: &ByObject<'_>,
    ) -> Vec<Oversized> {
        use gix::prelude::Find;
        let bundle = &self.packs[pack_no];
        let mut oversized = Vec::new();
        let mut buf = Vec::new();
        for entry in bundle.index.iter() {
            let id = entry.oid;
            if limits.skip.contains(&entry.pack_offset)
                || (pack_no > 0 && self.in_earlier_pack(pack_no, &id))
            {
                continue;
            }
            read.counters.objects.fetch_add(1, Ordering::Relaxed);
            match header(&repo.objects, &id) {
                Ok(Some((kind, size))) if size > self.limit => {
                    oversized.push(Oversized {
                        id,
                        kind: Some(kind),
                        size,
                    });
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

    fn read_loose(
        &self,
        counters: &Counters,
        f: &(dyn Fn(Kind, ObjectId, &[u8]) + Sync),
        errors: &Mutex<Vec<String>>,
        trees: &Mutex<Vec<ObjectId>>,
    ) -> Vec<Oversized> {
        let read = ByObject {
            counters,
            f,
            errors,
            trees,
        };
        let oversized = Mutex::new(Vec::new());
        for (store_no, store) in self.loose.iter().enumerate() {
            let ids: Vec<ObjectId> = store.iter().filter_map(|r| r.ok()).collect();
            ids.par_iter().for_each_init(Vec::new, |buf, id| {
                if self.packs.iter().any(|b| b.index.lookup(id).is_some())
                    || self.loose[..store_no].iter().any(|s| s.contains(id))
                {
                    return;
                }
                counters.objects.fetch_add(1, Ordering::Relaxed);
                match store.try_header(id) {
                    Ok(Some((size, kind))) if size > self.limit => {
                        let kind = Some(kind);
                        oversized.lock().unwrap().push(Oversized {
                            id: *id,
                            kind,
                            size,
                        });
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

/// An object's kind and size from its header, without inflating it.
fn header(store: &impl gix::odb::Header, id: &ObjectId) -> Result<Option<(Kind, u64)>, String> {
    store
        .try_header(id)
        .map(|h| h.map(|h| (h.kind(), h.size())))
        .map_err(|e| e.to_string())
}

/// Takes each object of a pack: its kind, pack offset, id and data.
type PackProcessor<'a> = dyn Fn(Kind, u64, ObjectId, &[u8]) + Sync + 'a;

/// Where the pack starts its first object, right after its 12-byte header.
const FIRST_ENTRY: u64 = 12;

/// Where the trees are, found by [`Stores::for_each_object`].
#[derive(Debug, Default)]
pub struct TreeLocations {
    /// Per pack, every tree in it: (pack offset, id).
    packed: Vec<Vec<(u64, ObjectId)>>,
    /// Trees that were read one by one (loose, or in a damaged pack).
    by_id: Vec<ObjectId>,
}

/// What a traversal of every object leaves behind.
#[derive(Debug, Default)]
pub struct Traversal {
    /// What could not be read, a line each.
    pub errors: Vec<String>,
    /// Objects over the size limit per object: never read.
    pub oversized: Vec<Oversized>,
    pub trees: TreeLocations,
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

    /// The trees-only pass decodes every tree of a packed history, with
    /// deltas between tree versions, exactly as reading each one by id does,
    /// and without falling back.
    /// A repository of 40 commits over 4 folders, packed so that tree
    /// versions are deltas of one another.
    fn packed_history() -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        git(dir, &["init", "-q"]);
        for i in 0..40 {
            let sub = dir.join(format!("d{}", i % 4));
            std::fs::create_dir_all(&sub).unwrap();
            for j in 0..30 {
                std::fs::write(sub.join(format!("f{j}")), format!("{i} {j}\n")).unwrap();
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

    #[test]
    fn trees_alone_decode_like_reading_each_tree() {
        let tmp = packed_history();
        let (repo, stores, traversal) = first_pass(&tmp);
        let entries = &traversal.trees.packed[0];
        assert!(entries.len() >= 80, "{} trees", entries.len());

        let got = Mutex::new(HashMap::new());
        stores
            .traverse_trees(0, entries, &|id, data| {
                got.lock().unwrap().insert(id, data.to_vec());
            })
            .expect("the trees-only traversal works on a git-written pack");
        let got = got.into_inner().unwrap();
        assert_eq!(got.len(), entries.len());
        let mut buf = Vec::new();
        for (_, id) in entries {
            use gix::prelude::Find;
            let want = repo.objects.try_find(id, &mut buf).unwrap().unwrap();
            assert_eq!(want.kind, Kind::Tree);
            assert_eq!(got[id], want.data, "tree {id}");
            let hashed =
                gix::objs::compute_hash(gix::hash::Kind::Sha1, Kind::Tree, &got[id]).unwrap();
            assert_eq!(hashed, *id);
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
        let deltas: Vec<(u64, ObjectId)> = all
            .iter()
            .filter(|(offset, _)| {
                let entry = stores.packs[0].pack.entry(*offset).unwrap();
                !entry.header.is_base()
            })
            .copied()
            .collect();
        assert!(!deltas.is_empty() && deltas.len() < all.len());
        assert!(stores.traverse_trees(0, &deltas, &|_, _| {}).is_err());

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
        let mut want: Vec<ObjectId> = deltas.iter().map(|(_, id)| *id).collect();
        want.sort();
        assert_eq!(got, want);
    }
}
