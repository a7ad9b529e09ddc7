//! `keyscan audit`: fake homes and host dumps with keys made at test time.

use crate::support::{json, keyscan, ssh_fingerprint, tool};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// `ssh-keygen -t TYPE [-b BITS] -N PASS -C COMMENT -f DIR/PATH`; returns the fingerprint.
pub fn keygen(dir: &Path, path: &str, kind: &str, bits: Option<&str>, pass: &str) -> String {
    let file = dir.join(path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let mut args = vec!["-q", "-t", kind, "-N", pass, "-C", "test", "-f"];
    args.push(file.to_str().unwrap());
    if let Some(b) = bits {
        args.extend(["-b", b]);
    }
    tool("ssh-keygen", &args, dir);
    ssh_fingerprint(&file)
}

fn write(dir: &Path, path: &str, text: &str) {
    let file = dir.join(path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, text).unwrap();
}

fn public(dir: &Path, path: &str) -> String {
    std::fs::read_to_string(dir.join(format!("{path}.pub"))).unwrap()
}

fn chmod(dir: &Path, path: &str, mode: u32) {
    std::fs::set_permissions(dir.join(path), std::fs::Permissions::from_mode(mode)).unwrap();
}

fn entry<'a>(report: &'a Value, fp: &str) -> &'a Value {
    report["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["fingerprint"] == fp)
        .unwrap_or_else(|| panic!("no entry for {fp}: {report:#}"))
}

fn flags(report: &Value, fp: &str) -> Vec<String> {
    entry(report, fp)["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect()
}

/// web1: alice's key (also copied to bob on web2), authorized for root on
/// web1 next to a departed person's key and a malformed line; web2: bob's
/// home is 0777, with a DSA key and a 1024-bit RSA key under a weak
/// passphrase; alice also has a key under a strong passphrase.
struct Fleet {
    dir: tempfile::TempDir,
    alice: String,
    departed: String,
    dsa: String,
    rsa1024: String,
    strong: String,
}

fn fleet() -> Fleet {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let alice = keygen(
        d,
        "hosts/web1/home/alice/.ssh/id_ed25519",
        "ed25519",
        None,
        "",
    );
    std::fs::create_dir_all(d.join("hosts/web2/home/bob/.ssh")).unwrap();
    std::fs::copy(
        d.join("hosts/web1/home/alice/.ssh/id_ed25519"),
        d.join("hosts/web2/home/bob/.ssh/id_ed25519"),
    )
    .unwrap();
    let dsa = keygen(d, "hosts/web2/home/bob/.ssh/id_dsa", "dsa", None, "");
    let rsa1024 = keygen(
        d,
        "hosts/web2/home/bob/.ssh/id_rsa",
        "rsa",
        Some("1024"),
        "password",
    );
    let strong = keygen(
        d,
        "hosts/web1/home/alice/.ssh/work",
        "ed25519",
        None,
        "gravel-tundra-77-Quixotic",
    );
    let departed = keygen(d, "departed", "ed25519", None, "");
    let auth = format!(
        "{}not a key at all\nfrom=\"10.0.0.0/8\",no-pty {}",
        public(d, "hosts/web1/home/alice/.ssh/id_ed25519"),
        public(d, "departed"),
    );
    write(d, "hosts/web1/root/.ssh/authorized_keys", &auth);
    std::fs::remove_file(d.join("departed")).unwrap();
    std::fs::remove_file(d.join("departed.pub")).unwrap();
    chmod(d, "hosts/web2/home/bob", 0o777);
    Fleet {
        dir,
        alice,
        departed,
        dsa,
        rsa1024,
        strong,
    }
}

#[test]
fn audit_flags_each_risk_in_host_dumps() {
    let f = fleet();
    let (code, report) = json(f.dir.path(), &["audit", "--hosts", "hosts"], None);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["report"], "audit");
    let alice = flags(&report, &f.alice);
    for flag in [
        "unencrypted",
        "shared",
        "root-login",
        "no-from-restriction",
        "readable-by-others",
    ] {
        assert!(
            alice.contains(&flag.to_string()),
            "{flag} missing: {alice:?}"
        );
    }
    let copies = entry(&report, &f.alice)["private_copies"]
        .as_array()
        .unwrap()
        .clone();
    let hosts: Vec<&str> = copies.iter().map(|c| c["host"].as_str().unwrap()).collect();
    assert_eq!(hosts, ["web1", "web2"]);
    let exposed: Vec<bool> = copies.iter().map(|c| c["exposed"].is_string()).collect();
    assert_eq!(
        exposed,
        [false, true],
        "only bob's copy sits under the 0777 home"
    );
    let auth = &entry(&report, &f.alice)["authorized_in"][0];
    assert_eq!(auth["user"], "root");
    assert_eq!(auth["line"], 1);
    assert_eq!(auth["host_path"], "/root/.ssh/authorized_keys");

    let departed = flags(&report, &f.departed);
    assert_eq!(departed, ["authorized-without-known-owner", "root-login"]);
    let dept = &entry(&report, &f.departed)["authorized_in"][0];
    assert_eq!(dept["line"], 3);
    assert_eq!(dept["options"][0], "from=\"10.0.0.0/8\"");

    assert!(flags(&report, &f.dsa).contains(&"weak-algorithm".to_string()));
    let rsa = flags(&report, &f.rsa1024);
    assert!(rsa.contains(&"weak-algorithm".to_string()), "{rsa:?}");
    assert!(rsa.contains(&"weak-passphrase".to_string()), "{rsa:?}");
    assert!(!rsa.contains(&"unencrypted".to_string()), "{rsa:?}");
    let strong = entry(&report, &f.strong);
    assert_eq!(strong["flags"].as_array().unwrap().len(), 0, "{strong:#}");
    assert_eq!(strong["blocking"], false);
    assert_eq!(strong["private_copies"][0]["encrypted"], true);

    let bad = &report["malformed"][0];
    assert_eq!(bad["line"], 2, "{report:#}");
    assert!(bad["path"]
        .as_str()
        .unwrap()
        .ends_with("root/.ssh/authorized_keys"));
    // One entry per key: no fingerprint twice.
    let fps: Vec<&str> = (report["keys"].as_array().unwrap().iter())
        .map(|k| k["fingerprint"].as_str().unwrap())
        .collect();
    let mut unique = fps.clone();
    unique.dedup();
    assert_eq!(fps.len(), 5, "{fps:?}");
    assert_eq!(unique.len(), fps.len());
    follows_the_schema(&report);
}

/// The audit JSON against docs/keyscan-audit.schema.json.
fn follows_the_schema(report: &Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/keyscan-audit.schema.json");
    let schema: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let validator = jsonschema::options()
        .build(&schema)
        .expect("the schema compiles");
    let errors: Vec<String> = (validator.iter_errors(report))
        .map(|e| format!("{e} (at {})", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn known_keys_name_owners_and_policy_chooses_what_blocks() {
    let f = fleet();
    let d = f.dir.path();
    write(
        d,
        "known.toml",
        &format!(
            "[[keys]]\nfingerprint = \"{}\"\nowner = \"carol (left 2024)\"\nexpires = \"2020-01-01\"\n",
            f.departed
        ),
    );
    let (_, report) = json(
        d,
        &["audit", "--hosts", "hosts", "--known-keys", "known.toml"],
        None,
    );
    let departed = entry(&report, &f.departed);
    assert_eq!(departed["owner"], "carol (left 2024)");
    assert_eq!(
        flags(&report, &f.departed),
        ["root-login", "known-key-expired"]
    );

    // Only `stale` blocks, and nothing is older than a year: exit 0.
    write(d, "only-stale.toml", "[audit]\nblock = [\"stale\"]\n");
    let (code, _) = json(
        d,
        &["--config", "only-stale.toml", "audit", "--hosts", "hosts"],
        None,
    );
    assert_eq!(code, 0);
    // An old key file makes its key stale, and so exit 1.
    tool(
        "touch",
        &[
            "-d",
            "2020-01-01",
            "hosts/web2/home/bob/.ssh/id_dsa",
            "hosts/web2/home/bob/.ssh/id_dsa.pub",
        ],
        d,
    );
    let (code, report) = json(
        d,
        &["--config", "only-stale.toml", "audit", "--hosts", "hosts"],
        None,
    );
    assert_eq!(code, 1);
    assert!(flags(&report, &f.dsa).contains(&"stale".to_string()));
    assert!(!flags(&report, &f.alice).contains(&"stale".to_string()));

    write(d, "typo.toml", "[audit]\nblock = [\"stael\"]\n");
    let out = keyscan(d, &["--config", "typo.toml", "audit", "hosts"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown flag \"stael\""));
}

#[test]
fn a_clean_home_exits_0_and_a_group_readable_key_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fp = keygen(
        d,
        "home/dana/.ssh/id_ed25519",
        "ed25519",
        None,
        "gravel-tundra-77-Quixotic",
    );
    chmod(d, "home/dana", 0o700);
    let (code, report) = json(d, &["audit", "home/dana"], None);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(entry(&report, &fp)["private_copies"][0]["user"], "dana");

    chmod(d, "home/dana/.ssh/id_ed25519", 0o640);
    let (code, report) = json(d, &["audit", "home/dana"], None);
    assert_eq!(code, 1);
    assert_eq!(flags(&report, &fp), ["readable-by-others"]);
    let out = keyscan(d, &["--format", "sarif", "audit", "home/dana"], None);
    assert_eq!(out.status.code(), Some(1));
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "audit/readable-by-others");
    assert_eq!(result["level"], "error");
    assert_eq!(
        result["partialFingerprints"]["keyFingerprint/v1"],
        fp.as_str()
    );
    let human = keyscan(d, &["audit", "home/dana"], None);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("Blocking (1)"), "{text}");
    assert!(
        text.contains("mode 0640: group or others can read it"),
        "{text}"
    );
}

#[test]
fn merge_judges_sharing_and_owners_across_hosts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fp = keygen(d, "a/web1/home/ci/.ssh/deploy", "ed25519", None, "");
    std::fs::create_dir_all(d.join("b/web2/home/ci/.ssh")).unwrap();
    std::fs::copy(
        d.join("a/web1/home/ci/.ssh/deploy"),
        d.join("b/web2/home/ci/.ssh/deploy"),
    )
    .unwrap();
    let eve_fp = keygen(d, "laptop/home/eve/.ssh/id_ed25519", "ed25519", None, "");
    write(
        d,
        "b/web2/home/ci/.ssh/authorized_keys",
        &public(d, "laptop/home/eve/.ssh/id_ed25519"),
    );
    let (_, a) = json(d, &["audit", "--hosts", "a"], None);
    let (_, b) = json(d, &["audit", "--hosts", "b"], None);
    let (_, laptop) = json(d, &["audit", "--host-from-path", "1", "laptop"], None);
    assert!(!flags(&a, &fp).contains(&"shared".to_string()));
    assert!(flags(&b, &eve_fp).contains(&"authorized-without-known-owner".to_string()));
    for (name, v) in [("a.json", &a), ("b.json", &b), ("laptop.json", &laptop)] {
        std::fs::write(d.join(name), serde_json::to_vec(v).unwrap()).unwrap();
    }
    let (code, merged) = json(
        d,
        &["audit", "--merge", "a.json", "b.json", "laptop.json"],
        None,
    );
    assert_eq!(code, 1);
    assert!(
        flags(&merged, &fp).contains(&"shared".to_string()),
        "{merged:#}"
    );
    let eve = flags(&merged, &eve_fp);
    assert!(
        !eve.contains(&"authorized-without-known-owner".to_string()),
        "{eve:?}"
    );
    assert_eq!(
        entry(&merged, &fp)["private_copies"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    follows_the_schema(&merged);

    follows_the_schema(&merged);
    std::fs::write(d.join("scan.json"), "{\"findings\":[]}").unwrap();
    let out = keyscan(d, &["audit", "--merge", "scan.json"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("scan.json: not a keyscan audit JSON report")
    );
}
