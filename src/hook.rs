//! Installing and removing keyscan's git hooks. A hook keyscan did not write
//! is never overwritten silently: `--force` keeps it as a backup and chains it.

use anyhow::{anyhow, bail, Context, Result};
use git2::Repository;
use std::fs;
use std::path::{Path, PathBuf};

/// Marks a hook as ours.
const MARKER: &str = "# installed by keyscan";
const BACKUP_SUFFIX: &str = ".keyscan-backup";

pub struct InstallOptions {
    /// Which hook: "pre-commit".
    pub hook: String,
    /// Replace a foreign hook instead of refusing (it is kept and chained).
    pub force: bool,
}

/// Install the hook into the repository of the current directory; returns
/// a message for the user.
pub fn install(opts: &InstallOptions) -> Result<String> {
    let subcommand = match opts.hook.as_str() {
        "pre-commit" => "pre-commit",
        other => bail!("keyscan cannot install a {other} hook (supported: pre-commit)"),
    };
    let dir = hooks_dir()?;
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(&opts.hook);
    let backup = dir.join(format!("{}{BACKUP_SUFFIX}", opts.hook));
    let mut chained = backup.exists();
    if let Ok(existing) = fs::read_to_string(&path) {
        if !existing.contains(MARKER) {
            if !opts.force {
                bail!(
                    "{} already exists and was not written by keyscan; rerun with --force to keep it as {} and run it after keyscan",
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
    fs::write(&path, script).with_context(|| format!("cannot write {}", path.display()))?;
    make_executable(&path)?;
    let mut msg = format!("keyscan: installed {}", path.display());
    if chained {
        msg.push_str(&format!(" (runs {} after keyscan)", backup.display()));
    }
    Ok(msg)
}

/// Remove a hook keyscan installed, restoring any backup.
pub fn uninstall(hook: &str) -> Result<String> {
    let dir = hooks_dir()?;
    let path = dir.join(hook);
    let text =
        fs::read_to_string(&path).map_err(|_| anyhow!("no {hook} hook at {}", path.display()))?;
    if !text.contains(MARKER) {
        bail!("{} was not written by keyscan; left alone", path.display());
    }
    fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
    let backup = dir.join(format!("{hook}{BACKUP_SUFFIX}"));
    if backup.exists() {
        fs::rename(&backup, &path)
            .with_context(|| format!("cannot restore {}", backup.display()))?;
        return Ok(format!(
            "keyscan: removed its {hook} hook and restored the previous one"
        ));
    }
    Ok(format!("keyscan: removed {}", path.display()))
}

/// `core.hooksPath` (relative to the work tree) or the common git dir's hooks.
fn hooks_dir() -> Result<PathBuf> {
    let repo =
        Repository::open_from_env().map_err(|_| anyhow!("not a git repository (or any parent)"))?;
    let config = repo.config().context("cannot read git config")?;
    if let Ok(custom) = config.get_path("core.hooksPath") {
        if custom.is_absolute() {
            return Ok(custom);
        }
        let base = repo.workdir().unwrap_or(repo.path());
        return Ok(base.join(custom));
    }
    Ok(repo.commondir().join("hooks"))
}

fn hook_script(subcommand: &str, exe: Option<&Path>, chained: Option<&Path>) -> String {
    let exe = exe
        .map(|p| shell_quote(&p.display().to_string()))
        .unwrap_or_else(|| "''".to_string());
    let mut s = format!(
        "#!/bin/sh\n{MARKER}: blocks commits that add private keys.\n\
         # Fails closed: if keyscan cannot run, the commit is blocked.\n\
         keyscan={exe}\n\
         if [ ! -x \"$keyscan\" ]; then keyscan=$(command -v keyscan 2>/dev/null); fi\n\
         if [ -z \"$keyscan\" ]; then\n\
         \x20 echo \"keyscan: the keyscan binary is missing, so this commit is blocked.\" >&2\n\
         \x20 echo \"keyscan: reinstall it (cargo install keyscan; keyscan install), or remove this hook on purpose.\" >&2\n\
         \x20 exit 1\n\
         fi\n\
         \"$keyscan\" {subcommand} || exit 1\n"
    );
    if let Some(old) = chained {
        s.push_str(&format!(
            "exec {} \"$@\"\n",
            shell_quote(&old.display().to_string())
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
