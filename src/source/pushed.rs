//! What a push brought, read once, as `keyscan history` reads a repository:
//! every object in the push's quarantine in pack order, each delta resolved
//! once, on all cores ([`crate::git::packs`]). Every blob goes through the
//! rules, those no pushed commit names included; commits are parsed and
//! their messages scanned. Then the trees alone, each reduced to its folders
//! and the entries the push's diff needs ([`crate::git::tree_index`]): blobs
//! that hold a key or are over the size limit, and blobs the quarantine does
//! not hold (the server's, which a new commit may bring back to a ref).
//! Diffing commits then costs no object reads, except where a tree the
//! server already had comes in: that part is read by id.

use super::keyword_free::KeywordFree;
use super::timing;
use crate::git::hook_stores::HookStores;
use crate::git::introduced::{self, push_name, EntryKind};
use crate::git::objects::{self, CommitData};
use crate::git::packs::{Counters, Object, Stores};
use crate::git::tree_index::{Present, TreeIndex};
use crate::git::ObjectId;
use crate::scan::{Hit, Scanner};
use anyhow::{anyhow, Result};
use gix::objs::Kind;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// The objects of a push's quarantine, read once. Empty without one (the
/// client's pre-push): then every tree and blob is read by id.
#[derive(Default)]
pub(super) struct Pushed {
    /// Every blob in the quarantine: scanned, over the limit, or left
    /// unscanned at the time limit.
    pub blobs: gix::hashtable::HashSet,
    /// Blobs with hits.
    pub hits: HashMap<ObjectId, Vec<Hit>>,
    /// Blobs over the size limit: (id, size), not scanned.
    pub too_big: Vec<(ObjectId, u64)>,
    /// Blobs left unscanned at the time limit.
    pub unscanned: usize,
    pub commits: HashMap<ObjectId, CommitData>,
    /// Commits whose message holds a key.
    pub messages: HashMap<ObjectId, Vec<Hit>>,
    /// Every tree read into `index`.
    trees: gix::hashtable::HashSet,
    index: Option<TreeIndex>,
}

/// What the pass over the quarantine collects, from all threads.
#[derive(Default)]
struct Collected {
    blobs: Mutex<Vec<ObjectId>>,
    hits: Mutex<HashMap<ObjectId, Vec<Hit>>>,
    unscanned: AtomicUsize,
    commits: Mutex<Vec<(ObjectId, CommitData)>>,
    messages: Mutex<HashMap<ObjectId, Vec<Hit>>>,
    trees: Mutex<Vec<ObjectId>>,
}

impl Pushed {
    /// Reads the quarantine at `dir`: blobs are scanned until `past()`.
    /// `whole`: the server holds no object of its own, so every blob a
    /// pushed tree names is here.
    pub fn read(
        scanner: &Scanner,
        git_dir: &Path,
        dir: &Path,
        whole: bool,
        past: &(dyn Fn() -> bool + Sync),
        started: Instant,
    ) -> Result<Pushed> {
        let limit = super::blob_limit(scanner);
        // Over the limit: sized from the pack headers, never inflated.
        let stores = Stores::open(dir)?.with_limit(limit);
        // The quarantine's own objects, for what the pack pass reads by id.
        let mut repo =
            gix::open(git_dir).map_err(|e| anyhow!("cannot open {}: {e}", git_dir.display()))?;
        let handle = gix::odb::at(dir, gix::hash::Kind::Sha1)
            .map_err(|e| anyhow!("cannot open the object store {}: {e}", dir.display()))?;
        repo.objects = gix::OdbHandle::new(handle, gix::hash::Kind::Sha1);
        let c = Collected::default();
        let keyword_free = KeywordFree::new(scanner, stores.packed_objects);
        // What cannot be read here is read again by id where it is needed.
        let traversal = stores.for_each_object_with(&repo, &Counters::default(), &|o| {
            c.take(scanner, past, &keyword_free, o)
        });
        // The stores never hand over a blob over the limit: it is here.
        let too_big: Vec<(ObjectId, u64)> = (traversal.oversized.iter())
            .filter(|o| o.kind == Some(Kind::Blob))
            .map(|o| (o.id, o.size))
            .collect();
        let mut blobs: gix::hashtable::HashSet =
            c.blobs.into_inner().unwrap().into_iter().collect();
        blobs.extend(too_big.iter().map(|(id, _)| *id));
        let hits = c.hits.into_inner().unwrap();
        timing(started, "quarantine read, its blobs scanned");
        let mut interesting: gix::hashtable::HashSet = hits.keys().copied().collect();
        interesting.extend(too_big.iter().map(|(id, _)| *id));
        let present = (!whole).then(|| Present::new(blobs.iter().copied()));
        let (index, errors) = TreeIndex::build(
            &stores,
            &repo,
            &traversal.trees,
            &interesting,
            present.as_ref(),
        );
        timing(started, "quarantine trees indexed");
        Ok(Pushed {
            blobs,
            hits,
            too_big,
            unscanned: c.unscanned.into_inner(),
            commits: c.commits.into_inner().unwrap().into_iter().collect(),
            messages: c.messages.into_inner().unwrap(),
            // Trees are located by the pack pass, not handed over.
            trees: (c.trees.into_inner().unwrap().into_iter())
                .chain(stores.tree_ids(&traversal.trees))
                .collect(),
            // A tree that could not be indexed would pass for one that holds
            // nothing: then every tree is read by id instead.
            index: errors.is_empty().then_some(index),
        })
    }

    /// Every commit the tips reach, with its parents, when all of them are
    /// here (else `None`).
    pub fn ancestry(&self, tips: &[(String, ObjectId)]) -> Option<Vec<(ObjectId, Vec<ObjectId>)>> {
        let mut seen = gix::hashtable::HashSet::default();
        let mut stack: Vec<ObjectId> = tips.iter().map(|(_, id)| *id).collect();
        let mut out = Vec::new();
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            let c = self.commits.get(&id)?;
            stack.extend(c.parents.iter().copied());
            out.push((id, c.parents.clone()));
        }
        Some(out)
    }

    /// Calls `visit(path, blob, kind)` for each entry of `tree` that is at
    /// that path in none of `parents` and matters here: a blob with hits or
    /// over the size limit, a blob the quarantine lacks, a submodule. Trees
    /// the quarantine lacks are read by id from `stores`.
    pub fn introduced(
        &self,
        stores: &HookStores,
        tree: ObjectId,
        parents: &[ObjectId],
        visit: &mut dyn FnMut(&[u8], ObjectId, EntryKind),
    ) -> Result<()> {
        let Some(index) = &self.index else {
            return introduced::introduced(stores, tree, parents, &mut |path, blob, kind| {
                visit(path, blob, kind);
                Ok(())
            });
        };
        let indexed = |id: &ObjectId| self.trees.contains(id);
        let left = index.introduced_partial(&tree, parents, &indexed, visit);
        for (base, tree, parents) in left {
            let mut path = base.clone();
            introduced::introduced(stores, tree, &parents, &mut |sub, blob, kind| {
                path.truncate(base.len());
                push_name(&mut path, sub);
                visit(&path, blob, kind);
                Ok(())
            })?;
        }
        Ok(())
    }
}

impl Collected {
    /// One object of the quarantine.
    fn take(
        &self,
        scanner: &Scanner,
        past: &(dyn Fn() -> bool + Sync),
        keyword_free: &KeywordFree,
        o: &Object<'_>,
    ) {
        let (id, data) = (o.id, o.data);
        match o.kind {
            Kind::Blob => {
                self.blobs.lock().unwrap().push(id);
                if past() {
                    self.unscanned.fetch_add(1, Ordering::Relaxed);
                } else {
                    let found = keyword_free.hits(scanner, o);
                    if !found.is_empty() {
                        self.hits.lock().unwrap().insert(id, found);
                    }
                }
            }
            Kind::Commit => {
                // One that does not parse is read again by id, and refused there.
                let Ok(c) = gix::objs::CommitRef::from_bytes(data, id.kind()) else {
                    return;
                };
                let commit = CommitData {
                    tree: c.tree(),
                    parents: c.parents().collect(),
                    time: c.time().map(|t| t.seconds).unwrap_or(0),
                };
                let found = scanner.hits(objects::message(data));
                if !found.is_empty() {
                    self.messages.lock().unwrap().insert(id, found);
                }
                self.commits.lock().unwrap().push((id, commit));
            }
            Kind::Tree => self.trees.lock().unwrap().push(id),
            Kind::Tag => {}
        }
    }
}
