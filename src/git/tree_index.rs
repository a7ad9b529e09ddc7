//! Every tree of a repository reduced to what the history walk needs, built
//! in one parallel pass over the trees: each tree's subtrees (name, id) and
//! its entries that matter (a blob that holds a key, a blob the stores lack,
//! a submodule). The walk then diffs commits in memory, without inflating a
//! tree again, and skips every subtree that holds nothing that matters.
//!
//! Memory follows the number of subtree entries (a directory's folders, not
//! its files), never the content of the trees. Names are stored once each:
//! the same folder names recur in every version of a tree.

use super::introduced::{push_name, EntryKind};
use super::packs::{Stores, TreeLocations};
use super::ObjectId;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;

/// An interned entry name: its shard in the high bits, its place there below.
type Name = u32;

/// One tree, reduced.
#[derive(Debug, Default)]
struct TreeInfo {
    subtrees: Box<[(Name, ObjectId)]>,
    /// Entries that matter, with their kind.
    marked: Box<[(Name, ObjectId, EntryKind)]>,
    /// Memo for [`TreeIndex::holds`]: 0 unknown, 1 no, 2 yes.
    holds: AtomicU8,
}

pub struct TreeIndex {
    trees: gix::hashtable::HashMap<ObjectId, TreeInfo>,
    names: Names,
}

const SHARDS: usize = 64;
const SHARD_BITS: u32 = 26;

/// Names, each stored once, in shards so the threads that build the index
/// rarely wait for each other.
struct Names {
    shards: Vec<Mutex<NameShard>>,
}

#[derive(Default)]
struct NameShard {
    ids: std::collections::HashMap<Box<[u8]>, Name, foldhash::fast::RandomState>,
    bytes: Vec<Box<[u8]>>,
}

impl Names {
    fn new() -> Self {
        Names {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    fn shard(name: &[u8]) -> usize {
        (name.first().copied().unwrap_or(0) as usize ^ name.len()) % SHARDS
    }

    fn intern(&self, name: &[u8]) -> Name {
        let shard_no = Self::shard(name);
        let mut shard = self.shards[shard_no].lock().unwrap();
        if let Some(&id) = shard.ids.get(name) {
            return id;
        }
        let id = ((shard_no as u32) << SHARD_BITS) | shard.bytes.len() as u32;
        shard.bytes.push(name.into());
        shard.ids.insert(name.into(), id);
        id
    }

    fn find(&self, name: &[u8]) -> Option<Name> {
        self.shards[Self::shard(name)]
            .lock()
            .unwrap()
            .ids
            .get(name)
            .copied()
    }

    fn push(&self, path: &mut Vec<u8>, name: Name) {
        let shard = self.shards[(name >> SHARD_BITS) as usize].lock().unwrap();
        push_name(
            path,
            &shard.bytes[(name & ((1 << SHARD_BITS) - 1)) as usize],
        );
    }
}

/// A set of blob ids with a bitmap in front of it: almost every entry of
/// almost every tree is not in it, and the bitmap (8 KB) says so without a
/// hash lookup.
struct Interest<'a> {
    bits: Vec<u64>,
    set: &'a gix::hashtable::HashSet,
}

impl<'a> Interest<'a> {
    fn new(set: &'a gix::hashtable::HashSet) -> Self {
        let mut bits = vec![0u64; 1 << 10];
        for id in set {
            let k = Self::key(id.as_bytes());
            bits[k >> 6] |= 1 << (k & 63);
        }
        Interest { bits, set }
    }

    fn key(id: &[u8]) -> usize {
        u16::from_be_bytes([id[0], id[1]]) as usize
    }

    #[inline]
    fn contains(&self, id: &[u8]) -> bool {
        let k = Self::key(id);
        self.bits[k >> 6] & (1 << (k & 63)) != 0
            && self.set.contains(gix::hash::oid::from_bytes_unchecked(id))
    }
}

/// The blobs the stores hold, as a sorted table of the first 8 bytes of
/// each id behind a bucket index (2 MB for git's own repository, where a
/// hash set of whole ids is 10 MB): every blob entry of every tree is looked
/// up here, and that lookup must stay in the processor's cache. A missing
/// blob is taken for present only if its first 8 bytes equal a present
/// one's (about 1 in 10^14 for a repository of 262,000 blobs).
pub struct Present {
    starts: Vec<u32>,
    prefixes: Vec<u64>,
}

impl Present {
    pub fn new(ids: impl IntoIterator<Item = ObjectId>) -> Self {
        let mut prefixes: Vec<u64> = ids
            .into_iter()
            .map(|id| Self::prefix(id.as_bytes()))
            .collect();
        prefixes.sort_unstable();
        prefixes.dedup();
        let mut starts = vec![0u32; (1 << 16) + 1];
        for p in &prefixes {
            starts[(p >> 48) as usize + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        Present { starts, prefixes }
    }

    fn prefix(id: &[u8]) -> u64 {
        u64::from_be_bytes(id[..8].try_into().expect("an id has 20 bytes"))
    }

    pub fn contains(&self, id: &[u8]) -> bool {
        self.contains_prefix(Self::prefix(id))
    }

    fn contains_prefix(&self, p: u64) -> bool {
        let bucket = (p >> 48) as usize;
        let range = self.starts[bucket] as usize..self.starts[bucket + 1] as usize;
        self.prefixes[range].contains(&p)
    }
}

/// The ids a thread last found present, by the low bits of their prefix.
/// Consecutive trees on a thread are mostly versions of one another (a
/// delta and its base), so nearly every lookup is answered here, in the
/// processor's cache, instead of in [`Present`].
#[derive(Default)]
struct RecentlyPresent {
    /// Which build these are from: a thread may serve several.
    build: u64,
    slots: Vec<u64>,
}

static BUILDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

thread_local! {
    static RECENT: std::cell::RefCell<RecentlyPresent> =
        const { std::cell::RefCell::new(RecentlyPresent { build: 0, slots: Vec::new() }) };
}

impl RecentlyPresent {
    /// 256 KB a thread: it stays in the L2 cache, and a big folder's
    /// versions (git's t/ has 1,000 entries) no longer evict each other
    /// (4% off history on git's own repository against 4,096 slots).
    const SLOTS: usize = 32768;

    /// Whether `present` lacks `id`, remembering what it holds.
    fn lacks(&mut self, present: &Present, id: &[u8]) -> bool {
        let p = Present::prefix(id);
        let slot = p as usize % Self::SLOTS;
        if self.slots[slot] == p {
            return false;
        }
        if present.contains_prefix(p) {
            self.slots[slot] = p;
            return false;
        }
        true
    }
}

/// What a tree entry's mode says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Tree,
    Blob,
    Symlink,
    Submodule,
}

/// Calls `f(mode, name, id)` for each entry of a SHA-1 tree object
/// (`<octal mode> SP <name> NUL <20-byte id>`, repeated). Stops at the first
/// malformed entry. Written for speed: git's own repository has 135 million
/// tree entries, and this loop is where the tree pass spends its time.
fn for_each_entry(mut data: &[u8], mut f: impl FnMut(Mode, &[u8], &[u8])) {
    while !data.is_empty() {
        // The common modes first, as whole words; then any other octal mode.
        let (mode, name_at) = if data.starts_with(b"100644 ") || data.starts_with(b"100755 ") {
            (Mode::Blob, 7)
        } else if data.starts_with(b"40000 ") {
            (Mode::Tree, 6)
        } else {
            let Some(space) = data.iter().take(8).position(|&b| b == b' ') else {
                return;
            };
            let mode = match &data[..space] {
                b"040000" => Mode::Tree,
                b"160000" => Mode::Submodule,
                b"120000" => Mode::Symlink,
                // Any other octal mode, even an empty one (git reads it as 0
                // and goes on): a blob, so that what it names is scanned.
                m if m.iter().all(|b| (b'0'..=b'7').contains(b)) => Mode::Blob,
                _ => return,
            };
            (mode, space + 1)
        };
        let rest = &data[name_at..];
        let Some(nul) = find_nul(rest) else {
            return;
        };
        if rest.len() < nul + 21 || nul == 0 {
            return;
        }
        f(mode, &rest[..nul], &rest[nul + 1..nul + 21]);
        data = &rest[nul + 21..];
    }
}

/// What `for_each_entry` reads from a tree object, as (mode, name, id) with
/// mode `t` tree, `b` blob, `l` symlink, `s` submodule. For the fuzz target.
#[doc(hidden)]
pub fn parse_tree_entries(data: &[u8]) -> Vec<(char, Vec<u8>, Vec<u8>)> {
    let mut entries = Vec::new();
    for_each_entry(data, |mode, name, id| {
        let mode = match mode {
            Mode::Tree => 't',
            Mode::Blob => 'b',
            Mode::Symlink => 'l',
            Mode::Submodule => 's',
        };
        entries.push((mode, name.to_vec(), id.to_vec()));
    });
    entries
}

/// The first NUL byte, eight bytes at a time: names are short, and a loop
/// over single bytes mispredicts its exit once per entry.
fn find_nul(bytes: &[u8]) -> Option<usize> {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut at = 0;
    while at + 8 <= bytes.len() {
        let word = u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        let zero = word.wrapping_sub(LOW) & !word & HIGH;
        if zero != 0 {
            return Some(at + (zero.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    bytes[at..].iter().position(|&b| b == 0).map(|i| at + i)
}

impl TreeIndex {
    /// Reads every tree once. `interesting` are the blobs that matter (e.g.
    /// those holding a key); with `present` (every blob the stores hold),
    /// blobs absent from the stores matter too.
    pub fn build(
        stores: &Stores,
        repo: &gix::Repository,
        locations: &TreeLocations,
        interesting: &gix::hashtable::HashSet,
        present: Option<&Present>,
    ) -> (Self, Vec<String>) {
        let shards: Vec<Mutex<Vec<(ObjectId, TreeInfo)>>> =
            (0..SHARDS).map(|_| Mutex::new(Vec::new())).collect();
        let names = Names::new();
        let interest = Interest::new(interesting);
        let build = BUILDS.fetch_add(1, Ordering::Relaxed);
        let errors = stores.for_each_tree(repo, locations, &|id, data| {
            let mut subtrees = Vec::new();
            let mut marked = Vec::new();
            let mut recent = RECENT.with(|r| r.take());
            if recent.build != build {
                recent = RecentlyPresent {
                    build,
                    slots: vec![0; RecentlyPresent::SLOTS],
                };
            }
            let mut lacks = |oid: &[u8]| present.is_some_and(|p| recent.lacks(p, oid));
            for_each_entry(data, |mode, name, oid| {
                let kind = match mode {
                    Mode::Tree => {
                        subtrees.push((names.intern(name), ObjectId::from_bytes_or_panic(oid)));
                        return;
                    }
                    Mode::Submodule => EntryKind::Submodule,
                    Mode::Blob | Mode::Symlink if !interest.contains(oid) && !lacks(oid) => {
                        return;
                    }
                    Mode::Blob => EntryKind::File,
                    Mode::Symlink => EntryKind::Symlink,
                };
                marked.push((names.intern(name), ObjectId::from_bytes_or_panic(oid), kind));
            });
            RECENT.with(|r| r.replace(recent));
            if !subtrees.is_empty() || !marked.is_empty() {
                let info = TreeInfo {
                    subtrees: subtrees.into(),
                    marked: marked.into(),
                    holds: AtomicU8::new(0),
                };
                shards[id.as_bytes()[0] as usize % SHARDS]
                    .lock()
                    .unwrap()
                    .push((id, info));
            }
        });
        let mut trees = gix::hashtable::HashMap::default();
        trees.reserve(shards.iter().map(|s| s.lock().unwrap().len()).sum());
        for shard in shards {
            trees.extend(shard.into_inner().unwrap());
        }
        (TreeIndex { trees, names }, errors)
    }

    /// Whether the tree, or any tree under it, has a marked entry. Walked
    /// with a stack of its own, however deep the trees nest. With `indexed`
    /// (see [`TreeIndex::introduced_partial`]), a tree that was not read
    /// into the index may hold anything.
    fn holds(&self, root: &ObjectId, indexed: Option<&Indexed<'_>>) -> bool {
        // Known: not indexed (nothing marked), cached, or marked itself.
        let known = |id: &ObjectId| -> Option<bool> {
            let Some(info) = self.trees.get(id) else {
                return Some(indexed.is_some_and(|read| !read(id)));
            };
            match info.holds.load(Ordering::Relaxed) {
                1 => Some(false),
                2 => Some(true),
                _ if !info.marked.is_empty() => {
                    info.holds.store(2, Ordering::Relaxed);
                    Some(true)
                }
                _ => None,
            }
        };
        if let Some(v) = known(root) {
            return v;
        }
        // (tree, index of the next subtree to ask about)
        let mut stack: Vec<(ObjectId, usize)> = vec![(*root, 0)];
        while let Some(&(id, next)) = stack.last() {
            let info = &self.trees[&id];
            let mut i = next;
            let mut result = false;
            let mut descend = None;
            while let Some((_, sub)) = info.subtrees.get(i) {
                match known(sub) {
                    Some(true) => {
                        result = true;
                        break;
                    }
                    Some(false) => i += 1,
                    None => {
                        descend = Some(*sub);
                        break;
                    }
                }
            }
            if let Some(sub) = descend {
                stack.last_mut().expect("not empty").1 = i;
                stack.push((sub, 0));
                continue;
            }
            info.holds
                .store(if result { 2 } else { 1 }, Ordering::Relaxed);
            stack.pop();
        }
        known(root) == Some(true)
    }

    /// Whether `tree` is indexed (then it is in the stores).
    pub fn has(&self, tree: &ObjectId) -> bool {
        self.trees.contains_key(tree)
    }

    /// The marked entry at `path` under `tree`, if there is one: what
    /// `still_in` asks of each ref's tip.
    pub fn marked_at(&self, tree: &ObjectId, path: &[u8]) -> Option<ObjectId> {
        let mut parts = path.split(|&b| b == b'/').peekable();
        let mut id = *tree;
        while let Some(part) = parts.next() {
            let name = self.names.find(part)?;
            let info = self.trees.get(&id)?;
            if parts.peek().is_none() {
                return info
                    .marked
                    .iter()
                    .find(|(n, _, _)| *n == name)
                    .map(|(_, blob, _)| *blob);
            }
            id = info.subtrees.iter().find(|(n, _)| *n == name)?.1;
        }
        None
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
        self.diff(tree, parents, None, visit);
    }

    /// [`TreeIndex::introduced`] over an index of some trees only (those a
    /// push brought): `indexed(id)` says whether a tree was read into the
    /// index, where one left out holds nothing marked. A tree that was not
    /// read, or one of whose parents was not, is not looked into: it is
    /// returned with its path and parent trees, for the caller to diff by
    /// reading them.
    pub fn introduced_partial(
        &self,
        tree: &ObjectId,
        parents: &[ObjectId],
        indexed: &Indexed<'_>,
        visit: &mut dyn FnMut(&[u8], ObjectId, EntryKind),
    ) -> Vec<(Vec<u8>, ObjectId, Vec<ObjectId>)> {
        self.diff(tree, parents, Some(indexed), visit)
    }

    fn diff(
        &self,
        tree: &ObjectId,
        parents: &[ObjectId],
        indexed: Option<&Indexed<'_>>,
        visit: &mut dyn FnMut(&[u8], ObjectId, EntryKind),
    ) -> Vec<(Vec<u8>, ObjectId, Vec<ObjectId>)> {
        let mut left = Vec::new();
        // Depth first with a stack of its own (trees may nest arbitrarily
        // deep); one path buffer, cut back to each tree's parent's path.
        struct Frame {
            tree: ObjectId,
            parents: Vec<ObjectId>,
            name: Option<u32>,
            base: usize,
        }
        let mut path = Vec::new();
        let mut stack = vec![Frame {
            tree: *tree,
            parents: parents.to_vec(),
            name: None,
            base: 0,
        }];
        while let Some(frame) = stack.pop() {
            path.truncate(frame.base);
            if let Some(name) = frame.name {
                self.names.push(&mut path, name);
            }
            if frame.parents.contains(&frame.tree) || !self.holds(&frame.tree, indexed) {
                continue;
            }
            if let Some(read) = indexed {
                if !read(&frame.tree) || !frame.parents.iter().all(read) {
                    left.push((path.clone(), frame.tree, frame.parents));
                    continue;
                }
            }
            let Some(info) = self.trees.get(&frame.tree) else {
                continue;
            };
            let parent_infos: Vec<&TreeInfo> = frame
                .parents
                .iter()
                .filter_map(|p| self.trees.get(p))
                .collect();
            for (name, id, kind) in info.marked.iter() {
                let in_parent = parent_infos
                    .iter()
                    .any(|p| p.marked.iter().any(|(n, i, _)| n == name && i == id));
                if !in_parent {
                    let len = path.len();
                    self.names.push(&mut path, *name);
                    visit(&path, *id, *kind);
                    path.truncate(len);
                }
            }
            // Reversed, so that subtrees are visited in tree order.
            for (name, sub) in info.subtrees.iter().rev() {
                // Holding nothing: no need to look inside.
                if !self.holds(sub, indexed) {
                    continue;
                }
                let sub_parents: Vec<ObjectId> = parent_infos
                    .iter()
                    .filter_map(|p| p.subtrees.iter().find(|(n, _)| n == name).map(|(_, i)| *i))
                    .collect();
                stack.push(Frame {
                    tree: *sub,
                    parents: sub_parents,
                    name: Some(*name),
                    base: path.len(),
                });
            }
        }
        left
    }
}

/// Whether a tree was read into a partial index.
pub type Indexed<'a> = dyn Fn(&ObjectId) -> bool + 'a;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn present_finds_what_it_holds_and_nothing_else() {
        let ids: Vec<ObjectId> = (0u32..5000)
            .map(|i| {
                let mut b = [0u8; 20];
                b[..4].copy_from_slice(&(i.wrapping_mul(2654435761)).to_be_bytes());
                b[19] = 1;
                ObjectId::from_bytes_or_panic(&b)
            })
            .collect();
        let present = Present::new(ids.iter().step_by(2).copied());
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(present.contains(id.as_bytes()), i % 2 == 0, "{id}");
        }
        assert!(!present.contains(&[0xff; 20]));
        assert!(!Present::new([]).contains(&[0; 20]));
    }

    /// The hand-written parser agrees with gitoxide's on every kind of
    /// entry, and stops where gitoxide reports an error.
    #[test]
    fn entries_parse_like_gitoxide() {
        let id = |n: u8| [n; 20];
        let mut tree = Vec::new();
        for (mode, name, n) in [
            (&b"100644"[..], &b"a file"[..], 1u8),
            (b"100755", b"run.sh", 2),
            (b"120000", b"link", 3),
            (b"160000", b"sub", 4),
            (b"40000", b"dir \xc3\xa9", 5),
            (b"100644", b"z", 0),
        ] {
            tree.extend_from_slice(mode);
            tree.push(b' ');
            tree.extend_from_slice(name);
            tree.push(0);
            tree.extend_from_slice(&id(n));
        }
        let mut ours = Vec::new();
        for_each_entry(&tree, |mode, name, oid| {
            ours.push((mode, name.to_vec(), oid.to_vec()))
        });
        let theirs: Vec<(Mode, Vec<u8>, Vec<u8>)> =
            gix::objs::TreeRefIter::from_bytes(&tree, gix::hash::Kind::Sha1)
                .map(|e| {
                    let e = e.unwrap();
                    let mode = if e.mode.is_tree() {
                        Mode::Tree
                    } else if e.mode.is_commit() {
                        Mode::Submodule
                    } else if e.mode.is_link() {
                        Mode::Symlink
                    } else {
                        Mode::Blob
                    };
                    (mode, e.filename.to_vec(), e.oid.as_bytes().to_vec())
                })
                .collect();
        assert_eq!(ours.len(), 6);
        assert_eq!(ours, theirs);

        // Truncated in the middle of an id: the entries before it only.
        let mut seen = 0;
        for_each_entry(&tree[..tree.len() - 5], |_, _, _| seen += 1);
        assert_eq!(seen, 5);
        // The NUL finder, at every offset and length.
        for len in 0..40 {
            for nul in 0..len {
                let mut b = vec![b'x'; len];
                b[nul] = 0;
                b[len - 1] = 0;
                assert_eq!(find_nul(&b), Some(nul), "len {len}");
            }
            assert_eq!(find_nul(&vec![0x80; len]), None);
        }
        // A mode that is not octal: nothing.
        let mut seen = 0;
        for_each_entry(b"10x644 a\0aaaaaaaaaaaaaaaaaaaa", |_, _, _| seen += 1);
        assert_eq!(seen, 0);
    }

    /// Found by the `tree` fuzz target: a short octal mode ("644", as old
    /// git wrote) is read as a blob, as git reads it, where gitoxide stops.
    /// The entries after it are still read: none goes unscanned.
    #[test]
    fn short_octal_modes_are_blobs_and_later_entries_are_read() {
        let mut tree = b"100644 README.md\0".to_vec();
        tree.extend([1; 20]);
        tree.extend(b"644 600 link\0");
        tree.extend([2; 20]);
        tree.extend(b"100755 run.sh\0");
        tree.extend([3; 20]);
        let entries = parse_tree_entries(&tree);
        let names: Vec<&[u8]> = entries.iter().map(|(_, n, _)| &n[..]).collect();
        assert_eq!(names, [&b"README.md"[..], b"600 link", b"run.sh"]);
        assert!(entries.iter().all(|(mode, _, _)| *mode == 'b'));
        assert_eq!(entries[2].2, [3; 20]);

        // Found next: an empty mode, which git reads as 0 and gitoxide
        // reads too, stopped the parser and hid the entries after it.
        let mut tree = b" odd\0".to_vec();
        tree.extend([4; 20]);
        tree.extend(b"100644 key.pem\0");
        tree.extend([5; 20]);
        let names: Vec<Vec<u8>> = parse_tree_entries(&tree).into_iter().map(|e| e.1).collect();
        assert_eq!(names, [b"odd".to_vec(), b"key.pem".to_vec()]);
    }
}
