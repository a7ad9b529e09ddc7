//! `keyscan revoke-plan`: plans checked against keys, AWS JSON and
//! authorized_keys files made at test time; the removal command is run on
//! a copy.

use crate::support::{json, keyscan, ssh_fingerprint, tool};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn sh(dir: &Path, script: &str) -> String {
    let out = Command::new("sh")
        .args(["-c", script])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn openssl_rsa(dir: &Path, name: &str) {
    tool(
        "openssl",
        &["genrsa", "-traditional", "-out", name, "2048"],
        dir,
    );
}

fn pub_line(dir: &Path, key: &str) -> String {
    sh(dir, &format!("ssh-keygen -y -f {key}"))
}

/// Keys and the fingerprints AWS shows for them, as AWS documents them.
struct Aws {
    dir: tempfile::TempDir,
    created_sha1: String,
    imported_md5: String,
    ed25519_sha256: String,
}

fn setup() -> Aws {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl_rsa(d, "created.pem");
    openssl_rsa(d, "imported.pem");
    openssl_rsa(d, "decoy.pem");
    tool(
        "ssh-keygen",
        &["-q", "-t", "ed25519", "-N", "", "-f", "ed"],
        d,
    );
    let last = |s: String| s.split_whitespace().last().unwrap().to_string();
    let created_sha1 = last(sh(
        d,
        "openssl pkcs8 -in created.pem -nocrypt -topk8 -outform DER | openssl sha1 -c",
    ));
    let imported_md5 = last(sh(
        d,
        "openssl rsa -in imported.pem -pubout -outform DER 2>/dev/null | openssl md5 -c",
    ));
    let decoy_sha1 = last(sh(
        d,
        "openssl pkcs8 -in decoy.pem -nocrypt -topk8 -outform DER | openssl sha1 -c",
    ));
    let ed25519_sha256 = sh(
        d,
        "cut -d' ' -f2 ed.pub | base64 -d | openssl sha256 -binary | base64",
    );
    let pairs = serde_json::json!({"KeyPairs": [
        {"KeyPairId": "key-0created", "KeyName": "created", "KeyFingerprint": created_sha1, "KeyType": "rsa"},
        {"KeyPairId": "key-0imported", "KeyName": "imported", "KeyFingerprint": imported_md5, "KeyType": "rsa"},
        {"KeyPairId": "key-0ed", "KeyName": "ed", "KeyFingerprint": ed25519_sha256, "KeyType": "ed25519"},
        {"KeyPairId": "key-0decoy", "KeyName": "decoy", "KeyFingerprint": decoy_sha1, "KeyType": "rsa"},
        {"KeyPairId": "key-0other", "KeyName": "other", "KeyFingerprint": "1f:51:ae:28:bf:89:e9:d8:1f:25:5d:37:2d:7d:b8:ca:9f:f5:f1:6f", "KeyType": "rsa"}
    ]});
    std::fs::write(d.join("pairs.json"), pairs.to_string()).unwrap();
    let instances = serde_json::json!({"Reservations": [
        {"Instances": [
            {"InstanceId": "i-0created", "KeyName": "created", "State": {"Name": "running"},
             "Tags": [{"Key": "Name", "Value": "web"}], "PublicDnsName": "ec2-203-0-113-1.compute-1.amazonaws.com"},
            {"InstanceId": "i-0decoy", "KeyName": "decoy", "State": {"Name": "running"}}
        ]},
        {"Instances": [
            {"InstanceId": "i-0ed", "KeyName": "ed", "State": {"Name": "stopped"}},
            {"InstanceId": "i-0nokey", "State": {"Name": "running"}}
        ]}
    ]});
    std::fs::write(d.join("instances.json"), instances.to_string()).unwrap();
    Aws {
        dir,
        created_sha1,
        imported_md5,
        ed25519_sha256,
    }
}

fn plan_key<'a>(plan: &'a Value, fp: &str) -> &'a Value {
    plan["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["fingerprint"] == fp)
        .unwrap_or_else(|| panic!("no plan for {fp}: {plan:#}"))
}

fn ids(v: &Value, field: &str) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x[field].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn plan_matches_every_aws_fingerprint_form_and_the_instances() {
    let a = setup();
    let d = a.dir.path();
    // A scan report for the AWS-created key, the imported key's public
    // half and the Ed25519 private key given directly.
    let scan = keyscan(d, &["--format", "json", "scan", "created.pem"], None);
    std::fs::write(d.join("scan.json"), &scan.stdout).unwrap();
    std::fs::write(d.join("imported.pub"), pub_line(d, "imported.pem") + "\n").unwrap();
    let args = [
        "revoke-plan",
        "scan.json",
        "imported.pub",
        "ed",
        "--aws-key-pairs",
        "pairs.json",
        "--aws-instances",
        "instances.json",
    ];
    let (code, plan) = json(d, &args, None);
    assert_eq!(code, 0, "{plan:#}");
    assert_eq!(plan["keys"].as_array().unwrap().len(), 3);

    let created = plan_key(&plan, &ssh_fingerprint(&d.join("created.pem")));
    assert_eq!(ids(&created["key_pairs"], "key_pair_id"), ["key-0created"]);
    assert_eq!(
        created["key_pairs"][0]["key_fingerprint"],
        a.created_sha1.as_str()
    );
    assert_eq!(
        created["key_pairs"][0]["command"],
        "aws ec2 delete-key-pair --key-pair-id key-0created"
    );
    assert_eq!(ids(&created["instances"], "instance_id"), ["i-0created"]);
    let inst = &created["instances"][0];
    assert!(inst["ssm_command"].as_str().unwrap().starts_with(
        "aws ssm send-command --instance-ids i-0created --document-name AWS-RunShellScript"
    ));
    assert!(inst["instance_connect_command"]
        .as_str()
        .unwrap()
        .contains("aws ec2-instance-connect send-ssh-public-key --instance-id i-0created"));

    let imported = plan_key(&plan, &ssh_fingerprint(&d.join("imported.pem")));
    assert_eq!(
        ids(&imported["key_pairs"], "key_pair_id"),
        ["key-0imported"]
    );
    assert_eq!(
        imported["key_pairs"][0]["key_fingerprint"],
        a.imported_md5.as_str()
    );
    assert_eq!(imported["instances"].as_array().unwrap().len(), 0);

    let ed = plan_key(&plan, &ssh_fingerprint(&d.join("ed")));
    assert_eq!(ids(&ed["key_pairs"], "key_pair_id"), ["key-0ed"]);
    assert_eq!(
        ed["key_pairs"][0]["key_fingerprint"],
        a.ed25519_sha256.as_str()
    );
    assert_eq!(ids(&ed["instances"], "instance_id"), ["i-0ed"]);

    let note = plan["instances_note"].as_str().unwrap();
    assert!(note.contains("does not remove its public key"), "{note}");
    let alts = ids(&plan["alternatives"], "name");
    assert_eq!(
        alts,
        [
            "EC2 Instance Connect",
            "Session Manager",
            "short-lived SSH certificates",
            "CI OIDC"
        ]
    );
    // Decoys match nothing.
    let text = plan.to_string();
    assert!(
        !text.contains("key-0decoy") && !text.contains("i-0decoy") && !text.contains("key-0other")
    );

    let md = keyscan(
        d,
        &[
            "--format",
            "markdown",
            "revoke-plan",
            "scan.json",
            "ed",
            "--aws-key-pairs",
            "pairs.json",
        ],
        None,
    );
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(md.starts_with("# Revocation plan"), "{md}");
    assert!(md.contains("- [ ] created (key-0created)"), "{md}");
    assert!(
        md.contains("```sh\n  aws ec2 delete-key-pair --key-pair-id key-0created"),
        "{md}"
    );
}

#[test]
fn removal_command_deletes_only_the_leaked_lines_byte_for_byte() {
    let a = setup();
    let d = a.dir.path();
    let leaked = pub_line(d, "created.pem");
    let blob = leaked.split_whitespace().nth(1).unwrap();
    let other1 = pub_line(d, "decoy.pem");
    let other2 = std::fs::read_to_string(d.join("ed.pub")).unwrap();
    let original = format!(
        "# team keys\n{other1} alice@laptop\r\nfrom=\"10.0.0.0/8\",command=\"/usr/bin/backup \\\"x y\\\"\",no-pty {leaked} renamed-comment\n\
         {}\tssh-rsa {blob} bob\n   \nnot a key line\n{}",
        "restrict", other2.trim_end()
    );
    std::fs::write(d.join("authorized_keys"), &original).unwrap();
    std::fs::write(d.join("copy"), &original).unwrap();
    let (code, plan) = json(
        d,
        &[
            "revoke-plan",
            "created.pem",
            "--authorized-keys",
            "authorized_keys",
            "--aws-key-pairs",
            "pairs.json",
            "--aws-instances",
            "instances.json",
        ],
        None,
    );
    assert_eq!(code, 0);
    let step = &plan["keys"][0]["authorized_keys"][0];
    assert_eq!(step["path"], "authorized_keys");
    assert_eq!(step["lines"], serde_json::json!([3, 4]));
    assert_eq!(step["options"][1][0], "restrict");
    let warn = plan["warnings"][0].as_str().unwrap();
    assert!(warn.starts_with("authorized_keys:6:"), "{warn}");

    let command = step["command"]
        .as_str()
        .unwrap()
        .replace(" authorized_keys", " copy");
    assert!(command.ends_with(" copy"), "{command}");
    sh(d, &command);
    let after = std::fs::read(d.join("copy")).unwrap();
    let expected: Vec<&str> = original
        .split_inclusive('\n')
        .enumerate()
        .filter(|(i, _)| *i != 2 && *i != 3)
        .map(|(_, l)| l)
        .collect();
    assert_eq!(String::from_utf8(after).unwrap(), expected.concat());
    assert_eq!(
        std::fs::read_to_string(d.join("copy.keyscan.bak")).unwrap(),
        original
    );
    // The command sent to instances through SSM does the same to each home's file.
    std::fs::write(d.join("remote"), &original).unwrap();
    let ssm = plan["keys"][0]["instances"][0]["ssm_command"]
        .as_str()
        .unwrap();
    let params = ssm
        .split("--parameters '")
        .nth(1)
        .unwrap()
        .trim_end_matches('\'');
    let params: Value = serde_json::from_str(params).unwrap();
    let remote = params["commands"][0].as_str().unwrap().replace(
        "/root/.ssh/authorized_keys /home/*/.ssh/authorized_keys",
        "remote",
    );
    sh(d, &remote);
    assert_eq!(
        std::fs::read_to_string(d.join("remote")).unwrap(),
        expected.concat()
    );
    // Nothing was written to the real file.
    assert_eq!(
        std::fs::read_to_string(d.join("authorized_keys")).unwrap(),
        original
    );
}

#[test]
fn audit_reports_feed_the_plan_with_hosts() {
    let a = setup();
    let d = a.dir.path();
    let leaked = std::fs::read_to_string(d.join("ed.pub")).unwrap();
    std::fs::create_dir_all(d.join("hosts/web1/root/.ssh")).unwrap();
    std::fs::write(d.join("hosts/web1/root/.ssh/authorized_keys"), &leaked).unwrap();
    let audit = keyscan(d, &["--format", "json", "audit", "--hosts", "hosts"], None);
    assert_eq!(audit.status.code(), Some(1));
    std::fs::write(d.join("audit.json"), &audit.stdout).unwrap();
    let (code, plan) = json(d, &["revoke-plan", "audit.json"], None);
    assert_eq!(code, 0);
    let step = &plan_key(&plan, &ssh_fingerprint(&d.join("ed")))["authorized_keys"][0];
    assert_eq!(step["host"], "web1");
    assert_eq!(step["path"], "/root/.ssh/authorized_keys");
    let human = keyscan(d, &["revoke-plan", "audit.json"], None);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("[ ] on web1: /root/.ssh/authorized_keys line 1"),
        "{text}"
    );
}

#[test]
fn bad_input_rules() {
    let a = setup();
    let d = a.dir.path();
    std::fs::write(d.join("empty.json"), "{\"findings\":[],\"warnings\":[]}").unwrap();
    let out = keyscan(d, &["revoke-plan", "empty.json"], None);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("No keys in the input"));

    std::fs::write(d.join("wrong.json"), "{\"KeyPairz\":[]}").unwrap();
    let out = keyscan(
        d,
        &["revoke-plan", "ed", "--aws-key-pairs", "wrong.json"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("wrong.json: not the JSON of `aws ec2 describe-key-pairs"),
        "{err}"
    );
    let out = keyscan(
        d,
        &["revoke-plan", "ed", "--aws-instances", "pairs.json"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("pairs.json: not the JSON of `aws ec2 describe-instances"));

    let out = keyscan(
        d,
        &[
            "revoke-plan",
            "ed",
            "missing.json",
            "--authorized-keys",
            "nope",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot read missing.json") && err.contains("cannot read nope"),
        "{err}"
    );
    assert!(out.stdout.is_empty());

    let before: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let out = keyscan(d, &["revoke-plan", "ed", "--out", "plan.txt"], None);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let after: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(after.len(), before.len() + 1, "only --out is written");
    assert!(std::fs::read_to_string(d.join("plan.txt"))
        .unwrap()
        .contains("Revocation plan"));
}
