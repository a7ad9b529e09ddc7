//! `keyscan pre-receive` and `keyscan pre-push` through real `git push` over
//! the local transport, into bare repositories whose hook `keyscan install
//! --server` wrote. Keys are made by ssh-keygen at test time.

use crate::support;
use crate::support::gitrepo::{text, TempRepo};
use base64::Engine as _;
use std::fs;
use std::path::PathBuf;

/// A work repository and a bare "server" repository next to it.
struct Push {
    r: TempRepo,
    bare: PathBuf,
}

impl Push {
    /// With the pre-receive hook installed on the server.
    fn new() -> Push {
        let p = Push::without_hook();
        p.install_hook();
        p
    }

    fn without_hook() -> Push {
        let r = TempRepo::new();
        let bare = r.home.join("server.git");
        let out = r
            .command("git", &r.home)
            .args(["init", "-q", "--bare", "server.git"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        Push { r, bare }
    }

    fn install_hook(&self) {
        let out = self
            .r
            .command(support::bin(), &self.r.home)
            .args(["install", "--server", self.bare.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        assert!(self.bare.join("hooks/pre-receive").exists());
    }

    /// `git push server ARGS` with extra environment: (accepted, output).
    fn push_env(&self, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
        let mut cmd = self.r.command("git", &self.r.dir);
        cmd.arg("push").arg(&self.bare).args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        (out.status.success(), text(&out))
    }

    fn push(&self, args: &[&str]) -> (bool, String) {
        self.push_env(args, &[])
    }

    /// Every ref of the server and what it points at.
    fn server_refs(&self) -> String {
        let out = self
            .r
            .command("git", &self.bare)
            .args(["for-each-ref", "--format=%(refname) %(objectname)"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn commit_file(&self, path: &str, content: &str, msg: &str) -> String {
        self.r.write(path, content);
        self.r.ok(&["add", "-A"]);
        self.r.ok(&["commit", "-q", "--no-verify", "-m", msg]);
        self.r.ok(&["rev-parse", "HEAD"])
    }

    fn remove_file(&self, path: &str, msg: &str) -> String {
        self.r.ok(&["rm", "-q", path]);
        self.r.ok(&["commit", "-q", "--no-verify", "-m", msg]);
        self.r.ok(&["rev-parse", "HEAD"])
    }

    /// A fresh ed25519 key: (private key text, fingerprint).
    fn key(&self, name: &str) -> (String, String) {
        let (path, fp) = support::ed25519(&self.r.home, name);
        (fs::read_to_string(path).unwrap(), fp)
    }
}

fn body_line(key: &str) -> &str {
    key.lines().nth(2).expect("a key body line")
}

/// Rejected, nothing moved, and the output names what it must without the key.
fn assert_rejected(p: &Push, (ok, out): (bool, String), before: &str, key: &str, fp: &str) {
    assert!(!ok, "push went through:\n{out}");
    assert!(out.contains("pre-receive hook declined"), "{out}");
    assert!(out.contains("keyscan: push blocked"), "{out}");
    assert!(out.contains(fp), "no fingerprint {fp}:\n{out}");
    assert!(!out.contains(body_line(key)), "key body printed:\n{out}");
    assert_eq!(p.server_refs(), before, "a ref moved:\n{out}");
}

#[test]
fn clean_push_lands_and_a_key_anywhere_in_the_range_rejects_it_all() {
    let p = Push::new();
    let (key, fp) = p.key("deploy");
    p.commit_file("README", "hello\n", "first");
    let (ok, out) = p.push(&["main"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("no private keys found in 1 new commit"),
        "{out}"
    );
    let before = p.server_refs();

    // The key comes in the middle commit and is gone again at the tip.
    p.commit_file("a.txt", "one\n", "two");
    let bad = p.commit_file("ops/deploy_key", &key, "three");
    p.remove_file("ops/deploy_key", "four");
    let res = p.push(&["main"]);
    let out = res.1.clone();
    assert_rejected(&p, res, &before, &key, &fp);
    assert!(out.contains("3 new commits on 1 ref"), "{out}");
    assert!(out.contains("ops/deploy_key:1-7"), "{out}");
    assert!(out.contains(&format!("commit       {bad}")), "{out}");
    assert!(out.contains("ref          refs/heads/main"), "{out}");
    assert!(out.contains("git filter-repo"), "{out}");
    assert!(out.contains("Rotate the key"), "{out}");

    // Several refs in one push, one of them bad: none moves.
    p.r.ok(&["branch", "bad", "HEAD"]);
    p.r.ok(&["checkout", "-q", "-b", "good", &format!("{bad}~2")]);
    p.commit_file("b.txt", "fine\n", "good");
    let res = p.push(&["good", "bad"]);
    assert_rejected(&p, res, &before, &key, &fp);

    // The pusher's JSON-free view is the same on a new branch alone.
    let res = p.push(&["bad:refs/heads/feature"]);
    let out = res.1.clone();
    assert_rejected(&p, res, &before, &key, &fp);
    assert!(out.contains("refs/heads/feature"), "{out}");

    let (ok, out) = p.push(&["good"]);
    assert!(ok, "{out}");
}

#[test]
fn force_pushes_deletions_and_tags() {
    let p = Push::new();
    let (key, fp) = p.key("k");
    p.commit_file("README", "v1\n", "c1");
    p.commit_file("README", "v2\n", "c2");
    p.r.ok(&["branch", "side"]);
    assert!(p.push(&["main", "side"]).0);
    let before = p.server_refs();

    // A force push that adds a key is rejected; rewritten without it, accepted.
    p.r.ok(&["reset", "-q", "--hard", "HEAD~1"]);
    p.commit_file("id_ed25519", &key, "oops");
    let res = p.push(&["--force", "main"]);
    assert_rejected(&p, res, &before, &key, &fp);
    p.r.ok(&["rm", "-q", "--cached", "id_ed25519"]);
    fs::remove_file(p.r.dir.join("id_ed25519")).unwrap();
    p.r.write("README", "v2, rewritten\n");
    p.r.ok(&["add", "README"]);
    p.r.ok(&["commit", "-q", "--amend", "--no-verify", "-m", "fixed"]);
    let (ok, out) = p.push(&["--force", "main"]);
    assert!(ok, "{out}");
    let before = p.server_refs();

    // Deleting a ref scans nothing and passes.
    let (ok, out) = p.push(&[":side"]);
    assert!(ok, "{out}");
    assert!(!p.server_refs().contains("refs/heads/side"));
    let before_tags = p.server_refs();
    assert_ne!(before, before_tags);

    // Tags on a new commit that holds a key, annotated and lightweight.
    p.r.ok(&["checkout", "-q", "-b", "tagged"]);
    p.commit_file("keys/k", &key, "tagged key");
    p.r.ok(&["tag", "-a", "-m", "release", "v1"]);
    p.r.ok(&["tag", "light"]);
    for tag in ["v1", "light"] {
        let res = p.push(&[tag]);
        let out = res.1.clone();
        assert_rejected(&p, res, &before_tags, &key, &fp);
        assert!(out.contains(&format!("refs/tags/{tag}")), "{out}");
    }
    // A tag on the key's blob itself.
    let blob = p.r.ok(&["rev-parse", "HEAD:keys/k"]);
    p.r.ok(&["tag", "-a", "-m", "a blob", "blobtag", &blob]);
    let res = p.push(&["blobtag"]);
    assert_rejected(&p, res, &before_tags, &key, &fp);
    // A tag on a commit the server already has moves nothing new in.
    p.r.ok(&["tag", "-a", "-m", "old", "v0", "main"]);
    let (ok, out) = p.push(&["v0"]);
    assert!(ok, "{out}");
}

#[test]
fn merge_resolutions_old_history_and_re_added_keys() {
    let p = Push::without_hook();
    let (key, fp) = p.key("old");
    // History with a key, pushed before the hook existed.
    p.commit_file("README", "base\n", "base");
    p.commit_file("legacy/id", &key, "legacy key");
    p.remove_file("legacy/id", "remove legacy key");
    assert!(p.push(&["main"]).0);
    p.install_hook();
    let before = p.server_refs();

    // A clean branch built on that history passes.
    p.r.ok(&["checkout", "-q", "-b", "topic"]);
    p.commit_file("topic.txt", "topic\n", "topic");
    let (ok, out) = p.push(&["topic"]);
    assert!(ok, "{out}");
    // Pointing a new ref at the commit that held the key brings nothing new.
    let (ok, out) = p.push(&["main~1:refs/heads/archive"]);
    assert!(ok, "{out}");
    let before = {
        let _ = before;
        p.server_refs()
    };

    // The same key blob, already on the server, brought back by a new commit.
    p.commit_file("restored/id", &key, "restore");
    let res = p.push(&["topic"]);
    let out = res.1.clone();
    assert_rejected(&p, res, &before, &key, &fp);
    assert!(out.contains("restored/id"), "{out}");
    p.r.ok(&["reset", "-q", "--hard", "HEAD~1"]);

    // A merge whose own resolution adds the key (neither side had it).
    p.r.ok(&["checkout", "-q", "-b", "left", "main"]);
    p.commit_file("f", "left\n", "left");
    p.r.ok(&["checkout", "-q", "-b", "right", "main"]);
    p.commit_file("f", "right\n", "right");
    assert!(p.push(&["left", "right"]).0);
    let before = p.server_refs();
    let merged = p.r.git(&["merge", "-q", "--no-edit", "left"]);
    assert!(!merged.status.success(), "expected a conflict");
    p.r.write("f", &format!("resolved\n{key}"));
    p.r.ok(&["add", "f"]);
    p.r.ok(&["commit", "-q", "--no-verify", "--no-edit"]);
    let res = p.push(&["right"]);
    let out = res.1.clone();
    assert_rejected(&p, res, &before, &key, &fp);
    assert!(out.contains("1 new commit on 1 ref"), "{out}");
    assert!(out.contains("f:2-8"), "{out}");
}

#[test]
fn disguised_and_encrypted_keys_long_pushes_and_big_binaries() {
    let p = Push::new();
    let (key, fp) = p.key("k8s");
    p.commit_file("README", "x\n", "base");
    assert!(p.push(&["main"]).0);
    let before = p.server_refs();

    let b64 = base64::engine::general_purpose::STANDARD.encode(key.as_bytes());
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: deploy\ndata:\n  id_ed25519: {b64}\n"
    );
    p.r.ok(&["checkout", "-q", "-b", "secret", "main"]);
    p.commit_file("k8s/secret.yaml", &secret, "secret");
    let res = p.push(&["secret"]);
    assert_rejected(&p, res, &before, &key, &fp);

    // An encrypted key (a passphrase nobody would guess) still blocks.
    let enc = p.r.home.join("enc");
    support::tool(
        "ssh-keygen",
        &[
            "-q",
            "-t",
            "ed25519",
            "-N",
            "w8!Qz-unguessable-7x",
            "-f",
            enc.to_str().unwrap(),
        ],
        &p.r.home,
    );
    let enc_key = fs::read_to_string(&enc).unwrap();
    p.r.ok(&["checkout", "-q", "-b", "enc", "main"]);
    p.commit_file("enc_key", &enc_key, "encrypted");
    let (ok, out) = p.push(&["enc"]);
    assert!(!ok && out.contains("encrypted"), "{out}");
    assert_eq!(p.server_refs(), before);

    // 150 commits, the key in commit 120 and gone again in 121.
    p.r.ok(&["checkout", "-q", "-b", "long", "main"]);
    let mut import = String::new();
    let parent = p.r.ok(&["rev-parse", "main"]);
    for i in 1..=150 {
        let content = if i == 120 {
            key.clone()
        } else {
            format!("step {i}\n")
        };
        import.push_str(&format!(
            "commit refs/heads/long\ncommitter t <t@e> {} +0000\ndata 4\nc{:03}\n",
            1_700_000_000 + i,
            i % 1000
        ));
        if i == 1 {
            import.push_str(&format!("from {parent}\n"));
        }
        let path = if i == 120 { "deep/dir/key" } else { "counter" };
        import.push_str(&format!(
            "M 100644 inline {path}\ndata {}\n{content}\n",
            content.len()
        ));
        if i == 121 {
            import.push_str("D deep/dir/key\n");
        }
    }
    let mut child =
        p.r.command("git", &p.r.dir)
            .args(["fast-import", "--quiet", "--force"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(import.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    let res = p.push(&["long"]);
    let out = res.1.clone();
    assert_rejected(&p, res, &before, &key, &fp);
    assert!(out.contains("150 new commits"), "{out}");
    assert!(out.contains("deep/dir/key"), "{out}");
    let c120 = p.r.ok(&["rev-parse", "long~30"]);
    assert!(out.contains(&c120), "not attributed to commit 120:\n{out}");

    // A 20 MB key-free binary passes.
    p.r.ok(&["checkout", "-q", "-b", "binary", "main"]);
    let mut state: u64 = 0x9e3779b97f4a7c15;
    let data: Vec<u8> = (0..20 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    fs::write(p.r.dir.join("blob.bin"), &data).unwrap();
    p.r.ok(&["add", "blob.bin"]);
    p.r.ok(&["commit", "-q", "--no-verify", "-m", "binary"]);
    let (ok, out) = p.push(&["binary"]);
    assert!(ok, "{out}");
}

#[test]
fn sixteen_pushes_at_once_each_get_their_verdict() {
    let p = Push::new();
    let (key, fp) = p.key("many");
    p.commit_file("README", "x\n", "base");
    assert!(p.push(&["main"]).0);
    for i in 0..16 {
        p.r.ok(&["checkout", "-q", "-b", &format!("b{i}"), "main"]);
        let content = if i % 2 == 0 {
            key.clone()
        } else {
            format!("clean {i}\n")
        };
        p.commit_file(&format!("f{i}"), &content, &format!("c{i}"));
    }
    // Sixteen debug builds on two cores: the verdicts are under test here,
    // not the default time limit.
    let cfg = p.r.home.join("patient.toml");
    fs::write(&cfg, "[server]\ntime_limit = 120\n").unwrap();
    let children: Vec<_> = (0..16)
        .map(|i| {
            p.r.command("git", &p.r.dir)
                .env("KEYSCAN_SERVER_CONFIG", &cfg)
                .args(["push", p.bare.to_str().unwrap(), &format!("b{i}")])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        let all = text(&out);
        if i % 2 == 0 {
            assert!(!out.status.success(), "b{i} went through:\n{all}");
            assert!(all.contains(&fp), "{all}");
        } else {
            assert!(out.status.success(), "b{i} rejected:\n{all}");
        }
    }
    let refs = p.server_refs();
    for i in 0..16 {
        assert_eq!(
            refs.contains(&format!("refs/heads/b{i} ")),
            i % 2 == 1,
            "{refs}"
        );
    }
    let fsck =
        p.r.command("git", &p.bare)
            .args(["fsck", "--strict"])
            .output()
            .unwrap();
    assert!(fsck.status.success(), "{}", text(&fsck));
}

#[test]
fn failures_reject_the_push_and_say_why() {
    let p = Push::new();
    p.commit_file("README", "x\n", "base");
    let before = p.server_refs();
    let cfg = p.r.home.join("server.toml");
    let cfg_s = cfg.to_str().unwrap();

    fs::write(&cfg, "[server]\nfail_mode = \"sometimes\"\n").unwrap();
    let (ok, out) = p.push_env(&["main"], &[("KEYSCAN_SERVER_CONFIG", cfg_s)]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("push rejected, it could not be checked"),
        "{out}"
    );
    assert!(out.contains("server.toml:2: fail_mode"), "{out}");
    assert_eq!(p.server_refs(), before);

    fs::write(&cfg, "[server]\ntime_limit = 0\n").unwrap();
    let (ok, out) = p.push_env(&["main"], &[("KEYSCAN_SERVER_CONFIG", cfg_s)]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("too large to check within the 0 s limit"),
        "{out}"
    );
    assert!(out.contains("smaller parts"), "{out}");
    assert_eq!(p.server_refs(), before);

    fs::write(
        &cfg,
        "[server]\ntime_limit = \"0s\"\nfail_mode = \"open\"\n",
    )
    .unwrap();
    let (ok, out) = p.push_env(&["main"], &[("KEYSCAN_SERVER_CONFIG", cfg_s)]);
    assert!(ok, "{out}");
    assert!(
        out.contains("this push was NOT checked for private keys"),
        "{out}"
    );

    // The pushed objects cannot be read: the hook sees an empty object store
    // in place of the quarantine.
    let empty = p.r.home.join("empty-objects");
    fs::create_dir_all(&empty).unwrap();
    let hook = p.bare.join("hooks/pre-receive");
    fs::write(
        &hook,
        format!(
            "#!/bin/sh\nGIT_OBJECT_DIRECTORY='{}' exec '{}' pre-receive\n",
            empty.display(),
            support::bin()
        ),
    )
    .unwrap();
    let before = p.server_refs();
    p.commit_file("more", "more\n", "more");
    let (ok, out) = p.push(&["main"]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("push rejected, it could not be checked"),
        "{out}"
    );
    assert_eq!(p.server_refs(), before);
}

#[test]
fn push_options_bypass_only_when_the_server_allows_it() {
    let p = Push::new();
    let (key, fp) = p.key("fixture");
    let out =
        p.r.command("git", &p.bare)
            .args(["config", "receive.advertisePushOptions", "true"])
            .output()
            .unwrap();
    assert!(out.status.success());
    // The pusher's own .keyscan.toml allowlist is ignored by default.
    p.commit_file(
        ".keyscan.toml",
        &format!("[allowlist]\nfingerprints = [\"{fp}\"]\n"),
        "cfg",
    );
    p.commit_file("fixture", &key, "fixture");
    let before = p.server_refs();
    let opt = format!("keyscan.allow={fp}");
    let res = p.push(&["-o", &opt, "main"]);
    assert_rejected(&p, res, &before, &key, &fp);

    let cfg = p.r.home.join("server.toml");
    fs::write(&cfg, "[server]\nallow_push_option_bypass = true\n").unwrap();
    let env = [
        ("KEYSCAN_SERVER_CONFIG", cfg.to_str().unwrap()),
        ("REMOTE_USER", "alice"),
    ];
    let res = p.push_env(&["main"], &env);
    assert_rejected(&p, res, &before, &key, &fp);
    let (ok, out) = p.push_env(&["-o", &opt, "main"], &env);
    assert!(ok, "{out}");
    assert!(
        out.contains("alice (REMOTE_USER) bypassed the check"),
        "{out}"
    );
    assert!(out.contains(&fp), "{out}");

    // allow_repo_config = true lets the pushed .keyscan.toml allow it.
    p.r.ok(&["checkout", "-q", "-b", "other"]);
    p.commit_file("again", &key, "again");
    fs::write(&cfg, "[server]\nallow_repo_config = true\n").unwrap();
    let (ok, out) = p.push_env(&["other"], &env[..1]);
    assert!(ok, "{out}");
}

#[test]
fn pre_push_stops_a_key_committed_with_no_verify() {
    let p = Push::without_hook();
    let out =
        p.r.command(support::bin(), &p.r.dir)
            .args(["install", "--hook", "pre-push"])
            .output()
            .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    p.r.ok(&["remote", "add", "origin", p.bare.to_str().unwrap()]);
    let (key, fp) = p.key("client");

    p.commit_file("README", "x\n", "clean");
    let out = p.r.git(&["push", "-q", "origin", "main"]);
    assert!(out.status.success(), "{}", text(&out));
    let before = p.server_refs();

    p.commit_file("id", &key, "key");
    p.commit_file("other", "y\n", "later");
    let out = p.r.git(&["push", "origin", "main"]);
    let all = text(&out);
    assert!(!out.status.success(), "{all}");
    assert!(
        all.contains("keyscan: push blocked: 1 private key in 2 new commits"),
        "{all}"
    );
    assert!(all.contains(&fp) && !all.contains(body_line(&key)), "{all}");
    assert_eq!(p.server_refs(), before);

    // The pre-commit framework's pre-push stage: a range in the environment.
    let scan = |from: &str, to: &str| {
        p.r.command(support::bin(), &p.r.dir)
            .arg("pre-push")
            .env("PRE_COMMIT_FROM_REF", from)
            .env("PRE_COMMIT_TO_REF", to)
            .env("PRE_COMMIT_REMOTE_NAME", "origin")
            .output()
            .unwrap()
    };
    assert_eq!(scan("origin/main", "HEAD").status.code(), Some(1));
    assert_eq!(scan("HEAD~1", "HEAD").status.code(), Some(0));

    // Rewritten without the key, the push proceeds.
    p.r.ok(&["reset", "-q", "--hard", "HEAD~2"]);
    p.commit_file("other", "y\n", "clean again");
    let out = p.r.git(&["push", "origin", "main"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_ne!(p.server_refs(), before);
}

#[test]
fn the_shipped_shims_fail_closed_without_keyscan() {
    let p = Push::without_hook();
    let shim = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("hooks/pre-receive");
    let hook = p.bare.join("hooks/pre-receive");
    fs::copy(&shim, &hook).unwrap();
    p.commit_file("README", "x\n", "c");
    // A PATH with git but without keyscan.
    let (ok, out) = p.push_env(&["main"], &[("PATH", "/usr/bin:/bin")]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("keyscan binary is not on the server's PATH"),
        "{out}"
    );
    // With keyscan on PATH the same shim lets a clean push through.
    let dir = PathBuf::from(support::bin())
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!("{}:/usr/bin:/bin", dir.display());
    let (ok, out) = p.push_env(&["main"], &[("PATH", path.as_str())]);
    assert!(ok, "{out}");
    assert!(out.contains("no private keys found"), "{out}");
}

#[test]
fn existing_hooks_are_refused_or_chained_with_their_input() {
    let p = Push::without_hook();
    // The server already has a pre-receive hook: refused, then chained.
    let seen = p.r.home.join("seen-by-old-hook");
    let old = p.bare.join("hooks/pre-receive");
    fs::write(&old, format!("#!/bin/sh\ncat > '{}'\n", seen.display())).unwrap();
    support::tool("chmod", &["+x", old.to_str().unwrap()], &p.r.home);
    let install = |force: bool| {
        let mut args = vec!["install", "--server", p.bare.to_str().unwrap()];
        if force {
            args.push("--force");
        }
        p.r.command(support::bin(), &p.r.home)
            .args(&args)
            .output()
            .unwrap()
    };
    let out = install(false);
    assert!(!out.status.success());
    assert!(text(&out).contains("--force"), "{}", text(&out));
    let out = install(true);
    assert!(out.status.success(), "{}", text(&out));
    assert!(p.bare.join("hooks/pre-receive.keyscan-backup").exists());
    let (key, fp) = p.key("chained");
    p.r.write("README", "x\n");
    let head = p.commit_file("k", &key, "key");
    let before = p.server_refs();
    let res = p.push(&["main"]);
    assert_rejected(&p, res, &before, &key, &fp);
    assert!(!seen.exists(), "the old hook ran after a rejection");
    p.r.ok(&["rm", "-q", "k"]);
    p.r.ok(&["commit", "-q", "--no-verify", "--amend", "-m", "clean"]);
    let clean = p.r.ok(&["rev-parse", "HEAD"]);
    assert_ne!(clean, head);
    let (ok, out) = p.push(&["main"]);
    assert!(ok, "{out}");
    // The chained hook got the same ref line keyscan read.
    let line = fs::read_to_string(&seen).unwrap();
    assert_eq!(
        line,
        format!("{} {clean} refs/heads/main\n", "0".repeat(40))
    );
}

#[test]
fn a_tag_chain_deeper_than_64_rejects_the_push_naming_the_ref() {
    let p = Push::new();
    let (key, _) = p.key("deep");
    p.commit_file("README", "x\n", "base");
    assert!(p.push(&["main"]).0);
    let before = p.server_refs();
    p.r.ok(&["checkout", "-q", "--detach"]);
    p.commit_file("k", &key, "key");
    p.r.ok(&["tag", "-a", "-m", "t", "t1"]);
    for n in 2..=65 {
        let (name, prev) = (format!("t{n}"), format!("t{}", n - 1));
        p.r.ok(&["tag", "-a", "-m", "t", &name, &prev]);
        p.r.ok(&["tag", "-d", &prev]);
    }
    let (ok, out) = p.push(&["refs/tags/t65"]);
    assert!(!ok, "{out}");
    assert!(out.contains("refs/tags/t65"), "{out}");
    assert!(out.contains("more than 64 annotated tags"), "{out}");
    assert_eq!(p.server_refs(), before);
}

#[test]
fn a_huge_time_limit_is_a_config_error_not_a_panic() {
    let p = Push::new();
    p.commit_file("README", "x\n", "base");
    let before = p.server_refs();
    let cfg = p.r.home.join("server.toml");
    let cfg_s = cfg.to_str().unwrap();
    for limit in ["1.5e19", "9223372036854775807", "\"1e300s\""] {
        fs::write(&cfg, format!("[server]\ntime_limit = {limit}\n")).unwrap();
        let (ok, out) = p.push_env(&["main"], &[("KEYSCAN_SERVER_CONFIG", cfg_s)]);
        assert!(!ok, "{out}");
        assert!(out.contains("server.toml:2: time_limit"), "{limit}: {out}");
        assert!(!out.contains("panicked"), "{out}");
        assert_eq!(p.server_refs(), before);
    }
    fs::write(&cfg, "[server]\ntime_limit = 86400\n").unwrap();
    let (ok, out) = p.push_env(&["main"], &[("KEYSCAN_SERVER_CONFIG", cfg_s)]);
    assert!(ok, "{out}");
}

#[test]
fn a_slow_rev_list_is_stopped_at_the_time_limit_and_the_push_rejected() {
    let p = Push::new();
    p.commit_file("README", "x\n", "base");
    let before = p.server_refs();
    // A git whose rev-list never answers, first on the hook's PATH.
    let real = String::from_utf8(support::tool("sh", &["-c", "command -v git"], &p.r.home).stdout)
        .unwrap();
    let fake = p.r.home.join("slow-git");
    fs::create_dir_all(&fake).unwrap();
    fs::write(
        fake.join("git"),
        format!(
            "#!/bin/sh\nif [ \"$1\" = rev-list ]; then exec sleep 60; fi\nexec '{}' \"$@\"\n",
            real.trim()
        ),
    )
    .unwrap();
    support::tool(
        "chmod",
        &["+x", fake.join("git").to_str().unwrap()],
        &p.r.home,
    );
    let cfg = p.r.home.join("server.toml");
    fs::write(&cfg, "[server]\ntime_limit = 1\n").unwrap();
    fs::write(
        p.bare.join("hooks/pre-receive"),
        format!(
            "#!/bin/sh\nPATH='{}':$PATH KEYSCAN_SERVER_CONFIG='{}' exec '{}' pre-receive\n",
            fake.display(),
            cfg.display(),
            support::bin()
        ),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let (ok, out) = p.push(&["main"]);
    assert!(!ok, "{out}");
    assert!(started.elapsed().as_secs() < 20, "{out}");
    assert!(out.contains("within the 1 s limit"), "{out}");
    assert!(out.contains("could not be listed in time"), "{out}");
    assert_eq!(p.server_refs(), before);
}

#[test]
fn the_bypass_audit_is_one_json_line_and_only_for_an_accepted_push() {
    let p = Push::new();
    let out =
        p.r.command("git", &p.bare)
            .args(["config", "receive.advertisePushOptions", "true"])
            .output()
            .unwrap();
    assert!(out.status.success());
    let cfg = p.r.home.join("server.toml");
    fs::write(&cfg, "[server]\nallow_push_option_bypass = true\n").unwrap();
    let env = [("KEYSCAN_SERVER_CONFIG", cfg.to_str().unwrap())];
    p.commit_file("README", "x\n", "base");
    assert!(p.push_env(&["main"], &env).0);
    let (key, fp) = p.key("fixture");
    let (other, other_fp) = p.key("other");
    let opt = format!("keyscan.allow={fp}");
    let audits = |out: &str| -> Vec<serde_json::Value> {
        out.lines()
            .filter_map(|l| l.split_once("keyscan: audit: {"))
            .map(|(_, rest)| serde_json::from_str(&format!("{{{rest}")).expect(rest))
            .collect()
    };

    // Rejected for another key: no audit line for the allowed one.
    p.r.ok(&["checkout", "-q", "-b", "two"]);
    p.commit_file("fixture", &key, "fixture");
    p.commit_file("other", &other, "other");
    let before = p.server_refs();
    let res = p.push_env(&["-o", &opt, "two"], &env);
    let out = res.1.clone();
    assert_rejected(&p, res, &before, &other, &other_fp);
    assert!(!out.contains("keyscan: audit"), "{out}");

    // Accepted: one JSON line, even with a newline in the path; no pusher
    // variable, so the pusher is unknown and the author only what it claims.
    p.r.ok(&["checkout", "-q", "main"]);
    let odd = "a\nkeyscan: audit: forged";
    p.commit_file(odd, &key, "odd path");
    let (ok, out) = p.push_env(&["-o", &opt, "main"], &env);
    assert!(ok, "{out}");
    let got = audits(&out);
    assert_eq!(got.len(), 1, "{out}");
    assert_eq!(got[0]["path"], odd, "{out}");
    assert_eq!(got[0]["fingerprint"], fp.as_str());
    assert_eq!(got[0]["pusher"], serde_json::Value::Null);
    let msg = got[0]["message"].as_str().unwrap();
    assert!(msg.starts_with("pusher unknown (commit author: "), "{msg}");
    assert!(
        out.contains("1 key allowed by push option keyscan.allow"),
        "{out}"
    );
    assert!(!out.contains("look-alike"), "{out}");
}

#[test]
fn a_ref_name_that_is_not_utf8_is_checked_like_any_other() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let p = Push::new();
    p.commit_file("README", "x\n", "base");
    let spec = OsStr::from_bytes(b"main:refs/heads/caf\xe9");
    let push = |spec: &OsStr| {
        let out =
            p.r.command("git", &p.r.dir)
                .arg("push")
                .arg(&p.bare)
                .arg(spec)
                .output()
                .unwrap();
        (out.status.success(), text(&out))
    };
    let (ok, out) = push(spec);
    assert!(ok, "{out}");
    assert!(out.contains("no private keys found"), "{out}");
    let (key, fp) = p.key("k");
    p.commit_file("k", &key, "key");
    let before = p.server_refs();
    let res = push(spec);
    assert_rejected(&p, res, &before, &key, &fp);
}

#[test]
fn keys_in_commit_and_tag_messages_reject_the_push() {
    let p = Push::new();
    p.commit_file("README", "x\n", "base");
    assert!(p.push(&["main"]).0);
    let before = p.server_refs();
    let (key, fp) = p.key("in-message");
    let msg = p.r.home.join("msg");
    fs::write(&msg, &key).unwrap();
    p.r.ok(&["checkout", "-q", "-b", "msg"]);
    p.r.ok(&[
        "commit",
        "-q",
        "--no-verify",
        "--allow-empty",
        "-F",
        msg.to_str().unwrap(),
    ]);
    let c = p.r.ok(&["rev-parse", "HEAD"]);
    let res = p.push(&["msg"]);
    let out = res.1.clone();
    assert_rejected(&p, res, &before, &key, &fp);
    assert!(out.contains(&format!("(message of commit {c})")), "{out}");

    // An annotated tag on a clean commit the server has, its message a key.
    p.r.ok(&["tag", "-a", "v1", "-F", msg.to_str().unwrap(), "main"]);
    let tag = p.r.ok(&["rev-parse", "refs/tags/v1"]);
    let res = p.push(&["v1"]);
    let out = res.1.clone();
    assert_rejected(&p, res, &before, &key, &fp);
    assert!(out.contains(&format!("(message of tag {tag})")), "{out}");

    // pre-push finds it too.
    p.r.ok(&["remote", "add", "origin", p.bare.to_str().unwrap()]);
    p.r.ok(&["fetch", "-q", "origin"]);
    let input = format!("refs/heads/msg {c} refs/heads/msg {}\n", "0".repeat(40));
    let out =
        p.r.command(support::bin(), &p.r.dir)
            .args(["pre-push", "origin"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().unwrap().write_all(input.as_bytes())?;
                child.wait_with_output()
            })
            .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains(&fp), "{}", text(&out));
}

#[test]
fn a_merge_of_a_branch_the_server_holds_brings_its_key_to_the_ref() {
    let p = Push::without_hook();
    let (key, fp) = p.key("side");
    p.commit_file("README", "base\n", "base");
    // A side branch with a key, on the server before the hook existed.
    p.r.ok(&["checkout", "-q", "-b", "side"]);
    p.commit_file("side/id", &key, "side key");
    assert!(p.push(&["main", "side"]).0);
    p.install_hook();
    let before = p.server_refs();

    // main merges it with --no-ff: the key arrives on main.
    p.r.ok(&["checkout", "-q", "main"]);
    p.r.ok(&["merge", "-q", "--no-ff", "--no-edit", "side"]);
    let res = p.push(&["main"]);
    let out = res.1.clone();
    assert_rejected(&p, res, &before, &key, &fp);
    assert!(out.contains("side/id"), "{out}");
    assert!(out.contains("refs/heads/main"), "{out}");

    // Without the key in the merged branch, the same merge passes.
    p.r.ok(&["reset", "-q", "--hard", "HEAD~1"]);
    p.r.ok(&["checkout", "-q", "-b", "clean", "main"]);
    p.commit_file("clean.txt", "clean\n", "clean");
    assert!(p.push(&["clean"]).0);
    p.r.ok(&["checkout", "-q", "main"]);
    p.r.ok(&["merge", "-q", "--no-ff", "--no-edit", "clean"]);
    let (ok, out) = p.push(&["main"]);
    assert!(ok, "{out}");
}

#[test]
fn a_repo_allowlist_applies_only_to_the_ref_whose_tree_holds_it() {
    let p = Push::new();
    let (key, fp) = p.key("fixture");
    let cfg = p.r.home.join("server.toml");
    fs::write(&cfg, "[server]\nallow_repo_config = true\n").unwrap();
    let env = [("KEYSCAN_SERVER_CONFIG", cfg.to_str().unwrap())];
    p.commit_file("README", "x\n", "base");
    assert!(p.push_env(&["main"], &env).0);
    let before = p.server_refs();
    // b: the key alone. a: the same commit, then a .keyscan.toml allowing it.
    p.r.ok(&["checkout", "-q", "-b", "b"]);
    p.commit_file("fixture", &key, "fixture");
    p.r.ok(&["checkout", "-q", "-b", "a"]);
    p.commit_file(
        ".keyscan.toml",
        &format!("[allowlist]\nfingerprints = [\"{fp}\"]\n"),
        "allow it here",
    );
    let res = p.push_env(&["a", "b"], &env);
    let out = res.1.clone();
    assert_rejected(&p, res, &before, &key, &fp);
    assert!(out.contains("refs/heads/b"), "{out}");
    // Alone, the ref whose tree allows it passes.
    let (ok, out) = p.push_env(&["a"], &env);
    assert!(ok, "{out}");
    assert!(out.contains("1 key allowed by .keyscan.toml"), "{out}");
}

#[test]
fn fail_open_warns_once() {
    let p = Push::new();
    p.commit_file("README", "x\n", "base");
    let cfg = p.r.home.join("server.toml");
    fs::write(&cfg, "[server]\ntime_limit = 0\nfail_mode = \"open\"\n").unwrap();
    let (ok, out) = p.push_env(
        &["main"],
        &[("KEYSCAN_SERVER_CONFIG", cfg.to_str().unwrap())],
    );
    assert!(ok, "{out}");
    assert_eq!(out.matches("NOT checked").count(), 1, "{out}");
    assert!(out.contains("nothing was checked yet"), "{out}");
}

/// One pkt-line of git's wire protocol.
fn pkt(line: &str) -> Vec<u8> {
    format!("{:04x}{line}", line.len() + 4).into_bytes()
}

#[test]
fn a_blob_no_pushed_commit_refers_to_is_scanned_too() {
    let p = Push::new();
    p.commit_file("README", "x\n", "base");
    assert!(p.push(&["main"]).0);
    let before = p.server_refs();
    let (key, fp) = p.key("stray");
    let clean = p.commit_file("clean.txt", "clean\n", "clean");
    p.r.write("stray", &key);
    let stray = p.r.ok(&["hash-object", "-w", "stray"]);
    let tree = p.r.ok(&["rev-parse", "HEAD^{tree}"]);
    let blob = p.r.ok(&["rev-parse", "HEAD:clean.txt"]);
    // A pack with the new commit and, beside it, a blob nothing refers to,
    // sent to receive-pack as a hand-made client would.
    let list = format!("{clean}\n{tree}\n{blob}\n{stray}\n");
    let mut pack =
        p.r.command("git", &p.r.dir)
            .args(["pack-objects", "--stdout", "-q"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
    use std::io::Write;
    pack.stdin
        .take()
        .unwrap()
        .write_all(list.as_bytes())
        .unwrap();
    let pack = pack.wait_with_output().unwrap();
    assert!(pack.status.success());
    let zero = "0".repeat(40);
    let mut input = pkt(&format!(
        "{zero} {clean} refs/heads/sneaky\0report-status\n"
    ));
    input.extend_from_slice(b"0000");
    input.extend_from_slice(&pack.stdout);
    let mut rp =
        p.r.command("git", &p.r.home)
            .arg("receive-pack")
            .arg(&p.bare)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
    rp.stdin.take().unwrap().write_all(&input).unwrap();
    let out = rp.wait_with_output().unwrap();
    let all = text(&out);
    assert!(all.contains("pre-receive hook declined"), "{all}");
    assert!(all.contains(&fp), "{all}");
    assert!(
        all.contains(&format!(
            "(blob {stray}, sent in the push but in no pushed commit)"
        )),
        "{all}"
    );
    assert_eq!(p.server_refs(), before);
}

#[test]
fn a_blob_over_the_size_limit_rejects_the_push_naming_it() {
    let p = Push::new();
    p.commit_file("README", "x\n", "base");
    assert!(p.push(&["main"]).0);
    let before = p.server_refs();
    let cfg = p.r.home.join("server.toml");
    fs::write(&cfg, "[policy]\nmax_file_size = \"1KB\"\n").unwrap();
    let big = "0123456789abcdef\n".repeat(256);
    p.commit_file("big/file.txt", &big, "big");
    let blob = p.r.ok(&["rev-parse", "HEAD:big/file.txt"]);
    let (ok, out) = p.push_env(
        &["main"],
        &[("KEYSCAN_SERVER_CONFIG", cfg.to_str().unwrap())],
    );
    assert!(!ok, "{out}");
    assert!(
        out.contains("push rejected, it could not be checked"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "blob {blob} ({} bytes) at big/file.txt",
            big.len()
        )),
        "{out}"
    );
    assert_eq!(p.server_refs(), before);
    // Kept as a pack in the quarantine (not exploded into loose objects):
    // read from the pack's headers, never inflated, and named the same.
    let out =
        p.r.command("git", &p.bare)
            .args(["config", "receive.unpackLimit", "1"])
            .output();
    assert!(out.unwrap().status.success());
    let (ok, out) = p.push_env(
        &["main"],
        &[("KEYSCAN_SERVER_CONFIG", cfg.to_str().unwrap())],
    );
    assert!(!ok, "{out}");
    assert!(
        out.contains(&format!(
            "blob {blob} ({} bytes) at big/file.txt",
            big.len()
        )),
        "{out}"
    );
    assert_eq!(p.server_refs(), before);
    // Under the default limit it passes.
    let (ok, out) = p.push(&["main"]);
    assert!(ok, "{out}");
}

#[test]
fn twenty_encrypted_keys_in_one_file_stay_within_the_time_limit() {
    let p = Push::new();
    p.commit_file("README", "x\n", "base");
    assert!(p.push(&["main"]).0);
    let before = p.server_refs();
    // Twenty keys nobody could guess the passphrase of, in one 10 KB file.
    let mut all = String::new();
    for i in 0..20 {
        let path = p.r.home.join(format!("enc{i}"));
        support::tool(
            "ssh-keygen",
            &[
                "-q",
                "-t",
                "ed25519",
                "-N",
                "w8!Qz-unguessable-7x",
                "-C",
                "t",
                "-f",
            ]
            .into_iter()
            .chain([path.to_str().unwrap()])
            .collect::<Vec<_>>(),
            &p.r.home,
        );
        all.push_str(&fs::read_to_string(&path).unwrap());
    }
    assert!((8_000..12_000).contains(&all.len()), "{}", all.len());
    p.r.ok(&["checkout", "-q", "-b", "keys", "main"]);
    p.commit_file("config/keys.txt", &all, "twenty keys");
    let started = std::time::Instant::now();
    let (ok, out) = p.push(&["keys"]);
    let took = started.elapsed();
    assert!(!ok, "{out}");
    // Blocked for the keys, not for running out of time.
    assert!(out.contains("keyscan: push blocked"), "{out}");
    assert!(
        out.contains("weak-passphrase check: 20 encrypted keys"),
        "{out}"
    );
    assert_eq!(p.server_refs(), before);
    // The default time limit is 4 s; git itself needs a moment more.
    assert!(took < std::time::Duration::from_secs(7), "{took:?}\n{out}");
}

/// Sends the pack of `objects` (ids, one a line) and one ref update to the
/// server's receive-pack, as a hand-made client would: its output.
fn hand_push(p: &Push, objects: &str, update: &str) -> String {
    use std::io::Write;
    use std::process::Stdio;
    let mut pack =
        p.r.command("git", &p.r.dir)
            .args(["pack-objects", "--stdout", "-q"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
    let mut stdin = pack.stdin.take().unwrap();
    stdin.write_all(objects.as_bytes()).unwrap();
    drop(stdin);
    let pack = pack.wait_with_output().unwrap();
    assert!(pack.status.success());
    let mut input = pkt(&format!("{update}\0report-status\n"));
    input.extend_from_slice(b"0000");
    input.extend_from_slice(&pack.stdout);
    let mut rp =
        p.r.command("git", &p.r.home)
            .arg("receive-pack")
            .arg(&p.bare)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
    rp.stdin.take().unwrap().write_all(&input).unwrap();
    text(&rp.wait_with_output().unwrap())
}

/// A push big enough to arrive as a pack, read in pack order with its trees
/// indexed: a commit in the middle of it brings to `main` a folder two
/// levels deep that the server holds on another ref, and the pack leaves
/// out that folder's trees and key blob (the server has them). The key is
/// found there, at its path, attributed to that commit only.
#[test]
fn a_long_push_that_restores_an_old_folder_brings_its_key_back() {
    let p = Push::without_hook();
    let (key, fp) = p.key("deep");
    let old = p.commit_file("README", "base\n", "base");
    p.r.ok(&["checkout", "-q", "-b", "keep"]);
    p.commit_file("ops/deep/id", &key, "key");
    p.r.ok(&["checkout", "-q", "main"]);
    assert!(p.push(&["main", "keep"]).0);
    p.install_hook();
    let before = p.server_refs();

    // 40 commits, the restore, 40 more: some 400 objects, over git's
    // unpack limit, so they arrive as a pack.
    for i in 0..80 {
        if i == 40 {
            p.r.ok(&["checkout", "-q", "keep", "--", "ops"]);
            p.r.ok(&["commit", "-q", "--no-verify", "-m", "restore ops"]);
        }
        p.commit_file(
            &format!("src/d{}/f{i}.txt", i % 7),
            &format!("{i}\n"),
            "work",
        );
    }
    let new = p.r.ok(&["rev-parse", "HEAD"]);
    let restore = p.r.ok(&["rev-parse", "HEAD~40"]);
    let held: Vec<String> = ["keep:ops", "keep:ops/deep", "keep:ops/deep/id"]
        .iter()
        .map(|rev| p.r.ok(&["rev-parse", rev]))
        .collect();
    let objects: String =
        p.r.ok(&["rev-list", "--objects", "main", "--not", &old])
            .lines()
            .filter_map(|l| l.split(' ').next())
            .filter(|id| !held.iter().any(|h| h == id))
            .map(|id| format!("{id}\n"))
            .collect();
    assert!(objects.lines().count() > 300);
    let out = hand_push(&p, &objects, &format!("{old} {new} refs/heads/main"));
    assert!(out.contains("pre-receive hook declined"), "{out}");
    assert!(out.contains(&fp), "{out}");
    assert!(!out.contains(body_line(&key)), "{out}");
    assert!(
        out.contains("push blocked: 1 private key in 81 new commits"),
        "{out}"
    );
    assert!(out.contains("ops/deep/id"), "{out}");
    assert!(
        out.contains(&restore),
        "not attributed to the restore:\n{out}"
    );
    assert_eq!(p.server_refs(), before);
}
