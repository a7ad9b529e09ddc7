//! The repository and object stores a hook sees, as git describes them in
//! the hook's environment. During a push the new objects sit in a
//! quarantine directory that only this environment names.

use super::{ObjectId, ObjectReader};
use anyhow::{anyhow, bail, Result};
use gix::objs::Kind;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The repository the hook runs in (libgit2's `open_from_env`).
pub fn open_repo() -> Result<git2::Repository> {
    git2::Repository::open_from_env()
        .map_err(|e| anyhow!("cannot open the repository: {}", e.message()))
}

/// The push's quarantine directory (`GIT_QUARANTINE_PATH`), if any.
pub fn quarantine() -> Option<PathBuf> {
    std::env::var_os("GIT_QUARANTINE_PATH")
        .filter(|q| !q.is_empty())
        .map(PathBuf::from)
}

/// The object stores a hook sees, searched in order: `GIT_OBJECT_DIRECTORY`
/// (the quarantine during a push), `GIT_ALTERNATE_OBJECT_DIRECTORIES`, then
/// the repository's own objects (each store follows its info/alternates).
pub struct HookStores(Vec<gix::odb::Handle>);

impl HookStores {
    pub fn open(git_dir: &Path) -> Result<Self> {
        let mut dirs: Vec<PathBuf> = Vec::new();
        if let Some(dir) = std::env::var_os("GIT_OBJECT_DIRECTORY").filter(|d| !d.is_empty()) {
            dirs.push(dir.into());
        }
        if let Some(alts) = std::env::var_os("GIT_ALTERNATE_OBJECT_DIRECTORIES") {
            dirs.extend(std::env::split_paths(&alts).filter(|d| !d.as_os_str().is_empty()));
        }
        dirs.push(git_dir.join("objects"));
        let mut handles = Vec::new();
        let mut seen = HashSet::new();
        for dir in dirs {
            let dir = std::path::absolute(&dir).unwrap_or(dir);
            if !seen.insert(dir.clone()) {
                continue;
            }
            let mut handle = gix::odb::at(&dir, gix::hash::Kind::Sha1)
                .map_err(|e| anyhow!("cannot open the object store {}: {e}", dir.display()))?;
            // Delta bases (blobs of a push are mostly deltas of each other)
            // and recent objects (each tree is read again as the next
            // commit's parent tree).
            handle.set_pack_cache(|| {
                Box::new(gix::odb::pack::cache::lru::MemoryCappedHashmap::new(
                    96 * 1024 * 1024,
                ))
            });
            handle.set_object_cache(|| {
                Box::new(gix::odb::pack::cache::object::MemoryCappedHashmap::new(
                    16 * 1024 * 1024,
                ))
            });
            handles.push(handle);
        }
        Ok(HookStores(handles))
    }

    /// The size and kind of an object, without inflating it.
    pub fn header(&self, id: &ObjectId) -> Result<Option<(Kind, u64)>> {
        use gix::odb::Header;
        for store in &self.0 {
            match store.try_header(id) {
                Ok(Some(h)) => return Ok(Some((h.kind(), h.size()))),
                Ok(None) => continue,
                Err(e) => bail!("cannot read object {id}: {e}"),
            }
        }
        Ok(None)
    }
}

impl ObjectReader for HookStores {
    fn read(&self, id: &ObjectId, buf: &mut Vec<u8>) -> Result<Option<Kind>> {
        use gix::prelude::Find;
        for store in &self.0 {
            match store.try_find(id, buf) {
                Ok(Some(data)) => return Ok(Some(data.kind)),
                Ok(None) => continue,
                Err(e) => bail!("cannot read object {id}: {e}"),
            }
        }
        Ok(None)
    }
}

/// Whether the repository's own object stores hold no object at all (a push
/// into an empty repository), so that everything a push names is in its
/// quarantine. Another store named in the environment makes it false.
pub fn server_is_empty(git_dir: &Path) -> bool {
    let Ok(own) = git_dir.join("objects").canonicalize() else {
        return false;
    };
    let others = std::env::var_os("GIT_ALTERNATE_OBJECT_DIRECTORIES").is_some_and(|alts| {
        std::env::split_paths(&alts)
            .filter(|d| !d.as_os_str().is_empty())
            .any(|d| d.canonicalize().ok().as_ref() != Some(&own))
    });
    !others
        && super::packs::Stores::open(&own)
            .is_ok_and(|s| s.packed_objects == 0 && !s.has_loose_or_alternates())
}
