//! Every tree of a repository reduced to what the history walk needs, built
//! in one parallel pass over the packs: each tree's subtrees (name, id) and
//! its entries that matter (a blob that holds a key, a blob the stores lack,
//! a submodule). The walk then diffs commits in memory, without inflating a
//! tree again, and skips every subtree that holds nothing that matters.
//!
//! Memory follows the number of subtree entries (a directory's folders, not
//! its files), never the content of the trees.

use super::introduced::{push_name, EntryKind};
use super::packs::{Counters, Stores};
use super::ObjectId;
use gix::objs::{Kind, TreeRefIter};
use std::sync::Mutex;

/// One tree, reduced.
#[derive(Debug, Default)]
pub struct TreeInfo {
    pub subtrees: Vec<(Box<[u8]>, ObjectId)>,
    /// Entries that matter, with their kind.
    pub marked: Vec<(Box<[u8]>, ObjectId, EntryKind)>,
}

pub struct TreeIndex {
    trees: gix::hashtable::HashMap<ObjectId, TreeInfo>,
    /// Memo: does the tree (recursively) hold anything marked?
    holds: Mutex<gix::hashtable::HashMap<ObjectId, bool>>,
}

const SHARDS: usize = 64;

impl TreeIndex {
    /// Reads every tree once. `interesting` are the blobs that matter (e.g.
    /// those holding a key); with `present` (every blob the stores hold),
    /// blobs absent from the stores matter too.
    pub fn build(
        stores: &Stores,
        repo: &gix::Repository,
        interesting: &gix::hashtable::HashSet,
        present: Option<&gix::hashtable::HashSet>,
    ) -> (Self, Vec<String>) {
        let shards: Vec<Mutex<Vec<(ObjectId, TreeInfo)>>> =
            (0..SHARDS).map(|_| Mutex::new(Vec::new())).collect();
        let counters = Counters::default();
        let errors = stores.for_each(repo, &counters, Kind::Tree, &|id, data| {
            let mut info = TreeInfo::default();
            for e in TreeRefIter::from_bytes(data, id.kind()).flatten() {
                let oid = e.oid.to_owned();
                if e.mode.is_tree() {
                    info.subtrees.push((e.filename.to_vec().into(), oid));
                } else if e.mode.is_commit() {
                    info.marked
                        .push((e.filename.to_vec().into(), oid, EntryKind::Submodule));
                } else if interesting.contains(&oid) || present.is_some_and(|p| !p.contains(&oid)) {
                    let kind = if e.mode.is_link() {
                        EntryKind::Symlink
                    } else {
                        EntryKind::File
                    };
                    info.marked.push((e.filename.to_vec().into(), oid, kind));
                }
            }
            if !info.subtrees.is_empty() || !info.marked.is_empty() {
                shards[id.as_bytes()[0] as usize % SHARDS]
                    .lock()
                    .unwrap()
                    .push((id, info));
            }
        });
        let mut trees = gix::hashtable::HashMap::default();
        for shard in shards {
            trees.extend(shard.into_inner().unwrap());
        }
        (
            TreeIndex {
                trees,
                holds: Mutex::new(Default::default()),
            },
            errors,
        )
    }

    /// Whether the tree, or any tree under it, has a marked entry.
    fn holds(&self, id: &ObjectId) -> bool {
        if let Some(&known) = self.holds.lock().unwrap().get(id) {
            return known;
        }
        let result = match self.trees.get(id) {
            None => false,
            Some(info) => {
                !info.marked.is_empty() || info.subtrees.iter().any(|(_, sub)| self.holds(sub))
            }
        };
        self.holds.lock().unwrap().insert(*id, result);
        result
    }

    /// Calls `visit(path, id, kind)` for every marked entry of `tree` that is
    /// at that path in none of `parents`: the marked entries the commit
    /// introduces. Subtrees equal to a parent's, or holding nothing marked,
    /// are skipped.
    pub fn introduced(
        &self,
        tree: &ObjectId,
        parents: &[ObjectId],
        visit: &mut dyn FnMut(&[u8], ObjectId, EntryKind),
    ) {
        let mut path = Vec::new();
        self.walk(tree, parents, &mut path, visit);
    }

    fn walk(
        &self,
        tree: &ObjectId,
        parents: &[ObjectId],
        path: &mut Vec<u8>,
        visit: &mut dyn FnMut(&[u8], ObjectId, EntryKind),
    ) {
        if parents.contains(tree) || !self.holds(tree) {
            return;
        }
        let Some(info) = self.trees.get(tree) else {
            return;
        };
        let parent_infos: Vec<&TreeInfo> =
            parents.iter().filter_map(|p| self.trees.get(p)).collect();
        for (name, id, kind) in &info.marked {
            let in_parent = parent_infos
                .iter()
                .any(|p| p.marked.iter().any(|(n, i, _)| n == name && i == id));
            if !in_parent {
                let len = path.len();
                push_name(path, name);
                visit(path, *id, *kind);
                path.truncate(len);
            }
        }
        for (name, sub) in &info.subtrees {
            let sub_parents: Vec<ObjectId> = parent_infos
                .iter()
                .filter_map(|p| p.subtrees.iter().find(|(n, _)| n == name).map(|(_, i)| *i))
                .collect();
            let len = path.len();
            push_name(path, name);
            self.walk(sub, &sub_parents, path, visit);
            path.truncate(len);
        }
    }
}
