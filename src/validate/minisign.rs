//! minisign secret keys. In clear (KDF "\0\0", `minisign -G -W`) the
//! BLAKE2b-256 checksum (unless zero, as minisign 0.11 writes it) and the
//! Ed25519 halves are checked and the key id
//! and public key (as in the `.pub` file) reported; behind scrypt ("Sc")
//! even the key id is encrypted, so the key is only `encrypted`.

use super::Format;
use crate::rules::Validator;
use crate::scan::finding::{KeyInfo, Status};
use base64::Engine as _;
use blake2::digest::consts::U32;
use blake2::Digest;

const NAME: &str = "minisign";
const LEN: usize = 158;

pub const FORMAT: Format = Format {
    validator: Validator::Minisign,
    validate: |c| validate(&c.bytes),
    lock: super::no_lock,
    redact: |_, lines, via| format!("minisign secret key [{lines} redacted]{via}"),
    placeholders: false,
};

/// The base64 on the last line of an `untrusted comment:` match, decoded.
pub fn last_line_base64(matched: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(matched).ok()?;
    let line = text.lines().last()?.trim();
    base64::engine::general_purpose::STANDARD.decode(line).ok()
}

/// The Ed25519 public key of a 64-byte secret key (seed || public), when
/// its halves agree.
pub fn ed25519_halves(secret: &[u8]) -> Option<[u8; 32]> {
    let seed: [u8; 32] = secret.get(..32)?.try_into().ok()?;
    let public = ed25519_dalek::SigningKey::from_bytes(&seed)
        .verifying_key()
        .to_bytes();
    (secret.get(32..64)? == public).then_some(public)
}

/// An Ed25519 key in clear (minisign, signify): unverified when its
/// checksum or halves disagree, else valid with `id` and the public key as
/// the `.pub` file has it ("Ed", key id, public half).
pub fn ed25519_in_clear(
    name: &str,
    sum_ok: bool,
    key_id: &[u8],
    secret: &[u8],
    id: String,
) -> KeyInfo {
    if !sum_ok {
        return KeyInfo::unverified(name, "Ed25519", "checksum does not match");
    }
    let Some(public) = ed25519_halves(secret) else {
        return KeyInfo::unverified(name, "Ed25519", "public half does not match the secret key");
    };
    let mut info = KeyInfo::new(Status::Valid, name, "Ed25519");
    let mut blob = b"Ed".to_vec();
    blob.extend_from_slice(key_id);
    blob.extend_from_slice(&public);
    info.fingerprint = Some(id);
    info.public_key = Some(base64::engine::general_purpose::STANDARD.encode(blob));
    info
}

pub fn validate(matched: &[u8]) -> Option<KeyInfo> {
    let raw = last_line_base64(matched)?;
    if raw.len() != LEN || &raw[..2] != b"Ed" || &raw[4..6] != b"B2" {
        return None;
    }
    let encrypted = match &raw[2..4] {
        b"Sc" => true,
        [0, 0] => false,
        _ => return None,
    };
    if encrypted {
        return Some(KeyInfo::new(Status::Encrypted, NAME, "Ed25519"));
    }
    let (key_id, secret, checksum) = (&raw[54..62], &raw[62..126], &raw[126..158]);
    let mut h = blake2::Blake2b::<U32>::new();
    h.update(&raw[..2]);
    h.update(key_id);
    h.update(secret);
    // minisign 0.11 leaves the checksum of a key in clear zero.
    let sum_ok = h.finalize().as_slice() == checksum || checksum.iter().all(|&b| b == 0);
    let id = key_id_hex(key_id)?;
    Some(ed25519_in_clear(NAME, sum_ok, key_id, secret, id))
}

/// As minisign prints a key id: the little-endian number in hex, without
/// leading zeros.
fn key_id_hex(key_id: &[u8]) -> Option<String> {
    Some(format!("{:X}", u64::from_le_bytes(key_id.try_into().ok()?)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn key_ids_are_printed_as_minisign_prints_them() {
        let id = [0xA3, 0xF7, 0x25, 0x4C, 0x2B, 0x91, 0x9A, 0x05];
        assert_eq!(super::key_id_hex(&id).as_deref(), Some("59A912B4C25F7A3"));
        assert_eq!(super::key_id_hex(&[1, 2]), None);
    }

    use super::*;

    #[test]
    fn odd_inputs_are_no_key() {
        assert!(validate(b"untrusted comment: x\nRWQAAEIy").is_none());
        assert!(validate(b"\xff").is_none());
        let mut raw = vec![0u8; LEN];
        raw[..6].copy_from_slice(b"EdXxB2");
        let line = base64::engine::general_purpose::STANDARD.encode(&raw);
        assert!(validate(format!("untrusted comment: x\n{line}").as_bytes()).is_none());
        raw[2..4].copy_from_slice(&[0, 0]);
        let line = base64::engine::general_purpose::STANDARD.encode(&raw);
        let info = validate(format!("untrusted comment: x\n{line}").as_bytes()).unwrap();
        assert_eq!(info.status, Status::Unverified);
    }
}
