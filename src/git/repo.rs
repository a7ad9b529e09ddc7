//! Opening a repository read-only with gitoxide, and listing its refs.
//!
//! Nothing here writes: no lock files, no index, no gc, no fetch (gitoxide
//! never asks a promisor remote for a missing object).

use super::ObjectId;
use anyhow::{anyhow, Result};
use std::path::{Path, PathBuf};

/// A repository opened for reading.
pub struct Repo {
    pub repo: gix::Repository,
    /// Its objects directory (alternates are found from there).
    pub objects_dir: PathBuf,
    /// Commits at the shallow boundary: history before them is not here.
    pub shallow: Vec<ObjectId>,
    /// A partial clone: blobs may be missing on purpose.
    pub partial: bool,
}

/// The commit walk reads trees whose delta chains share bases: keep decoded
/// bases (pack cache) and recent trees (object cache), per thread.
pub fn set_caches(repo: &mut gix::Repository) {
    repo.objects.set_pack_cache(|| {
        Box::new(gix::odb::pack::cache::lru::MemoryCappedHashmap::new(
            64 * 1024 * 1024,
        ))
    });
    repo.object_cache_size(16 * 1024 * 1024);
}

/// A ref and the object it points at (not peeled).
#[derive(Debug, Clone)]
pub struct RefTip {
    pub name: String,
    pub id: ObjectId,
}

impl Repo {
    /// The repository at or above `path` (work tree, `.git`, bare, or linked worktree).
    pub fn discover(path: &Path) -> Result<Self> {
        if !path.exists() {
            anyhow::bail!("{} does not exist", path.display());
        }
        let repo = gix::discover(path).map_err(|e| {
            anyhow!(
                "{} is not in a readable git repository: {e}",
                path.display()
            )
        })?;
        Self::from_gix(repo)
    }

    fn from_gix(mut repo: gix::Repository) -> Result<Self> {
        set_caches(&mut repo);
        let objects_dir = repo.objects.store_ref().path().to_path_buf();
        let shallow = repo
            .shallow_commits()
            .map_err(|e| anyhow!("cannot read the shallow file: {e}"))?
            .map(|c| c.iter().copied().collect())
            .unwrap_or_default();
        let config = repo.config_snapshot();
        let partial = config.string("extensions.partialClone").is_some()
            || std::fs::read_dir(objects_dir.join("pack"))
                .map(|rd| {
                    rd.filter_map(|e| e.ok())
                        .any(|e| e.path().extension().is_some_and(|x| x == "promisor"))
                })
                .unwrap_or(false);
        Ok(Repo {
            repo,
            objects_dir,
            shallow,
            partial,
        })
    }

    /// Every ref that points at an object (symbolic refs are followed by
    /// listing their targets), a detached HEAD, and every entry of the
    /// stash's reflog (`stash@{n}`).
    pub fn refs(&self) -> Result<Vec<RefTip>> {
        let mut tips = Vec::new();
        let platform = self
            .repo
            .references()
            .map_err(|e| anyhow!("cannot list refs: {e}"))?;
        let iter = platform
            .all()
            .map_err(|e| anyhow!("cannot list refs: {e}"))?;
        for r in iter {
            let r = r.map_err(|e| anyhow!("cannot read a ref: {e}"))?;
            if let gix::refs::TargetRef::Object(id) = r.target() {
                tips.push(RefTip {
                    name: r.name().as_bstr().to_string(),
                    id: id.to_owned(),
                });
            }
        }
        if let Ok(head) = self.repo.find_reference("HEAD") {
            if let gix::refs::TargetRef::Object(id) = head.target() {
                tips.push(RefTip {
                    name: "HEAD".into(),
                    id: id.to_owned(),
                });
            }
        }
        tips.extend(self.other_worktree_heads());
        if let Ok(stash) = self.repo.find_reference("refs/stash") {
            let mut log = stash.log_iter();
            if let Ok(Some(entries)) = log.rev() {
                for (n, entry) in entries.enumerate() {
                    let entry = entry.map_err(|e| anyhow!("cannot read the stash reflog: {e}"))?;
                    if n == 0 || entry.new_oid.is_null() {
                        continue; // stash@{0} is refs/stash itself
                    }
                    tips.push(RefTip {
                        name: format!("stash@{{{n}}}"),
                        id: entry.new_oid,
                    });
                }
            }
        }
        Ok(tips)
    }

    /// The detached HEADs of the other worktrees, named as git names them
    /// (`worktrees/NAME/HEAD`, `main-worktree/HEAD`): git counts what they
    /// hold as reachable (`git rev-list --all`), so history scans it too. A
    /// HEAD on a branch adds nothing: the branch is listed already.
    fn other_worktree_heads(&self) -> Vec<RefTip> {
        let same = |a: &Path, b: &Path| {
            let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
            canon(a) == canon(b)
        };
        let common = self.repo.common_dir();
        let own = self.repo.git_dir();
        let mut heads = Vec::new();
        if !same(common, own) {
            heads.push(("main-worktree/HEAD".to_string(), common.join("HEAD")));
        }
        if let Ok(dirs) = std::fs::read_dir(common.join("worktrees")) {
            for dir in dirs.filter_map(|d| d.ok()).map(|d| d.path()) {
                if !same(&dir, own) {
                    let name = dir.file_name().unwrap_or_default().to_string_lossy();
                    heads.push((format!("worktrees/{name}/HEAD"), dir.join("HEAD")));
                }
            }
        }
        heads
            .into_iter()
            .filter_map(|(name, file)| {
                let text = std::fs::read_to_string(file).ok()?;
                let id = ObjectId::from_hex(text.trim().as_bytes()).ok()?;
                Some(RefTip { name, id })
            })
            .collect()
    }

    /// Whether the object is in the repository (or an alternate).
    pub fn has(&self, id: &ObjectId) -> bool {
        use gix::objs::Exists;
        self.repo.objects.exists(id)
    }
}
