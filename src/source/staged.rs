//! The pre-commit source: what is staged in the index, never the working tree.
//!
//! Which files changed: the index file itself, read here against HEAD's
//! tree with the help of its cache-tree ([`crate::git::index`]), as `git
//! diff-index --cached` reads it, but without starting git (on a
//! 58,000-file repository, git took over a third of the hook's time).
//! Whatever that reader leaves to git (renames, unmerged or intent-to-add entries,
//! split and sparse indexes, anything odd) comes from `git diff-index
//! --cached -M` against HEAD (or `git ls-files --stage` on the first
//! commit); git also answers from the cache-tree, so the cost follows the
//! change, where libgit2's `diff_tree_to_index` needs ~120 ms on 50,000
//! files (it loads the whole index, then walks every tree of HEAD). When no
//! `git` executable can be started, the list comes from libgit2 instead
//! ([`Lister::Libgit2`]).
//!
//! Blobs are read with git2, only those of the staged changes. Both honour
//! `GIT_DIR` and `GIT_INDEX_FILE`, which `git commit -a` and `git commit
//! <path>` point at a temporary index, and linked worktrees. Nothing in the
//! repository is ever written.
//!
//! Fail closed: anything that cannot be read is an error, never "no keys".

use crate::policy::allowlist::PathRoot;
use crate::scan::finding::Finding;
use crate::scan::{Hit, Origin, Scanner};
use anyhow::{anyhow, bail, Context, Result};
use git2::{Delta, ErrorCode, FileMode, Oid, Repository};
use rayon::prelude::*;
use sha2::Digest;
use std::collections::HashSet;

/// One staged file: its new blob and, for a modification, rename or copy,
/// the blob it is compared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedFile {
    /// Path in the new tree, relative to the top of the work tree.
    pub path: String,
    /// Where a rename or copy comes from; `None` when the path is the same.
    pub old_path: Option<String>,
    /// The blob the change starts from; `None` for an added file, and for a
    /// type change (a symlink or submodule that became a file, or the
    /// reverse): all of it is new at that path.
    pub old: Option<Oid>,
    /// The staged blob (a file's content or a symlink's target).
    pub new: Oid,
}

/// How the list of staged files is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lister {
    /// The index file read here ([`crate::git::index`]), as `git diff-index
    /// --cached` reads it; what it leaves to git goes to [`Lister::Git`].
    Index,
    /// `git diff-index --cached` (fast: uses the index's cache-tree); falls
    /// back to libgit2 when no `git` executable can be started.
    Git,
    /// libgit2's `diff_tree_to_index`.
    Libgit2,
}

/// More staged files than this are scanned in parallel.
const PARALLEL_FROM: usize = 8;

/// Git LFS pointer files hold no content, so they are skipped; they are
/// small and start with this line.
const LFS_VERSION: &str = "version https://git-lfs.github.com/spec/v1";
const LFS_POINTER_MAX: usize = 1024;

/// A Git LFS pointer, exactly as the spec writes one: the version line,
/// then `ext-N-name sha256:<hex>` lines, `oid sha256:<64 hex>` and
/// `size <digits>`, keys sorted, each line ended by LF, under 1 KiB.
/// Anything else (an extra key, a key pasted under it) is scanned.
fn is_lfs_pointer(data: &[u8]) -> bool {
    if data.len() >= LFS_POINTER_MAX || !data.ends_with(b"\n") {
        return false;
    }
    let Ok(text) = std::str::from_utf8(&data[..data.len() - 1]) else {
        return false;
    };
    let mut lines = text.split('\n');
    if lines.next() != Some(LFS_VERSION) {
        return false;
    }
    let mut last = "";
    let mut seen = (false, false);
    for line in lines {
        let Some((key, value)) = line.split_once(' ') else {
            return false;
        };
        let ok = match key {
            "oid" => sha256_oid(value),
            "size" => !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()),
            _ => lfs_extension(key) && sha256_oid(value),
        };
        if !ok || key <= last {
            return false;
        }
        seen.0 |= key == "oid";
        seen.1 |= key == "size";
        last = key;
    }
    seen == (true, true)
}

/// `sha256:` and 64 lowercase hex digits.
fn sha256_oid(value: &str) -> bool {
    value.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// `ext-<digit>-<name>`, a pointer extension's key.
fn lfs_extension(key: &str) -> bool {
    let Some(rest) = key.strip_prefix("ext-") else {
        return false;
    };
    let mut parts = rest.splitn(2, '-');
    let (Some(n), Some(name)) = (parts.next(), parts.next()) else {
        return false;
    };
    n.len() == 1
        && n.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// With `KEYSCAN_TIMING` set, says on standard error that a phase of the
/// run ended: the wall time since the first mark and the CPU time the process
/// has used since it started (not its children's: git's) (`scripts/bench` reads neither).
pub fn timing(phase: &str) {
    static FIRST: std::sync::OnceLock<Option<std::time::Instant>> = std::sync::OnceLock::new();
    let Some(first) =
        FIRST.get_or_init(|| std::env::var_os("KEYSCAN_TIMING").map(|_| std::time::Instant::now()))
    else {
        return;
    };
    eprintln!(
        "timing: {phase}: {:.2} ms wall, {:.2} ms CPU",
        first.elapsed().as_secs_f64() * 1e3,
        cpu_ns() as f64 / 1e6
    );
}

/// The CPU time this process has used (0 where it cannot be read).
fn cpu_ns() -> u64 {
    #[cfg(unix)]
    {
        let mut cpu = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `cpu` is a valid timespec for the call to fill.
        if unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut cpu) } == 0 {
            return cpu.tv_sec as u64 * 1_000_000_000 + cpu.tv_nsec as u64;
        }
    }
    0
}

/// Findings in the staged changes of the repository git points us at
/// (`GIT_DIR`, `GIT_INDEX_FILE`, or the current directory), limited to keys
/// this change brings: keys on lines it adds, and keys that the blob it
/// starts from did not hold.
pub fn scan_staged(scanner: &Scanner) -> Result<Vec<Finding>> {
    scan_staged_with(scanner, Lister::Index)
}

/// [`scan_staged`] with a chosen way of listing the staged files.
pub fn scan_staged_with(scanner: &Scanner, lister: Lister) -> Result<Vec<Finding>> {
    let repo = open()?;
    timing("repository opened");
    let files = staged_files(&repo, lister)?;
    timing("staged files listed");
    let files = admitted(&repo, scanner, files);
    let results: Vec<Result<Vec<Finding>>> = if files.len() < PARALLEL_FROM {
        files.iter().map(|f| scan_file(&repo, scanner, f)).collect()
    } else {
        files
            .par_iter()
            .map_init(open, |repo, f| match repo {
                Ok(repo) => scan_file(repo, scanner, f),
                Err(e) => Err(anyhow!("{e:#}")),
            })
            .collect()
    };
    let mut findings = Vec::new();
    for r in results {
        findings.extend(r?);
    }
    findings.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    timing("staged files scanned");
    Ok(findings)
}

/// The files the path allowlist leaves to scan. A file renamed or copied
/// from an allowlisted path arrives where no allowlist covers it: all of
/// it is new there.
fn admitted(repo: &Repository, scanner: &Scanner, files: Vec<StagedFile>) -> Vec<StagedFile> {
    let allowlist = &scanner.policy.allowlist;
    if !allowlist.has_paths() {
        return files;
    }
    let top = repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf();
    let root = match &scanner.policy.config_dir {
        Some(dir) => dir.clone(),
        None => top.clone(),
    };
    let mut root = PathRoot::new(&root);
    let mut rel = |path: &str| root.relative_in(&top, path);
    let mut out = Vec::with_capacity(files.len());
    for mut file in files {
        if let Some(path) = rel(&file.path) {
            if !scanner.policy.admit_path(&path) {
                continue;
            }
        }
        let old_covered = file
            .old_path
            .as_deref()
            .and_then(&mut rel)
            .is_some_and(|p| allowlist.covers_path(&p));
        if old_covered {
            file.old = None;
        }
        out.push(file);
    }
    out
}

fn open() -> Result<Repository> {
    Repository::open_from_env().map_err(|e| {
        if e.code() == ErrorCode::NotFound {
            anyhow!(
                "not a git repository (or any parent): run keyscan pre-commit inside a repository"
            )
        } else {
            anyhow!("cannot open the git repository: {}", e.message())
        }
    })
}

/// The staged files whose new side is a blob (a regular or executable
/// file, or a symlink, whose target's name is its content): additions,
/// modifications, renames, copies and type changes. Deletions and
/// submodules are left out.
pub fn staged_files(repo: &Repository, lister: Lister) -> Result<Vec<StagedFile>> {
    let head = head_tree_id(repo)?;
    if lister == Lister::Index {
        match crate::git::index::staged_changes(repo, &index_path(repo), head) {
            Ok(changes) => return Ok(from_index(changes)),
            Err(why) => timing(&format!("the index left to git: {}", why.0)),
        }
    }
    if lister != Lister::Libgit2 {
        match git_diff_index(head) {
            Ok(files) => return Ok(files),
            Err(GitError::NotFound) => {}
            Err(GitError::Failed(e)) => return Err(e),
        }
    }
    libgit2_diff(repo, head)
}

/// The index git reads: `GIT_INDEX_FILE` (which `git commit -a` and `git
/// commit <path>` set; relative to the current directory, as libgit2 and
/// git read it here), else the repository's (a linked worktree's own).
fn index_path(repo: &Repository) -> std::path::PathBuf {
    match std::env::var_os("GIT_INDEX_FILE") {
        Some(path) if !path.is_empty() => path.into(),
        _ => repo.path().join("index"),
    }
}

/// The staged files among the index's changes, as [`parse_diff_index`]
/// makes them from git's.
fn from_index(changes: Vec<crate::git::index::Change>) -> Vec<StagedFile> {
    let mut out = Vec::with_capacity(changes.len());
    for change in changes {
        let Some(kind) = blob_kind(change.new.0) else {
            continue;
        };
        out.push(StagedFile {
            path: crate::report::escape::bytes(&change.path),
            old_path: None,
            old: (change.old)
                .filter(|(mode, _)| blob_kind(*mode) == Some(kind))
                .map(|(_, id)| id),
            new: change.new.1,
        });
    }
    out
}

/// HEAD's tree; `None` before the first commit. A HEAD that exists but
/// cannot be read is an error.
fn head_tree_id(repo: &Repository) -> Result<Option<Oid>> {
    let head = match repo.head() {
        Ok(head) => head,
        Err(e) if e.code() == ErrorCode::UnbornBranch || e.code() == ErrorCode::NotFound => {
            return Ok(None)
        }
        Err(e) => bail!("cannot read HEAD: {}", e.message()),
    };
    let tree = head
        .peel_to_tree()
        .map_err(|e| anyhow!("cannot read the tree of HEAD: {}", e.message()))?;
    Ok(Some(tree.id()))
}

enum GitError {
    /// No `git` executable could be started.
    NotFound,
    Failed(anyhow::Error),
}

/// `git diff-index --cached` against HEAD, or `git ls-files --stage` for the
/// first commit. git runs in our environment and directory, so it sees the
/// same repository and index as `Repository::open_from_env`.
fn git_diff_index(head: Option<Oid>) -> std::result::Result<Vec<StagedFile>, GitError> {
    let mut cmd = crate::git::command::git();
    match head {
        Some(tree) => cmd.args([
            "diff-index",
            "--cached",
            "--raw",
            "-z",
            "-M",
            "--no-abbrev",
            &tree.to_string(),
            "--",
        ]),
        // `:/` is the top of the work tree: the whole index from any directory.
        None => cmd.args(["ls-files", "--stage", "-z", "--full-name", "--", ":/"]),
    };
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(GitError::NotFound),
        Err(e) => {
            return Err(GitError::Failed(anyhow!(
                "cannot run git to list the staged changes: {e}"
            )))
        }
    };
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let err = err.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        return Err(GitError::Failed(anyhow!(
            "git could not list the staged changes: {}",
            err.trim()
        )));
    }
    match head {
        Some(_) => parse_diff_index(&out.stdout),
        None => parse_ls_files(&out.stdout),
    }
    .map_err(GitError::Failed)
}

/// `:old_mode new_mode old_oid new_oid status\0path\0[new_path\0]`
fn parse_diff_index(raw: &[u8]) -> Result<Vec<StagedFile>> {
    let mut fields = raw.split(|b| *b == 0).filter(|f| !f.is_empty());
    let mut out = Vec::new();
    while let Some(meta) = fields.next() {
        let meta = std::str::from_utf8(meta).context("unexpected git diff-index output")?;
        let parts: Vec<&str> = meta.trim_start_matches(':').split(' ').collect();
        let [old_mode, new_mode, old_oid, new_oid, status] = parts[..] else {
            bail!("unexpected git diff-index output: {meta}");
        };
        let mut path = fields.next().context("git diff-index: missing path")?;
        let mut old_path = None;
        if status.starts_with('R') || status.starts_with('C') {
            old_path = Some(crate::report::escape::bytes(path));
            path = fields.next().context("git diff-index: missing new path")?;
        }
        let Some(kind) = octal_kind(new_mode) else {
            continue;
        };
        if status.starts_with('D') || status.starts_with('U') {
            continue;
        }
        let old = Oid::from_str(old_oid).context("git diff-index: bad object id")?;
        let same_kind = octal_kind(old_mode) == Some(kind);
        out.push(StagedFile {
            path: crate::report::escape::bytes(path),
            old_path,
            old: (!old.is_zero() && same_kind).then_some(old),
            new: Oid::from_str(new_oid).context("git diff-index: bad object id")?,
        });
    }
    Ok(out)
}

/// `mode oid stage\tpath\0`, for the first commit: everything is added.
fn parse_ls_files(raw: &[u8]) -> Result<Vec<StagedFile>> {
    let mut out = Vec::new();
    for entry in raw.split(|b| *b == 0).filter(|f| !f.is_empty()) {
        let tab = entry
            .iter()
            .position(|b| *b == b'\t')
            .context("unexpected git ls-files output")?;
        let meta = std::str::from_utf8(&entry[..tab]).context("unexpected git ls-files output")?;
        let parts: Vec<&str> = meta.split(' ').collect();
        let [mode, oid, _stage] = parts[..] else {
            bail!("unexpected git ls-files output: {meta}");
        };
        if octal_kind(mode).is_none() {
            continue;
        }
        out.push(StagedFile {
            path: crate::report::escape::bytes(&entry[tab + 1..]),
            old_path: None,
            old: None,
            new: Oid::from_str(oid).context("git ls-files: bad object id")?,
        });
    }
    Ok(out)
}

/// What a tree entry's blob is, by its mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlobKind {
    /// A regular or executable file: its content.
    File,
    /// A symlink: its target's name, which can hold anything.
    Link,
}

/// Files (100644, 100755) and symlinks (120000); `None` for submodules
/// (160000, a commit, not a blob) and absent entries.
fn blob_kind(mode: u32) -> Option<BlobKind> {
    match mode {
        0o100644 | 0o100755 => Some(BlobKind::File),
        0o120000 => Some(BlobKind::Link),
        _ => None,
    }
}

/// A mode as git prints it (octal).
fn octal_kind(mode: &str) -> Option<BlobKind> {
    u32::from_str_radix(mode, 8).ok().and_then(blob_kind)
}

fn libgit2_kind(mode: FileMode) -> Option<BlobKind> {
    match mode {
        FileMode::Blob | FileMode::BlobExecutable => Some(BlobKind::File),
        FileMode::Link => Some(BlobKind::Link),
        _ => None,
    }
}

/// The same list from libgit2: HEAD's tree (or the empty tree) against the
/// index, with rename detection.
fn libgit2_diff(repo: &Repository, head: Option<Oid>) -> Result<Vec<StagedFile>> {
    // libgit2 does not read split or sparse indexes; refuse rather than
    // miss entries.
    if let Ok(config) = repo.config() {
        for key in ["core.splitIndex", "index.sparse"] {
            if config.get_bool(key).unwrap_or(false) {
                bail!("{key} is set and no git executable was found: put git on PATH so keyscan can read the index");
            }
        }
    }
    let index = repo
        .index()
        .map_err(|e| anyhow!("cannot read the index: {}", e.message()))?;
    let tree = head
        .map(|id| repo.find_tree(id))
        .transpose()
        .map_err(|e| anyhow!("cannot read the tree of HEAD: {}", e.message()))?;
    let mut opts = git2::DiffOptions::new();
    opts.skip_binary_check(true)
        .ignore_submodules(true)
        .include_typechange(true);
    let mut diff = repo
        .diff_tree_to_index(tree.as_ref(), Some(&index), Some(&mut opts))
        .map_err(|e| anyhow!("cannot compare the index with HEAD: {}", e.message()))?;
    // Similarity reads only the blobs of added and deleted files.
    diff.find_similar(Some(git2::DiffFindOptions::new().renames(true)))
        .map_err(|e| anyhow!("cannot detect renames: {}", e.message()))?;
    let mut out = Vec::new();
    for delta in diff.deltas() {
        let old = match delta.status() {
            Delta::Added => None,
            Delta::Modified | Delta::Renamed | Delta::Copied | Delta::Typechange => {
                Some(delta.old_file())
            }
            _ => continue,
        };
        let new = delta.new_file();
        let Some(kind) = libgit2_kind(new.mode()) else {
            continue;
        };
        let path = new
            .path_bytes()
            .context("libgit2 diff: a staged file without a path")?;
        let old_path = old
            .as_ref()
            .and_then(|o| o.path_bytes())
            .filter(|p| *p != path)
            .map(crate::report::escape::bytes);
        out.push(StagedFile {
            path: crate::report::escape::bytes(path),
            old_path,
            old: old
                .filter(|o| libgit2_kind(o.mode()) == Some(kind))
                .map(|o| o.id())
                .filter(|id| !id.is_zero()),
            new: new.id(),
        });
    }
    Ok(out)
}

/// Findings for one staged file. The whole blob is scanned; a key is kept
/// when one of its lines is added by this change, or when the blob the
/// change starts from did not hold it (same validated key, same status):
/// deleting a line can turn a broken key into a valid one, and a header
/// added far from a key can change how it decodes.
fn scan_file(repo: &Repository, scanner: &Scanner, file: &StagedFile) -> Result<Vec<Finding>> {
    if file.old == Some(file.new) {
        // Only the mode changed (or a pure rename): no content is added.
        return Ok(Vec::new());
    }
    // Sizes from the object headers: a blob over the limit is never read.
    let size = blob_size(repo, file.new, &file.path, "staged")?;
    if !scanner.policy.admit_size(&file.path, size) {
        return Ok(Vec::new());
    }
    refuse_over_default_limit(scanner, file, size)?;
    let blob = read_blob(repo, file.new, &file.path, "staged")?;
    let data = blob.content();
    if !scanner.policy.admit_content(data) || is_lfs_pointer(data) {
        return Ok(Vec::new());
    }
    let hits = scanner.hits(data);
    if hits.is_empty() {
        return Ok(Vec::new());
    }
    let (added, known) = match file.old {
        None => (None, HashSet::new()),
        // Never read, so never checked: none of its keys is known.
        Some(old)
            if blob_size(repo, old, &file.path, "committed")? > super::blob_limit(scanner) =>
        {
            (None, HashSet::new())
        }
        Some(old) => {
            let old_blob = read_blob(repo, old, &file.path, "committed")?;
            let old_data = old_blob.content();
            // Keys in a blob keyscan skipped were never checked: none is known.
            let known = if is_lfs_pointer(old_data) || skipped_by_policy(scanner, old_data) {
                HashSet::new()
            } else {
                let hits = scanner.hits(old_data);
                hits.iter().map(|h| key_id(h, old_data)).collect()
            };
            (added_lines(repo, &old_blob, &blob, &file.path)?, known)
        }
    };
    let origin = Origin {
        path: file.path.clone(),
        blob: Some(file.new.to_string()),
        commit: None,
    };
    Ok(hits
        .into_iter()
        .filter(|h| touches_added(h, added.as_deref()) || !known.contains(&key_id(h, data)))
        .map(|h| scanner.finding(h, &origin))
        .collect())
}

/// Whether the policy would skip this blob by size or as binary (without
/// counting it as skipped).
fn skipped_by_policy(scanner: &Scanner, data: &[u8]) -> bool {
    let policy = &scanner.policy;
    let too_large = policy
        .max_file_size
        .is_some_and(|max| data.len() as u64 > max);
    // As far as git looks for a NUL byte, as `Policy::admit_content` does.
    let binary = policy.skip_binaries && memchr::memchr(0, &data[..data.len().min(8000)]).is_some();
    too_large || binary
}

/// A blob's size from its object header, without inflating it.
fn blob_size(repo: &Repository, id: Oid, path: &str, which: &str) -> Result<u64> {
    let odb = repo
        .odb()
        .map_err(|e| anyhow!("cannot open the object database: {}", e.message()))?;
    let (size, _) = odb.read_header(id).map_err(|e| {
        anyhow!(
            "cannot read the {which} blob for {path} ({id}): {}",
            e.message()
        )
    })?;
    Ok(size as u64)
}

/// Over the default limit per blob (no `max_file_size` configured to skip
/// such files knowingly), a staged file cannot be checked: fail closed.
fn refuse_over_default_limit(scanner: &Scanner, file: &StagedFile, size: u64) -> Result<()> {
    let limit = super::blob_limit(scanner);
    if size <= limit {
        return Ok(());
    }
    anyhow::bail!(
        "{} (blob {}, {size} bytes) is over the {limit} byte limit per blob and cannot be \
         checked; set [policy] max_file_size to skip files over a size knowingly",
        file.path,
        file.new
    )
}

fn read_blob<'r>(repo: &'r Repository, id: Oid, path: &str, which: &str) -> Result<git2::Blob<'r>> {
    repo.find_blob(id).map_err(|e| {
        anyhow!(
            "cannot read the {which} blob for {path} ({id}): {}",
            e.message()
        )
    })
}

/// What makes two hits the same key: its status and fingerprint, or for a
/// key without one, its rule and the bytes it was found in.
#[derive(Debug, PartialEq, Eq, Hash)]
enum KeyId {
    Fingerprint(&'static str, String),
    Bytes(&'static str, String, Vec<u8>),
}

fn key_id(hit: &Hit, data: &[u8]) -> KeyId {
    match &hit.info.fingerprint {
        Some(fp) => KeyId::Fingerprint(hit.info.status.as_str(), fp.clone()),
        None => {
            let bytes = data.get(hit.start..hit.end).unwrap_or_default();
            KeyId::Bytes(
                hit.info.status.as_str(),
                hit.rule.clone(),
                sha2::Sha256::digest(bytes).to_vec(),
            )
        }
    }
}

/// Whether a hit's lines meet an added line; `None` means all lines are new.
fn touches_added(hit: &Hit, added: Option<&[usize]>) -> bool {
    match added {
        None => true,
        Some(lines) => {
            // `lines` is sorted: find the first added line at or after the start.
            let i = lines.partition_point(|&l| l < hit.line);
            lines.get(i).is_some_and(|&l| l <= hit.end_line)
        }
    }
}

/// Line numbers (new side, sorted) added by the change; `None` means "all
/// of it" (a binary blob that changed).
fn added_lines(
    repo: &Repository,
    old: &git2::Blob,
    new: &git2::Blob,
    path: &str,
) -> Result<Option<Vec<usize>>> {
    let mut opts = git2::DiffOptions::new();
    opts.context_lines(0);
    let mut added = Vec::new();
    let mut binary = false;
    repo.diff_blobs(
        Some(old),
        None,
        Some(new),
        None,
        Some(&mut opts),
        None,
        Some(&mut |_, _| {
            binary = true;
            true
        }),
        None,
        Some(&mut |_, _, line| {
            if line.origin() == '+' {
                if let Some(n) = line.new_lineno() {
                    added.push(n as usize);
                }
            }
            true
        }),
    )
    .map_err(|e| anyhow!("cannot diff {path}: {}", e.message()))?;
    if binary {
        return Ok(None);
    }
    added.sort_unstable();
    Ok(Some(added))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// git in `dir`, with a fixed identity and no system or global config.
    fn git(dir: &std::path::Path, args: &[&str]) -> Vec<u8> {
        let out = std::process::Command::new("git")
            .args(["-c", "user.name=T", "-c", "user.email=t@example.com"])
            .args(["-c", "core.symlinks=true", "-c", "commit.gpgsign=false"])
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env_remove("GIT_DIR")
            .env_remove("GIT_INDEX_FILE")
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {out:?}");
        out.stdout
    }

    fn put(dir: &std::path::Path, path: &str, content: &str) {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    /// The staged files as the index reader lists them, after checking them
    /// against git's own list; `Err` when it leaves the index to git.
    fn listed(dir: &std::path::Path) -> Result<Vec<StagedFile>, &'static str> {
        let repo = Repository::open(dir).unwrap();
        let head = head_tree_id(&repo).unwrap();
        let ours = crate::git::index::staged_changes(&repo, &repo.path().join("index"), head)
            .map(from_index)
            .map_err(|e| e.0)?;
        let raw = match head {
            Some(tree) => git(
                dir,
                &[
                    "diff-index",
                    "--cached",
                    "--raw",
                    "-z",
                    "-M",
                    "--no-abbrev",
                    &tree.to_string(),
                ],
            ),
            None => git(dir, &["ls-files", "--stage", "-z", "--full-name"]),
        };
        let theirs = match head {
            Some(_) => parse_diff_index(&raw).unwrap(),
            None => parse_ls_files(&raw).unwrap(),
        };
        assert_eq!(ours, theirs);
        Ok(ours)
    }

    #[cfg(unix)]
    #[test]
    fn the_index_reader_lists_what_git_lists() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        git(dir, &["init", "-q"]);
        put(dir, "a", "a\n");
        put(dir, "d/b", "b\n");
        put(dir, "d/e/c", "c\n");
        put(dir, "d-x", "dash\n");
        put(dir, "d0/z", "zero\n");
        for i in 0..50 {
            put(dir, &format!("many/f{i}/g"), &format!("{i}\n"));
        }
        std::os::unix::fs::symlink("d/b", dir.join("link")).unwrap();
        git(dir, &["add", "-A"]);
        // The first commit: everything is new.
        assert_eq!(listed(dir).unwrap().len(), 56);
        git(dir, &["commit", "-qm", "init"]);
        assert_eq!(listed(dir).unwrap(), []);
        // Edits deep and shallow, an addition, a mode change, a symlink
        // that became a file, a submodule.
        put(dir, "d/e/c", "c changed\n");
        put(dir, "many/f7/g", "7 changed\n");
        put(dir, "d/e/new", "new\n");
        std::fs::remove_file(dir.join("link")).unwrap();
        put(dir, "link", "now a file\n");
        git(dir, &["add", "-A"]);
        git(dir, &["update-index", "--chmod=+x", "a"]);
        let commit = String::from_utf8(git(dir, &["rev-parse", "HEAD"])).unwrap();
        let gitlink = format!("160000,{},sub", commit.trim());
        git(dir, &["update-index", "--add", "--cacheinfo", &gitlink]);
        let files = listed(dir).unwrap();
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["a", "d/e/c", "d/e/new", "link", "many/f7/g"]);
        // The same in index version 4 (paths compressed).
        git(dir, &["update-index", "--index-version", "4"]);
        assert_eq!(listed(dir).unwrap().len(), 5);
        git(dir, &["update-index", "--index-version", "2"]);
        git(dir, &["commit", "-qm", "two"]);
        // A deletion alone; then an index without a cache-tree (where `a`
        // loses the executable bit only the index had).
        git(dir, &["rm", "-q", "--cached", "d0/z"]);
        assert_eq!(listed(dir).unwrap(), []);
        git(dir, &["read-tree", "--empty"]);
        git(dir, &["add", "-A"]);
        put(dir, "many/f9/g", "9 changed\n");
        git(dir, &["add", "many/f9/g"]);
        let files = listed(dir).unwrap();
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["a", "many/f9/g"]);
        // A path longer than the entry's 12-bit length field (and the
        // submodule back, or its deletion would pair with the addition).
        git(dir, &["update-index", "--add", "--cacheinfo", &gitlink]);
        let long = format!("{}/k", "x".repeat(4100));
        let blob = String::from_utf8(git(dir, &["rev-parse", "HEAD:a"])).unwrap();
        let entry = format!("100644,{},{long}", blob.trim());
        git(dir, &["update-index", "--add", "--cacheinfo", &entry]);
        assert_eq!(listed(dir).unwrap().len(), 3);
    }

    #[test]
    fn the_index_reader_leaves_to_git_what_it_does_not_handle() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        git(dir, &["init", "-q"]);
        put(dir, "a", "some text, long enough to be found as a rename\n");
        put(dir, "b", "b\n");
        git(dir, &["add", "-A"]);
        git(dir, &["commit", "-qm", "init"]);
        // A rename: git pairs the deletion with the addition.
        git(dir, &["mv", "a", "moved"]);
        assert!(listed(dir).is_err());
        git(dir, &["reset", "-q", "--hard"]);
        // Intent to add.
        put(dir, "new", "new\n");
        git(dir, &["add", "-N", "new"]);
        assert!(listed(dir).is_err());
        git(dir, &["rm", "-q", "--cached", "new"]);
        // Unmerged entries.
        let blob = String::from_utf8(git(dir, &["rev-parse", "HEAD:b"])).unwrap();
        let blob = blob.trim();
        let info = format!(
            "0 {z}\tb\n100644 {blob} 1\tb\n100644 {blob} 2\tb\n",
            z = "0".repeat(40)
        );
        let mut child = std::process::Command::new("git")
            .args(["update-index", "--index-info"])
            .current_dir(dir)
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(info.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success());
        assert_eq!(
            crate::git::index::staged_changes(
                &Repository::open(dir).unwrap(),
                &dir.join(".git/index"),
                None
            ),
            Err(crate::git::index::Unsupported("unmerged entries"))
        );
        git(dir, &["reset", "-q", "--hard"]);
        // A split index; a corrupt one.
        git(dir, &["update-index", "--split-index"]);
        assert!(listed(dir).is_err());
        git(dir, &["update-index", "--no-split-index"]);
        assert_eq!(listed(dir).unwrap(), []);
        let index = dir.join(".git/index");
        let mut bytes = std::fs::read(&index).unwrap();
        bytes.truncate(bytes.len() / 2);
        std::fs::write(&index, bytes).unwrap();
        let repo = Repository::open(dir).unwrap();
        let head = head_tree_id(&repo).unwrap();
        assert!(crate::git::index::staged_changes(&repo, &index, head).is_err());
    }

    #[test]
    fn parses_diff_index_records() {
        let z = "0".repeat(40);
        let a = "a".repeat(40);
        let b = "b".repeat(40);
        let c = "c".repeat(40);
        let raw = format!(
            ":000000 100644 {z} {a} A\0new.pem\0\
             :100644 100644 {a} {b} M\0mod.txt\0\
             :100644 000000 {a} {z} D\0gone\0\
             :100644 100644 {a} {b} R090\0old name\0new name\0\
             :100644 100755 {b} {c} C075\0src\0copy\0\
             :000000 120000 {z} {a} A\0link\0\
             :000000 160000 {z} {a} A\0sub\0\
             :120000 100644 {a} {b} T\0was-link\0\
             :000000 000000 {z} {z} U\0conflict\0"
        );
        let c = parse_diff_index(raw.as_bytes()).unwrap();
        let paths: Vec<&str> = c.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(
            paths,
            ["new.pem", "mod.txt", "new name", "copy", "link", "was-link"]
        );
        assert!(c[0].old.is_none());
        assert_eq!(c[1].old.unwrap().to_string(), a);
        assert_eq!(c[1].old_path, None);
        assert_eq!(c[2].old_path.as_deref(), Some("old name"));
        assert_eq!(c[3].old.unwrap().to_string(), "b".repeat(40));
        // A symlink that became a file: all of it is new there.
        assert_eq!(c[5].old, None);
    }

    #[test]
    fn rejects_garbled_diff_index_output() {
        assert!(parse_diff_index(b":100644 100644 xyz\0p\0").is_err());
        assert!(parse_diff_index(b":100644 100644 aa bb M\0").is_err());
    }

    #[test]
    fn parses_ls_files_records() {
        let a = "a".repeat(40);
        let raw = format!("100644 {a} 0\tdir/k.pem\0120000 {a} 0\tlink\0100755 {a} 0\trun.sh\0160000 {a} 0\tsub\0");
        let c = parse_ls_files(raw.as_bytes()).unwrap();
        let paths: Vec<&str> = c.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["dir/k.pem", "link", "run.sh"]);
    }

    #[test]
    fn lfs_pointers_strictly() {
        let oid = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393";
        let p =
            format!("version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize 12345\n");
        assert!(is_lfs_pointer(p.as_bytes()));
        let ext = p.replace("oid", &format!("ext-0-foo sha256:{oid}\noid"));
        assert!(is_lfs_pointer(ext.as_bytes()));
        let not = |text: &str| assert!(!is_lfs_pointer(text.as_bytes()), "{text}");
        not(&format!(
            "{p}-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
        ));
        not(&format!("{p}x-note LS0tLS1CRUdJTiBPUEVOU1NI\n"));
        not(&p.replace("oid", "note LS0tLS1CRUdJTi\noid"));
        not(&p.replace("size 12345\n", "size 12345\noid sha256:00\n"));
        not(&ext.replace("ext-0-foo sha256:", "ext-0-foo sha256:LS0t"));
        not(&p.replace(oid, &oid.to_uppercase()));
        not(&p.replace(oid, &oid[1..]));
        not(&p.replace("12345", "12345%"));
        not(&p.replace('\n', "\r\n"));
        not(&p[..p.len() - 1]);
        not(&format!("{p}\n"));
        not("version https://git-lfs.github.com/spec/v1\nsize 1\n");
        not(&format!("oid sha256:{oid}\nsize 1\n"));
        not(&format!(
            "size 1\nversion https://git-lfs.github.com/spec/v1\noid sha256:{oid}\n"
        ));
        not(&format!("{p}{}", "ext-1-x sha256:0\n".repeat(80)));
    }

    #[test]
    fn a_hit_counts_when_one_of_its_lines_is_added() {
        let hit = |line, end_line| Hit {
            start: 0,
            end: 0,
            line,
            end_line,
            rule: String::new(),
            info: crate::scan::finding::KeyInfo::new(crate::scan::finding::Status::Valid, "", ""),
            redacted: String::new(),
            member: None,
            locked: None,
        };
        let added = [2, 9, 20];
        assert!(touches_added(&hit(1, 5), None));
        assert!(touches_added(&hit(1, 2), Some(&added)));
        assert!(touches_added(&hit(5, 9), Some(&added)));
        assert!(touches_added(&hit(9, 9), Some(&added)));
        assert!(!touches_added(&hit(3, 8), Some(&added)));
        assert!(!touches_added(&hit(21, 30), Some(&added)));
        assert!(!touches_added(&hit(1, 5), Some(&[])));
    }
}
