//! Reading git objects, shared by the git doors (history, pre-receive,
//! pre-push) and their tests. Nothing after the sources knows about git.
//!
//! - [`ObjectReader`]: the one small interface for reading an object by id.
//!   gitoxide backs it for history (fast, parallel); git2 backs it in hooks,
//!   where objects sit in git's quarantine directory that only git and
//!   libgit2's `open_from_env` see.
//! - [`packs`]: every object of a repository read once, in pack order, each
//!   delta base resolved once (gitoxide's delta-tree traversal), plus loose
//!   objects; then, if asked, the trees alone along their own delta chains.
//! - [`tree_index`]: every tree reduced to its folders and the entries that
//!   matter, so history diffs commits in memory.
//! - [`introduced`]: the blobs a commit brings in relative to its parents, by
//!   diffing trees and skipping subtrees whose ids are equal.
//! - [`repo`]: opening a repository read-only and listing what it holds.

pub mod hooks;
pub mod introduced;
pub mod packs;
pub mod repo;
pub mod tree_index;

use gix::objs::Kind;
pub use gix::ObjectId;

/// Reads objects by id. `Ok(None)` means the object is not in the
/// repository (a partial clone, a corrupted store); `Err` that it could not
/// be read.
pub trait ObjectReader {
    fn read(&self, id: &ObjectId, buf: &mut Vec<u8>) -> anyhow::Result<Option<Kind>>;
}

impl ObjectReader for gix::Repository {
    fn read(&self, id: &ObjectId, buf: &mut Vec<u8>) -> anyhow::Result<Option<Kind>> {
        use gix::prelude::Find;
        match self.objects.try_find(id, buf) {
            Ok(Some(data)) => Ok(Some(data.kind)),
            Ok(None) => Ok(None),
            Err(e) => Err(anyhow::anyhow!("cannot read object {id}: {e}")),
        }
    }
}

impl ObjectReader for git2::Repository {
    fn read(&self, id: &ObjectId, buf: &mut Vec<u8>) -> anyhow::Result<Option<Kind>> {
        let oid = git2::Oid::from_bytes(id.as_bytes())?;
        let odb = self.odb()?;
        let obj = match odb.read(oid) {
            Ok(obj) => obj,
            Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
            Err(e) => anyhow::bail!("cannot read object {id}: {}", e.message()),
        };
        let kind = match obj.kind() {
            git2::ObjectType::Blob => Kind::Blob,
            git2::ObjectType::Tree => Kind::Tree,
            git2::ObjectType::Commit => Kind::Commit,
            git2::ObjectType::Tag => Kind::Tag,
            _ => anyhow::bail!("object {id} has an unknown type"),
        };
        buf.clear();
        buf.extend_from_slice(obj.data());
        Ok(Some(kind))
    }
}

/// A git2 id as a gitoxide id (both are SHA-1 bytes).
pub fn from_git2(oid: git2::Oid) -> ObjectId {
    ObjectId::from_bytes_or_panic(oid.as_bytes())
}
