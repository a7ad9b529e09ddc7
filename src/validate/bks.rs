//! BouncyCastle keystores (BKS, versions 1 and 2), as keytool writes them
//! with the BouncyCastle provider (`-storetype BKS`, `BKS-V1`).
//!
//! BKS has no magic, so the reading is strict: the header (version, salt,
//! iteration count), then every entry up to the end marker, then the
//! 20-byte HMAC-SHA1 that ends the file exactly. Private key entries are
//! sealed (PBEWithSHAAnd3-KeyTripleDES-CBC) and carry their certificate
//! chain; a store of certificates only is no finding. A weak store password
//! verifies the HMAC (its key from the PKCS#12 KDF, id 3) and opens each
//! private key entry to its PKCS#8 key, one finding each. Sealed entries
//! without a chain (secret keys) and secret entries are listed by alias.
//!
//! UBER (`-storetype UBER`) has BKS's header and then the whole store
//! encrypted (PBEWithSHAAndTwofish-CBC): without its password nothing is
//! known but the shape, so it is one `encrypted` finding; a weak password
//! decrypts it, checks its SHA-1 digest and opens its first private key.

use super::jks::{describe_certificate, Reader};
use super::{der, part_of, parts, pbe, Format, Lock};
use crate::rules::Validator;
use crate::scan::finding::{KeyInfo, Status};
use hmac::{Hmac, KeyInit, Mac};
use sha1::{Digest, Sha1};

/// keytool writes 20 bytes of salt; more than this is not a BKS store.
const MAX_SALT: usize = 64;
/// BouncyCastle writes 1024..2047 iterations and refuses more than 65536.
const MAX_ITERATIONS: u32 = 1 << 16;
/// The entry types of the store.
const END: u8 = 0;
const CERTIFICATE: u8 = 1;
const KEY: u8 = 2;
const SECRET: u8 = 3;
const SEALED: u8 = 4;
/// The key type inside a KEY or sealed entry.
const KEY_PRIVATE: u8 = 0;
const KEY_SECRET: u8 = 2;
/// Android's default password (see jks.rs): tried with the empty one.
const ANDROID: &[u8] = b"android";
const PROTECTION: &str = "PBEWithSHAAnd3-KeyTripleDES-CBC";
/// The iteration counts BouncyCastle writes into an UBER store.
const UBER_ITERATIONS: std::ops::RangeInclusive<u32> = 1024..=2047;

pub const FORMAT: Format = Format {
    validator: Validator::Bks,
    validate: |c| validate(&c.bytes),
    lock: |c| lock(&c.bytes),
    redact: |c, _, _| {
        format!(
            "<{} bytes of BouncyCastle keystore, redacted>",
            part_of(&c.bytes).0.len()
        )
    },
    placeholders: false,
};

/// A private key entry's key: sealed under a password, or in clear
/// (an old KEY entry: the PKCS#8 bytes).
enum Body<'a> {
    Sealed {
        salt: &'a [u8],
        iterations: u32,
        data: &'a [u8],
    },
    Clear(&'a [u8]),
}

struct KeyEntry<'a> {
    alias: String,
    body: Body<'a>,
    cert: Option<&'a [u8]>,
}

struct Store<'a> {
    version: u32,
    salt: &'a [u8],
    iterations: u32,
    keys: Vec<KeyEntry<'a>>,
    /// Aliases of secret (symmetric) keys.
    secrets: Vec<String>,
    /// The entries, end marker included: what the HMAC covers.
    entries: &'a [u8],
    mac: &'a [u8],
}

impl<'a> Store<'a> {
    /// A store whose entries are still to be read.
    fn new(version: u32, salt: &'a [u8], iterations: u32) -> Self {
        Store {
            version,
            salt,
            iterations,
            keys: Vec::new(),
            secrets: Vec::new(),
            entries: &[],
            mac: &[],
        }
    }
}

fn parse(data: &[u8]) -> Option<Store<'_>> {
    let mut r = Reader { data, pos: 0 };
    let version = r.u32()?;
    if version != 1 && version != 2 {
        return None;
    }
    let salt_len = r.u32()? as usize;
    if !(1..=MAX_SALT).contains(&salt_len) {
        return None;
    }
    let salt = r.take(salt_len)?;
    let iterations = r.u32()?;
    if !(1..=MAX_ITERATIONS).contains(&iterations) {
        return None;
    }
    let start = r.pos;
    let mut store = Store::new(version, salt, iterations);
    while entry(&mut r, &mut store)? {}
    // The 20-byte HMAC ends the file exactly.
    store.entries = &data[start..r.pos];
    store.mac = r.take(20)?;
    (r.pos == data.len()).then_some(store)
}

/// Reads one entry into `store`: `Some(false)` at the end marker, `None`
/// when the bytes are no BKS entry.
fn entry<'a>(r: &mut Reader<'a>, store: &mut Store<'a>) -> Option<bool> {
    let kind = r.take(1)?[0];
    if kind == END {
        return Some(false);
    }
    let alias = r.utf()?;
    r.take(8)?; // creation date
    let chain = r.u32()?;
    let mut cert = None;
    for _ in 0..chain {
        // Each certificate takes at least 6 bytes: a hostile count runs out.
        cert = cert.or(Some(certificate(r)?));
    }
    match kind {
        CERTIFICATE => {
            certificate(r)?;
        }
        KEY => {
            let (key_type, enc) = encoded_key(r)?;
            if key_type == KEY_PRIVATE {
                let body = Body::Clear(enc);
                store.keys.push(KeyEntry { alias, body, cert });
            } else if key_type == KEY_SECRET {
                store.secrets.push(alias);
            }
        }
        SECRET => {
            r.bytes()?;
            store.secrets.push(alias);
        }
        SEALED => {
            let body = sealed(r.bytes()?)?;
            // A private key comes with its certificate chain; a secret
            // key without one.
            if cert.is_some() {
                store.keys.push(KeyEntry { alias, body, cert });
            } else {
                store.secrets.push(alias);
            }
        }
        _ => return None,
    }
    Some(true)
}

/// A certificate: its type ("X.509") and DER.
fn certificate<'a>(r: &mut Reader<'a>) -> Option<&'a [u8]> {
    r.utf()?;
    r.bytes()
}

/// An encoded key: key type, format ("PKCS#8"), algorithm, then the bytes.
fn encoded_key<'a>(r: &mut Reader<'a>) -> Option<(u8, &'a [u8])> {
    let key_type = r.take(1)?[0];
    r.utf()?;
    r.utf()?;
    Some((key_type, r.bytes()?))
}

/// A sealed entry: salt, iterations, then the encrypted encoded key.
fn sealed(body: &[u8]) -> Option<Body<'_>> {
    let mut r = Reader { data: body, pos: 0 };
    let salt_len = r.u32()? as usize;
    if !(1..=MAX_SALT).contains(&salt_len) {
        return None;
    }
    let salt = r.take(salt_len)?;
    let iterations = r.u32()?;
    let data = &body[r.pos..];
    if iterations == 0 || data.is_empty() || data.len() % 8 != 0 {
        return None;
    }
    Some(Body::Sealed {
        salt,
        iterations,
        data,
    })
}

/// The store's private key entries after the first, a candidate each.
pub fn more_entries(data: &[u8]) -> Vec<Vec<u8>> {
    let Some(store) = parse(data) else {
        return Vec::new();
    };
    parts(data, store.keys.len())
}

/// A keystore with a private or secret key: `encrypted` (or `valid` for a
/// key kept in clear), or `None`.
pub fn validate(data: &[u8]) -> Option<KeyInfo> {
    let (data, n) = part_of(data);
    let Some(store) = parse(data) else {
        uber(data)?;
        let mut info = KeyInfo::new(Status::Encrypted, "UBER", "unknown");
        info.note = Some(
            "BouncyCastle UBER keystore, encrypted whole (PBEWithSHAAndTwofish-CBC): \
             its entries are unknown without the store password"
                .into(),
        );
        return Some(info);
    };
    let first = store.keys.get(n);
    if first.is_none() && (n > 0 || store.secrets.is_empty()) {
        return None;
    }
    let aliases: Vec<&str> = (store.keys.iter().map(|k| k.alias.as_str()))
        .chain(store.secrets.iter().map(String::as_str))
        .collect();
    let mut note = vec![format!("aliases: {}", aliases.join(", "))];
    if let Some(KeyEntry {
        body: Body::Clear(pkcs8),
        ..
    }) = first
    {
        if let Ok(mut info) = der::pkcs8(pkcs8) {
            info.format = "BKS".into();
            note.push("key stored in clear".into());
            info.note = Some(note.join("; "));
            return Some(info);
        }
    }
    let mut info = KeyInfo::new(Status::Encrypted, "BKS", "unknown");
    if let Some(first) = first {
        if store.keys.len() > 1 {
            note.push(format!("entry {}", first.alias));
        }
        note.push(format!("key protected with {PROTECTION}"));
        if let Some(cert) = first.cert {
            describe_certificate(&mut info, &mut note, cert);
        }
    } else {
        info.key_type = "secret key".into();
    }
    info.note = Some(note.join("; "));
    Some(info)
}

/// The password as BouncyCastle feeds the PKCS#12 KDF: a NUL-terminated
/// BMPString, or nothing at all for the empty password.
fn password_bytes(pw: &[u8]) -> Vec<u8> {
    if pw.is_empty() {
        return Vec::new();
    }
    let mut bmp = pbe::bmp_string(pw);
    bmp.extend([0, 0]);
    bmp
}

/// The store's own integrity check, owned so it can outlive the blob.
struct Integrity {
    version: u32,
    salt: Vec<u8>,
    iterations: u32,
    entries: Vec<u8>,
    mac: Vec<u8>,
}

impl Integrity {
    /// Whether `pw` is the store password.
    fn matches(&self, pw: &[u8]) -> bool {
        // Version 1 asks for a 20-bit key and so gets 2 bytes.
        let len = if self.version == 2 { 20 } else { 2 };
        let key = pbe::pkcs12_kdf_bmp(&password_bytes(pw), &self.salt, 3, self.iterations, len);
        let Ok(mut mac) = <Hmac<Sha1> as KeyInit>::new_from_slice(&key) else {
            return false;
        };
        mac.update(&self.entries);
        mac.verify_slice(&self.mac).is_ok()
    }
}

/// A private key entry, ready for weak passwords. keytool gives a key the
/// store's password unless told otherwise: a password the HMAC confirms is
/// tried on the key, and only such a password (a try costs one KDF).
fn lock(data: &[u8]) -> Result<Lock, &'static str> {
    let unsupported = "no weak-passphrase check for this keystore";
    let (data, n) = part_of(data);
    let Some(store) = parse(data) else {
        return uber_lock(data).ok_or(unsupported);
    };
    let entry = store.keys.get(n).ok_or(unsupported)?;
    let Body::Sealed {
        salt,
        iterations,
        data: sealed,
    } = entry.body
    else {
        return Err(unsupported);
    };
    if iterations > MAX_ITERATIONS {
        return Err(super::TOO_COSTLY);
    }
    let integrity = Integrity {
        version: store.version,
        salt: store.salt.to_vec(),
        iterations: store.iterations,
        entries: store.entries.to_vec(),
        mac: store.mac.to_vec(),
    };
    let (salt, sealed) = (salt.to_vec(), sealed.to_vec());
    // The KDF does about 7 iterations a microsecond; the HMAC 300 bytes.
    let cost = 1 + store.iterations as u64 / 7 + integrity.entries.len() as u64 / 300;
    Ok(Lock::new(cost, move |pw| {
        // Android's default rides along with the empty password.
        let pw = match pw {
            b"" if integrity.matches(ANDROID) => ANDROID,
            pw if integrity.matches(pw) => pw,
            _ => return None,
        };
        let plain = unseal(&salt, iterations, &sealed, pw)?;
        let mut info = der::pkcs8(&plain).ok()?;
        info.format = "BKS".into();
        Some(info)
    }))
}

/// The PKCS#8 bytes of a sealed private key, if `pw` opens it.
fn unseal(salt: &[u8], iterations: u32, data: &[u8], pw: &[u8]) -> Option<Vec<u8>> {
    let pw = password_bytes(pw);
    let key = pbe::pkcs12_kdf_bmp(&pw, salt, 1, iterations, 24);
    let iv = pbe::pkcs12_kdf_bmp(&pw, salt, 2, iterations, 8);
    let plain = pbe::cbc_by_name("des-ede3-cbc", &key, &iv, data)?;
    let mut r = Reader {
        data: &plain,
        pos: 0,
    };
    let (key_type, enc) = encoded_key(&mut r)?;
    (key_type == KEY_PRIVATE && r.pos == plain.len()).then(|| enc.to_vec())
}

/// An UBER store: its salt, iterations and encrypted body.
struct Uber<'a> {
    salt: &'a [u8],
    iterations: u32,
    body: &'a [u8],
}

/// The shape of an UBER store: version 1, 20 bytes of salt, the iteration
/// count BouncyCastle writes, whole Twofish blocks.
fn uber(data: &[u8]) -> Option<Uber<'_>> {
    let mut r = Reader { data, pos: 0 };
    if r.u32()? != 1 || r.u32()? != 20 {
        return None;
    }
    let salt = r.take(20)?;
    let iterations = r.u32()?;
    let body = &data[r.pos..];
    let shaped = UBER_ITERATIONS.contains(&iterations) && body.len() >= 32 && body.len() % 16 == 0;
    shaped.then_some(Uber {
        salt,
        iterations,
        body,
    })
}

/// An UBER store, ready for weak passwords: a try derives the Twofish key
/// and decrypts the whole store.
fn uber_lock(data: &[u8]) -> Option<Lock> {
    let u = uber(data)?;
    let (salt, iterations, body) = (u.salt.to_vec(), u.iterations, u.body.to_vec());
    // Three KDF blocks (key and IV) at about 7 iterations a microsecond.
    let cost = 1 + 3 * iterations as u64 / 7 + body.len() as u64 / 100;
    Some(Lock::new(cost, move |pw| {
        let entries = uber_plain(&salt, iterations, &body, pw)?;
        uber_key(&entries, pw)
    }))
}

/// The store in clear (its entries), if `pw` decrypts it and its SHA-1
/// digest checks.
fn uber_plain(salt: &[u8], iterations: u32, body: &[u8], pw: &[u8]) -> Option<Vec<u8>> {
    let bytes = password_bytes(pw);
    let key = pbe::pkcs12_kdf_bmp(&bytes, salt, 1, iterations, 32);
    let iv = pbe::pkcs12_kdf_bmp(&bytes, salt, 2, iterations, 16);
    let plain = pbe::cbc::<twofish::Twofish>(&key, &iv, body)?;
    let mut r = Reader {
        data: &plain,
        pos: 0,
    };
    let mut store = Store::new(1, salt, iterations);
    while entry(&mut r, &mut store)? {}
    let (entries, digest) = plain.split_at(r.pos);
    (digest == Sha1::digest(entries).as_slice()).then(|| entries.to_vec())
}

/// The first private key of an opened UBER store's entries.
fn uber_key(entries: &[u8], pw: &[u8]) -> Option<KeyInfo> {
    let mut r = Reader {
        data: entries,
        pos: 0,
    };
    let mut store = Store {
        version: 1,
        salt: &[],
        iterations: 0,
        keys: Vec::new(),
        secrets: Vec::new(),
        entries: &[],
        mac: &[],
    };
    while entry(&mut r, &mut store)? {}
    let first = store.keys.first()?;
    let plain = match first.body {
        Body::Clear(pkcs8) => pkcs8.to_vec(),
        Body::Sealed {
            salt,
            iterations,
            data,
        } => unseal(salt, iterations, data, pw)?,
    };
    let mut info = der::pkcs8(&plain).ok()?;
    info.format = "UBER".into();
    Some(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store of `entries` (end marker included) under `pw`, version 2.
    fn store(entries: &[u8], pw: &[u8]) -> Vec<u8> {
        let salt = [7u8; 20];
        let mut data = [2u32, 20].map(u32::to_be_bytes).concat();
        data.extend(salt);
        data.extend(1024u32.to_be_bytes());
        data.extend(entries);
        let key = pbe::pkcs12_kdf_bmp(&password_bytes(pw), &salt, 3, 1024, 20);
        let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(&key).unwrap();
        mac.update(entries);
        data.extend(mac.finalize().into_bytes());
        data
    }

    /// A trusted certificate entry named `ca`.
    fn cert_entry() -> Vec<u8> {
        let mut e = vec![CERTIFICATE, 0, 2, b'c', b'a'];
        e.extend([0; 8]);
        e.extend([0, 0, 0, 0]); // no chain
        e.extend([0, 5, b'X', b'.', b'5', b'0', b'9', 0, 0, 0, 2, 0x30, 0]);
        e
    }

    #[test]
    fn truncated_and_random_stores_never_panic() {
        let mut seed = 11u32;
        let mut next = || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (seed >> 16) as u8
        };
        let good = store(&[cert_entry(), vec![END]].concat(), b"changeit");
        for cut in 0..good.len() {
            assert!(parse(&good[..cut]).is_none());
            let _ = validate(&good[..cut]);
        }
        for len in 0..400 {
            let mut data = good[..32].to_vec();
            data.extend((0..len).map(|_| next()));
            let _ = validate(&data);
            let _ = lock(&data);
            // Hostile counts and lengths right after a valid header.
            let mut data = good[..32].to_vec();
            data.extend([
                SEALED, 0, 1, b'k', 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
            ]);
            data.extend((0..len).map(|_| next()));
            let _ = validate(&data);
            let _ = lock(&data);
        }
    }

    #[test]
    fn uber_shaped_noise_is_encrypted_and_opens_with_nothing() {
        let mut data = [1u32, 20].map(u32::to_be_bytes).concat();
        data.extend([3; 20]);
        data.extend(1500u32.to_be_bytes());
        data.extend((0..64u8).map(|b| b.wrapping_mul(37)));
        let info = validate(&data).unwrap();
        assert_eq!(
            (info.status, info.format.as_str()),
            (Status::Encrypted, "UBER")
        );
        let lock = lock(&data).ok().unwrap();
        assert!((lock.open)(b"changeit").is_none());
        // Not whole blocks, or an iteration count BouncyCastle never writes.
        assert!(validate(&data[..data.len() - 1]).is_none());
        data[28..32].copy_from_slice(&5000u32.to_be_bytes());
        assert!(validate(&data).is_none());
    }

    #[test]
    fn a_truststore_is_no_finding_and_its_mac_checks() {
        let data = store(&[cert_entry(), vec![END]].concat(), b"changeit");
        let parsed = parse(&data).unwrap();
        assert!(validate(&data).is_none());
        let integrity = Integrity {
            version: 2,
            salt: parsed.salt.to_vec(),
            iterations: parsed.iterations,
            entries: parsed.entries.to_vec(),
            mac: parsed.mac.to_vec(),
        };
        assert!(integrity.matches(b"changeit"));
        assert!(!integrity.matches(b"changeme"));
        // One byte more or less after the HMAC: no store.
        assert!(parse(&[&data[..], &[0]].concat()).is_none());
        assert!(parse(&data[..data.len() - 1]).is_none());
    }

    #[test]
    fn a_sealed_secret_key_is_listed_by_alias() {
        let mut e = vec![SEALED, 0, 3, b'a', b'e', b's'];
        e.extend([0; 8]);
        e.extend([0, 0, 0, 0]); // no chain: a secret key
        let body = [&[0, 0, 0, 1, 9, 0, 0, 4, 0][..], &[0xaa; 16]].concat();
        e.extend((body.len() as u32).to_be_bytes());
        e.extend(body);
        let data = store(&[e, cert_entry(), vec![END]].concat(), b"x");
        let info = validate(&data).unwrap();
        assert_eq!(info.status, Status::Encrypted);
        assert_eq!(info.key_type, "secret key");
        assert_eq!(info.note.as_deref(), Some("aliases: aes"));
        assert!(more_entries(&data).is_empty());
    }
}
