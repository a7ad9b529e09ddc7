//! ssh.com (SSH2) private keys: a magic number, the key type and the cipher
//! are in clear; the key itself is only readable without a passphrase.

use super::fingerprint::{self, bits};
use super::wire::Reader;
use super::{der, Format, Lock, Parsed, NO_CHECK};
use crate::rules::unwrap::Armor;
use crate::rules::{Candidate, Validator};
use crate::scan::finding::{KeyInfo, Status};

const MAGIC: u32 = 0x3f6f_f9eb;
const NAME: &str = "ssh.com";

pub const FORMAT: Format = Format {
    validator: Validator::Sshcom,
    validate: |c| Some(validate(c.armor.as_ref()?)),
    lock,
    redact,
    placeholders: true,
};

fn redact(c: &Candidate, lines: &str, via: &str) -> String {
    let label = c.armor.as_ref().map(|a| a.label.as_str()).unwrap_or("");
    format!("---- BEGIN {label} ---- [{lines} redacted]{via}")
}

/// Two MD5s and a 3DES pass: cheap.
fn lock(c: &Candidate) -> Result<Lock, &'static str> {
    let armor = c.armor.clone().ok_or(NO_CHECK)?;
    Ok(Lock::new(5, move |pw| open(&armor, pw)))
}

pub fn validate(armor: &Armor) -> KeyInfo {
    let Some(blob) = armor.decoded() else {
        return KeyInfo::unverified(NAME, "unknown", "body is not valid base64");
    };
    let mut r = Reader(&blob);
    if r.u32() != Some(MAGIC) {
        return KeyInfo::unverified(NAME, "unknown", "missing the ssh.com magic number");
    }
    let total = r.u32().unwrap_or(0) as usize;
    let (Some(kind), Some(cipher), Some(rest)) = (r.string(), r.string(), r.string()) else {
        return KeyInfo::unverified(NAME, "unknown", "truncated");
    };
    if total != blob.len() || rest.len() < 32 {
        return KeyInfo::unverified(NAME, "unknown", "length fields do not match the body");
    }
    let kind = String::from_utf8_lossy(kind);
    let family = if kind.contains("rsa") {
        "RSA"
    } else if kind.contains("dsa") || kind.contains("dss") {
        "DSA"
    } else {
        "unknown"
    };
    if cipher != b"none" {
        return KeyInfo::new(Status::Encrypted, NAME, family);
    }
    in_clear(family, rest)
}

/// The key data in clear: check it and fingerprint it.
fn in_clear(family: &str, data: &[u8]) -> KeyInfo {
    let mut r = Reader(data);
    let Some(inner) = r.string() else {
        return KeyInfo::unverified(NAME, family, "key data is not a string");
    };
    let parsed = match family {
        "RSA" => rsa(inner),
        "DSA" => dsa(inner),
        _ => return KeyInfo::new(Status::Valid, NAME, family),
    };
    match parsed {
        Ok(mut info) => {
            info.format = NAME.into();
            info
        }
        Err(why) => KeyInfo::unverified(NAME, family, why),
    }
}

/// An encrypted ssh.com key (`3des-cbc`) with `passphrase`: the key is
/// MD5(P) || MD5(P || MD5(P)), cut to 24 bytes, and the IV is zero.
pub fn open(armor: &Armor, passphrase: &[u8]) -> Option<KeyInfo> {
    use md5::Digest;
    let blob = armor.decoded()?;
    let mut r = Reader(&blob);
    r.u32()?;
    r.u32()?;
    let kind = String::from_utf8_lossy(r.string()?).into_owned();
    if r.string()? != b"3des-cbc" {
        return None;
    }
    let data = r.string()?;
    if data.is_empty() || data.len() % 8 != 0 {
        return None;
    }
    let first = md5::Md5::digest(passphrase);
    let second = md5::Md5::new()
        .chain_update(passphrase)
        .chain_update(first)
        .finalize();
    let key = [&first[..], &second[..8]].concat();
    let plain = super::pbe::cbc_raw::<des::TdesEde3>(&key, &[0; 8], data)?;
    let family = if kind.contains("rsa") { "RSA" } else { "DSA" };
    let info = in_clear(family, &plain);
    (info.status == Status::Valid).then_some(info)
}

/// RSA in clear: e, d, n, u, p, q.
fn rsa(data: &[u8]) -> Parsed {
    let mut r = Reader(data);
    let mut parts = [&[][..]; 6];
    for part in &mut parts {
        *part = r.mpint_bits32().ok_or("RSA key is truncated")?;
    }
    let [e, d, n, _u, p, q] = parts;
    der::rsa_check([n, e, d, p, q], [None; 3])?;
    let mut info = KeyInfo::new(Status::Valid, NAME, format!("RSA {}", bits(n)));
    let public = fingerprint::rsa_key(n, e).ok_or("RSA public key does not encode")?;
    fingerprint::fill_ssh(&mut info, &public);
    fingerprint::fill_rsa_pkcs8_sha1_from_parts(&mut info, [n, e, d, p, q]);
    Ok(info)
}

/// DSA in clear: a zero word (explicit parameters), then p, g, q, y, x.
fn dsa(data: &[u8]) -> Parsed {
    let mut r = Reader(data);
    if r.u32() != Some(0) {
        return Err("DSA key with predefined parameters".into());
    }
    let mut parts = [&[][..]; 5];
    for part in &mut parts {
        *part = r.mpint_bits32().ok_or("DSA key is truncated")?;
    }
    let [p, g, q, y, x] = parts;
    der::dsa_info(p, q, g, Some(y), x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_blobs_never_panic() {
        let mut blob = MAGIC.to_be_bytes().to_vec();
        blob.extend(0u32.to_be_bytes());
        for s in [&b"if-modn{sign{rsa-pkcs1-sha1}}"[..], b"none"] {
            blob.extend((s.len() as u32).to_be_bytes());
            blob.extend(s);
        }
        blob.extend(200u32.to_be_bytes());
        blob.extend(196u32.to_be_bytes());
        blob.extend([0xffu8; 196]);
        let total = blob.len() as u32;
        blob[4..8].copy_from_slice(&total.to_be_bytes());
        assert!(rsa(&blob[blob.len() - 196..]).is_err());
        for cut in 0..blob.len() {
            let _ = dsa(&blob[cut..]);
            let _ = rsa(&blob[cut..]);
        }
    }
}
