//! Every key format, made at test time by the tools that make them in real
//! life (openssl, ssh-keygen, puttygen, gpg), run through the library's
//! scanner and checked for status, type and fingerprints against those tools.
//! A missing tool fails the test: CI installs them all.

use crate::support;
use keyscan::scan::finding::{KeyInfo, Status};
use keyscan::scan::{Origin, Scanner};
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

fn scanner() -> Scanner {
    let rules = keyscan::rules::builtin().expect("built-in rules load");
    // The passphrases here are weak on purpose; these tests check the
    // encrypted formats themselves, tests/crack.rs checks opening them.
    let mut policy = keyscan::policy::Policy::default();
    policy.crack = false;
    Scanner::new(
        keyscan::rules::Engine::new(rules).expect("engine builds"),
        policy,
    )
}

/// Run a tool that must exist; its stdout.
fn run(dir: &Path, prog: &str, args: &[&str]) -> String {
    String::from_utf8_lossy(&support::tool(prog, args, dir).stdout).into_owned()
}

fn openssl(dir: &Path, args: &[&str]) {
    run(dir, "openssl", args);
}

fn puttygen(dir: &Path, args: &[&str]) {
    run(dir, "puttygen", args);
}

fn sh(dir: &Path, script: &str) -> String {
    run(dir, "sh", &["-c", script])
}

/// The `SHA256:` field of `ssh-keygen -lf`.
fn ssh_fp(dir: &Path, name: &str) -> String {
    run(dir, "ssh-keygen", &["-lf", name])
        .split_whitespace()
        .nth(1)
        .expect("ssh-keygen -lf prints a fingerprint")
        .to_string()
}

/// The last word of openssl's digest output, normalised.
fn digest_of(output: &str) -> String {
    output
        .split_whitespace()
        .last()
        .expect("a digest")
        .to_ascii_lowercase()
}

fn infos(scanner: &Scanner, data: &[u8]) -> Vec<KeyInfo> {
    scanner.hits(data).into_iter().map(|h| h.info).collect()
}

/// The single key found in `dir/name`.
fn one(s: &Scanner, dir: &Path, name: &str) -> KeyInfo {
    let data = fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let found = infos(s, &data);
    assert_eq!(found.len(), 1, "{name}: {found:#?}");
    found.into_iter().next().unwrap()
}

fn check(s: &Scanner, dir: &Path, name: &str, status: Status, key_type: &str) -> KeyInfo {
    let info = one(s, dir, name);
    assert_eq!(info.status, status, "{name}: {info:#?}");
    assert_eq!(info.key_type, key_type, "{name}: {info:#?}");
    info
}

/// As `check`, and the OpenSSH fingerprint must be `fp`.
fn check_fp(s: &Scanner, dir: &Path, name: &str, status: Status, key_type: &str, fp: &str) {
    let info = check(s, dir, name, status, key_type);
    assert_eq!(info.fingerprint.as_deref(), Some(fp), "{name}: {info:#?}");
}

/// Nothing in `data` may block a commit under the default policy.
fn nothing_blocks(s: &Scanner, what: &str, data: &[u8]) {
    let findings = s.scan(data, &Origin::default());
    assert!(
        findings.iter().all(|f| !f.blocking),
        "{what} must not block: {findings:#?}"
    );
}

/// Swap one base64 character in the middle of a PEM body.
fn corrupt_middle(pem: &str) -> String {
    let lines: Vec<&str> = pem.lines().collect();
    let body: Vec<usize> = (0..lines.len())
        .filter(|i| !lines[*i].starts_with("-----") && !lines[*i].contains(':'))
        .collect();
    let target = body[body.len() / 2];
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if i == target {
            let mut bytes = line.as_bytes().to_vec();
            let at = bytes.len() / 2;
            bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
            out.push(String::from_utf8(bytes).unwrap());
        } else {
            out.push(line.to_string());
        }
    }
    out.join("\n") + "\n"
}

#[test]
fn rsa_pem_der_and_aws_fingerprints() {
    let s = scanner();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    openssl(d, &["genrsa", "-traditional", "-out", "rsa1.pem", "2048"]);
    let fp = ssh_fp(d, "rsa1.pem");
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
            "-traditional",
            "-outform",
            "DER",
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
            "-outform",
            "DER",
            "-out",
            "enc8.der",
        ],
    );
    for name in ["rsa1.pem", "rsa8.pem", "rsa1.der", "rsa8.der"] {
        check_fp(&s, d, name, Status::Valid, "RSA 2048", &fp);
    }
    let enc = check(&s, d, "enc8.pem", Status::Encrypted, "unknown");
    assert_eq!(enc.format, "encrypted PKCS#8");
    check(&s, d, "enc8.der", Status::Encrypted, "unknown");
    let legacy = check(&s, d, "legacy.pem", Status::Encrypted, "RSA");
    assert!(legacy.fingerprint.is_none());
    assert!(
        fs::read_to_string(d.join("legacy.pem"))
            .unwrap()
            .contains("DEK-Info: AES-128-CBC"),
        "openssl wrote a legacy-encrypted key"
    );

    // AWS fingerprints, as openssl computes them, for every encoding.
    let sha1 = digest_of(&sh(
        d,
        "openssl pkcs8 -in rsa1.pem -nocrypt -topk8 -outform DER | openssl sha1 -c",
    ));
    let md5 = digest_of(&sh(
        d,
        "openssl rsa -in rsa1.pem -pubout -outform DER 2>/dev/null | openssl md5 -c",
    ));
    for name in ["rsa1.pem", "rsa8.pem", "rsa1.der", "rsa8.der"] {
        let aws = one(&s, d, name).aws_fingerprints;
        assert_eq!(aws.sha1_pkcs8.as_deref(), Some(sha1.as_str()), "{name}");
        assert_eq!(aws.md5_spki.as_deref(), Some(md5.as_str()), "{name}");
        assert_eq!(aws.sha256, None, "{name}");
    }

    // One character changed in the middle: unverified, never blocking.
    for name in ["rsa1.pem", "rsa8.pem"] {
        let text = fs::read_to_string(d.join(name)).unwrap();
        let bad = corrupt_middle(&text);
        let found = infos(&s, bad.as_bytes());
        assert_eq!(found.len(), 1, "{name}: {found:#?}");
        assert_eq!(found[0].status, Status::Unverified, "{name}: {found:#?}");
        assert!(found[0].note.is_some());
        nothing_blocks(&s, "a corrupted key", bad.as_bytes());

        // Truncated: the second half of the body is gone.
        let lines: Vec<&str> = text.lines().collect();
        let mut cut: Vec<&str> = lines[..lines.len() / 2].to_vec();
        cut.push(lines[lines.len() - 1]);
        let cut = cut.join("\n");
        for info in infos(&s, cut.as_bytes()) {
            assert_eq!(
                info.status,
                Status::Unverified,
                "{name} truncated: {info:#?}"
            );
        }
        nothing_blocks(&s, "a truncated key", cut.as_bytes());
    }
}

#[test]
fn ec_ed25519_and_other_curves() {
    let s = scanner();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    for (curve, name) in [
        ("P-256", "ECDSA P-256"),
        ("P-384", "ECDSA P-384"),
        ("P-521", "ECDSA P-521"),
    ] {
        let p8 = format!("ec{curve}.pem");
        let s1 = format!("sec1{curve}.pem");
        let der = format!("sec1{curve}.der");
        let curve_opt = format!("ec_paramgen_curve:{curve}");
        openssl(
            d,
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                &curve_opt,
                "-out",
                &p8,
            ],
        );
        openssl(d, &["ec", "-in", &p8, "-out", &s1]);
        openssl(d, &["ec", "-in", &p8, "-outform", "DER", "-out", &der]);
        assert!(fs::read_to_string(d.join(&s1))
            .unwrap()
            .contains("BEGIN EC PRIVATE KEY"));
        let fp = ssh_fp(d, &p8);
        check_fp(&s, d, &p8, Status::Valid, name, &fp);
        check_fp(&s, d, &s1, Status::Valid, name, &fp);
        check_fp(&s, d, &der, Status::Valid, name, &fp);
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
    check(&s, d, "ecleg.pem", Status::Encrypted, "ECDSA");

    // A curve OpenSSH has no name for: valid, no SSH fingerprint.
    openssl(
        d,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:secp256k1",
            "-out",
            "k1.pem",
        ],
    );
    let k1 = check(&s, d, "k1.pem", Status::Valid, "ECDSA secp256k1");
    assert!(k1.fingerprint.is_none());

    // Ed25519 PKCS#8: ssh-keygen cannot read it, so build the OpenSSH public
    // line from openssl's raw public key and fingerprint that.
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
    let fp = ssh_fp(d, "ed.pub");
    check_fp(&s, d, "ed.pem", Status::Valid, "Ed25519", &fp);
    let ed = one(&s, d, "ed.pem");
    assert_eq!(
        ed.public_key.as_deref(),
        Some(format!("ssh-ed25519 {b64}").as_str())
    );
    let aws = ed.aws_fingerprints.sha256.expect("Ed25519 AWS fingerprint");
    assert!(aws.ends_with('='), "padded: {aws}");
    assert_eq!(format!("SHA256:{}", aws.trim_end_matches('=')), fp);

    for (alg, name) in [("ed448", "Ed448"), ("x25519", "X25519")] {
        let file = format!("{alg}.pem");
        openssl(d, &["genpkey", "-algorithm", alg, "-out", &file]);
        let info = check(&s, d, &file, Status::Valid, name);
        assert!(info.fingerprint.is_none());
    }
}

#[test]
fn dsa_traditional_pkcs8_and_legacy_encrypted() {
    let s = scanner();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    openssl(d, &["dsaparam", "-genkey", "-out", "dsa8.pem", "1024"]);
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
    assert!(fs::read_to_string(d.join("dsa1.pem"))
        .unwrap()
        .contains("BEGIN DSA PRIVATE KEY"));
    let p8 = check(&s, d, "dsa8.pem", Status::Valid, "DSA 1024");
    let p1 = check(&s, d, "dsa1.pem", Status::Valid, "DSA 1024");
    assert!(p8.fingerprint.is_some());
    assert_eq!(p8.fingerprint, p1.fingerprint);
    assert_eq!(p8.public_key, p1.public_key);
    openssl(
        d,
        &[
            "pkey",
            "-in",
            "dsa8.pem",
            "-traditional",
            "-aes128",
            "-passout",
            "pass:x",
            "-out",
            "dsaleg.pem",
        ],
    );
    assert!(fs::read_to_string(d.join("dsaleg.pem"))
        .unwrap()
        .contains("Proc-Type: 4,ENCRYPTED"));
    check(&s, d, "dsaleg.pem", Status::Encrypted, "DSA");
    openssl(
        d,
        &[
            "pkey", "-in", "dsa8.pem", "-outform", "DER", "-out", "dsa8.der",
        ],
    );
    let der = check(&s, d, "dsa8.der", Status::Valid, "DSA 1024");
    assert_eq!(der.fingerprint, p8.fingerprint);
}

#[test]
fn pkcs12_with_and_without_keys() {
    let s = scanner();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    openssl(d, &["genrsa", "-out", "k.pem", "2048"]);
    openssl(
        d,
        &[
            "req", "-x509", "-key", "k.pem", "-subj", "/CN=t", "-days", "1", "-out", "cert.pem",
        ],
    );
    openssl(
        d,
        &[
            "pkcs12", "-export", "-inkey", "k.pem", "-in", "cert.pem", "-passout", "pass:x",
            "-out", "k.p12",
        ],
    );
    let p12 = check(&s, d, "k.p12", Status::Encrypted, "unknown");
    assert_eq!(p12.format, "PKCS#12");
    openssl(
        d,
        &[
            "pkcs12",
            "-export",
            "-inkey",
            "k.pem",
            "-in",
            "cert.pem",
            "-keypbe",
            "NONE",
            "-certpbe",
            "NONE",
            "-passout",
            "pass:x",
            "-out",
            "plain.p12",
        ],
    );
    check(&s, d, "plain.p12", Status::Valid, "unknown");
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
    let certs = fs::read(d.join("certs.p12")).unwrap();
    assert!(infos(&s, &certs).is_empty());
    // A certificate in DER is a SEQUENCE too: not a key.
    openssl(
        d,
        &[
            "x509", "-in", "cert.pem", "-outform", "DER", "-out", "cert.der",
        ],
    );
    assert!(infos(&s, &fs::read(d.join("cert.der")).unwrap()).is_empty());
}

#[test]
fn openssh_keys_with_and_without_passphrase() {
    let s = scanner();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    for (t, bits, name) in [
        ("ed25519", "256", "Ed25519"),
        ("rsa", "2048", "RSA 2048"),
        ("ecdsa", "256", "ECDSA P-256"),
        ("ecdsa", "384", "ECDSA P-384"),
        ("ecdsa", "521", "ECDSA P-521"),
    ] {
        for pass in ["", "secret"] {
            let file = format!("{t}{bits}-{}", pass.len());
            run(
                d,
                "ssh-keygen",
                &[
                    "-q", "-t", t, "-b", bits, "-N", pass, "-C", "c", "-f", &file,
                ],
            );
            let fp = ssh_fp(d, &format!("{file}.pub"));
            let status = if pass.is_empty() {
                Status::Valid
            } else {
                Status::Encrypted
            };
            check_fp(&s, d, &file, status, name, &fp);
            let info = one(&s, d, &file);
            assert_eq!(info.format, "OpenSSH");
            let public = fs::read_to_string(d.join(format!("{file}.pub"))).unwrap();
            let public: Vec<&str> = public.split_whitespace().take(2).collect();
            assert_eq!(info.public_key, Some(public.join(" ")), "{file}");
        }
    }

    // DSA: newer OpenSSH builds refuse to make it; only then is it skipped.
    let dsa = Command::new("ssh-keygen")
        .args(["-q", "-t", "dsa", "-N", "", "-f", "dsa"])
        .current_dir(d)
        .stdin(Stdio::null())
        .output()
        .expect("ssh-keygen is needed by this test");
    if dsa.status.success() {
        let fp = ssh_fp(d, "dsa.pub");
        check_fp(&s, d, "dsa", Status::Valid, "DSA 1024", &fp);
    } else {
        eprintln!(
            "skipping OpenSSH DSA: ssh-keygen refuses: {}",
            String::from_utf8_lossy(&dsa.stderr)
        );
    }

    // AWS forms of an OpenSSH RSA key equal openssl's on the same key.
    fs::copy(d.join("rsa2048-0"), d.join("as-pem")).unwrap();
    run(
        d,
        "ssh-keygen",
        &["-q", "-p", "-m", "PEM", "-N", "", "-f", "as-pem"],
    );
    let sha1 = digest_of(&sh(
        d,
        "openssl pkcs8 -in as-pem -nocrypt -topk8 -outform DER | openssl sha1 -c",
    ));
    let md5 = digest_of(&sh(
        d,
        "openssl rsa -in as-pem -pubout -outform DER 2>/dev/null | openssl md5 -c",
    ));
    let aws = one(&s, d, "rsa2048-0").aws_fingerprints;
    assert_eq!(aws.sha1_pkcs8, Some(sha1));
    assert_eq!(aws.md5_spki, Some(md5));
    let ed = one(&s, d, "ed25519256-0");
    let aws = ed.aws_fingerprints.sha256.expect("Ed25519 AWS fingerprint");
    assert_eq!(
        ed.fingerprint,
        Some(format!("SHA256:{}", aws.trim_end_matches('=')))
    );

    // The body rewrapped at 64 columns parses the same.
    for file in ["ed25519256-0", "rsa2048-6"] {
        let text = fs::read_to_string(d.join(file)).unwrap();
        let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
        let wrapped: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let rewrapped = format!(
            "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----\n",
            wrapped.join("\n")
        );
        let found = infos(&s, rewrapped.as_bytes());
        assert_eq!(found.len(), 1, "{file}");
        assert_eq!(
            found[0].fingerprint,
            Some(ssh_fp(d, &format!("{file}.pub")))
        );
        assert_ne!(found[0].status, Status::Unverified);
    }

    // Corrupted in the middle: unverified (ssh-key rejects it or the halves
    // disagree), never blocking.
    let text = fs::read_to_string(d.join("ed25519256-0")).unwrap();
    let bad = corrupt_middle(&text);
    nothing_blocks(&s, "a corrupted OpenSSH key", bad.as_bytes());
}

#[test]
fn putty_ppk_and_exports() {
    let s = scanner();
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
                let enc = pass == "pw";
                let file = format!("{t}-v{version}-{}.ppk", if enc { "enc" } else { "clear" });
                let mut args = vec!["-t", t];
                if t != "ed25519" {
                    args.extend(["-b", bits]);
                }
                let param = format!("version={version}");
                args.extend(["--ppk-param", &param, "--new-passphrase", pass, "-o", &file]);
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
                let fp = ssh_fp(d, &pubfile);
                let status = if enc {
                    Status::Encrypted
                } else {
                    Status::Valid
                };
                check_fp(&s, d, &file, status, name, &fp);
                let info = one(&s, d, &file);
                assert_eq!(info.format, format!("PuTTY PPK v{version}"));
                let public = fs::read_to_string(d.join(&pubfile)).unwrap();
                let public: Vec<&str> = public.split_whitespace().take(2).collect();
                assert_eq!(info.public_key, Some(public.join(" ")), "{file}");
            }
        }
    }

    // A PPK whose private blob was edited: the MAC no longer matches.
    for file in ["ed25519-v3-clear.ppk", "rsa-v2-clear.ppk"] {
        let text = fs::read_to_string(d.join(file)).unwrap();
        let at = text.find("Private-Lines:").unwrap();
        let at = at + text[at..].find('\n').unwrap() + 11;
        let mut bytes = text.into_bytes();
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        let info = infos(&s, &bytes);
        assert_eq!(info.len(), 1, "{file}");
        assert_eq!(info[0].status, Status::Unverified, "{file}: {info:#?}");
        assert!(info[0].note.as_deref().unwrap().contains("MAC"));
        nothing_blocks(&s, "an edited PPK", &bytes);
    }

    // PuTTYgen's OpenSSH and ssh.com exports of the same key.
    let rsa_fp = ssh_fp(d, "rsa-v2-clear.ppk.pub");
    for (key, fp, name) in [
        ("rsa-v2-clear.ppk", &rsa_fp, "RSA 2048"),
        (
            "ecdsa-v3-clear.ppk",
            &ssh_fp(d, "ecdsa-v3-clear.ppk.pub"),
            "ECDSA P-256",
        ),
        (
            "ed25519-v3-clear.ppk",
            &ssh_fp(d, "ed25519-v3-clear.ppk.pub"),
            "Ed25519",
        ),
    ] {
        let out = format!("{key}.openssh");
        puttygen(
            d,
            &[
                key,
                "-O",
                "private-openssh-new",
                "--new-passphrase",
                "/dev/null",
                "-o",
                &out,
            ],
        );
        check_fp(&s, d, &out, Status::Valid, name, fp);
        let out = format!("{key}.openssh-enc");
        puttygen(
            d,
            &[
                key,
                "-O",
                "private-openssh-new",
                "--new-passphrase",
                "pw",
                "-o",
                &out,
            ],
        );
        check_fp(&s, d, &out, Status::Encrypted, name, fp);
    }
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
    let sc = check(&s, d, "sshcom", Status::Valid, "RSA 2048");
    assert_eq!(sc.format, "ssh.com");
    assert_eq!(sc.fingerprint, Some(rsa_fp));
    // The private half is readable in both: AWS's SHA-1 of the PKCS#8 form,
    // as openssl computes it.
    let aws_sha1 = digest_of(&sh(
        d,
        "puttygen rsa-v2-clear.ppk -O private-openssh --new-passphrase /dev/null -o rsa-v2.pem \
         && openssl pkcs8 -topk8 -nocrypt -in rsa-v2.pem -outform DER | openssl sha1 -c",
    ));
    assert_eq!(sc.aws_fingerprints.sha1_pkcs8.as_ref(), Some(&aws_sha1));
    let ppk = one(&s, d, "rsa-v2-clear.ppk");
    assert_eq!(ppk.aws_fingerprints.sha1_pkcs8, Some(aws_sha1));
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
    check(&s, d, "sshcom-enc", Status::Encrypted, "RSA");
}

#[test]
fn pgp_secret_keys() {
    let s = scanner();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let home = d.join("gnupg");
    fs::create_dir(&home).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&home, fs::Permissions::from_mode(0o700)).unwrap();
    }
    let home_str = home.to_str().unwrap().to_string();
    let gpg = |args: &[&str]| -> String {
        let mut all = vec![
            "--homedir",
            home_str.as_str(),
            "--batch",
            "--pinentry-mode",
            "loopback",
        ];
        all.extend_from_slice(args);
        run(d, "gpg", &all)
    };
    for (uid, pass, algo) in [
        ("Clear <c@example.com>", "", "ed25519"),
        ("Locked <l@example.com>", "pw", "rsa2048"),
        ("Plain <p@example.com>", "", "rsa2048"),
    ] {
        gpg(&[
            "--passphrase",
            pass,
            "--quick-gen-key",
            uid,
            algo,
            "default",
            "never",
        ]);
    }
    for (who, file, status, key_type) in [
        (
            "c@example.com",
            "clear.asc",
            Status::Valid,
            "PGP EdDSA (Ed25519)",
        ),
        (
            "l@example.com",
            "locked.asc",
            Status::Encrypted,
            "PGP RSA 2048",
        ),
        ("p@example.com", "plain.asc", Status::Valid, "PGP RSA 2048"),
    ] {
        let key = gpg(&["--passphrase", "pw", "--armor", "--export-secret-keys", who]);
        fs::write(d.join(file), &key).unwrap();
        let fpr = gpg(&["--with-colons", "--fingerprint", who])
            .lines()
            .find(|l| l.starts_with("fpr:"))
            .and_then(|l| l.split(':').nth(9))
            .expect("gpg prints a fingerprint")
            .to_string();
        let info = check(&s, d, file, status, key_type);
        assert_eq!(info.fingerprint, Some(fpr), "{file}");
        assert_eq!(info.format, "OpenPGP");

        // A damaged body fails the armor checksum.
        let bad = corrupt_middle(&key);
        let found = infos(&s, bad.as_bytes());
        assert!(
            found.iter().all(|i| i.status == Status::Unverified),
            "{file}: {found:#?}"
        );
    }
    let public = gpg(&["--armor", "--export", "c@example.com"]);
    assert!(infos(&s, public.as_bytes()).is_empty());
    // Stop the agent this test started (by its home, nothing else).
    let _ = Command::new("gpgconf")
        .args(["--homedir", &home_str, "--kill", "gpg-agent"])
        .output();
}

#[test]
fn look_alikes_do_not_block() {
    let s = scanner();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    openssl(d, &["genrsa", "-out", "k.pem", "2048"]);
    openssl(d, &["pkey", "-in", "k.pem", "-pubout", "-out", "pub.pem"]);
    openssl(
        d,
        &[
            "rsa",
            "-in",
            "k.pem",
            "-RSAPublicKey_out",
            "-out",
            "rsapub.pem",
        ],
    );
    openssl(
        d,
        &[
            "req", "-x509", "-key", "k.pem", "-subj", "/CN=t", "-days", "1", "-out", "cert.pem",
        ],
    );
    openssl(
        d,
        &[
            "req", "-new", "-key", "k.pem", "-subj", "/CN=t", "-out", "csr.pem",
        ],
    );
    openssl(
        d,
        &[
            "pkey", "-in", "k.pem", "-pubout", "-outform", "DER", "-out", "pub.der",
        ],
    );
    openssl(
        d,
        &[
            "req", "-new", "-key", "k.pem", "-subj", "/CN=t", "-outform", "DER", "-out", "csr.der",
        ],
    );
    run(
        d,
        "ssh-keygen",
        &["-q", "-t", "ed25519", "-N", "", "-f", "id"],
    );
    for name in [
        "pub.pem",
        "rsapub.pem",
        "cert.pem",
        "csr.pem",
        "pub.der",
        "csr.der",
        "id.pub",
    ] {
        let data = fs::read(d.join(name)).unwrap();
        assert!(infos(&s, &data).is_empty(), "{name}");
    }
    for placeholder in [
        "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----\n",
        "-----BEGIN PRIVATE KEY-----\n<your key here>\n-----END PRIVATE KEY-----\n",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n-----END OPENSSH PRIVATE KEY-----\n",
        "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n-----END EC PRIVATE KEY-----\n",
    ] {
        nothing_blocks(&s, placeholder, placeholder.as_bytes());
    }
    // Random binary that merely starts like DER.
    let mut blob = vec![0x30, 0x82, 0x01, 0x00];
    let mut seed = 7u32;
    for _ in 0..256 {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
        blob.push((seed >> 16) as u8);
    }
    assert!(infos(&s, &blob).is_empty());
}

/// A disguised key counts the lines of the key, not of its disguise, and
/// one line is "1 line".
#[test]
fn redaction_counts_the_lines_of_the_decoded_key() {
    let s = scanner();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    sh(
        d,
        "openssl genrsa -traditional -out k.pem 2048 2>/dev/null \
         && ssh-keygen -q -t ed25519 -N '' -C t -f ed",
    );
    let pem = fs::read_to_string(d.join("k.pem")).unwrap();
    let lines = pem.lines().count();
    let percent: String = pem
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let oneline = fs::read_to_string(d.join("ed")).unwrap().replace('\n', " ");
    let cases = [
        (
            format!("GET /?key={percent} HTTP/1.1\n"),
            format!("[{lines} lines redacted] (percent-encoded)"),
        ),
        (pem.clone(), format!("[{lines} lines redacted]")),
        (
            format!("KEY=\"{oneline}\"\n"),
            "[1 line redacted]".to_string(),
        ),
    ];
    for (data, expected) in cases {
        let hits = s.hits(data.as_bytes());
        assert_eq!(hits.len(), 1, "{data}");
        assert!(
            hits[0].redacted.ends_with(&expected),
            "{} vs {expected}",
            hits[0].redacted
        );
    }
}
