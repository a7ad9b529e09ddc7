//! Tor v3 onion service secret keys: header, length, and the clamping of
//! the expanded key's scalar; the `.onion` address is derived from the
//! public key (rend-spec-v3: base32(pubkey || checksum || version)).

use super::Format;
use crate::rules::Validator;
use crate::scan::finding::{KeyInfo, Status};
use curve25519_dalek::edwards::EdwardsPoint;
use sha3::Digest;

const HEADER: &[u8; 32] = b"== ed25519v1-secret: type0 ==\0\0\0";
const NAME: &str = "Tor onion service";

pub const FORMAT: Format = Format {
    validator: Validator::Tor,
    validate: |c| validate(&c.bytes),
    lock: super::no_lock,
    redact: |c, _, _| {
        format!(
            "<{} bytes of Tor onion service key, redacted>",
            c.bytes.len()
        )
    },
    placeholders: false,
};

pub fn validate(bytes: &[u8]) -> Option<KeyInfo> {
    let expanded = bytes.strip_prefix(HEADER)?;
    let Ok(expanded) = <[u8; 64]>::try_from(expanded) else {
        return Some(KeyInfo::unverified(
            NAME,
            "Ed25519",
            "not 64 bytes of expanded key",
        ));
    };
    let scalar: [u8; 32] = expanded[..32].try_into().ok()?;
    if scalar[0] & 7 != 0 || scalar[31] & 0xc0 != 0x40 {
        return Some(KeyInfo::unverified(
            NAME,
            "Ed25519",
            "scalar is not clamped",
        ));
    }
    let public = EdwardsPoint::mul_base_clamped(scalar).compress().to_bytes();
    let address = onion_address(&public);
    let mut info = KeyInfo::new(Status::Valid, NAME, "Ed25519");
    info.fingerprint = Some(address.clone());
    info.public_key = Some(address);
    Some(info)
}

/// `<56 base32 characters>.onion` of a v3 service's public key.
pub fn onion_address(public: &[u8; 32]) -> String {
    let mut h = sha3::Sha3_256::new();
    h.update(b".onion checksum");
    h.update(public);
    h.update([3]);
    let mut raw = public.to_vec();
    raw.extend_from_slice(&h.finalize()[..2]);
    raw.push(3);
    format!("{}.onion", base32(&raw))
}

/// RFC 4648 base32, lower case, no padding (35 bytes are 56 characters).
fn base32(data: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let (mut acc, mut bits, mut out) = (0u32, 0u32, String::new());
    for &b in data {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_of_rfc4648_vectors() {
        assert_eq!(base32(b"foobar"), "mzxw6ytboi");
        assert_eq!(base32(b"f"), "my");
    }

    #[test]
    fn short_or_unclamped_keys_are_unverified() {
        let mut file = HEADER.to_vec();
        file.extend([0x11; 64]);
        assert_eq!(validate(&file).unwrap().status, Status::Unverified);
        assert_eq!(validate(&file[..50]).unwrap().status, Status::Unverified);
        assert!(validate(b"== ed25519v1-public: type0 ==\0\0\0").is_none());
    }
}
