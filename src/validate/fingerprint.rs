//! Every fingerprint is computed here, from the public half only.

use crate::finding::{AwsFingerprints, KeyInfo};
use base64::Engine as _;
use sha2::Digest;
use ssh_key::public::{DsaPublicKey, EcdsaPublicKey, Ed25519PublicKey, KeyData, RsaPublicKey};
use ssh_key::{HashAlg, Mpint, PublicKey};

/// Fill the OpenSSH fingerprint and public-key line from `key`, and the
/// Ed25519 AWS form where it applies.
pub fn fill_ssh(info: &mut KeyInfo, key: &KeyData) {
    info.fingerprint = Some(key.fingerprint(HashAlg::Sha256).to_string());
    let public = PublicKey::new(key.clone(), "");
    info.public_key = public.to_openssh().ok().map(|s| s.trim_end().to_string());
    if key.is_ed25519() {
        if let Ok(blob) = public.to_bytes() {
            let digest = sha2::Sha256::digest(&blob);
            info.aws_fingerprints.sha256 =
                Some(base64::engine::general_purpose::STANDARD.encode(digest));
        }
    }
}

/// The AWS forms of an RSA key: SHA-1 of the PKCS#8 DER private key (key
/// pairs EC2 created) and MD5 of the SubjectPublicKeyInfo DER (imported).
pub fn aws_rsa(pkcs8_der: &[u8], spki_der: &[u8]) -> AwsFingerprints {
    AwsFingerprints {
        sha1_pkcs8: Some(colon_hex(&sha1::Sha1::digest(pkcs8_der))),
        md5_spki: Some(colon_hex(&md5::Md5::digest(spki_der))),
        sha256: None,
    }
}

pub fn colon_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

pub fn rsa_key(n: &[u8], e: &[u8]) -> Option<KeyData> {
    RsaPublicKey::new(Mpint::from_positive_bytes(e), Mpint::from_positive_bytes(n))
        .ok()
        .map(KeyData::Rsa)
}

pub fn ecdsa_key(sec1_point: &[u8]) -> Option<KeyData> {
    EcdsaPublicKey::from_sec1_bytes(sec1_point)
        .ok()
        .map(KeyData::Ecdsa)
}

pub fn ed25519_key(public: [u8; 32]) -> KeyData {
    KeyData::Ed25519(Ed25519PublicKey(public))
}

pub fn dsa_key(p: &[u8], q: &[u8], g: &[u8], y: &[u8]) -> Option<KeyData> {
    let m = Mpint::from_positive_bytes;
    DsaPublicKey::new(m(p), m(q), m(g), m(y))
        .ok()
        .map(KeyData::Dsa)
}

/// Bits in a big-endian unsigned integer.
pub fn bits(be: &[u8]) -> usize {
    let trimmed: &[u8] = {
        let start = be.iter().position(|b| *b != 0).unwrap_or(be.len());
        &be[start..]
    };
    match trimmed.first() {
        Some(top) => trimmed.len() * 8 - top.leading_zeros() as usize,
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colon_hex_and_bits() {
        assert_eq!(colon_hex(&[0x01, 0xab]), "01:ab");
        assert_eq!(bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(bits(&[0x01]), 1);
        assert_eq!(bits(&[]), 0);
    }
}
