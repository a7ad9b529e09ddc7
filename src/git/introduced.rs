//! The blobs a commit introduces: entries of its tree that are at that path
//! in none of its parents. For a plain commit that is its diff against its
//! parent; for a merge it is the merge's own resolution (what no side had);
//! for a root commit it is its whole tree.
//!
//! Trees are compared by id before they are read, so a subtree that equals
//! a parent's at the same path is skipped without reading it: the cost
//! follows the change, not the size of the tree.

use super::objects::load_tree;
use super::{ObjectId, ObjectReader};
use anyhow::{anyhow, Result};
use gix::objs::tree::EntryMode;
use gix::objs::TreeRefIter;
use std::cmp::Ordering;

/// What a tree entry the commit introduces points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A file or an executable.
    File,
    /// A symbolic link (its blob holds the target path).
    Symlink,
    /// A submodule's commit (a gitlink): nothing here to read.
    Submodule,
}

/// Called with each introduced entry's path, id and kind.
pub type Visit<'a> = dyn FnMut(&[u8], ObjectId, EntryKind) -> Result<()> + 'a;

/// Calls `visit(path, blob, kind)` for every blob or gitlink in `tree` that
/// is at that path in none of `parents` (tree ids). Paths are the raw bytes
/// the repository holds, joined with `/`.
pub fn introduced(
    reader: &dyn ObjectReader,
    tree: ObjectId,
    parents: &[ObjectId],
    visit: &mut Visit<'_>,
) -> Result<()> {
    if parents.contains(&tree) {
        return Ok(());
    }
    let mut path = Vec::new();
    let mut pool = Vec::new();
    walk(reader, tree, parents, &mut path, &mut pool, visit, 0)
}

/// Trees nested deeper than this are an error, not a deeper recursion (git
/// refuses them too: `core.maxTreeDepth`).
pub const MAX_TREE_DEPTH: usize = 4096;

fn walk(
    reader: &dyn ObjectReader,
    tree: ObjectId,
    parents: &[ObjectId],
    path: &mut Vec<u8>,
    pool: &mut Vec<Vec<u8>>,
    visit: &mut Visit<'_>,
    depth: usize,
) -> Result<()> {
    if depth > MAX_TREE_DEPTH {
        anyhow::bail!(
            "tree {tree} is nested more than {MAX_TREE_DEPTH} levels deep (at {}): not scanned",
            String::from_utf8_lossy(&path[..path.len().min(200)])
        );
    }
    // One buffer per tree, taken from a pool: entries borrow from them, so
    // no entry is copied.
    let mut own = pool.pop().unwrap_or_default();
    load_tree(reader, &tree, &mut own)?;
    let mut parent_bufs = Vec::with_capacity(parents.len());
    for p in parents {
        let mut buf = pool.pop().unwrap_or_default();
        load_tree(reader, p, &mut buf)?;
        parent_bufs.push(buf);
    }
    let mut subtrees: Vec<(Vec<u8>, ObjectId, Vec<ObjectId>)> = Vec::new();
    {
        let mut cursors: Vec<std::iter::Peekable<TreeRefIter<'_>>> = parent_bufs
            .iter()
            .zip(parents)
            .map(|(b, p)| TreeRefIter::from_bytes(b, p.kind()).peekable())
            .collect();
        for e in TreeRefIter::from_bytes(&own, tree.kind()) {
            let e = e.map_err(|err| anyhow!("tree {tree} is corrupt: {err}"))?;
            let mut in_a_parent = false;
            let mut sub_parents = Vec::new();
            for cursor in cursors.iter_mut() {
                while let Some(Ok(pe)) = cursor.peek() {
                    if git_order(pe.filename, pe.mode, e.filename, e.mode) == Ordering::Less {
                        cursor.next();
                    } else {
                        break;
                    }
                }
                let Some(Ok(pe)) = cursor.peek() else {
                    continue;
                };
                if pe.filename != e.filename {
                    continue;
                }
                if pe.oid == e.oid && pe.mode.is_tree() == e.mode.is_tree() {
                    in_a_parent = true;
                    break;
                }
                if pe.mode.is_tree() && e.mode.is_tree() {
                    sub_parents.push(pe.oid.to_owned());
                }
            }
            if in_a_parent {
                continue;
            }
            if e.mode.is_tree() {
                subtrees.push((e.filename.to_vec(), e.oid.to_owned(), sub_parents));
                continue;
            }
            let len = path.len();
            push_name(path, e.filename);
            let kind = if e.mode.is_commit() {
                EntryKind::Submodule
            } else if e.mode.is_link() {
                EntryKind::Symlink
            } else {
                EntryKind::File
            };
            visit(path, e.oid.to_owned(), kind)?;
            path.truncate(len);
        }
    }
    pool.push(own);
    pool.extend(parent_bufs);
    for (name, id, sub_parents) in subtrees {
        let len = path.len();
        push_name(path, &name);
        walk(reader, id, &sub_parents, path, pool, visit, depth + 1)?;
        path.truncate(len);
    }
    Ok(())
}

/// Appends one path component, `/`-separated.
pub(crate) fn push_name(path: &mut Vec<u8>, name: &[u8]) {
    if !path.is_empty() {
        path.push(b'/');
    }
    path.extend_from_slice(name);
}

/// git's tree order: names compare bytewise, a tree's name as if it ended in `/`.
fn git_order(a: &[u8], a_mode: EntryMode, b: &[u8], b_mode: EntryMode) -> Ordering {
    let common = a.len().min(b.len());
    match a[..common].cmp(&b[..common]) {
        Ordering::Equal => {}
        other => return other,
    }
    let next = |name: &[u8], mode: EntryMode| {
        name.get(common)
            .copied()
            .or(if mode.is_tree() { Some(b'/') } else { None })
    };
    next(a, a_mode).cmp(&next(b, b_mode))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(tree: bool) -> EntryMode {
        if tree {
            EntryMode::from(gix::objs::tree::EntryKind::Tree)
        } else {
            EntryMode::from(gix::objs::tree::EntryKind::Blob)
        }
    }

    #[test]
    fn trees_sort_as_if_they_ended_in_a_slash() {
        // "a.b" (file) < "a" (tree, "a/") because '.' < '/'; "a" file < "a.b".
        let order =
            |a: &str, at, b: &str, bt| git_order(a.as_bytes(), mode(at), b.as_bytes(), mode(bt));
        assert_eq!(order("a.b", false, "a", true), Ordering::Less);
        assert_eq!(order("a", false, "a.b", false), Ordering::Less);
        assert_eq!(order("a", true, "a0", false), Ordering::Less);
        assert_eq!(order("b", true, "b", true), Ordering::Equal);
    }
}
