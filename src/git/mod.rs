//! All git plumbing, shared by the git doors (history, pre-receive,
//! pre-push, and the staged changes' `git diff-index`) and their tests.
//! Nothing after the sources knows about git.
//!
//! - [`ObjectReader`]: the one small interface for reading an object by id,
//!   backed by gitoxide everywhere (a repository, or a hook's stores).
//! - [`objects`]: one object read as a commit, a tree, an author, or a tip
//!   peeled through its tags (one depth rule for every door).
//! - [`command`]: running the `git` executable, read-only, with a deadline.
//! - [`hook_stores`]: the repository and object stores a hook sees (the
//!   push's quarantine first).
//! - [`packs`]: every object of a repository read once, in pack order, each
//!   delta base resolved once (`packs/delta.rs`, on every core), plus loose
//!   objects; then, if asked, the trees alone along their own delta chains.
//! - [`tree_index`]: every tree reduced to its folders and the entries that
//!   matter, so history diffs commits in memory.
//! - [`introduced`]: the blobs a commit brings in relative to its parents, by
//!   diffing trees and skipping subtrees whose ids are equal.
//! - [`index`]: the staged changes from the index file and its
//!   cache-tree, without starting git (pre-commit).
//! - [`repo`]: opening a repository read-only and listing what it holds.
//! - [`hooks`]: installing and removing keyscan's hook scripts.

pub mod command;
pub mod hook_stores;
pub mod hooks;
pub mod index;
pub mod introduced;
pub mod objects;
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

/// A git2 id as a gitoxide id (both are SHA-1 bytes).
pub fn from_git2(oid: git2::Oid) -> ObjectId {
    ObjectId::from_bytes_or_panic(oid.as_bytes())
}
