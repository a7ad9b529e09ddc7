//! The command line itself: closed pipes, where each flag applies, what
//! install and uninstall accept, and the messages of misuse.

mod support;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};
use support::keyscan;

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
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
