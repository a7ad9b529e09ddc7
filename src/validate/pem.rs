//! PEM-armored keys: the label says which DER structure to expect; legacy
//! OpenSSL encryption (`Proc-Type: 4,ENCRYPTED`) is judged by its headers.

use super::asn1::tlv;
use super::{der, pbe, Format, Lock, NO_CHECK};
use crate::rules::unwrap::Armor;
use crate::rules::{Candidate, Validator};
use crate::scan::finding::{KeyInfo, Status};

pub const FORMAT: Format = Format {
    validator: Validator::Pem,
    validate: |c| Some(validate(c.armor.as_ref()?)),
    lock,
    redact: super::redact_armor,
    placeholders: true,
};

pub fn validate(armor: &Armor) -> KeyInfo {
    let family = match armor.label.as_str() {
        "RSA PRIVATE KEY" => "RSA",
        "EC PRIVATE KEY" => "ECDSA",
        "DSA PRIVATE KEY" => "DSA",
        _ => "unknown",
    };
    if armor
        .header("Proc-Type")
        .is_some_and(|v| v.to_ascii_uppercase().contains("ENCRYPTED"))
    {
        return legacy_encrypted(armor, family);
    }
    let Some(der) = armor.decoded() else {
        return KeyInfo::unverified("PEM", family, "body is not valid base64");
    };
    match parser_for(&armor.label)(&der) {
        Ok(info) => info,
        Err(why) => {
            // A key under the wrong label (hand-edited files, `ANY PRIVATE
            // KEY`) is still a key; only a body no parser accepts is not.
            let others: [fn(&[u8]) -> super::Parsed; 5] = [
                der::pkcs8,
                der::pkcs1,
                der::sec1,
                der::dsa,
                der::encrypted_pkcs8,
            ];
            // Only a body that is one whole DER SEQUENCE is worth a retry.
            let whole = matches!(tlv(&der), Some((0x30, _, [])));
            let found = if whole {
                others.into_iter().find_map(|parse| parse(&der).ok())
            } else {
                None
            };
            match found {
                Some(mut info) => {
                    let relabel = format!("labelled {} but is {}", armor.label, info.format);
                    // Keep the reason an unverified key gives.
                    info.note = Some(match info.note {
                        Some(why) => format!("{relabel}; {why}"),
                        None => relabel,
                    });
                    info
                }
                None => KeyInfo::unverified("PEM", family, why),
            }
        }
    }
}

/// The DER structure a PEM label promises.
pub fn parser_for(label: &str) -> fn(&[u8]) -> super::Parsed {
    match label {
        "RSA PRIVATE KEY" => der::pkcs1,
        "EC PRIVATE KEY" => der::sec1,
        "DSA PRIVATE KEY" => der::dsa,
        "ENCRYPTED PRIVATE KEY" => der::encrypted_pkcs8,
        _ => der::pkcs8,
    }
}

/// `Proc-Type: 4,ENCRYPTED` + `DEK-Info: CIPHER,IV`: the body is ciphertext,
/// so check what can be checked: a known cipher, an IV of its block size, and
/// a body that is whole blocks.
fn legacy_encrypted(armor: &Armor, family: &str) -> KeyInfo {
    let format = "PEM (legacy encryption)";
    let Some(dek) = armor.header("DEK-Info") else {
        return KeyInfo::unverified(format, family, "Proc-Type ENCRYPTED without DEK-Info");
    };
    let (cipher, iv) = dek.split_once(',').unwrap_or((dek, ""));
    let cipher = cipher.trim().to_ascii_uppercase();
    let block = if cipher.starts_with("AES")
        || cipher.starts_with("CAMELLIA")
        || cipher.starts_with("ARIA")
    {
        16
    } else if cipher.starts_with("DES")
        || cipher.starts_with("BF")
        || cipher.starts_with("IDEA")
        || cipher.starts_with("CAST")
        || cipher.starts_with("RC2")
    {
        8
    } else {
        return KeyInfo::unverified(format, family, format!("unknown cipher {cipher}"));
    };
    let iv = iv.trim();
    if iv.len() != block * 2 || !iv.bytes().all(|b| b.is_ascii_hexdigit()) {
        return KeyInfo::unverified(format, family, "DEK-Info IV has the wrong length");
    }
    match armor.decoded() {
        Some(body) if body.len() >= 32 && body.len() % block == 0 => {
            let mut info = KeyInfo::new(Status::Encrypted, format, family);
            info.note = Some(format!("encrypted with {cipher}"));
            info
        }
        _ => KeyInfo::unverified(format, family, "ciphertext is not whole cipher blocks"),
    }
}

/// Encrypted PKCS#8, or legacy OpenSSL encryption.
fn lock(c: &Candidate) -> Result<Lock, &'static str> {
    let armor = c.armor.as_ref().ok_or(NO_CHECK)?;
    if armor.header("Proc-Type").is_some() {
        return legacy_lock(armor);
    }
    let body = armor.decoded().ok_or(NO_CHECK)?;
    der::pkcs8_lock(body, "encrypted PKCS#8")
}

/// `Proc-Type: 4,ENCRYPTED`: OpenSSL's EVP_BytesToKey (MD5, one round, the
/// IV's first 8 bytes as salt), then CBC.
fn legacy_lock(armor: &Armor) -> Result<Lock, &'static str> {
    let unsupported = "no weak-passphrase check for this cipher";
    let dek = armor.header("DEK-Info").ok_or(unsupported)?;
    let (cipher, iv_hex) = dek.split_once(',').ok_or(unsupported)?;
    let cipher = cipher.trim().to_ascii_lowercase();
    let key_len = match cipher.as_str() {
        "aes-128-cbc" => 16,
        "aes-192-cbc" | "des-ede3-cbc" => 24,
        "aes-256-cbc" => 32,
        "des-cbc" => 8,
        _ => return Err(unsupported),
    };
    let iv = hex_decode(iv_hex.trim()).ok_or(unsupported)?;
    let body = armor.decoded().ok_or(unsupported)?;
    let parse = parser_for(&armor.label);
    // A few MD5 blocks and one CBC pass: cheap.
    Ok(Lock::new(5, move |pw| {
        use md5::Digest;
        let salt = iv.get(..8)?;
        let mut key = Vec::new();
        let mut prev: Vec<u8> = Vec::new();
        while key.len() < key_len {
            prev = md5::Md5::new()
                .chain_update(&prev)
                .chain_update(pw)
                .chain_update(salt)
                .finalize()
                .to_vec();
            key.extend(&prev);
        }
        key.truncate(key_len);
        let plain = pbe::cbc_by_name(&cipher, &key, &iv, &body)?;
        let mut info = parse(&plain).ok()?;
        info.format = "PEM (legacy encryption)".into();
        Some(info)
    }))
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}
