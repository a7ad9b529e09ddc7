//! Solana keypairs: 64 byte values, an Ed25519 seed then its public key.
//! Only an array whose second half is the public key of its first is a
//! key (random byte arrays abound); the address is the base58 public key.

use super::minisign::ed25519_halves;
use super::{base58, Format};
use crate::rules::Validator;
use crate::scan::finding::{KeyInfo, Status};

pub const FORMAT: Format = Format {
    validator: Validator::Solana,
    validate: |c| validate(&c.bytes),
    lock: super::no_lock,
    redact: |_, _, via| format!("[64 byte values, redacted]{via}"),
    placeholders: false,
};

pub fn validate(bytes: &[u8]) -> Option<KeyInfo> {
    let values = bytes
        .split(|b| !b.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| std::str::from_utf8(s).ok()?.parse::<u8>().ok())
        .collect::<Option<Vec<u8>>>()?;
    if values.len() != 64 {
        return None;
    }
    let public = ed25519_halves(&values)?;
    let address = base58::encode(&public);
    let mut info = KeyInfo::new(Status::Valid, "Solana keypair", "Ed25519");
    info.fingerprint = Some(address.clone());
    info.public_key = Some(address);
    Some(info)
}
