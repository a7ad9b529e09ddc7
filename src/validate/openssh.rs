//! OpenSSH's own key format. The base64 body is decoded first and the binary
//! parsed, so bodies rewrapped at any width (64 columns, PuTTYgen) all parse.

use super::{der, fingerprint};
use crate::finding::{KeyInfo, Status};
use crate::rules::unwrap::Armor;
use num_bigint::BigUint;
use ssh_key::private::KeypairData;
use ssh_key::{EcdsaCurve, PrivateKey};

const FORMAT: &str = "OpenSSH";

pub fn validate(armor: &Armor) -> KeyInfo {
    let Some(bytes) = armor.decoded() else {
        return KeyInfo::unverified(FORMAT, "unknown", "body is not valid base64");
    };
    let key = match PrivateKey::from_bytes(&bytes) {
        Ok(key) => key,
        Err(e) => return KeyInfo::unverified(FORMAT, "unknown", format!("does not parse: {e}")),
    };
    from_key(&key)
}

/// Status, type and fingerprints of a parsed key (a decrypted one too).
pub fn from_key(key: &PrivateKey) -> KeyInfo {
    let public = key.public_key().key_data();
    let mut info = KeyInfo::new(Status::Encrypted, FORMAT, key_type(public));
    if !key.is_encrypted() {
        if let Err(why) = consistent(key.key_data(), &mut info) {
            return KeyInfo::unverified(FORMAT, &key_type(public), why);
        }
        info.status = Status::Valid;
    }
    fingerprint::fill_ssh(&mut info, public);
    info
}

fn mpint(m: &ssh_key::Mpint) -> &[u8] {
    m.as_positive_bytes().unwrap_or_default()
}

/// The private half must give the stored public half. For RSA, also fill
/// the AWS SHA-1 form, which needs the PKCS#1 encoding of the whole key.
pub fn consistent(data: &KeypairData, info: &mut KeyInfo) -> Result<(), String> {
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
            let (public, private) = (kp.public(), kp.private());
            let (n, e, d) = (mpint(public.n()), mpint(public.e()), mpint(private.d()));
            let (p, q, iqmp) = (
                mpint(private.p()),
                mpint(private.q()),
                mpint(private.iqmp()),
            );
            der::rsa_check([n, e, d, p, q], [None, None, Some(iqmp)])?;
            // rsa_check proved p, q > 1.
            let one = BigUint::from(1u8);
            let dn = BigUint::from_bytes_be(d);
            let dp = (&dn % (BigUint::from_bytes_be(p) - &one)).to_bytes_be();
            let dq = (&dn % (BigUint::from_bytes_be(q) - &one)).to_bytes_be();
            let pkcs1 = fingerprint::pkcs1_rsa_der([n, e, d, p, q, &dp, &dq, iqmp]);
            fingerprint::fill_rsa_pkcs8_sha1(info, &pkcs1);
        }
        KeypairData::Ecdsa(kp) => {
            let scalar = kp.private_key_bytes();
            let stored = kp.public_key_bytes();
            let same = match kp.curve() {
                EcdsaCurve::NistP256 => p256::SecretKey::from_slice(scalar)
                    .ok()
                    .map(|s| p256::PublicKey::from_sec1_bytes(stored).ok() == Some(s.public_key())),
                EcdsaCurve::NistP384 => p384::SecretKey::from_slice(scalar)
                    .ok()
                    .map(|s| p384::PublicKey::from_sec1_bytes(stored).ok() == Some(s.public_key())),
                EcdsaCurve::NistP521 => p521::SecretKey::from_slice(scalar)
                    .ok()
                    .map(|s| p521::PublicKey::from_sec1_bytes(stored).ok() == Some(s.public_key())),
            };
            match same {
                Some(true) => {}
                Some(false) => return Err("EC public key does not match the private key".into()),
                None => return Err("EC private scalar is out of range".into()),
            }
        }
        KeypairData::Dsa(kp) => {
            let public = kp.public();
            der::dsa_info(
                mpint(public.p()),
                mpint(public.q()),
                mpint(public.g()),
                Some(mpint(public.y())),
                kp.private().as_bytes(),
            )?;
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
            EcdsaCurve::NistP256 => "ECDSA P-256".into(),
            EcdsaCurve::NistP384 => "ECDSA P-384".into(),
            EcdsaCurve::NistP521 => "ECDSA P-521".into(),
        },
        KeyData::Dsa(k) => format!(
            "DSA {}",
            fingerprint::bits(k.p().as_positive_bytes().unwrap_or_default())
        ),
        other => other.algorithm().as_str().to_string(),
    }
}
