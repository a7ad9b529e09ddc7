//! Reports other tools read, checked by those tools' own rules: SARIF against
//! the official SARIF 2.1.0 schema and Microsoft's SARIF validator (the npm
//! package `@microsoft/sarif-multitool-linux`, which ships both), GitLab's
//! secret-detection report against its required structure, and
//! `--format json` against the schema in docs/. Keys are generated now.

use crate::support;
use crate::support::gitrepo::{text, TempRepo};
use crate::support::{bin, ed25519, in_ci, keyscan, rsa_pem, tool, tools_dir};
use keyscan::report::{self, Format, Mode, Report, Style};
use keyscan::scan::finding::{CommitInfo, Finding};
use keyscan::scan::{Origin, Scanner};
use serde_json::{json, Value};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const MULTITOOL_PACKAGE: &str = "@microsoft/sarif-multitool-linux@5.7.0";

/// The multitool package directory (binary + `sarif-2.1.0.json`), installed
/// with npm when missing. `None` only outside CI when npm cannot install it:
/// in CI a missing validator fails the test.
fn multitool() -> Option<&'static Path> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        let prefix = tools_dir().join("npm");
        let pkg = prefix.join("node_modules/@microsoft/sarif-multitool-linux");
        if !pkg.join("Sarif.Multitool").is_file() {
            let _ = fs::create_dir_all(&prefix);
            let installed = Command::new("npm")
                .args(["install", "--no-audit", "--no-fund", "--prefix"])
                .arg(&prefix)
                .arg(MULTITOOL_PACKAGE)
                .output();
            if let Ok(out) = &installed {
                if !out.status.success() {
                    eprintln!(
                        "npm install failed: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            }
        }
        let exe = pkg.join("Sarif.Multitool");
        if !exe.is_file() {
            let why = format!("{MULTITOOL_PACKAGE} is not installed (npm missing or offline)");
            assert!(!in_ci(), "{why}: .ci/run installs it");
            eprintln!("skipping the SARIF validator checks: {why}");
            return None;
        }
        // npm may not run the package's postinstall `chmod`.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&exe, fs::Permissions::from_mode(0o755)).unwrap();
        }
        Some(pkg)
    })
    .as_deref()
}

fn schema_errors(schema: &Value, doc: &Value) -> Vec<String> {
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .expect("the schema compiles");
    validator
        .iter_errors(doc)
        .map(|e| format!("{e} (at {})", e.instance_path()))
        .collect()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

/// What Microsoft's validator objects to: errors and warnings, plus the
/// schema check. SARIF2005 (no `informationUri`) is expected while the
/// package names no repository to point at.
fn sarif_problems(pkg: &Path, doc: &Value) -> Vec<String> {
    let schema = read_json(&pkg.join("sarif-2.1.0.json"));
    let mut problems = schema_errors(&schema, doc);
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in.sarif");
    let output = tmp.path().join("validation.sarif");
    fs::write(&input, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    let out = Command::new(pkg.join("Sarif.Multitool"))
        .arg("validate")
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .arg("--json-schema")
        .arg(pkg.join("sarif-2.1.0.json"))
        .args(["--level", "Error;Warning;Note", "--rule-kind", "Gh;Sarif"])
        .args(["--log", "ForceOverwrite"])
        .env("DOTNET_CLI_TELEMETRY_OPTOUT", "1")
        // No ICU needed on a minimal machine.
        .env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")
        .output()
        .expect("run Sarif.Multitool");
    assert!(
        output.is_file(),
        "the validator wrote no log: {}",
        text(&out)
    );
    let log = read_json(&output);
    for r in log["runs"][0]["results"].as_array().unwrap() {
        let level = r["level"].as_str().unwrap_or("warning");
        let rule = r["ruleId"].as_str().unwrap_or("?");
        let expected = rule == "SARIF2005" && env!("CARGO_PKG_REPOSITORY").is_empty();
        if (level == "error" || level == "warning") && !expected {
            problems.push(format!("{level} {rule}: {}", r["message"]));
        }
    }
    // A log the validator could not even read shows up as a failed invocation.
    for inv in log["runs"][0]["invocations"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if inv["executionSuccessful"] == false {
            problems.push(format!("validator run failed: {inv}"));
        }
    }
    problems
}

fn run_json(dir: &Path, args: &[&str]) -> (i32, Value) {
    let out = keyscan(dir, args, None);
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&out)));
    (out.status.code().unwrap_or(-1), v)
}

fn body_lines(key_file: &Path) -> Vec<String> {
    fs::read_to_string(key_file)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 8)
        .map(String::from)
        .collect()
}

/// A directory holding: an Ed25519 key at `id`, an RSA key under a path with
/// a space and non-ASCII characters, a passphrase-protected key, and a
/// truncated look-alike (unverified, so a warning).
struct Keys {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    ed25519_fp: String,
    rsa_fp: String,
    encrypted_fp: String,
    files: Vec<PathBuf>,
}

fn keys() -> Keys {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().canonicalize().unwrap().join("work");
    let odd = dir.join("deploy keys/clé");
    fs::create_dir_all(&odd).unwrap();
    let (id, ed25519_fp) = ed25519(&dir, "id");
    let (rsa, rsa_fp) = rsa_pem(&odd, "prod #1.pem");
    let locked = dir.join("locked");
    tool(
        "ssh-keygen",
        &["-q", "-t", "ed25519", "-N", "correct horse", "-f", "locked"],
        &dir,
    );
    let encrypted_fp = support::ssh_fingerprint(&locked.with_extension("pub"));
    // The first half of a real key: has the header, does not parse.
    let text = fs::read_to_string(&rsa).unwrap();
    let half: String = text.lines().take(8).collect::<Vec<_>>().join("\n");
    fs::write(
        dir.join("broken.pem"),
        format!("{half}\n-----END RSA PRIVATE KEY-----\n"),
    )
    .unwrap();
    for f in ["id.pub", "locked.pub"] {
        fs::remove_file(dir.join(f)).unwrap();
    }
    Keys {
        _tmp: tmp,
        files: vec![id, rsa, locked],
        dir,
        ed25519_fp,
        rsa_fp,
        encrypted_fp,
    }
}

fn scanner() -> Scanner {
    let rules = keyscan::rules::builtin().unwrap();
    Scanner::new(
        keyscan::rules::Engine::new(rules).unwrap(),
        Default::default(),
    )
}

/// Findings as `keyscan history` makes them: the key's blob at a path in a
/// commit, with the refs that still hold it. Rendered through the library,
/// since history mode lives in another command.
fn git_mode_report(k: &Keys, format: Format) -> Value {
    let data = fs::read(&k.files[0]).unwrap();
    let origin = Origin {
        path: "config/deploy key".to_string(),
        blob: Some("e69de29bb2d1d6434b8b29ae775ad8c2e48c5391".to_string()),
        commit: Some(CommitInfo {
            id: "0123456789abcdef0123456789abcdef01234567".to_string(),
            author: Some("Ada Lovelace".to_string()),
            email: Some("ada@example.com".to_string()),
            date: Some("2019-03-01T12:00:00+01:00".to_string()),
            r#ref: Some("refs/heads/main".to_string()),
        }),
    };
    let mut findings: Vec<Finding> = scanner().scan(&data, &origin);
    assert_eq!(findings.len(), 1);
    findings[0].still_in = Some(vec!["refs/heads/main".to_string()]);
    let report = Report {
        findings,
        mode: Mode::History,
        root: Some(k.dir.clone()),
        scanned: "3 commits".to_string(),
        ..Report::default()
    };
    let mut out = Vec::new();
    let style = Style {
        color: false,
        quiet: false,
    };
    report::render(&report, format, &style, &mut out).unwrap();
    serde_json::from_slice(&out).unwrap()
}

// ---------------------------------------------------------------- SARIF

#[test]
fn sarif_from_a_scan_is_valid_and_locates_every_key() {
    let k = keys();
    // One more key outside the scanned root, named by absolute path.
    let outside = tempfile::tempdir().unwrap();
    let (far, far_fp) = ed25519(&outside.path().canonicalize().unwrap(), "far key");
    let out = keyscan(
        &k.dir,
        &["--format", "sarif", "scan", ".", far.to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();

    if let Some(pkg) = multitool() {
        let problems = sarif_problems(pkg, &doc);
        assert!(problems.is_empty(), "{problems:#?}\n{doc:#}");
    }

    let run = &doc["runs"][0];
    let root = format!("file://{}/", k.dir.display());
    assert_eq!(run["originalUriBaseIds"]["%SRCROOT%"]["uri"], root);
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    let by_uri = |uri: &str| -> &Value {
        results
            .iter()
            .find(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == uri)
            .unwrap_or_else(|| panic!("no result at {uri}: {doc:#}"))
    };
    for (uri, fp, level) in [
        ("id", k.ed25519_fp.as_str(), "error"),
        (
            "deploy%20keys/cl%C3%A9/prod%20%231.pem",
            k.rsa_fp.as_str(),
            "error",
        ),
        ("locked", k.encrypted_fp.as_str(), "error"),
    ] {
        let r = by_uri(uri);
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%", "{uri}");
        assert_eq!(loc["region"]["startLine"], 1, "{uri}");
        assert_eq!(r["level"], level, "{uri}");
        assert_eq!(r["partialFingerprints"]["keyFingerprint/v1"], fp, "{uri}");
        let message = r["message"]["text"].as_str().unwrap();
        assert!(message.contains(fp), "{message}");
        // ruleIndex points at the rule named by ruleId.
        let rule = &rules[r["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(rule["id"], r["ruleId"]);
    }
    assert_eq!(by_uri("locked")["properties"]["status"], "encrypted");
    // The look-alike is a warning, not an error.
    let broken = by_uri("broken.pem");
    assert_eq!(broken["level"], "warning");
    assert_eq!(broken["properties"]["status"], "unverified");
    // Outside the root: an absolute file URI, no base.
    let far_uri = format!("file://{}", far.display().to_string().replace(' ', "%20"));
    let far_result = by_uri(&far_uri);
    assert!(
        far_result["locations"][0]["physicalLocation"]["artifactLocation"]
            .get("uriBaseId")
            .is_none()
    );
    assert_eq!(
        far_result["partialFingerprints"]["keyFingerprint/v1"],
        far_fp
    );

    // Rule metadata: help with the remediation, severity for code scanning.
    for rule in rules {
        assert!(rule["name"].as_str().is_some_and(|n| !n.is_empty()));
        assert!(rule["shortDescription"]["text"].is_string());
        assert!(rule["fullDescription"]["text"].is_string());
        let md = rule["help"]["markdown"].as_str().unwrap();
        assert!(
            md.contains("Rotate") && md.contains("Session Manager"),
            "{md}"
        );
        assert_eq!(rule["defaultConfiguration"]["level"], "error");
        assert_eq!(rule["properties"]["security-severity"], "9.0");
        assert!(rule["properties"]["tags"]
            .as_array()
            .unwrap()
            .contains(&json!("security")));
    }

    // No key body anywhere in the log.
    let shown = String::from_utf8_lossy(&out.stdout);
    for f in k.files.iter().chain([&far]) {
        for line in body_lines(f) {
            assert!(!shown.contains(&line), "SARIF leaks a body line of {f:?}");
        }
    }
}

#[test]
fn the_validator_rejects_what_keyscan_used_to_write() {
    // An absolute path written as a relative `uri` (SARIF1004): proves the
    // validator check above can fail.
    let Some(pkg) = multitool() else { return };
    let doc = json!({
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": { "name": "keyscan", "rules": [{ "id": "pem-private-key" }] } },
            "results": [{
                "ruleId": "pem-private-key",
                "level": "error",
                "message": { "text": "RSA 2048 private key." },
                "locations": [{ "physicalLocation": {
                    "artifactLocation": { "uri": "/home/me/k.pem" },
                    "region": { "startLine": 1 },
                }}],
            }],
        }],
    });
    let problems = sarif_problems(pkg, &doc);
    assert!(
        problems.iter().any(|p| p.contains("SARIF1004")),
        "{problems:#?}"
    );
    // And the schema check catches a level SARIF does not have.
    let mut bad_level = doc.clone();
    bad_level["runs"][0]["results"][0]["level"] = json!("blocking");
    let schema = read_json(&pkg.join("sarif-2.1.0.json"));
    assert!(!schema_errors(&schema, &bad_level).is_empty());
}

#[test]
fn sarif_alerts_follow_a_key_that_moves() {
    let k = keys();
    let sarif = |dir: &Path| -> Value {
        let out = keyscan(dir, &["--format", "sarif", "scan", "."], None);
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let key_result = |doc: &Value| -> (Value, Value) {
        let r = doc["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["partialFingerprints"]["keyFingerprint/v1"] == k.ed25519_fp.as_str())
            .cloned()
            .expect("the Ed25519 key is reported");
        (
            r["partialFingerprints"].clone(),
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].clone(),
        )
    };
    let (before_fp, before_uri) = key_result(&sarif(&k.dir));
    fs::create_dir_all(k.dir.join("moved/here")).unwrap();
    fs::rename(k.dir.join("id"), k.dir.join("moved/here/id_ed25519")).unwrap();
    let (after_fp, after_uri) = key_result(&sarif(&k.dir));
    assert_eq!(before_fp, after_fp);
    assert_eq!(before_uri, "id");
    assert_eq!(after_uri, "moved/here/id_ed25519");
}

#[test]
fn sarif_in_a_hook_is_relative_to_the_work_tree_top() {
    let r = TempRepo::new();
    let (_, fp) = ed25519(&r.home, "gen");
    fs::create_dir_all(r.dir.join("deploy/sub")).unwrap();
    fs::copy(r.home.join("gen"), r.dir.join("deploy/k.pem")).unwrap();
    r.ok(&["add", "deploy/k.pem"]);
    // Run from a subdirectory: paths still count from the top.
    let out = r
        .command(bin(), &r.dir.join("deploy/sub"))
        .args(["--format", "sarif", "pre-commit"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let run = &doc["runs"][0];
    let top = r.dir.canonicalize().unwrap();
    assert_eq!(
        run["originalUriBaseIds"]["%SRCROOT%"]["uri"],
        format!("file://{}/", top.display())
    );
    let result = &run["results"][0];
    let artifact = &result["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(artifact["uri"], "deploy/k.pem");
    assert_eq!(artifact["uriBaseId"], "%SRCROOT%");
    assert_eq!(result["partialFingerprints"]["keyFingerprint/v1"], fp);
    assert!(result["properties"]["blob"].is_string());
    if let Some(pkg) = multitool() {
        let problems = sarif_problems(pkg, &doc);
        assert!(problems.is_empty(), "{problems:#?}");
    }
}

#[test]
fn sarif_in_git_modes_names_the_commit() {
    let k = keys();
    let doc = git_mode_report(&k, Format::Sarif);
    let result = &doc["runs"][0]["results"][0];
    let commit = &result["properties"]["commit"];
    assert_eq!(commit["id"], "0123456789abcdef0123456789abcdef01234567");
    assert_eq!(commit["author"], "Ada Lovelace");
    assert_eq!(commit["ref"], "refs/heads/main");
    assert_eq!(result["properties"]["stillIn"], json!(["refs/heads/main"]));
    let message = result["message"]["text"].as_str().unwrap();
    assert!(
        message.contains("commit 0123456789abcdef0123456789abcdef01234567"),
        "{message}"
    );
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "config/deploy%20key"
    );
    if let Some(pkg) = multitool() {
        let problems = sarif_problems(pkg, &doc);
        assert!(problems.is_empty(), "{problems:#?}");
    }
}

// ---------------------------------------------------------------- GitLab

fn gitlab_schema() -> Value {
    read_json(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/schemas/gitlab-secret-detection-report-15.schema.json"),
    )
}

/// Problems with `doc` by the test schema and, when `KEYSCAN_GITLAB_SCHEMA`
/// names GitLab's published `secret-detection-report-format.json` (no
/// package registry ships it), by that one too.
fn gitlab_errors(doc: &Value) -> Vec<String> {
    let mut errors = schema_errors(&gitlab_schema(), doc);
    if let Some(path) = std::env::var_os("KEYSCAN_GITLAB_SCHEMA") {
        let published = read_json(Path::new(&path));
        errors.extend(
            schema_errors(&published, doc)
                .into_iter()
                .map(|e| format!("published schema: {e}")),
        );
    }
    errors
}

#[test]
fn gitlab_report_follows_the_secret_detection_schema() {
    let k = keys();
    let (code, doc) = run_json(&k.dir, &["--format", "gitlab", "scan", "."]);
    assert_eq!(code, 1);
    let errors = gitlab_errors(&doc);
    assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");

    assert!(doc["version"].as_str().unwrap().starts_with("15."));
    let scan = &doc["scan"];
    assert_eq!(scan["type"], "secret_detection");
    assert_eq!(scan["status"], "success");
    assert_eq!(scan["analyzer"]["id"], "keyscan");
    assert!(scan["start_time"].as_str() <= scan["end_time"].as_str());
    let vulns = doc["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns.len(), 4, "{doc:#}");
    let by_file = |file: &str| -> &Value {
        vulns
            .iter()
            .find(|v| v["location"]["file"] == file)
            .unwrap_or_else(|| panic!("no vulnerability in {file}: {doc:#}"))
    };
    let rsa = by_file("deploy keys/clé/prod #1.pem");
    assert_eq!(rsa["category"], "secret_detection");
    assert_eq!(rsa["severity"], "Critical");
    assert_eq!(rsa["name"], "RSA 2048 private key");
    assert_eq!(rsa["location"]["start_line"], 1);
    assert_eq!(rsa["location"]["commit"]["sha"], "0000000");
    assert!(rsa["description"].as_str().unwrap().contains(&k.rsa_fp));
    assert!(rsa["identifiers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["type"] == "key_fingerprint" && i["value"] == k.rsa_fp.as_str()));
    assert_eq!(by_file("locked")["severity"], "High");
    assert_eq!(by_file("broken.pem")["severity"], "Low");
    // Ids are stable across runs and distinct between findings.
    let (_, again) = run_json(&k.dir, &["--format", "gitlab", "scan", "."]);
    let ids = |d: &Value| -> Vec<String> {
        d["vulnerabilities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&doc), ids(&again));
    let mut unique = ids(&doc);
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 4);
    let shown = doc.to_string();
    for f in &k.files {
        for line in body_lines(f) {
            assert!(!shown.contains(&line), "the GitLab report leaks {f:?}");
        }
    }
}

#[test]
fn gitlab_report_in_git_modes_carries_the_commit() {
    let k = keys();
    let doc = git_mode_report(&k, Format::Gitlab);
    let errors = gitlab_errors(&doc);
    assert!(errors.is_empty(), "{errors:#?}");
    let loc = &doc["vulnerabilities"][0]["location"];
    assert_eq!(loc["file"], "config/deploy key");
    assert_eq!(
        loc["commit"]["sha"],
        "0123456789abcdef0123456789abcdef01234567"
    );
    assert_eq!(loc["commit"]["author"], "Ada Lovelace <ada@example.com>");
    assert_eq!(loc["commit"]["date"], "2019-03-01T12:00:00+01:00");
}

#[test]
fn the_gitlab_schema_rejects_a_report_without_its_scan() {
    let mut doc = json!({ "version": "15.0.7", "vulnerabilities": [] });
    assert!(!schema_errors(&gitlab_schema(), &doc).is_empty());
    doc["scan"] = json!({ "type": "sast" });
    assert!(!schema_errors(&gitlab_schema(), &doc).is_empty());
}

// ---------------------------------------------------------------- JSON

fn json_schema() -> Value {
    read_json(&Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/keyscan-report.schema.json"))
}

#[test]
fn json_output_follows_its_published_schema() {
    let schema = json_schema();
    let k = keys();
    let (_, scan) = run_json(&k.dir, &["--format", "json", "scan", "."]);
    assert_eq!(scan["findings"].as_array().unwrap().len(), 4);
    let git = git_mode_report(&k, Format::Json);
    assert!(git["findings"][0]["commit"]["email"].is_string());
    assert!(git["findings"][0]["still_in"].is_array());

    let r = TempRepo::new();
    fs::copy(&k.files[0], r.dir.join("k")).unwrap();
    r.ok(&["add", "k"]);
    let staged = r
        .command(bin(), &r.dir)
        .args(["--format", "json", "pre-commit"])
        .output()
        .unwrap();
    let staged: Value = serde_json::from_slice(&staged.stdout).unwrap();
    assert!(staged["findings"][0]["blob"].is_string());

    for (what, doc) in [("scan", &scan), ("history", &git), ("pre-commit", &staged)] {
        let errors = schema_errors(&schema, doc);
        assert!(errors.is_empty(), "{what}: {errors:#?}\n{doc:#}");
    }

    // The schema has teeth: a missing field or an undocumented one fails.
    let mut missing = scan.clone();
    missing["findings"][0]
        .as_object_mut()
        .unwrap()
        .remove("fingerprint");
    assert!(!schema_errors(&schema, &missing).is_empty());
    let mut extra = scan.clone();
    extra["findings"][0]["secret"] = json!("x");
    assert!(!schema_errors(&schema, &extra).is_empty());
}

#[test]
fn the_readme_documents_every_json_field() {
    let readme =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let schema = json_schema();
    let finding = &schema["definitions"]["finding"]["properties"];
    let commit = &schema["definitions"]["commit"]["properties"];
    for field in finding
        .as_object()
        .unwrap()
        .keys()
        .chain(commit.as_object().unwrap().keys())
    {
        assert!(
            readme.contains(&format!("| `{field}`"))
                || readme.contains(&format!("`commit.{field}`")),
            "README's JSON field table lacks {field}"
        );
    }
}

/// A blobless partial clone lacks old blobs: keyscan exits 2, and the
/// GitLab and SARIF reports say the scan failed, and why, instead of
/// `success`.
#[test]
fn reports_from_a_partial_clone_say_the_scan_failed() {
    let r = TempRepo::new();
    r.ok(&["config", "uploadpack.allowFilter", "true"]);
    r.write("notes.txt", "version one\n");
    r.ok(&["add", "-A"]);
    r.ok(&["commit", "-q", "-m", "one"]);
    let old_blob = r.ok(&["rev-parse", "HEAD:notes.txt"]);
    let (key, _) = ed25519(&r.home, "tip");
    r.write("notes.txt", "version two\n");
    r.write("tip.key", &fs::read_to_string(key).unwrap());
    r.ok(&["add", "-A"]);
    r.ok(&["commit", "-q", "-m", "two"]);
    let partial = r.home.join("partial");
    let url = format!("file://{}", r.dir.display());
    r.ok(&[
        "clone",
        "-q",
        "--filter=blob:none",
        &url,
        partial.to_str().unwrap(),
    ]);

    let run = |format: &str| -> (i32, Value) {
        let out = r
            .command(bin(), &partial)
            .args(["--format", format, "history"])
            .output()
            .unwrap();
        let doc =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
        (out.status.code().unwrap_or(-1), doc)
    };
    let (code, doc) = run("gitlab");
    assert_eq!(code, 2, "{doc:#}");
    let errors = gitlab_errors(&doc);
    assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
    let scan = &doc["scan"];
    assert_eq!(scan["status"], "failure", "{doc:#}");
    assert_eq!(scan["messages"][0]["level"], "fatal", "{doc:#}");
    assert!(
        scan["messages"][0]["value"]
            .as_str()
            .unwrap()
            .contains("could not be read: not everything was scanned"),
        "{doc:#}"
    );
    let messages = scan["messages"].to_string();
    assert!(messages.contains(&old_blob), "{doc:#}");
    assert_eq!(
        doc["vulnerabilities"].as_array().unwrap().len(),
        1,
        "{doc:#}"
    );

    let (code, doc) = run("sarif");
    assert_eq!(code, 2);
    let invocation = &doc["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false, "{doc:#}");
    assert!(invocation["toolExecutionNotifications"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["level"] == "error" && n.to_string().contains(&old_blob)));

    let (code, doc) = run("json");
    assert_eq!(code, 2);
    assert!(doc["warnings"].to_string().contains(&old_blob), "{doc:#}");
}
