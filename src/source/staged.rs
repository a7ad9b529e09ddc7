//! The pre-commit source: what is staged in the index, never the working tree.
//!
//! git lists the staged changes (`git diff-index --cached`): it uses the
//! index's cache-tree, so the cost follows the change, not the repository
//! (libgit2 alone spends ~85 ms loading a 53k-entry index). Blobs are read
//! with git2. Both honour `GIT_DIR` and `GIT_INDEX_FILE`, which `git commit
//! -a` and `git commit <path>` point at a temporary index.

use crate::finding::Finding;
use crate::scan::{Origin, Scanner};
use anyhow::{anyhow, bail, Context, Result};
use git2::{Oid, Repository};
use rayon::prelude::*;
use std::path::PathBuf;
use std::process::Command;

/// One staged file: its new blob and, for a modification, the old one.
#[derive(Debug, Clone)]
struct Change {
    path: String,
    old: Option<Oid>,
    new: Oid,
}

/// Findings in the staged changes of the repository git points us at,
/// limited to keys that touch added lines.
pub fn scan_staged(scanner: &Scanner) -> Result<Vec<Finding>> {
    let repo = Repository::open_from_env().map_err(|e| {
        anyhow!(
            "not a git repository (or any parent): run keyscan pre-commit inside a repository ({})",
            e.message()
        )
    })?;
    let changes = staged_changes(&repo)?;
    let git_dir = repo.path().to_path_buf();
    let results: Vec<Result<Vec<Finding>>> = changes
        .par_iter()
        .map_init(
            || Repository::open(&git_dir),
            |repo, change| match repo {
                Ok(repo) => scan_change(repo, scanner, change),
                Err(e) => Err(anyhow!("cannot open the repository: {}", e.message())),
            },
        )
        .collect();
    let mut findings = Vec::new();
    for r in results {
        findings.extend(r?);
    }
    findings.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    Ok(findings)
}

fn staged_changes(repo: &Repository) -> Result<Vec<Change>> {
    let has_head = repo
        .head()
        .ok()
        .and_then(|h| h.peel_to_commit().ok())
        .is_some();
    let workdir: PathBuf = repo.workdir().unwrap_or(repo.path()).to_path_buf();
    let mut cmd = Command::new("git");
    cmd.current_dir(&workdir);
    if has_head {
        cmd.args([
            "diff-index",
            "--cached",
            "--raw",
            "-z",
            "-M",
            "--no-abbrev",
            "HEAD",
            "--",
        ]);
    } else {
        cmd.args(["ls-files", "--stage", "-z"]);
    }
    let out = cmd
        .output()
        .context("cannot run git to list the staged changes")?;
    if !out.status.success() {
        bail!(
            "git could not list the staged changes: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    if has_head {
        parse_diff_index(&out.stdout)
    } else {
        parse_ls_files(&out.stdout)
    }
}

/// `:old_mode new_mode old_oid new_oid status\0path\0[new_path\0]`
fn parse_diff_index(raw: &[u8]) -> Result<Vec<Change>> {
    let mut fields = raw.split(|b| *b == 0).filter(|f| !f.is_empty());
    let mut out = Vec::new();
    while let Some(meta) = fields.next() {
        let meta = std::str::from_utf8(meta).context("unexpected git diff-index output")?;
        let parts: Vec<&str> = meta.trim_start_matches(':').split(' ').collect();
        let [_, new_mode, old_oid, new_oid, status] = parts[..] else {
            bail!("unexpected git diff-index output: {meta}");
        };
        let mut path = fields.next().context("git diff-index: missing path")?;
        if status.starts_with('R') || status.starts_with('C') {
            path = fields.next().context("git diff-index: missing new path")?;
        }
        if status.starts_with('D') || !is_file_mode(new_mode) {
            continue;
        }
        let old = Oid::from_str(old_oid)?;
        out.push(Change {
            path: String::from_utf8_lossy(path).into_owned(),
            old: (!old.is_zero() && !status.starts_with('C')).then_some(old),
            new: Oid::from_str(new_oid)?,
        });
    }
    Ok(out)
}

/// `mode oid stage\tpath\0`, for the first commit: everything is added.
fn parse_ls_files(raw: &[u8]) -> Result<Vec<Change>> {
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
        if !is_file_mode(mode) {
            continue;
        }
        out.push(Change {
            path: String::from_utf8_lossy(&entry[tab + 1..]).into_owned(),
            old: None,
            new: Oid::from_str(oid)?,
        });
    }
    Ok(out)
}

/// Regular and executable files; not symlinks (120000) or submodules (160000).
fn is_file_mode(mode: &str) -> bool {
    mode == "100644" || mode == "100755"
}

const LFS_POINTER: &[u8] = b"version https://git-lfs.github.com/spec/v1";

fn scan_change(repo: &Repository, scanner: &Scanner, change: &Change) -> Result<Vec<Finding>> {
    let blob = repo.find_blob(change.new).map_err(|e| {
        anyhow!(
            "cannot read the staged blob for {} ({}): {}",
            change.path,
            change.new,
            e.message()
        )
    })?;
    let data = blob.content();
    if data.len() < 1024 && data.starts_with(LFS_POINTER) {
        return Ok(Vec::new());
    }
    let origin = Origin {
        path: change.path.clone(),
        blob: Some(change.new.to_string()),
        commit: None,
    };
    let hits = scanner.hits(data);
    if hits.is_empty() {
        return Ok(Vec::new());
    }
    let added = match change.old {
        None => None,
        Some(old) => added_lines(repo, old, &blob, &change.path)?,
    };
    Ok(hits
        .into_iter()
        .filter(|h| match &added {
            None => true,
            Some(lines) => lines.iter().any(|l| (h.line..=h.end_line).contains(l)),
        })
        .map(|h| scanner.finding(h, &origin))
        .collect())
}

/// Line numbers (new side) added by the change; `None` means "all of it"
/// (a binary blob that changed).
fn added_lines(
    repo: &Repository,
    old: Oid,
    new: &git2::Blob,
    path: &str,
) -> Result<Option<Vec<usize>>> {
    let old_blob = repo.find_blob(old).map_err(|e| {
        anyhow!(
            "cannot read the committed blob for {path} ({old}): {}",
            e.message()
        )
    })?;
    let mut opts = git2::DiffOptions::new();
    opts.context_lines(0);
    let mut added = Vec::new();
    let mut binary = false;
    repo.diff_blobs(
        Some(&old_blob),
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
    Ok(if binary { None } else { Some(added) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_diff_index_records() {
        let z = "0".repeat(40);
        let a = "a".repeat(40);
        let b = "b".repeat(40);
        let raw = format!(
            ":000000 100644 {z} {a} A\0new.pem\0:100644 100644 {a} {b} M\0mod.txt\0:100644 000000 {a} {z} D\0gone\0:100644 100644 {a} {b} R090\0old name\0new name\0:000000 120000 {z} {a} A\0link\0:000000 160000 {z} {a} A\0sub\0"
        );
        let c = parse_diff_index(raw.as_bytes()).unwrap();
        let paths: Vec<&str> = c.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["new.pem", "mod.txt", "new name"]);
        assert!(c[0].old.is_none());
        assert_eq!(c[1].old.unwrap().to_string(), a);
    }

    #[test]
    fn parses_ls_files_records() {
        let a = "a".repeat(40);
        let raw = format!("100644 {a} 0\tdir/k.pem\0120000 {a} 0\tlink\0100755 {a} 0\trun.sh\0");
        let c = parse_ls_files(raw.as_bytes()).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].path, "dir/k.pem");
    }
}
