//! OpenSSH's own key format. The base64 body is decoded first and the binary
//! parsed, so bodies rewrapped at any width (64 columns, PuTTYgen) all parse.

use super::wire::Reader;
use super::{der, fingerprint, Format, Lock, NO_CHECK, TOO_COSTLY};
use crate::rules::unwrap::Armor;
use crate::rules::{Candidate, Validator};
use crate::scan::finding::{KeyInfo, Status};
use num_bigint::BigUint;
use ssh_key::private::KeypairData;
use ssh_key::{EcdsaCurve, PrivateKey};

const NAME: &str = "OpenSSH";

pub const FORMAT: Format = Format {
    validator: Validator::Openssh,
    validate: |c| Some(validate(c.armor.as_ref()?)),
    lock,
    redact: super::redact_armor,
    placeholders: true,
};

/// bcrypt-pbkdf rounds beyond which a key is not tried (ssh-keygen writes 16
/// by default; `-a` raises it).
const MAX_BCRYPT_ROUNDS: u32 = 256;
/// One bcrypt-pbkdf round for one 32-byte output block, in microseconds.
const BCRYPT_ROUND_MICROS: u64 = 3_700;

fn lock(c: &Candidate) -> Result<Lock, &'static str> {
    let bytes = c.armor.as_ref().and_then(Armor::decoded).ok_or(NO_CHECK)?;
    let key = PrivateKey::from_bytes(&bytes).map_err(|_| NO_CHECK)?;
    let mut cost = 1;
    if let ssh_key::Kdf::Bcrypt { rounds, .. } = key.kdf() {
        if *rounds > MAX_BCRYPT_ROUNDS {
            return Err(TOO_COSTLY);
        }
        // Key and IV: two output blocks for every cipher OpenSSH writes.
        cost = u64::from(*rounds) * 2 * BCRYPT_ROUND_MICROS;
    }
    Ok(Lock::new(cost, move |pw| {
        let plain = key.decrypt(pw).ok()?;
        let mut info = from_key(&plain);
        info.format = NAME.into();
        Some(info)
    })
    .never_empty())
}

pub fn validate(armor: &Armor) -> KeyInfo {
    let Some(bytes) = armor.decoded() else {
        return KeyInfo::unverified(NAME, "unknown", "body is not valid base64");
    };
    match PrivateKey::from_bytes(&bytes) {
        Ok(key) if !matches!(key.key_data(), KeypairData::Other(_)) => from_key(&key),
        // Algorithms ssh-key does not model (Ed448, post-quantum hybrids):
        // the container is checked by hand.
        Ok(_) => generic(&bytes).unwrap_or_else(|why| KeyInfo::unverified(NAME, "unknown", why)),
        Err(e) => generic(&bytes).unwrap_or_else(|why| {
            KeyInfo::unverified(NAME, "unknown", format!("does not parse: {e}; {why}"))
        }),
    }
}

/// The OpenSSH container for any key type (PROTOCOL.key): the public blob
/// is in clear; in clear, the private section must repeat its check word,
/// name the same type and start with the same public fields.
fn generic(bytes: &[u8]) -> Result<KeyInfo, String> {
    let mut r = Reader(bytes);
    if r.take(15) != Some(b"openssh-key-v1\0") {
        return Err("not an OpenSSH key".into());
    }
    let truncated = || "truncated".to_string();
    let cipher = r.string().ok_or_else(truncated)?;
    let _kdf = r.string().ok_or_else(truncated)?;
    let _kdf_options = r.string().ok_or_else(truncated)?;
    if r.u32() != Some(1) {
        return Err("expected exactly one key".into());
    }
    let public = r.string().ok_or_else(truncated)?;
    let private = r.string().ok_or_else(truncated)?;
    let mut p = Reader(public);
    let name = p.string().ok_or("public key has no type")?;
    let name = std::str::from_utf8(name).map_err(|_| "key type is not text")?;
    let public_fields = p.0;
    if public_fields.is_empty() {
        return Err("public key has no fields".into());
    }
    let mut info = KeyInfo::new(Status::Encrypted, NAME, readable(name));
    if cipher == b"none" {
        let mut s = Reader(private);
        let (c1, c2) = (s.u32(), s.u32());
        if c1.is_none() || c1 != c2 {
            return Err("check words differ: corrupted".into());
        }
        if s.string() != Some(name.as_bytes()) || !s.0.starts_with(public_fields) {
            return Err("private section does not match the public key".into());
        }
        if name == "ssh-ed448" {
            // string pk(57), string sk||pk(114), as for Ed25519.
            let mut k = Reader(s.0);
            let pk = k.string().ok_or_else(truncated)?;
            let sk = k.string().ok_or_else(truncated)?;
            if pk.len() != 57 || sk.len() != 114 || &sk[57..] != pk {
                return Err("Ed448 key has the wrong length or public half".into());
            }
        }
        info.status = Status::Valid;
        if name.starts_with("sk-") {
            info.note = Some(FIDO_NOTE.into());
        }
    }
    fingerprint::fill_blob(&mut info, name, public);
    Ok(info)
}

/// A readable name for an SSH key-type name: `ssh-mldsa44-ed25519@openssh.com`
/// is `ML-DSA-44 + Ed25519`, `sk-ssh-ed25519@openssh.com` is `Ed25519-SK`.
pub fn readable(name: &str) -> String {
    let base = name.split('@').next().unwrap_or(name);
    if let Some(rest) = base.strip_prefix("sk-") {
        let inner = readable(rest);
        return match inner.strip_prefix("ECDSA ") {
            Some(curve) => format!("ECDSA-SK {curve}"),
            None => format!("{inner}-SK"),
        };
    }
    let base = base.strip_prefix("ssh-").unwrap_or(base);
    let base = base
        .strip_prefix("ecdsa-sha2-")
        .map_or(base.to_string(), |c| format!("ecdsa{c}"));
    let part = |p: &str| -> Option<String> {
        Some(match p {
            "ed25519" => "Ed25519".into(),
            "ed448" => "Ed448".into(),
            "rsa" => "RSA".into(),
            "dss" => "DSA".into(),
            "ecdsanistp256" | "nistp256" | "p256" => "ECDSA P-256".into(),
            "ecdsanistp384" | "nistp384" | "p384" => "ECDSA P-384".into(),
            "ecdsanistp521" | "nistp521" | "p521" => "ECDSA P-521".into(),
            _ => {
                let (alg, digits) = p.split_at(p.find(|c: char| c.is_ascii_digit())?);
                let alg = match alg {
                    "mldsa" => "ML-DSA",
                    "mlkem" => "ML-KEM",
                    "rsa" => "RSA",
                    _ => return None,
                };
                format!("{alg}-{digits}")
            }
        })
    };
    let parts: Option<Vec<String>> = base.split('-').map(part).collect();
    match parts {
        Some(parts) if !parts.is_empty() => parts.join(" + "),
        _ => name.to_string(),
    }
}

/// Status, type and fingerprints of a parsed key (a decrypted one too).
pub fn from_key(key: &PrivateKey) -> KeyInfo {
    let public = key.public_key().key_data();
    let mut info = KeyInfo::new(Status::Encrypted, NAME, key_type(public));
    if !key.is_encrypted() {
        if let Err(why) = consistent(key.key_data(), &mut info) {
            return KeyInfo::unverified(NAME, &key_type(public), why);
        }
        info.status = Status::Valid;
        if public.algorithm().as_str().starts_with("sk-") {
            info.note = Some(FIDO_NOTE.into());
        }
    }
    fingerprint::fill_ssh(&mut info, public);
    info
}

const FIDO_NOTE: &str = "FIDO key handle: usable with its security key";

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
        other => readable(other.algorithm().as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::readable;

    #[test]
    fn readable_key_type_names() {
        assert_eq!(
            readable("ssh-mldsa44-ed25519@openssh.com"),
            "ML-DSA-44 + Ed25519"
        );
        assert_eq!(
            readable("ssh-mldsa65-nistp256@openssh.com"),
            "ML-DSA-65 + ECDSA P-256"
        );
        assert_eq!(readable("ssh-ed448"), "Ed448");
        assert_eq!(readable("sk-ssh-ed25519@openssh.com"), "Ed25519-SK");
        assert_eq!(
            readable("sk-ecdsa-sha2-nistp256@openssh.com"),
            "ECDSA-SK P-256"
        );
        assert_eq!(readable("x-unknown@example.com"), "x-unknown@example.com");
    }
}
