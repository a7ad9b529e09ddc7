//! OpenSSH's own key format. The base64 body is decoded first and the binary
//! parsed, so bodies rewrapped at any width (64 columns, PuTTYgen) all parse.

use super::fingerprint;
use crate::finding::{KeyInfo, Status};
use crate::rules::unwrap::Armor;
use ssh_key::private::KeypairData;
use ssh_key::PrivateKey;

const FORMAT: &str = "OpenSSH";

pub fn validate(armor: &Armor) -> KeyInfo {
    let Some(bytes) = armor.decoded() else {
        return KeyInfo::unverified(FORMAT, "unknown", "body is not valid base64");
    };
    let key = match PrivateKey::from_bytes(&bytes) {
        Ok(key) => key,
        Err(e) => return KeyInfo::unverified(FORMAT, "unknown", format!("does not parse: {e}")),
    };
    let public = key.public_key().key_data();
    let status = if key.is_encrypted() {
        Status::Encrypted
    } else {
        if let Err(why) = consistent(key.key_data()) {
            return KeyInfo::unverified(FORMAT, &key_type(public), why);
        }
        Status::Valid
    };
    let mut info = KeyInfo::new(status, FORMAT, key_type(public));
    fingerprint::fill_ssh(&mut info, public);
    info
}

/// The private half must give the stored public half.
fn consistent(data: &KeypairData) -> Result<(), String> {
    match data {
        KeypairData::Ed25519(kp) => {
            let derived = ed25519_dalek::SigningKey::from_bytes(&kp.private.to_bytes())
                .verifying_key()
                .to_bytes();
            if derived != kp.public.0 {
                return Err("Ed25519 public key does not match the private key".into());
            }
        }
        KeypairData::Rsa(kp) => {
            use num_bigint::BigUint;
            let n = kp.public().n().as_positive_bytes().unwrap_or_default();
            let p = kp.private().p().as_positive_bytes().unwrap_or_default();
            let q = kp.private().q().as_positive_bytes().unwrap_or_default();
            if BigUint::from_bytes_be(p) * BigUint::from_bytes_be(q) != BigUint::from_bytes_be(n) {
                return Err("RSA modulus is not the product of its primes".into());
            }
        }
        _ => {}
    }
    Ok(())
}

pub fn key_type(key: &ssh_key::public::KeyData) -> String {
    use ssh_key::public::KeyData;
    match key {
        KeyData::Rsa(k) => format!(
            "RSA {}",
            fingerprint::bits(k.n().as_positive_bytes().unwrap_or_default())
        ),
        KeyData::Ed25519(_) => "Ed25519".into(),
        KeyData::Ecdsa(k) => match k.curve() {
            ssh_key::EcdsaCurve::NistP256 => "ECDSA P-256".into(),
            ssh_key::EcdsaCurve::NistP384 => "ECDSA P-384".into(),
            ssh_key::EcdsaCurve::NistP521 => "ECDSA P-521".into(),
        },
        KeyData::Dsa(k) => format!(
            "DSA {}",
            fingerprint::bits(k.p().as_positive_bytes().unwrap_or_default())
        ),
        other => other.algorithm().as_str().to_string(),
    }
}
