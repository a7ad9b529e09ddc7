//! Where a key file sits: loose mode bits (for real keys outside git work
//! trees or in files git ignores) and shared folders, folded into the
//! finding's `permissions`. Tested through mode bits, which root sees too.
#![cfg(unix)]

use crate::support;
use crate::support::{ed25519, findings, json, keyscan, tool};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn loose_key_outside_git_is_flagged_in_the_finding() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (key, _) = ed25519(d, "id");
    for (mode, want) in [
        (0o644, Some("0644: readable by group and others; chmod 600")),
        (0o640, Some("0640: readable by group; chmod 600")),
        (0o604, Some("0604: readable by others; chmod 600")),
        (0o600, None),
        (0o400, None),
    ] {
        chmod(&key, mode);
        let (code, v) = json(d, &["scan", "id"], None);
        assert_eq!(code, 1);
        let f = &findings(&v)[0];
        assert_eq!(f["permissions"].as_str(), want, "{mode:o}: {v}");
        assert!(v["warnings"].as_array().unwrap().is_empty(), "{v}");
    }
    chmod(&key, 0o644);
    let out = keyscan(d, &["scan", "id"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("permissions")).collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(lines[0].contains("0644: readable by group and others; chmod 600"));
}

#[test]
fn look_alikes_are_not_flagged() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // A real key, corrupted and truncated: it no longer parses.
    let (path, _) = support::rsa_pem(d, "example.pem");
    let text = fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[10] = "A".repeat(64);
    lines.truncate(18);
    lines.push("-----END RSA PRIVATE KEY-----".into());
    fs::write(&path, lines.join("\n")).unwrap();
    chmod(&path, 0o644);
    let (_, v) = json(d, &["scan", "example.pem"], None);
    let f = findings(&v);
    assert_eq!(f.len(), 1, "{v}");
    assert_eq!(f[0]["status"], "unverified");
    assert!(f[0].get("permissions").is_none(), "{v}");
}

#[test]
fn inside_a_work_tree_only_ignored_files_are_flagged() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    tool("git", &["init", "-q"], d);
    fs::write(d.join(".gitignore"), "secrets/\n").unwrap();
    fs::create_dir(d.join("secrets")).unwrap();
    let (tracked, _) = ed25519(d, "checked_out_key");
    let (ignored, _) = ed25519(d, "secrets/id");
    chmod(&tracked, 0o644);
    chmod(&ignored, 0o644);
    let (code, v) = json(d, &["scan", "--no-ignore", "."], None);
    assert_eq!(code, 1);
    let f = findings(&v);
    assert_eq!(f.len(), 2, "{v}");
    for f in f {
        let path = f["path"].as_str().unwrap();
        if path.ends_with("checked_out_key") {
            assert!(f.get("permissions").is_none(), "{f}");
        } else {
            assert!(path.ends_with("secrets/id"));
            assert!(
                f["permissions"].as_str().unwrap().starts_with("0644"),
                "{f}"
            );
        }
    }
}

#[test]
fn a_key_in_a_shared_folder_is_flagged_whatever_its_mode() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let work = tmp.path().join("work");
    fs::create_dir_all(home.join("Dropbox/keys")).unwrap();
    fs::create_dir_all(&work).unwrap();
    let (key, _) = ed25519(&home, "Dropbox/keys/id");
    chmod(&key, 0o600);
    fs::write(
        work.join("keyscan.toml"),
        "[policy]\nshared_folders = [\"~/Dropbox\", \"~/NotThere\"]\n",
    )
    .unwrap();
    let out = std::process::Command::new(support::bin())
        .args(["--format", "json", "--config", "keyscan.toml", "scan"])
        .arg(&key)
        .current_dir(&work)
        .env("HOME", &home)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let p = findings(&v)[0]["permissions"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(p.starts_with("in shared folder "), "{v}");
    assert!(p.contains("Dropbox"), "{p}");
    assert!(!p.contains("chmod"), "{p}");

    // Outside the shared folder: nothing to say.
    let (other, _) = ed25519(&work, "id");
    chmod(&other, 0o600);
    let out = std::process::Command::new(support::bin())
        .args(["--format", "json", "--config", "keyscan.toml", "scan", "id"])
        .current_dir(&work)
        .env("HOME", &home)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(findings(&v)[0].get("permissions").is_none(), "{v}");
}
