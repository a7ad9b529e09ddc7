//! Every blob in a repository's object stores, each read once.
//!
//! Packs are decoded in pack order with gitoxide's delta-tree traversal: each
//! delta base is inflated once and its deltas applied to it in memory, on all
//! cores. Reading object by object instead re-inflates shared bases again and
//! again (libgit2 is ~8x slower on git's own pack). Loose objects are read
//! after the packs. A blob that is in several stores belongs to the first
//! one that holds it, so it is handed over once.
//!
//! This yields blobs no ref reaches too; the history door decides what is
//! reachable from its walk of the commit graph.

use super::ObjectId;
use anyhow::{anyhow, Result};
use gix::objs::Kind;
use gix::odb::pack;
use rayon::prelude::*;
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
    /// When set, the ids of every commit in the stores are collected here
    /// (to find commits no ref reaches).
    pub commits: Option<Mutex<Vec<ObjectId>>>,
}

/// The object stores of a repository: its own objects directory and every
/// alternate it borrows from.
pub struct Stores {
    packs: Vec<pack::Bundle>,
    loose: Vec<gix::odb::loose::Store>,
    /// Objects in all pack indexes together (for progress and ETA).
    pub packed_objects: u64,
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
        })
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
    /// Objects that cannot be decoded are returned as errors (one line each)
    /// after everything else was read.
    pub fn for_each_blob(
        &self,
        repo: &gix::Repository,
        counters: &Counters,
        blob: &(dyn Fn(ObjectId, &[u8]) + Sync),
    ) -> Vec<String> {
        self.for_each(repo, counters, Kind::Blob, blob)
    }

    /// Calls `f(id, data)` once for every distinct object of kind `want`
    /// (counted in `counters.blobs`/`bytes`), in parallel.
    pub fn for_each(
        &self,
        repo: &gix::Repository,
        counters: &Counters,
        want: Kind,
        blob: &(dyn Fn(ObjectId, &[u8]) + Sync),
    ) -> Vec<String> {
        let errors = Mutex::new(Vec::new());
        let threads = rayon::current_num_threads();
        for (pack_no, bundle) in self.packs.iter().enumerate() {
            let shared = pack_no > 0;
            let processor = |kind: Kind,
                             data: &[u8],
                             entry: &pack::index::Entry,
                             _: &dyn gix::progress::Progress|
             -> gix::Result {
                counters.objects.fetch_add(1, Ordering::Relaxed);
                if kind == Kind::Commit {
                    if let Some(commits) = &counters.commits {
                        commits.lock().unwrap().push(entry.oid);
                    }
                }
                if kind == want && !(shared && self.in_earlier_pack(pack_no, &entry.oid)) {
                    counters.blobs.fetch_add(1, Ordering::Relaxed);
                    counters
                        .bytes
                        .fetch_add(data.len() as u64, Ordering::Relaxed);
                    blob(entry.oid, data);
                }
                Ok(())
            };
            let interrupt = AtomicBool::new(false);
            let outcome = bundle.index.traverse_with_index(
                &bundle.pack,
                processor,
                &mut gix::progress::Discard,
                &interrupt,
                pack::index::traverse::with_index::Options {
                    thread_limit: Some(threads),
                    check:
                        pack::index::traverse::SafetyCheck::SkipFileAndObjectChecksumVerification,
                    alloc_limit_bytes: None,
                },
            );
            if let Err(e) = outcome {
                // A damaged pack: read what can be read of it object by object.
                errors.lock().unwrap().push(format!(
                    "pack {} could not be traversed ({e}); reading it object by object",
                    bundle.pack.path().display()
                ));
                self.read_pack_by_object(repo, pack_no, counters, want, blob, &errors);
            }
        }
        self.read_loose(counters, want, blob, &errors);
        errors.into_inner().unwrap()
    }

    fn read_pack_by_object(
        &self,
        repo: &gix::Repository,
        pack_no: usize,
        counters: &Counters,
        want: Kind,
        blob: &(dyn Fn(ObjectId, &[u8]) + Sync),
        errors: &Mutex<Vec<String>>,
    ) {
        use gix::prelude::Find;
        let mut buf = Vec::new();
        for entry in self.packs[pack_no].index.iter() {
            let id = entry.oid;
            if pack_no > 0 && self.in_earlier_pack(pack_no, &id) {
                continue;
            }
            counters.objects.fetch_add(1, Ordering::Relaxed);
            match repo.objects.try_find(&id, &mut buf) {
                Ok(Some(data)) if data.kind == want => {
                    counters.blobs.fetch_add(1, Ordering::Relaxed);
                    counters
                        .bytes
                        .fetch_add(data.data.len() as u64, Ordering::Relaxed);
                    blob(id, data.data);
                }
                Ok(Some(_)) => {}
                Ok(None) => errors
                    .lock()
                    .unwrap()
                    .push(format!("object {id} cannot be found")),
                Err(e) => errors
                    .lock()
                    .unwrap()
                    .push(format!("object {id} cannot be read: {e}")),
            }
        }
    }

    fn read_loose(
        &self,
        counters: &Counters,
        want: Kind,
        blob: &(dyn Fn(ObjectId, &[u8]) + Sync),
        errors: &Mutex<Vec<String>>,
    ) {
        for (store_no, store) in self.loose.iter().enumerate() {
            let ids: Vec<ObjectId> = store.iter().filter_map(|r| r.ok()).collect();
            ids.par_iter().for_each_init(Vec::new, |buf, id| {
                if self.packs.iter().any(|b| b.index.lookup(id).is_some())
                    || self.loose[..store_no].iter().any(|s| s.contains(id))
                {
                    return;
                }
                counters.objects.fetch_add(1, Ordering::Relaxed);
                match store.try_find(id, buf) {
                    Ok(Some(data)) if data.kind == Kind::Commit => {
                        if let Some(commits) = &counters.commits {
                            commits.lock().unwrap().push(*id);
                        }
                    }
                    Ok(Some(data)) if data.kind == want => {
                        counters.blobs.fetch_add(1, Ordering::Relaxed);
                        counters
                            .bytes
                            .fetch_add(data.data.len() as u64, Ordering::Relaxed);
                        blob(*id, data.data);
                    }
                    Ok(_) => {}
                    Err(e) => errors
                        .lock()
                        .unwrap()
                        .push(format!("loose object {id} cannot be read: {e}")),
                }
            });
        }
    }
}
