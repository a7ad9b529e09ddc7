//! minisign secret keys. In clear (KDF "\0\0", `minisign -G -W`) the
//! BLAKE2b-256 checksum (unless zero, as minisign 0.11 writes it) and the
//! Ed25519 halves are checked and the key id
//! and public key (as in the `.pub` file) reported; behind scrypt ("Sc")
//! even the key id is encrypted, so the key is `encrypted` until the
//! weak-passphrase check opens it (scrypt as libsodium derives it from the
//! key's limits: about 3 s and 1 GiB a try at minisign's defaults, so only
//! a budget above 2.8 s tries it).

use super::{Format, Lock};
use crate::rules::Candidate;
use crate::rules::Validator;
use crate::scan::finding::{KeyInfo, Status};
use base64::Engine as _;
use blake2::digest::consts::U32;
use blake2::Digest;

const NAME: &str = "minisign";
const LEN: usize = 158;

pub const FORMAT: Format = Format {
    validator: Validator::Minisign,
    validate: |c| validate(&c.bytes),
    lock,
    redact: |_, lines, via| format!("minisign secret key [{lines} redacted]{via}"),
    placeholders: false,
};

/// The base64 on the last line of an `untrusted comment:` match, decoded.
pub fn last_line_base64(matched: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(matched).ok()?;
    let line = text.lines().last()?.trim();
    base64::engine::general_purpose::STANDARD.decode(line).ok()
}

/// The Ed25519 public key of a 64-byte secret key (seed || public), when
/// its halves agree.
pub fn ed25519_halves(secret: &[u8]) -> Option<[u8; 32]> {
    let seed: [u8; 32] = secret.get(..32)?.try_into().ok()?;
    let public = ed25519_dalek::SigningKey::from_bytes(&seed)
        .verifying_key()
        .to_bytes();
    (secret.get(32..64)? == public).then_some(public)
}

/// An Ed25519 key in clear (minisign, signify): unverified when its
/// checksum or halves disagree, else valid with `id` and the public key as
/// the `.pub` file has it ("Ed", key id, public half).
pub fn ed25519_in_clear(
    name: &str,
    sum_ok: bool,
    key_id: &[u8],
    secret: &[u8],
    id: String,
) -> KeyInfo {
    if !sum_ok {
        return KeyInfo::unverified(name, "Ed25519", "checksum does not match");
    }
    let Some(public) = ed25519_halves(secret) else {
        return KeyInfo::unverified(name, "Ed25519", "public half does not match the secret key");
    };
    let mut info = KeyInfo::new(Status::Valid, name, "Ed25519");
    let mut blob = b"Ed".to_vec();
    blob.extend_from_slice(key_id);
    blob.extend_from_slice(&public);
    info.fingerprint = Some(id);
    info.public_key = Some(base64::engine::general_purpose::STANDARD.encode(blob));
    info
}

pub fn validate(matched: &[u8]) -> Option<KeyInfo> {
    let raw = last_line_base64(matched)?;
    if raw.len() != LEN || &raw[..2] != b"Ed" || &raw[4..6] != b"B2" {
        return None;
    }
    let encrypted = match &raw[2..4] {
        b"Sc" => true,
        [0, 0] => false,
        _ => return None,
    };
    if encrypted {
        return Some(KeyInfo::new(Status::Encrypted, NAME, "Ed25519"));
    }
    Some(in_clear(&raw))
}

/// A key in clear (KDF "\0\0", or opened): checksum and halves checked.
fn in_clear(raw: &[u8]) -> KeyInfo {
    let (key_id, secret, checksum) = (&raw[54..62], &raw[62..126], &raw[126..158]);
    let mut h = blake2::Blake2b::<U32>::new();
    h.update(&raw[..2]);
    h.update(key_id);
    h.update(secret);
    // minisign 0.11 leaves the checksum of a key in clear zero.
    let sum_ok = h.finalize().as_slice() == checksum || checksum.iter().all(|&b| b == 0);
    ed25519_in_clear(NAME, sum_ok, key_id, secret, key_id_hex(key_id))
}

/// scrypt memory (128·N·r bytes) beyond which a key is not tried:
/// minisign's own default, 1 GiB (N = 2²⁰, r = 8).
const MAX_SCRYPT_MEMORY: u64 = 1 << 30;
/// Held during a try: minisign's scrypt memory is never taken twice at once.
static SCRYPT: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// scrypt N·r·p blocks a microsecond (one core, release build, about 3 s
/// for minisign's defaults).
const SCRYPT_BLOCKS_PER_MICRO: u64 = 3;

/// libsodium's `pickparams` for scrypt: (log2 N, r, p) from the key's
/// opslimit and memlimit, as minisign derives them.
fn scrypt_params(opslimit: u64, memlimit: u64) -> (u8, u32, u32) {
    let ops = opslimit.max(32_768);
    let r = 8u64;
    let log_n = |max_n: u64| (1..63u8).find(|&l| (1u64 << l) > max_n / 2).unwrap_or(63);
    if ops < memlimit / 32 {
        (log_n(ops / (r * 4)), 8, 1)
    } else {
        let l = log_n(memlimit / (r * 128));
        let max_rp = ((ops / 4) >> l).min(0x3fff_ffff);
        (l, 8, (max_rp / r) as u32)
    }
}

fn lock(c: &Candidate) -> Result<Lock, &'static str> {
    let raw = last_line_base64(&c.bytes).ok_or(super::NO_CHECK)?;
    if raw.len() != LEN || &raw[..6] != b"EdScB2" {
        return Err(super::NO_CHECK);
    }
    let le = |r: &[u8]| u64::from_le_bytes(r.try_into().unwrap_or_default());
    let (log_n, r, p) = scrypt_params(le(&raw[38..46]), le(&raw[46..54]));
    let blocks = (1u64 << log_n.min(62)).saturating_mul(u64::from(r));
    if log_n >= 40 || p == 0 || p > 16 || blocks.saturating_mul(128) > MAX_SCRYPT_MEMORY {
        return Err(super::TOO_COSTLY);
    }
    let params = scrypt::Params::new(log_n, r, p).map_err(|_| super::TOO_COSTLY)?;
    let cost = blocks.saturating_mul(u64::from(p)) / SCRYPT_BLOCKS_PER_MICRO;
    Ok(Lock::new(cost, move |pw| {
        let mut stream = [0u8; 104];
        // One try at a time, whatever the threads: each may take 1 GiB.
        let _one = SCRYPT.lock().unwrap_or_else(|e| e.into_inner());
        scrypt::scrypt(pw, &raw[6..38], &params, &mut stream).ok()?;
        let mut clear = raw.clone();
        clear[2..4].copy_from_slice(&[0, 0]);
        for (b, s) in clear[54..].iter_mut().zip(stream) {
            *b ^= s;
        }
        let info = in_clear(&clear);
        (info.status == Status::Valid).then_some(info)
    }))
}

/// As minisign prints a key id: the little-endian number in hex, without
/// leading zeros.
fn key_id_hex(key_id: &[u8]) -> String {
    let id: [u8; 8] = key_id.try_into().unwrap_or_default();
    format!("{:X}", u64::from_le_bytes(id))
}

#[cfg(test)]
mod tests {
    #[test]
    fn key_ids_are_printed_as_minisign_prints_them() {
        let id = [0xA3, 0xF7, 0x25, 0x4C, 0x2B, 0x91, 0x9A, 0x05];
        assert_eq!(super::key_id_hex(&id), "59A912B4C25F7A3");
    }

    use super::*;

    #[test]
    fn odd_inputs_are_no_key() {
        assert!(validate(b"untrusted comment: x\nRWQAAEIy").is_none());
        assert!(validate(b"\xff").is_none());
        let mut raw = vec![0u8; LEN];
        raw[..6].copy_from_slice(b"EdXxB2");
        let line = base64::engine::general_purpose::STANDARD.encode(&raw);
        assert!(validate(format!("untrusted comment: x\n{line}").as_bytes()).is_none());
        raw[2..4].copy_from_slice(&[0, 0]);
        let line = base64::engine::general_purpose::STANDARD.encode(&raw);
        let info = validate(format!("untrusted comment: x\n{line}").as_bytes()).unwrap();
        assert_eq!(info.status, Status::Unverified);
    }
}
