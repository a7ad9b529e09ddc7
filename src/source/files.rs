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

/// Files at or above this size are memory-mapped rather than read.
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

pub struct WalkOptions {
    /// Scan files that .gitignore and friends would skip.
    pub no_ignore: bool,
}

/// Scan paths (files or directories; `-` is standard input).
pub fn scan_paths(scanner: &Scanner, paths: &[PathBuf], opts: &WalkOptions) -> Result<FileScan> {
    let mut files = Vec::new();
    let mut out = FileScan::default();
    for path in paths {
        if path.as_os_str() == "-" {
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
            continue;
        }
        let meta =
            std::fs::metadata(path).with_context(|| format!("cannot scan {}", path.display()))?;
        if meta.is_dir() {
            walk(path, opts, &mut files, &mut out.warnings);
        } else {
            files.push(path.clone());
        }
    }
    if scanner.policy.allowlist.has_paths() {
        let root = match &scanner.policy.config_dir {
            Some(dir) => dir.clone(),
            None => std::env::current_dir().context("cannot find the current directory")?,
        };
        // Globs are matched against paths relative to the config's
        // directory, however the path was spelt; none applies outside it.
        let mut root = PathRoot::new(&root);
        files.retain(|p| match root.relative(p) {
            Some(rel) => scanner.policy.admit_path(&rel),
            None => true,
        });
    }
    let results: Vec<FileResult> = files.par_iter().map(|p| scan_file(scanner, p)).collect();
    for r in results {
        out.files += 1;
        out.bytes += r.bytes;
        out.findings.extend(r.findings);
        out.warnings.extend(r.warnings);
    }
    out.findings
        .sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    Ok(out)
}

fn walk(root: &Path, opts: &WalkOptions, files: &mut Vec<PathBuf>, warnings: &mut Vec<String>) {
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .git_ignore(!opts.no_ignore)
        .git_global(!opts.no_ignore)
        .git_exclude(!opts.no_ignore)
        .ignore(!opts.no_ignore)
        .parents(!opts.no_ignore)
        .require_git(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    for entry in walker {
        match entry {
            Ok(e) if e.file_type().is_some_and(|t| t.is_file()) => files.push(e.into_path()),
            Ok(_) => {}
            Err(err) => warnings.push(format!("skipped: {err}")),
        }
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

fn scan_file(scanner: &Scanner, path: &Path) -> FileResult {
    let (shown, raw_path) = shown_path(path);
    let mut result = FileResult {
        findings: Vec::new(),
        warnings: Vec::new(),
        bytes: 0,
    };
    let origin = Origin {
        path: shown.clone(),
        ..Origin::default()
    };
    match read(path, |len| scanner.policy.admit_size(&shown, len)) {
        Ok(Content::Skipped) => {}
        Ok(content) => {
            let data = content.bytes();
            result.bytes = data.len() as u64;
            if scanner.policy.admit_content(data) {
                result.findings = scanner.scan(data, &origin);
            }
        }
        Err(err) => result.warnings.push(format!("skipped {shown}: {err:#}")),
    }
    let outside_git = !result.findings.is_empty() && !tracked_by_git(path);
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
    Owned(Vec<u8>),
    Mapped(memmap2::Mmap),
    /// The policy turned it down by size.
    Skipped,
}

impl Content {
    fn bytes(&self) -> &[u8] {
        match self {
            Content::Owned(v) => v,
            Content::Mapped(m) => m,
            Content::Skipped => &[],
        }
    }
}

fn read(path: &Path, admit_size: impl Fn(u64) -> bool) -> Result<Content> {
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
    let mut data = Vec::with_capacity(meta.len() as usize);
    (&file).read_to_end(&mut data)?;
    Ok(Content::Owned(data))
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
