//! `.keyscan.toml` through the real binary: the fingerprint allowlist (every
//! form, expiry), path allowlist, policy limits, custom and disabled rules,
//! and config errors. Keys are generated at test time.

use crate::support;
use crate::support::{ed25519, findings, json, keyscan, rsa_pem, tool};
use std::fs;
use std::path::Path;

fn sh(dir: &Path, script: &str) -> String {
    let out = tool("sh", &["-c", script], dir);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn write_config(dir: &Path, text: &str) {
    fs::write(dir.join(".keyscan.toml"), text).unwrap();
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_fingerprint_allows_its_key_but_not_another_key_at_the_same_path() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    fs::create_dir(d.join("fixtures")).unwrap();
    let (fixture, fp) = ed25519(d, "fixtures/id_test");
    write_config(
        d,
        &format!(
            "[allowlist]\nfingerprints = [{{ fingerprint = \"{fp}\", reason = \"test fixture\" }}]\n"
        ),
    );
    let (code, v) = json(d, &["scan", "."], None);
    assert_eq!(code, 0, "{v}");
    assert!(findings(&v).is_empty());

    // The same key moved and reformatted (PEM instead of OpenSSH) stays allowed.
    fs::copy(&fixture, d.join("moved.key")).unwrap();
    tool(
        "ssh-keygen",
        &["-p", "-m", "PEM", "-N", "", "-P", "", "-f", "moved.key"],
        d,
    );
    let (code, v) = json(d, &["scan", "."], None);
    assert_eq!(code, 0, "{v}");

    // A different key at the fixture's path blocks.
    fs::remove_file(&fixture).unwrap();
    fs::remove_file(d.join("fixtures/id_test.pub")).unwrap();
    let (_, other_fp) = ed25519(d, "fixtures/id_test");
    let (code, v) = json(d, &["scan", "."], None);
    assert_eq!(code, 1);
    let f = findings(&v);
    assert_eq!(f.len(), 1, "{v}");
    assert_eq!(f[0]["fingerprint"], other_fp.as_str());
    assert!(f[0]["path"].as_str().unwrap().ends_with("fixtures/id_test"));
}

#[test]
fn an_expired_entry_blocks_again_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (_, fp) = ed25519(d, "id_fixture");
    write_config(
        d,
        &format!(
            "[allowlist]\nfingerprints = [\n  {{ fingerprint = \"{fp}\", reason = \"rotate me\", expires = 2001-02-03 }},\n]\n"
        ),
    );
    let out = keyscan(d, &["scan", "."], None);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains(&format!(
            "warning: allowlist entry {fp} (.keyscan.toml:3) \"rotate me\" expired on 2001-02-03"
        )),
        "{all}"
    );
    let (_, v) = json(d, &["scan", "."], None);
    let note = findings(&v)[0]["note"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(note.contains("expired on 2001-02-03"), "{note}");

    // Still in date: allowed.
    write_config(
        d,
        &format!(
            "[allowlist]\nfingerprints = [{{ fingerprint = \"{fp}\", expires = 2999-12-31 }}]\n"
        ),
    );
    assert_eq!(keyscan(d, &["scan", "."], None).status.code(), Some(0));
}

#[test]
fn a_path_allowlist_skips_vendored_trees_and_counts_them() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    fs::create_dir_all(d.join("vendor/lib/tests")).unwrap();
    fs::create_dir_all(d.join("src")).unwrap();
    ed25519(d, "vendor/lib/tests/key");
    rsa_pem(d, "vendor/lib/tests/key.pem");
    write_config(d, "[allowlist]\npaths = [\"vendor/**\", \"unused/**\"]\n");
    let out = keyscan(d, &["scan"], None);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    // key, key.pub, key.pem.
    assert!(all.contains("3 files skipped by allowlist"), "{all}");

    // Relative to the config's directory, wherever the scan starts.
    let out = keyscan(&d.join("vendor"), &["scan", "."], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // --check-config names the glob that matched nothing.
    let out = keyscan(d, &["scan", "--check-config"], None);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("allowlist path unused/** matched no file"),
        "{all}"
    );

    // Outside the allowlisted tree a key still blocks.
    ed25519(d, "src/key");
    let (code, v) = json(d, &["scan"], None);
    assert_eq!(code, 1);
    assert_eq!(findings(&v).len(), 1, "{v}");
}

/// The paths of a JSON report's findings.
fn finding_paths(v: &serde_json::Value) -> Vec<String> {
    findings(v)
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn path_globs_see_paths_relative_to_the_config_however_spelt() {
    let tmp = tempfile::tempdir().unwrap();
    let d = &tmp.path().join("repo");
    for dir in ["vendor/x/y", "src", "third_party"] {
        fs::create_dir_all(d.join(dir)).unwrap();
    }
    ed25519(d, "vendor/x/y/k");
    ed25519(d, "src/real_key");
    write_config(d, "[allowlist]\npaths = [\"vendor/**\"]\n");

    // From inside the allowlisted tree, `..` is the top: src/ is scanned.
    let (code, v) = json(&d.join("vendor"), &["scan", ".."], None);
    assert_eq!(code, 1, "{v}");
    assert_eq!(finding_paths(&v), ["../src/real_key"], "{v}");
    let (code, v) = json(&d.join("vendor"), &["scan", "../src/real_key"], None);
    assert_eq!(code, 1, "{v}");
    assert_eq!(finding_paths(&v), ["../src/real_key"], "{v}");

    // From a sibling, `..` still reaches vendor/ under its glob.
    let out = keyscan(&d.join("third_party"), &["scan", ".."], None);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(!all.contains("vendor/x/y/k"), "{all}");
    assert!(all.contains("2 files skipped by allowlist"), "{all}");

    // Absolute, with `./` and `..`, and through a symlinked directory.
    let abs = d.join("vendor/x/y/k");
    let dotted = d.join("./src/../vendor/./x/y/k");
    let link = tmp.path().join("link");
    #[cfg(unix)]
    std::os::unix::fs::symlink(d, &link).unwrap();
    for path in [abs, dotted, link.join("vendor/x/y/k")] {
        let out = keyscan(d, &["scan", path.to_str().unwrap()], None);
        let all = text(&out);
        assert_eq!(out.status.code(), Some(0), "{}: {all}", path.display());
        assert!(all.contains("1 file skipped by allowlist"), "{all}");
    }
    let out = keyscan(d, &["scan", "./vendor/../src/real_key"], None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

#[test]
fn every_aws_and_md5_form_allows_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    rsa_pem(d, "ec2.pem");
    // EC2-created key pairs: SHA-1 of the PKCS#8 DER private key.
    let sha1_pkcs8 = sh(
        d,
        "openssl pkcs8 -topk8 -nocrypt -in ec2.pem -outform DER | openssl sha1 -c | awk '{print $NF}'",
    );
    // Imported key pairs: MD5 of the public key's SubjectPublicKeyInfo DER.
    let md5_spki = sh(
        d,
        "openssl rsa -in ec2.pem -pubout -outform DER 2>/dev/null | openssl md5 -c | awk '{print $NF}'",
    );
    let ssh_md5 = sh(d, "ssh-keygen -E md5 -lf ec2.pem | awk '{print $2}'");
    assert!(ssh_md5.starts_with("MD5:"), "{ssh_md5}");
    ed25519(d, "ed.key");
    // Ed25519 key pairs: base64 SHA-256 of the SSH public key blob, padded.
    let ed_sha256 = sh(
        d,
        "ssh-keygen -y -f ed.key | awk '{print $2}' | base64 -d | openssl dgst -sha256 -binary | base64",
    );
    assert!(ed_sha256.ends_with('='));

    assert_eq!(keyscan(d, &["scan", "."], None).status.code(), Some(1));
    for allowed in [
        vec![sha1_pkcs8.to_uppercase(), ed_sha256.clone()],
        vec![md5_spki.replace(':', " "), ed_sha256.clone()],
        vec![ssh_md5.clone(), ed_sha256.clone()],
    ] {
        write_config(d, &format!("[allowlist]\nfingerprints = {allowed:?}\n"));
        let out = keyscan(d, &["scan", "--check-config", "."], None);
        assert_eq!(out.status.code(), Some(0), "{allowed:?}: {}", text(&out));
    }
    // Only the RSA key allowed: the Ed25519 one still blocks.
    write_config(
        d,
        &format!("[allowlist]\nfingerprints = [\"{md5_spki}\"]\n"),
    );
    let (code, v) = json(d, &["scan", "."], None);
    assert_eq!(code, 1);
    assert_eq!(findings(&v).len(), 1);
    assert_eq!(findings(&v)[0]["key_type"], "Ed25519");
}

#[test]
fn policy_max_file_size_and_binaries() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (key, _) = ed25519(d, "big.key");
    let mut data = fs::read(&key).unwrap();
    data.extend(std::iter::repeat_n(b'\n', 4096));
    fs::write(&key, &data).unwrap();
    fs::remove_file(d.join("big.key.pub")).unwrap();
    write_config(d, "[policy]\nmax_file_size = \"2KB\"\n");
    let out = keyscan(d, &["scan", "."], None);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(
        all.contains("skipped big.key: 4") && all.contains("max_file_size (2048 bytes)"),
        "{all}"
    );

    fs::remove_file(&key).unwrap();
    tool(
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "ed25519",
            "-outform",
            "DER",
            "-out",
            "k.der",
        ],
        d,
    );
    write_config(d, "[policy]\nbinaries = \"skip\"\n");
    let out = keyscan(d, &["scan", "."], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("1 binary file skipped"));
    write_config(d, "[policy]\nbinaries = \"scan\"\n");
    assert_eq!(keyscan(d, &["scan", "."], None).status.code(), Some(1));
}

#[test]
fn custom_and_disabled_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // An in-house format that wraps a PEM key body under its own marker.
    let pem = String::from_utf8(fs::read(rsa_pem(d, "k.pem").0).unwrap()).unwrap();
    fs::remove_file(d.join("k.pem")).unwrap();
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .join("\n");
    fs::write(
        d.join("acme.txt"),
        format!("-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\n"),
    )
    .unwrap();
    assert_eq!(keyscan(d, &["scan", "."], None).status.code(), Some(1));
    write_config(d, "disable = [\"pem-private-key\"]\n");
    assert_eq!(keyscan(d, &["scan", "."], None).status.code(), Some(0));

    // The disabled rule's job done by a custom one, whose example must hold.
    let rule = "disable = [\"pem-private-key\"]\n\n[[rules]]\nid = \"acme-rsa\"\ndescription = \"RSA keys, ACME style\"\n\
                keywords = [\"RSA PRIVATE KEY\"]\nstart = '-----BEGIN (?P<label>RSA PRIVATE KEY)-----'\n\
                end = '-----END {label}-----'\nvalidator = \"pem\"\n";
    write_config(
        d,
        &format!("{rule}examples = [\"-----BEGIN RSA PRIVATE KEY-----\\nMIIB\\n-----END RSA PRIVATE KEY-----\"]\n"),
    );
    let (code, v) = json(d, &["scan", "."], None);
    assert_eq!(code, 1, "{v}");
    assert_eq!(findings(&v)[0]["rule"], "acme-rsa");

    write_config(d, &format!("{rule}examples = [\"nothing to see\"]\n"));
    let out = keyscan(d, &["scan", "."], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim(),
        "keyscan: error: config .keyscan.toml:3: rule acme-rsa: example 1 is not matched"
    );
}

#[test]
fn a_bad_config_is_one_line_with_file_and_line_and_fails_closed() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    for (config, line, reason) in [
        ("[policy]\nblock_unverified = true\nbinaries = \"maybe\"\n", 3, "unknown variant `maybe`"),
        ("[allowlist]\nfingerprints = [\n  { fingerprint = \"SHA256:x\", expires = \"soon\" },\n]\n", 3, "`expires` must be a date"),
        ("\ndisable = [\"no-such-rule\"]\n", 2, "unknown rule id no-such-rule"),
        ("[allowlist]\npaths = [\"a/[\"]\n", 2, "bad glob"),
        ("\n[[rules]]\nid = \"x\"\ndescription = \"d\"\nkeywords = [\"k\"]\nstart = \"(k\"\nvalidator = \"pem\"\n", 2, "rule x: bad regex in `start` ((k): regex parse error: (k: error: unclosed group"),
        ("[policy\n", 1, ""),
    ] {
        write_config(d, config);
        let out = keyscan(d, &["scan", "."], None);
        assert_eq!(out.status.code(), Some(2), "{config}");
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!("keyscan: error: config .keyscan.toml:{line}: ")) && err.contains(reason),
            "{config}: {err}"
        );
    }

    // The pre-commit hook fails closed on a bad config: the commit is blocked.
    let git = |args: &[&str]| {
        tool(
            "git",
            &[
                &[
                    "-c",
                    "user.name=t",
                    "-c",
                    "user.email=t@example.com",
                    "-c",
                    "commit.gpgsign=false",
                ],
                args,
            ]
            .concat(),
            d,
        )
    };
    git(&["init", "-q"]);
    fs::write(d.join("readme.txt"), "hello\n").unwrap();
    git(&["add", "readme.txt"]);
    let out = keyscan(d, &["pre-commit"], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains(".keyscan.toml:1"));
    tool("sh", &["-c", &format!("'{}' install", support::bin())], d);
    let commit = std::process::Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
            "commit",
            "-qm",
            "x",
        ])
        .current_dir(d)
        .output()
        .unwrap();
    assert!(
        !commit.status.success(),
        "a commit went through a bad config"
    );
    assert!(String::from_utf8_lossy(&commit.stderr).contains(".keyscan.toml:1"));
}

#[test]
fn pre_commit_applies_the_path_allowlist_and_size_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let git = |args: &[&str]| tool("git", args, d);
    git(&["init", "-q"]);
    fs::create_dir_all(d.join("vendor/dep")).unwrap();
    ed25519(d, "vendor/dep/test_key");
    write_config(
        d,
        "[allowlist]\npaths = [\"vendor/**\"]\n[policy]\nmax_file_size = 1000\n",
    );
    git(&["add", "vendor/dep/test_key", ".keyscan.toml"]);
    let out = keyscan(d, &["pre-commit"], None);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("(1 file skipped by allowlist)"), "{all}");

    // A key outside vendor/ blocks, unless the file is over the size limit.
    let (key, _) = ed25519(d, "deploy_key");
    git(&["add", "deploy_key"]);
    assert_eq!(keyscan(d, &["pre-commit"], None).status.code(), Some(1));
    let mut big = fs::read(&key).unwrap();
    big.extend(std::iter::repeat_n(b'\n', 1000));
    fs::write(&key, big).unwrap();
    git(&["add", "deploy_key"]);
    let out = keyscan(d, &["pre-commit"], None);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(
        all.contains("warning: skipped deploy_key: ")
            && all.contains("over max_file_size (1000 bytes)"),
        "{all}"
    );

    // Committed while too large to be checked, then cut back under the
    // limit: nothing is added, yet the key was never checked, so it blocks.
    git(&[
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.com",
        "commit",
        "-q",
        "--no-verify",
        "-m",
        "big",
    ]);
    let text_now = fs::read_to_string(&key).unwrap();
    fs::write(&key, text_now.trim_end_matches('\n').to_string() + "\n").unwrap();
    git(&["add", "deploy_key"]);
    let out = keyscan(d, &["pre-commit"], None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

#[cfg(unix)]
#[test]
fn an_openpgp_fingerprint_as_gpg_prints_it_allows_the_key() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let home = d.join("gnupg");
    fs::create_dir(&home).unwrap();
    fs::set_permissions(&home, fs::Permissions::from_mode(0o700)).unwrap();
    let home = home.to_str().unwrap().to_string();
    let gpg = |args: &[&str]| {
        let base = ["--homedir", &home, "--batch", "--pinentry-mode", "loopback"];
        let out = tool("gpg", &[&base[..], args].concat(), d);
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let uid = "Fixture <f@example.com>";
    gpg(&[
        "--passphrase",
        "",
        "--quick-gen-key",
        uid,
        "ed25519",
        "default",
        "never",
    ]);
    let key = gpg(&["--passphrase", "", "--armor", "--export-secret-keys", uid]);
    fs::write(d.join("signing.asc"), key).unwrap();
    // `gpg --fingerprint` groups the hex in fours: "7036 E755 ... C026 FAE8".
    let listing = gpg(&["--fingerprint", uid]);
    let grouped = listing
        .lines()
        .map(str::trim)
        .find(|l| l.len() >= 50 && l.chars().all(|c| c.is_ascii_hexdigit() || c == ' '))
        .expect("gpg prints a fingerprint line")
        .to_string();
    let _ = std::process::Command::new("gpgconf")
        .args(["--homedir", &home, "--kill", "gpg-agent"])
        .output();
    fs::remove_dir_all(d.join("gnupg")).unwrap();

    assert_eq!(keyscan(d, &["scan", "."], None).status.code(), Some(1));
    write_config(
        d,
        &format!(
            "[allowlist]\nfingerprints = [\"{}\"]\n",
            grouped.to_lowercase()
        ),
    );
    let out = keyscan(d, &["scan", "--check-config", "."], None);
    assert_eq!(out.status.code(), Some(0), "{grouped}: {}", text(&out));
}

#[test]
fn a_rule_is_spelt_the_same_in_a_config_and_a_rule_file_and_fails_the_same() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let rule = "id = \"acme\"\ndescription = \"ACME keys\"\nkeywords = [\"ACME KEY\"]\n\
                start = '-----BEGIN (?P<label>ACME KEY)-----'\nend = '-----END {label}-----'\n\
                validator = \"pem\"\n";
    let good = "examples = [\"-----BEGIN ACME KEY-----\\nAAAA\\n-----END ACME KEY-----\"]\n";
    let bad = "examples = [\"no key here\"]\n";
    for table in ["[[rules]]", "[[rule]]"] {
        // The same text is a config and a rule file.
        let file = format!("{table}\n{rule}{good}");
        write_config(d, &file);
        fs::write(d.join("acme.toml"), &file).unwrap();
        let out = keyscan(d, &["scan", "."], None);
        assert_eq!(out.status.code(), Some(0), "{table}: {}", text(&out));
        let out = keyscan(d, &["rules", "acme.toml"], None);
        assert_eq!(out.status.code(), Some(0), "{table}: {}", text(&out));

        // A failing example: exit 2 from both, naming the rule and example.
        let file = format!("{table}\n{rule}{bad}");
        write_config(d, &file);
        fs::write(d.join("acme.toml"), &file).unwrap();
        let out = keyscan(d, &["scan", "."], None);
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(
            text(&out).trim(),
            "keyscan: error: config .keyscan.toml:1: rule acme: example 1 is not matched"
        );
        fs::remove_file(d.join(".keyscan.toml")).unwrap();
        let out = keyscan(d, &["rules", "acme.toml"], None);
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(
            text(&out).trim(),
            "keyscan: rule check failed: rule acme in acme.toml: example 1 is not matched"
        );
    }
}

#[test]
fn sarif_describes_custom_rules_as_the_config_does() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    rsa_pem(d, "deploy.pem");
    ed25519(d, "id_test");
    write_config(
        d,
        "disable = [\"pem-private-key\"]\n\n[[rules]]\nid = \"acme-rsa\"\n\
         description = \"RSA keys, ACME style\"\nkeywords = [\"RSA PRIVATE KEY\"]\n\
         start = '-----BEGIN (?P<label>RSA PRIVATE KEY)-----'\nend = '-----END {label}-----'\n\
         validator = \"pem\"\n",
    );
    let out = keyscan(d, &["--format", "sarif", "scan", "."], None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    let described = |id: &str| {
        let r = rules.iter().find(|r| r["id"] == id).expect(id);
        r["shortDescription"]["text"].as_str().unwrap().to_string()
    };
    assert_eq!(described("acme-rsa"), "RSA keys, ACME style.");
    assert_eq!(described("openssh-private-key"), "OpenSSH private key.");
}

#[test]
fn a_missing_baseline_named_by_the_config_warns_and_knows_no_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write_config(d, "[baseline]\nfile = \".keyscan-baseline.json\"\n");
    // Nothing to find: the run passes, and says the baseline is missing.
    let out = keyscan(d, &["scan", "."], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains(
            "baseline .keyscan-baseline.json (named in .keyscan.toml) does not exist: \
             no keys are known, every key found blocks"
        ),
        "{}",
        text(&out)
    );
    // A key still blocks.
    ed25519(d, "id_test");
    let (code, v) = json(d, &["scan", "."], None);
    assert_eq!(code, 1, "{v}");
    assert!(v["warnings"].to_string().contains("does not exist"), "{v}");
    // Recording it makes the file; then the key is known.
    let out = keyscan(
        d,
        &["scan", ".", "--write-baseline", ".keyscan-baseline.json"],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = keyscan(d, &["scan", "."], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains("does not exist"), "{}", text(&out));
    // An explicit --baseline that is missing stays an error.
    let out = keyscan(d, &["scan", ".", "--baseline", "nope.json"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("cannot read baseline nope.json"),
        "{}",
        text(&out)
    );
}
