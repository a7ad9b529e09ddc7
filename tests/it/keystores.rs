//! Java keystores (JKS, JCEKS) made by keytool at test time, and keys
//! inside archives (zip, tar, tar.gz, gzip) built at test time.

use crate::support::gitrepo::{text, TempRepo};
use crate::support::{findings, json, keyscan, ssh_fingerprint, tool};
use std::path::Path;

/// `keytool -genkeypair` into a new store.
fn genkey(dir: &Path, store: &str, kind: &str, alg: &str, alias: &str, pass: &str) {
    tool(
        "keytool",
        &[
            "-genkeypair",
            "-keyalg",
            alg,
            "-alias",
            alias,
            "-dname",
            &format!("CN={alias}"),
            "-storetype",
            kind,
            "-keystore",
            store,
            "-storepass",
            pass,
            "-keypass",
            pass,
            "-validity",
            "30",
        ],
        dir,
    );
}

/// The OpenSSH fingerprint of a store's key, the long way round: keytool
/// to PKCS#12, openssl to PEM, ssh-keygen.
fn fingerprint_via_pkcs12(dir: &Path, store: &str, pass: &str) -> String {
    let p12 = format!("{store}.p12");
    tool(
        "keytool",
        &[
            "-importkeystore",
            "-srckeystore",
            store,
            "-srcstorepass",
            pass,
            "-destkeystore",
            &p12,
            "-deststoretype",
            "PKCS12",
            "-deststorepass",
            pass,
        ],
        dir,
    );
    let out = tool(
        "openssl",
        &[
            "pkcs12",
            "-in",
            &p12,
            "-nodes",
            "-nocerts",
            "-passin",
            &format!("pass:{pass}"),
        ],
        dir,
    );
    let bags = dir.join(format!("{store}.bags"));
    std::fs::write(&bags, &out.stdout).unwrap();
    let pem = dir.join(format!("{store}.pem"));
    let (bags, pem_s) = (bags.to_str().unwrap(), pem.to_str().unwrap());
    tool("openssl", &["pkey", "-in", bags, "-out", pem_s], dir);
    std::fs::set_permissions(&pem, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    ssh_fingerprint(&pem)
}

fn scan_one(dir: &Path, name: &str) -> (i32, Vec<serde_json::Value>) {
    let (code, v) = json(dir, &["scan", name], None);
    (code, findings(&v).clone())
}

#[test]
fn weak_jks_and_jceks_open_with_the_fingerprint_of_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    for (store, kind, alg, pass) in [
        ("rsa.jks", "JKS", "RSA", "changeit"),
        ("ec.jceks", "JCEKS", "EC", "changeit"),
        ("release.keystore", "JKS", "RSA", "android"),
    ] {
        genkey(d, store, kind, alg, "signing", pass);
        let want = fingerprint_via_pkcs12(d, store, pass);
        let (code, found) = scan_one(d, store);
        assert_eq!(code, 1, "{store}: {found:?}");
        assert_eq!(found.len(), 1, "{store}: {found:?}");
        let f = &found[0];
        assert_eq!(f["status"], "valid", "{store}: {f}");
        assert_eq!(f["format"], kind, "{store}");
        assert_eq!(f["fingerprint"], want.as_str(), "{store}");
        assert!(f["public_key"]
            .as_str()
            .unwrap()
            .starts_with(if alg == "RSA" {
                "ssh-rsa "
            } else {
                "ecdsa-sha2-nistp256 "
            }));
    }
}

#[test]
fn fingerprint_of_an_android_keystore_prompts_for_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    genkey(
        d,
        "release.keystore",
        "JKS",
        "RSA",
        "androiddebugkey",
        "android",
    );
    let want = fingerprint_via_pkcs12(d, "release.keystore", "android");
    // Standard input is closed: a prompt would fail.
    let out = keyscan(d, &["fingerprint", "release.keystore"], None);
    assert!(out.status.success(), "{}", text(&out));
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains(&want), "{shown}");
    assert!(shown.contains("JKS (valid)"), "{shown}");
}

#[test]
fn strong_keystore_is_encrypted_with_aliases_and_certificate() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let pass = "Tr0ub4dor-and-3-horses";
    genkey(d, "prod.jks", "JKS", "RSA", "prodsigner", pass);
    genkey(d, "prod.jceks", "JCEKS", "EC", "jcesigner", pass);
    let want = fingerprint_via_pkcs12(d, "prod.jks", pass);
    let (code, found) = scan_one(d, "prod.jks");
    assert_eq!(code, 1);
    let f = &found[0];
    assert_eq!(f["status"], "encrypted", "{f}");
    assert_eq!(f["key_type"], "RSA 2048", "{f}");
    // The public half comes from the entry's certificate.
    assert_eq!(f["fingerprint"], want.as_str());
    let note = f["note"].as_str().unwrap();
    assert!(note.contains("aliases: prodsigner"), "{note}");
    assert!(note.contains("CN=prodsigner"), "{note}");
    let (_, found) = scan_one(d, "prod.jceks");
    assert_eq!(found[0]["status"], "encrypted");
    assert_eq!(found[0]["format"], "JCEKS");
    assert_eq!(found[0]["key_type"], "ECDSA P-256");
    assert!(found[0]["note"]
        .as_str()
        .unwrap()
        .contains("PBEWithMD5AndTripleDES"));
}

#[test]
fn truststore_and_damaged_store_are_quiet() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    genkey(d, "src.jks", "JKS", "RSA", "server", "changeit");
    tool(
        "keytool",
        &[
            "-exportcert",
            "-alias",
            "server",
            "-keystore",
            "src.jks",
            "-storepass",
            "changeit",
            "-file",
            "server.crt",
        ],
        d,
    );
    for kind in ["JKS", "JCEKS"] {
        let store = format!("trust.{}", kind.to_lowercase());
        tool(
            "keytool",
            &[
                "-importcert",
                "-noprompt",
                "-alias",
                "ca",
                "-file",
                "server.crt",
                "-storetype",
                kind,
                "-keystore",
                &store,
                "-storepass",
                "changeit",
            ],
            d,
        );
        let (code, found) = scan_one(d, &store);
        assert_eq!((code, found.len()), (0, 0), "{store}: {found:?}");
    }
    // Cut short, the structure no longer ends at its digest: no finding.
    let data = std::fs::read(d.join("src.jks")).unwrap();
    std::fs::write(d.join("cut.jks"), &data[..data.len() - 7]).unwrap();
    let (code, found) = scan_one(d, "cut.jks");
    assert_eq!((code, found.len()), (0, 0), "{found:?}");
}

#[test]
fn precommit_blocks_a_keystore() {
    let r = TempRepo::new();
    let out = r
        .command(crate::support::bin(), &r.dir)
        .arg("install")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    std::fs::create_dir_all(r.dir.join("app")).unwrap();
    genkey(
        &r.dir,
        "app/release.keystore",
        "JKS",
        "RSA",
        "release",
        "android",
    );
    r.ok(&["add", "app/release.keystore"]);
    let (went, out) = r.commit();
    assert!(!went, "{out}");
    assert!(out.contains("app/release.keystore"), "{out}");
}
