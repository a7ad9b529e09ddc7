//! Nostr secret keys (`nsec1...`, NIP-19): Bech32 checksum, a secp256k1
//! scalar; the public key is shown as Nostr clients show it, `npub1...`.

use super::bitcoin::secp256k1_public;
use super::{bech32, Format};
use crate::rules::Validator;
use crate::scan::finding::{KeyInfo, Status};

pub const FORMAT: Format = Format {
    validator: Validator::Nostr,
    validate: |c| validate(std::str::from_utf8(&c.bytes).ok()?),
    lock: super::no_lock,
    redact: |_, _, via| format!("nsec1[redacted]{via}"),
    placeholders: false,
};

pub fn validate(text: &str) -> Option<KeyInfo> {
    let (hrp, data) = bech32::decode(text)?;
    if hrp != "nsec" || data.len() != 32 {
        return None;
    }
    // The x coordinate of the compressed point (BIP-340 x-only key).
    let public = secp256k1_public(&data, true)?;
    let npub = bech32::encode("npub", &public[1..]);
    let mut info = KeyInfo::new(Status::Valid, "Nostr", "secp256k1 (nsec)");
    info.fingerprint = Some(npub.clone());
    info.public_key = Some(npub);
    Some(info)
}
