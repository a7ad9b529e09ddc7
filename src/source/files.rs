//! Files on disk and standard input. Honours .gitignore (via `ignore`) unless
//! told not to; hidden files are scanned, since `.ssh/`-like folders are
//! exactly where keys live.

use crate::policy::allowlist::PathRoot;
use crate::scan::finding::{Finding, Status};
use crate::scan::{Origin, Scanner};
use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Files at or above this size are memory-mapped; smaller ones are read
/// into a buffer each worker reuses (as ripgrep does when it walks a tree).
const MMAP_THRESHOLD: u64 = 16 * 1024 * 1024;

#[derive(Debug, Default)]
pub struct FileScan {
    pub findings: Vec<Finding>,
    /// Things the user should know that are not findings: files that could
    /// not be read.
    pub warnings: Vec<String>,
    pub files: usize,
    pub bytes: u64,
}

impl FileScan {
    fn merge(&mut self, other: FileScan) {
        self.findings.extend(other.findings);
        self.warnings.extend(other.warnings);
        self.files += other.files;
        self.bytes += other.bytes;
    }
}

pub struct WalkOptions {
    /// Scan files that .gitignore and friends would skip.
    pub no_ignore: bool,
}

/// Scan paths (files or directories; `-` is standard input).
pub fn scan_paths(scanner: &Scanner, paths: &[PathBuf], opts: &WalkOptions) -> Result<FileScan> {
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    let mut out = FileScan::default();
    for path in paths {
        if path.as_os_str() == "-" {
            scan_stdin(scanner, &mut out)?;
            continue;
        }
        let meta =
            std::fs::metadata(path).with_context(|| format!("cannot scan {}", path.display()))?;
        if meta.is_dir() {
            dirs.push(walk_root(path));
        } else {
            files.push(path.clone());
        }
    }
    let root = match scanner.policy.allowlist.has_paths() {
        // Globs are matched against paths relative to the config's
        // directory, however the path was spelt; none applies outside it.
        true => Some(match &scanner.policy.config_dir {
            Some(dir) => dir.clone(),
            None => std::env::current_dir().context("cannot find the current directory")?,
        }),
        false => None,
    };
    let sink = Mutex::new(out);
    files.par_iter().for_each_init(
        || Worker::new(scanner, root.as_deref(), &sink),
        |w, p| w.file(p),
    );
    if !dirs.is_empty() {
        walk(&dirs, opts, scanner, root.as_deref(), &sink);
    }
    let mut out = sink.into_inner().unwrap_or_else(|e| e.into_inner());
    out.findings
        .sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    out.warnings.sort();
    Ok(out)
}

fn scan_stdin(scanner: &Scanner, out: &mut FileScan) -> Result<()> {
    let mut data = Vec::new();
    std::io::stdin()
        .read_to_end(&mut data)
        .context("cannot read standard input")?;
    let origin = Origin {
        path: "<stdin>".to_string(),
        ..Origin::default()
    };
    out.files += 1;
    out.bytes += data.len() as u64;
    if scanner.policy.admit_content(&data) {
        out.findings.extend(scanner.scan(&data, &origin));
    }
    Ok(())
}

/// A directory to walk, spelt so that the walker enters it when it is a
/// symbolic link (the parallel walker, unlike the serial one, would not).
fn walk_root(path: &Path) -> PathBuf {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if !is_link {
        return path.to_path_buf();
    }
    let mut s = path.as_os_str().to_owned();
    s.push(std::path::MAIN_SEPARATOR_STR);
    PathBuf::from(s)
}

/// Walk the directories in parallel, each walker thread scanning the
/// files it finds as it goes (the walk and the reads overlap, as in
/// ripgrep).
fn walk(
    dirs: &[PathBuf],
    opts: &WalkOptions,
    scanner: &Scanner,
    root: Option<&Path>,
    sink: &Mutex<FileScan>,
) {
    let mut builder = ignore::WalkBuilder::new(&dirs[0]);
    for d in &dirs[1..] {
        builder.add(d);
    }
    builder
        .hidden(false)
        .git_ignore(!opts.no_ignore)
        .git_global(!opts.no_ignore)
        .git_exclude(!opts.no_ignore)
        .ignore(!opts.no_ignore)
        .parents(!opts.no_ignore)
        .require_git(false)
        .threads(rayon::current_num_threads())
        .filter_entry(|e| e.file_name() != ".git");
    builder.build_parallel().run(|| {
        let mut w = Worker::new(scanner, root, sink);
        Box::new(move |entry| {
            match entry {
                Ok(e) if e.file_type().is_some_and(|t| t.is_file()) => w.file(e.path()),
                Ok(_) => {}
                Err(err) => w.out.warnings.push(format!("skipped: {err}")),
            }
            ignore::WalkState::Continue
        })
    });
}

/// One thread's share of a scan: its read buffer, reused from file to
/// file, and its results, handed to `sink` when it is done.
struct Worker<'a> {
    scanner: &'a Scanner,
    /// The allowlist's path globs are relative to this directory.
    root: Option<PathRoot>,
    buf: Vec<u8>,
    out: FileScan,
    sink: &'a Mutex<FileScan>,
}

impl<'a> Worker<'a> {
    fn new(scanner: &'a Scanner, root: Option<&Path>, sink: &'a Mutex<FileScan>) -> Self {
        Worker {
            scanner,
            root: root.map(PathRoot::new),
            buf: Vec::new(),
            out: FileScan::default(),
            sink,
        }
    }

    fn file(&mut self, path: &Path) {
        if let Some(root) = &mut self.root {
            if let Some(rel) = root.relative(path) {
                if !self.scanner.policy.admit_path(&rel) {
                    return;
                }
            }
        }
        let r = scan_file(self.scanner, path, &mut self.buf);
        self.out.files += 1;
        self.out.bytes += r.bytes;
        self.out.findings.extend(r.findings);
        self.out.warnings.extend(r.warnings);
    }
}

impl Drop for Worker<'_> {
    fn drop(&mut self) {
        let out = std::mem::take(&mut self.out);
        self.sink
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .merge(out);
    }
}

struct FileResult {
    findings: Vec<Finding>,
    warnings: Vec<String>,
    bytes: u64,
}

/// A file's path as findings show it: as given, without `./` parts (as
/// the baseline records it); with its raw bytes when they are not UTF-8.
fn shown_path(path: &Path) -> (String, Option<Vec<u8>>) {
    let clean: PathBuf = path
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect();
    crate::report::escape::path(clean.as_os_str().as_encoded_bytes())
}

fn scan_file(scanner: &Scanner, path: &Path, buf: &mut Vec<u8>) -> FileResult {
    let mut result = FileResult {
        findings: Vec::new(),
        warnings: Vec::new(),
        bytes: 0,
    };
    // Most files hold no key: their path is only spelt out when needed.
    let hits = match read(path, buf, |len| {
        scanner.policy.admit_size_of(|| shown_path(path).0, len)
    }) {
        Ok(Content::Skipped) => Vec::new(),
        Ok(content) => {
            let data = content.bytes(buf);
            result.bytes = data.len() as u64;
            match scanner.policy.admit_content(data) {
                true => scanner.hits(data),
                false => Vec::new(),
            }
        }
        Err(err) => {
            let shown = shown_path(path).0;
            result.warnings.push(format!("skipped {shown}: {err:#}"));
            Vec::new()
        }
    };
    if hits.is_empty() {
        return result;
    }
    let (shown, raw_path) = shown_path(path);
    let origin = Origin {
        path: shown,
        ..Origin::default()
    };
    // `finding` gives an encrypted key the file's name to try as its
    // passphrase, as `Scanner::scan` would.
    result.findings = hits
        .into_iter()
        .map(|h| scanner.finding(h, &origin))
        .collect();
    let outside_git = !tracked_by_git(path);
    for f in &mut result.findings {
        if raw_path.is_some() {
            f.raw_path.clone_from(&raw_path);
        }
        f.outside_git = outside_git;
    }
    let real_key = result
        .findings
        .iter()
        .any(|f| matches!(f.status, Status::Valid | Status::Encrypted));
    if real_key {
        if let Some(risk) = placement_risk(path, &scanner.policy.shared_folders) {
            for f in &mut result.findings {
                f.permissions = Some(risk.clone());
            }
        }
    }
    result
}

enum Content {
    /// The first `n` bytes of the worker's buffer.
    Read(usize),
    Mapped(memmap2::Mmap),
    /// The policy turned it down by size.
    Skipped,
}

impl Content {
    fn bytes<'b>(&'b self, buf: &'b [u8]) -> &'b [u8] {
        match self {
            Content::Read(n) => &buf[..*n],
            Content::Mapped(m) => m,
            Content::Skipped => &[],
        }
    }
}

fn read(path: &Path, buf: &mut Vec<u8>, admit_size: impl Fn(u64) -> bool) -> Result<Content> {
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        bail!("not a regular file");
    }
    if !admit_size(meta.len()) {
        return Ok(Content::Skipped);
    }
    if meta.len() >= MMAP_THRESHOLD {
        // SAFETY: the map is read-only and dropped before we return findings;
        // a file truncated under us can fault, which ripgrep accepts too.
        let map = unsafe { memmap2::Mmap::map(&file)? };
        return Ok(Content::Mapped(map));
    }
    Ok(Content::Read(read_into(&file, meta.len() as usize, buf)?))
}

/// Read the `len` bytes the file's metadata promises into `buf` (grown,
/// never shrunk: it is reused), without asking for the end of the file
/// again; a file that says it is empty (as /proc's do) is read to its end.
fn read_into(mut file: &std::fs::File, len: usize, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    if len == 0 {
        buf.clear();
        return file.read_to_end(buf);
    }
    if buf.len() < len {
        buf.resize(len, 0);
    }
    let mut filled = 0;
    while filled < len {
        match file.read(&mut buf[filled..len]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// What is risky about where a key file sits: loose mode bits (outside
/// git work trees, or in files git ignores: git checks everything out
/// 0644, so there the mode says nothing) and a synced or shared folder.
fn placement_risk(path: &Path, shared_folders: &[PathBuf]) -> Option<String> {
    let mut risks = Vec::new();
    if let Some(mode) = loose_mode(path) {
        if !tracked_by_git(path) {
            risks.push(describe_mode(mode));
        }
    }
    if !shared_folders.is_empty() {
        let real = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if let Some(folder) = shared_folders.iter().find(|f| real.starts_with(f)) {
            risks.push(format!(
                "in shared folder {}: its copies leave this machine; move the key out and rotate it",
                folder.display()
            ));
        }
    }
    (!risks.is_empty()).then(|| risks.join("; "))
}

/// "0644: readable by group and others; chmod 600".
fn describe_mode(mode: u32) -> String {
    let who = match (mode & 0o040 != 0, mode & 0o004 != 0) {
        (true, true) => "group and others",
        (true, false) => "group",
        _ => "others",
    };
    format!("{mode:04o}: readable by {who}; chmod 600")
}

/// In a git work tree and not ignored there.
fn tracked_by_git(path: &Path) -> bool {
    let Ok(abs) = path.canonicalize() else {
        return false;
    };
    let Some(parent) = abs.parent() else {
        return false;
    };
    let Ok(repo) = git2::Repository::discover(parent) else {
        return false;
    };
    let Some(workdir) = repo.workdir().and_then(|w| w.canonicalize().ok()) else {
        return false;
    };
    match abs.strip_prefix(&workdir) {
        Ok(rel) => !repo.is_path_ignored(rel).unwrap_or(false),
        Err(_) => false,
    }
}

/// The permission bits when group or others may read the file.
#[cfg(unix)]
fn loose_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o044 != 0).then_some(mode)
}

#[cfg(not(unix))]
fn loose_mode(_path: &Path) -> Option<u32> {
    None
}
