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
    // "EC2 " with its space: a hex fingerprint may hold "EC2".
    for absent in ["authorized_keys", "EC2 "] {
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
        stdout.contains("\nWhat to do:\n  1. Rotate the key"),
        "{stdout}"
    );
    // The summary line is the last line.
    assert!(
        stdout.ends_with("\n\nkeyscan: 1 private key found in 1 file\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("fingerprints = [\"{fp}\"]")),
        "{stdout}"
    );
    assert!(!stdout.contains("blocked"), "{stdout}");
}

/// No byte a terminal would obey, no bidi control, no U+FFFD in `text`.
fn assert_no_raw_controls(text: &str) {
    for c in text.chars() {
        let bad = matches!(c, '\x00'..='\x08' | '\x0b'..='\x1f' | '\x7f' | '\u{80}'..='\u{9f}')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
            || c == '\u{fffd}';
        assert!(!bad, "raw {c:?} in:\n{text}");
    }
}

/// An author name with ESC [8m (which would hide the rest of an admin's
/// report), an email with a screen clear, a branch named with U+202E and a
/// file whose name holds ESC: the pre-commit hook, the `remote:` lines of a
/// rejected push and `keyscan history` show them escaped.
#[test]
fn names_from_the_repository_reach_no_terminal_raw() {
    let r = TempRepo::new();
    let bare = r.home.join("server.git");
    r.ok(&["init", "-q", "--bare", bare.to_str().unwrap()]);
    let out = r
        .command(bin(), &r.dir)
        .args(["install", "--server", bare.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let (key, _) = new_key(&r, "id");
    let branch = "\u{202e}evil";
    r.ok(&["checkout", "-q", "-b", branch]);
    r.write("ops/k\x1b[8mhidden", &key);
    r.ok(&["add", "-A"]);
    let out = r.command(bin(), &r.dir).arg("pre-commit").output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let out = text(&out);
    assert_no_raw_controls(&out);
    assert!(
        out.contains(r"git rm --cached $'ops/k\x1b[8mhidden'"),
        "{out}"
    );
    let commit = r
        .command("git", &r.dir)
        .args(["commit", "-q", "-m", "subject \x1b[8m hidden"])
        .env("GIT_AUTHOR_NAME", "Eve\x1b[8m hidden")
        .env("GIT_AUTHOR_EMAIL", "eve\x1b[2J@example.com")
        .output()
        .unwrap();
    assert!(commit.status.success(), "{}", text(&commit));

    let push = r.git(&["push", bare.to_str().unwrap(), branch]);
    let out = text(&push);
    assert!(!push.status.success(), "{out}");
    // git's own lines name the ref raw; keyscan's are the `remote:` ones.
    let remote: Vec<&str> = out.lines().filter(|l| l.starts_with("remote:")).collect();
    assert_no_raw_controls(&remote.join("\n"));
    for shown in [
        r"remote: ops/k\x1b[8mhidden:1-7 private key",
        r"by Eve\x1b[8m hidden on ",
        r"ref          refs/heads/\u{202e}evil",
        r"so that no commit holds $'ops/k\x1b[8mhidden'",
    ] {
        assert!(out.contains(shown), "missing {shown:?} in:\n{out}");
    }

    let out = r.command(bin(), &r.dir).arg("history").output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let out = text(&out);
    assert_no_raw_controls(&out);
    for shown in [
        r"by Eve\x1b[8m hidden <eve\x1b[2J@example.com>, still in \u{202e}evil",
        r"at           ops/k\x1b[8mhidden:1-7  commit ",
    ] {
        assert!(out.contains(shown), "missing {shown:?} in:\n{out}");
    }
}

/// 5 copies of one key and 2 of another, interleaved: the allowlist snippet
/// names each key once.
#[test]
fn the_allowlist_advice_names_each_key_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (a, fp_a) = ed25519(dir, "a");
    let (b, fp_b) = ed25519(dir, "b");
    let (a, b) = (fs::read(a).unwrap(), fs::read(b).unwrap());
    for i in 0..5 {
        fs::write(dir.join(format!("copy{i}_a")), &a).unwrap();
    }
    fs::write(dir.join("copy1_b"), &b).unwrap();
    fs::write(dir.join("copy3_b"), &b).unwrap();
    let out = support::keyscan(dir, &["scan"], None);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let entries: Vec<&str> = stdout
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("fingerprints = ["))
        .collect();
    assert_eq!(
        entries,
        [format!("fingerprints = [\"{fp_a}\", \"{fp_b}\"]")],
        "{stdout}"
    );
}

/// `keyscan scan` advises by where the key is: a file in a git work tree is
/// taken out with `git rm --cached`, a file elsewhere on disk (a Downloads
/// folder, or a file git ignores) is deleted or locked down, and a key on
/// standard input is removed where the input came from.
#[test]
fn scan_advice_fits_where_the_key_is() {
    let r = TempRepo::new();
    let (key, _) = new_key(&r, "id");
    let scan = |dir: &Path, args: &[&str], input: Option<&[u8]>| -> String {
        let out = support::keyscan(dir, args, input);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };

    // In a work tree.
    r.write("keys/deploy key", &key);
    let out = scan(&r.dir, &["scan", "keys"], None);
    assert!(out.contains("git rm --cached 'keys/deploy key'"), "{out}");
    assert!(!out.contains("Delete the key file"), "{out}");

    // Ignored in a work tree, and outside any: no git advice.
    r.write(".gitignore", "secret/\n");
    r.write("secret/id", &key);
    let downloads = r.home.join("Downloads");
    fs::create_dir_all(&downloads).unwrap();
    fs::write(downloads.join("id_rsa"), &key).unwrap();
    for (dir, arg, shown) in [
        (&r.dir, "secret", "secret/id"),
        (&r.home, "Downloads", "Downloads/id_rsa"),
    ] {
        let out = scan(dir, &["scan", arg], None);
        assert!(!out.contains("git rm"), "{out}");
        assert!(
            out.contains(&format!(
                "Delete the key file if nothing needs it (`rm {shown}`)"
            )),
            "{out}"
        );
        assert!(out.contains("[allowlist]"), "{out}");
    }

    // Standard input.
    let out = scan(&r.home, &["scan", "-"], Some(key.as_bytes()));
    assert!(out.contains("The key came in on standard input"), "{out}");
    for absent in ["git rm", "rm <stdin>", "[allowlist]"] {
        assert!(!out.contains(absent), "{absent}: {out}");
    }
}
