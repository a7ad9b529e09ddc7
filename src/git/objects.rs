//! Reading one object as what it should be: a commit, a tree, a commit's
//! author, or a ref's tip peeled through its annotated tags. One rule for
//! every door: a tag chain deeper than [`MAX_TAG_DEPTH`] is an error.

use super::{ObjectId, ObjectReader};
use anyhow::{anyhow, bail, Result};
use gix::objs::tree::EntryMode;
use gix::objs::{Kind, TreeRefIter};

/// One entry of a tree, owned (trees are read into reused buffers).
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: Vec<u8>,
    pub mode: EntryMode,
    pub id: ObjectId,
}

/// Reads tree `id` into `buf`. A missing tree is an error: without it the
/// commit's content cannot be known.
pub(crate) fn load_tree(reader: &dyn ObjectReader, id: &ObjectId, buf: &mut Vec<u8>) -> Result<()> {
    match reader.read(id, buf)? {
        Some(Kind::Tree) => Ok(()),
        Some(kind) => bail!("object {id} is a {kind}, not a tree"),
        None => bail!("tree {id} is missing from the repository"),
    }
}

/// The entries of tree `id`. A missing tree is an error: without it the
/// commit's content cannot be known.
pub fn read_tree(
    reader: &dyn ObjectReader,
    id: &ObjectId,
    buf: &mut Vec<u8>,
) -> Result<Vec<Entry>> {
    load_tree(reader, id, buf)?;
    TreeRefIter::from_bytes(buf, id.kind())
        .map(|e| {
            let e = e.map_err(|err| anyhow!("tree {id} is corrupt: {err}"))?;
            Ok(Entry {
                name: e.filename.to_vec(),
                mode: e.mode,
                id: e.oid.to_owned(),
            })
        })
        .collect()
}

/// Commit fields the walks need.
#[derive(Debug, Clone)]
pub struct CommitData {
    pub tree: ObjectId,
    pub parents: Vec<ObjectId>,
    /// Committer time, seconds since the epoch (orders "first").
    pub time: i64,
}

/// Reads and parses commit `id`.
pub fn read_commit(
    reader: &dyn ObjectReader,
    id: &ObjectId,
    buf: &mut Vec<u8>,
) -> Result<CommitData> {
    match reader.read(id, buf)? {
        Some(Kind::Commit) => {}
        Some(kind) => bail!("object {id} is a {kind}, not a commit"),
        None => bail!("commit {id} is missing from the repository"),
    }
    let c = gix::objs::CommitRef::from_bytes(buf, id.kind())
        .map_err(|e| anyhow!("commit {id} is corrupt: {e}"))?;
    Ok(CommitData {
        tree: c.tree(),
        parents: c.parents().collect(),
        time: c.time().map(|t| t.seconds).unwrap_or(0),
    })
}

/// A commit's author as reports show it.
#[derive(Debug, Clone)]
pub struct Author {
    pub name: String,
    pub email: String,
    /// RFC 3339.
    pub date: String,
}

/// The author of commit `id`.
pub fn read_author(reader: &dyn ObjectReader, id: &ObjectId) -> Result<Author> {
    let mut buf = Vec::new();
    match reader.read(id, &mut buf)? {
        Some(Kind::Commit) => {}
        _ => bail!("commit {id} cannot be read"),
    }
    let c = gix::objs::CommitRef::from_bytes(&buf, id.kind())
        .map_err(|e| anyhow!("commit {id} is corrupt: {e}"))?;
    let a = c
        .author()
        .map_err(|e| anyhow!("commit {id}: bad author: {e}"))?;
    let date = a
        .time()
        .map(|t| t.format_or_unix(gix::date::time::format::ISO8601_STRICT))
        .unwrap_or_default();
    Ok(Author {
        name: a.name.to_string(),
        email: a.email.to_string(),
        date,
    })
}

/// Annotated tags followed from one ref's tip before it is an error.
pub const MAX_TAG_DEPTH: usize = 64;

/// What a ref's tip is once its annotated tags are followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peeled {
    Commit(ObjectId),
    Tree(ObjectId),
    Blob(ObjectId),
}

/// Follows annotated tags from `id` to the commit, tree or blob they name.
/// A missing or corrupt object, or a chain of more than [`MAX_TAG_DEPTH`]
/// tags, is an error: what the ref holds cannot be known.
pub fn peel(reader: &dyn ObjectReader, id: ObjectId, buf: &mut Vec<u8>) -> Result<Peeled> {
    peel_with(reader, id, buf, &mut |_, _| {})
}

/// [`peel`], calling `on_tag(id, message)` for each annotated tag on the way.
pub fn peel_with(
    reader: &dyn ObjectReader,
    mut id: ObjectId,
    buf: &mut Vec<u8>,
    on_tag: &mut dyn FnMut(ObjectId, &[u8]),
) -> Result<Peeled> {
    for _ in 0..=MAX_TAG_DEPTH {
        match reader.read(&id, buf)? {
            Some(Kind::Commit) => return Ok(Peeled::Commit(id)),
            Some(Kind::Tree) => return Ok(Peeled::Tree(id)),
            Some(Kind::Blob) => return Ok(Peeled::Blob(id)),
            Some(Kind::Tag) => {
                on_tag(id, message(buf));
                id = gix::objs::TagRefIter::from_bytes(buf, id.kind())
                    .target_id()
                    .map_err(|e| anyhow!("tag {id} is corrupt: {e}"))?;
            }
            None => bail!("object {id} is missing from the repository"),
        }
    }
    bail!("more than {MAX_TAG_DEPTH} annotated tags in a chain (at {id}): not followed")
}

/// The message of a commit or tag object (with a tag's signature): what
/// follows the first empty line of its headers.
pub fn message(data: &[u8]) -> &[u8] {
    data.windows(2)
        .position(|w| w == b"\n\n")
        .map_or(&[][..], |at| &data[at + 2..])
}

/// The tree a tip leads to; `None` for a tag on a blob.
pub fn peel_to_tree(
    reader: &dyn ObjectReader,
    id: ObjectId,
    buf: &mut Vec<u8>,
) -> Result<Option<ObjectId>> {
    Ok(match peel(reader, id, buf)? {
        Peeled::Commit(c) => Some(read_commit(reader, &c, buf)?.tree),
        Peeled::Tree(t) => Some(t),
        Peeled::Blob(_) => None,
    })
}
