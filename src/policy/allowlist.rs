//! The `[allowlist]` of `.keyscan.toml`: keys allowed by fingerprint (in any
//! form keyscan prints) and vendored trees skipped by path glob.
//!
//! Each entry counts what it matched, so `--check-config` can name the
//! entries that matched nothing once a scan is done.

use crate::scan::finding::{fingerprint_forms, KeyInfo};
use crate::validate::fingerprint::ssh_md5;
use anyhow::{Context, Result};
use globset::{GlobSet, GlobSetBuilder};
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// One `fingerprints` entry, as written in the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FingerprintEntry {
    pub fingerprint: String,
    pub reason: Option<String>,
    /// `YYYY-MM-DD`; the entry allows until the end of that day.
    pub expires: Option<String>,
    pub expired: bool,
    /// Where it is written, e.g. `.keyscan.toml:7`.
    pub origin: String,
}

impl FingerprintEntry {
    /// A plain entry that never expires (as a bare string in the config).
    pub fn plain(fingerprint: &str) -> Self {
        FingerprintEntry {
            fingerprint: fingerprint.to_string(),
            reason: None,
            expires: None,
            expired: false,
            origin: "(built in code)".to_string(),
        }
    }

    /// How a warning names the entry.
    pub fn describe(&self) -> String {
        let mut s = format!("allowlist entry {} ({})", self.fingerprint, self.origin);
        if let Some(r) = &self.reason {
            s.push_str(&format!(" \"{r}\""));
        }
        s
    }
}

/// What the allowlist says about one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Only an expired entry names this key: it blocks again, and says why.
    Expired(String),
    NotListed,
}

#[derive(Debug, Clone, Default)]
pub struct Allowlist {
    entries: Vec<FingerprintEntry>,
    /// Normalised fingerprint -> entry index.
    by_fingerprint: HashMap<String, usize>,
    /// Some entry is a hex form 16 bytes long, which may be an OpenSSH MD5
    /// fingerprint: only then is the MD5 of each key computed.
    wants_md5: bool,
    globs: Vec<String>,
    glob_set: GlobSet,
    entry_hits: Arc<Vec<AtomicUsize>>,
    glob_hits: Arc<Vec<AtomicUsize>>,
    files_skipped: Arc<AtomicUsize>,
}

impl Allowlist {
    pub fn new(entries: Vec<FingerprintEntry>, globs: Vec<String>) -> Result<Self> {
        let mut by_fingerprint = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            by_fingerprint.entry(normalize(&e.fingerprint)).or_insert(i);
        }
        let wants_md5 = by_fingerprint
            .keys()
            .any(|k| k.strip_prefix("hex:").is_some_and(|h| h.len() == 32));
        let mut builder = GlobSetBuilder::new();
        for g in &globs {
            let glob = globset::GlobBuilder::new(g.trim_start_matches("./"))
                .literal_separator(true)
                .build()
                .with_context(|| format!("bad glob in [allowlist] paths: {g}"))?;
            builder.add(glob);
        }
        let glob_set = builder.build().context("building the [allowlist] paths")?;
        Ok(Allowlist {
            entry_hits: Arc::new(entries.iter().map(|_| AtomicUsize::new(0)).collect()),
            glob_hits: Arc::new(globs.iter().map(|_| AtomicUsize::new(0)).collect()),
            files_skipped: Arc::new(AtomicUsize::new(0)),
            entries,
            by_fingerprint,
            wants_md5,
            globs,
            glob_set,
        })
    }

    pub fn entries(&self) -> &[FingerprintEntry] {
        &self.entries
    }

    pub fn has_paths(&self) -> bool {
        !self.globs.is_empty()
    }

    /// Whether a key is allowed; counts the entry that matched.
    pub fn verdict(&self, info: &KeyInfo) -> Verdict {
        let md5 = if self.wants_md5 {
            info.public_key.as_deref().and_then(ssh_md5)
        } else {
            None
        };
        let forms = fingerprint_forms(&info.fingerprint, &info.aws_fingerprints);
        let mut expired = None;
        for form in forms.chain(md5.as_deref()) {
            let Some(&i) = self.by_fingerprint.get(&normalize(form)) else {
                continue;
            };
            let entry = &self.entries[i];
            if entry.expired {
                expired = Some(entry);
                continue;
            }
            self.entry_hits[i].fetch_add(1, Ordering::Relaxed);
            return Verdict::Allowed;
        }
        match expired {
            Some(e) => Verdict::Expired(format!(
                "{} expired on {}, so this key blocks again",
                e.describe(),
                e.expires.as_deref().unwrap_or("?")
            )),
            None => Verdict::NotListed,
        }
    }

    /// Whether a file (path relative to the config's directory, `/`
    /// separators) is skipped; counts it.
    pub fn skips_path(&self, rel: &str) -> bool {
        if self.globs.is_empty() {
            return false;
        }
        let matched = self.glob_set.matches(rel.trim_start_matches("./"));
        if matched.is_empty() {
            return false;
        }
        for i in matched {
            self.glob_hits[i].fetch_add(1, Ordering::Relaxed);
        }
        self.files_skipped.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// Whether a path (as for [`Allowlist::skips_path`]) is under a path
    /// glob, without counting it as a skipped file.
    pub fn covers_path(&self, rel: &str) -> bool {
        !self.globs.is_empty() && self.glob_set.is_match(rel.trim_start_matches("./"))
    }

    pub fn files_skipped(&self) -> usize {
        self.files_skipped.load(Ordering::Relaxed)
    }

    /// Entries (fingerprints and path globs) that matched nothing so far,
    /// one line each. Meaningful after a scan that covered what they are for.
    pub fn unused(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (e, hits) in self.entries.iter().zip(self.entry_hits.iter()) {
            if !e.expired && hits.load(Ordering::Relaxed) == 0 {
                out.push(format!("{} matched no key", e.describe()));
            }
        }
        for (g, hits) in self.globs.iter().zip(self.glob_hits.iter()) {
            if hits.load(Ordering::Relaxed) == 0 {
                out.push(format!("allowlist path {g} matched no file"));
            }
        }
        out
    }

    /// One warning per expired entry.
    pub fn expired_warnings(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter(|e| e.expired)
            .map(|e| {
                format!(
                    "{} expired on {} and no longer allows that key",
                    e.describe(),
                    e.expires.as_deref().unwrap_or("?")
                )
            })
            .collect()
    }
}

/// Paths as the `[allowlist] paths` globs see them: relative to the config
/// file's directory with `/` separators, however they were spelt (`..`,
/// `./`, absolute, through a symlinked directory) and wherever keyscan runs.
#[derive(Debug)]
pub struct PathRoot {
    root: PathBuf,
    /// Canonical form of each directory seen: files come a folder at a time.
    dirs: HashMap<PathBuf, PathBuf>,
}

impl PathRoot {
    /// `root` is the config's directory (the current directory without one).
    pub fn new(root: &Path) -> Self {
        let root = resolve(root);
        PathRoot {
            root,
            dirs: HashMap::new(),
        }
    }

    /// A git path (clean, `/` separators, relative to the work tree `top`)
    /// relative to the root: only `top` needs resolving, and the file need
    /// not exist on disk.
    pub fn relative_in(&mut self, top: &Path, path: &str) -> Option<String> {
        let top = self
            .dirs
            .entry(top.to_path_buf())
            .or_insert_with_key(|d| resolve(d));
        let full = top.join(path);
        let rel = full.strip_prefix(&self.root).ok()?;
        Some(slashed(rel))
    }

    /// `path` relative to the root, or `None` when it lies outside: no
    /// glob applies there. The file's own name is kept (a symlinked file
    /// is judged where it is, not where it points).
    pub fn relative(&mut self, path: &Path) -> Option<String> {
        let abs = lexical(&std::path::absolute(path).ok()?);
        let (dir, name) = match (abs.parent(), abs.file_name()) {
            (Some(dir), Some(name)) => (dir.to_path_buf(), Some(name.to_owned())),
            _ => (abs.clone(), None),
        };
        let dir = self
            .dirs
            .entry(dir)
            .or_insert_with_key(|d| resolve(d))
            .clone();
        let full = match name {
            Some(name) => dir.join(name),
            None => dir,
        };
        let rel = full.strip_prefix(&self.root).ok()?;
        Some(slashed(rel))
    }
}

fn slashed(rel: &Path) -> String {
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

/// The canonical path when it exists, else the absolute path with `.` and
/// `..` taken out by name.
fn resolve(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| {
        lexical(&std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()))
    })
}

/// `.` dropped, `..` removing the component before it, without touching
/// the disk.
pub fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// One spelling per key digest: `SHA256:abc` and AWS's padded `abc=` are the
/// same digest (`b64:abc`); hex forms (AWS, OpenPGP, `MD5:`) compare without
/// case, colons or spaces (`hex:0a1b...`).
pub fn normalize(fingerprint: &str) -> String {
    let fp = fingerprint.trim();
    let lower = fp.to_ascii_lowercase();
    if lower.starts_with("sha256:") {
        return format!("b64:{}", fp[7..].trim_end_matches('='));
    }
    let rest = if lower.starts_with("md5:") {
        &fp[4..]
    } else {
        fp
    };
    let hex: String = rest
        .chars()
        .filter(|c| *c != ':' && !c.is_whitespace())
        .collect();
    if !hex.is_empty() && hex.len() % 2 == 0 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return format!("hex:{}", hex.to_ascii_lowercase());
    }
    format!("b64:{}", fp.trim_end_matches('='))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_forms_normalise_to_one_spelling() {
        assert_eq!(normalize("SHA256:abcD"), normalize("abcD="));
        assert_eq!(normalize("sha256:abcD"), "b64:abcD");
        assert_ne!(normalize("SHA256:abcd"), normalize("SHA256:abcD"));
        assert_eq!(normalize("MD5:0A:1b"), normalize("0a1B"));
        assert_eq!(normalize("AB12 CD34"), "hex:ab12cd34");
    }

    #[test]
    fn path_globs_count_and_report_unused() {
        let a = Allowlist::new(Vec::new(), vec!["vendor/**".into(), "x/*.pem".into()]).unwrap();
        assert!(a.skips_path("vendor/a/b.pem"));
        assert!(a.skips_path("./vendor/c"));
        assert!(!a.skips_path("src/vendor/c"));
        assert_eq!(a.files_skipped(), 2);
        assert_eq!(a.unused(), vec!["allowlist path x/*.pem matched no file"]);
        assert!(a.covers_path("x/a.pem"));
        assert_eq!(a.files_skipped(), 2);
    }

    #[test]
    fn paths_are_relative_to_the_root_however_spelt() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("repo");
        std::fs::create_dir_all(root.join("vendor/x")).unwrap();
        std::fs::create_dir_all(root.join("src")).unwrap();
        let mut r = PathRoot::new(&root);
        let rel = |r: &mut PathRoot, p: PathBuf| r.relative(&p);
        assert_eq!(
            rel(&mut r, root.join("vendor/../src/k")).as_deref(),
            Some("src/k")
        );
        assert_eq!(
            rel(&mut r, root.join("./vendor/./x/k")).as_deref(),
            Some("vendor/x/k")
        );
        assert_eq!(rel(&mut r, tmp.path().join("other/k")), None);
        assert_eq!(
            r.relative_in(&root, "gone/dir/k").as_deref(),
            Some("gone/dir/k")
        );
        assert_eq!(
            r.relative_in(&root.join("vendor"), "x/k").as_deref(),
            Some("vendor/x/k")
        );
        assert_eq!(r.relative_in(tmp.path(), "k"), None);
        #[cfg(unix)]
        {
            let link = tmp.path().join("link");
            std::os::unix::fs::symlink(&root, &link).unwrap();
            assert_eq!(
                rel(&mut r, link.join("vendor/x/k")).as_deref(),
                Some("vendor/x/k")
            );
        }
    }
}
