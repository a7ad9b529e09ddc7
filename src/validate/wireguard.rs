//! WireGuard: `PrivateKey = <base64>` in an `[Interface]` section is an
//! X25519 scalar; its public key (what peers list as `PublicKey`) is
//! derived here. Bytes too uniform to be random are a placeholder.

use super::age::x25519_public;
use super::Format;
use crate::rules::Validator;
use crate::scan::finding::{KeyInfo, Status};
use base64::Engine as _;

pub const FORMAT: Format = Format {
    validator: Validator::Wireguard,
    validate: |c| validate(&c.bytes),
    lock: super::no_lock,
    redact: |_, _, via| format!("[Interface] PrivateKey = [redacted]{via}"),
    placeholders: false,
};

/// `None` for placeholders; the match ends with the 44 base64 characters.
pub fn validate(matched: &[u8]) -> Option<KeyInfo> {
    let b64 = &matched[matched.len().checked_sub(44)?..];
    let secret: [u8; 32] = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .ok()?
        .try_into()
        .ok()?;
    if !looks_random(&secret) {
        return None;
    }
    let public = base64::engine::general_purpose::STANDARD.encode(x25519_public(secret));
    let mut info = KeyInfo::new(Status::Valid, "WireGuard", "X25519");
    info.fingerprint = Some(public.clone());
    info.public_key = Some(public);
    Some(info)
}

/// 32 random bytes have about 30 distinct values; a placeholder (`AAAA=`,
/// `qqqq=`, a repeated word) has few.
pub fn looks_random(bytes: &[u8]) -> bool {
    let mut seen = [false; 256];
    for &b in bytes {
        seen[usize::from(b)] = true;
    }
    seen.iter().filter(|&&s| s).count() >= bytes.len().min(64) / 3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_short_matches_are_no_key() {
        assert!(validate(b"PrivateKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").is_none());
        assert!(validate(b"=").is_none());
        let b64 = base64::engine::general_purpose::STANDARD.encode((0u8..32).collect::<Vec<_>>());
        let info = validate(format!("PrivateKey = {b64}").as_bytes()).unwrap();
        assert_eq!(info.public_key.unwrap().len(), 44);
    }
}
