//! The command line itself: closed pipes, where each flag applies, what
//! install and uninstall accept, and the messages of misuse.

#[path = "support/gitrepo.rs"]
mod gitrepo;
mod support;

use gitrepo::{text, TempRepo};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use support::keyscan;

/// keyscan in the repository's clean environment, `input` on standard input.
fn ks(r: &TempRepo, args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = r
        .command(support::bin(), &r.dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// A key made by ssh-keygen outside the work tree: (its text, its fingerprint).
fn new_key(r: &TempRepo, name: &str) -> (String, String) {
    let (path, fp) = support::ed25519(&r.home, name);
    (fs::read_to_string(path).unwrap(), fp)
}

/// A repository with the pre-push hook installed and a bare `origin`.
fn with_pre_push_hook() -> (TempRepo, PathBuf) {
    let r = TempRepo::new();
    let bare = r.home.join("origin.git");
    r.ok(&["init", "-q", "--bare", bare.to_str().unwrap()]);
    r.ok(&["remote", "add", "origin", bare.to_str().unwrap()]);
    let out = ks(&r, &["install", "--hook", "pre-push"], "");
    assert!(out.status.success(), "{}", text(&out));
    r.write("README", "hello\n");
    r.ok(&["add", "README"]);
    r.ok(&["commit", "-q", "-m", "init"]);
    r.ok(&["push", "-q", "origin", "main"]);
    (r, bare)
}

/// `sh -c SCRIPT` in `dir` with keyscan as `$K`, under bash's pipefail so
/// that keyscan's own status is the pipeline's.
fn pipeline(dir: &Path, script: &str) -> Output {
    Command::new("bash")
        .args(["-c", &format!("set -o pipefail; {script}")])
        .current_dir(dir)
        .env("K", support::bin())
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn a_closed_pipe_ends_quietly_with_status_0() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, _) = support::ed25519(d, "seed");
    // Far more output than a pipe holds, so keyscan is still writing when
    // `head` has gone.
    fs::write(d.join("keys"), fs::read(&key).unwrap().repeat(400)).unwrap();
    for args in [
        "scan keys",
        "--format json scan keys",
        "scan keys --format sarif",
    ] {
        let out = pipeline(d, &format!("\"$K\" {args} | head -1"));
        assert_eq!(out.status.code(), Some(0), "{args}: {}", text(&out));
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{args}");
        assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    }
    // Without the pipe it blocks as usual.
    let out = keyscan(d, &["scan", "keys"], None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

// issue 14, 1: pre-push applies the baseline, from the flag and from the config.
#[test]
fn pre_push_lets_recorded_keys_through_and_blocks_new_ones() {
    let (r, _bare) = with_pre_push_hook();
    let (old, old_fp) = new_key(&r, "old");
    r.write("ops/old_key", &old);
    r.ok(&["add", "ops/old_key"]);
    r.ok(&["commit", "-q", "-m", "old key"]);
    let out = ks(&r, &["history", "--write-baseline", "known.json"], "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // By hand: the ref lines git would give.
    let head = r.ok(&["rev-parse", "HEAD"]);
    let remote = r.ok(&["rev-parse", "origin/main"]);
    let lines = format!("refs/heads/main {head} refs/heads/main {remote}\n");
    let out = ks(&r, &["pre-push", "origin"], &lines);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let out = ks(
        &r,
        &["pre-push", "origin", "--baseline", "known.json"],
        &lines,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("1 known key suppressed by baseline"),
        "{}",
        text(&out)
    );

    // Through git push and the installed hook: blocked until the config names the baseline.
    let out = r.git(&["push", "origin", "main"]);
    assert!(!out.status.success(), "{}", text(&out));
    r.write(".keyscan.toml", "[baseline]\nfile = \"known.json\"\n");
    let out = r.git(&["push", "origin", "main"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(r.ok(&["rev-parse", "origin/main"]), head);

    // A new key still blocks, and only it is reported.
    let (new, new_fp) = new_key(&r, "new");
    r.write("ops/new_key", &new);
    r.ok(&["add", "ops/new_key"]);
    r.ok(&["commit", "-q", "-m", "new key"]);
    let out = r.git(&["push", "origin", "main"]);
    let all = text(&out);
    assert!(!out.status.success(), "{all}");
    assert!(
        all.contains("keyscan: push blocked: 1 private key"),
        "{all}"
    );
    assert!(all.contains(&new_fp) && !all.contains(&old_fp), "{all}");
    assert_eq!(r.ok(&["rev-parse", "origin/main"]), head);
}
