//! `keyscan pre-commit`, `keyscan install` and `keyscan uninstall` through
//! the real binary and real `git commit` runs. Keys are generated at test
//! time with ssh-keygen and openssl; none is ever stored in this repository.

use crate::support;
use crate::support::{bin, tool, without_git_env};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A clean environment: its own HOME and global config, no system config.
fn clean(cmd: &mut Command, home: &Path) {
    without_git_env(cmd);
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A directory with a `git` (and nothing else) for PATH.
fn git_only_path(dir: &Path) -> PathBuf {
    let bin = dir.join("git-only-bin");
    fs::create_dir_all(&bin).unwrap();
    let git = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|d| d.join("git"))
        .find(|p| p.is_file())
        .expect("git is needed by this test");
    let link = bin.join("git");
    if !link.exists() {
        #[cfg(unix)]
        std::os::unix::fs::symlink(&git, &link).unwrap();
    }
    bin
}

/// Start a freshly copied executable: another test thread forking while the
/// copy was open for writing can hold its write handle a moment (ETXTBSY).
fn run_retrying(cmd: &mut Command) -> Output {
    let mut attempt = 0;
    loop {
        match cmd.output() {
            Err(e) if e.raw_os_error() == Some(26) && attempt < 100 => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other.unwrap(),
        }
    }
}

struct Repo {
    _tmp: tempfile::TempDir,
    /// The work tree.
    dir: PathBuf,
    /// HOME, and a place for keys and scratch files outside the repository.
    home: PathBuf,
}

impl Repo {
    fn new() -> Repo {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("repo");
        let home = tmp.path().join("home");
        fs::create_dir_all(&dir).unwrap();
        fs::create_dir_all(&home).unwrap();
        fs::write(
            home.join(".gitconfig"),
            "[user]\n\tname = keyscan test\n\temail = test@example.com\n\
             [commit]\n\tgpgsign = false\n[init]\n\tdefaultBranch = main\n\
             [gc]\n\tauto = 0\n[maintenance]\n\tauto = false\n\
             [protocol \"file\"]\n\tallow = always\n[advice]\n\tdetachedHead = false\n",
        )
        .unwrap();
        let r = Repo {
            _tmp: tmp,
            dir,
            home,
        };
        r.ok(&["init", "-q"]);
        r
    }

    fn git_in(&self, dir: &Path, args: &[&str]) -> Output {
        let mut cmd = Command::new("git");
        cmd.args(args).current_dir(dir);
        clean(&mut cmd, &self.home);
        cmd.output().expect("git is needed by this test")
    }

    fn git(&self, args: &[&str]) -> Output {
        self.git_in(&self.dir, args)
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.git(args);
        assert!(out.status.success(), "git {args:?}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn write(&self, path: &str, content: &str) {
        let p = self.dir.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }

    fn read(&self, path: &str) -> String {
        fs::read_to_string(self.dir.join(path)).unwrap()
    }

    fn head_in(&self, dir: &Path) -> String {
        String::from_utf8_lossy(
            &self
                .git_in(dir, &["rev-parse", "-q", "--verify", "HEAD"])
                .stdout,
        )
        .trim()
        .to_string()
    }

    /// Commit with a plain message and nothing bypassed.
    fn commit(&self, args: &[&str]) -> (bool, String) {
        self.commit_in(&self.dir, args)
    }

    /// Commit and say whether it went through; HEAD moves exactly then.
    fn commit_in(&self, dir: &Path, args: &[&str]) -> (bool, String) {
        let before = self.head_in(dir);
        let mut all = vec!["commit", "-q", "-m", "test"];
        all.extend_from_slice(args);
        let out = self.git_in(dir, &all);
        let t = text(&out);
        let after = self.head_in(dir);
        assert_eq!(out.status.success(), after != before, "{t}");
        (out.status.success(), t)
    }

    fn blocked(&self, args: &[&str], path: &str) {
        let (ok, t) = self.commit(args);
        assert!(!ok, "the commit should be blocked: {t}");
        assert!(t.contains(path), "the output should name {path}: {t}");
    }

    fn allowed(&self, args: &[&str]) {
        let (ok, t) = self.commit(args);
        assert!(ok, "the commit should go through: {t}");
    }

    /// Commit without hooks: setting up history that predates keyscan.
    fn setup_commit(&self, msg: &str) {
        self.ok(&["add", "-A"]);
        self.ok(&["commit", "-q", "--no-verify", "-m", msg]);
    }

    fn keyscan_in(&self, dir: &Path, args: &[&str]) -> Output {
        let mut cmd = Command::new(bin());
        cmd.args(args).current_dir(dir);
        clean(&mut cmd, &self.home);
        cmd.output().unwrap()
    }

    fn keyscan(&self, args: &[&str]) -> Output {
        self.keyscan_in(&self.dir, args)
    }

    fn install(&self) {
        let out = self.keyscan(&["install"]);
        assert!(out.status.success(), "{}", text(&out));
    }

    /// An OpenSSH Ed25519 private key, generated now.
    fn ed25519(&self) -> String {
        let path = self.home.join("gen_ed25519");
        let _ = fs::remove_file(&path);
        let _ = fs::remove_file(path.with_extension("pub"));
        support::ed25519(&self.home, "gen_ed25519");
        let key = fs::read_to_string(&path).unwrap();
        fs::remove_file(&path).unwrap();
        fs::remove_file(path.with_extension("pub")).unwrap();
        key
    }

    /// A PKCS#8 RSA private key in PEM, generated now.
    fn rsa(&self) -> String {
        let out = tool(
            "openssl",
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
            ],
            &self.home,
        );
        let key = String::from_utf8(out.stdout).unwrap();
        assert!(key.contains("BEGIN PRIVATE KEY"), "{key}");
        key
    }

    /// `git hash-object -w` of some content: a blob to stage by hand.
    fn blob(&self, content: &str) -> String {
        let scratch = self.home.join("scratch");
        fs::write(&scratch, content).unwrap();
        self.ok(&["hash-object", "-w", scratch.to_str().unwrap()])
    }

    fn hook_path(&self) -> PathBuf {
        self.dir.join(".git/hooks/pre-commit")
    }
}

#[cfg(unix)]
fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

// 1.
#[test]
fn initial_commit_with_a_key_is_blocked_and_a_clean_one_allowed() {
    let r = Repo::new();
    r.install();
    r.write("README.md", "hello\n");
    r.write("deploy/prod.pem", &r.rsa());
    r.ok(&["add", "-A"]);
    r.blocked(&[], "deploy/prod.pem");
    assert_eq!(r.head_in(&r.dir), "", "nothing was committed");

    let r = Repo::new();
    r.install();
    r.write("README.md", "hello\n");
    r.write("src/main.rs", "fn main() {}\n");
    r.ok(&["add", "-A"]);
    r.allowed(&[]);
}

// 1, from a subdirectory: the first commit's whole index is scanned, not
// just the current directory's part of it.
#[test]
fn initial_commit_scanned_from_a_subdirectory() {
    let r = Repo::new();
    r.write("id_ed25519", &r.ed25519());
    r.write("sub/readme", "x\n");
    r.ok(&["add", "-A"]);
    let out = r.keyscan_in(&r.dir.join("sub"), &["pre-commit"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("id_ed25519"), "{}", text(&out));
}

// 2.
#[test]
fn staged_key_is_blocked_even_when_deleted_from_the_work_tree() {
    let r = Repo::new();
    r.write("a.txt", "one\n");
    r.setup_commit("init");
    r.install();

    r.write("key.pem", &r.rsa());
    r.ok(&["add", "key.pem"]);
    r.blocked(&[], "key.pem");

    fs::remove_file(r.dir.join("key.pem")).unwrap();
    r.blocked(&[], "key.pem");

    r.ok(&["rm", "-q", "--cached", "key.pem"]);
    r.allowed(&["--allow-empty"]);
}

// 3.
#[test]
fn partial_staging_counts_only_what_is_staged() {
    let r = Repo::new();
    r.write("config.txt", "alpha\nbeta\n");
    r.setup_commit("init");
    r.install();

    // The key is in the work tree; only a harmless line is staged.
    let key = r.ed25519();
    r.write("config.txt", &format!("alpha\nbeta\ngamma\n{key}"));
    let harmless = r.blob("alpha\nbeta\ngamma\n");
    r.ok(&[
        "update-index",
        "--cacheinfo",
        &format!("100644,{harmless},config.txt"),
    ]);
    r.allowed(&[]);
    assert!(
        r.read("config.txt").contains("PRIVATE KEY"),
        "work tree untouched"
    );

    // The reverse: the key staged, the work tree clean.
    let with_key = r.blob(&format!("alpha\nbeta\ngamma\n{key}"));
    r.write("config.txt", "alpha\nbeta\ngamma\n");
    r.ok(&[
        "update-index",
        "--cacheinfo",
        &format!("100644,{with_key},config.txt"),
    ]);
    r.blocked(&[], "config.txt");
}

// 3, with `git apply --cached`: one hunk of two staged.
#[test]
fn staging_one_hunk_with_git_apply() {
    let r = Repo::new();
    let body: String = (1..=40).map(|i| format!("line {i}\n")).collect();
    r.write("notes.txt", &body);
    r.setup_commit("init");
    r.install();
    let key = r.ed25519();
    let edited = body.replace("line 2\n", "line 2 edited\n") + &key;
    r.write("notes.txt", &edited);
    let patch = r.ok(&["diff", "-U0", "--", "notes.txt"]);
    // Keep only the first hunk (the harmless edit).
    let mut first = String::new();
    let mut hunks = 0;
    for line in patch.lines() {
        if line.starts_with("@@") {
            hunks += 1;
        }
        if hunks <= 1 {
            first.push_str(line);
            first.push('\n');
        }
    }
    assert_eq!(hunks, 2, "{patch}");
    let patch_file = r.home.join("first.patch");
    fs::write(&patch_file, first).unwrap();
    r.ok(&[
        "apply",
        "--cached",
        "--unidiff-zero",
        patch_file.to_str().unwrap(),
    ]);
    r.allowed(&[]);
    r.ok(&["add", "notes.txt"]);
    r.blocked(&[], "notes.txt");
}

// 4.
#[test]
fn commit_all_and_commit_path_are_blocked() {
    let r = Repo::new();
    r.write("config.yaml", "a: 1\n");
    r.write("other.txt", "x\n");
    r.setup_commit("init");
    r.install();
    r.write("config.yaml", &format!("a: 1\nkey: |\n{}", r.ed25519()));
    // Nothing staged in the real index: git uses a temporary one.
    r.blocked(&["-a"], "config.yaml");
    r.blocked(&["config.yaml"], "config.yaml");
    r.blocked(&["--", "config.yaml"], "config.yaml");
    r.blocked(&["-o", "config.yaml"], "config.yaml");
    // Committing only the other path leaves the key out.
    r.write("other.txt", "y\n");
    r.allowed(&["other.txt"]);
    assert!(r.read("config.yaml").contains("PRIVATE KEY"));
}

// 5.
#[test]
fn an_old_key_does_not_block_unrelated_changes_but_a_new_one_does() {
    let r = Repo::new();
    let old = r.ed25519();
    r.write("notes.md", &format!("# notes\n\n{old}\nend\n"));
    r.setup_commit("an old key, from before keyscan");
    r.install();

    r.write(
        "notes.md",
        &format!("# notes, edited\n\n{old}\nend, edited\n"),
    );
    r.ok(&["add", "notes.md"]);
    r.allowed(&[]);

    r.write(
        "notes.md",
        &format!("# notes, edited\n\n{old}\nend, edited\n{}", r.rsa()),
    );
    r.ok(&["add", "notes.md"]);
    r.blocked(&[], "notes.md");

    // The report points at the new key, not the old one.
    let out = r.keyscan(&["pre-commit", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = v["findings"].as_array().expect("findings").clone();
    assert_eq!(findings.len(), 1, "{v:#}");
    let old_lines = old.lines().count() as u64;
    assert!(
        findings[0]["line"].as_u64().unwrap() > 3 + old_lines,
        "{v:#}"
    );
    assert_eq!(
        findings[0]["blob"].as_str().unwrap(),
        r.ok(&["rev-parse", ":notes.md"])
    );
}

// 6.
#[test]
fn renames_deletions_symlinks_submodules_and_lfs_pointers() {
    let r = Repo::new();
    let key = r.ed25519();
    r.write("keys/old.pem", &key);
    r.write("keys/edited.pem", &format!("# a comment\n{key}"));
    r.write(
        "assets/big.bin",
        "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n",
    );
    r.setup_commit("before keyscan");
    r.install();

    r.ok(&["mv", "keys/old.pem", "keys/renamed.pem"]);
    r.allowed(&[]);

    // A rename with a small edit is still a rename: the key is not new.
    r.ok(&["mv", "keys/edited.pem", "keys/moved.pem"]);
    r.write("keys/moved.pem", &format!("# a comment, edited\n{key}"));
    r.ok(&["add", "keys/moved.pem"]);
    r.allowed(&[]);

    r.ok(&["rm", "-q", "keys/renamed.pem", "keys/moved.pem"]);
    r.allowed(&[]);

    // A symlink's blob is its target's name; the target is not scanned.
    r.write("outside.pem", &r.rsa());
    #[cfg(unix)]
    std::os::unix::fs::symlink("outside.pem", r.dir.join("link.pem")).unwrap();
    r.ok(&["add", "link.pem"]);
    r.allowed(&[]);

    // A submodule entry (a commit, not a blob) is skipped.
    let sub = r.home.join("sub");
    fs::create_dir_all(&sub).unwrap();
    r.git_in(&sub, &["init", "-q"]);
    fs::write(sub.join("f"), "f\n").unwrap();
    r.git_in(&sub, &["add", "f"]);
    let out = r.git_in(&sub, &["commit", "-q", "--no-verify", "-m", "sub"]);
    assert!(out.status.success(), "{}", text(&out));
    r.ok(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        sub.to_str().unwrap(),
        "vendor/sub",
    ]);
    r.allowed(&[]);
    let fake = "1234567890123456789012345678901234567890";
    r.ok(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{fake},vendor/dangling"),
    ]);
    r.allowed(&[]);

    // An LFS pointer edit is not scanned; a pointer-shaped file with a key
    // appended past the pointer's size is.
    r.write(
        "assets/big.bin",
        "version https://git-lfs.github.com/spec/v1\noid sha256:5d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 54321\n",
    );
    r.ok(&["add", "assets/big.bin"]);
    r.allowed(&[]);
    let pointer = r.read("assets/big.bin");
    r.write("assets/big.bin", &format!("{pointer}{}", r.ed25519()));
    r.ok(&["add", "assets/big.bin"]);
    r.blocked(&[], "assets/big.bin");
    r.write("assets/big.bin", &pointer);
    r.ok(&["add", "assets/big.bin"]);

    // A symlink replaced by a file with a key: a type change, scanned.
    #[cfg(unix)]
    {
        fs::remove_file(r.dir.join("link.pem")).unwrap();
        r.write("link.pem", &r.ed25519());
        r.ok(&["add", "link.pem"]);
        r.blocked(&[], "link.pem");
    }
}

// 6, binary: a DER key is found by structure; a changed binary blob counts
// as wholly new.
#[test]
fn binary_der_keys_are_blocked() {
    let r = Repo::new();
    r.write("a", "a\n");
    r.setup_commit("init");
    r.install();
    fs::create_dir_all(r.dir.join("certs")).unwrap();
    tool(
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-outform",
            "DER",
            "-out",
            "certs/server.der",
        ],
        &r.dir,
    );
    r.ok(&["add", "certs/server.der"]);
    r.blocked(&[], "certs/server.der");

    // A tracked binary file replaced by a DER key: changed, so it counts.
    fs::write(r.dir.join("certs/blob.bin"), [0u8, 1, 2, 3, 0, 255, 10, 0]).unwrap();
    r.ok(&["reset", "-q"]);
    r.ok(&["add", "certs/blob.bin"]);
    r.ok(&["commit", "-q", "--no-verify", "-m", "binary"]);
    fs::rename(r.dir.join("certs/server.der"), r.dir.join("certs/blob.bin")).unwrap();
    r.ok(&["add", "certs/blob.bin"]);
    r.blocked(&[], "certs/blob.bin");
}

// Many staged files go through the parallel path.
#[test]
fn many_staged_files_one_key() {
    let r = Repo::new();
    r.write("a", "a\n");
    r.setup_commit("init");
    r.install();
    for i in 0..40 {
        r.write(&format!("src/f{i}.txt"), &format!("file {i}\n"));
    }
    r.write("src/f17.txt", &format!("file 17\n{}", r.ed25519()));
    r.ok(&["add", "-A"]);
    r.blocked(&[], "src/f17.txt");
    r.write("src/f17.txt", "file 17\n");
    r.ok(&["add", "-A"]);
    r.allowed(&[]);
}

// 7.
#[test]
fn install_respects_core_hooks_path() {
    let r = Repo::new();
    r.ok(&["config", "core.hooksPath", ".githooks"]);
    fs::create_dir_all(r.dir.join("sub")).unwrap();
    // From a subdirectory: the relative path is taken from the top.
    let out = r.keyscan_in(&r.dir.join("sub"), &["install"]);
    assert!(out.status.success(), "{}", text(&out));
    let hook = r.dir.join(".githooks/pre-commit");
    let script = fs::read_to_string(&hook).unwrap();
    assert!(script.starts_with("#!/bin/sh\n"), "{script}");
    assert!(script.contains("# installed by keyscan"), "{script}");
    assert!(script.contains(bin()), "{script}");
    #[cfg(unix)]
    assert_eq!(mode(&hook), 0o755);
    assert!(!r.hook_path().exists());
    r.write("id_rsa", &r.rsa());
    r.ok(&["add", "id_rsa"]);
    r.blocked(&[], "id_rsa");

    // An absolute hooksPath, created when missing.
    let abs = r.home.join("shared-hooks");
    r.ok(&["config", "core.hooksPath", abs.to_str().unwrap()]);
    r.install();
    assert!(abs.join("pre-commit").exists());
    r.blocked(&[], "id_rsa");
}

// 7.
#[test]
fn foreign_hooks_are_refused_then_chained_then_restored() {
    let r = Repo::new();
    r.write("a", "a\n");
    r.setup_commit("init");
    let foreign = "#!/bin/sh\necho ran >> \"$(git rev-parse --show-toplevel)/../foreign-ran\"\nexit ${FOREIGN_EXIT:-0}\n";
    fs::create_dir_all(r.hook_path().parent().unwrap()).unwrap();
    fs::write(r.hook_path(), foreign).unwrap();
    make_executable(&r.hook_path());
    let ran = r.dir.join("../foreign-ran");

    let out = r.keyscan(&["install"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--force"), "{}", text(&out));
    assert_eq!(fs::read_to_string(r.hook_path()).unwrap(), foreign);

    let out = r.keyscan(&["install", "--force"]);
    assert!(out.status.success(), "{}", text(&out));
    let backup = r.dir.join(".git/hooks/pre-commit.keyscan-backup");
    assert_eq!(fs::read_to_string(&backup).unwrap(), foreign);
    // Installing again is idempotent and keeps the chain.
    r.install();
    r.install();
    assert_eq!(fs::read_to_string(&backup).unwrap(), foreign);

    r.write("b", "b\n");
    r.ok(&["add", "b"]);
    r.allowed(&[]);
    assert_eq!(
        fs::read_to_string(&ran).unwrap(),
        "ran\n",
        "the old hook ran once"
    );

    // The old hook failing blocks too.
    r.write("c", "c\n");
    r.ok(&["add", "c"]);
    let out = {
        let mut cmd = Command::new("git");
        cmd.args(["commit", "-q", "-m", "c"]).current_dir(&r.dir);
        clean(&mut cmd, &r.home);
        cmd.env("FOREIGN_EXIT", "3").output().unwrap()
    };
    assert!(!out.status.success(), "{}", text(&out));

    // A key blocks before the old hook runs.
    fs::write(&ran, "").unwrap();
    r.write("id", &r.ed25519());
    r.ok(&["add", "id"]);
    r.blocked(&[], "id");
    assert_eq!(fs::read_to_string(&ran).unwrap(), "");

    let out = r.keyscan(&["uninstall"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(fs::read_to_string(r.hook_path()).unwrap(), foreign);
    assert!(!backup.exists());
    #[cfg(unix)]
    assert_eq!(mode(&r.hook_path()), 0o755);

    // Uninstall leaves a foreign hook alone, and says there is none to remove.
    let out = r.keyscan(&["uninstall"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("not written by keyscan"),
        "{}",
        text(&out)
    );
    assert_eq!(fs::read_to_string(r.hook_path()).unwrap(), foreign);
    fs::remove_file(r.hook_path()).unwrap();
    let out = r.keyscan(&["uninstall"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("no pre-commit hook"), "{}", text(&out));
}

// 7.
#[test]
fn install_then_uninstall_without_a_previous_hook() {
    let r = Repo::new();
    r.install();
    assert!(r.hook_path().exists());
    let out = r.keyscan(&["uninstall", "--hook", "pre-commit"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!r.hook_path().exists());
    let out = r.keyscan(&["install", "--hook", "post-merge"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

// 7.
#[test]
fn the_hook_fails_closed_when_keyscan_is_gone() {
    let r = Repo::new();
    let copy = r.home.join("keyscan-copy");
    fs::copy(bin(), &copy).unwrap();
    let path = git_only_path(&r.home);
    let mut cmd = Command::new(&copy);
    cmd.arg("install").current_dir(&r.dir);
    clean(&mut cmd, &r.home);
    cmd.env("PATH", &path);
    let out = run_retrying(&mut cmd);
    assert!(out.status.success(), "{}", text(&out));
    assert!(fs::read_to_string(r.hook_path())
        .unwrap()
        .contains("keyscan-copy"));
    fs::remove_file(&copy).unwrap();

    r.write("a", "harmless\n");
    r.ok(&["add", "a"]);
    let mut cmd = Command::new("git");
    cmd.args(["commit", "-q", "-m", "x"]).current_dir(&r.dir);
    clean(&mut cmd, &r.home);
    // PATH has git and sh, not keyscan.
    let sys =
        std::env::join_paths([path, PathBuf::from("/usr/bin"), PathBuf::from("/bin")]).unwrap();
    cmd.env("PATH", sys);
    let out = cmd.output().unwrap();
    assert!(!out.status.success(), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("keyscan binary is missing"), "{err}");
    assert!(err.contains("--no-verify"), "{err}");
    assert_eq!(r.head_in(&r.dir), "");
}

// 7: keyscan's exit status comes through the hook unchanged.
#[test]
fn the_hook_passes_on_keyscans_exit_status() {
    let r = Repo::new();
    r.install();
    let elsewhere = tempfile::tempdir().unwrap();
    let mut cmd = Command::new("sh");
    cmd.arg(r.hook_path()).current_dir(elsewhere.path());
    clean(&mut cmd, &r.home);
    cmd.env(
        "GIT_CEILING_DIRECTORIES",
        elsewhere.path().parent().unwrap(),
    );
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("not a git repository"),
        "{}",
        text(&out)
    );
}

// The shim shipped for manual installs, copied into place.
#[test]
fn the_shipped_shim_works_when_copied() {
    let r = Repo::new();
    let shim = Path::new(env!("CARGO_MANIFEST_DIR")).join("hooks/pre-commit");
    fs::create_dir_all(r.hook_path().parent().unwrap()).unwrap();
    fs::copy(&shim, r.hook_path()).unwrap();
    make_executable(&r.hook_path());
    // keyscan on PATH through a directory holding only it.
    let bindir = r.home.join("bin");
    fs::create_dir_all(&bindir).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(bin(), bindir.join("keyscan")).unwrap();
    let path = std::env::join_paths(
        std::iter::once(bindir.clone())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    r.write("k", &r.ed25519());
    r.ok(&["add", "k"]);
    let commit = |path: &std::ffi::OsStr| {
        let mut cmd = Command::new("git");
        cmd.args(["commit", "-q", "-m", "x"]).current_dir(&r.dir);
        clean(&mut cmd, &r.home);
        cmd.env("PATH", path).output().unwrap()
    };
    let out = commit(&path);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("k"), "{}", text(&out));
    // Without keyscan on PATH: blocked, with the reason.
    let git_only = git_only_path(&r.home);
    let sys =
        std::env::join_paths([git_only, PathBuf::from("/usr/bin"), PathBuf::from("/bin")]).unwrap();
    let out = commit(&sys);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("not on PATH"), "{}", text(&out));
}

// 8.
#[test]
fn outside_a_repository_exit_2_with_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(bin());
    cmd.arg("pre-commit").current_dir(tmp.path());
    clean(&mut cmd, tmp.path());
    cmd.env("GIT_CEILING_DIRECTORIES", tmp.path().parent().unwrap());
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "not a git repository (or any parent): run keyscan pre-commit inside a repository"
        ),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(out.stdout.is_empty());
}

// 8.
#[test]
fn a_corrupt_index_exits_2_and_changes_nothing() {
    let r = Repo::new();
    r.write("a", "a\n");
    r.setup_commit("init");
    let head = r.head_in(&r.dir);
    r.write("b", "b\n");
    r.ok(&["add", "b"]);
    let garbage = b"DIRC garbage, not an index".to_vec();
    fs::write(r.dir.join(".git/index"), &garbage).unwrap();
    for path_has_git in [true, false] {
        let mut cmd = Command::new(bin());
        cmd.arg("pre-commit").current_dir(&r.dir);
        clean(&mut cmd, &r.home);
        if !path_has_git {
            cmd.env("PATH", r.home.join("empty"));
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains("index"), "{err}");
    }
    assert_eq!(fs::read(r.dir.join(".git/index")).unwrap(), garbage);
    assert_eq!(r.head_in(&r.dir), head);
}

// 8: a staged blob that cannot be read blocks the commit.
#[test]
fn a_missing_staged_blob_exits_2_and_blocks() {
    let r = Repo::new();
    r.write("a", "a\n");
    r.setup_commit("init");
    r.install();
    r.write("b", "some new content\n");
    r.ok(&["add", "b"]);
    let oid = r.ok(&["rev-parse", ":b"]);
    let loose = r.dir.join(".git/objects").join(&oid[..2]).join(&oid[2..]);
    fs::remove_file(&loose).unwrap();
    let out = r.keyscan(&["pre-commit"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot read the staged blob for b") && err.contains(&oid),
        "{err}"
    );
    let (ok, _) = r.commit(&[]);
    assert!(!ok);
}

// 9.
#[test]
fn linked_worktree_commit_with_a_key_is_blocked() {
    let r = Repo::new();
    r.write("a", "a\n");
    r.setup_commit("init");
    r.install();
    let wt = r.home.join("wt");
    r.ok(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "feature",
        wt.to_str().unwrap(),
    ]);
    fs::write(wt.join("server.key"), r.rsa()).unwrap();
    let out = r.git_in(&wt, &["add", "server.key"]);
    assert!(out.status.success(), "{}", text(&out));
    let (ok, t) = r.commit_in(&wt, &[]);
    assert!(!ok, "{t}");
    assert!(t.contains("server.key"), "{t}");
    fs::write(wt.join("server.key"), "not a key\n").unwrap();
    let out = r.git_in(&wt, &["add", "server.key"]);
    assert!(out.status.success(), "{}", text(&out));
    let (ok, t) = r.commit_in(&wt, &[]);
    assert!(ok, "{t}");
    // With -a in the worktree too.
    fs::write(wt.join("a"), r.ed25519()).unwrap();
    let (ok, t) = r.commit_in(&wt, &["-a"]);
    assert!(!ok, "{t}");
}

/// Without a `git` on PATH keyscan lists the staged files with libgit2; the
/// verdicts are the same.
#[test]
fn without_git_on_path_libgit2_gives_the_same_verdicts() {
    let r = Repo::new();
    let empty = r.home.join("empty");
    fs::create_dir_all(&empty).unwrap();
    let run = |r: &Repo| {
        let mut cmd = Command::new(bin());
        cmd.args(["pre-commit", "--format", "json"])
            .current_dir(&r.dir);
        clean(&mut cmd, &r.home);
        let with_git = cmd.output().unwrap();
        cmd.env("PATH", &empty);
        let without = cmd.output().unwrap();
        assert_eq!(
            with_git.status.code(),
            without.status.code(),
            "{}\n---\n{}",
            text(&with_git),
            text(&without)
        );
        let a: serde_json::Value = serde_json::from_slice(&with_git.stdout).unwrap();
        let b: serde_json::Value = serde_json::from_slice(&without.stdout).unwrap();
        assert_eq!(a["findings"], b["findings"]);
        with_git.status.code().unwrap()
    };
    // Initial commit.
    let old = r.ed25519();
    r.write("keys/old.pem", &old);
    r.write("notes.md", &format!("top\n{old}bottom\n"));
    r.ok(&["add", "-A"]);
    assert_eq!(run(&r), 1);
    r.setup_commit("before keyscan");
    // Rename with an edit, an unrelated edit next to an old key: nothing new.
    r.ok(&["mv", "keys/old.pem", "keys/new.pem"]);
    r.write("keys/new.pem", &format!("# moved\n{old}"));
    r.write("notes.md", &format!("top, edited\n{old}bottom\n"));
    r.ok(&["add", "-A"]);
    assert_eq!(run(&r), 0);
    // A new key.
    r.write(
        "notes.md",
        &format!("top, edited\n{old}bottom\n{}", r.rsa()),
    );
    r.ok(&["add", "-A"]);
    assert_eq!(run(&r), 1);
    r.ok(&["reset", "-q", "--hard"]);
    // A symlink holding a key, then the same blob as a file (type change).
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&old, r.dir.join("link")).unwrap();
        r.ok(&["add", "link"]);
        assert_eq!(run(&r), 1);
        r.setup_commit("a link");
        fs::remove_file(r.dir.join("link")).unwrap();
        r.write("link", &old);
        r.ok(&["add", "link"]);
        assert_eq!(run(&r), 1);
        r.setup_commit("a file");
    }
    // A rename out of an allowlisted path.
    r.write(".keyscan.toml", "[allowlist]\npaths = [\"fixtures/**\"]\n");
    r.write("fixtures/k.pem", &r.ed25519());
    r.setup_commit("a fixture");
    r.ok(&["mv", "fixtures/k.pem", "keys/k.pem"]);
    assert_eq!(run(&r), 1);
}

// Issue 13, item 4: only an exact LFS pointer is skipped.
#[test]
fn an_lfs_pointer_with_an_extra_line_is_scanned() {
    let r = Repo::new();
    let pointer = "version https://git-lfs.github.com/spec/v1\n\
                   oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n\
                   size 12345\n";
    r.write("assets/big.bin", pointer);
    r.setup_commit("before keyscan");
    r.install();
    let key = r.ed25519();
    let b64 = {
        use std::io::Write;
        let mut child = Command::new("base64")
            .args(["-w", "0"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("base64 is needed by this test");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(key.as_bytes())
            .unwrap();
        String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
    };
    let percent: String = key
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' => (b as char).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect();
    for note in [b64, percent] {
        let file = format!("{pointer}x-note {note}\n");
        r.write("assets/big.bin", &file);
        let out = r.keyscan(&["scan", "assets/big.bin"]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        r.ok(&["add", "assets/big.bin"]);
        r.blocked(&[], "assets/big.bin");
    }
    // An exact pointer with an extension line still passes.
    r.write(
        "assets/big.bin",
        &pointer.replace(
            "oid",
            "ext-0-foo sha256:5d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\noid",
        ),
    );
    r.ok(&["add", "assets/big.bin"]);
    r.allowed(&[]);
}

// Issue 13, item 2: a symlink's target is content too.
#[cfg(unix)]
#[test]
fn a_symlink_whose_target_is_a_key_and_its_type_change_are_blocked() {
    let r = Repo::new();
    r.write("a", "a\n");
    r.setup_commit("before keyscan");
    r.install();
    let key = r.ed25519();
    std::os::unix::fs::symlink(&key, r.dir.join("id_link")).unwrap();
    r.ok(&["add", "id_link"]);
    assert_eq!(r.ok(&["ls-files", "-s", "id_link"])[..6], *"120000");
    r.blocked(&[], "id_link");

    // Committed anyway (before keyscan), then made a regular file holding
    // the same bytes: 120000 -> 100644, the same blob, new content there.
    r.ok(&["commit", "-q", "--no-verify", "-m", "a link"]);
    fs::remove_file(r.dir.join("id_link")).unwrap();
    r.write("id_link", &key);
    r.ok(&["add", "id_link"]);
    let raw = r.ok(&["diff", "--cached", "--raw", "--no-abbrev"]);
    assert!(raw.starts_with(":120000 100644"), "{raw}");
    let (old, new) = (&raw[15..55], &raw[56..96]);
    assert_eq!(old, new, "{raw}");
    r.blocked(&[], "id_link");

    // A mode change of a file that stays a file adds nothing.
    r.ok(&["commit", "-q", "--no-verify", "-m", "a file"]);
    make_executable(&r.dir.join("id_link"));
    r.ok(&["add", "id_link"]);
    r.allowed(&[]);
}

// Issue 13, item 3: a change that only deletes lines can make a key valid.
#[test]
fn deleting_a_doubled_line_that_makes_a_key_valid_is_blocked() {
    let r = Repo::new();
    r.write("a", "a\n");
    r.setup_commit("before keyscan");
    r.install();
    let key = r.ed25519();
    let mut lines: Vec<&str> = key.lines().collect();
    lines.insert(3, lines[2]);
    r.write("deploy/id", &(lines.join("\n") + "\n"));
    r.ok(&["add", "deploy/id"]);
    // Not a valid key: a warning, not a block.
    let (ok, t) = r.commit(&[]);
    assert!(ok, "{t}");
    assert!(t.contains("unverified"), "{t}");

    r.write("deploy/id", &key);
    r.ok(&["add", "deploy/id"]);
    let diff = r.ok(&["diff", "--cached", "--numstat"]);
    assert!(diff.starts_with("0\t1\t"), "only a deletion: {diff}");
    r.blocked(&[], "deploy/id");
    let out = r.keyscan(&["pre-commit", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"][0]["status"], "valid", "{v:#}");
}

/// Quoted-printable as a binary-safe mailer writes it: newlines as `=0A`,
/// `=` as `=3D`, soft breaks every 76 columns, and one inside the END
/// marker, so that nothing reads as a key until the body is decoded.
fn quoted_printable_body(key: &str) -> String {
    let mut out = String::new();
    let mut col = 0;
    for c in key.chars() {
        let piece = match c {
            '=' => "=3D".to_string(),
            '\n' => "=0A".to_string(),
            c => c.to_string(),
        };
        if col + piece.len() > 75 {
            out.push_str("=\r\n");
            col = 0;
        }
        col += piece.len();
        out.push_str(&piece);
    }
    // Split the END marker unless a soft break already does.
    out.replacen("-----END OPENSSH", "-----END OPEN=\r\nSSH", 1)
}

// Issue 13, item 5: a header added far from the key changes how it decodes.
#[test]
fn a_quoted_printable_header_added_later_is_blocked() {
    let r = Repo::new();
    r.write("a", "a\n");
    r.setup_commit("before keyscan");
    r.install();
    let body = quoted_printable_body(&r.ed25519());
    r.write("mail/key.eml", &format!("Subject: key\r\n\r\n{body}"));
    r.ok(&["add", "mail/key.eml"]);
    // Undecoded, nothing reads as a key.
    r.allowed(&[]);

    r.write(
        "mail/key.eml",
        &format!("Content-Transfer-Encoding: quoted-printable\r\nSubject: key\r\n\r\n{body}"),
    );
    r.ok(&["add", "mail/key.eml"]);
    let out = r.keyscan(&["scan", "mail/key.eml"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    r.blocked(&[], "mail/key.eml");
}

// Issue 13, item 6: a rename out of an allowlisted path is the key arriving.
#[test]
fn a_rename_out_of_an_allowlisted_path_is_blocked() {
    let r = Repo::new();
    r.write(".keyscan.toml", "[allowlist]\npaths = [\"testdata/**\"]\n");
    let key = r.ed25519();
    r.write("testdata/fixture.pem", &key);
    r.write("keys/known.pem", &r.ed25519());
    r.setup_commit("before keyscan");
    r.install();

    fs::create_dir_all(r.dir.join("deploy")).unwrap();
    r.ok(&["mv", "testdata/fixture.pem", "deploy/prod.pem"]);
    let raw = r.ok(&["diff", "--cached", "-M", "--name-status"]);
    assert!(raw.starts_with("R100"), "a rename: {raw}");
    r.blocked(&[], "deploy/prod.pem");
    let out = r.keyscan(&["scan", "deploy/prod.pem"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));

    // Into the allowlisted tree, or between paths no glob covers: nothing new.
    r.ok(&["mv", "deploy/prod.pem", "testdata/again.pem"]);
    r.ok(&["mv", "keys/known.pem", "keys/moved.pem"]);
    r.allowed(&[]);

    // The globs are relative to the config's directory, from anywhere.
    r.write(
        "sub/.keyscan.toml",
        "[allowlist]\npaths = [\"vendor/**\"]\n",
    );
    r.write("sub/vendor/k.pem", &r.ed25519());
    r.ok(&["add", "sub"]);
    let out = r.keyscan_in(
        &r.dir.join("testdata"),
        &["--config", "../sub/.keyscan.toml", "pre-commit"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    r.write("vendor/k.pem", &r.ed25519());
    r.ok(&["add", "vendor"]);
    let out = r.keyscan_in(
        &r.dir.join("testdata"),
        &["--config", "../sub/.keyscan.toml", "pre-commit"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("vendor/k.pem"), "{}", text(&out));
}

// Issue 13, item 9: a PuTTY key saved with CR-only line ends.
#[test]
fn a_putty_key_with_cr_line_ends_is_blocked() {
    let r = Repo::new();
    r.write("a", "a\n");
    r.setup_commit("before keyscan");
    r.install();
    let openssh = r.home.join("id");
    fs::write(&openssh, r.ed25519()).unwrap();
    let ppk = r.home.join("id.ppk");
    tool(
        "puttygen",
        &[
            openssh.to_str().unwrap(),
            "-O",
            "private",
            "-o",
            ppk.to_str().unwrap(),
        ],
        &r.home,
    );
    let text = fs::read_to_string(&ppk).unwrap();
    assert!(text.starts_with("PuTTY-User-Key-File-3"), "{text}");
    let cr = text.replace('\n', "\r");
    // puttygen itself reads it back.
    fs::write(&ppk, &cr).unwrap();
    tool(
        "puttygen",
        &[ppk.to_str().unwrap(), "-O", "fingerprint"],
        &r.home,
    );
    r.write("putty/id.ppk", &cr);
    r.ok(&["add", "putty/id.ppk"]);
    r.blocked(&[], "putty/id.ppk");
}

/// A staged file over the default limit per blob (256 MiB) cannot be
/// checked: the real commit is blocked, exit 2, naming it by path, blob and
/// size, without the blob being read into memory. A configured
/// `max_file_size` skips such files knowingly instead.
#[test]
fn a_staged_file_over_the_default_limit_blocks_the_commit() {
    let r = Repo::new();
    r.install();
    r.write("README", "hello\n");
    r.setup_commit("base");
    let big = r.dir.join("disk.img");
    let size: u64 = (256 << 20) + 1;
    // Sparse zeros: cheap to write, and to compress for `git add`.
    fs::File::create(&big).unwrap().set_len(size).unwrap();
    r.ok(&["add", "disk.img"]);
    let blob = r.ok(&["rev-parse", ":disk.img"]);
    let (ok, t) = r.commit(&[]);
    assert!(!ok, "{t}");
    assert!(
        t.contains(&format!("disk.img (blob {blob}, {size} bytes) is over the"))
            && t.contains("byte limit per blob"),
        "{t}"
    );
    let out = r.keyscan(&["pre-commit"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(r.ok(&["rev-parse", ":disk.img"]), blob, "the index changed");

    r.write(".keyscan.toml", "[policy]\nmax_file_size = \"1MB\"\n");
    r.ok(&["add", ".keyscan.toml"]);
    let (ok, t) = r.commit(&[]);
    assert!(ok, "{t}");
    assert!(t.contains("skipped disk.img"), "{t}");
}
