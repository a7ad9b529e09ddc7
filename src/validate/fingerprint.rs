//! Every fingerprint is computed here, from the public half only (the one
//! exception, AWS's SHA-1 of the PKCS#8 private key, is a one-way digest).

pub use super::asn1::{der_encode, der_uint};
use crate::scan::finding::KeyInfo;
use base64::Engine as _;
use sha2::Digest;
use ssh_key::public::{DsaPublicKey, EcdsaPublicKey, Ed25519PublicKey, KeyData, RsaPublicKey};
use ssh_key::{HashAlg, Mpint, PublicKey};

/// Fill everything derivable from a public key: the OpenSSH `SHA256:`
/// fingerprint, the public-key line, and the AWS forms that need only the
/// public half (Ed25519 SHA-256, RSA MD5 of the SubjectPublicKeyInfo).
pub fn fill_ssh(info: &mut KeyInfo, key: &KeyData) {
    info.fingerprint = Some(key.fingerprint(HashAlg::Sha256).to_string());
    let public = PublicKey::new(key.clone(), "");
    info.public_key = public.to_openssh().ok().map(|s| s.trim_end().to_string());
    match key {
        KeyData::Ed25519(_) => {
            if let Ok(blob) = public.to_bytes() {
                let digest = sha2::Sha256::digest(&blob);
                info.aws_fingerprints.sha256 =
                    Some(base64::engine::general_purpose::STANDARD.encode(digest));
            }
        }
        KeyData::Rsa(k) => {
            if let (Some(n), Some(e)) = (k.n().as_positive_bytes(), k.e().as_positive_bytes()) {
                info.aws_fingerprints.md5_spki = Some(md5_spki(n, e));
            }
        }
        _ => {}
    }
}

/// The OpenSSH fingerprint and public-key line of a raw public-key blob,
/// for key types ssh-key does not model.
pub fn fill_blob(info: &mut KeyInfo, name: &str, blob: &[u8]) {
    info.fingerprint = Some(ssh_sha256(blob));
    info.public_key = Some(format!(
        "{name} {}",
        base64::engine::general_purpose::STANDARD.encode(blob)
    ));
}

/// `SHA256:...` of a public-key wire blob, as `ssh-keygen -l` prints it.
pub fn ssh_sha256(blob: &[u8]) -> String {
    let digest = sha2::Sha256::digest(blob);
    format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest)
    )
}

/// Fingerprint and the AWS forms derivable from a public-key wire blob.
pub fn from_blob(blob: &[u8]) -> KeyInfo {
    let mut info = KeyInfo::new(crate::scan::finding::Status::Valid, "public key", "");
    match PublicKey::from_bytes(blob) {
        Ok(key) => fill_ssh(&mut info, key.key_data()),
        Err(_) => info.fingerprint = Some(ssh_sha256(blob)),
    }
    info
}

/// Fill the AWS SHA-1 form of an RSA key EC2 created: SHA-1 of the DER
/// PKCS#8 PrivateKeyInfo wrapping this PKCS#1 RSAPrivateKey.
pub fn fill_rsa_pkcs8_sha1(info: &mut KeyInfo, pkcs1_der: &[u8]) {
    info.aws_fingerprints.sha1_pkcs8 =
        Some(colon_hex(&sha1::Sha1::digest(pkcs8_rsa_der(pkcs1_der))));
}

/// As `fill_rsa_pkcs8_sha1`, for formats that store only n, e, d, p, q
/// (big-endian): the CRT values are derived as openssl would store them.
pub fn fill_rsa_pkcs8_sha1_from_parts(info: &mut KeyInfo, [n, e, d, p, q]: [&[u8]; 5]) {
    use num_bigint::BigUint;
    let big = BigUint::from_bytes_be;
    // OpenSSL (and so EC2) keeps p > q; formats that do not say follow it.
    let (p, q) = if big(p) < big(q) { (q, p) } else { (p, q) };
    let (dn, pn, qn) = (big(d), big(p), big(q));
    let one = BigUint::from(1u8);
    if pn <= one || qn <= one {
        return;
    }
    let dp = (&dn % (&pn - &one)).to_bytes_be();
    let dq = (&dn % (&qn - &one)).to_bytes_be();
    let Some(qinv) = qn.modinv(&pn) else { return };
    let pkcs1 = pkcs1_rsa_der([n, e, d, p, q, &dp, &dq, &qinv.to_bytes_be()]);
    fill_rsa_pkcs8_sha1(info, &pkcs1);
}

/// MD5 of the RSA SubjectPublicKeyInfo DER, colon hex (AWS imported keys).
pub fn md5_spki(n: &[u8], e: &[u8]) -> String {
    colon_hex(&md5::Md5::digest(spki_rsa_der(n, e)))
}

/// `MD5:aa:bb:...` of an OpenSSH public-key line, as `ssh-keygen -E md5 -l`
/// prints it (the form older tools and GitHub's UI show).
pub fn ssh_md5(public_line: &str) -> Option<String> {
    let blob = PublicKey::from_openssh(public_line).ok()?.to_bytes().ok()?;
    Some(format!("MD5:{}", colon_hex(&md5::Md5::digest(blob))))
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
    let start = be.iter().position(|b| *b != 0).unwrap_or(be.len());
    let trimmed = &be[start..];
    match trimmed.first() {
        Some(top) => trimmed.len() * 8 - top.leading_zeros() as usize,
        None => 0,
    }
}

/// PKCS#1 RSAPrivateKey DER from its components (big-endian unsigned):
/// n, e, d, p, q, dp, dq, qinv.
pub fn pkcs1_rsa_der(parts: [&[u8]; 8]) -> Vec<u8> {
    let mut body = der_uint(&[0]);
    for part in parts {
        body.extend(der_uint(part));
    }
    der_encode(0x30, &body)
}

/// AlgorithmIdentifier { rsaEncryption, NULL }.
fn rsa_algorithm() -> Vec<u8> {
    let oid = [
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    der_encode(0x30, &oid)
}

/// The PKCS#8 DER that `openssl pkcs8 -topk8 -nocrypt` makes of an RSA key.
fn pkcs8_rsa_der(pkcs1: &[u8]) -> Vec<u8> {
    let mut body = der_uint(&[0]);
    body.extend(rsa_algorithm());
    body.extend(der_encode(0x04, pkcs1));
    der_encode(0x30, &body)
}

/// SubjectPublicKeyInfo DER of an RSA public key.
fn spki_rsa_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    let mut rsa_pub = der_uint(n);
    rsa_pub.extend(der_uint(e));
    let mut bits = vec![0];
    bits.extend(der_encode(0x30, &rsa_pub));
    let mut body = rsa_algorithm();
    body.extend(der_encode(0x03, &bits));
    der_encode(0x30, &body)
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

    #[test]
    fn ed25519_fills_padded_aws_form_of_the_ssh_digest() {
        let mut info = KeyInfo::new(crate::scan::finding::Status::Valid, "t", "Ed25519");
        fill_ssh(&mut info, &ed25519_key([7; 32]));
        let fp = info.fingerprint.unwrap();
        let aws = info.aws_fingerprints.sha256.unwrap();
        assert!(aws.ends_with('='));
        assert_eq!(fp, format!("SHA256:{}", aws.trim_end_matches('=')));
        assert!(info.public_key.unwrap().starts_with("ssh-ed25519 AAAA"));
    }
}
