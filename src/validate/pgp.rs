//! OpenPGP armored secret keys: the armor checksum, then the first packet
//! must be a Secret-Key packet whose public part parses; its v4 fingerprint
//! is what `gpg --fingerprint` prints.

use super::{oids, Format, Lock, NO_CHECK};
use crate::rules::unwrap::{decode_base64, Armor, Line};
use crate::rules::Validator;
use crate::scan::finding::{KeyInfo, Status};
use der::asn1::ObjectIdentifier as Oid;
use sha1::{Digest, Sha1};
use sha2::Sha256;

const NAME: &str = "OpenPGP";
const BINARY_NAME: &str = "OpenPGP (binary)";

pub const FORMAT: Format = Format {
    validator: Validator::Pgp,
    validate: |c| Some(validate(c.armor.as_ref()?)),
    lock: |c| {
        lock(
            &dearmor(c.armor.as_ref().ok_or(NO_CHECK)?).ok_or(NO_CHECK)?,
            NAME,
        )
    },
    redact: super::redact_armor,
    placeholders: true,
};

pub const BINARY: Format = Format {
    validator: Validator::PgpBinary,
    validate: |c| binary(&c.bytes),
    lock: |c| lock(&c.bytes, BINARY_NAME),
    redact: |c, _, _| format!("<{} bytes of binary OpenPGP, redacted>", c.bytes.len()),
    placeholders: true,
};

fn lock(data: &[u8], format: &'static str) -> Result<Lock, &'static str> {
    let locked = locked(data).ok_or("no weak-passphrase check for this S2K")?;
    Ok(Lock::new(locked.micros(), move |pw| {
        let mut info = locked.open(pw)?;
        info.format = format.into();
        Some(info)
    }))
}

/// Bytes one core hashes in a microsecond (SHA-1 and SHA-2, roughly).
const HASH_BYTES_PER_MICRO: u64 = 1_400;

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
        return KeyInfo::unverified(NAME, "unknown", "body is not valid base64");
    };
    if let Some(crc) = crc {
        if crc.len() == 3 && crc24(&data).to_be_bytes()[1..] != crc[..] {
            return KeyInfo::unverified(NAME, "unknown", "armor checksum does not match");
        }
    }
    match secret_key(&data) {
        Some(info) => info,
        None => KeyInfo::unverified(NAME, "unknown", "not an OpenPGP secret-key packet"),
    }
}

/// A binary transferable secret key (`secring.gpg`, `gpg
/// --export-secret-keys` without `--armor`), or `None` when the blob does
/// not start with a secret-key packet.
pub fn binary(data: &[u8]) -> Option<KeyInfo> {
    let mut info = secret_key(data)?;
    info.format = BINARY_NAME.into();
    Some(info)
}

/// What one secret-key packet holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Secret {
    /// In clear (and, for v3/v4, its checksum holds).
    Clear,
    Encrypted,
    /// No secret at all: a GnuPG stub (`--export-secret-subkeys` primary,
    /// a key on a smartcard).
    Stub,
    /// In clear, but the checksum is wrong.
    Corrupt,
    /// In clear, but the secret does not belong to the public part.
    Mismatch,
}

/// The secret-key packets in `data`: the primary gives the type and
/// fingerprint, every (sub)key counts for the status.
fn secret_key(data: &[u8]) -> Option<KeyInfo> {
    let (tag, body, mut rest) = packet(data)?;
    if tag != 5 && tag != 7 {
        return None;
    }
    let (key_type, fingerprint, first) = key_packet(body)?;
    let mut secrets = vec![first];
    let mut issuers = Vec::new();
    // Later packets: user ids, signatures, subkeys. Stop at anything odd.
    while let Some((tag, body, after)) = packet(rest) {
        if tag == 7 {
            if let Some((_, _, secret)) = key_packet(body) {
                secrets.push(secret);
            }
        } else if tag == 2 {
            issuers.extend(signature_issuers(body));
        }
        rest = after;
    }
    // The self-signatures name the primary: one that none names is not the
    // key that was exported (a changed public byte or creation time).
    let named =
        |id: &String| fingerprint.starts_with(id.as_str()) || fingerprint.ends_with(id.as_str());
    let (status, note) = if !issuers.is_empty() && !issuers.iter().any(named) {
        (
            Status::Unverified,
            Some("no signature in the key names its primary key"),
        )
    } else if secrets.contains(&Secret::Corrupt) {
        (
            Status::Unverified,
            Some("secret-key checksum does not match"),
        )
    } else if secrets.contains(&Secret::Mismatch) {
        (
            Status::Unverified,
            Some("secret key does not match its public key"),
        )
    } else if secrets.contains(&Secret::Clear) {
        (Status::Valid, None)
    } else if secrets.contains(&Secret::Encrypted) {
        (Status::Encrypted, None)
    } else {
        (
            Status::Unverified,
            Some("no secret key material: GnuPG stubs only (exported subkeys elsewhere, or a smartcard)"),
        )
    };
    let mut info = KeyInfo::new(status, NAME, key_type);
    info.note = note.map(String::from);
    info.fingerprint = Some(fingerprint);
    Some(info)
}

/// One Secret-Key or Secret-Subkey packet body: key type, fingerprint and
/// what its secret part holds.
fn key_packet(body: &[u8]) -> Option<(String, String, Secret)> {
    key_packet_parts(body).map(|(t, f, s, _)| (t, f, s))
}

/// As `key_packet`, with the v4 secret part (S2K usage onwards) too.
fn key_packet_parts(body: &[u8]) -> Option<(String, String, Secret, Option<&[u8]>)> {
    let version = *body.first()?;
    // v3: created(4), validity(2), algorithm; v4: created(4), algorithm;
    // v5 and v6 then put a 4-octet length of the key material.
    let (algo_at, start, declared) = match version {
        2 | 3 => (7, 8, None),
        4 => (5, 6, None),
        5 | 6 => {
            let len = u32::from_be_bytes(body.get(6..10)?.try_into().ok()?) as usize;
            (5, 10, Some(len))
        }
        _ => return None,
    };
    let algo = *body.get(algo_at)?;
    let (len, key_type) = material(algo, body.get(start..)?)?;
    if declared.is_some_and(|d| d != len) {
        return None;
    }
    let public = body.get(..start + len)?;
    let fingerprint = key_fingerprint(version, algo, public, start)?;
    let usage = *body.get(start + len)?;
    let secret_part = &body[start + len + 1..];
    let secret = secret_state(version, algo, usage, &public[start..], secret_part);
    let fingerprint = fingerprint.iter().map(|b| format!("{b:02X}")).collect();
    let v4_secret = (version == 4).then(|| &body[start + len..]);
    Some((key_type, fingerprint, secret, v4_secret))
}

/// The key's OpenPGP fingerprint: MD5 (v3), SHA-1 (v4) or SHA-256 (v5, v6)
/// of its public part.
fn key_fingerprint(version: u8, algo: u8, public: &[u8], start: usize) -> Option<Vec<u8>> {
    Some(match version {
        2 | 3 => {
            // MD5 of the RSA n and e bodies, without their bit counts.
            if !(1..=3).contains(&algo) {
                return None;
            }
            let m = &public[start..];
            let n_len = (u16::from_be_bytes([m[0], m[1]]) as usize).div_ceil(8);
            let n = m.get(2..2 + n_len)?;
            let e = m.get(2 + n_len + 2..)?;
            use md5::Digest as _;
            md5::Md5::new()
                .chain_update(n)
                .chain_update(e)
                .finalize()
                .to_vec()
        }
        4 => {
            let len = u16::try_from(public.len()).ok()?;
            let mut h = Sha1::new();
            h.update([0x99]);
            h.update(len.to_be_bytes());
            h.update(public);
            h.finalize().to_vec()
        }
        _ => {
            let len = u32::try_from(public.len()).ok()?;
            let mut h = Sha256::new();
            h.update([if version == 5 { 0x9a } else { 0x9b }]);
            h.update(len.to_be_bytes());
            h.update(public);
            h.finalize().to_vec()
        }
    })
}

/// What a key packet's secret part holds, from its S2K usage octet on:
/// `public` is the key material the secret must match.
fn secret_state(version: u8, algo: u8, usage: u8, public: &[u8], secret_part: &[u8]) -> Secret {
    match usage {
        0 if version <= 4 => {
            // The secret MPIs, then their 16-bit sum.
            let n = secret_part.len();
            if n < 3 {
                Secret::Corrupt
            } else {
                let sum = secret_part[..n - 2]
                    .iter()
                    .fold(0u16, |a, b| a.wrapping_add(*b as u16));
                if sum.to_be_bytes() != secret_part[n - 2..] {
                    Secret::Corrupt
                } else if secret_matches(algo, public, &secret_part[..n - 2]) == Some(false) {
                    Secret::Mismatch
                } else {
                    Secret::Clear
                }
            }
        }
        0 if secret_matches(algo, public, secret_part) == Some(false) => Secret::Mismatch,
        0 => Secret::Clear,
        // S2K usage 254/255 (v6: also 253), then S2K type 101 is GnuPG's
        // "no secret here" extension.
        253..=255 => {
            let s2k_type_at = match version {
                // v6: count octet, cipher, [AEAD], S2K length, S2K type.
                6 => {
                    if usage == 253 {
                        4
                    } else {
                        3
                    }
                }
                5 => 3,
                _ => 1,
            };
            if secret_part.get(s2k_type_at) == Some(&101) {
                Secret::Stub
            } else {
                Secret::Encrypted
            }
        }
        _ => Secret::Encrypted,
    }
}

/// A v4 secret key under S2K usage 254: what a passphrase must open.
pub struct Locked {
    cipher: u8,
    hash: u8,
    salt: Vec<u8>,
    count: usize,
    iv: Vec<u8>,
    data: Vec<u8>,
    key_type: String,
    fingerprint: String,
}

/// The first encrypted v4 (sub)key in `data` (binary packets) that a
/// passphrase check can compute: AES or 3DES, simple, salted or iterated
/// S2K with SHA-1 or SHA-2.
pub fn locked(data: &[u8]) -> Option<Locked> {
    let mut rest = data;
    let mut primary: Option<(String, String)> = None;
    while let Some((tag, body, after)) = packet(rest) {
        rest = after;
        if tag != 5 && tag != 7 {
            continue;
        }
        let Some((key_type, fingerprint, secret, part)) = key_packet_parts(body) else {
            continue;
        };
        // The primary names the key even when a subkey is what opens.
        let (key_type, fingerprint) = primary.get_or_insert((key_type, fingerprint)).clone();
        let (Secret::Encrypted, Some(part)) = (secret, part) else {
            continue;
        };
        let [254, cipher, s2k, rest_s2k @ ..] = part else {
            continue;
        };
        let (hash, salt, count, after_s2k) = match (s2k, rest_s2k) {
            (0, [hash, tail @ ..]) => (*hash, &[][..], 0, tail),
            (1, [hash, tail @ ..]) if tail.len() >= 8 => (*hash, &tail[..8], 0, &tail[8..]),
            (3, [hash, tail @ ..]) if tail.len() >= 9 => {
                let c = tail[8] as usize;
                (
                    *hash,
                    &tail[..8],
                    (16 + (c & 15)) << ((c >> 4) + 6),
                    &tail[9..],
                )
            }
            _ => continue,
        };
        let block = match cipher {
            7..=9 => 16,
            2 => 8,
            _ => continue,
        };
        if after_s2k.len() < block + 22 || !matches!(hash, 2 | 8 | 9 | 10 | 11) {
            continue;
        }
        return Some(Locked {
            cipher: *cipher,
            hash,
            salt: salt.to_vec(),
            count,
            iv: after_s2k[..block].to_vec(),
            data: after_s2k[block..].to_vec(),
            key_type,
            fingerprint,
        });
    }
    None
}

impl Locked {
    /// One try's work: the S2K hashes `count` octets once per hash context.
    fn micros(&self) -> u64 {
        let input = (self.salt.len() + 16) as u64;
        let contexts = if self.hash == 2 && self.cipher != 7 {
            2
        } else {
            1
        };
        (self.count as u64).max(input) * contexts / HASH_BYTES_PER_MICRO + 5
    }

    /// The key in clear as a finding, when `passphrase` opens it: the
    /// decrypted secret must end with the SHA-1 of the rest (RFC 4880 5.5.3).
    pub fn open(&self, passphrase: &[u8]) -> Option<KeyInfo> {
        let key_len = match self.cipher {
            7 => 16,
            8 | 2 => 24,
            _ => 32,
        };
        let key = self.s2k(passphrase, key_len)?;
        let plain = cfb_decrypt(self.cipher, &key, &self.iv, &self.data)?;
        let (secret, check) = plain.split_at(plain.len().checked_sub(20)?);
        if Sha1::digest(secret)[..] != *check {
            return None;
        }
        let mut info = KeyInfo::new(Status::Valid, NAME, self.key_type.clone());
        info.fingerprint = Some(self.fingerprint.clone());
        Some(info)
    }

    /// RFC 4880 3.7.1: hash the salt and passphrase (repeated up to `count`
    /// octets), with one more zero octet of preload per extra hash context.
    fn s2k(&self, passphrase: &[u8], key_len: usize) -> Option<Vec<u8>> {
        let input = [&self.salt[..], passphrase].concat();
        let total = self.count.max(input.len());
        let mut out = Vec::new();
        let mut preload = 0;
        while out.len() < key_len {
            let digest = match self.hash {
                2 => hash_stream::<Sha1>(&input, total, preload),
                8 => hash_stream::<Sha256>(&input, total, preload),
                9 => hash_stream::<sha2::Sha384>(&input, total, preload),
                10 => hash_stream::<sha2::Sha512>(&input, total, preload),
                11 => hash_stream::<sha2::Sha224>(&input, total, preload),
                _ => return None,
            };
            out.extend(digest);
            preload += 1;
        }
        out.truncate(key_len);
        Some(out)
    }
}

fn hash_stream<D: Digest>(input: &[u8], total: usize, preload: usize) -> Vec<u8> {
    let mut h = D::new();
    h.update(vec![0u8; preload]);
    let mut left = total;
    while left > 0 {
        let n = left.min(input.len());
        h.update(&input[..n]);
        left -= n;
    }
    h.finalize().to_vec()
}

/// OpenPGP's CFB mode for secret keys (no resynchronisation).
fn cfb_decrypt(cipher: u8, key: &[u8], iv: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    use aes::cipher::{BlockCipherEncrypt, KeyInit};
    fn run<C: BlockCipherEncrypt + KeyInit>(key: &[u8], iv: &[u8], data: &[u8]) -> Option<Vec<u8>> {
        let c = C::new_from_slice(key).ok()?;
        let mut prev = aes::cipher::Block::<C>::default();
        if prev.len() != iv.len() {
            return None;
        }
        prev.copy_from_slice(iv);
        let mut out = Vec::with_capacity(data.len());
        for chunk in data.chunks(iv.len()) {
            let mut stream = prev.clone();
            c.encrypt_block(&mut stream);
            out.extend(chunk.iter().zip(stream.iter()).map(|(a, b)| a ^ b));
            if chunk.len() == iv.len() {
                prev.copy_from_slice(chunk);
            }
        }
        Some(out)
    }
    match cipher {
        7 => run::<aes::Aes128>(key, iv, data),
        8 => run::<aes::Aes192>(key, iv, data),
        9 => run::<aes::Aes256>(key, iv, data),
        2 => run::<des::TdesEde3>(key, iv, data),
        _ => None,
    }
}

/// The binary packets of an armored block, checksum line left out.
pub fn dearmor(armor: &Armor) -> Option<Vec<u8>> {
    let mut body = String::new();
    for line in &armor.lines {
        if let Line::Data(d) = line {
            if !(d.starts_with('=') && d.len() == 5) {
                body.push_str(d);
            }
        }
    }
    decode_base64(body.as_bytes())
}

/// The length of the public key material of `algo` at the start of `m`, and
/// the key type it shows.
fn material(algo: u8, m: &[u8]) -> Option<(usize, String)> {
    let mut pos = 0;
    let mpi = |pos: &mut usize| -> Option<usize> {
        let bits = u16::from_be_bytes([*m.get(*pos)?, *m.get(*pos + 1)?]) as usize;
        *pos += 2 + bits.div_ceil(8);
        m.get(..*pos)?;
        Some(bits)
    };
    let fixed = |name: &str, len: usize| m.get(..len).map(|_| (len, format!("PGP {name}")));
    let key_type = match algo {
        1..=3 => {
            let bits = mpi(&mut pos)?;
            mpi(&mut pos)?;
            format!("PGP RSA {bits}")
        }
        16 | 20 | 17 => {
            let bits = mpi(&mut pos)?;
            let count = if algo == 17 { 3 } else { 2 };
            for _ in 0..count {
                mpi(&mut pos)?;
            }
            let name = if algo == 17 { "DSA" } else { "Elgamal" };
            format!("PGP {name} {bits}")
        }
        18 | 19 | 22 => {
            let oid_len = *m.first()? as usize;
            let oid = m.get(1..1 + oid_len)?;
            pos = 1 + oid_len;
            mpi(&mut pos)?;
            if algo == 18 {
                let kdf_len = *m.get(pos)? as usize;
                pos += 1 + kdf_len;
                m.get(..pos)?;
            }
            let name = match algo {
                18 => "ECDH",
                19 => "ECDSA",
                _ => "EdDSA",
            };
            format!("PGP {name} ({})", curve(oid))
        }
        25 => return fixed("X25519", 32),
        26 => return fixed("X448", 56),
        27 => return fixed("Ed25519", 32),
        28 => return fixed("Ed448", 57),
        // draft-ietf-openpgp-pqc: composite and SLH-DSA keys, fixed sizes.
        30 => return fixed("ML-DSA-65 + Ed25519", 32 + 1952),
        31 => return fixed("ML-DSA-87 + Ed448", 57 + 2592),
        32 => return fixed("SLH-DSA-SHAKE-128s", 32),
        33 => return fixed("SLH-DSA-SHAKE-128f", 32),
        34 => return fixed("SLH-DSA-SHAKE-256s", 64),
        35 => return fixed("ML-KEM-768 + X25519", 32 + 1184),
        36 => return fixed("ML-KEM-1024 + X448", 56 + 1568),
        _ => return None,
    };
    Some((pos, key_type))
}

/// The name of an OpenPGP curve OID (DER content bytes): the X.509 curves
/// by their common name, then OpenPGP's own.
fn curve(oid: &[u8]) -> &'static str {
    if let Some((name, _)) = Oid::from_bytes(oid).ok().and_then(|o| oids::curve(&o)) {
        return name;
    }
    match oid {
        [0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x0f, 0x01] => "Ed25519",
        [0x2b, 0x06, 0x01, 0x04, 0x01, 0x97, 0x55, 0x01, 0x05, 0x01] => "Curve25519",
        [0x2b, 0x65, 0x71] => "Ed448",
        [0x2b, 0x65, 0x6f] => "X448",
        _ => "unknown curve",
    }
}

/// The issuer fingerprints and key ids (hex) in a v4 or v6 signature's
/// subpackets, hashed and unhashed.
fn signature_issuers(sig: &[u8]) -> Vec<String> {
    let hex = |b: &[u8]| b.iter().map(|b| format!("{b:02X}")).collect::<String>();
    let wide = match sig.first() {
        Some(4) => false,
        Some(6) => true,
        _ => return Vec::new(),
    };
    let mut ids = Vec::new();
    let mut at = 4;
    for _ in 0..2 {
        let len_size = if wide { 4 } else { 2 };
        let Some(len) = sig.get(at..at + len_size) else {
            break;
        };
        let len = len.iter().fold(0usize, |a, &b| (a << 8) | b as usize);
        let Some(mut area) = sig.get(at + len_size..(at + len_size).saturating_add(len)) else {
            break;
        };
        at += len_size + len;
        while let Some((kind, data, rest)) = subpacket(area) {
            match kind & 0x7f {
                16 if data.len() == 8 => ids.push(hex(data)),
                33 if data.len() > 1 => ids.push(hex(&data[1..])),
                _ => {}
            }
            area = rest;
        }
    }
    ids
}

/// One signature subpacket: (type, data, rest).
fn subpacket(area: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let first = *area.first()? as usize;
    let (len, start): (usize, usize) = match first {
        0..=191 => (first, 1),
        192..=254 => (((first - 192) << 8) + *area.get(1)? as usize + 192, 2),
        _ => (
            u32::from_be_bytes(area.get(1..5)?.try_into().ok()?) as usize,
            5,
        ),
    };
    let body = area.get(start..start.checked_add(len)?)?;
    let (&kind, data) = body.split_first()?;
    Some((kind, data, &area[start + len..]))
}

/// Whether the clear secret of a key belongs to its public material: the
/// checksum covers the secret part only, so a changed public byte would
/// otherwise pass as a different valid key. `None`: not checked for `algo`
/// (ECDH, X25519, X448, Ed448, Elgamal and the post-quantum keys).
fn secret_matches(algo: u8, public: &[u8], secret: &[u8]) -> Option<bool> {
    use super::der::{dsa_info, rsa_check};
    match algo {
        1..=3 => {
            let [n, e] = mpis(public)?;
            let [d, p, q] = mpis(secret)?;
            Some(rsa_check([n, e, d, p, q], [None; 3]).is_ok())
        }
        17 => {
            let [p, q, g, y] = mpis(public)?;
            let [x] = mpis(secret)?;
            Some(dsa_info(p, q, g, Some(y), x).is_ok())
        }
        19 | 22 => {
            let oid = public.get(1..1 + *public.first()? as usize)?;
            let [point] = mpis(&public[1 + oid.len()..])?;
            let [scalar] = mpis(secret)?;
            // A curve no OpenPGP implementation knows makes no usable key.
            match curve(oid) {
                "unknown curve" => Some(false),
                name => point_matches(name, point, scalar),
            }
        }
        27 => point_matches(
            "Ed25519",
            &[&[0x40], public.get(..32)?].concat(),
            secret.get(..32)?,
        ),
        _ => None,
    }
}

/// The first `N` MPIs of `data`, as big-endian magnitudes.
fn mpis<const N: usize>(mut data: &[u8]) -> Option<[&[u8]; N]> {
    let mut out = [&data[..0]; N];
    for slot in &mut out {
        let bits = u16::from_be_bytes([*data.first()?, *data.get(1)?]) as usize;
        let end = 2 + bits.div_ceil(8);
        *slot = data.get(2..end)?;
        data = &data[end..];
    }
    Some(out)
}

/// Whether `scalar` (big-endian, leading zeros stripped) makes `point`
/// (SEC1, or 0x40 and the compressed point for Ed25519) on `curve`.
fn point_matches(curve: &str, point: &[u8], scalar: &[u8]) -> Option<bool> {
    let padded = |len: usize| -> Option<Vec<u8>> {
        let pad = len.checked_sub(scalar.len())?;
        Some([vec![0; pad], scalar.to_vec()].concat())
    };
    macro_rules! ecdsa {
        ($curve:ident, $len:expr) => {{
            let Some(Ok(secret)) = padded($len).map(|s| $curve::SecretKey::from_slice(&s)) else {
                return Some(false);
            };
            Some($curve::PublicKey::from_sec1_bytes(point).ok() == Some(secret.public_key()))
        }};
    }
    match curve {
        "Ed25519" => {
            let Some(Ok(seed)) = padded(32).map(<[u8; 32]>::try_from) else {
                return Some(false);
            };
            let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
            Some(point.first() == Some(&0x40) && point[1..] == public.to_bytes())
        }
        "P-256" => ecdsa!(p256, 32),
        "P-384" => ecdsa!(p384, 48),
        "P-521" => ecdsa!(p521, 66),
        _ => None,
    }
}

/// The first packet: (tag, body, rest), old or new header format.
fn packet(data: &[u8]) -> Option<(u8, &[u8], &[u8])> {
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
    let end = start.checked_add(len)?;
    Some((tag, data.get(start..end)?, &data[end..]))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc24_of_empty_and_known_input() {
        assert_eq!(crc24(b""), 0x00b7_04ce);
        // RFC 4880's CRC-24 of "123456789".
        assert_eq!(crc24(b"123456789"), 0x0021_cf02);
    }

    #[test]
    fn random_and_truncated_packets_never_panic() {
        let mut seed = 0x9e37_79b9u32;
        for len in 0..300 {
            let mut data = vec![0x94 + (len % 3) as u8, (len % 256) as u8, 4];
            for _ in 0..len {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                data.push((seed >> 16) as u8);
            }
            for cut in 0..data.len().min(8) {
                let _ = secret_key(&data[..data.len() - cut]);
            }
            data[0] = 0xc5;
            let _ = secret_key(&data);
        }
    }
}
