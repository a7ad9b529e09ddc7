//! `keyscan fingerprint` through the real binary, checked against what
//! ssh-keygen and openssl derive from the same keys, generated at test time.

use crate::support::{keyscan, tool};
use serde_json::Value;
use std::fs;
use std::path::Path;

fn sh(dir: &Path, script: &str) -> String {
    let out = tool("sh", &["-c", script], dir);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `keyscan --format json fingerprint FILE`: the one key it prints.
fn one_key(dir: &Path, file: &str) -> Value {
    let out = keyscan(dir, &["--format", "json", "fingerprint", file], None);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys = v["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "{v}");
    keys[0].clone()
}

/// `ssh-keygen [-E md5] -lf FILE` as (bits, fingerprint, "(TYPE)").
fn keygen(dir: &Path, hash: &str, file: &str) -> (String, String, String) {
    let line = sh(dir, &format!("ssh-keygen -E {hash} -lf {file}"));
    let fields: Vec<&str> = line.split_whitespace().collect();
    (
        fields[0].to_string(),
        fields[1].to_string(),
        fields.last().unwrap().to_string(),
    )
}

/// Our key against ssh-keygen's view of `public` (a file it reads).
fn same_as_ssh_keygen(dir: &Path, key: &Value, public: &str) {
    for (hash, field) in [("sha256", "sha256"), ("md5", "md5")] {
        let (bits, fp, ty) = keygen(dir, hash, public);
        assert_eq!(key["bits"].to_string(), bits, "{public}: {key}");
        assert_eq!(key[field], fp.as_str(), "{public} {hash}");
        assert_eq!(format!("({})", key["ssh_type"].as_str().unwrap()), ty);
    }
    let line = sh(
        dir,
        &format!("ssh-keygen -y -f {public} 2>/dev/null || cat {public}"),
    );
    let want: Vec<&str> = line.split_whitespace().take(2).collect();
    assert_eq!(key["public_key"], want.join(" ").as_str());
}

/// AWS forms of an RSA key, as openssl computes them.
fn aws_rsa(dir: &Path, pem: &str) -> (String, String) {
    let sha1 = sh(
        dir,
        &format!("openssl pkcs8 -topk8 -nocrypt -in {pem} -outform DER | openssl sha1 -c | awk '{{print $NF}}'"),
    );
    let md5 = sh(
        dir,
        &format!(
            "openssl pkey -in {pem} -pubout -outform DER | openssl md5 -c | awk '{{print $NF}}'"
        ),
    );
    (sha1, md5)
}

/// AWS form of an Ed25519 key: base64 SHA-256 of the SSH public key blob.
fn aws_ed25519(dir: &Path, private: &str) -> String {
    sh(
        dir,
        &format!("ssh-keygen -y -f {private} | awk '{{print $2}}' | base64 -d | openssl dgst -sha256 -binary | base64"),
    )
}

#[test]
fn rsa_pem_matches_ssh_keygen_and_openssl() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    tool(
        "openssl",
        &["genrsa", "-traditional", "-out", "r.pem", "3072"],
        d,
    );
    let key = one_key(d, "r.pem");
    assert_eq!(key["key_type"], "RSA 3072");
    same_as_ssh_keygen(d, &key, "r.pem");
    let (sha1, md5) = aws_rsa(d, "r.pem");
    assert_eq!(key["aws_fingerprints"]["sha1_pkcs8"], sha1.as_str());
    assert_eq!(key["aws_fingerprints"]["md5_spki"], md5.as_str());

    // Human output: the ssh-keygen fields on the sha256 and md5 rows.
    let out = keyscan(d, &["fingerprint", "r.pem"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    let (bits, fp, ty) = keygen(d, "md5", "r.pem");
    assert!(
        text.contains(&format!("md5          {bits} {fp} {ty}\n")),
        "{text}"
    );
    assert!(text.contains(&format!("aws created  {sha1}\n")), "{text}");
    assert!(!text.contains("PRIVATE KEY"));
}

#[test]
fn openssh_ed25519_and_ecdsa_match_ssh_keygen() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    for (t, bits) in [
        ("ed25519", "256"),
        ("ecdsa", "256"),
        ("ecdsa", "384"),
        ("ecdsa", "521"),
    ] {
        let name = format!("id_{t}_{bits}");
        tool(
            "ssh-keygen",
            &["-q", "-t", t, "-b", bits, "-N", "", "-C", "c", "-f", &name],
            d,
        );
        let key = one_key(d, &name);
        same_as_ssh_keygen(d, &key, &name);
        if t == "ed25519" {
            assert_eq!(
                key["aws_fingerprints"]["sha256"],
                aws_ed25519(d, &name).as_str()
            );
        }
        // The public half gives the same prints, from a .pub file or stdin.
        let public = fs::read(d.join(format!("{name}.pub"))).unwrap();
        let out = keyscan(d, &["--format", "json", "fingerprint", "-"], Some(&public));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["keys"][0]["status"], "public");
        for field in ["sha256", "md5", "bits", "public_key"] {
            assert_eq!(v["keys"][0][field], key[field], "{name} {field}");
        }
    }
    // An EC key in SEC1 PEM from openssl, which ssh-keygen also reads.
    tool(
        "openssl",
        &[
            "ecparam",
            "-genkey",
            "-name",
            "secp384r1",
            "-noout",
            "-out",
            "ec.pem",
        ],
        d,
    );
    same_as_ssh_keygen(d, &one_key(d, "ec.pem"), "ec.pem");
}

#[test]
fn putty_keys_match_their_openssh_exports() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // A strong passphrase: a weak one ("secret") is cracked and reported valid.
    fs::write(d.join("pw"), "Tq9-vX2-horse-anvil\n").unwrap();
    for (t, pass) in [
        ("rsa", "/dev/null"),
        ("ed25519", "/dev/null"),
        ("ecdsa", "pw"),
    ] {
        let file = format!("{t}.ppk");
        tool(
            "puttygen",
            &["-t", t, "--new-passphrase", pass, "-o", &file],
            d,
        );
        tool(
            "puttygen",
            &[
                &file,
                "--old-passphrase",
                pass,
                "-O",
                "public-openssh",
                "-o",
                &format!("{t}.pub"),
            ],
            d,
        );
        let key = one_key(d, &file);
        assert!(
            key["format"].as_str().unwrap().starts_with("PuTTY"),
            "{key}"
        );
        // An encrypted PPK still shows its public half.
        assert_eq!(
            key["status"],
            if pass == "pw" { "encrypted" } else { "valid" }
        );
        same_as_ssh_keygen(d, &key, &format!("{t}.pub"));
        if t == "rsa" {
            tool(
                "puttygen",
                &[
                    &file,
                    "--old-passphrase",
                    pass,
                    "-O",
                    "private-openssh",
                    "-o",
                    "rsa.pem",
                ],
                d,
            );
            let (_, md5) = aws_rsa(d, "rsa.pem");
            assert_eq!(key["aws_fingerprints"]["md5_spki"], md5.as_str());
        }
    }
}

#[test]
fn no_key_and_unreadable_input() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    fs::write(d.join("notes.txt"), "nothing here\n").unwrap();
    let out = keyscan(d, &["fingerprint", "notes.txt"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no key found"));
    let out = keyscan(d, &["fingerprint", "missing"], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot read missing"));
}

// issue 14, 2: the file-name and config passphrases, as `keyscan scan` tries them.
#[test]
fn weak_passphrases_open_keys_for_fingerprints() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let genrsa = |pass: &str, out: &str| {
        let pass = format!("pass:{pass}");
        let args = ["genrsa", "-aes128", "-traditional", "-passout", &pass];
        tool("openssl", &[&args[..], &["-out", out, "2048"]].concat(), d);
    };
    genrsa("deploy", "deploy.pem");
    tool(
        "openssl",
        &[
            "rsa",
            "-passin",
            "pass:deploy",
            "-in",
            "deploy.pem",
            "-traditional",
            "-out",
            "plain.pem",
        ],
        d,
    );
    let key = one_key(d, "deploy.pem");
    assert_eq!(key["status"], "valid", "{key}");
    same_as_ssh_keygen(d, &key, "plain.pem");
    let (sha1, md5) = aws_rsa(d, "plain.pem");
    assert_eq!(key["aws_fingerprints"]["sha1_pkcs8"], sha1.as_str());
    assert_eq!(key["aws_fingerprints"]["md5_spki"], md5.as_str());
    let out = keyscan(d, &["fingerprint", "deploy.pem"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("aws imported {md5}\n")), "{text}");

    // --no-crack keeps it closed.
    let out = keyscan(d, &["fingerprint", "--no-crack", "deploy.pem"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("(encrypted)") && !text.contains("sha256"),
        "{text}"
    );

    // A team passphrase from the config's `passphrases`.
    genrsa("Correct-Horse-42", "ops.pem");
    assert_eq!(one_key(d, "ops.pem")["status"], "encrypted");
    fs::write(
        d.join(".keyscan.toml"),
        "[policy]\npassphrases = [\"Correct-Horse-42\"]\n",
    )
    .unwrap();
    let key = one_key(d, "ops.pem");
    assert_eq!(key["status"], "valid", "{key}");
    assert!(key["sha256"].as_str().unwrap().starts_with("SHA256:"));
    assert!(key["aws_fingerprints"]["md5_spki"].is_string(), "{key}");
}
