//! age identities: `AGE-SECRET-KEY-1...` is the Bech32 of an X25519 scalar,
//! whose recipient `age1...` is derived here; `AGE-PLUGIN-<NAME>-1...` is a
//! plugin's identity (often a pointer to a hardware slot), checked by its
//! Bech32 checksum only. A broken checksum is no key at all.

use super::bech32;
use super::Format;
use crate::rules::Validator;
use crate::scan::finding::{KeyInfo, Status};
use curve25519_dalek::montgomery::MontgomeryPoint;

const NAME: &str = "age";

pub const FORMAT: Format = Format {
    validator: Validator::Age,
    validate: |c| validate(std::str::from_utf8(&c.bytes).ok()?),
    lock: super::no_lock,
    redact: |c, _, via| {
        let text = String::from_utf8_lossy(&c.bytes);
        let head = text.rfind('1').map_or("", |i| &text[..=i]);
        format!("{head}[redacted]{via}")
    },
    placeholders: false,
};

/// The X25519 public key of a secret scalar (clamped as X25519 does).
pub fn x25519_public(secret: [u8; 32]) -> [u8; 32] {
    MontgomeryPoint::mul_base_clamped(secret).to_bytes()
}

/// `None` when the Bech32 checksum or the length is wrong.
pub fn validate(text: &str) -> Option<KeyInfo> {
    let (hrp, data) = bech32::decode(text)?;
    if hrp == "age-secret-key-" {
        let secret: [u8; 32] = data.try_into().ok()?;
        let recipient = bech32::encode("age", &x25519_public(secret));
        let mut info = KeyInfo::new(Status::Valid, NAME, "X25519");
        info.fingerprint = Some(recipient.clone());
        info.public_key = Some(recipient);
        return Some(info);
    }
    let plugin = hrp.strip_prefix("age-plugin-")?.strip_suffix('-')?;
    if plugin.is_empty() || data.is_empty() {
        return None;
    }
    let key_type = format!("age plugin identity ({plugin})");
    Some(KeyInfo::new(Status::Valid, NAME, key_type))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_checksum_or_length_is_no_key() {
        let ok = bech32::encode("age-secret-key-", &[9; 32]).to_ascii_uppercase();
        assert!(validate(&ok).is_some());
        let mut broken = ok.into_bytes();
        broken[20] = if broken[20] == b'Q' { b'P' } else { b'Q' };
        assert!(validate(std::str::from_utf8(&broken).unwrap()).is_none());
        assert!(validate(&bech32::encode("age-secret-key-", &[1; 31])).is_none());
        assert!(validate(&bech32::encode("age", &[1; 32])).is_none());
    }
}
