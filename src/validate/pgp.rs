//! OpenPGP armored secret keys: the armor checksum, then the first packet
//! must be a Secret-Key packet whose public part parses; its v4 fingerprint
//! is what `gpg --fingerprint` prints.

use crate::finding::{KeyInfo, Status};
use crate::rules::unwrap::{decode_base64, Armor, Line};
use sha1::{Digest, Sha1};

const FORMAT: &str = "OpenPGP";

pub fn validate(armor: &Armor) -> KeyInfo {
    let mut body = String::new();
    let mut crc = None;
    for line in &armor.lines {
        if let Line::Data(d) = line {
            match d.strip_prefix('=') {
                Some(c) if c.len() == 4 => crc = decode_base64(c.as_bytes()),
                _ => body.push_str(d),
            }
        }
    }
    let Some(data) = decode_base64(body.as_bytes()) else {
        return KeyInfo::unverified(FORMAT, "unknown", "body is not valid base64");
    };
    if let Some(crc) = crc {
        if crc.len() == 3 && crc24(&data).to_be_bytes()[1..] != crc[..] {
            return KeyInfo::unverified(FORMAT, "unknown", "armor checksum does not match");
        }
    }
    match secret_key(&data) {
        Some(info) => info,
        None => KeyInfo::unverified(FORMAT, "unknown", "not an OpenPGP secret-key packet"),
    }
}

fn secret_key(data: &[u8]) -> Option<KeyInfo> {
    let (tag, body) = packet(data)?;
    if tag != 5 {
        return None;
    }
    let version = *body.first()?;
    let algo = *body.get(5)?;
    if version != 4 {
        let status = if version == 5 || version == 6 {
            Status::Valid
        } else {
            return None;
        };
        return Some(KeyInfo::new(status, FORMAT, format!("PGP v{version} key")));
    }
    let mut pos = 6;
    let (name, mpis, oid) = match algo {
        1..=3 => ("RSA", 2, false),
        16 | 20 => ("Elgamal", 3, false),
        17 => ("DSA", 4, false),
        18 => ("ECDH", 1, true),
        19 => ("ECDSA", 1, true),
        22 => ("EdDSA", 1, true),
        _ => return None,
    };
    let mut bits = 0;
    if oid {
        let len = *body.get(pos)? as usize;
        pos += 1 + len;
    }
    for i in 0..mpis {
        let b = u16::from_be_bytes([*body.get(pos)?, *body.get(pos + 1)?]) as usize;
        if i == 0 {
            bits = b;
        }
        pos += 2 + b.div_ceil(8);
    }
    if algo == 18 {
        let len = *body.get(pos)? as usize;
        pos += 1 + len;
    }
    let public = body.get(..pos)?;
    let s2k_usage = *body.get(pos)?;
    let mut hasher = Sha1::new();
    hasher.update([0x99]);
    hasher.update((public.len() as u16).to_be_bytes());
    hasher.update(public);
    let fp: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    let key_type = if oid {
        format!("PGP {name}")
    } else {
        format!("PGP {name} {bits}")
    };
    let status = if s2k_usage == 0 {
        Status::Valid
    } else {
        Status::Encrypted
    };
    let mut info = KeyInfo::new(status, FORMAT, key_type);
    info.fingerprint = Some(fp);
    Some(info)
}

/// The first packet: (tag, body), old or new header format.
fn packet(data: &[u8]) -> Option<(u8, &[u8])> {
    let head = *data.first()?;
    if head & 0x80 == 0 {
        return None;
    }
    let (tag, len, start): (u8, usize, usize) = if head & 0x40 != 0 {
        let first = *data.get(1)? as usize;
        match first {
            0..=191 => (head & 0x3f, first, 2),
            192..=223 => (
                head & 0x3f,
                ((first - 192) << 8) + *data.get(2)? as usize + 192,
                3,
            ),
            255 => {
                let b = data.get(2..6)?;
                (
                    head & 0x3f,
                    u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize,
                    6,
                )
            }
            _ => return None,
        }
    } else {
        let tag = (head >> 2) & 0x0f;
        match head & 0x03 {
            0 => (tag, *data.get(1)? as usize, 2),
            1 => (
                tag,
                u16::from_be_bytes([*data.get(1)?, *data.get(2)?]) as usize,
                3,
            ),
            2 => {
                let b = data.get(1..5)?;
                (
                    tag,
                    u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize,
                    5,
                )
            }
            _ => return None,
        }
    };
    Some((tag, data.get(start..start.checked_add(len)?)?))
}

/// CRC-24 of RFC 4880's armor.
fn crc24(data: &[u8]) -> u32 {
    let mut crc: u32 = 0x00b7_04ce;
    for b in data {
        crc ^= (*b as u32) << 16;
        for _ in 0..8 {
            crc <<= 1;
            if crc & 0x0100_0000 != 0 {
                crc ^= 0x0186_4cfb;
            }
        }
    }
    crc & 0x00ff_ffff
}
