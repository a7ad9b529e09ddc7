//! Every key format, made at test time by the tools that make them in real
//! life, checked for status, type and fingerprints against those tools.

mod support;

use std::fs;
use std::path::Path;
use support::*;

/// Scan one file; its single finding.
fn one(dir: &Path, name: &str) -> serde_json::Value {
    let (_, v) = json(dir, &["scan", "--no-ignore", name], None);
    let found = findings(&v);
    assert_eq!(found.len(), 1, "{name}: {found:#?}");
    found[0].clone()
}

fn check(dir: &Path, name: &str, status: &str, key_type: &str, fp: Option<&str>) {
    let f = one(dir, name);
    assert_eq!(f["status"], status, "{name}: {f:#}");
    assert_eq!(f["key_type"], key_type, "{name}: {f:#}");
    if let Some(fp) = fp {
        assert_eq!(f["fingerprint"], fp, "{name}");
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    tool("openssl", args, dir);
}

fn puttygen(dir: &Path, args: &[&str]) {
    tool("puttygen", args, dir);
}

#[test]
fn pem_and_der_formats_from_openssl() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    openssl(d, &["genrsa", "-traditional", "-out", "rsa1.pem", "2048"]);
    let fp = ssh_fingerprint(&d.join("rsa1.pem"));
    openssl(
        d,
        &[
            "pkcs8", "-topk8", "-nocrypt", "-in", "rsa1.pem", "-out", "rsa8.pem",
        ],
    );
    openssl(
        d,
        &[
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-passout",
            "pass:x",
            "-in",
            "rsa1.pem",
            "-out",
            "enc8.pem",
        ],
    );
    openssl(
        d,
        &[
            "rsa",
            "-in",
            "rsa1.pem",
            "-aes128",
            "-traditional",
            "-passout",
            "pass:x",
            "-out",
            "legacy.pem",
        ],
    );
    openssl(
        d,
        &[
            "rsa",
            "-in",
            "rsa1.pem",
            "-outform",
            "DER",
            "-traditional",
            "-out",
            "rsa1.der",
        ],
    );
    openssl(
        d,
        &[
            "pkcs8", "-topk8", "-nocrypt", "-in", "rsa1.pem", "-outform", "DER", "-out", "rsa8.der",
        ],
    );
    check(d, "rsa1.pem", "valid", "RSA 2048", Some(&fp));
    check(d, "rsa8.pem", "valid", "RSA 2048", Some(&fp));
    check(d, "rsa1.der", "valid", "RSA 2048", Some(&fp));
    check(d, "rsa8.der", "valid", "RSA 2048", Some(&fp));
    check(d, "enc8.pem", "encrypted", "unknown", None);
    check(d, "legacy.pem", "encrypted", "RSA", None);

    // AWS fingerprints, as openssl computes them.
    let sha1 = tool(
        "sh",
        &[
            "-c",
            "openssl pkcs8 -in rsa1.pem -nocrypt -topk8 -outform DER | openssl sha1 -c",
        ],
        d,
    );
    let md5 = tool(
        "sh",
        &[
            "-c",
            "openssl rsa -in rsa1.pem -pubout -outform DER 2>/dev/null | openssl md5 -c",
        ],
        d,
    );
    let last = |o: std::process::Output| {
        String::from_utf8_lossy(&o.stdout)
            .split_whitespace()
            .last()
            .unwrap()
            .to_string()
    };
    let f = one(d, "rsa1.pem");
    assert_eq!(f["aws_fingerprints"]["sha1_pkcs8"], last(sha1));
    assert_eq!(f["aws_fingerprints"]["md5_spki"], last(md5));

    for (curve, name) in [
        ("P-256", "ECDSA P-256"),
        ("P-384", "ECDSA P-384"),
        ("P-521", "ECDSA P-521"),
    ] {
        let p8 = format!("ec{curve}.pem");
        let s1 = format!("sec1{curve}.pem");
        openssl(
            d,
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                &format!("ec_paramgen_curve:{curve}"),
                "-out",
                &p8,
            ],
        );
        openssl(d, &["ec", "-in", &p8, "-out", &s1]);
        let fp = ssh_fingerprint(&d.join(&p8));
        check(d, &p8, "valid", name, Some(&fp));
        check(d, &s1, "valid", name, Some(&fp));
    }
    openssl(
        d,
        &[
            "ec",
            "-in",
            "ecP-256.pem",
            "-aes256",
            "-passout",
            "pass:x",
            "-out",
            "ecleg.pem",
        ],
    );
    check(d, "ecleg.pem", "encrypted", "ECDSA", None);
    openssl(
        d,
        &[
            "ec",
            "-in",
            "ecP-256.pem",
            "-outform",
            "DER",
            "-out",
            "sec1.der",
        ],
    );
    check(d, "sec1.der", "valid", "ECDSA P-256", None);

    // ssh-keygen cannot read Ed25519 PKCS#8: compare with the same key as
    // OpenSSH sees it once converted by openssl's raw public key.
    openssl(d, &["genpkey", "-algorithm", "ed25519", "-out", "ed.pem"]);
    openssl(
        d,
        &[
            "pkey",
            "-in",
            "ed.pem",
            "-pubout",
            "-outform",
            "DER",
            "-out",
            "ed.pub.der",
        ],
    );
    let raw = fs::read(d.join("ed.pub.der")).unwrap();
    let mut blob = Vec::new();
    for field in [b"ssh-ed25519".as_slice(), &raw[raw.len() - 32..]] {
        blob.extend((field.len() as u32).to_be_bytes());
        blob.extend(field);
    }
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&blob);
    fs::write(d.join("ed.pub"), format!("ssh-ed25519 {b64}\n")).unwrap();
    let fp = ssh_fingerprint(&d.join("ed.pub"));
    check(d, "ed.pem", "valid", "Ed25519", Some(&fp));
    let f = one(d, "ed.pem");
    let aws = f["aws_fingerprints"]["sha256"].as_str().unwrap();
    assert_eq!(format!("SHA256:{}", aws.trim_end_matches('=')), fp);

    openssl(d, &["dsaparam", "-genkey", "-out", "dsa8.pem", "1024"]);
    check(d, "dsa8.pem", "valid", "DSA 1024", None);
    openssl(
        d,
        &[
            "pkey",
            "-in",
            "dsa8.pem",
            "-traditional",
            "-out",
            "dsa1.pem",
        ],
    );
    check(d, "dsa1.pem", "valid", "DSA 1024", None);
    assert_eq!(
        one(d, "dsa1.pem")["fingerprint"],
        one(d, "dsa8.pem")["fingerprint"]
    );

    // PKCS#12: with a key it is found; with certificates only it is not.
    openssl(
        d,
        &[
            "req", "-x509", "-key", "rsa1.pem", "-subj", "/CN=t", "-days", "1", "-out", "cert.pem",
        ],
    );
    openssl(
        d,
        &[
            "pkcs12", "-export", "-inkey", "rsa1.pem", "-in", "cert.pem", "-passout", "pass:x",
            "-out", "k.p12",
        ],
    );
    check(d, "k.p12", "encrypted", "unknown", None);
    openssl(
        d,
        &[
            "pkcs12",
            "-export",
            "-nokeys",
            "-in",
            "cert.pem",
            "-passout",
            "pass:x",
            "-out",
            "certs.p12",
        ],
    );
    let (code, v) = json(d, &["scan", "certs.p12"], None);
    assert_eq!(code, 0);
    assert!(findings(&v).is_empty(), "{v:#}");
}

#[test]
fn openssh_keys_with_and_without_passphrase() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    for (t, bits, name) in [
        ("ed25519", "256", "Ed25519"),
        ("rsa", "2048", "RSA 2048"),
        ("ecdsa", "384", "ECDSA P-384"),
    ] {
        for pass in ["", "secret"] {
            let file = format!("{t}{}", pass.len());
            tool(
                "ssh-keygen",
                &["-q", "-t", t, "-b", bits, "-N", pass, "-f", &file],
                d,
            );
            let fp = ssh_fingerprint(&d.join(&file));
            let status = if pass.is_empty() {
                "valid"
            } else {
                "encrypted"
            };
            check(d, &file, status, name, Some(&fp));
            let f = one(d, &file);
            let public = fs::read_to_string(d.join(format!("{file}.pub"))).unwrap();
            let public: Vec<&str> = public.split_whitespace().take(2).collect();
            assert_eq!(f["public_key"], public.join(" "));
        }
    }
    // Rewrapped at 64 columns.
    let text = fs::read_to_string(d.join("ed255190")).unwrap();
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    let wrapped: Vec<String> = body
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    fs::write(
        d.join("wrapped64"),
        format!(
            "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----\n",
            wrapped.join("\n")
        ),
    )
    .unwrap();
    let fp = ssh_fingerprint(&d.join("ed255190"));
    check(d, "wrapped64", "valid", "Ed25519", Some(&fp));
}

#[test]
fn putty_ppk_and_exports() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    fs::write(d.join("pw"), "secret\n").unwrap();
    for (t, bits, name) in [
        ("rsa", "2048", "RSA 2048"),
        ("ed25519", "255", "Ed25519"),
        ("ecdsa", "256", "ECDSA P-256"),
    ] {
        for version in ["2", "3"] {
            for pass in ["/dev/null", "pw"] {
                let file = format!(
                    "{t}-v{version}-{}.ppk",
                    if pass == "pw" { "enc" } else { "clear" }
                );
                let mut args = vec!["-t", t];
                if t != "ed25519" {
                    args.extend(["-b", bits]);
                }
                let version_param = format!("version={version}");
                args.extend([
                    "--ppk-param",
                    &version_param,
                    "--new-passphrase",
                    pass,
                    "-o",
                    &file,
                ]);
                puttygen(d, &args);
                let pubfile = format!("{file}.pub");
                puttygen(
                    d,
                    &[
                        &file,
                        "-O",
                        "public-openssh",
                        "--old-passphrase",
                        pass,
                        "-o",
                        &pubfile,
                    ],
                );
                let fp = ssh_fingerprint(&d.join(&pubfile));
                let status = if pass == "pw" { "encrypted" } else { "valid" };
                check(d, &file, status, name, Some(&fp));
                let f = one(d, &file);
                assert_eq!(f["format"], format!("PuTTY PPK v{version}"));
            }
        }
    }
    // A PPK whose private blob was edited: the MAC no longer matches.
    let text = fs::read_to_string(d.join("ed25519-v3-clear.ppk")).unwrap();
    let at = text.find("Private-Lines: 1\n").unwrap() + "Private-Lines: 1\n".len();
    let mut bytes = text.into_bytes();
    bytes[at + 10] = if bytes[at + 10] == b'A' { b'B' } else { b'A' };
    fs::write(d.join("edited.ppk"), &bytes).unwrap();
    check(d, "edited.ppk", "unverified", "Ed25519", None);

    // PuTTYgen's OpenSSH and ssh.com exports.
    puttygen(
        d,
        &[
            "rsa-v2-clear.ppk",
            "-O",
            "private-openssh-new",
            "--new-passphrase",
            "/dev/null",
            "-o",
            "from-putty",
        ],
    );
    let fp = ssh_fingerprint(&d.join("rsa-v2-clear.ppk.pub"));
    check(d, "from-putty", "valid", "RSA 2048", Some(&fp));
    puttygen(
        d,
        &[
            "rsa-v2-clear.ppk",
            "-O",
            "private-sshcom",
            "--new-passphrase",
            "/dev/null",
            "-o",
            "sshcom",
        ],
    );
    check(d, "sshcom", "valid", "RSA", None);
    puttygen(
        d,
        &[
            "rsa-v2-clear.ppk",
            "-O",
            "private-sshcom",
            "--new-passphrase",
            "pw",
            "-o",
            "sshcom-enc",
        ],
    );
    check(d, "sshcom-enc", "encrypted", "RSA", None);
}

#[test]
fn pgp_secret_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let home = d.join("gnupg");
    fs::create_dir(&home).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&home, fs::Permissions::from_mode(0o700)).unwrap();
    }
    let gpg = |args: &[&str]| {
        let out = std::process::Command::new("gpg")
            .arg("--homedir")
            .arg(&home)
            .args(["--batch", "--pinentry-mode", "loopback"])
            .args(args)
            .current_dir(d)
            .output()
            .expect("gpg is needed by this test");
        assert!(
            out.status.success(),
            "gpg {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    gpg(&[
        "--passphrase",
        "",
        "--quick-gen-key",
        "Clear <c@example.com>",
        "ed25519",
        "default",
        "never",
    ]);
    gpg(&[
        "--passphrase",
        "pw",
        "--quick-gen-key",
        "Locked <l@example.com>",
        "rsa2048",
        "default",
        "never",
    ]);
    for (who, file, status, key_type) in [
        ("c@example.com", "clear.asc", "valid", "PGP EdDSA"),
        ("l@example.com", "locked.asc", "encrypted", "PGP RSA 2048"),
    ] {
        let out = gpg(&["--passphrase", "pw", "--armor", "--export-secret-keys", who]);
        fs::write(d.join(file), &out.stdout).unwrap();
        let colons = gpg(&["--with-colons", "--fingerprint", who]);
        let fpr = String::from_utf8_lossy(&colons.stdout)
            .lines()
            .find(|l| l.starts_with("fpr:"))
            .and_then(|l| l.split(':').nth(9))
            .unwrap()
            .to_string();
        check(d, file, status, key_type, Some(&fpr));
    }
    let public = gpg(&["--armor", "--export", "c@example.com"]);
    fs::write(d.join("public.asc"), &public.stdout).unwrap();
    let (code, v) = json(d, &["scan", "public.asc"], None);
    assert_eq!(code, 0);
    assert!(findings(&v).is_empty());
}
