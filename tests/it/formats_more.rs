//! Rarer key algorithms and encryption schemes, honest statuses, explicit
//! EC curves. Keys come from openssl at test time; where the local tools
//! cannot write a format (post-quantum PKCS#8), the bytes are built here from
//! the format's specification.

use crate::support;
use keyscan::scan::finding::{KeyInfo, Status};
use keyscan::scan::Scanner;
use std::fs;
use std::path::Path;

pub(crate) fn scanner() -> Scanner {
    let rules = keyscan::rules::builtin().expect("built-in rules load");
    Scanner::new(
        keyscan::rules::Engine::new(rules).expect("engine builds"),
        Default::default(),
    )
}

pub(crate) fn sh(dir: &Path, script: &str) -> String {
    String::from_utf8_lossy(&support::tool("sh", &["-c", script], dir).stdout).into_owned()
}

pub(crate) fn infos(s: &Scanner, data: &[u8]) -> Vec<KeyInfo> {
    s.hits(data).into_iter().map(|h| h.info).collect()
}

pub(crate) fn one_in(s: &Scanner, what: &str, data: &[u8]) -> KeyInfo {
    let found = infos(s, data);
    assert_eq!(found.len(), 1, "{what}: {found:#?}");
    found.into_iter().next().unwrap()
}

fn one(s: &Scanner, dir: &Path, name: &str) -> KeyInfo {
    let data = fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    one_in(s, name, &data)
}

fn check(s: &Scanner, dir: &Path, name: &str, status: Status, key_type: &str) -> KeyInfo {
    let info = one(s, dir, name);
    assert_eq!(info.status, status, "{name}: {info:#?}");
    assert_eq!(info.key_type, key_type, "{name}: {info:#?}");
    info
}

fn ssh_fp(dir: &Path, name: &str) -> String {
    support::ssh_fingerprint(&dir.join(name))
}

/// Deterministic filler bytes standing in for key material.
fn filler(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        })
        .collect()
}

fn der(tag: u8, value: &[u8]) -> Vec<u8> {
    keyscan::validate::fingerprint::der_encode(tag, value)
}

/// DER of a dotted OID.
fn oid(dotted: &str) -> Vec<u8> {
    let arcs: Vec<u64> = dotted.split('.').map(|a| a.parse().unwrap()).collect();
    let mut body = Vec::new();
    let mut push = |mut v: u64| {
        let mut bytes = vec![(v & 0x7f) as u8];
        v >>= 7;
        while v > 0 {
            bytes.push(0x80 | (v & 0x7f) as u8);
            v >>= 7;
        }
        body.extend(bytes.iter().rev());
    };
    push(arcs[0] * 40 + arcs[1]);
    for a in &arcs[2..] {
        push(*a);
    }
    der(0x06, &body)
}

/// RFC 5958 OneAsymmetricKey v1 with no parameters.
fn pkcs8(alg_oid: &str, private_key: &[u8]) -> Vec<u8> {
    let mut body = der(0x02, &[0]);
    body.extend(der(0x30, &oid(alg_oid)));
    body.extend(der(0x04, private_key));
    der(0x30, &body)
}

fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

#[test]
fn openssl3_algorithms_are_valid_with_readable_names() {
    let s = scanner();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    for (alg, name) in [
        ("ed448", "Ed448"),
        ("x25519", "X25519"),
        ("x448", "X448"),
        ("SM2", "SM2"),
    ] {
        sh(
            d,
            &format!("openssl genpkey -algorithm {alg} -out {alg}.pem && openssl pkcs8 -topk8 -nocrypt -in {alg}.pem -outform DER -out {alg}.der"),
        );
        check(&s, d, &format!("{alg}.pem"), Status::Valid, name);
        let der = check(&s, d, &format!("{alg}.der"), Status::Valid, name);
        assert_eq!(der.format, "DER PKCS#8");
    }
    sh(
        d,
        "openssl genpkey -algorithm DH -pkeyopt group:ffdhe2048 -out dh.pem \
         && openssl genpkey -algorithm DHX -pkeyopt dh_rfc5114:2 -out dhx.pem",
    );
    check(&s, d, "dh.pem", Status::Valid, "DH");
    check(&s, d, "dhx.pem", Status::Valid, "DH (X9.42)");
    sh(
        d,
        "openssl genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 -out pss.pem",
    );
    let pss = check(&s, d, "pss.pem", Status::Valid, "RSA-PSS 2048");
    assert!(pss.fingerprint.is_some());
    assert!(pss.aws_fingerprints.sha1_pkcs8.is_none());
    // A corrupted RSA-PSS key is no key.
    let text = fs::read_to_string(d.join("pss.pem")).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mid = lines.len() / 2;
    lines[mid] = lines[mid].chars().rev().collect();
    let broken = lines.join("\n");
    assert_eq!(
        one_in(&s, "broken", broken.as_bytes()).status,
        Status::Unverified
    );
}

#[test]
fn post_quantum_and_national_pkcs8_built_from_the_spec() {
    let s = scanner();
    // ML-DSA (RFC 9881): seed [0], expanded key, or both.
    let seed = filler(32, 1);
    let expanded = filler(2560, 2);
    let mut both = der(0x04, &seed);
    both.extend(der(0x04, &expanded));
    let ml_dsa = "2.16.840.1.101.3.4.3.17";
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (pkcs8(ml_dsa, &der(0x80, &seed)), "ML-DSA-44"),
        (pkcs8(ml_dsa, &der(0x04, &expanded)), "ML-DSA-44"),
        (pkcs8(ml_dsa, &der(0x30, &both)), "ML-DSA-44"),
        (
            pkcs8("2.16.840.1.101.3.4.3.19", &der(0x80, &seed)),
            "ML-DSA-87",
        ),
        (
            pkcs8("2.16.840.1.101.3.4.4.2", &der(0x80, &filler(64, 3))),
            "ML-KEM-768",
        ),
        (
            pkcs8("2.16.840.1.101.3.4.4.1", &der(0x04, &filler(1632, 4))),
            "ML-KEM-512",
        ),
        (
            pkcs8("2.16.840.1.101.3.4.3.20", &filler(64, 5)),
            "SLH-DSA-SHA2-128s",
        ),
        (
            pkcs8("2.16.840.1.101.3.4.3.31", &filler(128, 6)),
            "SLH-DSA-SHAKE-256f",
        ),
        (
            pkcs8("1.2.643.7.1.1.1.1", &der(0x04, &filler(32, 7))),
            "GOST R 34.10-2012 256",
        ),
        (
            pkcs8("1.2.643.7.1.1.1.2", &filler(64, 8)),
            "GOST R 34.10-2012 512",
        ),
        (
            pkcs8("1.2.112.0.2.0.34.101.45.2.1", &der(0x04, &filler(32, 9))),
            "bign",
        ),
    ];
    for (key, name) in &cases {
        for data in [pem("PRIVATE KEY", key).into_bytes(), key.clone()] {
            let info = one_in(&s, name, &data);
            assert_eq!(info.status, Status::Valid, "{name}: {info:#?}");
            assert_eq!(info.key_type, *name);
        }
    }
    // The wrong length for the algorithm is not a key of it.
    for (key, name) in [
        (pkcs8(ml_dsa, &der(0x80, &filler(31, 1))), "ML-DSA-44"),
        (pkcs8(ml_dsa, &der(0x04, &filler(2561, 1))), "ML-DSA-44"),
        (
            pkcs8("2.16.840.1.101.3.4.3.20", &filler(65, 1)),
            "SLH-DSA-SHA2-128s",
        ),
        (pkcs8("1.3.101.113", &der(0x04, &filler(32, 1))), "Ed448"),
    ] {
        let info = one_in(&s, name, pem("PRIVATE KEY", &key).as_bytes());
        assert_eq!(info.status, Status::Unverified, "{name}: {info:#?}");
        assert!(info.note.unwrap().contains("wrong length"));
    }
}

#[test]
fn unregistered_algorithm_is_unverified_with_a_note() {
    let s = scanner();
    let key = pkcs8("1.3.6.1.4.1.99999.1.2", &der(0x04, &filler(32, 1)));
    let info = one_in(&s, "unregistered", pem("PRIVATE KEY", &key).as_bytes());
    assert_eq!(info.status, Status::Unverified, "{info:#?}");
    assert!(info
        .note
        .as_deref()
        .unwrap()
        .contains("1.3.6.1.4.1.99999.1.2"));
    // Under the wrong label, the reason survives.
    let info = one_in(&s, "relabelled", pem("RSA PRIVATE KEY", &key).as_bytes());
    assert_eq!(info.status, Status::Unverified, "{info:#?}");
    assert!(info.note.unwrap().contains("1.3.6.1.4.1.99999.1.2"));
    // A real Ed25519 key whose OID is swapped for an unknown one.
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    sh(
        d,
        "openssl genpkey -algorithm ed25519 -outform DER -out ed.der",
    );
    let mut bytes = fs::read(d.join("ed.der")).unwrap();
    let at = bytes
        .windows(5)
        .position(|w| w == [0x06, 0x03, 0x2b, 0x65, 0x70])
        .unwrap();
    bytes[at + 4] = 0x7f;
    let info = one_in(&s, "swapped", pem("PRIVATE KEY", &bytes).as_bytes());
    assert_eq!(info.status, Status::Unverified, "{info:#?}");
}

#[test]
fn every_openssl_pbe_scheme_is_encrypted_and_unknown_oids_are_not() {
    let s = scanner();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    sh(
        d,
        "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out k.pem",
    );
    let legacy = "-provider legacy -provider default";
    let schemes = [
        ("-v1 PBE-SHA1-3DES", "pbeWithSHAAnd3-KeyTripleDES-CBC"),
        ("-v1 PBE-SHA1-2DES", "pbeWithSHAAnd2-KeyTripleDES-CBC"),
        (
            &format!("-v1 PBE-SHA1-RC4-128 {legacy}")[..],
            "pbeWithSHAAnd128BitRC4",
        ),
        (
            &format!("-v1 PBE-SHA1-RC2-40 {legacy}")[..],
            "pbewithSHAAnd40BitRC2-CBC",
        ),
        (
            &format!("-v1 PBE-MD5-DES {legacy}")[..],
            "pbeWithMD5AndDES-CBC",
        ),
        (
            &format!("-v1 PBE-SHA1-DES {legacy}")[..],
            "pbeWithSHA1AndDES-CBC",
        ),
        ("-scrypt", "PBES2 (scrypt, aes-256-cbc)"),
        (
            "-v2 aes-256-cbc -v2prf hmacWithSHA512",
            "PBES2 (PBKDF2 hmacWithSHA512, aes-256-cbc)",
        ),
        (
            "-v2 aes-128-cbc -v2prf hmacWithSHA1",
            "PBES2 (PBKDF2 hmacWithSHA1, aes-128-cbc)",
        ),
        (
            "-v2 des-ede3-cbc -v2prf hmacWithSHA384",
            "PBES2 (PBKDF2 hmacWithSHA384, des-ede3-cbc)",
        ),
        (
            "-v2 camellia-256-cbc -v2prf hmacWithSHA256",
            "PBES2 (PBKDF2 hmacWithSHA256, camellia-256-cbc)",
        ),
        ("-v2 aria-192-cbc", "PBES2 (PBKDF2 hmacWithSHA256, aria)"),
        ("-v2 sm4-cbc", "PBES2 (PBKDF2 hmacWithSHA256, sm4)"),
        (
            "-v2 aes-256-cbc -v2prf hmacWithSHA512-256",
            "PBES2 (PBKDF2 hmacWithSHA512-256, aes-256-cbc)",
        ),
        (
            &format!("-v2 bf-cbc {legacy}")[..],
            "PBES2 (PBKDF2 hmacWithSHA256, bf-cbc)",
        ),
    ];
    for (i, (opts, scheme)) in schemes.iter().enumerate() {
        let out = format!("e{i}.pem");
        sh(
            d,
            &format!(
                "openssl pkcs8 -topk8 -in k.pem {opts} -passout pass:Str0ng-enough -out {out}"
            ),
        );
        let info = check(&s, d, &out, Status::Encrypted, "unknown");
        assert_eq!(
            info.note.as_deref(),
            Some(format!("encrypted with {scheme}").as_str()),
            "{opts}"
        );
    }
    // The same structure with an unknown cipher, PRF or scheme OID.
    sh(
        d,
        "openssl pkcs8 -topk8 -in k.pem -v2 aes-256-cbc -v2prf hmacWithSHA512 -passout pass:x -outform DER -out e.der",
    );
    let good = fs::read(d.join("e.der")).unwrap();
    let patch = |from: &[u8], to: &[u8]| -> Vec<u8> {
        let at = good
            .windows(from.len())
            .position(|w| w == from)
            .expect("OID present");
        let mut bad = good.clone();
        bad[at..at + to.len()].copy_from_slice(to);
        bad
    };
    let aes256 = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2a];
    let hmac512 = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x0b];
    let pbes2 = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d];
    for (what, bad, why) in [
        (
            "cipher",
            patch(
                &aes256,
                &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x63],
            ),
            "unknown cipher",
        ),
        (
            "prf",
            patch(&hmac512, &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x63]),
            "unknown PBKDF2 PRF",
        ),
        (
            "scheme",
            patch(
                &pbes2,
                &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x63],
            ),
            "unknown password-based encryption scheme",
        ),
    ] {
        for data in [pem("ENCRYPTED PRIVATE KEY", &bad).into_bytes(), bad.clone()] {
            let info = one_in(&s, what, &data);
            assert_eq!(info.status, Status::Unverified, "{what}: {info:#?}");
            assert!(info.note.as_deref().unwrap().contains(why), "{info:#?}");
        }
    }
}

#[test]
fn explicit_curve_parameters_and_unused_bits() {
    let s = scanner();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    sh(
        d,
        "openssl ecparam -name prime256v1 -genkey -noout -out named.pem \
         && openssl ec -in named.pem -param_enc explicit -out explicit.pem \
         && openssl pkcs8 -topk8 -nocrypt -in explicit.pem -out explicit8.pem \
         && openssl ec -in named.pem -param_enc explicit -no_public -out nopub.pem \
         && openssl ecparam -name brainpoolP256r1 -genkey -noout -param_enc explicit -out bp.pem \
         && openssl ecparam -name secp384r1 -genkey -noout -param_enc explicit -out p384.pem",
    );
    let fp = ssh_fp(d, "named.pem");
    for name in ["explicit.pem", "explicit8.pem", "nopub.pem"] {
        let info = check(&s, d, name, Status::Valid, "ECDSA P-256");
        assert_eq!(info.fingerprint.as_deref(), Some(fp.as_str()), "{name}");
        assert_eq!(info.note.as_deref(), Some("explicit curve parameters"));
    }
    check(&s, d, "p384.pem", Status::Valid, "ECDSA P-384");
    check(
        &s,
        d,
        "bp.pem",
        Status::Valid,
        "EC (explicit 256-bit curve)",
    );

    // A public point that is not d·G: flip a byte of the point's x.
    let der_of = |name: &str| {
        sh(
            d,
            &format!("openssl ec -in {name} -outform DER -out {name}.der 2>/dev/null"),
        );
        fs::read(d.join(format!("{name}.der"))).unwrap()
    };
    for name in ["bp.pem", "explicit.pem"] {
        let mut bytes = der_of(name);
        let n = bytes.len();
        bytes[n - 40] ^= 0x01;
        let info = one_in(&s, name, pem("EC PRIVATE KEY", &bytes).as_bytes());
        assert_eq!(info.status, Status::Unverified, "{name}: {info:#?}");
    }

    // SEC1 whose public-key BIT STRING declares unused bits: openssl loads
    // it when those bits are zero, so make keys until the last byte is even.
    for attempt in 0..64 {
        sh(
            d,
            "openssl ecparam -name prime256v1 -genkey -noout -outform DER -out u.der",
        );
        let mut bytes = fs::read(d.join("u.der")).unwrap();
        let last = *bytes.last().unwrap();
        if last & 1 == 1 {
            assert!(attempt < 63, "no key with an even last byte");
            continue;
        }
        let at = bytes
            .windows(4)
            .position(|w| w == [0xa1, 0x44, 0x03, 0x42])
            .expect("public key field");
        bytes[at + 4] = last.trailing_zeros().min(7) as u8;
        fs::write(d.join("unused.der"), &bytes).unwrap();
        sh(
            d,
            "openssl ec -inform DER -in unused.der -noout 2>/dev/null",
        );
        sh(d, "openssl ec -inform DER -in u.der -out u.pem 2>/dev/null");
        let fp = ssh_fp(d, "u.pem");
        let info = check(&s, d, "unused.der", Status::Valid, "ECDSA P-256");
        assert_eq!(info.fingerprint.as_deref(), Some(fp.as_str()));
        break;
    }
}

fn ssh_string(out: &mut Vec<u8>, s: &[u8]) {
    out.extend((s.len() as u32).to_be_bytes());
    out.extend(s);
}

fn wrap_pem(label: &str, bytes: &[u8], width: usize) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(width)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// An OpenSSH private key built from PROTOCOL.key: `public` and `private`
/// are the key-specific fields after the type name.
fn openssh_key(
    name: &str,
    public: &[&[u8]],
    private: &[&[u8]],
    encrypted: bool,
) -> (String, Vec<u8>) {
    let mut blob = Vec::new();
    ssh_string(&mut blob, name.as_bytes());
    for f in public {
        ssh_string(&mut blob, f);
    }
    let mut section = Vec::new();
    section.extend(0x1234_5678u32.to_be_bytes());
    section.extend(0x1234_5678u32.to_be_bytes());
    ssh_string(&mut section, name.as_bytes());
    for f in public.iter().chain(private) {
        ssh_string(&mut section, f);
    }
    ssh_string(&mut section, b"built-from-spec");
    let mut pad = 1u8;
    while section.len() % 16 != 0 {
        section.push(pad);
        pad += 1;
    }
    let mut out = b"openssh-key-v1\0".to_vec();
    if encrypted {
        ssh_string(&mut out, b"aes256-ctr");
        ssh_string(&mut out, b"bcrypt");
        let mut opts = Vec::new();
        ssh_string(&mut opts, &filler(16, 99));
        opts.extend(16u32.to_be_bytes());
        ssh_string(&mut out, &opts);
        section = filler(section.len(), 98);
    } else {
        ssh_string(&mut out, b"none");
        ssh_string(&mut out, b"none");
        ssh_string(&mut out, b"");
    }
    out.extend(1u32.to_be_bytes());
    ssh_string(&mut out, &blob);
    ssh_string(&mut out, &section);
    (wrap_pem("OPENSSH PRIVATE KEY", &out, 70), blob)
}

fn blob_fingerprint(blob: &[u8]) -> String {
    use base64::Engine as _;
    use sha2::Digest;
    format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(sha2::Sha256::digest(blob))
    )
}

#[test]
fn openssh_ed448_hybrids_and_fido_built_from_the_spec() {
    let s = scanner();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // Ed448: string pk(57), string sk||pk(114).
    let pk = filler(57, 10);
    let sk = [filler(57, 11), pk.clone()].concat();
    let (text, blob) = openssh_key("ssh-ed448", &[&pk], &[&sk], false);
    let info = one_in(&s, "ed448", text.as_bytes());
    assert_eq!(
        (info.status, info.key_type.as_str()),
        (Status::Valid, "Ed448"),
        "{info:#?}"
    );
    assert_eq!(info.fingerprint, Some(blob_fingerprint(&blob)));
    assert!(info
        .public_key
        .unwrap()
        .starts_with("ssh-ed448 AAAACXNzaC1lZDQ0OA"));
    let bad_sk = [filler(57, 11), filler(57, 12)].concat();
    let (text, _) = openssh_key("ssh-ed448", &[&pk], &[&bad_sk], false);
    assert_eq!(
        one_in(&s, "bad ed448", text.as_bytes()).status,
        Status::Unverified
    );
    let (text, _) = openssh_key("ssh-ed448", &[&pk], &[&sk], true);
    let info = one_in(&s, "encrypted ed448", text.as_bytes());
    assert_eq!(
        (info.status, info.key_type.as_str()),
        (Status::Encrypted, "Ed448")
    );

    // A post-quantum hybrid: both public keys, then both private keys.
    let (mldsa_pk, ed_pk) = (filler(1312, 13), filler(32, 14));
    let (text, blob) = openssh_key(
        "ssh-mldsa44-ed25519@openssh.com",
        &[&mldsa_pk, &ed_pk],
        &[&filler(32, 15), &filler(64, 16)],
        false,
    );
    let info = one_in(&s, "hybrid", text.as_bytes());
    assert_eq!(info.status, Status::Valid, "{info:#?}");
    assert_eq!(info.key_type, "ML-DSA-44 + Ed25519");
    assert_eq!(info.fingerprint, Some(blob_fingerprint(&blob)));

    // FIDO (PROTOCOL.u2f): the public key, the application, then flags, the
    // key handle and a reserved string. ssh-keygen reads the public half.
    let ed_pk = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32])
        .verifying_key()
        .to_bytes();
    let point = p256::SecretKey::from_slice(&[9u8; 32])
        .unwrap()
        .public_key()
        .to_sec1_bytes();
    assert_eq!(point.len(), 65);
    let handle = filler(64, 17);
    for (name, public, readable) in [
        (
            "sk-ssh-ed25519@openssh.com",
            vec![&ed_pk[..], b"ssh:"],
            "Ed25519-SK",
        ),
        (
            "sk-ecdsa-sha2-nistp256@openssh.com",
            vec![&b"nistp256"[..], &point[..], b"ssh:"],
            "ECDSA-SK P-256",
        ),
    ] {
        let (text, blob) = openssh_sk(name, &public, &handle);
        let info = one_in(&s, name, text.as_bytes());
        assert_eq!(info.status, Status::Valid, "{name}: {info:#?}");
        assert_eq!(info.key_type, readable);
        assert!(info.note.unwrap().contains("FIDO"));
        use base64::Engine as _;
        let line = format!(
            "{name} {}\n",
            base64::engine::general_purpose::STANDARD.encode(&blob)
        );
        fs::write(d.join("sk.pub"), line).unwrap();
        assert_eq!(info.fingerprint, Some(ssh_fp(d, "sk.pub")), "{name}");
    }

    // Look-alikes stay quiet or unverified, never valid.
    let (text, _) = openssh_key("ssh-ed448", &[&pk], &[&sk], false);
    let truncated = text.replacen(&text.lines().nth(3).unwrap().to_string(), "", 1);
    for f in infos(&s, truncated.as_bytes()) {
        assert_ne!(f.status, Status::Valid, "{f:#?}");
    }
}

/// A FIDO OpenSSH key: the private section holds the public fields, a flags
/// byte, the key handle and a reserved string.
fn openssh_sk(name: &str, public: &[&[u8]], handle: &[u8]) -> (String, Vec<u8>) {
    let mut blob = Vec::new();
    ssh_string(&mut blob, name.as_bytes());
    for f in public {
        ssh_string(&mut blob, f);
    }
    let mut section = Vec::new();
    section.extend(7u32.to_be_bytes());
    section.extend(7u32.to_be_bytes());
    ssh_string(&mut section, name.as_bytes());
    for f in public {
        ssh_string(&mut section, f);
    }
    section.push(0x01);
    ssh_string(&mut section, handle);
    ssh_string(&mut section, b"");
    ssh_string(&mut section, b"fido");
    let mut pad = 1u8;
    while section.len() % 8 != 0 {
        section.push(pad);
        pad += 1;
    }
    let mut out = b"openssh-key-v1\0".to_vec();
    ssh_string(&mut out, b"none");
    ssh_string(&mut out, b"none");
    ssh_string(&mut out, b"");
    out.extend(1u32.to_be_bytes());
    ssh_string(&mut out, &blob);
    ssh_string(&mut out, &section);
    (wrap_pem("OPENSSH PRIVATE KEY", &out, 70), blob)
}

/// A PuTTY PPK in clear, MAC computed as the format says.
fn ppk(version: u32, alg: &str, public: &[u8], private: &[u8]) -> String {
    use base64::Engine as _;
    use hmac::{KeyInit, Mac};
    use sha1::Digest;
    let comment = "built-from-spec";
    let mut data = Vec::new();
    for f in [alg.as_bytes(), b"none", comment.as_bytes(), public, private] {
        ssh_string(&mut data, f);
    }
    let mac: Vec<u8> = if version == 3 {
        let mut m = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&[]).unwrap();
        m.update(&data);
        m.finalize().into_bytes().to_vec()
    } else {
        let key = sha1::Sha1::digest(b"putty-private-key-file-mac-key");
        let mut m = <hmac::Hmac<sha1::Sha1> as KeyInit>::new_from_slice(&key).unwrap();
        m.update(&data);
        m.finalize().into_bytes().to_vec()
    };
    let lines = |b: &[u8]| -> Vec<String> {
        base64::engine::general_purpose::STANDARD
            .encode(b)
            .as_bytes()
            .chunks(64)
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect()
    };
    let (pl, vl) = (lines(public), lines(private));
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "PuTTY-User-Key-File-{version}: {alg}\nEncryption: none\nComment: {comment}\nPublic-Lines: {}\n{}\nPrivate-Lines: {}\n{}\nPrivate-MAC: {hex}\n",
        pl.len(),
        pl.join("\n"),
        vl.len(),
        vl.join("\n")
    )
}

#[test]
fn ppk_ed448_built_from_the_spec() {
    let s = scanner();
    let mut public = Vec::new();
    ssh_string(&mut public, b"ssh-ed448");
    ssh_string(&mut public, &filler(57, 20));
    let mut private = Vec::new();
    ssh_string(&mut private, &filler(57, 21));
    for version in [2, 3] {
        let text = ppk(version, "ssh-ed448", &public, &private);
        let info = one_in(&s, "ppk ed448", text.as_bytes());
        assert_eq!(info.status, Status::Valid, "v{version}: {info:#?}");
        assert_eq!(info.key_type, "Ed448");
        assert_eq!(info.format, format!("PuTTY PPK v{version}"));
        assert_eq!(info.fingerprint, Some(blob_fingerprint(&public)));
        // One changed byte in the private blob: the MAC no longer matches.
        let mut edited = private.clone();
        edited[10] ^= 1;
        let text = ppk(version, "ssh-ed448", &public, &private).replace(
            &ppk(version, "ssh-ed448", &public, &private)
                .lines()
                .find(|l| l.starts_with("Private-MAC"))
                .unwrap()
                .to_string(),
            ppk(version, "ssh-ed448", &public, &edited)
                .lines()
                .find(|l| l.starts_with("Private-MAC"))
                .unwrap(),
        );
        assert_eq!(
            one_in(&s, "edited", text.as_bytes()).status,
            Status::Unverified
        );
    }
}
