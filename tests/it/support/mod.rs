//! Shared helpers for integration tests: run the real binary, make real keys.
#![allow(dead_code)]

pub mod gitrepo;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Variables git sets for hooks, or that would name another author: a test
/// run from inside a hook must not inherit them.
const GIT_ENV: &[&str] = &[
    "GIT_DIR",
    "GIT_INDEX_FILE",
    "GIT_WORK_TREE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_PREFIX",
    "GIT_EDITOR",
    "GIT_CEILING_DIRECTORIES",
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
];

/// Removes from `cmd` what git's environment would leak into a test.
pub fn without_git_env(cmd: &mut Command) -> &mut Command {
    for var in GIT_ENV {
        cmd.env_remove(var);
    }
    cmd
}

/// Whether this is a CI run, where a test tool that cannot be installed
/// fails the test instead of skipping its check.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Where test tools (npm and pip installs) live: `.ci/run` exports it.
pub fn tools_dir() -> PathBuf {
    std::env::var_os("KEYSCAN_TEST_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-tools"))
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_keyscan")
}

/// Run a tool that must exist; a missing tool fails the test loudly.
pub fn tool(name: &str, args: &[&str], dir: &Path) -> Output {
    let out = Command::new(name)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{name} is needed by this test (install it): {e}"));
    assert!(
        out.status.success(),
        "{name} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `ssh-keygen -t ed25519` key; returns (private key path, `SHA256:` fingerprint).
pub fn ed25519(dir: &Path, name: &str) -> (PathBuf, String) {
    let path = dir.join(name);
    tool(
        "ssh-keygen",
        &[
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "test",
            "-f",
            path.to_str().unwrap(),
        ],
        dir,
    );
    let fp = ssh_fingerprint(&path);
    (path, fp)
}

/// RSA PKCS#1 PEM from openssl; returns (path, `SHA256:` fingerprint).
pub fn rsa_pem(dir: &Path, name: &str) -> (PathBuf, String) {
    let path = dir.join(name);
    tool(
        "openssl",
        &[
            "genrsa",
            "-traditional",
            "-out",
            path.to_str().unwrap(),
            "2048",
        ],
        dir,
    );
    let fp = ssh_fingerprint(&path);
    (path, fp)
}

/// What `ssh-keygen -lf` says the fingerprint is.
pub fn ssh_fingerprint(path: &Path) -> String {
    let out = tool(
        "ssh-keygen",
        &["-lf", path.to_str().unwrap()],
        path.parent().unwrap(),
    );
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .nth(1)
        .expect("ssh-keygen -lf prints a fingerprint")
        .to_string()
}

/// Run keyscan with args in `dir`, stdin from `input`.
pub fn keyscan(dir: &Path, args: &[&str], input: Option<&[u8]>) -> Output {
    use std::io::Write;
    let mut child = Command::new(bin())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run keyscan");
    let mut stdin = child.stdin.take().unwrap();
    if let Some(data) = input {
        stdin.write_all(data).unwrap();
    }
    drop(stdin);
    child.wait_with_output().unwrap()
}

/// `keyscan --format json ...`, parsed.
pub fn json(dir: &Path, args: &[&str], input: Option<&[u8]>) -> (i32, serde_json::Value) {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let out = keyscan(dir, &all, input);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), v)
}

pub fn findings(v: &serde_json::Value) -> &Vec<serde_json::Value> {
    v["findings"].as_array().expect("findings array")
}
