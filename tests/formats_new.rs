//! Keys that are not PEM, SSH or PGP: age, WireGuard, minisign, signify, ...
//! Positives come from the real tools at test time; each format has its
//! look-alikes (public half only, broken checksum, mismatched halves).

mod support;

use keyscan::scan::finding::{KeyInfo, Status};
use keyscan::scan::Scanner;
use std::fs;
use std::path::Path;

fn scanner() -> Scanner {
    let rules = keyscan::rules::builtin().expect("built-in rules load");
    Scanner::new(
        keyscan::rules::Engine::new(rules).expect("engine builds"),
        Default::default(),
    )
}

fn sh(dir: &Path, script: &str) -> String {
    String::from_utf8_lossy(&support::tool("sh", &["-c", script], dir).stdout).into_owned()
}

fn infos(s: &Scanner, data: &[u8]) -> Vec<KeyInfo> {
    s.hits(data).into_iter().map(|h| h.info).collect()
}

fn one_in(s: &Scanner, what: &str, data: &[u8]) -> KeyInfo {
    let found = infos(s, data);
    assert_eq!(found.len(), 1, "{what}: {found:#?}");
    found.into_iter().next().unwrap()
}

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
    quiet(&s, "truncated", secret[..secret.len() - 3].as_bytes());
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
