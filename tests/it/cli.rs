//! The command line itself: closed pipes, where each flag applies, what
//! install and uninstall accept, and the messages of misuse.

use crate::support::gitrepo::{text, TempRepo};
use crate::support::{self, keyscan};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

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

/// The command a hook's comment names for removing it.
fn removal_command(hook: &Path) -> String {
    let script = fs::read_to_string(hook).unwrap();
    let line = script
        .lines()
        .find(|l| l.starts_with("# Remove with `"))
        .unwrap_or_else(|| panic!("{script}"));
    line["# Remove with `".len()..]
        .split('`')
        .next()
        .unwrap()
        .to_string()
}

/// Run `command` (which starts with `keyscan`) with this keyscan first on PATH.
fn run_as_written(r: &TempRepo, dir: &Path, command: &str) -> Output {
    let bin_dir = Path::new(support::bin()).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    r.command("sh", dir)
        .args(["-c", command])
        .env("PATH", path)
        .output()
        .unwrap()
}

// issue 14, 6: uninstall mirrors install (--hook, --server), and each hook
// names the command that removes it.
#[test]
fn uninstall_mirrors_install_and_each_hook_names_its_removal() {
    let r = TempRepo::new();
    let bare = r.home.join("srv/shop.git");
    r.ok(&["init", "-q", "--bare", bare.to_str().unwrap()]);
    let server = bare.to_str().unwrap();

    let out = ks(&r, &["install", "--server", server], "");
    assert!(out.status.success(), "{}", text(&out));
    let hook = bare.join("hooks/pre-receive");
    let command = removal_command(&hook);
    assert_eq!(command, format!("keyscan uninstall --server {server}"));
    // `keyscan uninstall` alone, in the bare repository, is not the way.
    let out = r
        .command(support::bin(), &bare)
        .arg("uninstall")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(hook.exists());
    // --server with a client hook is refused.
    let out = ks(
        &r,
        &["uninstall", "--server", server, "--hook", "pre-commit"],
        "",
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(hook.exists());
    // The command the comment names works, from anywhere.
    let out = run_as_written(&r, &r.home, &command);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("removed"), "{}", text(&out));
    assert!(!hook.exists());

    // The client hooks: pre-push and pre-commit.
    for (args, hook, named) in [
        (
            &["install", "--hook", "pre-push"][..],
            "pre-push",
            "keyscan uninstall --hook pre-push",
        ),
        (&["install"][..], "pre-commit", "keyscan uninstall"),
    ] {
        let out = ks(&r, args, "");
        assert!(out.status.success(), "{}", text(&out));
        let path = r.dir.join(".git/hooks").join(hook);
        assert_eq!(removal_command(&path), named);
        let out = run_as_written(&r, &r.dir, named);
        assert!(out.status.success(), "{}", text(&out));
        assert!(!path.exists(), "{hook}");
    }

    // Both flags have help.
    let out = ks(&r, &["uninstall", "--help"], "");
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--hook <HOOK>\n          Which hook",
        "--server <REPO>\n          Remove",
    ] {
        assert!(help.contains(flag), "{help}");
    }
}

// issue 14, 11: pre-receive only with --server, --server only with pre-receive.
#[test]
fn install_refuses_a_hook_that_does_not_fit_where_it_goes() {
    let r = TempRepo::new();
    let bare = r.home.join("shop.git");
    r.ok(&["init", "-q", "--bare", bare.to_str().unwrap()]);

    let out = ks(&r, &["install", "--hook", "pre-receive"], "");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let msg = text(&out);
    assert!(
        msg.contains("pre-receive is a server's hook") && msg.contains("--server REPO"),
        "{msg}"
    );
    assert!(!r.dir.join(".git/hooks/pre-receive").exists());

    let server = bare.to_str().unwrap();
    let out = ks(
        &r,
        &["install", "--server", server, "--hook", "pre-commit"],
        "",
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let msg = text(&out);
    assert!(
        msg.contains("--server is for the server's pre-receive hook, not pre-commit"),
        "{msg}"
    );
    assert!(!bare.join("hooks/pre-receive").exists());
    assert!(!bare.join("hooks/pre-commit").exists());

    // What each does with the right flags.
    let out = ks(
        &r,
        &["install", "--server", server, "--hook", "pre-receive"],
        "",
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(bare.join("hooks/pre-receive").exists());
}

// issue 14, messages: a config error in the hook says that the commit (or
// push) was blocked, and why.
#[test]
fn a_config_error_in_a_hook_says_the_commit_is_blocked() {
    let (r, _bare) = with_pre_push_hook();
    let out = ks(&r, &["install"], "");
    assert!(out.status.success(), "{}", text(&out));
    r.write(".keyscan.toml", "[policy]\nbinaries = \"maybe\"\n");
    r.write("notes", "harmless\n");
    r.ok(&["add", "notes"]);
    let (went, out) = r.commit();
    assert!(!went, "{out}");
    let why =
        "it could not be checked for private keys: config .keyscan.toml:2: unknown variant `maybe`";
    assert!(
        out.contains(&format!("keyscan: commit blocked, {why}")),
        "{out}"
    );
    let out = ks(&r, &["pre-commit"], "");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));

    r.ok(&["commit", "-q", "--no-verify", "-m", "notes"]);
    let out = r.git(&["push", "origin", "main"]);
    let all = text(&out);
    assert!(!out.status.success(), "{all}");
    assert!(
        all.contains(&format!("keyscan: push blocked, {why}")),
        "{all}"
    );
}

// issue 14, messages: pre-push by hand, with nothing on standard input.
#[test]
fn pre_push_by_hand_says_where_its_ref_lines_come_from() {
    let (r, _bare) = with_pre_push_hook();
    let out = ks(&r, &["pre-push"], "");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(
        msg.contains("reads the ref lines git gives a pre-push hook on standard input"),
        "{msg}"
    );
    assert!(msg.contains("keyscan install --hook pre-push"), "{msg}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    // git runs the hook with no ref lines when everything is up to date.
    let out = r.git(&["push", "origin", "main"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("Everything up-to-date"),
        "{}",
        text(&out)
    );
}

/// The long flags `keyscan SUB --help` lists.
fn flags_of(dir: &Path, sub: &str) -> Vec<String> {
    let out = keyscan(dir, &[sub, "--help"], None);
    assert_eq!(out.status.code(), Some(0), "{sub}");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter(|w| w.starts_with("--"))
        .map(|w| w.trim_end_matches(',').to_string())
        .collect()
}

// issue 14, messages: each flag is shown where it applies.
#[test]
fn each_subcommand_shows_only_the_flags_that_apply_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let reporting = ["--format", "--config", "--no-crack", "--quiet", "--color"];
    for sub in ["scan", "pre-commit", "history", "pre-push", "pre-receive"] {
        let flags = flags_of(d, sub);
        for flag in reporting {
            assert!(
                flags.iter().any(|f| f == flag),
                "{sub} lacks {flag}: {flags:?}"
            );
        }
    }
    let expect = |sub: &str, has: &[&str]| {
        let flags = flags_of(d, sub);
        for flag in reporting {
            assert_eq!(
                flags.iter().any(|f| f == flag),
                has.contains(&flag),
                "{sub} {flag}: {flags:?}"
            );
        }
    };
    expect("fingerprint", &["--format", "--config", "--no-crack"]);
    expect("rules", &["--format"]);
    for sub in ["completions", "man", "install", "uninstall"] {
        expect(sub, &[]);
    }
}

/// keyscan's standard output parsed as JSON, or the test fails.
fn json_of(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(out)))
}

// issue 14, messages: --format before or after the subcommand, and formats
// a command cannot print are refused clearly.
#[test]
fn format_is_accepted_before_and_after_the_subcommand() {
    let (r, bare) = with_pre_push_hook();
    let (key, _) = new_key(&r, "id");
    r.write("id", &key);
    r.ok(&["add", "id"]);
    let cases: [(&[&str], &str, Option<i32>); 5] = [
        (&["scan", "id"], "findings", Some(1)),
        (&["pre-commit"], "findings", Some(1)),
        (&["history"], "findings", Some(0)),
        (&["pre-push", "origin"], "findings", Some(0)),
        (&["fingerprint", "id"], "keys", Some(0)),
    ];
    for (args, field, code) in cases {
        let before = ks(&r, &[&["--format", "json"][..], args].concat(), "");
        let after = ks(&r, &[args, &["--format", "json"][..]].concat(), "");
        for out in [&before, &after] {
            assert_eq!(out.status.code(), code, "{args:?}: {}", text(out));
            assert!(json_of(out)[field].is_array(), "{args:?}: {}", text(out));
        }
    }
    let receive = |args: &[&str]| {
        r.command(support::bin(), &bare)
            .args(args)
            .output()
            .unwrap()
    };
    for args in [
        ["--format", "json", "pre-receive"],
        ["pre-receive", "--format", "json"],
    ] {
        let out = receive(&args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert!(json_of(&out)["findings"].is_array(), "{}", text(&out));
    }

    // rules prints JSON too.
    for args in [["--format", "json", "rules"], ["rules", "--format", "json"]] {
        let v = json_of(&ks(&r, &args, ""));
        assert_eq!(v["ok"], true, "{v}");
        assert!(v["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|id| id == "openssh-private-key"));
    }
    // What fingerprint and rules cannot print, and what man does not print at all.
    let out = ks(&r, &["--format", "sarif", "fingerprint", "id"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("keyscan fingerprint prints human or json, not sarif"),
        "{}",
        text(&out)
    );
    let out = ks(&r, &["fingerprint", "id", "--format", "sarif"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("[possible values: human, json]"),
        "{}",
        text(&out)
    );
    let out = ks(&r, &["--format", "gitlab", "rules"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("keyscan rules prints human or json, not gitlab"),
        "{}",
        text(&out)
    );
    let out = ks(&r, &["--format", "json", "man"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("--format json does not apply to `keyscan man`"),
        "{}",
        text(&out)
    );
}

// A hook keeps its verdict when its output goes nowhere: a closed pipe
// never lets a key through.
#[test]
fn a_closed_pipe_does_not_open_the_gate() {
    let r = TempRepo::new();
    let (key, _) = new_key(&r, "id");
    r.write("id", &key);
    r.ok(&["add", "id"]);
    let bin_dir = Path::new(support::bin()).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    let closed = |command: &str| {
        r.command("bash", &r.dir)
            .args([
                "-c",
                &format!("set -o pipefail; {command} | (exec 0<&-; sleep 1)"),
            ])
            .env("PATH", &path)
            .output()
            .unwrap()
    };
    // The pipe is closed indeed: scan ends quietly with 0 although it found a key.
    let out = closed("keyscan scan id");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = closed("keyscan pre-commit");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}
