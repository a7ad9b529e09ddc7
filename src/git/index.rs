//! The staged changes read from the index file itself, as `git diff-index
//! --cached` finds them, without starting git.
//!
//! The index is mapped, not copied, and walked once for where each entry
//! lies; nothing is kept per entry but its offset. Its cache-tree (the
//! `TREE` extension) says which folders still match a tree: where that tree
//! is the one HEAD holds at the same path, the whole folder is skipped
//! without reading it, exactly as git does. So the cost follows the change,
//! not the size of the repository.
//!
//! Whatever this reader does not handle itself is [`Unsupported`], and the
//! caller asks git: an index version or extension it does not know (split
//! and sparse indexes), unmerged entries, intent-to-add entries, anything
//! malformed, a tree it cannot read, and a change that adds and deletes
//! files (git pairs those up as renames).

use git2::{Oid, Repository};
use memchr::memchr;
use std::ops::Range;
use std::path::Path;

/// One path whose staged entry differs from HEAD's (or that HEAD lacks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: Vec<u8>,
    /// HEAD's mode (as git canonicalises it) and blob; `None` when added.
    pub old: Option<(u32, Oid)>,
    /// The index's mode, as stored, and blob.
    pub new: (u32, Oid),
}

/// Why the index was left to git.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsupported(pub &'static str);

type Res<T> = Result<T, Unsupported>;

const OID_LEN: usize = 20;
/// ctime, mtime, dev, ino, mode, uid, gid, size, the id, the flags.
const FIXED: usize = 40 + OID_LEN + 2;
const DIR_MODE: u32 = 0o040000;
/// Deeper folders than this are left to git (and keep the walk's stack small).
const MAX_DEPTH: usize = 1024;

/// The index, mapped, with where each entry is.
struct Index {
    data: IndexData,
    /// Per entry: where it starts, and where its path is (in `data` for
    /// versions 2 and 3, in `paths` for version 4).
    entries: Vec<(u32, u32, u32)>,
    paths: Vec<u8>,
    in_data: bool,
}

enum IndexData {
    Map(memmap2::Mmap),
    Empty,
}

impl IndexData {
    fn bytes(&self) -> &[u8] {
        match self {
            IndexData::Map(m) => m,
            IndexData::Empty => &[],
        }
    }
}

impl Index {
    fn path(&self, i: usize) -> &[u8] {
        let (_, at, len) = self.entries[i];
        let from = if self.in_data {
            self.data.bytes()
        } else {
            &self.paths
        };
        &from[at as usize..(at + len) as usize]
    }

    /// The end of the entries from `range.start` on whose paths start with
    /// `folder` (they are sorted, so those come first).
    fn group_end(&self, range: Range<usize>, folder: &[u8]) -> usize {
        let (mut lo, mut hi) = (range.start, range.end);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.path(mid).starts_with(folder) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    fn mode(&self, i: usize) -> u32 {
        let at = self.entries[i].0 as usize;
        be32(&self.data.bytes()[at + 24..])
    }

    fn oid(&self, i: usize) -> Oid {
        let at = self.entries[i].0 as usize + 40;
        Oid::from_bytes(&self.data.bytes()[at..at + OID_LEN]).expect("20 bytes")
    }
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

/// The staged changes against `head` (HEAD's tree; `None` before the first
/// commit), in path order, from the index at `index_path`.
pub fn staged_changes(repo: &Repository, index_path: &Path, head: Option<Oid>) -> Res<Vec<Change>> {
    let (index, tree) = read(index_path)?;
    let mut walk = Walk {
        repo,
        index: &index,
        tree_cache: CacheTree::default(),
        out: Vec::new(),
        added: false,
        deleted: false,
    };
    let root = tree.as_ref().filter(|t| !t.nodes.is_empty()).map(|_| 0);
    walk.tree_cache = tree.unwrap_or_default();
    walk.folder(0, head, root, 0..index.entries.len(), 0)?;
    if walk.added && walk.deleted {
        return Err(Unsupported("files added and deleted: git pairs renames"));
    }
    Ok(walk.out)
}

/// Map the index and find its entries and cache-tree. A missing index is
/// an empty one, as git reads it.
fn read(path: &Path) -> Res<(Index, Option<CacheTree>)> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let empty = Index {
                data: IndexData::Empty,
                entries: Vec::new(),
                paths: Vec::new(),
                in_data: true,
            };
            return Ok((empty, None));
        }
        Err(_) => return Err(Unsupported("the index cannot be opened")),
    };
    // SAFETY: git replaces the index by renaming a new file over it, never
    // by writing into it, so the mapped bytes do not change.
    let map = unsafe { memmap2::MmapOptions::new().populate().map(&file) }
        .map_err(|_| Unsupported("cannot map"))?;
    let mut index = Index {
        data: IndexData::Map(map),
        entries: Vec::new(),
        paths: Vec::new(),
        in_data: true,
    };
    let end = entries(&mut index)?;
    let tree = extensions(index.data.bytes(), end)?;
    Ok((index, tree))
}

/// Walk the entries; returns where the extensions start.
fn entries(index: &mut Index) -> Res<usize> {
    let malformed = Unsupported("a malformed index");
    let data = index.data.bytes();
    if data.len() < 12 + OID_LEN || &data[..4] != b"DIRC" {
        return Err(malformed);
    }
    if data.len() > u32::MAX as usize {
        return Err(Unsupported("an index over 4 GiB"));
    }
    let version = be32(&data[4..]);
    if !(2..=4).contains(&version) {
        return Err(Unsupported("an index version other than 2, 3 or 4"));
    }
    let count = be32(&data[8..]) as usize;
    let body = data.len() - OID_LEN;
    if count > body / FIXED {
        return Err(malformed);
    }
    let mut entries = Vec::with_capacity(count);
    let mut paths = Vec::new();
    let mut prev: Range<usize> = 0..0;
    let mut at = 12;
    for _ in 0..count {
        let fixed = data.get(at..at + FIXED).ok_or(malformed)?;
        let flags = be16(&fixed[FIXED - 2..]);
        if flags & 0x3000 != 0 {
            return Err(Unsupported("unmerged entries"));
        }
        let mut name_at = at + FIXED;
        if flags & 0x4000 != 0 {
            let ext = be16(data.get(name_at..name_at + 2).ok_or(malformed)?);
            // Intent-to-add (0x2000), or bits no git version writes.
            if version < 3 || ext & !0x4000 != 0 {
                return Err(Unsupported("intent-to-add or unknown entry flags"));
            }
            name_at += 2;
        }
        if be32(&fixed[24..]) & 0o170000 == DIR_MODE {
            return Err(Unsupported("a sparse index"));
        }
        let rest = data.get(name_at..body).ok_or(malformed)?;
        let next = if version == 4 {
            let (strip, used) = varint(rest).ok_or(malformed)?;
            let suffix = &rest[used..];
            let len = memchr(0, suffix).ok_or(malformed)?;
            let keep = prev.len().checked_sub(strip).ok_or(malformed)?;
            let start = paths.len();
            paths.extend_from_within(prev.start..prev.start + keep);
            paths.extend_from_slice(&suffix[..len]);
            prev = start..paths.len();
            entries.push((at as u32, start as u32, prev.len() as u32));
            name_at + used + len + 1
        } else {
            let short = (flags & 0x0fff) as usize;
            let len = if short < 0x0fff {
                short
            } else {
                memchr(0, rest).ok_or(malformed)?
            };
            if rest.get(len) != Some(&0) {
                return Err(malformed);
            }
            entries.push((at as u32, name_at as u32, len as u32));
            // NUL-padded to a multiple of 8, at least one NUL.
            at + ((name_at - at + len + 8) & !7)
        };
        at = next;
        if entries.last().is_some_and(|e| e.2 == 0) || at > body {
            return Err(malformed);
        }
    }
    index.in_data = version != 4;
    index.entries = entries;
    index.paths = paths;
    Ok(at)
}

/// git's offset varint: 7 bits a byte, each continuation adding one.
fn varint(b: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    let mut c = *b.first()?;
    let mut val = (c & 0x7f) as usize;
    while c & 0x80 != 0 {
        i += 1;
        c = *b.get(i)?;
        val = val.checked_add(1)?.checked_mul(128)? + (c & 0x7f) as usize;
    }
    Some((val, i + 1))
}

/// The extensions from `at` to the checksum: the cache-tree if there is
/// one. An extension git must understand (lower-case, such as a split
/// index's `link` or a sparse index's `sdir`) is left to git.
fn extensions(data: &[u8], mut at: usize) -> Res<Option<CacheTree>> {
    let malformed = Unsupported("a malformed index extension");
    let end = data.len().saturating_sub(OID_LEN);
    let mut tree = None;
    while at < end {
        let head = data.get(at..at + 8).ok_or(malformed)?;
        let size = be32(&head[4..]) as usize;
        if data.len() < at + 8 + size {
            return Err(malformed);
        }
        if !head[0].is_ascii_uppercase() {
            return Err(Unsupported("an index extension git must understand"));
        }
        if &head[..4] == b"TREE" {
            tree = Some(CacheTree::parse(data, at + 8..at + 8 + size).ok_or(malformed)?);
        }
        at += 8 + size;
    }
    if at != end {
        return Err(malformed);
    }
    Ok(tree)
}

/// The cache-tree, its folders in the order the extension lists them
/// (each before its subfolders).
#[derive(Debug, Default)]
struct CacheTree {
    nodes: Vec<CacheNode>,
}

#[derive(Debug)]
struct CacheNode {
    /// Where its name is in the index file.
    name: Range<usize>,
    /// The entry count and tree id, while the folder is still valid.
    valid: Option<(usize, Oid)>,
    /// The node after this folder's subfolders.
    end: usize,
}

impl CacheTree {
    /// The extension at `body` of the index file `data`.
    fn parse(data: &[u8], body: Range<usize>) -> Option<CacheTree> {
        let mut tree = CacheTree::default();
        let mut pos = body.start;
        tree.node(&data[..body.end], &mut pos, 0)?;
        Some(tree)
    }

    /// `name\0count subtrees\n[id]`, then the subtrees.
    fn node(&mut self, data: &[u8], pos: &mut usize, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        let rest = data.get(*pos..)?;
        let nul = memchr(0, rest)?;
        let (count, used) = decimal(&rest[nul + 1..], b' ')?;
        let (subtrees, used2) = decimal(&rest[nul + 1 + used..], b'\n')?;
        let name = *pos..*pos + nul;
        *pos += nul + 1 + used + used2;
        let valid = match count {
            Some(count) => {
                let id = Oid::from_bytes(data.get(*pos..*pos + OID_LEN)?).ok()?;
                *pos += OID_LEN;
                Some((count, id))
            }
            None => None,
        };
        let me = self.nodes.len();
        self.nodes.push(CacheNode {
            name,
            valid,
            end: 0,
        });
        for _ in 0..subtrees? {
            self.node(data, pos, depth + 1)?;
        }
        self.nodes[me].end = self.nodes.len();
        Some(())
    }

    /// Folder `node`'s subfolder `name`; `data` is the index file.
    fn child(&self, data: &[u8], node: usize, name: &[u8]) -> Option<usize> {
        let mut c = node + 1;
        while c < self.nodes[node].end {
            if &data[self.nodes[c].name.clone()] == name {
                return Some(c);
            }
            c = self.nodes[c].end;
        }
        None
    }
}

/// A decimal number ended by `stop`, `-1` as `None`; and the bytes used.
fn decimal(b: &[u8], stop: u8) -> Option<(Option<usize>, usize)> {
    let len = memchr(stop, b)?;
    let text = &b[..len];
    if text == b"-1" {
        return Some((None, len + 1));
    }
    if text.is_empty() || text.len() > 10 || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = text
        .iter()
        .fold(0usize, |n, d| n * 10 + (d - b'0') as usize);
    Some((Some(n), len + 1))
}

/// git's `canon_mode`: how a tree entry's mode compares with the index's.
fn canon_mode(mode: u32) -> u32 {
    match mode & 0o170000 {
        0o100000 if mode & 0o100 != 0 => 0o100755,
        0o100000 => 0o100644,
        0o120000 => 0o120000,
        DIR_MODE => DIR_MODE,
        _ => 0o160000,
    }
}

struct Walk<'a> {
    repo: &'a Repository,
    index: &'a Index,
    tree_cache: CacheTree,
    out: Vec<Change>,
    added: bool,
    deleted: bool,
}

/// A tree entry: its name with `/` after a folder's (the order git sorts
/// trees and the index in), its mode and id.
struct TreeItem {
    key: Vec<u8>,
    mode: u32,
    id: Oid,
}

impl Walk<'_> {
    /// The folder whose path is the first `prefix` bytes of the paths of
    /// the entries in `range`; `tree` is HEAD's tree there.
    fn folder(
        &mut self,
        prefix: usize,
        tree: Option<Oid>,
        cache: Option<usize>,
        range: Range<usize>,
        depth: usize,
    ) -> Res<()> {
        if depth > MAX_DEPTH {
            return Err(Unsupported("folders nested too deep"));
        }
        let valid = cache.and_then(|c| self.tree_cache.nodes[c].valid);
        let same = valid == tree.map(|t| (range.len(), t));
        if tree.is_some() && same {
            return Ok(());
        }
        let items = match tree {
            Some(id) => self.tree(id)?,
            None => Vec::new(),
        };
        let mut items = items.into_iter().peekable();
        let mut i = range.start;
        while i < range.end {
            let path = self.index.path(i);
            let rest = &path[prefix..];
            let (key, end) = match memchr(b'/', rest) {
                Some(slash) => {
                    let sub = &path[..prefix + slash + 1];
                    (&rest[..=slash], self.index.group_end(i..range.end, sub))
                }
                None => (rest, i + 1),
            };
            while items.peek().is_some_and(|t| t.key.as_slice() < key) {
                items.next();
                self.deleted = true;
            }
            let head = items.next_if(|t| t.key == key);
            if key.ends_with(b"/") {
                let data = self.index.data.bytes();
                let name = &key[..key.len() - 1];
                let child = cache.and_then(|c| self.tree_cache.child(data, c, name));
                let sub = head.map(|t| t.id);
                self.folder(prefix + key.len(), sub, child, i..end, depth + 1)?;
            } else {
                self.leaf(i, head);
            }
            i = end;
        }
        if items.next().is_some() {
            self.deleted = true;
        }
        Ok(())
    }

    /// Index entry `i` against HEAD's entry at the same path, if any.
    fn leaf(&mut self, i: usize, head: Option<TreeItem>) {
        let new = (self.index.mode(i), self.index.oid(i));
        let old = head.map(|t| (t.mode, t.id));
        if old == Some(new) {
            return;
        }
        self.added |= old.is_none();
        self.out.push(Change {
            path: self.index.path(i).to_vec(),
            old,
            new,
        });
    }

    /// A tree's entries in git's order.
    fn tree(&self, id: Oid) -> Res<Vec<TreeItem>> {
        let tree = (self.repo.find_tree(id)).map_err(|_| Unsupported("a tree it cannot read"))?;
        let mut items: Vec<TreeItem> = tree
            .iter()
            .map(|e| {
                let mode = canon_mode(e.filemode_raw() as u32);
                let mut key = e.name_bytes().to_vec();
                if mode == DIR_MODE {
                    key.push(b'/');
                }
                TreeItem {
                    key,
                    mode,
                    id: e.id(),
                }
            })
            .collect();
        items.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(items)
    }
}
