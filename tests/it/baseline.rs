//! Baselines through the real binary: written by `scan --write-baseline`,
//! applied by `scan` and `pre-commit` with `--baseline` / `--baseline-strict`.

use crate::support::{ed25519, findings, json, keyscan, rsa_pem, tool};
use std::fs;
use std::path::Path;

fn git(dir: &Path, args: &[&str]) {
    let mut all = vec![
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.com",
        "-c",
        "commit.gpgsign=false",
    ];
    all.extend_from_slice(args);
    tool("git", &all, dir);
}

#[test]
fn written_baseline_passes_known_keys_and_blocks_new_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    fs::create_dir(d.join("old")).unwrap();
    let (_, fp_a) = ed25519(d, "old/id_a");
    let (_, fp_r) = rsa_pem(d, "old/r.pem");

    let out = keyscan(d, &["scan", "--write-baseline", "keys.json", "."], None);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrote baseline keys.json (2 keys)"));
    let text = fs::read_to_string(d.join("keys.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["version"], 1);
    let keys = v["keys"].as_array().unwrap();
    let mut want = vec![fp_a.clone(), fp_r.clone()];
    want.sort();
    let got: Vec<&str> = keys
        .iter()
        .map(|k| k["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(got, want);
    let a = keys
        .iter()
        .find(|k| k["fingerprint"] == fp_a.as_str())
        .unwrap();
    assert_eq!(a["key_type"], "Ed25519");
    assert_eq!(a["locations"], serde_json::json!([{ "path": "old/id_a" }]));
    // No key material: neither the armor nor any line of the key bodies.
    assert!(!text.contains("PRIVATE KEY"));
    for file in ["old/id_a", "old/r.pem"] {
        let key = fs::read_to_string(d.join(file)).unwrap();
        for line in key.lines().filter(|l| !l.starts_with("-----")) {
            assert!(!text.contains(line), "{file} leaks into the baseline");
        }
    }
    // Rewriting gives the same bytes.
    keyscan(d, &["scan", "--write-baseline", "keys.json", "."], None);
    assert_eq!(fs::read_to_string(d.join("keys.json")).unwrap(), text);

    // Known keys pass, and the summary says so.
    let out = keyscan(d, &["scan", "--baseline", "keys.json", "."], None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("2 known keys suppressed by baseline"),
        "{stdout}"
    );

    // A new key blocks, alone.
    let (_, fp_new) = ed25519(d, "new_key");
    let (code, v) = json(d, &["scan", "--baseline", "keys.json", "."], None);
    assert_eq!(code, 1);
    let f = findings(&v);
    assert_eq!(f.len(), 1, "{v}");
    assert_eq!(f[0]["fingerprint"], fp_new.as_str());
}

#[test]
fn strict_blocks_a_known_key_copied_to_a_new_path() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (key, fp) = ed25519(d, "fixture_key");
    keyscan(d, &["scan", "--write-baseline", "b.json", "."], None);
    fs::create_dir(d.join("deploy")).unwrap();
    fs::copy(&key, d.join("deploy/id")).unwrap();

    let (code, v) = json(d, &["scan", "--baseline", "b.json", "."], None);
    assert_eq!(code, 0, "{v}");
    let (code, v) = json(
        d,
        &["scan", "--baseline", "b.json", "--baseline-strict", "."],
        None,
    );
    assert_eq!(code, 1);
    let f = findings(&v);
    assert_eq!(f.len(), 1, "{v}");
    // Printed without a leading `./`, as the baseline records paths.
    assert_eq!(f[0]["path"], "deploy/id");
    assert_eq!(f[0]["fingerprint"], fp.as_str());
    assert!(f[0]["note"].as_str().unwrap().contains("known key"));
}

#[test]
fn pre_commit_honours_the_baseline() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    git(d, &["init", "-q"]);
    let (key, _) = ed25519(d, "fixture_key");
    keyscan(
        d,
        &["scan", "--write-baseline", ".keyscan-baseline.json"],
        None,
    );
    git(d, &["add", "fixture_key", ".keyscan-baseline.json"]);
    let base = ["pre-commit", "--baseline", ".keyscan-baseline.json"];
    let out = keyscan(d, &base, None);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(keyscan(d, &["pre-commit"], None).status.code(), Some(1));

    // Copied elsewhere: fine by default, blocked when strict.
    fs::create_dir(d.join("ci")).unwrap();
    fs::copy(&key, d.join("ci/deploy_key")).unwrap();
    git(d, &["add", "ci/deploy_key"]);
    assert_eq!(keyscan(d, &base, None).status.code(), Some(0));
    let strict = [&base[..], &["--baseline-strict"]].concat();
    assert_eq!(keyscan(d, &strict, None).status.code(), Some(1));

    // The same from the config, for hooks that pass no flags; from a
    // subdirectory too (the file is relative to the config).
    fs::write(
        d.join(".keyscan.toml"),
        "[baseline]\nfile = \".keyscan-baseline.json\"\n",
    )
    .unwrap();
    assert_eq!(keyscan(d, &["pre-commit"], None).status.code(), Some(0));
    assert_eq!(
        keyscan(&d.join("ci"), &["pre-commit"], None).status.code(),
        Some(0)
    );
    fs::write(
        d.join(".keyscan.toml"),
        "[baseline]\nfile = \".keyscan-baseline.json\"\nstrict = true\n",
    )
    .unwrap();
    assert_eq!(keyscan(d, &["pre-commit"], None).status.code(), Some(1));
    fs::remove_file(d.join(".keyscan.toml")).unwrap();

    // A new key blocks.
    git(d, &["rm", "-q", "--cached", "ci/deploy_key"]);
    ed25519(d, "another");
    git(d, &["add", "another"]);
    let (code, v) = json(d, &base, None);
    assert_eq!(code, 1);
    assert_eq!(findings(&v).len(), 1);
    assert_eq!(findings(&v)[0]["path"], "another");
}

#[test]
fn a_bad_baseline_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    fs::write(d.join("b.json"), "{\"version\": 1, \"keys\": [}").unwrap();
    let out = keyscan(d, &["scan", "--baseline", "b.json", "."], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("baseline b.json is not valid"), "{err}");
    let out = keyscan(d, &["scan", "--baseline", "missing.json", "."], None);
    assert_eq!(out.status.code(), Some(2));
    // --baseline-strict alone is a usage error.
    let out = keyscan(d, &["scan", "--baseline-strict", "."], None);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn keys_without_a_fingerprint_are_said_and_still_block() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ed25519(d, "id");
    // Encrypted PKCS#8 hides the public half too: no fingerprint to record.
    tool(
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "ed25519",
            "-aes-256-cbc",
            "-pass",
            "pass:pw",
            "-out",
            "enc.pem",
        ],
        d,
    );
    let out = keyscan(d, &["scan", "--write-baseline", "b.json", "."], None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("(1 key); 1 finding without a fingerprint cannot be recorded"),
        "{err}"
    );
    assert_eq!(out.status.code(), Some(1));
    let (code, v) = json(d, &["scan", "--baseline", "b.json", "."], None);
    assert_eq!(code, 1);
    let f = findings(&v);
    assert_eq!(f.len(), 1, "{v}");
    assert_eq!(f[0]["status"], "encrypted");
    assert!(f[0]["fingerprint"].is_null());
}
