//! Keys that are not PEM, SSH or PGP: age, WireGuard, minisign, signify, ...
//! Positives come from the real tools at test time; each format has its
//! look-alikes (public half only, broken checksum, mismatched halves).

use crate::support;
use crate::support::gitrepo;

use keyscan::scan::finding::Status;
use keyscan::scan::Scanner;
use std::fs;
use std::path::Path;

// The same scanner and helpers as the rarer PEM/SSH formats' tests.
use crate::formats_more::{infos, one_in, scanner, sh};

fn quiet(s: &Scanner, what: &str, data: &[u8]) {
    let found = infos(s, data);
    assert!(found.is_empty(), "{what}: {found:#?}");
}

/// Flip one character of `text` at `at` to another of the same alphabet.
fn flip(text: &str, at: usize) -> String {
    let mut b = text.as_bytes().to_vec();
    b[at] = match b[at] {
        b'Q' => b'P',
        b'q' => b'p',
        b'A' => b'B',
        c if c.is_ascii_uppercase() => b'Q',
        c if c.is_ascii_lowercase() => b'q',
        _ => b'A',
    };
    String::from_utf8(b).unwrap()
}

// ---- age ----

#[test]
fn age_identity_gives_its_recipient() {
    let dir = tempfile::tempdir().unwrap();
    sh(dir.path(), "age-keygen -o keys.txt 2>/dev/null");
    let recipient = sh(dir.path(), "age-keygen -y keys.txt").trim().to_string();
    let file = fs::read_to_string(dir.path().join("keys.txt")).unwrap();
    let s = scanner();
    let info = one_in(&s, "keys.txt", file.as_bytes());
    assert_eq!(info.status, Status::Valid, "{info:#?}");
    assert_eq!(info.format, "age");
    assert_eq!(info.key_type, "X25519");
    assert_eq!(info.public_key.as_deref(), Some(recipient.as_str()));
    assert_eq!(info.fingerprint.as_deref(), Some(recipient.as_str()));

    let secret = file
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .unwrap();
    // In env files, YAML (sops), lower case, and inside a JSON string.
    for text in [
        format!("SOPS_AGE_KEY={secret}\n"),
        format!(
            "creation_rules:\n  - age_key: \"{}\"\n",
            secret.to_lowercase()
        ),
        format!("{{\"key\":\"# public key: {recipient}\\n{secret}\\n\"}}"),
    ] {
        let info = one_in(&s, &text, text.as_bytes());
        assert_eq!(info.public_key.as_deref(), Some(recipient.as_str()));
    }

    // Look-alikes: the recipient alone, a broken checksum, a truncation.
    quiet(
        &s,
        "recipient",
        format!("# public key: {recipient}\n").as_bytes(),
    );
    for at in [20, 40, secret.len() - 1] {
        quiet(&s, "broken checksum", flip(secret, at).as_bytes());
    }
    quiet(&s, "truncated", &secret.as_bytes()[..secret.len() - 3]);
}

#[test]
fn age_plugin_identity_is_reported_without_recipient() {
    let id =
        keyscan::validate::bech32::encode("age-plugin-yubikey-", &[0x5a; 33]).to_ascii_uppercase();
    let s = scanner();
    let info = one_in(
        &s,
        "plugin",
        format!("# Recipient: age1yubikey1q\n{id}\n").as_bytes(),
    );
    assert_eq!(info.status, Status::Valid);
    assert_eq!(info.key_type, "age plugin identity (yubikey)");
    assert!(info.public_key.is_none());
    quiet(&s, "broken plugin identity", flip(&id, 25).as_bytes());
}

// ---- WireGuard ----

#[test]
fn wireguard_interface_key_gives_its_public_key() {
    let dir = tempfile::tempdir().unwrap();
    let private = sh(dir.path(), "wg genkey").trim().to_string();
    let public = sh(dir.path(), &format!("echo {private} | wg pubkey"))
        .trim()
        .to_string();
    let peer = sh(dir.path(), "wg genkey | wg pubkey").trim().to_string();
    let conf = format!(
        "[Interface]\nAddress = 10.8.0.1/24\nListenPort = 51820\nPrivateKey = {private}\n\n[Peer]\nPublicKey = {peer}\nAllowedIPs = 10.8.0.2/32\n"
    );
    let s = scanner();
    let info = one_in(&s, "wg0.conf", conf.as_bytes());
    assert_eq!(info.status, Status::Valid);
    assert_eq!(
        (info.format.as_str(), info.key_type.as_str()),
        ("WireGuard", "X25519")
    );
    assert_eq!(info.public_key.as_deref(), Some(public.as_str()));
    assert_eq!(info.fingerprint.as_deref(), Some(public.as_str()));

    // Inside a Kubernetes secret (YAML block) and a JSON string.
    let yaml = format!("stringData:\n  wg0.conf: |\n    [Interface]\n    PrivateKey = {private}\n");
    assert_eq!(
        one_in(&s, "yaml", yaml.as_bytes()).public_key.as_deref(),
        Some(public.as_str())
    );
    let json = format!("{{\"wg0.conf\": \"[Interface]\\nPrivateKey={private}\\n\"}}");
    assert_eq!(
        one_in(&s, "json", json.as_bytes()).public_key.as_deref(),
        Some(public.as_str())
    );

    // Look-alikes: public keys only, no [Interface] context, a placeholder,
    // a key in a [Peer] section.
    quiet(
        &s,
        "peers only",
        format!("[Peer]\nPublicKey = {public}\n").as_bytes(),
    );
    quiet(
        &s,
        "no context",
        format!("PrivateKey = {private}\n").as_bytes(),
    );
    quiet(
        &s,
        "placeholder",
        b"[Interface]\nPrivateKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
    );
    quiet(
        &s,
        "peer section",
        format!("[Interface]\nAddress = 10.0.0.1\n[Peer]\nPrivateKey = {private}\n").as_bytes(),
    );
}

// ---- minisign, signify ----

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .unwrap()
}

/// The comment and base64 lines of a minisign or signify file.
fn two_lines(text: &str) -> (String, Vec<u8>) {
    let mut lines = text.lines();
    let comment = lines.next().unwrap().to_string();
    (comment, unb64(lines.next().unwrap()))
}

#[test]
fn minisign_key_in_clear_gives_key_id_and_public_key() {
    let dir = tempfile::tempdir().unwrap();
    sh(dir.path(), "minisign -G -W -p k.pub -s k.key >/dev/null");
    let key = fs::read_to_string(dir.path().join("k.key")).unwrap();
    let public = fs::read_to_string(dir.path().join("k.pub")).unwrap();
    let (pub_comment, pub_raw) = two_lines(&public);
    let key_id = pub_comment.rsplit(' ').next().unwrap().to_string();
    let s = scanner();
    let info = one_in(&s, "k.key", key.as_bytes());
    assert_eq!(info.status, Status::Valid, "{info:#?}");
    assert_eq!(
        (info.format.as_str(), info.key_type.as_str()),
        ("minisign", "Ed25519")
    );
    assert_eq!(info.fingerprint.as_deref(), Some(key_id.as_str()));
    assert_eq!(info.public_key.as_deref(), Some(b64(&pub_raw).as_str()));

    // Look-alikes: the public key file, a broken checksum, mismatched halves.
    quiet(&s, "k.pub", public.as_bytes());
    let (comment, raw) = two_lines(&key);
    let mut broken = raw.clone();
    broken[100] ^= 1;
    let text = format!("{comment}\n{}\n", b64(&broken));
    let info = one_in(&s, "broken", text.as_bytes());
    assert_eq!(info.status, Status::Unverified, "{info:#?}");
    assert!(info.public_key.is_none());
    let mut bad_sum = raw.clone();
    bad_sum[130] ^= 1;
    let text = format!("{comment}\n{}\n", b64(&bad_sum));
    let info = one_in(&s, "bad checksum", text.as_bytes());
    assert_eq!(info.note.as_deref(), Some("checksum does not match"));
    // Another public half with a checksum that matches it.
    let mut mixed = raw.clone();
    mixed[94..126].copy_from_slice(&pub_raw[10..42].iter().map(|b| b ^ 0x55).collect::<Vec<_>>());
    let mut h = <blake2::Blake2b<blake2::digest::consts::U32> as blake2::Digest>::new();
    blake2::Digest::update(&mut h, &mixed[..2]);
    blake2::Digest::update(&mut h, &mixed[54..126]);
    mixed[126..].copy_from_slice(&blake2::Digest::finalize(h));
    let text = format!("{comment}\n{}\n", b64(&mixed));
    let info = one_in(&s, "mismatched", text.as_bytes());
    assert_eq!(info.status, Status::Unverified, "{info:#?}");
}

#[test]
fn minisign_key_with_passphrase_is_encrypted() {
    let dir = tempfile::tempdir().unwrap();
    sh(
        dir.path(),
        "printf 'pw\\npw\\n' | minisign -G -p k.pub -s k.key >/dev/null 2>&1",
    );
    let key = fs::read_to_string(dir.path().join("k.key")).unwrap();
    let s = scanner();
    let info = one_in(&s, "k.key", key.as_bytes());
    assert_eq!(info.status, Status::Encrypted, "{info:#?}");
    assert_eq!(info.format, "minisign");
}

#[test]
fn signify_key_in_clear_gives_key_number_and_public_key() {
    let dir = tempfile::tempdir().unwrap();
    sh(
        dir.path(),
        "signify-openbsd -G -n -c 'release' -p k.pub -s k.sec",
    );
    let key = fs::read_to_string(dir.path().join("k.sec")).unwrap();
    let public = fs::read_to_string(dir.path().join("k.pub")).unwrap();
    let (_, pub_raw) = two_lines(&public);
    let s = scanner();
    let info = one_in(&s, "k.sec", key.as_bytes());
    assert_eq!(info.status, Status::Valid, "{info:#?}");
    assert_eq!(
        (info.format.as_str(), info.key_type.as_str()),
        ("signify", "Ed25519")
    );
    assert_eq!(info.public_key.as_deref(), Some(b64(&pub_raw).as_str()));
    let keynum: String = pub_raw[2..10].iter().map(|b| format!("{b:02X}")).collect();
    assert_eq!(info.fingerprint.as_deref(), Some(keynum.as_str()));

    quiet(&s, "k.pub", public.as_bytes());
    let (comment, raw) = two_lines(&key);
    let mut broken = raw.clone();
    broken[50] ^= 1;
    let text = format!("{comment}\n{}\n", b64(&broken));
    assert_eq!(
        one_in(&s, "broken", text.as_bytes()).status,
        Status::Unverified
    );
    // Nonzero bcrypt rounds: the secret key is encrypted.
    let mut locked = raw.clone();
    locked[4..8].copy_from_slice(&42u32.to_be_bytes());
    let text = format!("{comment}\n{}\n", b64(&locked));
    assert_eq!(
        one_in(&s, "encrypted", text.as_bytes()).status,
        Status::Encrypted
    );
}

// ---- JWK ----

fn b64u(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn jwk(members: &[(&str, String)]) -> String {
    let body: Vec<String> = members
        .iter()
        .map(|(k, v)| format!("\"{k}\": \"{v}\""))
        .collect();
    format!("{{\n  {}\n}}\n", body.join(",\n  "))
}

/// RFC 7638 thumbprint computed here from the members, independently.
fn thumbprint(canonical: &str) -> String {
    use sha2::Digest;
    b64u(&sha2::Sha256::digest(canonical.as_bytes()))
}

fn rsa_members(dir: &Path, name: &str) -> Vec<(&'static str, String)> {
    use der::Decode;
    sh(
        dir,
        &format!(
            "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out {name}.pem 2>/dev/null && openssl rsa -in {name}.pem -traditional -outform DER -out {name}.der 2>/dev/null"
        ),
    );
    let der = fs::read(dir.join(format!("{name}.der"))).unwrap();
    let k = pkcs1::RsaPrivateKey::from_der(&der).unwrap();
    let u = |v: der::asn1::UintRef| b64u(v.as_bytes());
    vec![
        ("kty", "RSA".into()),
        ("n", u(k.modulus)),
        ("e", u(k.public_exponent)),
        ("d", u(k.private_exponent)),
        ("p", u(k.prime1)),
        ("q", u(k.prime2)),
        ("dp", u(k.exponent1)),
        ("dq", u(k.exponent2)),
        ("qi", u(k.coefficient)),
    ]
}

fn without(members: &[(&'static str, String)], drop: &[&str]) -> Vec<(&'static str, String)> {
    members
        .iter()
        .filter(|(k, _)| !drop.contains(k))
        .cloned()
        .collect()
}

fn with(
    members: &[(&'static str, String)],
    name: &str,
    value: &str,
) -> Vec<(&'static str, String)> {
    members
        .iter()
        .map(|(k, v)| {
            (
                *k,
                if *k == name {
                    value.to_string()
                } else {
                    v.clone()
                },
            )
        })
        .collect()
}

#[test]
fn jwk_rsa_is_checked_and_fingerprinted() {
    let dir = tempfile::tempdir().unwrap();
    let m = rsa_members(dir.path(), "a");
    let ssh = support::ssh_fingerprint(&dir.path().join("a.pem"));
    let (n, e) = (&m[1].1, &m[2].1);
    let tp = thumbprint(&format!("{{\"e\":\"{e}\",\"kty\":\"RSA\",\"n\":\"{n}\"}}"));
    let s = scanner();
    let full = jwk(&m);
    let info = one_in(&s, "pretty", full.as_bytes());
    assert_eq!(info.status, Status::Valid, "{info:#?}");
    assert_eq!(
        (info.format.as_str(), info.key_type.as_str()),
        ("JWK", "RSA 2048")
    );
    assert_eq!(info.fingerprint.as_deref(), Some(ssh.as_str()));
    assert!(info
        .public_key
        .as_deref()
        .unwrap()
        .starts_with("ssh-rsa AAAA"));
    assert!(info.aws_fingerprints.sha1_pkcs8.is_some() && info.aws_fingerprints.md5_spki.is_some());
    assert_eq!(info.note, Some(format!("JWK thumbprint {tp}")));

    // Without the primes, d is checked against n and e alone.
    let info = one_in(
        &s,
        "n e d",
        jwk(&without(&m, &["p", "q", "dp", "dq", "qi"])).as_bytes(),
    );
    assert_eq!(
        (info.status, info.fingerprint.as_deref()),
        (Status::Valid, Some(ssh.as_str()))
    );

    // One line, in a JWKS among public keys, escaped in a .env and in YAML.
    let line = full.replace(['\n', ' '], "");
    let public = jwk(&without(&m, &["d", "p", "q", "dp", "dq", "qi"])).replace(['\n', ' '], "");
    let jwks = format!("{{\"keys\":[{public},{line}]}}");
    assert_eq!(
        one_in(&s, "jwks", jwks.as_bytes()).fingerprint.as_deref(),
        Some(ssh.as_str())
    );
    let env = format!("JWKS=\"{}\"\n", jwks.replace('"', "\\\""));
    assert_eq!(
        one_in(&s, "env", env.as_bytes()).fingerprint.as_deref(),
        Some(ssh.as_str())
    );
    let yaml = format!("auth:\n  signing_key: '{line}'\n");
    assert_eq!(one_in(&s, "yaml", yaml.as_bytes()).status, Status::Valid);

    // Look-alikes: public only, placeholder d, d of another key, no n.
    quiet(&s, "public", public.as_bytes());
    quiet(&s, "placeholder", jwk(&with(&m, "d", "...")).as_bytes());
    let other = rsa_members(dir.path(), "b");
    let mixed = with(
        &without(&m, &["p", "q", "dp", "dq", "qi"]),
        "d",
        &other[3].1,
    );
    assert_eq!(
        one_in(&s, "mixed", jwk(&mixed).as_bytes()).status,
        Status::Unverified
    );
    let mixed = with(&m, "q", &other[5].1);
    assert_eq!(
        one_in(&s, "mixed primes", jwk(&mixed).as_bytes()).status,
        Status::Unverified
    );
    let info = one_in(&s, "no n", jwk(&without(&m, &["n"])).as_bytes());
    assert_eq!(info.status, Status::Unverified);
}

/// d, x, y of a fresh EC key on an openssl curve.
fn ec_members(dir: &Path, curve: &str, crv: &str) -> Vec<(&'static str, String)> {
    use der::Decode;
    sh(dir, &format!("openssl ecparam -name {curve} -genkey -noout -out {crv}.pem && openssl ec -in {crv}.pem -outform DER -out {crv}.der 2>/dev/null"));
    let der = fs::read(dir.join(format!("{crv}.der"))).unwrap();
    let k = sec1::EcPrivateKey::from_der(&der).unwrap();
    let point = k.public_key.unwrap();
    let half = (point.len() - 1) / 2;
    vec![
        ("kty", "EC".into()),
        ("crv", crv.into()),
        ("x", b64u(&point[1..1 + half])),
        ("y", b64u(&point[1 + half..])),
        ("d", b64u(k.private_key)),
    ]
}

#[test]
fn jwk_ec_keys_on_every_curve() {
    let dir = tempfile::tempdir().unwrap();
    let s = scanner();
    for (curve, crv) in [
        ("prime256v1", "P-256"),
        ("secp384r1", "P-384"),
        ("secp521r1", "P-521"),
        ("secp256k1", "secp256k1"),
    ] {
        let m = ec_members(dir.path(), curve, crv);
        let info = one_in(&s, crv, jwk(&m).as_bytes());
        assert_eq!(info.status, Status::Valid, "{crv}: {info:#?}");
        assert_eq!(info.key_type, format!("ECDSA {crv}"));
        let tp = thumbprint(&format!(
            "{{\"crv\":\"{crv}\",\"kty\":\"EC\",\"x\":\"{}\",\"y\":\"{}\"}}",
            m[2].1, m[3].1
        ));
        assert_eq!(info.note, Some(format!("JWK thumbprint {tp}")));
        let expected = if crv == "secp256k1" {
            tp
        } else {
            support::ssh_fingerprint(&dir.path().join(format!("{crv}.pem")))
        };
        assert_eq!(info.fingerprint, Some(expected), "{crv}");

        quiet(&s, "public", jwk(&without(&m, &["d"])).as_bytes());
        let other = ec_members(dir.path(), curve, crv);
        let mixed = with(&m, "x", &other[2].1);
        assert_eq!(
            one_in(&s, "mixed", jwk(&mixed).as_bytes()).status,
            Status::Unverified
        );
        let no_y = one_in(&s, "no y", jwk(&without(&m, &["y"])).as_bytes());
        assert_eq!(no_y.status, Status::Unverified);
    }
}

/// d and x of a fresh OKP key (raw bytes at the end of openssl's DER).
fn okp_members(dir: &Path, alg: &str, len: usize) -> Vec<(&'static str, String)> {
    let script = format!("openssl genpkey -algorithm {alg} -outform DER -out {alg}.der && openssl pkey -inform DER -in {alg}.der -pubout -outform DER -out {alg}.pub");
    sh(dir, &script);
    let tail = |name: String| {
        let der = fs::read(dir.join(name)).unwrap();
        b64u(&der[der.len() - len..])
    };
    vec![
        ("kty", "OKP".into()),
        ("crv", alg.into()),
        ("x", tail(format!("{alg}.pub"))),
        ("d", tail(format!("{alg}.der"))),
    ]
}

#[test]
fn jwk_okp_keys() {
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    let s = scanner();
    let m = okp_members(dir.path(), "Ed25519", 32);
    let info = one_in(&s, "Ed25519", jwk(&m).as_bytes());
    assert_eq!(
        (info.status, info.key_type.as_str()),
        (Status::Valid, "Ed25519")
    );
    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&m[2].1)
        .unwrap();
    let mut blob = vec![0, 0, 0, 11];
    blob.extend(b"ssh-ed25519");
    blob.extend([0, 0, 0, 32]);
    blob.extend(&x);
    let line = format!("ssh-ed25519 {}", b64(&blob));
    assert_eq!(info.public_key.as_deref(), Some(line.as_str()));
    let other = okp_members(dir.path(), "Ed25519", 32);
    let mixed = with(&m, "d", &other[3].1);
    assert_eq!(
        one_in(&s, "mixed", jwk(&mixed).as_bytes()).status,
        Status::Unverified
    );
    quiet(&s, "public", jwk(&without(&m, &["d"])).as_bytes());

    let m = okp_members(dir.path(), "X25519", 32);
    let info = one_in(&s, "X25519", jwk(&m).as_bytes());
    assert_eq!(
        (info.status, info.key_type.as_str()),
        (Status::Valid, "X25519")
    );
    let tp = thumbprint(&format!(
        "{{\"crv\":\"X25519\",\"kty\":\"OKP\",\"x\":\"{}\"}}",
        m[2].1
    ));
    assert_eq!(info.fingerprint, Some(tp));
    let other = okp_members(dir.path(), "X25519", 32);
    assert_eq!(
        one_in(&s, "mixed", jwk(&with(&m, "x", &other[2].1)).as_bytes()).status,
        Status::Unverified
    );

    // Ed448 and X448: the public half is derived and compared too.
    for (alg, len) in [("Ed448", 57), ("X448", 56)] {
        let m = okp_members(dir.path(), alg, len);
        let info = one_in(&s, alg, jwk(&m).as_bytes());
        assert_eq!(
            (info.status, info.key_type.as_str()),
            (Status::Valid, alg),
            "{info:#?}"
        );
        let tp = thumbprint(&format!(
            "{{\"crv\":\"{alg}\",\"kty\":\"OKP\",\"x\":\"{}\"}}",
            m[2].1
        ));
        assert_eq!(info.fingerprint, Some(tp), "{alg}");
        let other = okp_members(dir.path(), alg, len);
        let mixed = with(&m, "d", &other[3].1);
        assert_eq!(
            one_in(&s, "mixed", jwk(&mixed).as_bytes()).status,
            Status::Unverified,
            "{alg}"
        );
    }
}

// ---- .NET XML RSA ----

fn xml(members: &[(&str, String)]) -> String {
    use base64::Engine as _;
    let std = |v: &str| {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(v)
            .unwrap();
        b64(&bytes)
    };
    let mut out = String::from("<RSAKeyValue>");
    for (name, value) in members {
        out += &format!("<{name}>{}</{name}>", std(value));
    }
    out + "</RSAKeyValue>"
}

/// The JWK members of an RSA key under their XML names.
fn xml_members(jwk: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    let names = [
        ("n", "Modulus"),
        ("e", "Exponent"),
        ("p", "P"),
        ("q", "Q"),
        ("dp", "DP"),
        ("dq", "DQ"),
        ("qi", "InverseQ"),
        ("d", "D"),
    ];
    names
        .iter()
        .filter_map(|(j, x)| {
            jwk.iter()
                .find(|(k, _)| k == j)
                .map(|(_, v)| (*x, v.clone()))
        })
        .collect()
}

#[test]
fn xml_rsa_key_is_checked_and_fingerprinted() {
    let dir = tempfile::tempdir().unwrap();
    let m = xml_members(&rsa_members(dir.path(), "a"));
    let ssh = support::ssh_fingerprint(&dir.path().join("a.pem"));
    let s = scanner();
    let key = xml(&m);
    let info = one_in(&s, "xml", key.as_bytes());
    assert_eq!(info.status, Status::Valid, "{info:#?}");
    assert_eq!(
        (info.format.as_str(), info.key_type.as_str()),
        (".NET XML", "RSA 2048")
    );
    assert_eq!(info.fingerprint.as_deref(), Some(ssh.as_str()));
    assert!(info
        .public_key
        .as_deref()
        .unwrap()
        .starts_with("ssh-rsa AAAA"));
    assert!(info.aws_fingerprints.sha1_pkcs8.is_some() && info.aws_fingerprints.md5_spki.is_some());

    // Pretty-printed in a .config, and as a string in appsettings.json.
    let pretty = format!(
        "<configuration>\n{}\n</configuration>\n",
        key.replace("><", ">\n  <")
    );
    assert_eq!(
        one_in(&s, "config", pretty.as_bytes())
            .fingerprint
            .as_deref(),
        Some(ssh.as_str())
    );
    let json = format!(
        "{{\"Signing\": {{\"Key\": \"{}\"}}}}",
        key.replace("><", ">\\n<")
    );
    assert_eq!(
        one_in(&s, "json", json.as_bytes()).fingerprint.as_deref(),
        Some(ssh.as_str())
    );
    // Modulus, Exponent and D only.
    let short: Vec<_> = m
        .iter()
        .filter(|(k, _)| ["Modulus", "Exponent", "D"].contains(k))
        .cloned()
        .collect();
    assert_eq!(
        one_in(&s, "n e d", xml(&short).as_bytes()).status,
        Status::Valid
    );

    // Look-alikes: public only, placeholder D, Q of another key, no Modulus.
    quiet(&s, "public", xml(&m[..2]).as_bytes());
    let placeholder = xml(&m[..7]).replace("</RSAKeyValue>", "<D>...</D></RSAKeyValue>");
    quiet(&s, "placeholder", placeholder.as_bytes());
    let other = xml_members(&rsa_members(dir.path(), "b"));
    let mixed = with(&m, "Q", &other[3].1);
    assert_eq!(
        one_in(&s, "mixed", xml(&mixed).as_bytes()).status,
        Status::Unverified
    );
    let mixed = with(&short, "D", &other[7].1);
    assert_eq!(
        one_in(&s, "mixed d", xml(&mixed).as_bytes()).status,
        Status::Unverified
    );
    let info = one_in(&s, "no modulus", xml(&m[1..]).as_bytes());
    assert_eq!(info.status, Status::Unverified);
}

// ---- Tor v3 onion service ----

/// An `hs_ed25519_secret_key` file as Tor writes it, from a seed
/// (rend-spec-v3 / Tor's ed25519 expanded key: SHA-512 of the seed, clamped).
fn tor_key_file(seed: [u8; 32]) -> Vec<u8> {
    use sha2::Digest;
    let mut expanded: [u8; 64] = sha2::Sha512::digest(seed).into();
    expanded[0] &= 248;
    expanded[31] &= 127;
    expanded[31] |= 64;
    let mut file = b"== ed25519v1-secret: type0 ==\0\0\0".to_vec();
    file.extend_from_slice(&expanded);
    file
}

/// The onion address, computed here bit by bit from the specification.
fn onion(public: &[u8; 32]) -> String {
    use sha3::Digest;
    let mut h = sha3::Sha3_256::new();
    h.update(b".onion checksum");
    h.update(public);
    h.update([3u8]);
    let mut raw = public.to_vec();
    raw.extend_from_slice(&h.finalize()[..2]);
    raw.push(3);
    let bits: String = raw.iter().map(|b| format!("{b:08b}")).collect();
    let chars: String = bits
        .as_bytes()
        .chunks(5)
        .map(|c| {
            let v = u8::from_str_radix(std::str::from_utf8(c).unwrap(), 2).unwrap();
            b"abcdefghijklmnopqrstuvwxyz234567"[usize::from(v)] as char
        })
        .collect();
    format!("{chars}.onion")
}

#[test]
fn tor_onion_key_gives_its_address() {
    let seed: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(97).wrapping_add(13));
    let public = ed25519_dalek::SigningKey::from_bytes(&seed)
        .verifying_key()
        .to_bytes();
    let address = onion(&public);
    assert!(address.ends_with("d.onion") && address.len() == 62);
    let file = tor_key_file(seed);
    let s = scanner();
    let info = one_in(&s, "hs_ed25519_secret_key", &file);
    assert_eq!(info.status, Status::Valid, "{info:#?}");
    assert_eq!(
        (info.format.as_str(), info.key_type.as_str()),
        ("Tor onion service", "Ed25519")
    );
    assert_eq!(info.fingerprint.as_deref(), Some(address.as_str()));
    assert_eq!(info.public_key.as_deref(), Some(address.as_str()));

    // Base64-encoded in a Kubernetes secret.
    let yaml = format!("data:\n  hs_ed25519_secret_key: {}\n", b64(&file));
    assert_eq!(
        one_in(&s, "yaml", yaml.as_bytes()).fingerprint.as_deref(),
        Some(address.as_str())
    );

    // Look-alikes: the public key file, a truncated key, an unclamped scalar.
    let mut public_file = b"== ed25519v1-public: type0 ==\0\0\0".to_vec();
    public_file.extend_from_slice(&public);
    quiet(&s, "public", &public_file);
    assert_eq!(one_in(&s, "short", &file[..90]).status, Status::Unverified);
    let mut unclamped = file.clone();
    unclamped[32] |= 7;
    assert_eq!(
        one_in(&s, "unclamped", &unclamped).status,
        Status::Unverified
    );
}

// ---- Bitcoin, Nostr, Solana ----

/// Base58 (and Base58Check), written here independently with big numbers.
fn base58(data: &[u8]) -> String {
    const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let zeros = data.iter().take_while(|&&b| b == 0).count();
    let n = num_bigint::BigUint::from_bytes_be(data);
    let digits = if data.iter().all(|&b| b == 0) {
        vec![]
    } else {
        n.to_radix_be(58)
    };
    "1".repeat(zeros)
        + &digits
            .iter()
            .map(|&d| ALPHABET[usize::from(d)] as char)
            .collect::<String>()
}

fn base58check(payload: &[u8]) -> String {
    use sha2::Digest;
    let sum = sha2::Sha256::digest(sha2::Sha256::digest(payload));
    let mut raw = payload.to_vec();
    raw.extend_from_slice(&sum[..4]);
    base58(&raw)
}

fn secp256k1(scalar: &[u8], compressed: bool) -> Vec<u8> {
    use k256::elliptic_curve::sec1::ToSec1Point;
    let secret = k256::SecretKey::from_slice(scalar).unwrap();
    secret
        .public_key()
        .to_sec1_point(compressed)
        .as_bytes()
        .to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn scalar(seed: u8) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest([seed; 7]).to_vec()
}

#[test]
fn bitcoin_wif_gives_its_public_key() {
    let s = scanner();
    for (version, compressed, label) in [
        (0x80u8, true, "secp256k1"),
        (0x80, false, "secp256k1"),
        (0xef, true, "secp256k1 (testnet)"),
    ] {
        let k = scalar(version ^ u8::from(compressed));
        let mut payload = vec![version];
        payload.extend_from_slice(&k);
        if compressed {
            payload.push(1);
        }
        let wif = base58check(&payload);
        let public = hex(&secp256k1(&k, compressed));
        let env = format!("BITCOIN_WIF={wif}\n");
        let info = one_in(&s, &wif, env.as_bytes());
        assert_eq!(info.status, Status::Valid, "{info:#?}");
        assert_eq!(
            (info.format.as_str(), info.key_type.as_str()),
            ("Bitcoin WIF", label)
        );
        assert_eq!(info.public_key.as_deref(), Some(public.as_str()));

        // Look-alikes: broken checksum; a valid Base58Check with another version.
        quiet(
            &s,
            "broken",
            format!("BITCOIN_WIF={}\n", flip(&wif, 20)).as_bytes(),
        );
        payload[0] = 0x00;
        let other = format!("wif: {}\n", base58check(&payload));
        quiet(&s, "version 0", other.as_bytes());
    }
}

#[test]
fn bip32_master_key_gives_its_xpub() {
    use hmac::{KeyInit, Mac};
    // BIP32 test vector 1: the master key of seed 000102...0f.
    let seed: Vec<u8> = (0u8..16).collect();
    let mut mac = hmac::Hmac::<sha2::Sha512>::new_from_slice(b"Bitcoin seed").unwrap();
    mac.update(&seed);
    let i = mac.finalize().into_bytes();
    let (key, chain) = (&i[..32], &i[32..]);
    let mut xprv = vec![0x04, 0x88, 0xad, 0xe4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    xprv.extend_from_slice(chain);
    xprv.push(0);
    xprv.extend_from_slice(key);
    let text = format!("export WALLET={}\n", base58check(&xprv));
    let s = scanner();
    let info = one_in(&s, "xprv", text.as_bytes());
    assert_eq!(info.status, Status::Valid, "{info:#?}");
    assert_eq!(info.format, "BIP32");
    let xpub = "xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8";
    assert_eq!(info.public_key.as_deref(), Some(xpub));

    // zprv: its zpub.
    let mut zprv = xprv.clone();
    zprv[..4].copy_from_slice(&[0x04, 0xb2, 0x43, 0x0c]);
    let info = one_in(&s, "zprv", base58check(&zprv).as_bytes());
    assert!(info.public_key.unwrap().starts_with("zpub"));

    // Look-alikes: the xpub, a broken checksum, a key byte that is not 0.
    quiet(&s, "xpub", xpub.as_bytes());
    quiet(&s, "broken", flip(&base58check(&xprv), 50).as_bytes());
    let mut bad = xprv.clone();
    bad[45] = 2;
    quiet(&s, "key prefix", base58check(&bad).as_bytes());
}

#[test]
fn nostr_nsec_gives_its_npub() {
    let k = scalar(42);
    let nsec = keyscan::validate::bech32::encode("nsec", &k);
    let s = scanner();
    let info = one_in(&s, "nsec", format!("NOSTR_KEY={nsec}\n").as_bytes());
    assert_eq!(info.status, Status::Valid, "{info:#?}");
    let npub = info.public_key.unwrap();
    let (hrp, x) = keyscan::validate::bech32::decode(&npub).unwrap();
    assert_eq!(
        (hrp.as_str(), x),
        ("npub", secp256k1(&k, true)[1..].to_vec())
    );
    assert_eq!(info.fingerprint, Some(npub.clone()));
    quiet(&s, "npub", npub.as_bytes());
    quiet(&s, "broken", flip(&nsec, 30).as_bytes());
}

#[test]
fn solana_keypair_gives_its_address() {
    let seed: [u8; 32] = scalar(7).try_into().unwrap();
    let public = ed25519_dalek::SigningKey::from_bytes(&seed)
        .verifying_key()
        .to_bytes();
    let mut pair = seed.to_vec();
    pair.extend_from_slice(&public);
    let array = |bytes: &[u8]| {
        format!(
            "[{}]",
            bytes
                .iter()
                .map(|b| b.to_string())
                .collect::<Vec<_>>()
                .join(",")
        )
    };
    let address = base58(&public);
    let s = scanner();
    // id.json as solana-keygen writes it, and in an .env line.
    let info = one_in(&s, "id.json", array(&pair).as_bytes());
    assert_eq!(info.status, Status::Valid, "{info:#?}");
    assert_eq!(
        (info.format.as_str(), info.key_type.as_str()),
        ("Solana keypair", "Ed25519")
    );
    assert_eq!(info.public_key.as_deref(), Some(address.as_str()));
    let env = format!("SOLANA_PRIVATE_KEY={}\n", array(&pair).replace(',', ", "));
    assert_eq!(
        one_in(&s, "env", env.as_bytes()).public_key.as_deref(),
        Some(address.as_str())
    );

    // Look-alikes: 64 random bytes, mismatched halves, 32 bytes only.
    let mut mixed = pair.clone();
    mixed[40] ^= 1;
    quiet(&s, "mixed", array(&mixed).as_bytes());
    quiet(&s, "filler", array(&scalar(1).repeat(2)).as_bytes());
    quiet(&s, "short", format!("solana: {}", array(&seed)).as_bytes());
}

// ---- every door ----

#[test]
fn new_formats_are_blocked_at_commit_and_found_in_history_and_scan() {
    let r = gitrepo::TempRepo::new();
    let out = r
        .command(support::bin(), &r.dir)
        .arg("install")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", gitrepo::text(&out));
    sh(
        &r.dir,
        "age-keygen -o keys.txt 2>/dev/null && minisign -G -W -p m.pub -s m.key >/dev/null",
    );
    let recipient = sh(&r.dir, "age-keygen -y keys.txt").trim().to_string();
    let private = sh(&r.dir, "wg genkey").trim().to_string();
    let wg_public = sh(&r.dir, &format!("echo {private} | wg pubkey"))
        .trim()
        .to_string();
    r.write(
        "wg0.conf",
        &format!("[Interface]\nPrivateKey = {private}\n"),
    );
    let seed = [3u8; 32];
    fs::write(r.dir.join("hs_ed25519_secret_key"), tor_key_file(seed)).unwrap();
    let public = ed25519_dalek::SigningKey::from_bytes(&seed)
        .verifying_key()
        .to_bytes();
    let expected = [recipient, wg_public, onion(&public)];

    r.ok(&["add", "-A"]);
    let (went_through, output) = r.commit();
    assert!(
        !went_through,
        "the pre-commit hook let keys through: {output}"
    );
    for fp in &expected {
        assert!(output.contains(fp.as_str()), "{fp} not in: {output}");
    }
    assert!(output.contains("minisign"), "{output}");

    // `keyscan fingerprint` names each by its own fingerprint.
    let out = support::keyscan(&r.dir, &["fingerprint", "keys.txt", "wg0.conf"], None);
    let printed = gitrepo::text(&out);
    for fp in &expected[..2] {
        assert!(printed.contains(&format!("fingerprint  {fp}")), "{printed}");
    }

    // Committed anyway (history that predates the hook): history and scan.
    r.ok(&["commit", "-q", "--no-verify", "-m", "keys"]);
    for args in [&["history", "."][..], &["scan", "."][..]] {
        let (code, v) = support::json(&r.dir, args, None);
        assert_eq!(code, 1, "{args:?}: {v:#}");
        let found: Vec<&str> = support::findings(&v)
            .iter()
            .filter_map(|f| f["fingerprint"].as_str())
            .collect();
        for fp in &expected {
            assert!(
                found.contains(&fp.as_str()),
                "{args:?}: {fp} not in {found:?}"
            );
        }
        assert_eq!(found.len(), 4, "{args:?}: {found:?}");
    }
}

// ---- weak passphrases on signify and minisign keys ----

/// `keyscan scan --crack-budget BUDGET NAME`: its one finding.
fn scanned(dir: &Path, name: &str, budget: &str) -> serde_json::Value {
    let (code, v) = support::json(dir, &["scan", "--crack-budget", budget, name], None);
    assert_eq!(code, 1, "{v:#}");
    let found = support::findings(&v);
    assert_eq!(found.len(), 1, "{v:#}");
    found[0].clone()
}

#[test]
fn signify_key_with_a_weak_passphrase_opens() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    sh(
        d,
        "printf 'password\\npassword\\n' | signify-openbsd -G -p weak.pub -s weak.sec",
    );
    sh(
        d,
        "printf 'Xq7-strong-9\\nXq7-strong-9\\n' | signify-openbsd -G -p strong.pub -s strong.sec",
    );
    sh(d, "signify-openbsd -G -n -p clear.pub -s clear.sec");
    for name in ["weak", "clear"] {
        let public = fs::read_to_string(d.join(format!("{name}.pub"))).unwrap();
        let f = scanned(d, &format!("{name}.sec"), "2s");
        assert_eq!(f["status"], "valid", "{name}: {f}");
        assert_eq!(f["public_key"], public.lines().nth(1).unwrap(), "{name}");
    }
    let f = scanned(d, "strong.sec", "2s");
    assert_eq!(f["status"], "encrypted", "{f}");
}

/// minisign -G with an empty passphrase still encrypts, with scrypt at
/// 1 GiB: one try (a few seconds) opens it when the budget allows it.
#[test]
fn minisign_key_with_an_empty_passphrase_opens_within_the_budget() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    sh(
        d,
        "printf '\\n\\n' | minisign -G -p k.pub -s k.key >/dev/null 2>&1",
    );
    let public = fs::read_to_string(d.join("k.pub")).unwrap();
    let f = scanned(d, "k.key", "1s");
    assert_eq!(f["status"], "encrypted", "{f}");
    let f = scanned(d, "k.key", "4s");
    assert_eq!(f["status"], "valid", "{f}");
    assert_eq!(f["public_key"], public.lines().nth(1).unwrap());
}

#[test]
fn keys_in_variables_base64_files_and_escaped_xml() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let s = scanner();
    let public_of = |text: &str| one_in(&s, text, text.as_bytes()).public_key;

    // WireGuard: the key alone in a variable that names it.
    let private = sh(d, "wg genkey").trim().to_string();
    let public = sh(d, &format!("echo {private} | wg pubkey"))
        .trim()
        .to_string();
    for text in [
        format!("services:\n  vpn:\n    environment:\n      - WIREGUARD_PRIVATE_KEY={private}\n"),
        format!("wg_private_key: \"{private}\"\n"),
        format!("export WG_PRIVATE_KEY='{private}'\n"),
    ] {
        assert_eq!(public_of(&text).as_deref(), Some(public.as_str()), "{text}");
    }
    quiet(
        &s,
        "public",
        format!("WIREGUARD_PUBLIC_KEY={public}\n").as_bytes(),
    );
    quiet(&s, "placeholder", b"WIREGUARD_PRIVATE_KEY=<your key>\n");

    // Whole files base64-encoded in a Kubernetes Secret's data.
    let secret = |name: &str, file: &str| {
        format!(
            "apiVersion: v1\nkind: Secret\ndata:\n  {name}: {}\n",
            b64(file.as_bytes())
        )
    };
    let conf = format!("[Interface]\nAddress = 10.0.0.1/24\nPrivateKey = {private}\n");
    assert_eq!(
        public_of(&secret("wg0.conf", &conf)).as_deref(),
        Some(public.as_str())
    );
    let peers = format!("[Interface]\nAddress = 10.0.0.1/24\n[Peer]\nPublicKey = {public}\n");
    quiet(&s, "base64 peers", secret("wg0.conf", &peers).as_bytes());
    sh(d, "minisign -G -W -p m.pub -s m.key >/dev/null");
    sh(d, "signify-openbsd -G -n -p s.pub -s s.sec");
    for (key, public) in [("m.key", "m.pub"), ("s.sec", "s.pub")] {
        let key = fs::read_to_string(d.join(key)).unwrap();
        let public = fs::read_to_string(d.join(public)).unwrap();
        let (_, pub_raw) = two_lines(&public);
        let (_, key_raw) = two_lines(&key);
        let info = one_in(&s, "base64 key", secret("key", &key).as_bytes());
        assert_eq!(info.status, Status::Valid, "{info:#?}");
        assert_eq!(info.public_key.as_deref(), Some(b64(&pub_raw).as_str()));
        quiet(&s, "base64 public", secret("pub", &public).as_bytes());
        let mut broken = key_raw.clone();
        let at = broken.len() / 2;
        broken[at] ^= 1;
        let comment = key.lines().next().unwrap();
        let text = secret("key", &format!("{comment}\n{}\n", b64(&broken)));
        assert_eq!(
            one_in(&s, "base64 broken", text.as_bytes()).status,
            Status::Unverified
        );
    }

    // .NET XML escaped inside an attribute.
    let m = xml_members(&rsa_members(d, "x"));
    let ssh = support::ssh_fingerprint(&d.join("x.pem"));
    let escape = |xml: &str| xml.replace('<', "&lt;").replace('>', "&gt;");
    let config = format!(
        "<appSettings>\n  <add key=\"Rsa\" value=\"{}\" />\n</appSettings>\n",
        escape(&xml(&m))
    );
    let info = one_in(&s, "escaped xml", config.as_bytes());
    assert_eq!(info.fingerprint.as_deref(), Some(ssh.as_str()), "{info:#?}");
    let public = format!("<add key=\"Rsa\" value=\"{}\" />\n", escape(&xml(&m[..2])));
    quiet(&s, "escaped public", public.as_bytes());

    // WIF in variables named in lower case, or BTC, or BITCOIN.
    let k = scalar(7);
    let mut payload = vec![0x80];
    payload.extend_from_slice(&k);
    payload.push(1);
    let wif = base58check(&payload);
    let point = hex(&secp256k1(&k, true));
    for text in [
        format!("wallet_wif: {wif}\n"),
        format!("btc_privkey = \"{wif}\"\n"),
        format!("BTC_PRIVKEY={wif}\n"),
        format!("BITCOIN_PRIVATE_KEY={wif}\n"),
    ] {
        assert_eq!(public_of(&text).as_deref(), Some(point.as_str()), "{text}");
    }
    quiet(
        &s,
        "broken",
        format!("btc_privkey = \"{}\"\n", flip(&wif, 20)).as_bytes(),
    );
    // A wallet dump: the key far below the header that names Bitcoin.
    let mut dump = String::from("# Wallet dump created by Bitcoin v0.21.1\n");
    for i in 0..600 {
        dump.push_str(&format!("# label=spare{i} reserve=1 # addr=bc1qspare{i}\n"));
    }
    dump.push_str(&format!(
        "{wif} 2021-01-01T00:00:00Z reserve=1 # addr=bc1q hdkeypath=m/0'/0'/7'\n"
    ));
    assert!(dump.len() > 20_000);
    assert_eq!(public_of(&dump).as_deref(), Some(point.as_str()));
}
