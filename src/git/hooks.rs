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

/// The keyscan subcommand a hook runs; pre-receive goes with a server's
/// repository (`server`) and only there.
fn subcommand(hook: &str, server: bool, verb: &str) -> Result<&'static str> {
    let sub = match hook {
        "pre-commit" => "pre-commit",
        "pre-push" => "pre-push",
        "pre-receive" => "pre-receive",
        other => bail!(
            "keyscan cannot {verb} a {other} hook (supported: pre-commit, pre-push, pre-receive with --server)"
        ),
    };
    match (sub, server) {
        ("pre-receive", false) => bail!(
            "pre-receive is a server's hook: {verb} it with `keyscan {verb} --server REPO` (the server's bare repository)"
        ),
        (client, true) if client != "pre-receive" => bail!(
            "--server is for the server's pre-receive hook, not {client}; for a clone's {client} hook run `keyscan {verb} --hook {client}` inside it"
        ),
        _ => Ok(sub),
    }
}

/// The hooks directory of `repo` (a server's repository), else of the
/// repository of the current directory.
fn target_dir(repo: Option<&Path>) -> Result<PathBuf> {
    match repo {
        Some(path) => {
            let repo = Repository::open(path).map_err(|e| {
                anyhow!(
                    "{} is not a git repository: {}",
                    path.display(),
                    e.message()
                )
            })?;
            repo_hooks_dir(&repo)
        }
        None => hooks_dir(),
    }
}

/// The command that removes this hook, for its comment.
fn uninstall_command(hook: &str, repo: Option<&Path>) -> String {
    match (hook, repo) {
        ("pre-commit", _) => "keyscan uninstall".to_string(),
        (_, None) => format!("keyscan uninstall --hook {hook}"),
        (_, Some(path)) => {
            let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
            // It sits in a comment: no line break may end that early.
            let shown = path.display().to_string().replace(['\n', '\r'], "?");
            let plain = (shown.bytes()).all(|b| b.is_ascii_alphanumeric() || b"/._-+".contains(&b));
            let shown = if plain { shown } else { shell_quote(&shown) };
            format!("keyscan uninstall --server {shown}")
        }
    }
}

/// Install the hook into the repository of the current directory (or
/// `opts.repo`); returns a message for the user.
pub fn install(opts: &InstallOptions) -> Result<String> {
    let subcommand = subcommand(&opts.hook, opts.repo.is_some(), "install")?;
    let dir = target_dir(opts.repo.as_deref())?;
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
        &uninstall_command(subcommand, opts.repo.as_deref()),
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

/// Remove a hook keyscan installed from the repository of the current
/// directory (or a server's `repo`), restoring any backup.
pub fn uninstall(hook: &str, repo: Option<&Path>) -> Result<String> {
    subcommand(hook, repo.is_some(), "uninstall")?;
    let dir = target_dir(repo)?;
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
/// hook get them. `uninstall`: the command that removes it, for the comment.
pub fn hook_script(
    subcommand: &str,
    exe: Option<&Path>,
    chained: Option<&Path>,
    uninstall: &str,
) -> String {
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
         # Remove with `{uninstall}`; {skip}.\n\
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
            "keyscan uninstall",
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
        assert!(subcommand("pre-commit", false, "install").is_ok());
        assert!(subcommand("pre-receive", true, "install").is_ok());
        assert!(subcommand("post-merge", false, "install").is_err());
        assert!(subcommand("pre-receive", false, "install").is_err());
        assert!(subcommand("pre-push", true, "uninstall").is_err());
    }

    #[test]
    fn the_comment_names_the_command_that_removes_the_hook() {
        let cmd = uninstall_command("pre-receive", Some(Path::new("/srv/a b\n.git")));
        assert_eq!(cmd, "keyscan uninstall --server '/srv/a b?.git'");
        let s = hook_script("pre-receive", None, None, &cmd);
        assert!(s.contains("# Remove with `keyscan uninstall --server '/srv/a b?.git'`;"));
        let cmd = uninstall_command("pre-receive", Some(Path::new("/srv/shop.git")));
        assert_eq!(cmd, "keyscan uninstall --server /srv/shop.git");
    }

    #[test]
    fn push_hooks_hand_standard_input_to_keyscan_and_the_chain() {
        let s = hook_script(
            "pre-push",
            None,
            Some(Path::new("/h/pre-push.keyscan-backup")),
            "keyscan uninstall --hook pre-push",
        );
        assert!(s.contains("# Kept whole (trailing newline too) for keyscan and any chained hook.\n\
         input=$(cat; echo x)\ninput=${input%x}\nprintf '%s' \"$input\" | \"$keyscan\" pre-push \"$@\""));
        assert!(s.contains("printf '%s' \"$input\" | exec '/h/pre-push.keyscan-backup' \"$@\""));
        assert!(s.contains("this push is blocked"));
    }
}
