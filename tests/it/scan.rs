//! `keyscan scan` through the real binary: disguises real keys wear, look-alikes
//! that must stay quiet, bad input, output formats and exit codes.

use crate::support::*;
use base64::Engine as _;
use std::fs;
use std::path::Path;

fn key_text(path: &Path) -> String {
    fs::read_to_string(path).unwrap()
}

/// Scan one file holding `content`; returns (exit code, findings).
fn scan_content(dir: &Path, name: &str, content: &[u8]) -> (i32, Vec<serde_json::Value>) {
    fs::write(dir.join(name), content).unwrap();
    let (code, v) = json(dir, &["scan", name], None);
    (code, findings(&v).clone())
}

fn assert_one_valid(found: &[serde_json::Value], fp: &str, what: &str) {
    assert_eq!(found.len(), 1, "{what}: {found:#?}");
    assert_eq!(found[0]["status"], "valid", "{what}: {found:#?}");
    assert_eq!(found[0]["fingerprint"], fp, "{what}");
    assert_eq!(found[0]["blocking"], true, "{what}");
}

#[test]
fn disguises_of_a_real_openssh_key() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (path, fp) = ed25519(dir, "id_ed25519");
    let pem = key_text(&path);
    let lines: Vec<&str> = pem.lines().collect();

    let crlf = pem.replace('\n', "\r\n");
    let indented = format!(
        "deploy:\n  key: |\n{}\n  other: 1\n",
        lines
            .iter()
            .map(|l| format!("    {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let json_escaped = format!(
        "{{\"name\": \"prod\", \"private_key\": {}}}\n",
        serde_json::to_string(&pem).unwrap()
    );
    let crlf_escaped = format!("{{\"k\": \"{}\"}}", pem.replace('\n', "\\r\\n"));
    let concatenated = format!(
        "const KEY =\n{};\n",
        lines
            .iter()
            .map(|l| format!("  \"{l}\\n\""))
            .collect::<Vec<_>>()
            .join(" +\n")
    );
    let python = format!(
        "KEY = (\n{}\n)\n",
        lines
            .iter()
            .map(|l| format!("    b\"{l}\\n\""))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let prefixed = format!("export SSH_KEY='{}'\n", pem.trim_end());
    let no_newline = format!("notes\n{}", pem.trim_end());
    let markdown = format!("# Setup\n\n```\n{}```\n", pem);
    let quoted_md = format!("> {}\n", lines.join("\n> "));
    let cases: Vec<(&str, String)> = vec![
        ("crlf", crlf),
        ("indented yaml", indented),
        ("json string", json_escaped),
        ("json crlf escapes", crlf_escaped),
        ("js concatenation", concatenated),
        ("python bytes", python),
        ("text before key", prefixed),
        ("no final newline", no_newline),
        ("markdown fence", markdown),
        ("markdown quote", quoted_md),
    ];
    for (i, (what, content)) in cases.iter().enumerate() {
        let (code, found) = scan_content(dir, &format!("case{i}.txt"), content.as_bytes());
        assert_eq!(code, 1, "{what} must block");
        assert_one_valid(&found, &fp, what);
    }
}

#[test]
fn base64_wrapped_pem_in_a_kubernetes_secret() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (path, fp) = rsa_pem(dir, "tls.pem");
    let enc = base64::engine::general_purpose::STANDARD.encode(key_text(&path));
    let secret = format!(
        "apiVersion: v1\nkind: Secret\ntype: kubernetes.io/tls\ndata:\n  tls.crt: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\n  tls.key: {enc}\n"
    );
    let (code, found) = scan_content(dir, "secret.yaml", secret.as_bytes());
    assert_eq!(code, 1);
    assert_one_valid(&found, &fp, "k8s secret");
    assert_eq!(found[0]["line"], 6);

    // Wrapped at 76 columns, as `base64` prints it, in a YAML block.
    let wrapped: Vec<String> = enc
        .as_bytes()
        .chunks(76)
        .map(|c| format!("    {}", std::str::from_utf8(c).unwrap()))
        .collect();
    let ci = format!(
        "variables:\n  DEPLOY_KEY: |\n{}\n  NEXT: x\n",
        wrapped.join("\n")
    );
    let (code, found) = scan_content(dir, "ci.yaml", ci.as_bytes());
    assert_eq!(code, 1);
    assert_one_valid(&found, &fp, "wrapped base64");
}

#[test]
fn several_keys_large_files_and_invalid_utf8() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (a, fp_a) = ed25519(dir, "a");
    let (b, fp_b) = rsa_pem(dir, "b.pem");
    let mut content = b"\xff\xfe invalid utf-8 \x00 and NUL bytes\n".to_vec();
    content.extend(std::iter::repeat_n(b"filler line of text\n".as_slice(), 200_000).flatten());
    content.extend(key_text(&a).as_bytes());
    content.extend(b"\x80\x81\n");
    content.extend(key_text(&b).as_bytes());
    let (code, found) = scan_content(dir, "big.bin", &content);
    assert_eq!(code, 1);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!(found[0]["fingerprint"], fp_a);
    assert_eq!(found[0]["line"], 200_002);
    assert_eq!(found[1]["fingerprint"], fp_b);
    assert!(found[1]["line"].as_u64().unwrap() > 200_008);
}

#[test]
fn look_alikes_stay_quiet() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (path, _) = ed25519(dir, "id");
    let (rsa, _) = rsa_pem(dir, "rsa.pem");
    let cert = dir.join("cert.pem");
    tool(
        "openssl",
        &[
            "req",
            "-x509",
            "-key",
            rsa.to_str().unwrap(),
            "-subj",
            "/CN=t",
            "-days",
            "1",
            "-out",
            cert.to_str().unwrap(),
        ],
        dir,
    );
    let csr = dir.join("req.csr");
    tool(
        "openssl",
        &[
            "req",
            "-new",
            "-key",
            rsa.to_str().unwrap(),
            "-subj",
            "/CN=t",
            "-out",
            csr.to_str().unwrap(),
        ],
        dir,
    );
    let public_pem = tool(
        "openssl",
        &["rsa", "-in", rsa.to_str().unwrap(), "-pubout"],
        dir,
    )
    .stdout;
    let quiet: Vec<(&str, Vec<u8>)> = vec![
        ("ssh public key", fs::read(path.with_extension("pub")).unwrap()),
        ("pem public key", public_pem),
        ("certificate", fs::read(&cert).unwrap()),
        ("csr", fs::read(&csr).unwrap()),
        ("placeholder dots", b"-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----\n".to_vec()),
        ("placeholder text", b"-----BEGIN PRIVATE KEY-----\n<your key here>\n-----END PRIVATE KEY-----\n".to_vec()),
        ("placeholder xxxx", format!("-----BEGIN OPENSSH PRIVATE KEY-----\n{}-----END OPENSSH PRIVATE KEY-----\n", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n".repeat(6)).into_bytes()),
        ("truncated", b"-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA...\n-----END RSA PRIVATE KEY-----\n".to_vec()),
        ("doc mention", b"Keys start with `-----BEGIN OPENSSH PRIVATE KEY-----`; never commit one.\n".to_vec()),
        ("code mention", b"if (s.startsWith(\"-----BEGIN RSA PRIVATE KEY-----\")) { return s.indexOf(\"-----END RSA PRIVATE KEY-----\"); }\n".to_vec()),
    ];
    for (i, (what, content)) in quiet.iter().enumerate() {
        let (code, found) = scan_content(dir, &format!("quiet{i}"), content);
        assert_eq!(code, 0, "{what} must not block: {found:#?}");
        assert!(found.is_empty(), "{what} must not be reported: {found:#?}");
    }
}

#[test]
fn corrupted_key_is_an_unverified_warning_unless_policy_blocks() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (path, _) = rsa_pem(dir, "k.pem");
    let text = key_text(&path);
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    // Corrupt the middle of the body and drop its tail: no longer parses.
    lines[10] = "A".repeat(64);
    lines.truncate(18);
    lines.push("-----END RSA PRIVATE KEY-----".into());
    let (code, found) = scan_content(dir, "broken.pem", lines.join("\n").as_bytes());
    assert_eq!(code, 0);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["status"], "unverified");
    assert_eq!(found[0]["blocking"], false);

    fs::write(
        dir.join("strict.toml"),
        "[policy]\nblock_unverified = true\n",
    )
    .unwrap();
    let (code, v) = json(
        dir,
        &["--config", "strict.toml", "scan", "broken.pem"],
        None,
    );
    assert_eq!(code, 1);
    assert_eq!(findings(&v)[0]["blocking"], true);
}

#[test]
fn allowlist_by_fingerprint_only() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (_, fp_a) = ed25519(dir, "fixture");
    let (_, fp_b) = ed25519(dir, "real");
    fs::write(
        dir.join(".keyscan.toml"),
        format!("[allowlist]\nfingerprints = [\"{fp_a}\"]\n"),
    )
    .unwrap();
    let (code, v) = json(dir, &["scan", "."], None);
    assert_eq!(code, 1);
    let found = findings(&v);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["fingerprint"], fp_b);
}

#[test]
fn gitignore_is_honoured_unless_no_ignore() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fs::create_dir(dir.join("secrets")).unwrap();
    ed25519(&dir.join("secrets"), "id");
    fs::write(dir.join(".gitignore"), "secrets/\n").unwrap();
    let (code, v) = json(dir, &["scan", "."], None);
    assert_eq!(code, 0, "{v:#}");
    let (code, v) = json(dir, &["scan", "--no-ignore", "."], None);
    assert_eq!(code, 1);
    assert_eq!(findings(&v).len(), 1);
    // A hidden folder is scanned, .git is not.
    fs::create_dir(dir.join(".ssh")).unwrap();
    ed25519(&dir.join(".ssh"), "id");
    let (code, v) = json(dir, &["scan", "."], None);
    assert_eq!(code, 1);
    assert!(findings(&v)[0]["path"].as_str().unwrap().contains(".ssh"));
}

#[test]
fn stdin_human_output_is_redacted_and_names_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (path, fp) = rsa_pem(dir, "k.pem");
    let text = key_text(&path);
    let out = keyscan(dir, &["scan", "-"], Some(text.as_bytes()));
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("<stdin>:1-"), "{stdout}");
    assert!(stdout.contains(&fp), "{stdout}");
    assert!(stdout.contains("RSA 2048"), "{stdout}");
    assert!(stdout.contains("Rotate"), "{stdout}");
    // No line of the key body is printed, in any format.
    for format in ["human", "json", "sarif"] {
        let out = keyscan(
            dir,
            &["--format", format, "scan", "-"],
            Some(text.as_bytes()),
        );
        let shown = String::from_utf8_lossy(&out.stdout);
        for body_line in text.lines().filter(|l| !l.starts_with("-----")) {
            assert!(!shown.contains(body_line), "{format} leaks a body line");
        }
    }
}

#[test]
fn sarif_is_well_formed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (_, fp) = ed25519(dir, "id");
    let out = keyscan(dir, &["--format", "sarif", "scan", "id"], None);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let r = &v["runs"][0]["results"][0];
    assert_eq!(r["ruleId"], "openssh-private-key");
    assert_eq!(r["level"], "error");
    assert_eq!(
        r["locations"][0]["physicalLocation"]["region"]["startLine"],
        1
    );
    assert!(r["message"]["text"].as_str().unwrap().contains(&fp));
}

#[test]
fn bad_input_gets_clear_errors_not_panics() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // A named path that does not exist: error, exit 2.
    let out = keyscan(dir, &["scan", "missing.pem"], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("missing.pem") && err.lines().count() == 1,
        "{err}"
    );

    // A broken symlink inside a directory: skipped, not a crash.
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.join("nowhere"), dir.join("dangling")).unwrap();
    // A 100 MB single line with no newline.
    fs::write(dir.join("one-line.txt"), vec![b'A'; 100 * 1024 * 1024]).unwrap();
    // NUL bytes and binary noise that starts like DER.
    let mut noise = vec![0x30, 0x82, 0x01, 0x00];
    noise.extend((0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8));
    fs::write(dir.join("noise.der"), &noise).unwrap();
    let (code, v) = json(dir, &["scan", "."], None);
    assert_eq!(code, 0, "{v:#}");
    assert!(findings(&v).is_empty());

    // A bad config: error, exit 2.
    fs::write(dir.join("bad.toml"), "[policy\n").unwrap();
    let out = keyscan(dir, &["--config", "bad.toml", "scan", "."], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.toml"));

    // A rule file with a bad regex: error naming the file, exit 2.
    fs::write(
        dir.join("rules.toml"),
        "[[rule]]\nid='x'\ndescription='x'\nkeywords=['x']\nstart='(oops'\nvalidator='pem'\n",
    )
    .unwrap();
    let out = keyscan(dir, &["rules", "rules.toml"], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("rules.toml") && err.contains("bad regex"),
        "{err}"
    );

    // Usage errors are exit 2 as well.
    let out = keyscan(dir, &["scan", "--bogus"], None);
    assert_eq!(out.status.code(), Some(2));
}

#[cfg(unix)]
#[test]
fn unreadable_file_is_skipped_and_said() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let locked = dir.join("locked.pem");
    fs::write(&locked, "x").unwrap();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    if fs::read(&locked).is_ok() {
        // Running as root: permissions do not stop reads, nothing to test.
        return;
    }
    let (code, v) = json(dir, &["scan", "."], None);
    assert_eq!(code, 0);
    assert!(v["warnings"].to_string().contains("locked.pem"), "{v:#}");
}

#[test]
fn rules_command_checks_examples() {
    let tmp = tempfile::tempdir().unwrap();
    let out = keyscan(tmp.path(), &["rules"], None);
    assert_eq!(out.status.code(), Some(0));
    let rule = "[[rule]]\nid='never'\ndescription='x'\nkeywords=['ZZZ']\nstart='ZZZ'\nvalidator='pem'\nexamples=['no match here']\n";
    fs::write(tmp.path().join("r.toml"), rule).unwrap();
    let out = keyscan(tmp.path(), &["rules", "r.toml"], None);
    // A failing example is an error, as it is in a config: exit 2.
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("rule never in r.toml: example 1 is not matched"));
}

/// Bytes a terminal would obey, or that are no UTF-8: none may reach it raw.
fn assert_no_raw_controls(text: &[u8], what: &str) {
    let shown = String::from_utf8_lossy(text);
    for (i, c) in shown.char_indices() {
        let bad = matches!(c, '\x00'..='\x08' | '\x0b'..='\x1f' | '\x7f' | '\u{80}'..='\u{9f}')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
            || c == '\u{fffd}';
        assert!(!bad, "{what}: raw {c:?} at {i} in:\n{shown}");
    }
}

#[cfg(unix)]
#[test]
fn file_names_cannot_hide_or_forge_report_lines() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (path, _) = ed25519(dir, "id_ed25519");
    let key = fs::read(&path).unwrap();
    fs::remove_file(&path).unwrap();
    fs::remove_file(path.with_extension("pub")).unwrap();
    let names: [&[u8]; 4] = [
        b"a\x1b[8mhidden",
        b"b\nkeyscan: no private keys found",
        "c\u{202e}mep.txt".as_bytes(),
        b"d\xff.pem",
    ];
    for name in names {
        fs::write(dir.join(OsStr::from_bytes(name)), &key).unwrap();
    }
    let out = keyscan(dir, &["scan"], None);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_no_raw_controls(&out.stdout, "human");
    let human = String::from_utf8_lossy(&out.stdout);
    for shown in [
        r"a\x1b[8mhidden:1-7 private key",
        r"b\x0akeyscan: no private keys found:1-7 private key",
        r"c\u{202e}mep.txt:1-7 private key",
        r"d\xff.pem:1-7 private key",
    ] {
        assert!(
            human.lines().any(|l| l.starts_with(shown)),
            "missing {shown:?} in:\n{human}"
        );
    }
    // Each report line is one the report wrote: the newline forged none.
    assert!(
        !human
            .lines()
            .any(|l| l.starts_with("keyscan: no private keys")),
        "{human}"
    );

    // JSON keeps real characters (escaped by JSON) and shows the 0xFF byte.
    let (_, v) = json(dir, &["scan"], None);
    let mut paths: Vec<&str> = findings(&v)
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        [
            "a\x1b[8mhidden",
            "b\nkeyscan: no private keys found",
            "c\u{202e}mep.txt",
            r"d\xff.pem"
        ]
    );

    // SARIF URIs percent-encode the real bytes, GitLab shows them escaped.
    let out = keyscan(dir, &["--format", "sarif", "scan"], None);
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut uris: Vec<String> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    uris.sort_unstable();
    assert_eq!(
        uris,
        [
            "a%1B%5B8mhidden",
            "b%0Akeyscan%3A%20no%20private%20keys%20found",
            "c%E2%80%AEmep.txt",
            "d%FF.pem"
        ]
    );
    let out = keyscan(dir, &["--format", "gitlab", "scan"], None);
    let gl: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let files: Vec<&str> = gl["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["location"]["file"].as_str().unwrap())
        .collect();
    assert!(files.contains(&r"d\xff.pem"), "{files:?}");
}

/// `keyscan scan`, `scan .`, `scan ./x` and `scan ././d`: paths as the
/// baseline records them, without a leading `./`, in human and JSON output.
#[test]
fn paths_are_printed_without_a_leading_dot_slash() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fs::create_dir(dir.join("d")).unwrap();
    ed25519(&dir.join("d"), "id_ed25519");
    for (args, want) in [
        (&["scan"][..], "d/id_ed25519"),
        (&["scan", "."], "d/id_ed25519"),
        (&["scan", "./d/id_ed25519"], "d/id_ed25519"),
        (&["scan", "././d"], "d/id_ed25519"),
        (&["scan", "d/./id_ed25519"], "d/id_ed25519"),
    ] {
        let out = keyscan(dir, args, None);
        let human = String::from_utf8_lossy(&out.stdout);
        assert!(
            human.starts_with(&format!("{want}:1-7 private key\n")),
            "{args:?}: {human}"
        );
        assert!(!human.contains("./"), "{args:?}: {human}");
        let (_, v) = json(dir, args, None);
        assert_eq!(findings(&v)[0]["path"], want, "{args:?}");
    }
    // The baseline records the same path, and the scan then passes.
    let out = keyscan(dir, &["scan", "--write-baseline", "b.json"], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let b: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("b.json")).unwrap()).unwrap();
    assert_eq!(b["keys"][0]["locations"][0]["path"], "d/id_ed25519", "{b}");
    let out = keyscan(
        dir,
        &["scan", "./d", "--baseline", "b.json", "--baseline-strict"],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// On a terminal (`--color always`) the fields keep their alignment: the
/// coloured report is the plain one plus colour codes.
#[test]
fn colours_do_not_break_the_alignment() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    rsa_pem(dir, "deploy.pem");
    let plain = keyscan(dir, &["--color", "never", "scan"], None);
    let coloured = keyscan(dir, &["--color", "always", "scan"], None);
    let plain = String::from_utf8(plain.stdout).unwrap();
    let coloured = String::from_utf8(coloured.stdout).unwrap();
    assert!(
        coloured.contains("\x1b[2mtype        \x1b[0m RSA 2048"),
        "{coloured:?}"
    );
    let sgr = regex::Regex::new("\x1b\\[[0-9;]*m").unwrap();
    assert_eq!(sgr.replace_all(&coloured, ""), plain);
    assert!(
        plain.contains("\n    type         RSA 2048, PKCS#1\n"),
        "{plain}"
    );
}

/// The summary counts keys and locations apart, and does not call a
/// look-alike that blocks (`block_unverified`) a private key.
#[test]
fn summary_counts_say_what_was_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (key, _) = ed25519(dir, "one");
    let key = fs::read(key).unwrap();
    fs::remove_file(dir.join("one")).unwrap();
    fs::remove_file(dir.join("one.pub")).unwrap();
    fs::create_dir_all(dir.join("a")).unwrap();
    fs::create_dir_all(dir.join("b")).unwrap();
    fs::write(dir.join("a/id"), &key).unwrap();
    fs::write(dir.join("b/id"), &key).unwrap();
    let last_line = |out: &std::process::Output| -> String {
        let stdout = String::from_utf8_lossy(&out.stdout);
        stdout.lines().last().unwrap_or("").to_string()
    };
    let out = keyscan(dir, &["scan", "--write-baseline", "b.json"], None);
    assert_eq!(
        last_line(&out),
        "keyscan: no private keys found in 2 files (1 known key (2 locations) suppressed by baseline)"
    );
    ed25519(&dir.join("a"), "other");
    let out = keyscan(dir, &["scan", "a", "b", "--baseline", "b.json"], None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        last_line(&out),
        "keyscan: 1 private key found in 4 files (1 known key (2 locations) suppressed by baseline)"
    );
    fs::remove_file(dir.join("a/other")).unwrap();
    fs::remove_file(dir.join("b/id")).unwrap();
    let out = keyscan(dir, &["scan", "a", "--baseline", "b.json"], None);
    assert_eq!(
        last_line(&out),
        "keyscan: no private keys found in 2 files (1 known key suppressed by baseline)"
    );

    // A look-alike that blocks under block_unverified is not a private key.
    let (path, _) = rsa_pem(dir, "k.pem");
    let mut lines: Vec<String> = key_text(&path).lines().map(String::from).collect();
    lines[10] = "A".repeat(64);
    lines.truncate(18);
    lines.push("-----END RSA PRIVATE KEY-----".into());
    fs::write(dir.join("broken.pem"), lines.join("\n")).unwrap();
    fs::write(
        dir.join("strict.toml"),
        "[policy]\nblock_unverified = true\n",
    )
    .unwrap();
    let strict = ["--config", "strict.toml", "scan"];
    let out = keyscan(dir, &[&strict[..], &["broken.pem"]].concat(), None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        last_line(&out),
        "keyscan: 1 unverified look-alike (blocking) found in 1 file"
    );
    let out = keyscan(dir, &[&strict[..], &["broken.pem", "k.pem"]].concat(), None);
    assert_eq!(
        last_line(&out),
        "keyscan: 1 private key and 1 unverified look-alike (blocking) found in 2 files"
    );
}

/// `keyscan --format json scan .` in `dir` on `threads` threads.
fn scan_on_threads(dir: &Path, threads: &str) -> (i32, serde_json::Value) {
    let out = std::process::Command::new(bin())
        .args(["--format", "json", "scan", "."])
        .current_dir(dir)
        .env("RAYON_NUM_THREADS", threads)
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).expect("JSON report");
    (out.status.code().unwrap_or(-1), v)
}

/// The walk runs on several threads, each reading into one buffer it
/// reuses: every key in a tree of many files is found once, at its own
/// path, and a file read after a larger one sees only its own bytes (on
/// one thread every file goes through the same buffer).
#[test]
fn parallel_walk_finds_every_key_once_and_buffers_leak_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for d in 0..40 {
        let sub = dir.join(format!("d{d:02}"));
        fs::create_dir(&sub).unwrap();
        for f in 0..25 {
            fs::write(sub.join(format!("f{f}.txt")), format!("small {d} {f}\n")).unwrap();
        }
    }
    let mut expected = Vec::new();
    for d in [3, 11, 19, 27, 35] {
        let (path, fp) = ed25519(&dir.join(format!("d{d:02}")), "id");
        expected.push((path.strip_prefix(dir).unwrap().display().to_string(), fp));
    }
    // A large file whose key lies past the end of every smaller file.
    let (tail, fp) = ed25519(dir, "tail");
    let mut big = b"filler line of text\n".repeat(20_000);
    big.extend(fs::read(&tail).unwrap());
    fs::remove_file(&tail).unwrap();
    fs::remove_file(dir.join("tail.pub")).unwrap();
    fs::write(dir.join("big.txt"), big).unwrap();
    expected.push(("big.txt".to_string(), fp));
    expected.sort();
    for threads in ["1", "2", "4"] {
        let (code, v) = scan_on_threads(dir, threads);
        assert_eq!(code, 1, "{threads} threads: {v:#}");
        let found: Vec<(String, String)> = findings(&v)
            .iter()
            .map(|f| {
                let s = |k: &str| f[k].as_str().unwrap().to_string();
                (s("path"), s("fingerprint"))
            })
            .collect();
        assert_eq!(found.len(), expected.len(), "{threads} threads");
        assert_eq!(found, expected, "{threads} threads");
    }
    let out = keyscan(dir, &["scan", "."], None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("6 private keys found in 1011 files"),
        "{stdout}"
    );
}

/// A directory named through a symbolic link is walked, as the link's
/// contents, and a linked file named on the command line is scanned.
#[cfg(unix)]
#[test]
fn symlinked_directory_and_file_arguments_are_scanned() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fs::create_dir(dir.join("real")).unwrap();
    ed25519(&dir.join("real"), "id");
    std::os::unix::fs::symlink("real", dir.join("link")).unwrap();
    std::os::unix::fs::symlink("real/id", dir.join("idlink")).unwrap();
    let (code, v) = json(dir, &["scan", "link", "idlink"], None);
    assert_eq!(code, 1, "{v:#}");
    let paths: Vec<&str> = findings(&v)
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["idlink", "link/id"], "{v:#}");
}
