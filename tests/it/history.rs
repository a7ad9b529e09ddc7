//! `keyscan history` through the real binary, on real repositories built
//! with `git` in temp dirs. Every key is made at test time with ssh-keygen;
//! every expected commit, blob and ref is asked of git itself.

use crate::support;
use crate::support::without_git_env;
use serde_json::Value;
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Settings every git call gets: no signing, a known branch name, no gc.
const GIT_CONFIG: &[&str] = &[
    "-c",
    "commit.gpgsign=false",
    "-c",
    "tag.gpgsign=false",
    "-c",
    "init.defaultBranch=main",
    "-c",
    "gc.auto=0",
    "-c",
    "maintenance.auto=false",
    "-c",
    "advice.detachedHead=false",
    "-c",
    "user.name=Test Author",
    "-c",
    "user.email=test@example.com",
];

/// A temp dir with a HOME, a place for keys, and repositories in it. Commit
/// dates come from a clock that ticks a minute per commit, so "first" is
/// well defined.
struct Lab {
    tmp: tempfile::TempDir,
    home: PathBuf,
    keys: PathBuf,
    clock: Cell<i64>,
    /// The time zone commits are made in.
    tz: Cell<&'static str>,
}

impl Lab {
    fn new() -> Lab {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        let keys = tmp.path().join("keys");
        fs::create_dir_all(&home).unwrap();
        fs::create_dir_all(&keys).unwrap();
        Lab {
            tmp,
            home,
            keys,
            clock: Cell::new(1_600_000_000),
            tz: Cell::new("+0000"),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// A fresh ed25519 private key: (file bytes, `SHA256:` fingerprint).
    fn key(&self, name: &str) -> (Vec<u8>, String) {
        let (path, fp) = support::ed25519(&self.keys, name);
        (fs::read(path).unwrap(), fp)
    }

    fn tick(&self) {
        self.clock.set(self.clock.get() + 60);
    }

    fn git_raw(&self, dir: &Path, args: &[&str], extra: &[&str]) -> Output {
        let date = format!("{} {}", self.clock.get(), self.tz.get());
        let mut cmd = Command::new("git");
        cmd.args(GIT_CONFIG)
            .args(extra)
            .args(args)
            .current_dir(dir)
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .stdin(Stdio::null());
        without_git_env(&mut cmd);
        cmd.output().expect("git is needed by this test")
    }

    /// Runs git in `dir`; it must succeed. Returns trimmed stdout.
    fn git(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.git_raw(dir, args, &[]);
        assert!(out.status.success(), "git {args:?}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// `git init` of a non-bare repository named `name`.
    fn init(&self, name: &str) -> Repo<'_> {
        let dir = self.path(name);
        fs::create_dir_all(&dir).unwrap();
        self.git(&dir, &["init", "-q"]);
        Repo { lab: self, dir }
    }

    /// `git clone --mirror` of `from` (a bare repository with every ref).
    fn mirror(&self, from: &Path, name: &str) -> PathBuf {
        let to = self.path(name);
        let url = format!("file://{}", from.display());
        self.git(
            self.tmp.path(),
            &["clone", "-q", "--mirror", &url, to.to_str().unwrap()],
        );
        to
    }
}

struct Repo<'a> {
    lab: &'a Lab,
    dir: PathBuf,
}

impl Repo<'_> {
    fn git(&self, args: &[&str]) -> String {
        self.lab.git(&self.dir, args)
    }

    fn write(&self, path: &str, data: &[u8]) {
        let p = self.dir.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, data).unwrap();
    }

    fn remove(&self, path: &str) {
        fs::remove_file(self.dir.join(path)).unwrap();
    }

    /// Stages everything and commits as Test Author; returns the commit id.
    fn commit(&self, msg: &str) -> String {
        self.commit_as(msg, "Test Author", "test@example.com")
    }

    fn commit_as(&self, msg: &str, name: &str, email: &str) -> String {
        self.lab.tick();
        self.git(&["add", "-A"]);
        let user = format!("user.name={name}");
        let mail = format!("user.email={email}");
        let out = self.lab.git_raw(
            &self.dir,
            &["commit", "-q", "--allow-empty", "-m", msg],
            &["-c", &user, "-c", &mail],
        );
        assert!(out.status.success(), "git commit: {}", text(&out));
        self.git(&["rev-parse", "HEAD"])
    }

    fn rev(&self, rev: &str) -> String {
        self.git(&["rev-parse", "--verify", rev])
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// One run of `keyscan --format json history`.
struct Run {
    code: i32,
    json: Value,
    stderr: String,
}

impl Run {
    fn findings(&self) -> &Vec<Value> {
        support::findings(&self.json)
    }

    fn warnings(&self) -> Vec<String> {
        self.json["warnings"]
            .as_array()
            .expect("warnings array")
            .iter()
            .map(|w| w.as_str().unwrap().to_string())
            .collect()
    }

    fn locations(&self) -> BTreeSet<Loc> {
        self.findings().iter().map(Loc::of).collect()
    }
}

fn history(repo: &Path, args: &[&str]) -> Run {
    let mut all = vec!["--format", "json", "history", repo.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = support::keyscan(repo, &all, None);
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    Run {
        code: out.status.code().unwrap_or(-1),
        json,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `keyscan history` in human form: (exit code, stdout, stderr).
fn history_human(repo: &Path, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["history", repo.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = support::keyscan(repo, &all, None);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// One finding's location, as compared between runs and against git.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Loc {
    fingerprint: String,
    path: String,
    blob: String,
    commit: String,
    still_in: BTreeSet<String>,
}

impl Loc {
    fn of(f: &Value) -> Loc {
        let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
        Loc {
            fingerprint: s(&f["fingerprint"]),
            path: s(&f["path"]),
            blob: s(&f["blob"]),
            commit: s(&f["commit"]["id"]),
            still_in: f["still_in"]
                .as_array()
                .unwrap_or_else(|| panic!("still_in is a list: {f}"))
                .iter()
                .map(s)
                .collect(),
        }
    }
}

/// The location git says `commit` holds for `path`: its blob there, and the
/// refs whose tip holds that same blob at that path.
fn expect(repo: &Repo, fingerprint: &str, path: &str, commit: &str) -> Loc {
    let blob = repo.rev(&format!("{commit}:{path}"));
    Loc {
        fingerprint: fingerprint.to_string(),
        path: path.to_string(),
        blob: blob.clone(),
        commit: commit.to_string(),
        still_in: refs_holding(repo.lab, &repo.dir, path, &blob),
    }
}

/// Refs (as `git for-each-ref` names them) whose tip has `blob` at `path`.
fn refs_holding(lab: &Lab, dir: &Path, path: &str, blob: &str) -> BTreeSet<String> {
    lab.git(dir, &["for-each-ref", "--format=%(refname)"])
        .lines()
        .filter(|r| {
            let out = lab.git_raw(
                dir,
                &[
                    "rev-parse",
                    "--verify",
                    "-q",
                    &format!("{r}^{{tree}}:{path}"),
                ],
                &[],
            );
            String::from_utf8_lossy(&out.stdout).trim() == blob
        })
        .map(String::from)
        .collect()
}

/// Every file under `dir` with its size and modification time: what a
/// read-only scan must leave exactly as it was.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u64, std::time::SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let meta = fs::symlink_metadata(e.path()).unwrap();
            if meta.is_dir() {
                stack.push(e.path());
            }
            out.insert(e.path(), (meta.len(), meta.modified().unwrap()));
        }
    }
    out
}

/// Each finding's commit has the author, email and date git records.
fn assert_commit_details(lab: &Lab, dir: &Path, run: &Run) {
    for f in run.findings() {
        let id = f["commit"]["id"].as_str().unwrap();
        let want = lab.git(dir, &["log", "-1", "--format=%an%n%ae%n%aI", id]);
        let want: Vec<&str> = want.lines().collect();
        assert_eq!(f["commit"]["author"], want[0], "{f}");
        assert_eq!(f["commit"]["email"], want[1], "{f}");
        // Newer git writes UTC as `Z`, keyscan as `+00:00`: the same instant.
        let date = match want[2].strip_suffix('Z') {
            Some(t) => format!("{t}+00:00"),
            None => want[2].to_string(),
        };
        assert_eq!(f["commit"]["date"], date.as_str(), "{f}");
    }
}

/// A history holding keys in every way the spec names, and what git says
/// each finding must be.
struct Core<'a> {
    repo: Repo<'a>,
    expected: BTreeSet<Loc>,
    /// Named locations for the assertions that check one case by hand.
    named: BTreeMap<&'static str, Loc>,
}

fn build_core(lab: &Lab) -> Core<'_> {
    let repo = lab.init("core");
    let mut named = BTreeMap::new();
    let mut add = |name: &'static str, loc: Loc| {
        named.insert(name, loc);
    };

    // Added, then deleted.
    let (k_del, fp_del) = lab.key("deleted");
    repo.write("README", b"hello\n");
    repo.write("secrets/deleted.key", &k_del);
    let c_del = repo.commit_as("add a key", "Dana Deleter", "dana@example.com");
    add(
        "deleted",
        expect(&repo, &fp_del, "secrets/deleted.key", &c_del),
    );
    repo.remove("secrets/deleted.key");
    repo.commit("remove the key");

    // Renamed, then edited: three (blob, path) locations.
    let (k_ren, fp_ren) = lab.key("renamed");
    repo.write("old/id_ren", &k_ren);
    let c_ren_add = repo.commit("add renamed key");
    add("ren-old", expect(&repo, &fp_ren, "old/id_ren", &c_ren_add));
    fs::create_dir_all(repo.dir.join("new")).unwrap();
    repo.git(&["mv", "old/id_ren", "new/id_ren"]);
    let c_ren_mv = repo.commit_as("move it", "Rene Renamer", "rene@example.com");
    add("ren-moved", expect(&repo, &fp_ren, "new/id_ren", &c_ren_mv));
    let mut edited = k_ren.clone();
    edited.extend_from_slice(b"# do not use\n");
    repo.write("new/id_ren", &edited);
    let c_ren_edit = repo.commit("edit it");
    add(
        "ren-edited",
        expect(&repo, &fp_ren, "new/id_ren", &c_ren_edit),
    );

    // One key rotated for another at the same path and line.
    let (k_old, fp_old) = lab.key("old");
    let (k_new, fp_new) = lab.key("new");
    repo.write("conf.txt", b"base\n");
    repo.write("deploy/id_deploy", &k_old);
    let c_rot_old = repo.commit("deploy key");
    add(
        "rot-old",
        expect(&repo, &fp_old, "deploy/id_deploy", &c_rot_old),
    );
    repo.write("deploy/id_deploy", &k_new);
    let c_rot_new = repo.commit_as("rotate", "Rita Rotator", "rita@example.com");
    add(
        "rot-new",
        expect(&repo, &fp_new, "deploy/id_deploy", &c_rot_new),
    );
    let merge_base = c_rot_new.clone();

    // The same blob at many paths and commits.
    let (k_many, fp_many) = lab.key("many");
    repo.write("many/a.key", &k_many);
    repo.write("many/b/c.key", &k_many);
    let c_many1 = repo.commit("copies");
    add("many-a", expect(&repo, &fp_many, "many/a.key", &c_many1));
    add("many-c", expect(&repo, &fp_many, "many/b/c.key", &c_many1));
    repo.write("many/d.key", &k_many);
    repo.write("README", b"hello again\n");
    let c_many2 = repo.commit("another copy");
    add("many-d", expect(&repo, &fp_many, "many/d.key", &c_many2));
    repo.remove("many/a.key");
    repo.remove("many/d.key");
    repo.write("archive/a.key", &k_many);
    let c_many3 = repo.commit("archive");
    add(
        "many-archive",
        expect(&repo, &fp_many, "archive/a.key", &c_many3),
    );
    // Re-added later: its location still came in with c_many2.
    repo.write("many/d.key", &k_many);
    repo.commit("bring d back");

    // A path with spaces and non-ASCII.
    let (k_utf, fp_utf) = lab.key("utf");
    repo.write("dir with space/clé privée ü.key", &k_utf);
    let c_utf = repo.commit("unicode");
    add(
        "utf",
        expect(&repo, &fp_utf, "dir with space/clé privée ü.key", &c_utf),
    );

    // Only on an unmerged branch.
    let (k_feat, fp_feat) = lab.key("feature");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("feature/id_feat", &k_feat);
    let c_feat = repo.commit("feature key");
    repo.git(&["checkout", "-q", "main"]);

    // Only in an annotated tag and in a lightweight tag, on commits no
    // branch has.
    let (k_atag, fp_atag) = lab.key("annotated");
    repo.git(&["checkout", "-q", "--detach", "main"]);
    repo.write("tagged/annotated.key", &k_atag);
    let c_atag = repo.commit("annotated");
    lab.tick();
    repo.git(&["tag", "-a", "v1-secret", "-m", "release"]);
    repo.git(&["checkout", "-q", "main"]);
    let (k_ltag, fp_ltag) = lab.key("light");
    repo.git(&["checkout", "-q", "--detach", "main"]);
    repo.write("tagged/light.key", &k_ltag);
    let c_ltag = repo.commit("light");
    repo.git(&["tag", "light-secret"]);
    repo.git(&["checkout", "-q", "main"]);

    // A merge whose resolution holds a key neither parent had.
    let (k_merge, fp_merge) = lab.key("merge");
    repo.git(&["checkout", "-q", "-b", "side", &merge_base]);
    repo.write("conf.txt", b"side\n");
    repo.commit("side change");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("conf.txt", b"main\n");
    repo.commit("main change");
    lab.tick();
    let out = lab.git_raw(&repo.dir, &["merge", "-q", "side"], &[]);
    assert!(!out.status.success(), "the merge must conflict");
    repo.write("conf.txt", &k_merge);
    let c_merge = repo.commit_as("merge side", "Mia Merger", "mia@example.com");
    assert_eq!(
        repo.git(&["rev-list", "--parents", "-1", "HEAD"])
            .split(' ')
            .count(),
        3
    );

    // Only on an orphan branch.
    let (k_orphan, fp_orphan) = lab.key("orphan");
    repo.git(&["checkout", "-q", "--orphan", "orphan"]);
    repo.git(&["rm", "-rqf", "."]);
    repo.write("orphan.key", &k_orphan);
    let c_orphan = repo.commit("orphan");
    repo.git(&["checkout", "-q", "main"]);

    add(
        "feature",
        expect(&repo, &fp_feat, "feature/id_feat", &c_feat),
    );
    add(
        "annotated",
        expect(&repo, &fp_atag, "tagged/annotated.key", &c_atag),
    );
    add(
        "light",
        expect(&repo, &fp_ltag, "tagged/light.key", &c_ltag),
    );
    add("merge", expect(&repo, &fp_merge, "conf.txt", &c_merge));
    add("orphan", expect(&repo, &fp_orphan, "orphan.key", &c_orphan));

    // still_in was asked of git before later commits moved the refs: ask again.
    for loc in named.values_mut() {
        loc.still_in = refs_holding(lab, &repo.dir, &loc.path, &loc.blob);
    }
    let expected = named.values().cloned().collect();
    Core {
        repo,
        expected,
        named,
    }
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn core_history_every_location_with_its_commit_and_refs() {
    let lab = Lab::new();
    let core = build_core(&lab);
    let dir = &core.repo.dir;

    let before = snapshot(dir);
    let run = history(dir, &[]);
    assert_eq!(run.code, 1, "blocking findings exit 1: {}", run.stderr);
    let got = run.locations();
    assert_eq!(
        run.findings().len(),
        got.len(),
        "one finding per (blob, path) location"
    );
    assert_eq!(got, core.expected);
    assert_commit_details(&lab, dir, &run);

    // A few cases by hand, so that the oracle above is not the only check.
    let n = &core.named;
    assert!(n["deleted"].still_in.is_empty());
    assert!(n["ren-old"].still_in.is_empty());
    assert!(n["ren-moved"].still_in.is_empty(), "edited since");
    assert_eq!(
        n["ren-moved"].blob, n["ren-old"].blob,
        "a rename keeps the blob"
    );
    assert_ne!(n["ren-edited"].blob, n["ren-moved"].blob);
    assert!(n["ren-edited"].still_in.contains("refs/heads/main"));
    assert!(n["rot-old"].still_in.is_empty());
    assert_ne!(n["rot-old"].fingerprint, n["rot-new"].fingerprint);
    assert_ne!(n["rot-old"].commit, n["rot-new"].commit);
    assert_eq!(n["feature"].still_in, set(&["refs/heads/feature"]));
    assert_eq!(n["annotated"].still_in, set(&["refs/tags/v1-secret"]));
    assert_eq!(n["light"].still_in, set(&["refs/tags/light-secret"]));
    assert_eq!(n["orphan"].still_in, set(&["refs/heads/orphan"]));
    assert_eq!(n["merge"].still_in, set(&["refs/heads/main"]));
    assert_eq!(n["merge"].commit, core.repo.rev("main"));
    assert!(n["many-a"].still_in.is_empty());
    assert_eq!(n["many-a"].commit, n["many-c"].commit);
    assert_eq!(
        n["many-d"].commit,
        core.repo
            .git(&[
                "log",
                "--format=%H",
                "--reverse",
                "main",
                "--",
                "many/d.key"
            ])
            .lines()
            .next()
            .unwrap(),
        "the first commit that brought the blob to that path"
    );
    assert!(n["many-d"].still_in.contains("refs/heads/main"));
    let many: Vec<&Loc> = got
        .iter()
        .filter(|l| l.fingerprint == n["many-a"].fingerprint)
        .collect();
    assert_eq!(many.len(), 4, "one finding per path: {many:#?}");
    assert!(many.iter().all(|l| l.blob == n["many-a"].blob));
    for (name, author, email) in [
        ("deleted", "Dana Deleter", "dana@example.com"),
        ("ren-moved", "Rene Renamer", "rene@example.com"),
        ("rot-new", "Rita Rotator", "rita@example.com"),
        ("merge", "Mia Merger", "mia@example.com"),
    ] {
        let f = run
            .findings()
            .iter()
            .find(|f| Loc::of(f) == n[name])
            .unwrap();
        assert_eq!(f["commit"]["author"], author, "{name}");
        assert_eq!(f["commit"]["email"], email, "{name}");
    }
    // The rotated keys sit at the same line of the same file.
    for name in ["rot-old", "rot-new"] {
        let f = run
            .findings()
            .iter()
            .find(|f| Loc::of(f) == n[name])
            .unwrap();
        assert_eq!(f["line"], 1, "{name}");
    }
    for f in run.findings() {
        assert!(
            !f.to_string().contains("b3BlbnNzaC1rZXktdjEAAAAA"),
            "key body printed: {f}"
        );
    }

    // Human form: paths as the repository has them, a summary with the
    // distinct blob count git reports.
    let (code, stdout, _) = history_human(dir, &[]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("dir with space/clé privée ü.key"),
        "{stdout}"
    );
    assert!(!stdout.contains("\\303"), "octal-quoted path: {stdout}");
    assert!(
        !stdout.contains("b3BlbnNzaC1rZXktdjEAAAAA"),
        "key body printed"
    );
    let blobs_in_store = lab
        .git(
            dir,
            &[
                "cat-file",
                "--batch-all-objects",
                "--batch-check=%(objecttype)",
            ],
        )
        .lines()
        .filter(|t| *t == "blob")
        .count();
    assert!(
        stdout.contains(&format!("{blobs_in_store} distinct blobs")),
        "git has {blobs_in_store} blobs: {stdout}"
    );
    let blob_entries: usize = lab
        .git(dir, &["rev-list", "--all"])
        .lines()
        .map(|c| lab.git(dir, &["ls-tree", "-r", c]).lines().count())
        .sum();
    assert!(
        blobs_in_store < blob_entries,
        "shared blobs are counted once"
    );

    // Nothing in the repository changed.
    assert_eq!(snapshot(dir), before, "the scan wrote to the repository");
    assert_eq!(
        lab.git(dir, &["--no-optional-locks", "status", "--porcelain"]),
        ""
    );

    // The bare mirror holds the same refs and gives the same findings.
    let mirror = lab.mirror(dir, "core-mirror.git");
    let before = snapshot(&mirror);
    let bare = history(&mirror, &[]);
    assert_eq!(bare.code, 1, "{}", bare.stderr);
    assert_eq!(bare.locations(), got);
    assert_eq!(bare.findings().len(), run.findings().len());
    assert_commit_details(&lab, &mirror, &bare);
    assert_eq!(snapshot(&mirror), before, "the scan wrote to the mirror");
}

#[test]
fn stash_entries_are_scanned_including_older_ones() {
    let lab = Lab::new();
    let repo = lab.init("stash");
    repo.write("config.txt", b"nothing here\n");
    repo.commit("base");
    let (k1, fp1) = lab.key("stash1");
    let (k2, fp2) = lab.key("stash2");
    let (k3, fp3) = lab.key("stash3");

    repo.write("config.txt", &k1);
    lab.tick();
    repo.git(&["stash", "push", "-q", "-m", "first"]);
    repo.write("config.txt", &k2);
    repo.write("untracked.key", &k3);
    lab.tick();
    repo.git(&["stash", "push", "-q", "-u", "-m", "second"]);
    assert_eq!(lab.git(&repo.dir, &["status", "--porcelain"]), "");

    let run = history(&repo.dir, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let got = run.locations();
    let want: BTreeSet<Loc> = [
        Loc {
            still_in: set(&["stash@{1}"]),
            ..expect(&repo, &fp1, "config.txt", &repo.rev("stash@{1}"))
        },
        Loc {
            still_in: set(&["refs/stash"]),
            ..expect(&repo, &fp2, "config.txt", &repo.rev("stash@{0}"))
        },
    ]
    .into_iter()
    .collect();
    let (tracked, untracked): (BTreeSet<Loc>, BTreeSet<Loc>) =
        got.into_iter().partition(|l| l.fingerprint != fp3);
    assert_eq!(tracked, want);
    // Untracked files (`-u`) live in the stash's third parent.
    let untracked: Vec<Loc> = untracked.into_iter().collect();
    assert_eq!(untracked.len(), 1, "{untracked:#?}");
    let u = &untracked[0];
    let want_u = expect(&repo, &fp3, "untracked.key", &repo.rev("stash@{0}^3"));
    assert_eq!(
        (&u.path, &u.blob, &u.commit),
        (&want_u.path, &want_u.blob, &want_u.commit)
    );
    assert_commit_details(&lab, &repo.dir, &run);
}

#[test]
fn clean_history_exits_0_and_so_does_its_mirror() {
    let lab = Lab::new();
    let repo = lab.init("clean");
    repo.write("README", b"just text\n");
    repo.commit("one");
    // Looks like a key header, is not a key.
    repo.write(
        "docs/keys.md",
        b"Never commit -----BEGIN OPENSSH PRIVATE KEY----- blocks.\n",
    );
    repo.commit("two");
    let run = history(&repo.dir, &[]);
    assert_eq!(run.code, 0, "{:#}", run.json);
    assert!(run.findings().is_empty());
    let mirror = lab.mirror(&repo.dir, "clean.git");
    let bare = history(&mirror, &[]);
    assert_eq!(bare.code, 0, "{:#}", bare.json);
    let (code, stdout, _) = history_human(&repo.dir, &[]);
    assert_eq!(code, 0);
    assert!(stdout.contains("2 commits"), "{stdout}");
    // Not a terminal: no progress output, nothing on standard error.
    assert_eq!(run.stderr, "", "stderr of a clean, non-terminal run");
}

#[test]
fn empty_repository_exits_0() {
    let lab = Lab::new();
    let repo = lab.init("empty");
    let run = history(&repo.dir, &[]);
    assert_eq!(run.code, 0, "{:#} {}", run.json, run.stderr);
    assert!(run.findings().is_empty());
}

#[test]
fn not_a_repository_is_a_one_line_error() {
    let lab = Lab::new();
    let dir = lab.path("plain");
    fs::create_dir_all(&dir).unwrap();
    let out = Command::new(support::bin())
        .args(["history", dir.to_str().unwrap()])
        .current_dir(&dir)
        .env("GIT_CEILING_DIRECTORIES", lab.tmp.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("repository"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn ref_and_since_narrow_the_scan_and_say_so() {
    let lab = Lab::new();
    let repo = lab.init("narrow");
    let (k_early, fp_early) = lab.key("early");
    let (k_late, fp_late) = lab.key("late");
    let (k_feat, fp_feat) = lab.key("feat");
    repo.write("early.key", &k_early);
    let c_early = repo.commit("early");
    repo.remove("early.key");
    let c_cut = repo.commit("cut");
    repo.write("late.key", &k_late);
    let c_late = repo.commit("late");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("feat.key", &k_feat);
    let c_feat = repo.commit("feat");
    repo.git(&["checkout", "-q", "main"]);

    let fps = |run: &Run| -> BTreeSet<String> {
        run.locations().into_iter().map(|l| l.fingerprint).collect()
    };
    let all = history(&repo.dir, &[]);
    assert_eq!(fps(&all), set(&[&fp_early, &fp_late, &fp_feat]));
    let early = all
        .locations()
        .into_iter()
        .find(|l| l.fingerprint == fp_early)
        .unwrap();
    assert_eq!(early.commit, c_early);

    // --ref: only main's history.
    let main_only = history(&repo.dir, &["--ref", "main"]);
    assert_eq!(main_only.code, 1);
    assert_eq!(fps(&main_only), set(&[&fp_early, &fp_late]));
    let (_, stdout, _) = history_human(&repo.dir, &["--ref", "main"]);
    assert!(stdout.contains("scanned 1 of 2 refs (--ref)"), "{stdout}");
    assert!(stdout.contains("1 ref,"), "{stdout}");
    // HEAD (on main) names main.
    let head = history(&repo.dir, &["--ref", "HEAD"]);
    assert_eq!(head.code, 1, "{}", head.stderr);
    assert_eq!(fps(&head), fps(&main_only));
    // Full names work too, and are repeatable.
    let both = history(&repo.dir, &["--ref", "refs/heads/main", "--ref", "feature"]);
    assert_eq!(fps(&both), fps(&all));
    let feat = history(&repo.dir, &["--ref", "feature"]);
    let loc = feat
        .locations()
        .into_iter()
        .find(|l| l.fingerprint == fp_feat)
        .unwrap();
    assert_eq!(loc.commit, c_feat);
    // A ref that does not exist is an error, not an empty scan.
    let missing = support::keyscan(&repo.dir, &["history", ".", "--ref", "nope"], None);
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));

    // --since: what c_cut reaches is left out.
    let since = history(&repo.dir, &["--since", &c_cut]);
    assert_eq!(since.code, 1);
    assert_eq!(fps(&since), set(&[&fp_late, &fp_feat]));
    let late = since
        .locations()
        .into_iter()
        .find(|l| l.fingerprint == fp_late)
        .unwrap();
    assert_eq!(late.commit, c_late);
    let (_, stdout, _) = history_human(&repo.dir, &["--since", &c_cut]);
    assert!(
        stdout.contains(&format!(
            "left out 2 commits reachable from {c_cut} (--since)"
        )),
        "{stdout}"
    );
    // An annotated tag names the commit it tags.
    lab.tick();
    repo.git(&["tag", "-a", "cut-tag", "-m", "cut here", &c_cut]);
    let tagged = history(&repo.dir, &["--since", "cut-tag"]);
    assert_eq!(tagged.code, 1, "{}", tagged.stderr);
    assert_eq!(fps(&tagged), set(&[&fp_late, &fp_feat]));
    // Since the tip: nothing left to scan.
    let none = history(&repo.dir, &["--since", "feature"]);
    assert_eq!(none.code, 0, "{:#}", none.json);
}

#[test]
fn all_objects_finds_a_key_in_a_dangling_commit() {
    let lab = Lab::new();
    let repo = lab.init("dangling");
    repo.write("README", b"hello\n");
    repo.commit("base");
    let (k, fp) = lab.key("lost");
    repo.write("lost.key", &k);
    let c_lost = repo.commit_as("oops", "Olga Oops", "olga@example.com");
    let blob = repo.rev("HEAD:lost.key");
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);

    let default = history(&repo.dir, &[]);
    assert_eq!(default.code, 0, "{:#}", default.json);
    assert!(default.findings().is_empty());

    let before = snapshot(&repo.dir.join(".git"));
    let all = history(&repo.dir, &["--all-objects"]);
    assert_eq!(all.code, 1, "{}", all.stderr);
    let got: Vec<Loc> = all.locations().into_iter().collect();
    assert_eq!(
        got,
        vec![Loc {
            fingerprint: fp,
            path: "lost.key".into(),
            blob,
            commit: c_lost,
            still_in: BTreeSet::new(),
        }]
    );
    assert_commit_details(&lab, &repo.dir, &all);
    assert_eq!(snapshot(&repo.dir.join(".git")), before);

    // The same once gc has put the unreachable objects in a cruft pack.
    repo.git(&["gc", "-q", "--cruft", "--prune=never"]);
    let loose = repo.git(&["count-objects"]);
    assert!(loose.starts_with("0 objects"), "{loose}");
    let packed = history(&repo.dir, &["--all-objects"]);
    assert_eq!(packed.code, 1, "{}", packed.stderr);
    assert_eq!(packed.locations().into_iter().collect::<Vec<_>>(), got);
    assert_eq!(history(&repo.dir, &[]).code, 0);
}

#[test]
fn shallow_clone_notes_its_boundary() {
    let lab = Lab::new();
    let repo = lab.init("deep");
    let (k_old, _) = lab.key("old");
    let (k_kept, fp_kept) = lab.key("kept");
    let (k_tip, fp_tip) = lab.key("tip");
    repo.write("old.key", &k_old);
    repo.write("kept.key", &k_kept);
    let c_first = repo.commit("old");
    repo.remove("old.key");
    repo.commit("gone");
    repo.write("tip.key", &k_tip);
    let c_tip = repo.commit("tip");

    let shallow = lab.path("shallow");
    let url = format!("file://{}", repo.dir.display());
    lab.git(
        lab.tmp.path(),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            &url,
            shallow.to_str().unwrap(),
        ],
    );
    let run = history(&shallow, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let by_fp: BTreeMap<String, Loc> = run
        .locations()
        .into_iter()
        .map(|l| (l.fingerprint.clone(), l))
        .collect();
    // The deleted key is before the boundary; the kept one is in the
    // boundary commit's tree, which is all this clone knows of it.
    assert_eq!(by_fp.len(), 2, "{by_fp:#?}");
    assert_eq!(by_fp[&fp_tip].commit, c_tip);
    assert_eq!(by_fp[&fp_kept].commit, c_tip, "the boundary commit");
    assert_ne!(c_first, c_tip);
    assert!(by_fp[&fp_kept]
        .still_in
        .contains("refs/remotes/origin/main"));
    assert!(
        run.warnings().iter().any(|w| w.contains("shallow")),
        "{:?}",
        run.warnings()
    );
    let (_, stdout, _) = history_human(&shallow, &[]);
    assert!(stdout.contains("shallow clone"), "{stdout}");
}

/// Repositories missing a non-key blob: key findings are still reported,
/// the missing blob is an error, the exit code is 2.
fn assert_missing_reported(run: &Run, fp: &str, missing_blob: &str) {
    assert_eq!(run.code, 2, "{:#}\n{}", run.json, run.stderr);
    let fps: Vec<&str> = run
        .findings()
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(fps, vec![fp], "the key is still reported");
    let errors: Vec<String> = run
        .warnings()
        .into_iter()
        .filter(|w| w.starts_with("error:"))
        .collect();
    assert!(
        errors.iter().any(|e| e.contains(missing_blob)),
        "{errors:?}"
    );
    assert!(run.stderr.contains(missing_blob), "{}", run.stderr);
}

#[test]
fn blobless_partial_clone_exits_2_after_reporting_the_keys() {
    let lab = Lab::new();
    let repo = lab.init("origin");
    repo.git(&["config", "uploadpack.allowFilter", "true"]);
    repo.write("notes.txt", b"version one\n");
    repo.commit("one");
    let old_blob = repo.rev("HEAD:notes.txt");
    let (k, fp) = lab.key("tip");
    repo.write("notes.txt", b"version two\n");
    repo.write("tip.key", &k);
    repo.commit("two");

    let partial = lab.path("partial");
    let url = format!("file://{}", repo.dir.display());
    lab.git(
        lab.tmp.path(),
        &[
            "clone",
            "-q",
            "--filter=blob:none",
            &url,
            partial.to_str().unwrap(),
        ],
    );
    // The checkout fetched the tip's blobs; the older one is not here
    // (listing objects, unlike `cat-file -e`, fetches nothing).
    let listed = lab.git(
        &partial,
        &[
            "cat-file",
            "--batch-all-objects",
            "--batch-check=%(objectname)",
        ],
    );
    assert!(
        !listed.lines().any(|l| l == old_blob),
        "the old blob must be missing for this test"
    );

    let before = snapshot(&partial.join(".git"));
    let run = history(&partial, &[]);
    assert_missing_reported(&run, &fp, &old_blob);
    assert_eq!(
        snapshot(&partial.join(".git")),
        before,
        "nothing fetched, nothing written"
    );

    // A bare blobless mirror has no checkout, so no blob at all: every blob
    // is reported missing, and nothing else.
    let bare = lab.path("partial.git");
    lab.git(
        lab.tmp.path(),
        &[
            "clone",
            "-q",
            "--mirror",
            "--filter=blob:none",
            &url,
            bare.to_str().unwrap(),
        ],
    );
    let before = snapshot(&bare);
    let run = history(&bare, &[]);
    assert_eq!(run.code, 2, "{:#}\n{}", run.json, run.stderr);
    assert!(run.findings().is_empty());
    let tip_key = repo.rev("HEAD:tip.key");
    for blob in [&old_blob, &tip_key] {
        assert!(
            run.warnings().iter().any(|w| w.contains(blob.as_str())),
            "{blob} missing: {:?}",
            run.warnings()
        );
    }
    assert_eq!(snapshot(&bare), before, "nothing fetched, nothing written");
}

#[test]
fn damaged_repository_missing_a_loose_blob_exits_2() {
    let lab = Lab::new();
    let repo = lab.init("damaged");
    repo.write("notes.txt", b"soon to be lost\n");
    repo.commit("one");
    let lost = repo.rev("HEAD:notes.txt");
    let (k, fp) = lab.key("kept");
    repo.write("notes.txt", b"still here\n");
    repo.write("id_kept", &k);
    repo.commit("two");
    let object = repo
        .dir
        .join(".git/objects")
        .join(&lost[..2])
        .join(&lost[2..]);
    fs::remove_file(&object).expect("a loose object");

    let run = history(&repo.dir, &[]);
    assert_missing_reported(&run, &fp, &lost);
    // In the human report each missing blob is listed once.
    let (code, out, err) = history_human(&repo.dir, &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(
        format!("{out}{err}").matches(&lost).count(),
        1,
        "{out}{err}"
    );
}

#[test]
fn submodule_gitlinks_are_skipped_with_a_note() {
    let lab = Lab::new();
    let repo = lab.init("super");
    repo.write("README", b"hi\n");
    let base = repo.commit("base");
    // A gitlink to some commit, as `git submodule add` leaves it.
    repo.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{base},vendor/lib"),
    ]);
    lab.tick();
    repo.git(&["commit", "-q", "-m", "submodule"]);
    let run = history(&repo.dir, &[]);
    assert_eq!(run.code, 0, "{:#}\n{}", run.json, run.stderr);
    assert!(
        run.warnings().iter().any(|w| w.contains("submodule")),
        "{:?}",
        run.warnings()
    );
}

#[test]
fn keys_in_binary_blobs_and_odd_paths_are_found() {
    let lab = Lab::new();
    let repo = lab.init("binary");
    let (k_nul, fp_nul) = lab.key("nul");
    let (k_bad, fp_bad) = lab.key("bad");
    let mut nul = b"\x00\x01\x02binary header\x00\x00\n".to_vec();
    nul.extend_from_slice(&k_nul);
    nul.extend_from_slice(b"\x00trailer\xff\n");
    repo.write("blob.bin", &nul);
    let mut bad = b"caf\xe9 \xff\xfe not utf-8\n".to_vec();
    bad.extend_from_slice(&k_bad);
    repo.write("latin1.txt", &bad);
    let c = repo.commit("binary");
    let run = history(&repo.dir, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let got = run.locations();
    let want: BTreeSet<Loc> = [
        expect(&repo, &fp_nul, "blob.bin", &c),
        expect(&repo, &fp_bad, "latin1.txt", &c),
    ]
    .into_iter()
    .collect();
    assert_eq!(got, want);
}

#[cfg(unix)]
#[test]
fn invalid_utf8_path_does_not_break_the_scan() {
    use std::os::unix::ffi::OsStrExt;
    let lab = Lab::new();
    let repo = lab.init("badpath");
    let (k, fp) = lab.key("k");
    let name = std::ffi::OsStr::from_bytes(b"id_\xff\xfe.key");
    fs::write(repo.dir.join(name), &k).unwrap();
    let c = repo.commit("odd name");
    let run = history(&repo.dir, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let got: Vec<Loc> = run.locations().into_iter().collect();
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0].fingerprint, fp);
    assert_eq!(got[0].commit, c);
    assert!(got[0].path.starts_with("id_"), "{}", got[0].path);
}

#[test]
fn other_ref_namespaces_detached_head_notes_and_tags_on_blobs() {
    let lab = Lab::new();
    let repo = lab.init("refs");
    repo.write("README", b"hi\n");
    let base = repo.commit("base");

    // A pull-request ref, as a hosting service's mirror has them.
    let (k_pr, fp_pr) = lab.key("pr");
    repo.git(&["checkout", "-q", "--detach", &base]);
    repo.write("pr.key", &k_pr);
    let c_pr = repo.commit("pr");
    repo.git(&["update-ref", "refs/pull/7/head", &c_pr]);

    // A tag that points straight at a blob: the ref name is its only path.
    let (k_blob, fp_blob) = lab.key("blobtag");
    fs::write(lab.path("blobtag.key"), &k_blob).unwrap();
    let blob = repo.git(&[
        "hash-object",
        "-w",
        lab.path("blobtag.key").to_str().unwrap(),
    ]);
    repo.git(&["tag", "raw-key", &blob]);

    // A note on the base commit.
    let (k_note, fp_note) = lab.key("note");
    fs::write(lab.path("note.txt"), &k_note).unwrap();
    lab.tick();
    repo.git(&[
        "notes",
        "add",
        "-F",
        lab.path("note.txt").to_str().unwrap(),
        &base,
    ]);

    // Detached HEAD on a commit no ref has.
    let (k_head, fp_head) = lab.key("head");
    repo.git(&["checkout", "-q", "--detach", &base]);
    repo.write("head.key", &k_head);
    let c_head = repo.commit("detached");

    let run = history(&repo.dir, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let by_fp: BTreeMap<String, Loc> = run
        .locations()
        .into_iter()
        .map(|l| (l.fingerprint.clone(), l))
        .collect();
    assert_eq!(by_fp.len(), 4, "{by_fp:#?}");
    assert_eq!(by_fp[&fp_pr].commit, c_pr);
    assert_eq!(by_fp[&fp_pr].still_in, set(&["refs/pull/7/head"]));
    assert_eq!(by_fp[&fp_blob].blob, blob);
    assert!(
        by_fp[&fp_blob].path.contains("raw-key"),
        "{:?}",
        by_fp[&fp_blob]
    );
    let notes = repo.rev("refs/notes/commits");
    assert_eq!(by_fp[&fp_note].commit, notes);
    assert_eq!(
        by_fp[&fp_note].path, base,
        "notes are stored under the commit id"
    );
    assert_eq!(by_fp[&fp_head].commit, c_head);
    assert_eq!(by_fp[&fp_head].still_in, set(&["HEAD"]));
}

#[test]
fn packed_deltas_loose_objects_and_alternates() {
    let lab = Lab::new();
    let repo = lab.init("packed");
    // Many small edits of one key file: after an aggressive repack most
    // versions are deltas of each other.
    let (k, fp) = lab.key("delta");
    let mut commits = Vec::new();
    for i in 0..12 {
        let mut data = k.clone();
        data.extend_from_slice(format!("# revision {i}\n").as_bytes());
        repo.write("ops/id_delta", &data);
        commits.push(repo.commit(&format!("rev {i}")));
    }
    repo.git(&[
        "repack",
        "-q",
        "-a",
        "-d",
        "-f",
        "--depth=50",
        "--window=50",
    ]);
    // A second pack on top of the first (an incremental repack packs only
    // the loose objects), then one commit left loose.
    let (k_pack2, fp_pack2) = lab.key("pack2");
    repo.write("deep/er/pack2.key", &k_pack2);
    let c_pack2 = repo.commit("second pack");
    repo.git(&["repack", "-q", "-d"]);
    let packs = std::fs::read_dir(repo.dir.join(".git/objects/pack"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension() == Some("pack".as_ref()))
        .count();
    assert_eq!(packs, 2);
    let (k_loose, fp_loose) = lab.key("loose");
    repo.write("loose.key", &k_loose);
    let c_loose = repo.commit("loose");

    let run = history(&repo.dir, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let want: BTreeSet<Loc> = commits
        .iter()
        .map(|c| expect(&repo, &fp, "ops/id_delta", c))
        .chain([
            expect(&repo, &fp_pack2, "deep/er/pack2.key", &c_pack2),
            expect(&repo, &fp_loose, "loose.key", &c_loose),
        ])
        .collect();
    assert_eq!(run.locations(), want);

    // A clone that borrows its objects from this one (alternates) finds the same.
    let shared = lab.path("shared");
    lab.git(
        lab.tmp.path(),
        &[
            "clone",
            "-q",
            "--shared",
            repo.dir.to_str().unwrap(),
            shared.to_str().unwrap(),
        ],
    );
    assert!(shared.join(".git/objects/info/alternates").is_file());
    let borrowed = history(&shared, &["--ref", "main"]);
    assert_eq!(borrowed.code, 1, "{}", borrowed.stderr);
    let paths_commits = |run: &Run| -> BTreeSet<(String, String, String)> {
        run.locations()
            .into_iter()
            .map(|l| (l.fingerprint, l.path, l.commit))
            .collect()
    };
    assert_eq!(paths_commits(&borrowed), paths_commits(&run));
}

#[test]
fn linked_worktree_is_the_same_repository() {
    let lab = Lab::new();
    let repo = lab.init("withwt");
    let (k, fp) = lab.key("wt");
    repo.write("README", b"hi\n");
    repo.commit("base");
    let linked = lab.path("linked");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "wt",
        linked.to_str().unwrap(),
    ]);
    fs::write(linked.join("wt.key"), &k).unwrap();
    let linked_repo = Repo {
        lab: &lab,
        dir: linked.clone(),
    };
    let c = linked_repo.commit("in the linked worktree");
    let before = snapshot(&repo.dir.join(".git"));
    for dir in [&repo.dir, &linked] {
        let run = history(dir, &[]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        let got: Vec<Loc> = run.locations().into_iter().collect();
        assert_eq!(got.len(), 1, "{got:#?}");
        assert_eq!(got[0].fingerprint, fp);
        assert_eq!(got[0].commit, c);
        assert!(got[0].still_in.contains("refs/heads/wt"), "{:?}", got[0]);
    }
    assert_eq!(snapshot(&repo.dir.join(".git")), before);

    // A commit on a detached HEAD of one worktree is reachable (git gc keeps
    // it, `git rev-list --all` lists it): found from either worktree.
    let (k_det, fp_det) = lab.key("detached");
    linked_repo.git(&["checkout", "-q", "--detach"]);
    fs::write(linked.join("detached.key"), &k_det).unwrap();
    let c_det = linked_repo.commit("on a detached HEAD");
    let (k_main, fp_main) = lab.key("main-detached");
    repo.git(&["checkout", "-q", "--detach"]);
    repo.write("main-detached.key", &k_main);
    let c_main = repo.commit("detached in the main worktree");
    for (dir, det_ref, main_ref) in [
        (&repo.dir, "worktrees/linked/HEAD", "HEAD"),
        (&linked, "HEAD", "main-worktree/HEAD"),
    ] {
        let run = history(dir, &[]);
        let by_fp: BTreeMap<String, Loc> = run
            .locations()
            .into_iter()
            .map(|l| (l.fingerprint.clone(), l))
            .collect();
        assert_eq!(by_fp.len(), 3, "from {}: {by_fp:#?}", dir.display());
        assert_eq!(by_fp[&fp_det].commit, c_det);
        assert_eq!(by_fp[&fp_det].still_in, set(&[det_ref]));
        assert_eq!(by_fp[&fp_main].commit, c_main);
        assert_eq!(by_fp[&fp_main].still_in, set(&[main_ref]));
    }
}

#[test]
fn all_objects_reports_a_blob_no_commit_holds() {
    let lab = Lab::new();
    let repo = lab.init("lostblob");
    repo.write("README", b"hi\n");
    repo.commit("base");
    let (k, fp) = lab.key("staged");
    repo.write("staged.key", &k);
    repo.git(&["add", "staged.key"]);
    let blob = repo.git(&["rev-parse", ":staged.key"]);
    repo.git(&["rm", "-q", "--cached", "staged.key"]);
    repo.remove("staged.key");

    let default = history(&repo.dir, &[]);
    assert_eq!(default.code, 0, "{:#}", default.json);
    let all = history(&repo.dir, &["--all-objects"]);
    assert_eq!(all.code, 1, "{}", all.stderr);
    let got: Vec<Loc> = all.locations().into_iter().collect();
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0].fingerprint, fp);
    assert_eq!(got[0].blob, blob);
    assert!(got[0].commit.is_empty(), "no commit holds it: {:?}", got[0]);
    assert!(got[0].path.contains(&blob), "{:?}", got[0]);
}

#[test]
fn corrupt_loose_object_exits_2_after_reporting_the_rest() {
    let lab = Lab::new();
    let repo = lab.init("corrupt");
    repo.write("notes.txt", b"will be garbled\n");
    repo.commit("one");
    let bad = repo.rev("HEAD:notes.txt");
    let (k, fp) = lab.key("kept");
    repo.write("id_kept", &k);
    repo.commit("two");
    let object = repo
        .dir
        .join(".git/objects")
        .join(&bad[..2])
        .join(&bad[2..]);
    let mut perms = fs::metadata(&object).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    fs::set_permissions(&object, perms).unwrap();
    fs::write(&object, b"this is not zlib data").unwrap();

    let run = history(&repo.dir, &[]);
    assert_eq!(run.code, 2, "{:#}\n{}", run.json, run.stderr);
    let fps: Vec<&str> = run
        .findings()
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(fps, vec![fp.as_str()]);
    assert!(
        run.warnings().iter().any(|w| w.starts_with("error:")),
        "{:?}",
        run.warnings()
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn merged_keys_keep_their_branch_commit_and_first_means_earliest() {
    let lab = Lab::new();
    let repo = lab.init("order");
    repo.write("README", b"hi\n");
    let base = repo.commit("base");
    let (k, fp) = lab.key("shared");

    // A key merged in without conflict belongs to the branch's commit.
    repo.git(&["checkout", "-q", "-b", "topic"]);
    repo.write("topic.key", &k);
    let c_topic = repo.commit("topic key");
    repo.git(&["checkout", "-q", "main"]);
    lab.tick();
    repo.git(&["merge", "-q", "--no-ff", "-m", "merge topic", "topic"]);

    // The same blob at the same path, committed later on another branch but
    // dated earlier (and in another time zone): the earliest is the first.
    repo.git(&["checkout", "-q", "-b", "backdated", &base]);
    let now = lab.clock.get();
    lab.clock.set(now - 86_400);
    lab.tz.set("+0530");
    repo.write("topic.key", &k);
    let c_early = repo.commit("same key, earlier date");
    lab.clock.set(now);
    lab.tz.set("+0000");
    repo.git(&["checkout", "-q", "main"]);

    let run = history(&repo.dir, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let got: Vec<Loc> = run.locations().into_iter().collect();
    assert_eq!(got.len(), 1, "one (blob, path) location: {got:#?}");
    assert_eq!(got[0].fingerprint, fp);
    assert_eq!(got[0].commit, c_early);
    assert_eq!(
        got[0].still_in,
        set(&[
            "refs/heads/backdated",
            "refs/heads/main",
            "refs/heads/topic"
        ])
    );
    assert!(run.findings()[0]["commit"]["date"]
        .as_str()
        .unwrap()
        .ends_with("+05:30"));
    assert_commit_details(&lab, &repo.dir, &run);

    // Without the backdated branch, the topic commit (not the merge) brought it.
    let main_only = history(&repo.dir, &["--ref", "main"]);
    let got: Vec<Loc> = main_only.locations().into_iter().collect();
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0].commit, c_topic);
}

#[test]
fn staged_key_in_a_stash_belongs_to_its_index_commit() {
    let lab = Lab::new();
    let repo = lab.init("stashidx");
    repo.write("README", b"hi\n");
    repo.commit("base");
    let (k, fp) = lab.key("staged");
    repo.write("staged.key", &k);
    repo.git(&["add", "staged.key"]);
    lab.tick();
    repo.git(&["stash", "push", "-q"]);
    let run = history(&repo.dir, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let got: Vec<Loc> = run.locations().into_iter().collect();
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0].fingerprint, fp);
    assert_eq!(got[0].commit, repo.rev("stash@{0}^2"), "the index commit");
    assert_eq!(got[0].still_in, set(&["refs/stash"]));
}

#[test]
fn empty_bare_repository_exits_0() {
    let lab = Lab::new();
    let dir = lab.path("empty.git");
    fs::create_dir_all(&dir).unwrap();
    lab.git(&dir, &["init", "-q", "--bare"]);
    let before = snapshot(&dir);
    let run = history(&dir, &[]);
    assert_eq!(run.code, 0, "{:#} {}", run.json, run.stderr);
    assert!(run.findings().is_empty());
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn two_keys_in_one_blob_are_two_findings_at_one_location() {
    let lab = Lab::new();
    let repo = lab.init("twokeys");
    let (k1, fp1) = lab.key("one");
    let (k2, fp2) = lab.key("two");
    let mut both = k1.clone();
    both.extend_from_slice(b"\n");
    both.extend_from_slice(&k2);
    repo.write("keys.txt", &both);
    let c = repo.commit("two keys");
    let run = history(&repo.dir, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let want: BTreeSet<Loc> = [fp1, fp2]
        .iter()
        .map(|fp| expect(&repo, fp, "keys.txt", &c))
        .collect();
    assert_eq!(run.locations(), want);
    assert_eq!(run.findings().len(), 2);
}

#[test]
fn treeless_partial_clone_exits_2_after_reporting_the_tip() {
    let lab = Lab::new();
    let repo = lab.init("origin");
    repo.git(&["config", "uploadpack.allowFilter", "true"]);
    repo.write("dir/notes.txt", b"version one\n");
    repo.commit("one");
    repo.write("dir/notes.txt", b"version two\n");
    repo.commit("two");
    let (k, fp) = lab.key("tip");
    repo.write("tip.key", &k);
    let c_tip = repo.commit("three");

    let partial = lab.path("treeless");
    let url = format!("file://{}", repo.dir.display());
    lab.git(
        lab.tmp.path(),
        &[
            "clone",
            "-q",
            "--filter=tree:0",
            &url,
            partial.to_str().unwrap(),
        ],
    );
    let before = snapshot(&partial.join(".git"));
    let run = history(&partial, &[]);
    assert_eq!(run.code, 2, "{:#}\n{}", run.json, run.stderr);
    let got: Vec<Loc> = run.locations().into_iter().collect();
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0].fingerprint, fp);
    assert_eq!(got[0].commit, c_tip);
    assert!(run.warnings().iter().any(|w| w.starts_with("error:")));
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert_eq!(snapshot(&partial.join(".git")), before, "nothing fetched");
}

#[test]
fn bad_arguments_are_one_line_errors() {
    let lab = Lab::new();
    let repo = lab.init("args");
    repo.write("README", b"hi\n");
    repo.commit("base");
    let missing = lab.path("does-not-exist");
    for args in [
        vec!["history", missing.to_str().unwrap()],
        vec!["history", ".", "--since", "no-such-rev"],
        vec!["history", ".", "--ref", "no-such-ref"],
    ] {
        let out = support::keyscan(&repo.dir, &args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn human_report_groups_locations_by_fingerprint() {
    let lab = Lab::new();
    let repo = lab.init("group");
    let (k, fp) = lab.key("grouped");
    repo.write("a/id", &k);
    repo.write("b/id", &k);
    repo.commit_as("two copies", "Gina Grouper", "gina@example.com");
    repo.remove("a/id");
    repo.commit("one left");
    let (code, stdout, _) = history_human(&repo.dir, &[]);
    assert_eq!(code, 1);
    // The findings part names the key once (the advice may repeat it in
    // an allowlist snippet).
    let findings = stdout.split("What to do:").next().unwrap();
    assert_eq!(findings.matches(fp.as_str()).count(), 1, "{stdout}");
    assert!(stdout.contains("2 locations"), "{stdout}");
    assert!(stdout.contains("first committed"), "{stdout}");
    assert!(stdout.contains("Gina Grouper"), "{stdout}");
    assert!(stdout.contains("still in"), "{stdout}");
}

#[test]
fn quotes_tabs_and_backslashes_in_paths_are_kept_as_is() {
    let lab = Lab::new();
    let repo = lab.init("quoting");
    let (k, fp) = lab.key("q");
    let path = "we\"ird\tname\\with back.key";
    repo.write(path, &k);
    let c = repo.commit("odd characters");
    let run = history(&repo.dir, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let want: BTreeSet<Loc> = [expect(&repo, &fp, path, &c)].into_iter().collect();
    assert_eq!(run.locations(), want);
    // For people a tab is escaped like every control character.
    let (_, stdout, _) = history_human(&repo.dir, &[]);
    assert!(stdout.contains(&path.replace('\t', r"\x09")), "{stdout}");
}

#[test]
fn nested_annotated_tags_are_followed() {
    let lab = Lab::new();
    let repo = lab.init("nested");
    repo.write("README", b"hi\n");
    let base = repo.commit("base");
    let (k, fp) = lab.key("nested");
    repo.git(&["checkout", "-q", "--detach", &base]);
    repo.write("tagged.key", &k);
    let c = repo.commit("tagged");
    lab.tick();
    repo.git(&["tag", "-a", "inner", "-m", "inner"]);
    repo.git(&["tag", "-a", "outer", "-m", "outer", "inner"]);
    repo.git(&["tag", "-d", "inner"]);
    repo.git(&["checkout", "-q", "main"]);
    let run = history(&repo.dir, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let got: Vec<Loc> = run.locations().into_iter().collect();
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0].fingerprint, fp);
    assert_eq!(got[0].commit, c);
    assert_eq!(got[0].still_in, set(&["refs/tags/outer"]));
}

#[test]
fn a_baseline_of_old_keys_lets_the_gate_pass_until_a_new_key_comes() {
    let lab = Lab::new();
    let repo = lab.init("baseline");
    let (old, old_fp) = lab.key("old");
    repo.write("deploy/old.pem", &old);
    repo.commit("an old leak, since rotated");
    let baseline = lab.tmp.path().join("baseline.json");
    let written = history(&repo.dir, &["--write-baseline", baseline.to_str().unwrap()]);
    assert_eq!(written.code, 0, "{}", written.stderr);
    let text = std::fs::read_to_string(&baseline).unwrap();
    assert!(text.contains(&old_fp), "{text}");
    assert!(text.contains("deploy/old.pem"), "{text}");
    assert!(!text.contains("PRIVATE KEY"), "no key material: {text}");

    let known = history(&repo.dir, &["--baseline", baseline.to_str().unwrap()]);
    assert_eq!(known.code, 0, "{}", known.stderr);
    assert!(known.findings().is_empty());

    // The known key copied elsewhere passes, unless strict.
    repo.write("copy/old.pem", &old);
    repo.commit("copied");
    let copied = history(&repo.dir, &["--baseline", baseline.to_str().unwrap()]);
    assert_eq!(copied.code, 0, "{}", copied.stderr);
    let strict = history(
        &repo.dir,
        &[
            "--baseline",
            baseline.to_str().unwrap(),
            "--baseline-strict",
        ],
    );
    assert_eq!(strict.code, 1, "{}", strict.stderr);

    let (new, new_fp) = lab.key("new");
    repo.write("deploy/new.pem", &new);
    repo.commit("a new leak");
    let gated = history(&repo.dir, &["--baseline", baseline.to_str().unwrap()]);
    assert_eq!(gated.code, 1, "{}", gated.stderr);
    let fps: BTreeSet<String> = gated
        .findings()
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(fps, [new_fp].into_iter().collect());
}

#[test]
fn a_tag_on_a_tree_is_scanned_and_attributed_to_the_tag() {
    let lab = Lab::new();
    let repo = lab.init("tree-tag");
    repo.write("README", b"hi\n");
    repo.commit("base");
    let (k, fp) = lab.key("treetagged");
    repo.write("secret/id.pem", &k);
    repo.git(&["add", "secret/id.pem"]);
    let tree = repo.git(&["write-tree"]);
    repo.git(&["tag", "snapshot", tree.trim()]);
    repo.git(&["reset", "-q", "--hard"]);
    let run = history(&repo.dir, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let f = run
        .findings()
        .iter()
        .find(|f| f["fingerprint"] == fp.as_str())
        .expect("the key in the tagged tree is found");
    assert_eq!(f["path"], "secret/id.pem");
    assert_eq!(f["still_in"], serde_json::json!(["refs/tags/snapshot"]));
}

#[test]
fn a_tag_chain_deeper_than_64_is_an_error_naming_the_ref() {
    let lab = Lab::new();
    let repo = lab.init("deep-tags");
    repo.write("README", b"hi\n");
    repo.commit("base");
    let (k, _) = lab.key("deep");
    repo.git(&["checkout", "-q", "--detach"]);
    repo.write("tagged.key", &k);
    repo.commit("tagged");
    // 65 annotated tags, each on the previous one; only the last is kept.
    repo.git(&["tag", "-a", "t1", "-m", "t"]);
    for n in 2..=65 {
        let (name, prev) = (format!("t{n}"), format!("t{}", n - 1));
        repo.git(&["tag", "-a", &name, "-m", "t", &prev]);
        repo.git(&["tag", "-d", &prev]);
    }
    repo.git(&["checkout", "-q", "main"]);
    let run = history(&repo.dir, &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("refs/tags/t65"), "{}", run.stderr);
    assert!(
        run.stderr.contains("more than 64 annotated tags"),
        "{}",
        run.stderr
    );
}

#[test]
fn keys_in_commit_and_tag_messages_are_found_by_their_object() {
    let lab = Lab::new();
    let repo = lab.init("messages");
    repo.write("README", b"hi\n");
    repo.commit("base");
    let (ck, cfp) = lab.key("in-commit");
    let (tk, tfp) = lab.key("in-tag");
    let c = repo.commit(std::str::from_utf8(&ck).unwrap());
    lab.tick();
    let msg = lab.path("tag-msg");
    fs::write(&msg, &tk).unwrap();
    repo.git(&["tag", "-a", "v1", "-F", msg.to_str().unwrap()]);
    let tag = repo.rev("refs/tags/v1");
    let run = history(&repo.dir, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let of = |fp: &str| {
        run.findings()
            .iter()
            .find(|f| f["fingerprint"] == fp)
            .unwrap_or_else(|| panic!("{fp} not found: {:#?}", run.findings()))
            .clone()
    };
    let f = of(&cfp);
    assert_eq!(f["path"], format!("(message of commit {c})"));
    assert_eq!(f["commit"]["id"], c.as_str());
    let still: BTreeSet<&str> = f["still_in"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(still.contains("refs/heads/main"), "{f}");
    let f = of(&tfp);
    assert_eq!(f["path"], format!("(message of tag {tag})"));
    assert_eq!(f["still_in"], serde_json::json!(["refs/tags/v1"]));
    assert!(!run.json.to_string().contains(body_of(&ck)));
}

/// A line of a key's body, to check it is never printed.
fn body_of(key: &[u8]) -> &str {
    std::str::from_utf8(key).unwrap().lines().nth(2).unwrap()
}

#[test]
fn a_tree_50000_levels_deep_does_not_overflow_the_stack() {
    use sha1::{Digest, Sha1};
    use std::io::Write;
    let lab = Lab::new();
    let repo = lab.init("deep-tree");
    repo.write("README", b"hi\n");
    repo.commit("base");
    let (k, fp) = lab.key("deep");
    let key_file = lab.path("deep.key");
    fs::write(&key_file, &k).unwrap();
    let blob = repo.git(&["hash-object", "-w", key_file.to_str().unwrap()]);
    let unhex = |h: &str| -> Vec<u8> {
        (0..h.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
            .collect()
    };
    // d/d/.../d/id.pem, 50,000 trees deep, sent to `git index-pack` as one
    // pack of whole objects (zlib "stored" blocks: no compression needed).
    let zlib = |data: &[u8]| -> Vec<u8> {
        let mut out = vec![0x78, 0x01, 0x01];
        let len = data.len() as u16;
        out.extend(len.to_le_bytes());
        out.extend((!len).to_le_bytes());
        out.extend(data);
        let (mut a, mut b) = (1u32, 0u32);
        for &x in data {
            a = (a + x as u32) % 65521;
            b = (b + a) % 65521;
        }
        out.extend(((b << 16) | a).to_be_bytes());
        out
    };
    let levels = 50_000u32;
    let mut pack = b"PACK".to_vec();
    pack.extend(2u32.to_be_bytes());
    pack.extend(levels.to_be_bytes());
    let mut content = b"100644 id.pem\0".to_vec();
    content.extend(unhex(&blob));
    let mut top = String::new();
    for _ in 0..levels {
        // Object header: type 2 (tree), size in 4 + 7-bit groups.
        let size = content.len();
        pack.push(0x80 | (2 << 4) | (size & 0x0f) as u8);
        pack.push((size >> 4) as u8);
        pack.extend(zlib(&content));
        let mut h = Sha1::new();
        h.update(format!("tree {size}\0").as_bytes());
        h.update(&content);
        let id = h.finalize().to_vec();
        top = id.iter().map(|b| format!("{b:02x}")).collect();
        content = b"40000 d\0".to_vec();
        content.extend(id);
    }
    let sum = Sha1::digest(&pack).to_vec();
    pack.extend(sum);
    let mut cmd = Command::new("git");
    cmd.args(GIT_CONFIG)
        .args(["index-pack", "--stdin"])
        .current_dir(&repo.dir)
        .env("HOME", &lab.home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    without_git_env(&mut cmd);
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&pack));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let commit = repo.git(&["commit-tree", &top, "-p", "HEAD", "-m", "deep"]);
    repo.git(&["update-ref", "refs/heads/deep", &commit]);
    let run = history(&repo.dir, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let f = &run.findings()[0];
    assert_eq!(f["fingerprint"], fp.as_str());
    let path = f["path"].as_str().unwrap();
    assert!(
        path.starts_with("d/d/") && path.ends_with("/d/id.pem"),
        "{}",
        &path[..80]
    );
    assert_eq!(path.len(), 49_999 * 2 + "id.pem".len());
}

#[test]
fn a_tag_on_a_blob_still_holds_it() {
    let lab = Lab::new();
    let repo = lab.init("blob-tag");
    repo.write("README", b"hi\n");
    repo.commit("base");
    let (k, fp) = lab.key("raw");
    fs::write(lab.path("raw.key"), &k).unwrap();
    let blob = repo.git(&["hash-object", "-w", lab.path("raw.key").to_str().unwrap()]);
    repo.git(&["tag", "-a", "-m", "a key", "raw", &blob]);
    let run = history(&repo.dir, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let f = run
        .findings()
        .iter()
        .find(|f| f["fingerprint"] == fp.as_str())
        .expect("found");
    assert_eq!(f["still_in"], serde_json::json!(["refs/tags/raw"]));
    let (code, out, _) = history_human(&repo.dir, &[]);
    assert_eq!(code, 1);
    assert!(!out.contains("(deleted)"), "{out}");
    let sarif = support::keyscan(&repo.dir, &["--format", "sarif", "history", "."], None);
    let sarif = String::from_utf8_lossy(&sarif.stdout);
    assert!(!sarif.contains("no branch tip holds it"), "{sarif}");
}

/// Named by id, path and size wherever git keeps it: loose, in a pack with
/// other objects, alone in a pack of its own (as `git add` writes a file
/// over core.bigFileThreshold), and as the base of a delta, whose child is
/// then skipped too (reading it would inflate the base).
#[test]
fn a_blob_over_the_size_limit_is_named_as_skipped() {
    let lab = Lab::new();
    let repo = lab.init("big-blob");
    let big = "0123456789abcdef\n".repeat(256);
    repo.write("big.txt", big.as_bytes());
    repo.write(".keyscan.toml", b"[policy]\nmax_file_size = \"1KB\"\n");
    repo.commit("big");
    let blob = repo.rev("HEAD:big.txt");
    let named = |run: &Run| {
        let line = format!(
            "blob {blob} (big.txt, {} bytes) is over the 1024 byte limit",
            big.len()
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(
            run.warnings().iter().any(|w| w.contains(&line)),
            "{:?}",
            run.warnings()
        );
    };
    named(&history(&repo.dir, &[]));
    repo.git(&["repack", "-adq"]);
    named(&history(&repo.dir, &[]));

    // Alone in its own pack, as the pack's first object.
    let lab = Lab::new();
    let repo2 = lab.init("own-pack");
    repo2.write(".keyscan.toml", b"[policy]\nmax_file_size = \"1KB\"\n");
    repo2.write("big.txt", big.as_bytes());
    repo2.git(&["-c", "core.bigFileThreshold=1k", "add", "big.txt"]);
    repo2.commit("big");
    let packs = std::fs::read_dir(repo2.dir.join(".git/objects/pack"))
        .unwrap()
        .count();
    assert!(packs >= 2, "git add did not write a pack");
    let run = history(&repo2.dir, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.warnings()
            .iter()
            .any(|w| w.contains(&format!("blob {blob} (big.txt, "))),
        "{:?}",
        run.warnings()
    );

    // A key next to them is still found.
    let (key, fp) = lab.key("k");
    repo2.write("k", &key);
    repo2.commit("key");
    repo2.git(&["repack", "-adq"]);
    let run = history(&repo2.dir, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.json.to_string().contains(&fp), "{}", run.json);
}

/// A second version of a big file, packed as a delta of the first: both
/// are named, neither is inflated, and nothing else is lost.
#[test]
fn a_delta_of_a_blob_over_the_limit_is_named_too() {
    let lab = Lab::new();
    let repo = lab.init("big-delta");
    repo.write(".keyscan.toml", b"[policy]\nmax_file_size = \"2KB\"\n");
    let v1: String = (0..400)
        .map(|i| format!("line {i} of the data\n"))
        .collect();
    repo.write("data.txt", v1.as_bytes());
    repo.commit("v1");
    let first = repo.rev("HEAD:data.txt");
    let v2 = v1.replace("line 7 ", "line seven ");
    repo.write("data.txt", v2.as_bytes());
    repo.commit("v2");
    let second = repo.rev("HEAD:data.txt");
    repo.git(&["repack", "-adfq", "--window=10", "--depth=5"]);
    let bases = repo.git(&[
        "cat-file",
        "--batch-all-objects",
        "--batch-check=%(deltabase)",
    ]);
    assert!(
        bases.lines().any(|b| b == first || b == second),
        "no delta between the versions: {bases}"
    );
    let run = history(&repo.dir, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for id in [&first, &second] {
        assert!(
            run.warnings()
                .iter()
                .any(|w| w.contains(&format!("blob {id} (data.txt, "))),
            "{id} not named: {:?}",
            run.warnings()
        );
    }
}

#[test]
fn a_fetched_thin_pack_completed_by_git_is_traversed() {
    // `git fetch` receives a thin pack: its deltas refer to objects the
    // receiver already has, and git completes it by appending those bases
    // at its end. A tree delta then rests on a ref delta whose base comes
    // later in the pack; the kind of each must still be known.
    let lab = Lab::new();
    let source = lab.init("source");
    for i in 0..150 {
        source.write(&format!("src/file{i:03}.txt"), format!("{i}\n").as_bytes());
    }
    source.commit("many files");
    let receiver = lab.init("receiver");
    let url = source.dir.to_str().unwrap();
    receiver.git(&["fetch", "-q", url, "main:refs/heads/up"]);
    let (k, fp) = lab.key("thin");
    let mut commits = Vec::new();
    for i in 0..6 {
        source.write(&format!("src/file{i:03}.txt"), b"changed\n");
        if i == 3 {
            source.write("src/zz/id_thin", &k);
        }
        commits.push(source.commit(&format!("edit {i}")));
    }
    lab.git(
        &receiver.dir,
        &[
            "-c",
            "fetch.unpackLimit=1",
            "fetch",
            "-q",
            url,
            "main:refs/heads/up",
        ],
    );
    let packs = fs::read_dir(receiver.dir.join(".git/objects/pack"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension() == Some("pack".as_ref()))
        .count();
    assert_eq!(packs, 2, "the second fetch keeps its pack");

    let run = history(&receiver.dir, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.warnings()
            .iter()
            .all(|w| !w.contains("could not be traversed")),
        "{:?}",
        run.warnings()
    );
    // The key entered once: one location, its commit, path and blob.
    let want = expect(&receiver, &fp, "src/zz/id_thin", &commits[3]);
    assert_eq!(
        run.locations()
            .into_iter()
            .map(|l| (l.path, l.commit, l.blob))
            .collect::<Vec<_>>(),
        vec![(want.path, want.commit, want.blob)]
    );
}
