//! signify secret keys: "Ed" "BK", bcrypt-pbkdf rounds (0: in clear), salt,
//! an 8-byte SHA-512 checksum of the secret key, the key number and the
//! secret key. In clear the checksum and the Ed25519 halves are checked and
//! the key number and public key (as in the `.pub` file) reported; behind
//! a passphrase the weak-passphrase check opens it (bcrypt-pbkdf, about
//! 0.3 s a try at signify's 42 rounds).

use super::minisign::{ed25519_in_clear, last_line_base64};
use super::{Format, Lock};
use crate::rules::Candidate;
use crate::rules::Validator;
use crate::scan::finding::{KeyInfo, Status};
use sha2::Digest;

const NAME: &str = "signify";

pub const FORMAT: Format = Format {
    validator: Validator::Signify,
    validate: |c| validate(&c.bytes),
    lock,
    redact: |_, lines, via| format!("signify secret key [{lines} redacted]{via}"),
    placeholders: false,
};

pub fn validate(matched: &[u8]) -> Option<KeyInfo> {
    let raw = last_line_base64(matched)?;
    if raw.len() != 104 || &raw[..4] != b"EdBK" {
        return None;
    }
    let rounds = u32::from_be_bytes(raw[4..8].try_into().ok()?);
    if rounds != 0 {
        return Some(KeyInfo::new(Status::Encrypted, NAME, "Ed25519"));
    }
    Some(in_clear(&raw))
}

/// A key in clear (rounds 0, or opened): checksum and halves checked.
fn in_clear(raw: &[u8]) -> KeyInfo {
    let (checksum, keynum, secret) = (&raw[24..32], &raw[32..40], &raw[40..104]);
    let sum_ok = sha2::Sha512::digest(secret)[..8] == *checksum;
    let id = keynum.iter().map(|b| format!("{b:02X}")).collect();
    ed25519_in_clear(NAME, sum_ok, keynum, secret, id)
}

/// bcrypt-pbkdf rounds beyond which a key is not tried (signify writes 42).
const MAX_ROUNDS: u32 = 1024;
/// One bcrypt-pbkdf round for one 32-byte output block, in microseconds
/// (as for OpenSSH keys).
const ROUND_MICROS: u64 = 3_700;

/// The key's secret half XORed with bcrypt-pbkdf of the passphrase; the
/// checksum confirms the passphrase. signify refuses an empty one.
fn lock(c: &Candidate) -> Result<Lock, &'static str> {
    let raw = last_line_base64(&c.bytes).ok_or(super::NO_CHECK)?;
    if raw.len() != 104 || &raw[..4] != b"EdBK" {
        return Err(super::NO_CHECK);
    }
    let rounds = u32::from_be_bytes([raw[4], raw[5], raw[6], raw[7]]);
    if rounds == 0 {
        return Err(super::NO_CHECK);
    }
    if rounds > MAX_ROUNDS {
        return Err(super::TOO_COSTLY);
    }
    // 64 bytes of output: two blocks.
    let cost = u64::from(rounds) * 2 * ROUND_MICROS;
    Ok(Lock::new(cost, move |pw| {
        let mut stream = [0u8; 64];
        bcrypt_pbkdf::bcrypt_pbkdf(pw, &raw[8..24], rounds, &mut stream).ok()?;
        let mut clear = raw.clone();
        clear[4..8].copy_from_slice(&[0; 4]);
        for (b, s) in clear[40..].iter_mut().zip(stream) {
            *b ^= s;
        }
        let info = in_clear(&clear);
        (info.status == Status::Valid).then_some(info)
    })
    .never_empty())
}
