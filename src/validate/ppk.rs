//! PuTTY private keys, v2 and v3. The public blob is in clear, so every PPK
//! gets a fingerprint (ECDSA too); an unencrypted key must carry a correct
//! Private-MAC, which proves the private blob is intact.

use super::{fingerprint, openssh, Format, Lock, NO_CHECK, TOO_COSTLY};
use crate::rules::unwrap::{decode_base64, Armor, Line};
use crate::rules::{Candidate, Validator};
use crate::scan::finding::{KeyInfo, Status};
use hmac::{Hmac, KeyInit, Mac};
use sha1::{Digest, Sha1};
use sha2::Sha256;
use ssh_key::{PrivateKey, PublicKey};

pub const FORMAT: Format = Format {
    validator: Validator::Ppk,
    validate: |c| Some(validate(c.armor.as_ref()?)),
    lock,
    redact,
    placeholders: true,
};

/// `PuTTY-User-Key-File-3: ssh-ed25519 [9 lines redacted]`.
fn redact(c: &Candidate, lines: &str, via: &str) -> String {
    let head = c
        .armor
        .as_ref()
        .and_then(|a| {
            a.lines.iter().find_map(|l| match l {
                Line::Header(k, v) if k.starts_with("PuTTY-User-Key-File-") => {
                    Some(format!("{k}: {v}"))
                }
                _ => None,
            })
        })
        .unwrap_or_else(|| "PuTTY-User-Key-File".to_string());
    format!("{head} [{lines} redacted]{via}")
}

/// Argon2 parameters beyond which a key is not tried (puttygen writes
/// 8 MiB and a pass count that takes about a tenth of a second).
const MAX_ARGON2_KIB: u64 = 256 * 1024;
const MAX_ARGON2_PASSES: u64 = 64;
const MAX_PARALLELISM: u64 = 16;
/// Argon2 work per 4 KiB of memory and pass, in microseconds of one core.
const ARGON2_4KIB_PASS_MICROS: u64 = 3;

fn lock(c: &Candidate) -> Result<Lock, &'static str> {
    let armor = c.armor.as_ref().ok_or(NO_CHECK)?;
    let number = |name: &str| {
        armor
            .header(name)
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    let (memory, passes) = (number("Argon2-Memory"), number("Argon2-Passes"));
    let costly = memory.is_some_and(|kib| kib > MAX_ARGON2_KIB)
        || passes.is_some_and(|n| n > MAX_ARGON2_PASSES)
        || number("Argon2-Parallelism").is_some_and(|n| n > MAX_PARALLELISM);
    if costly {
        return Err(TOO_COSTLY);
    }
    // v2: one SHA-1; v3: Argon2 over `memory` KiB, `passes` times.
    let cost = memory.unwrap_or(0) * passes.unwrap_or(1) / 4 * ARGON2_4KIB_PASS_MICROS;
    let text = text(armor);
    let format = format_of(armor);
    Ok(Lock::new(cost + 5, move |pw| {
        let pw = String::from_utf8_lossy(pw).into_owned();
        let key = PrivateKey::from_ppk(&text, Some(pw)).ok()?;
        let mut info = openssh::from_key(&key);
        info.format = format.clone();
        Some(info)
    })
    .never_empty())
}

/// The PPK file text back from its unwrapped lines.
fn text(armor: &Armor) -> String {
    let mut out = String::new();
    for line in &armor.lines {
        match line {
            Line::Header(k, v) => out.push_str(&format!("{k}: {v}\n")),
            Line::Data(d) => {
                out.push_str(d);
                out.push('\n');
            }
            Line::Junk => {}
        }
    }
    out
}

/// The PPK version and the key algorithm its first line names.
fn first_line(armor: &Armor) -> (u32, String) {
    for line in &armor.lines {
        if let Line::Header(k, v) = line {
            if let Some(n) = k.strip_prefix("PuTTY-User-Key-File-") {
                return (n.parse().unwrap_or(0), v.clone());
            }
        }
    }
    (0, String::new())
}

fn format_of(armor: &Armor) -> String {
    format!("PuTTY PPK v{}", first_line(armor).0)
}

pub fn validate(armor: &Armor) -> KeyInfo {
    let (version, algorithm) = first_line(armor);
    let format = format_of(armor);
    let encryption = armor.header("Encryption").unwrap_or("").to_string();
    let comment = armor.header("Comment").unwrap_or("").to_string();
    let (Some(public), Some(private)) = (
        section(armor, "Public-Lines"),
        section(armor, "Private-Lines"),
    ) else {
        return KeyInfo::unverified(&format, "unknown", "missing Public-Lines or Private-Lines");
    };
    // Algorithms ssh-key does not model (Ed448) still have a named blob.
    let key = PublicKey::from_bytes(&public).ok();
    let blob_type = match &key {
        Some(k) => k.algorithm().as_str().to_string(),
        None => match blob_name(&public) {
            Some(name) => name,
            None => return KeyInfo::unverified(&format, "unknown", "public blob does not parse"),
        },
    };
    let key_type = match &key {
        Some(k) => openssh::key_type(k.key_data()),
        None => openssh::readable(&blob_type),
    };
    if blob_type != algorithm {
        return KeyInfo::unverified(
            &format,
            &key_type,
            "key type in the header differs from the public blob",
        );
    }
    let Some(mac) = armor.header("Private-MAC").map(str::to_ascii_lowercase) else {
        return KeyInfo::unverified(&format, &key_type, "no Private-MAC");
    };
    let status = if encryption == "none" {
        let data = mac_data(&algorithm, &encryption, &comment, &public, &private);
        let expected = match version {
            2 => {
                let key = Sha1::digest(b"putty-private-key-file-mac-key");
                hex(&hmac_sha1(&key, &data))
            }
            3 => hex(&hmac_sha256(&[], &data)),
            _ => return KeyInfo::unverified(&format, &key_type, "unsupported PPK version"),
        };
        if mac != expected {
            return KeyInfo::unverified(
                &format,
                &key_type,
                "Private-MAC does not match: corrupted or edited",
            );
        }
        Status::Valid
    } else {
        Status::Encrypted
    };
    let mut info = KeyInfo::new(status, &format, key_type.clone());
    if status == Status::Valid {
        // The private half is readable: check it against the public half
        // (and for RSA, fill the AWS SHA-1 of its PKCS#8 form).
        if let Ok(pair) = PrivateKey::from_ppk(text(armor), None) {
            if let Err(why) = openssh::consistent(pair.key_data(), &mut info) {
                return KeyInfo::unverified(&format, &key_type, why);
            }
        }
    }
    match key {
        Some(key) => fingerprint::fill_ssh(&mut info, key.key_data()),
        None => fingerprint::fill_blob(&mut info, &algorithm, &public),
    }
    info
}

/// The type name at the start of an SSH public-key blob.
fn blob_name(blob: &[u8]) -> Option<String> {
    let len = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?) as usize;
    let name = std::str::from_utf8(blob.get(4..4 + len)?).ok()?;
    (len + 4 < blob.len() && !name.is_empty()).then(|| name.to_string())
}

/// The base64 lines that follow a `*-Lines: N` header, decoded.
fn section(armor: &Armor, name: &str) -> Option<Vec<u8>> {
    let start = armor
        .lines
        .iter()
        .position(|l| matches!(l, Line::Header(k, _) if k.eq_ignore_ascii_case(name)))?;
    let count: usize = match &armor.lines[start] {
        Line::Header(_, v) => v.trim().parse().ok()?,
        _ => return None,
    };
    let mut b64 = String::new();
    for line in armor.lines.iter().skip(start + 1).take(count) {
        match line {
            Line::Data(d) => b64.push_str(d),
            _ => return None,
        }
    }
    decode_base64(b64.as_bytes())
}

fn mac_data(alg: &str, enc: &str, comment: &str, public: &[u8], private: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for field in [
        alg.as_bytes(),
        enc.as_bytes(),
        comment.as_bytes(),
        public,
        private,
    ] {
        out.extend((field.len() as u32).to_be_bytes());
        out.extend(field);
    }
    out
}

fn hmac_sha1(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
