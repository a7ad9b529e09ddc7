//! Keys as they live on machines, for `keyscan audit`: walks homes, `/home`
//! or per-host dumps (`hosts/web1/...`) without .gitignore rules and
//! without following symlinks, and yields key files and `authorized_keys`
//! files with their owner, mode, mtime, host and exposure.
//!
//! Only files named like keys are read (see `kind_of`): a full content scan
//! of every file is `keyscan scan --no-ignore`.

use anyhow::{bail, Result};
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Key files larger than this are not read.
const MAX_KEY_FILE: u64 = 1024 * 1024;

#[derive(Debug, Clone, Copy, Default)]
pub struct WalkOptions {
    /// The host is this path component under each root (1 = the first):
    /// `hosts/web1/home/...` with 1 gives `web1`. `None`: this machine.
    pub host_from_path: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `authorized_keys` or `authorized_keys2`.
    AuthorizedKeys,
    /// Anything else named like a key (private or public).
    Key,
}

/// One file worth reading.
#[derive(Debug, Clone)]
pub struct MachineFile {
    pub kind: FileKind,
    /// As walked (root joined with the relative path).
    pub path: String,
    pub host: String,
    /// The path on its host: the part after the host component in a dump,
    /// else the absolute path.
    pub host_path: String,
    /// Whose file it is: the home it sits in (`/home/alice`, `/root`),
    /// else its owner.
    pub user: String,
    pub owner: String,
    pub mode: u32,
    /// Seconds since 1970.
    pub mtime: i64,
    /// Why others can get at it: loose file mode or a world-writable
    /// directory on its way (within the root).
    pub exposed: Option<String>,
    pub data: Vec<u8>,
}

#[derive(Debug, Default)]
pub struct Walk {
    pub files: Vec<MachineFile>,
    /// Files and directories that could not be read.
    pub errors: Vec<String>,
    /// Regular files seen.
    pub seen: usize,
}

/// Walk every root.
pub fn walk(roots: &[PathBuf], opts: &WalkOptions) -> Result<Walk> {
    let mut out = Walk::default();
    let users = Users::load();
    let local = local_host();
    for root in roots {
        let meta = std::fs::metadata(root)
            .map_err(|e| anyhow::anyhow!("cannot audit {}: {e}", root.display()))?;
        if !meta.is_dir() {
            bail!("cannot audit {}: not a directory", root.display());
        }
        let found = candidates(root, &mut out);
        let mut dirs = DirModes::default();
        for (path, kind) in found {
            match describe(root, &path, kind, opts, &users, &local, &mut dirs) {
                Ok(Some(f)) => out.files.push(f),
                Ok(None) => {}
                Err(e) => out.errors.push(format!("{}: {e}", path.display())),
            }
        }
    }
    out.files.sort_by(|a, b| a.path.cmp(&b.path));
    out.errors.sort();
    Ok(out)
}

/// Files named like keys under `root`, walked in parallel.
fn candidates(root: &Path, out: &mut Walk) -> Vec<(PathBuf, FileKind)> {
    let found = Mutex::new(Vec::new());
    let errors = Mutex::new(Vec::new());
    let seen = AtomicUsize::new(0);
    ignore::WalkBuilder::new(root)
        .standard_filters(false)
        .hidden(false)
        .follow_links(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build_parallel()
        .run(|| {
            Box::new(|entry| {
                match entry {
                    Ok(e) if e.file_type().is_some_and(|t| t.is_file()) => {
                        seen.fetch_add(1, Ordering::Relaxed);
                        if let Some(kind) = kind_of(e.path()) {
                            found.lock().unwrap().push((e.into_path(), kind));
                        }
                    }
                    Ok(_) => {}
                    Err(err) => errors.lock().unwrap().push(err.to_string()),
                }
                ignore::WalkState::Continue
            })
        });
    out.seen += seen.into_inner();
    out.errors.extend(errors.into_inner().unwrap());
    found.into_inner().unwrap()
}

/// Which files are read: `authorized_keys*`, everything in a `.ssh`
/// folder but `known_hosts` and `config`, and names keys go by.
fn kind_of(path: &Path) -> Option<FileKind> {
    let name = path.file_name()?.to_str()?;
    if name == "authorized_keys" || name == "authorized_keys2" {
        return Some(FileKind::AuthorizedKeys);
    }
    let lower = name.to_ascii_lowercase();
    let in_ssh = path
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|d| d == ".ssh");
    if in_ssh {
        let skip = lower.starts_with("known_hosts") || lower == "config" || lower == "environment";
        return (!skip).then_some(FileKind::Key);
    }
    const EXT: &[&str] = &[
        ".pem",
        ".key",
        ".ppk",
        ".pub",
        ".p8",
        ".pk8",
        ".der",
        ".asc",
        ".gpg",
        ".p12",
        ".pfx",
        ".jks",
        ".keystore",
        ".openssh",
        ".priv",
    ];
    let named = lower.starts_with("id_")
        || lower.contains("private")
        || ["_rsa", "_dsa", "_ecdsa", "_ed25519"]
            .iter()
            .any(|s| lower.ends_with(s));
    (named || EXT.iter().any(|e| lower.ends_with(e))).then_some(FileKind::Key)
}

/// Stat and read one file (`None`: too large to be a key).
fn describe(
    root: &Path,
    path: &Path,
    kind: FileKind,
    opts: &WalkOptions,
    users: &Users,
    local: &str,
    dirs: &mut DirModes,
) -> std::io::Result<Option<MachineFile>> {
    let meta = std::fs::symlink_metadata(path)?;
    if meta.len() > MAX_KEY_FILE {
        return Ok(None);
    }
    let data = std::fs::read(path)?;
    let rel = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<String> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    let (host, host_path) = match opts.host_from_path {
        Some(n) if n >= 1 && parts.len() > n => {
            (parts[n - 1].clone(), format!("/{}", parts[n..].join("/")))
        }
        _ => {
            let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
            (local.to_string(), abs.display().to_string())
        }
    };
    let owner = users.name(meta.uid());
    let user = home_user(&host_path).unwrap_or_else(|| owner.clone());
    let mode = meta.mode() & 0o7777;
    let mut exposed = (mode & 0o077 != 0)
        .then(|| format!("mode {mode:04o}: group or others can read it; chmod 600"));
    if exposed.is_none() {
        exposed = dirs.world_writable(root, path);
    }
    Ok(Some(MachineFile {
        kind,
        path: shown(path),
        host,
        host_path,
        user,
        owner,
        mode,
        mtime: meta.mtime(),
        exposed,
        data,
    }))
}

/// A path as reports show it: without `./` parts, non-UTF-8 bytes escaped.
fn shown(path: &Path) -> String {
    let clean: PathBuf = (path.components())
        .filter(|c| !matches!(c, Component::CurDir))
        .collect();
    crate::report::escape::path(clean.as_os_str().as_encoded_bytes()).0
}

/// `alice` for `/home/alice/...` (or `/Users/alice/...`), `root` for `/root/...`.
fn home_user(host_path: &str) -> Option<String> {
    let parts: Vec<&str> = host_path.split('/').filter(|s| !s.is_empty()).collect();
    for (i, p) in parts.iter().enumerate() {
        if *p == "root" && i == 0 {
            return Some("root".into());
        }
        if (*p == "home" || *p == "Users") && i + 2 < parts.len() {
            return Some(parts[i + 1].to_string());
        }
    }
    None
}

/// Modes of the directories between a root and its files, each stat'ed once.
#[derive(Default)]
struct DirModes {
    modes: HashMap<PathBuf, Option<u32>>,
}

impl DirModes {
    /// The first directory from the root down to the file's folder that
    /// anyone may write to (no sticky bit): whoever can write there can
    /// swap or take the key.
    fn world_writable(&mut self, root: &Path, file: &Path) -> Option<String> {
        let mut chain: Vec<&Path> = file
            .ancestors()
            .skip(1)
            .take_while(|d| d.starts_with(root))
            .collect();
        chain.reverse();
        for dir in chain {
            let mode = *self.modes.entry(dir.to_path_buf()).or_insert_with(|| {
                std::fs::symlink_metadata(dir)
                    .ok()
                    .map(|m| m.mode() & 0o7777)
            });
            if let Some(m) = mode.filter(|m| m & 0o002 != 0 && m & 0o1000 == 0) {
                return Some(format!(
                    "{} is mode {m:04o}: anyone can take or replace the key; chmod 700 it",
                    shown(dir)
                ));
            }
        }
        None
    }
}

/// uid -> name from /etc/passwd, else the number.
struct Users(HashMap<u32, String>);

impl Users {
    fn load() -> Users {
        let text = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        let map = text
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                Some((f.get(2)?.parse().ok()?, f.first()?.to_string()))
            })
            .collect();
        Users(map)
    }

    fn name(&self, uid: u32) -> String {
        self.0.get(&uid).cloned().unwrap_or_else(|| uid.to_string())
    }
}

/// This machine's name.
pub fn local_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_files_are_read() {
        let k = |p: &str| kind_of(Path::new(p));
        assert_eq!(
            k("/h/.ssh/authorized_keys2"),
            Some(FileKind::AuthorizedKeys)
        );
        assert_eq!(k("/h/.ssh/deploy"), Some(FileKind::Key));
        assert_eq!(k("/h/.ssh/known_hosts.old"), None);
        assert_eq!(k("/h/src/main.rs"), None);
        assert_eq!(k("/h/keys/server.PEM"), Some(FileKind::Key));
        assert_eq!(k("/h/backup/id_ed25519"), Some(FileKind::Key));
    }

    #[test]
    fn users_from_home_paths() {
        assert_eq!(
            home_user("/home/alice/.ssh/id_rsa").as_deref(),
            Some("alice")
        );
        assert_eq!(
            home_user("/root/.ssh/authorized_keys").as_deref(),
            Some("root")
        );
        assert_eq!(home_user("/srv/x/authorized_keys"), None);
    }
}
