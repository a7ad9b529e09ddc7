//! Installing and removing keyscan's git hooks. A hook keyscan did not write
//! is never overwritten silently: `--force` keeps it as a backup and chains it.
//!
//! The hook is a small POSIX sh script. It runs this keyscan binary by its
//! absolute path (falling back to `keyscan` on PATH) and fails closed: when
//! keyscan cannot be found or fails, the commit is blocked.

use anyhow::{anyhow, bail, Context, Result};
use git2::Repository;
use std::fs;
use std::path::{Path, PathBuf};

/// Marks a hook as ours.
pub const MARKER: &str = "# installed by keyscan";
/// A foreign hook replaced with `--force` is kept under this suffix.
pub const BACKUP_SUFFIX: &str = ".keyscan-backup";

pub struct InstallOptions {
    /// Which hook: "pre-commit", "pre-push" or "pre-receive".
    pub hook: String,
    /// Replace a foreign hook instead of refusing (it is kept and chained).
    pub force: bool,
    /// This repository (a server's bare one) instead of the current one.
    pub repo: Option<PathBuf>,
}

/// The keyscan subcommand a hook runs.
fn subcommand(hook: &str) -> Result<&'static str> {
    match hook {
        "pre-commit" => Ok("pre-commit"),
        "pre-push" => Ok("pre-push"),
        "pre-receive" => Ok("pre-receive"),
        other => bail!(
            "keyscan cannot install a {other} hook (supported: pre-commit, pre-push, pre-receive with --server)"
        ),
    }
}

/// Install the hook into the repository of the current directory (or
/// `opts.repo`); returns a message for the user.
pub fn install(opts: &InstallOptions) -> Result<String> {
    let subcommand = subcommand(&opts.hook)?;
    let dir = match &opts.repo {
        Some(path) => {
            let repo = Repository::open(path).map_err(|e| {
                anyhow!(
                    "{} is not a git repository: {}",
                    path.display(),
                    e.message()
                )
            })?;
            repo_hooks_dir(&repo)?
        }
        None => hooks_dir()?,
    };
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(&opts.hook);
    let backup = dir.join(format!("{}{BACKUP_SUFFIX}", opts.hook));
    let mut chained = backup.exists();
    let existing = match fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => bail!("cannot read the existing hook {}: {e}", path.display()),
    };
    if let Some(existing) = existing {
        if !is_ours(&existing) {
            if !opts.force {
                bail!(
                    "{} already exists and was not written by keyscan; rerun with --force to keep it as {} and run it after keyscan",
                    path.display(),
                    backup.display()
                );
            }
            if backup.exists() {
                bail!(
                    "{} already exists and so does {}; move one of them away, then rerun",
                    path.display(),
                    backup.display()
                );
            }
            fs::rename(&path, &backup)
                .with_context(|| format!("cannot back up {}", path.display()))?;
            chained = true;
        }
    }
    let exe = std::env::current_exe().ok();
    let script = hook_script(
        subcommand,
        exe.as_deref(),
        chained.then_some(backup.as_path()),
    );
    // Write next to the hook, then rename: a commit running meanwhile sees
    // the old hook or the new one, never half of one.
    let tmp = dir.join(format!(".{}.keyscan-tmp", opts.hook));
    fs::write(&tmp, script).with_context(|| format!("cannot write {}", tmp.display()))?;
    make_executable(&tmp)?;
    fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut msg = format!("keyscan: installed {}", path.display());
    if chained {
        msg.push_str(&format!(
            " (it runs the previous hook, kept as {}, after keyscan)",
            backup.display()
        ));
    }
    Ok(msg)
}

/// Remove a hook keyscan installed, restoring any backup.
pub fn uninstall(hook: &str) -> Result<String> {
    subcommand(hook)?;
    let dir = hooks_dir()?;
    let path = dir.join(hook);
    let text = match fs::read(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("no {hook} hook at {}: nothing to uninstall", path.display())
        }
        Err(e) => bail!("cannot read {}: {e}", path.display()),
    };
    if !is_ours(&text) {
        bail!("{} was not written by keyscan; left alone", path.display());
    }
    fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
    let backup = dir.join(format!("{hook}{BACKUP_SUFFIX}"));
    if backup.exists() {
        fs::rename(&backup, &path)
            .with_context(|| format!("cannot restore {}", backup.display()))?;
        return Ok(format!(
            "keyscan: removed its {hook} hook and restored the previous one at {}",
            path.display()
        ));
    }
    Ok(format!("keyscan: removed {}", path.display()))
}

fn is_ours(text: &[u8]) -> bool {
    text.windows(MARKER.len()).any(|w| w == MARKER.as_bytes())
}

/// `core.hooksPath` (relative to the top of the work tree) or the common git
/// dir's hooks, shared by linked worktrees.
pub fn hooks_dir() -> Result<PathBuf> {
    let repo = Repository::open_from_env().map_err(|e| {
        if e.code() == git2::ErrorCode::NotFound {
            anyhow!("not a git repository (or any parent): run keyscan install inside a repository")
        } else {
            anyhow!("cannot open the git repository: {}", e.message())
        }
    })?;
    repo_hooks_dir(&repo)
}

fn repo_hooks_dir(repo: &Repository) -> Result<PathBuf> {
    let config = repo
        .config()
        .map_err(|e| anyhow!("cannot read the git config: {}", e.message()))?;
    match config.get_path("core.hooksPath") {
        Ok(custom) if custom.as_os_str().is_empty() => {}
        Ok(custom) if custom.is_absolute() => return Ok(custom),
        Ok(custom) => {
            let base = repo.workdir().unwrap_or(repo.path());
            return Ok(base.join(custom));
        }
        Err(e) if e.code() == git2::ErrorCode::NotFound => {}
        Err(e) => bail!("cannot read core.hooksPath: {}", e.message()),
    }
    Ok(repo.commondir().join("hooks"))
}

/// The hook: run keyscan, pass on its failure, then run the chained hook.
/// Push hooks read ref lines on standard input: both keyscan and the chained
/// hook get them.
pub fn hook_script(subcommand: &str, exe: Option<&Path>, chained: Option<&Path>) -> String {
    let exe = exe
        .map(|p| shell_quote(&p.display().to_string()))
        .unwrap_or_else(|| "''".to_string());
    let (what, blocked, skip) = match subcommand {
        "pre-push" => ("pushes", "push", "skip once with `git push --no-verify`"),
        "pre-receive" => ("pushes received here", "push", "the pusher cannot skip it"),
        _ => (
            "commits",
            "commit",
            "skip once with `git commit --no-verify`",
        ),
    };
    let bypass = match subcommand {
        "pre-receive" => "ask the server's administrator".to_string(),
        _ => format!("bypass on purpose with 'git {blocked} --no-verify'"),
    };
    let stdin = subcommand != "pre-commit";
    let run = if stdin {
        "# Kept whole (trailing newline too) for keyscan and any chained hook.\n\
         input=$(cat; echo x)\ninput=${input%x}\nprintf '%s' \"$input\" | \"$keyscan\" "
    } else {
        "\"$keyscan\" "
    };
    let mut s = format!(
        "#!/bin/sh\n\
         {MARKER}: blocks {what} that add private keys.\n\
         # Fails closed: if keyscan cannot run or fails, the {blocked} is blocked.\n\
         # Remove with `keyscan uninstall`; {skip}.\n\
         installed={exe}\n\
         keyscan=\"$installed\"\n\
         if [ ! -x \"$keyscan\" ]; then keyscan=$(command -v keyscan 2>/dev/null); fi\n\
         if [ -z \"$keyscan\" ]; then\n\
         \x20 echo \"keyscan: the keyscan binary is missing (not at $installed nor on PATH), so this {blocked} is blocked.\" >&2\n\
         \x20 echo \"keyscan: reinstall it and rerun 'keyscan install', or {bypass}.\" >&2\n\
         \x20 exit 1\n\
         fi\n\
         {run}{subcommand} \"$@\" || exit $?\n",
    );
    if let Some(old) = chained {
        let old = shell_quote(&old.display().to_string());
        let feed = if stdin {
            "printf '%s' \"$input\" | "
        } else {
            ""
        };
        // git skips a hook that is not executable; so does the chain.
        s.push_str(&format!(
            "# The previous hook, kept by `keyscan install --force`.\n\
             if [ -x {old} ]; then {feed}exec {old} \"$@\"; fi\n"
        ));
    }
    s
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot make {} executable", path.display()))
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_quotes_paths_and_chains() {
        let s = hook_script(
            "pre-commit",
            Some(Path::new("/opt/it's/keyscan")),
            Some(Path::new("/r/.git/hooks/pre-commit.keyscan-backup")),
        );
        assert!(s.starts_with("#!/bin/sh\n"));
        assert!(s.contains(MARKER));
        assert!(s.contains("installed='/opt/it'\\''s/keyscan'\n"));
        assert!(s.contains("\"$keyscan\" pre-commit \"$@\" || exit $?\n"));
        assert!(s.contains("exec '/r/.git/hooks/pre-commit.keyscan-backup' \"$@\""));
        assert!(is_ours(s.as_bytes()));
        assert!(!is_ours(b"#!/bin/sh\nexit 0\n"));
    }

    #[test]
    fn git_hooks_keyscan_knows() {
        assert!(subcommand("pre-commit").is_ok());
        assert!(subcommand("pre-receive").is_ok());
        assert!(subcommand("post-merge").is_err());
    }

    #[test]
    fn push_hooks_hand_standard_input_to_keyscan_and_the_chain() {
        let s = hook_script(
            "pre-push",
            None,
            Some(Path::new("/h/pre-push.keyscan-backup")),
        );
        assert!(s.contains("# Kept whole (trailing newline too) for keyscan and any chained hook.\n\
         input=$(cat; echo x)\ninput=${input%x}\nprintf '%s' \"$input\" | \"$keyscan\" pre-push \"$@\""));
        assert!(s.contains("printf '%s' \"$input\" | exec '/h/pre-push.keyscan-backup' \"$@\""));
        assert!(s.contains("this push is blocked"));
    }
}
