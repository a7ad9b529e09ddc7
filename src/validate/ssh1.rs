//! SSH-1 RSA private keys (`SSH PRIVATE KEY FILE FORMAT 1.1`): the public
//! half and comment are in clear; the private half is checked when it is
//! not encrypted.

use super::fingerprint::{self, bits};
use super::wire::Reader;
use super::{der, Format, Parsed};
use crate::rules::Validator;
use crate::scan::finding::{KeyInfo, Status};

const MAGIC: &[u8] = b"SSH PRIVATE KEY FILE FORMAT 1.1\n\0";
const NAME: &str = "SSH-1";

pub const FORMAT: Format = Format {
    validator: Validator::Ssh1,
    validate: |c| validate(&c.bytes),
    lock: super::no_lock,
    redact: |c, _, _| format!("<{} bytes of SSH-1 private key, redacted>", c.bytes.len()),
    placeholders: true,
};

/// `None` when the blob is not an SSH-1 key file at all.
pub fn validate(bytes: &[u8]) -> Option<KeyInfo> {
    let mut r = Reader(bytes.strip_prefix(MAGIC)?);
    let cipher = r.u8()?;
    let _reserved = r.take(4)?;
    let _bits = r.take(4)?;
    let (Some(n), Some(e), Some(_comment)) = (r.mpint_bits16(), r.mpint_bits16(), r.string())
    else {
        return Some(KeyInfo::unverified(NAME, "RSA", "truncated"));
    };
    let key_type = format!("RSA {}", bits(n));
    let Some(public) = fingerprint::rsa_key(n, e) else {
        return Some(KeyInfo::unverified(
            NAME,
            &key_type,
            "RSA public key does not encode",
        ));
    };
    let mut info = if cipher != 0 {
        // 3DES (3), Blowfish (6), DES (2), ...: ciphertext of whole blocks.
        if r.0.len() < 16 || r.0.len() % 8 != 0 {
            return Some(KeyInfo::unverified(
                NAME,
                &key_type,
                "ciphertext is not whole cipher blocks",
            ));
        }
        KeyInfo::new(Status::Encrypted, NAME, key_type.clone())
    } else {
        match private(&mut r, n, e) {
            Ok(info) => info,
            Err(why) => return Some(KeyInfo::unverified(NAME, &key_type, why)),
        }
    };
    fingerprint::fill_ssh(&mut info, &public);
    Some(info)
}

/// In clear: two check bytes repeated, then d, iqmp, q, p (SSH-1 swaps the
/// names of p and q relative to PKCS#1).
fn private(r: &mut Reader, n: &[u8], e: &[u8]) -> Parsed {
    let check = r.take(4).ok_or("truncated")?;
    if check[..2] != check[2..] {
        return Err("check bytes differ: corrupted".into());
    }
    let mut parts = [&[][..]; 4];
    for part in &mut parts {
        *part = r.mpint_bits16().ok_or("private key is truncated")?;
    }
    let [d, iqmp, q, p] = parts;
    der::rsa_check([n, e, d, p, q], [None, None, Some(iqmp)])?;
    let mut info = KeyInfo::new(Status::Valid, NAME, format!("RSA {}", bits(n)));
    fingerprint::fill_rsa_pkcs8_sha1_from_parts(&mut info, [n, e, d, p, q]);
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_files_never_panic() {
        let mut file = MAGIC.to_vec();
        file.extend([0, 0, 0, 0, 0, 0, 0, 4, 0]);
        file.extend([0x04, 0x00]);
        file.extend([0xab; 128]);
        for cut in 0..file.len() {
            let _ = validate(&file[..cut]);
        }
        assert!(validate(b"SSH PRIVATE KEY FILE FORMAT 1.0\n\0").is_none());
    }
}
