//! The pre-commit hook through real `git commit` runs: blocked and allowed
//! cases, temporary indexes, partial staging, install/uninstall.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::*;

struct Repo {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    home: PathBuf,
}

impl Repo {
    fn new() -> Repo {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("repo");
        let home = tmp.path().join("home");
        fs::create_dir_all(&dir).unwrap();
        fs::create_dir_all(&home).unwrap();
        let r = Repo {
            _tmp: tmp,
            dir,
            home,
        };
        r.ok(&["init", "-q", "-b", "main"]);
        r
    }

    fn git(&self, args: &[&str]) -> Output {
        Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.com",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .current_dir(&self.dir)
            .env("HOME", &self.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1")
            .output()
            .expect("git is needed by this test")
    }

    fn ok(&self, args: &[&str]) -> Output {
        let out = self.git(args);
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn write(&self, path: &str, text: &str) {
        let p = self.dir.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    fn head(&self) -> String {
        String::from_utf8_lossy(&self.git(&["rev-parse", "-q", "--verify", "HEAD"]).stdout)
            .trim()
            .to_string()
    }

    fn install(&self) {
        let out = keyscan(&self.dir, &["install"], None);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Commit and say whether it went through; asserts HEAD moved only then.
    fn commit(&self, args: &[&str]) -> (bool, String) {
        let before = self.head();
        let mut all = vec!["commit", "-q", "-m", "test"];
        all.extend_from_slice(args);
        let out = self.git(&all);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.success(), self.head() != before, "{text}");
        (out.status.success(), text)
    }
}

fn new_key(dir: &Path) -> String {
    let (path, _) = ed25519(dir, "gen_key");
    let text = fs::read_to_string(&path).unwrap();
    fs::remove_file(&path).unwrap();
    fs::remove_file(path.with_extension("pub")).unwrap();
    text
}

#[test]
fn initial_commit_with_a_key_is_blocked_and_clean_one_allowed() {
    let r = Repo::new();
    r.install();
    r.write("README", "hello\n");
    r.write("deploy/ec2-prod.pem", &new_key(r.home.as_path()));
    r.ok(&["add", "-A"]);
    let (ok, text) = r.commit(&[]);
    assert!(!ok);
    assert!(
        text.contains("deploy/ec2-prod.pem") && text.contains("Ed25519"),
        "{text}"
    );

    r.ok(&["rm", "-q", "--cached", "deploy/ec2-prod.pem"]);
    let (ok, text) = r.commit(&[]);
    assert!(ok, "{text}");
}

#[test]
fn staged_content_counts_not_the_working_tree() {
    let r = Repo::new();
    r.write("a.txt", "one\n");
    r.ok(&["add", "a.txt"]);
    r.ok(&["commit", "-q", "-m", "init"]);
    r.install();

    // Staged, then deleted from the working tree: still blocked.
    r.write("id_ed25519", &new_key(&r.home));
    r.ok(&["add", "id_ed25519"]);
    fs::remove_file(r.dir.join("id_ed25519")).unwrap();
    let (ok, _) = r.commit(&[]);
    assert!(!ok);
    r.ok(&["rm", "-q", "--cached", "id_ed25519"]);

    // Partial staging: only a harmless hunk staged, the key stays unstaged.
    let key = new_key(&r.home);
    r.write("a.txt", "one\ntwo\n");
    r.ok(&["add", "a.txt"]);
    r.write("a.txt", &format!("one\ntwo\n{key}"));
    let (ok, text) = r.commit(&[]);
    assert!(ok, "{text}");
    // The reverse: the key staged, then removed from the working tree file.
    r.ok(&["add", "a.txt"]);
    r.write("a.txt", "one\ntwo\n");
    let (ok, _) = r.commit(&[]);
    assert!(!ok);
}

#[test]
fn commit_all_and_commit_path_use_a_temporary_index() {
    let r = Repo::new();
    r.write("config.yaml", "a: 1\n");
    r.ok(&["add", "config.yaml"]);
    r.ok(&["commit", "-q", "-m", "init"]);
    r.install();
    r.write(
        "config.yaml",
        &format!("a: 1\nkey: |\n{}", new_key(&r.home)),
    );
    let (ok, text) = r.commit(&["-a"]);
    assert!(!ok, "{text}");
    let (ok, _) = r.commit(&["config.yaml"]);
    assert!(!ok);
    let (ok, _) = r.commit(&["--", "config.yaml"]);
    assert!(!ok);
}

#[test]
fn old_key_elsewhere_in_a_file_does_not_block_unrelated_changes() {
    let r = Repo::new();
    let old = new_key(&r.home);
    r.write("notes.md", &format!("# notes\n{old}\nend\n"));
    r.ok(&["add", "notes.md"]);
    r.ok(&["commit", "-q", "-m", "old key, before keyscan"]);
    r.install();
    r.write("notes.md", &format!("# notes, edited\n{old}\nend\n"));
    r.ok(&["add", "notes.md"]);
    let (ok, text) = r.commit(&[]);
    assert!(ok, "{text}");
    // A second, new key appended to the same file blocks.
    r.write(
        "notes.md",
        &format!("# notes, edited\n{old}\nend\n{}", new_key(&r.home)),
    );
    r.ok(&["add", "notes.md"]);
    let (ok, _) = r.commit(&[]);
    assert!(!ok);
}

#[test]
fn renames_deletions_symlinks_and_lfs_pointers() {
    let r = Repo::new();
    r.write("keys/old.pem", &new_key(&r.home));
    r.write(
        "big.bin",
        "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 1\n",
    );
    r.ok(&["add", "-A"]);
    r.ok(&["commit", "-q", "-m", "before keyscan"]);
    r.install();
    r.ok(&["mv", "keys/old.pem", "keys/renamed.pem"]);
    let (ok, text) = r.commit(&[]);
    assert!(ok, "a pure rename adds no key: {text}");
    r.ok(&["rm", "-q", "keys/renamed.pem"]);
    let (ok, text) = r.commit(&[]);
    assert!(ok, "deleting a key is allowed: {text}");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("/etc/hostname", r.dir.join("link")).unwrap();
        r.ok(&["add", "link"]);
        let (ok, text) = r.commit(&[]);
        assert!(ok, "{text}");
    }
}

#[test]
fn linked_worktree_commit_is_blocked() {
    let r = Repo::new();
    r.write("a", "a\n");
    r.ok(&["add", "a"]);
    r.ok(&["commit", "-q", "-m", "init"]);
    r.install();
    let wt = r.home.join("wt");
    r.ok(&["worktree", "add", "-q", wt.to_str().unwrap()]);
    fs::write(wt.join("id"), new_key(&r.home)).unwrap();
    let git = |args: &[&str]| {
        Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(&wt)
            .env("HOME", &r.home)
            .output()
            .unwrap()
    };
    assert!(git(&["add", "id"]).status.success());
    let out = git(&["commit", "-q", "-m", "key"]);
    assert!(
        !out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn install_respects_hooks_path_and_foreign_hooks() {
    let r = Repo::new();
    r.ok(&["config", "core.hooksPath", ".githooks"]);
    r.install();
    let hook = r.dir.join(".githooks/pre-commit");
    assert!(fs::read_to_string(&hook).unwrap().contains("keyscan"));
    r.ok(&["config", "--unset", "core.hooksPath"]);

    // A foreign hook is refused, then chained with --force, then restored.
    let own = r.dir.join(".git/hooks/pre-commit");
    fs::write(
        &own,
        "#!/bin/sh\ntouch \"$(git rev-parse --show-toplevel)/foreign-ran\"\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&own, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let out = keyscan(&r.dir, &["install"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    let out = keyscan(&r.dir, &["install", "--force"], None);
    assert!(out.status.success());
    r.write("x", "x\n");
    r.ok(&["add", "x"]);
    let (ok, text) = r.commit(&[]);
    assert!(ok, "{text}");
    assert!(
        r.dir.join("foreign-ran").exists(),
        "the old hook still runs"
    );
    let out = keyscan(&r.dir, &["uninstall"], None);
    assert!(out.status.success());
    assert!(fs::read_to_string(&own).unwrap().contains("foreign-ran"));
}

#[test]
fn hook_fails_closed_when_keyscan_is_gone() {
    let r = Repo::new();
    let copy = r.home.join("keyscan-copy");
    fs::copy(bin(), &copy).unwrap();
    // Another test thread forking while the copy was open for writing can
    // hold its write handle for a moment (ETXTBSY): retry briefly.
    let mut attempt = 0;
    let out = loop {
        match Command::new(&copy)
            .arg("install")
            .current_dir(&r.dir)
            .env("PATH", "/usr/bin:/bin")
            .output()
        {
            Err(e) if e.raw_os_error() == Some(26) && attempt < 50 => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => break other.unwrap(),
        }
    };
    assert!(out.status.success());
    fs::remove_file(&copy).unwrap();
    r.write("a", "a\n");
    r.ok(&["add", "a"]);
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "commit",
            "-q",
            "-m",
            "x",
        ])
        .current_dir(&r.dir)
        .env("HOME", &r.home)
        .env("PATH", "/usr/bin:/bin:/usr/local/bin")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing"));
}

#[test]
fn errors_exit_2_and_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = keyscan(tmp.path(), &["pre-commit"], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a git repository"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    let r = Repo::new();
    r.write("a", "a\n");
    r.ok(&["add", "a"]);
    fs::write(r.dir.join(".git/index"), b"garbage, not an index").unwrap();
    let out = keyscan(&r.dir, &["pre-commit"], None);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        fs::read(r.dir.join(".git/index")).unwrap(),
        b"garbage, not an index"
    );
}

#[test]
fn binary_der_key_is_blocked_and_json_names_the_blob() {
    let r = Repo::new();
    r.write("a", "a\n");
    r.ok(&["add", "a"]);
    r.ok(&["commit", "-q", "-m", "init"]);
    fs::create_dir_all(r.dir.join("certs")).unwrap();
    let der_args = [
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-outform",
        "DER",
        "-out",
        "certs/server.key",
    ];
    tool("openssl", &der_args, &r.dir);
    r.ok(&["add", "certs/server.key"]);
    let (code, v) = json(&r.dir, &["pre-commit"], None);
    assert_eq!(code, 1, "{v:#}");
    let f = &findings(&v)[0];
    assert_eq!(f["path"], "certs/server.key");
    assert_eq!(f["key_type"], "ECDSA P-256");
    let blob = r.ok(&["rev-parse", ":certs/server.key"]);
    assert_eq!(f["blob"], String::from_utf8_lossy(&blob.stdout).trim());
    r.install();
    let (ok, _) = r.commit(&[]);
    assert!(!ok);
}
