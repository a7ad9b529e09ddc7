//! What a person reads when the hook blocks a commit: the first line says it
//! was blocked and why, and the advice works when followed (the printed
//! allowlist entry, pasted into .keyscan.toml, lets a fixture through while a
//! different key at the same path still blocks). Real `git commit` runs
//! through the installed hook; keys are generated now.

use crate::support;
use crate::support::gitrepo::{text, TempRepo};
use crate::support::{bin, ed25519};
use std::fs;
use std::path::Path;

fn repo_with_hook() -> TempRepo {
    let r = TempRepo::new();
    let out = r.command(bin(), &r.dir).arg("install").output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    r
}

/// A fresh Ed25519 private key (text) and its fingerprint.
fn new_key(r: &TempRepo, name: &str) -> (String, String) {
    let (path, fp) = ed25519(&r.home, name);
    (fs::read_to_string(path).unwrap(), fp)
}

#[test]
fn a_blocked_commit_says_so_first_and_the_allowlist_advice_works() {
    let r = repo_with_hook();
    let (key, fp) = new_key(&r, "fixture");
    r.write("tests/fixtures/id_test", &key);
    r.ok(&["add", "-A"]);
    let (ok, out) = r.commit();
    assert!(!ok, "{out}");
    assert_eq!(
        out.lines().next(),
        Some("keyscan: commit blocked: 1 private key in the staged changes"),
        "{out}"
    );
    for expected in [
        "git rm --cached tests/fixtures/id_test",
        "[allowlist]",
        &format!("fingerprints = [\"{fp}\"]"),
        "EC2 Instance Connect",
        "Session Manager",
        "rotate it",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    assert!(!out.contains("gpg --gen-revoke"), "{out}");

    // Paste the printed entry into .keyscan.toml: the fixture goes through.
    let snippet: Vec<&str> = out
        .lines()
        .map(str::trim)
        .skip_while(|l| *l != "[allowlist]")
        .take(2)
        .collect();
    assert_eq!(snippet.len(), 2, "{out}");
    r.write(".keyscan.toml", &(snippet.join("\n") + "\n"));
    r.ok(&["add", ".keyscan.toml"]);
    let (ok, out) = r.commit();
    assert!(ok, "the allowlisted fixture should pass: {out}");

    // A different key at the same path still blocks.
    let (other, other_fp) = new_key(&r, "other");
    r.write("tests/fixtures/id_test", &other);
    r.ok(&["add", "-A"]);
    let (ok, out) = r.commit();
    assert!(!ok, "{out}");
    assert!(out.contains(&other_fp), "{out}");
}

#[test]
fn the_headline_counts_every_blocking_key() {
    let r = repo_with_hook();
    for name in ["a", "b"] {
        let (key, _) = new_key(&r, name);
        r.write(&format!("keys/{name} key"), &key);
    }
    r.ok(&["add", "-A"]);
    let (ok, out) = r.commit();
    assert!(!ok);
    assert_eq!(
        out.lines().next(),
        Some("keyscan: commit blocked: 2 private keys in the staged changes"),
        "{out}"
    );
    // Paths with spaces are quoted in the command to copy.
    assert!(
        out.contains("git rm --cached 'keys/a key' 'keys/b key'"),
        "{out}"
    );
}

#[test]
fn a_pgp_key_is_revoked_not_taken_out_of_authorized_keys() {
    let r = repo_with_hook();
    let gnupg = r.home.join("gnupg");
    fs::create_dir_all(&gnupg).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&gnupg, fs::Permissions::from_mode(0o700)).unwrap();
    }
    let gpg = |args: &[&str]| -> String {
        let out = r
            .command("gpg", Path::new(&r.home))
            .arg("--homedir")
            .arg(&gnupg)
            .args(["--batch", "--pinentry-mode", "loopback", "--passphrase", ""])
            .args(args)
            .output()
            .expect("gpg is needed by this test");
        assert!(out.status.success(), "gpg {args:?}: {}", text(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    gpg(&[
        "--quick-gen-key",
        "Release <release@example.com>",
        "ed25519",
        "default",
        "never",
    ]);
    let armored = gpg(&["--armor", "--export-secret-keys", "release@example.com"]);
    let fpr = gpg(&["--with-colons", "--fingerprint", "release@example.com"])
        .lines()
        .find(|l| l.starts_with("fpr:"))
        .and_then(|l| l.split(':').nth(9))
        .expect("gpg prints a fingerprint")
        .to_string();
    let _ = r
        .command("gpgconf", &r.home)
        .arg("--homedir")
        .arg(&gnupg)
        .args(["--kill", "gpg-agent"])
        .output();

    r.write("release/signing.asc", &armored);
    r.ok(&["add", "-A"]);
    let (ok, out) = r.commit();
    assert!(!ok, "{out}");
    assert!(
        out.starts_with("keyscan: commit blocked: 1 private key"),
        "{out}"
    );
    for expected in [
        format!("gpg --gen-revoke {fpr}"),
        format!("gpg --send-keys {fpr}"),
        format!("fingerprints = [\"{fpr}\"]"),
    ] {
        assert!(out.contains(&expected), "missing {expected:?} in:\n{out}");
    }
    for absent in ["authorized_keys", "EC2"] {
        assert!(
            !out.contains(absent),
            "{absent} is no advice for a PGP key:\n{out}"
        );
    }
}

#[test]
fn scan_output_ends_with_a_summary_and_rotation_first() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, fp) = ed25519(tmp.path(), "id");
    let out = support::keyscan(tmp.path(), &["scan", "id"], None);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("id:1-"), "{stdout}");
    assert!(
        stdout.contains("keyscan: 1 private key found in 1 file\nWhat to do:\n  1. Rotate the key"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("fingerprints = [\"{fp}\"]")),
        "{stdout}"
    );
    assert!(!stdout.contains("blocked"), "{stdout}");
}
