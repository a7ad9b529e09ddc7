//! The pre-commit framework (pre-commit.com) running this repository's
//! `.pre-commit-hooks.yaml`: the real `pre-commit` from PyPI, `try-repo` on a
//! temporary repository with the freshly built keyscan on PATH. `.ci/run`
//! installs pre-commit; in CI a missing one fails the test.
//!
//! The `keyscan` hook (`language: rust`) builds keyscan with `cargo install`,
//! which takes minutes on a small machine, so only its manifest entry is
//! checked here; `keyscan-system` runs the same entry.

use crate::support::gitrepo::{text, TempRepo};
use crate::support::{bin, ed25519, in_ci, tools_dir};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const PRE_COMMIT: &str = "pre-commit==4.7.0";

/// The `pre-commit` executable in a venv under the tools dir, installed from
/// PyPI when missing. `None` only outside CI when it cannot be installed.
fn pre_commit() -> Option<&'static Path> {
    static EXE: OnceLock<Option<PathBuf>> = OnceLock::new();
    EXE.get_or_init(|| {
        let venv = tools_dir().join("venv");
        let exe = venv.join("bin/pre-commit");
        if !exe.is_file() {
            let made = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .is_ok_and(|s| s.success());
            if made {
                let _ = Command::new(venv.join("bin/pip"))
                    .args(["install", "-q", PRE_COMMIT])
                    .status();
            }
        }
        if !exe.is_file() {
            let why = format!("{PRE_COMMIT} could not be installed (python3 venv or PyPI missing)");
            assert!(!in_ci(), "{why}: .ci/run installs it");
            eprintln!("skipping the pre-commit framework test: {why}");
            return None;
        }
        Some(exe)
    })
    .as_deref()
}

/// `pre-commit try-repo <this repository> HOOK` in `r`, keyscan first on PATH.
fn try_repo(exe: &Path, r: &TempRepo, hook: &str) -> Output {
    let keyscan_dir = Path::new(bin()).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(keyscan_dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    r.command(exe, &r.dir)
        .args(["try-repo", env!("CARGO_MANIFEST_DIR"), hook])
        .env("PATH", path)
        .env("PRE_COMMIT_HOME", r.home.join("pre-commit-cache"))
        .env_remove("PRE_COMMIT_TO_REF")
        .env_remove("PRE_COMMIT_FROM_REF")
        .output()
        .unwrap()
}

#[test]
fn the_hook_manifest_is_valid_for_pre_commit() {
    let Some(exe) = pre_commit() else { return };
    let out = Command::new(exe)
        .args(["validate-manifest", ".pre-commit-hooks.yaml"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let manifest = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    for needed in [
        "- id: keyscan\n",
        "- id: keyscan-system\n",
        "language: rust",
        "language: system",
        "stages: [pre-commit, pre-push]",
        "pass_filenames: false",
        "always_run: true",
        "exec keyscan pre-push",
        "exec keyscan pre-commit",
    ] {
        assert!(manifest.contains(needed), "manifest lacks {needed:?}");
    }
}

#[test]
fn try_repo_blocks_a_staged_key_and_passes_a_clean_commit() {
    let Some(exe) = pre_commit() else { return };
    let r = TempRepo::new();
    let (key, fp) = ed25519(&r.home, "gen");
    std::fs::copy(&key, r.dir.join("server.pem")).unwrap();
    r.ok(&["add", "server.pem"]);
    let out = try_repo(exe, &r, "keyscan-system");
    let shown = text(&out);
    assert!(!out.status.success(), "the key should be blocked: {shown}");
    assert!(
        shown.contains("keyscan: commit blocked: 1 private key in the staged changes"),
        "{shown}"
    );
    assert!(
        shown.contains("server.pem") && shown.contains(&fp),
        "{shown}"
    );

    r.ok(&["rm", "-q", "--cached", "server.pem"]);
    std::fs::remove_file(r.dir.join("server.pem")).unwrap();
    r.write("README", "no keys here\n");
    r.ok(&["add", "README"]);
    let out = try_repo(exe, &r, "keyscan-system");
    let shown = text(&out);
    assert!(out.status.success(), "a clean commit should pass: {shown}");
    assert!(shown.contains("Passed"), "{shown}");
}

/// The `language: rust` hook: pre-commit runs `cargo install` on this
/// repository (a release build: minutes on a small machine, so opt-in). Set
/// CARGO_TARGET_DIR to an already built target dir to make it quick.
#[test]
#[ignore = "builds keyscan in release with cargo install; run with --ignored"]
fn the_rust_hook_builds_keyscan_and_blocks_a_staged_key() {
    let Some(exe) = pre_commit() else { return };
    let r = TempRepo::new();
    let (key, fp) = ed25519(&r.home, "gen");
    std::fs::copy(&key, r.dir.join("server.pem")).unwrap();
    r.ok(&["add", "server.pem"]);
    // keyscan is not on this PATH: the hook must use the one it built.
    let out = r
        .command(exe, &r.dir)
        .args(["try-repo", env!("CARGO_MANIFEST_DIR"), "keyscan"])
        .env("PRE_COMMIT_HOME", r.home.join("pre-commit-cache"))
        // cargo and rustup keep their homes when HOME moves.
        .env("CARGO_HOME", cargo_home())
        .env("RUSTUP_HOME", rustup_home())
        .output()
        .unwrap();
    let shown = text(&out);
    assert!(!out.status.success(), "the key should be blocked: {shown}");
    assert!(
        shown.contains("keyscan: commit blocked: 1 private key in the staged changes")
            && shown.contains(&fp),
        "{shown}"
    );
}

fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"))
}

fn rustup_home() -> PathBuf {
    std::env::var_os("RUSTUP_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".rustup"))
}
