//! signify secret keys: "Ed" "BK", bcrypt-pbkdf rounds (0: in clear), salt,
//! an 8-byte SHA-512 checksum of the secret key, the key number and the
//! secret key. In clear the checksum and the Ed25519 halves are checked and
//! the key number and public key (as in the `.pub` file) reported.

use super::minisign::{ed25519_halves, last_line_base64};
use super::Format;
use crate::rules::Validator;
use crate::scan::finding::{KeyInfo, Status};
use base64::Engine as _;
use sha2::Digest;

const NAME: &str = "signify";

pub const FORMAT: Format = Format {
    validator: Validator::Signify,
    validate: |c| validate(&c.bytes),
    lock: super::no_lock,
    redact: |_, lines, via| format!("signify secret key [{lines} redacted]{via}"),
    placeholders: false,
};

pub fn validate(matched: &[u8]) -> Option<KeyInfo> {
    let raw = last_line_base64(matched)?;
    if raw.len() != 104 || &raw[..4] != b"EdBK" {
        return None;
    }
    let rounds = u32::from_be_bytes(raw[4..8].try_into().ok()?);
    let (checksum, keynum, secret) = (&raw[24..32], &raw[32..40], &raw[40..104]);
    if rounds != 0 {
        return Some(KeyInfo::new(Status::Encrypted, NAME, "Ed25519"));
    }
    if sha2::Sha512::digest(secret)[..8] != *checksum {
        return Some(KeyInfo::unverified(
            NAME,
            "Ed25519",
            "checksum does not match",
        ));
    }
    let Some(public) = ed25519_halves(secret) else {
        return Some(KeyInfo::unverified(
            NAME,
            "Ed25519",
            "public half does not match the secret key",
        ));
    };
    let mut info = KeyInfo::new(Status::Valid, NAME, "Ed25519");
    let mut blob = b"Ed".to_vec();
    blob.extend_from_slice(keynum);
    blob.extend_from_slice(&public);
    info.fingerprint = Some(keynum.iter().map(|b| format!("{b:02X}")).collect());
    info.public_key = Some(base64::engine::general_purpose::STANDARD.encode(blob));
    Some(info)
}
