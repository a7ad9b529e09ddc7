//! signify secret keys: "Ed" "BK", bcrypt-pbkdf rounds (0: in clear), salt,
//! an 8-byte SHA-512 checksum of the secret key, the key number and the
//! secret key. In clear the checksum and the Ed25519 halves are checked and
//! the key number and public key (as in the `.pub` file) reported.

use super::minisign::{ed25519_in_clear, last_line_base64};
use super::Format;
use crate::rules::Validator;
use crate::scan::finding::{KeyInfo, Status};
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
    let sum_ok = sha2::Sha512::digest(secret)[..8] == *checksum;
    let id = keynum.iter().map(|b| format!("{b:02X}")).collect();
    Some(ed25519_in_clear(NAME, sum_ok, keynum, secret, id))
}
