//! ssh.com (SSH2) private keys: a magic number, the key type and the cipher
//! are in clear; the key itself is only readable without a passphrase.

use crate::finding::{KeyInfo, Status};
use crate::rules::unwrap::Armor;

const MAGIC: u32 = 0x3f6f_f9eb;
const FORMAT: &str = "ssh.com";

pub fn validate(armor: &Armor) -> KeyInfo {
    let Some(blob) = armor.decoded() else {
        return KeyInfo::unverified(FORMAT, "unknown", "body is not valid base64");
    };
    let mut r = Reader(&blob);
    if r.u32() != Some(MAGIC) {
        return KeyInfo::unverified(FORMAT, "unknown", "missing the ssh.com magic number");
    }
    let total = r.u32().unwrap_or(0) as usize;
    let (Some(kind), Some(cipher), Some(rest)) = (r.string(), r.string(), r.string()) else {
        return KeyInfo::unverified(FORMAT, "unknown", "truncated");
    };
    if total != blob.len() || rest.len() < 32 {
        return KeyInfo::unverified(FORMAT, "unknown", "length fields do not match the body");
    }
    let kind = String::from_utf8_lossy(kind);
    let key_type = if kind.contains("rsa") {
        "RSA"
    } else if kind.contains("dsa") || kind.contains("dss") {
        "DSA"
    } else {
        "unknown"
    };
    let status = if cipher == b"none" {
        Status::Valid
    } else {
        Status::Encrypted
    };
    KeyInfo::new(status, FORMAT, key_type)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn u32(&mut self) -> Option<u32> {
        let (head, rest) = self.0.split_first_chunk::<4>()?;
        self.0 = rest;
        Some(u32::from_be_bytes(*head))
    }

    fn string(&mut self) -> Option<&'a [u8]> {
        let len = self.u32()? as usize;
        let s = self.0.get(..len)?;
        self.0 = &self.0[len..];
        Some(s)
    }
}
