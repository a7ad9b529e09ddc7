//! Java keystores: JKS (`0xFEEDFEED`) and JCEKS (`0xCECECECE`), as keytool
//! writes them (`*.jks`, `*.keystore`, Android's `release.keystore`).
//!
//! The structure is parsed in full; a store of trusted certificates only
//! holds no private key and is no finding. A store with private key
//! entries is `encrypted`, each entry named by the aliases and its first
//! certificate;
//! a weak store password verifies the trailing digest
//! (SHA-1 of the password in UTF-16BE, "Mighty Aphrodite" and the data) and
//! opens the private key entries to PKCS#8 keys, one finding each. JCEKS
//! secret-key entries (serialized `SealedObject`s) are stepped over.

use super::asn1::tlv;
use super::fingerprint::{self, bits};
use super::javaser;
use super::{der, oids, part_of, parts, pbe, Format, Lock};
use crate::rules::Validator;
use crate::scan::finding::{KeyInfo, Status};
use ::der::asn1::ObjectIdentifier as Oid;
use sha1::{Digest, Sha1};

const JKS_MAGIC: u32 = 0xFEED_FEED;
const JCEKS_MAGIC: u32 = 0xCECE_CECE;
/// Sun's proprietary key protection (JKS).
const SUN_JKS_PROTECT: Oid = Oid::new_unwrap("1.3.6.1.4.1.42.2.17.1.1");
/// PBEWithMD5AndTripleDES (JCEKS).
const PBE_MD5_3DES: Oid = Oid::new_unwrap("1.3.6.1.4.1.42.2.19.1");
/// The store password of Android's debug keystore and of many a
/// `release.keystore`; `changeit` (Java's own) is on the common list.
const ANDROID: &[u8] = b"android";
/// More entries than any real store holds: a hostile count is refused.
const MAX_ENTRIES: u32 = 10_000;
/// PBEWithMD5AndTripleDES iterations worth trying (keytool writes 200000
/// at most).
const MAX_ITERATIONS: u64 = 1_000_000;

pub const FORMAT: Format = Format {
    validator: Validator::Jks,
    validate: |c| validate(&c.bytes),
    lock: |c| lock(&c.bytes),
    redact: |c, _, _| {
        format!(
            "<{} bytes of Java keystore, redacted>",
            part_of(&c.bytes).0.len()
        )
    },
    placeholders: false,
};

/// A private key entry: its alias, its protected key and first certificate.
struct KeyEntry {
    alias: String,
    protected: Vec<u8>,
    cert: Option<Vec<u8>>,
}

/// What the structure holds.
struct Store {
    name: &'static str,
    keys: Vec<KeyEntry>,
    /// JCEKS secret (symmetric) key entries (serialized Java objects).
    secrets: Vec<String>,
    /// The bytes the digest covers, and the digest.
    data_len: usize,
}

pub(crate) struct Reader<'a> {
    pub(crate) data: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let out = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(out)
    }
    pub(crate) fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
    pub(crate) fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// Java's `writeUTF`: a 2-byte length and modified UTF-8.
    pub(crate) fn utf(&mut self) -> Option<String> {
        let n = self.u16()? as usize;
        Some(String::from_utf8_lossy(self.take(n)?).into_owned())
    }
    pub(crate) fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
}

fn parse(data: &[u8]) -> Option<Store> {
    let mut r = Reader { data, pos: 0 };
    let name = match r.u32()? {
        JKS_MAGIC => "JKS",
        JCEKS_MAGIC => "JCEKS",
        _ => return None,
    };
    let version = r.u32()?;
    if version != 1 && version != 2 {
        return None;
    }
    let count = r.u32()?;
    if count > MAX_ENTRIES {
        return None;
    }
    let mut store = Store {
        name,
        keys: Vec::new(),
        secrets: Vec::new(),
        data_len: 0,
    };
    for _ in 0..count {
        let tag = r.u32()?;
        let alias = r.utf()?;
        r.take(8)?; // creation date
        match tag {
            1 => {
                let protected = r.bytes()?.to_vec();
                let certs = r.u32()?;
                if certs > MAX_ENTRIES {
                    return None;
                }
                let mut cert = None;
                for _ in 0..certs {
                    cert = cert.or(Some(certificate(&mut r, version)?.to_vec()));
                }
                store.keys.push(KeyEntry {
                    alias,
                    protected,
                    cert,
                });
            }
            2 => {
                certificate(&mut r, version)?;
            }
            3 if name == "JCEKS" => {
                javaser::skip_stream(&mut r)?;
                store.secrets.push(alias);
            }
            _ => return None,
        }
    }
    // The 20-byte digest ends the file exactly.
    store.data_len = (data.len().checked_sub(r.pos)? == 20).then_some(r.pos)?;
    Some(store)
}

fn certificate<'a>(r: &mut Reader<'a>, version: u32) -> Option<&'a [u8]> {
    if version == 2 {
        r.utf()?; // "X.509"
    }
    r.bytes()
}

/// The store's private key entries after the first, a candidate each.
pub fn more_entries(data: &[u8]) -> Vec<Vec<u8>> {
    let Some(store) = parse(data) else {
        return Vec::new();
    };
    parts(data, store.keys.len())
}

/// A keystore with a private or secret key: `encrypted`, or `None`.
pub fn validate(data: &[u8]) -> Option<KeyInfo> {
    let (data, n) = part_of(data);
    let store = parse(data)?;
    let first = store.keys.get(n);
    if first.is_none() && (n > 0 || store.secrets.is_empty()) {
        return None;
    }
    let mut info = KeyInfo::new(Status::Encrypted, store.name, "unknown");
    let mut note = Vec::new();
    let aliases: Vec<&str> = (store.keys.iter().map(|k| k.alias.as_str()))
        .chain(store.secrets.iter().map(String::as_str))
        .collect();
    note.push(format!("aliases: {}", aliases.join(", ")));
    if let Some(first) = first {
        if store.keys.len() > 1 {
            note.push(format!("entry {}", first.alias));
        }
        if let Some(alg) = protection(&first.protected) {
            note.push(format!("key protected with {alg}"));
        }
        if let Some(cert) = &first.cert {
            describe_certificate(&mut info, &mut note, cert);
        }
    } else {
        info.key_type = "secret key".into();
    }
    info.note = Some(note.join("; "));
    Some(info)
}

/// The protection algorithm of an EncryptedPrivateKeyInfo, by name.
fn protection(der: &[u8]) -> Option<&'static str> {
    let (oid, _, _) = protected_parts(der)?;
    if oid == SUN_JKS_PROTECT {
        Some("JKS key protection (SHA-1)")
    } else if oid == PBE_MD5_3DES {
        Some("PBEWithMD5AndTripleDES")
    } else {
        None
    }
}

/// EncryptedPrivateKeyInfo: (algorithm OID, its parameters, ciphertext).
fn protected_parts(der: &[u8]) -> Option<(Oid, &[u8], &[u8])> {
    let (0x30, body, _) = tlv(der)? else {
        return None;
    };
    let (0x30, alg, rest) = tlv(body)? else {
        return None;
    };
    let (0x06, oid, params) = tlv(alg)? else {
        return None;
    };
    let (0x04, data, _) = tlv(rest)? else {
        return None;
    };
    Some((Oid::from_bytes(oid).ok()?, params, data))
}

/// Key type, fingerprints and subject from the entry's first certificate:
/// its public key is the private key's public half.
pub(super) fn describe_certificate(info: &mut KeyInfo, note: &mut Vec<String>, cert: &[u8]) {
    let Some((subject, spki)) = certificate_parts(cert) else {
        return;
    };
    if let Some(cn) = common_name(subject) {
        note.push(format!("certificate subject CN={cn}"));
    }
    let Some((0x30, spki, _)) = tlv(spki) else {
        return;
    };
    let Some((0x30, alg, rest)) = tlv(spki) else {
        return;
    };
    let (Some((0x06, oid, params)), Some((0x03, bits_str, _))) = (tlv(alg), tlv(rest)) else {
        return;
    };
    let (Ok(oid), Some(public)) = (Oid::from_bytes(oid), bits_str.get(1..)) else {
        return;
    };
    if oid == oids::RSA {
        let Some((0x30, seq, _)) = tlv(public) else {
            return;
        };
        if let Some((0x02, n, rest)) = tlv(seq) {
            if let Some((0x02, e, _)) = tlv(rest) {
                info.key_type = format!("RSA {}", bits(n));
                if let Some(k) = fingerprint::rsa_key(n, e) {
                    fingerprint::fill_ssh(info, &k);
                }
            }
        }
    } else if oid == oids::EC {
        let curve = match tlv(params) {
            Some((0x06, c, _)) => Oid::from_bytes(c).ok().and_then(|c| oids::curve(&c)),
            _ => None,
        };
        info.key_type = format!("ECDSA {}", curve.map_or("unknown curve", |c| c.0));
        if let Some(k) = fingerprint::ecdsa_key(public) {
            fingerprint::fill_ssh(info, &k);
        }
    } else if let Some(alg) = oids::key_algorithm(&oid) {
        info.key_type = alg.name.into();
    }
}

/// An X.509 certificate's subject Name and SubjectPublicKeyInfo (DER).
fn certificate_parts(cert: &[u8]) -> Option<(&[u8], &[u8])> {
    let (0x30, body, _) = tlv(cert)? else {
        return None;
    };
    let (0x30, mut tbs, _) = tlv(body)? else {
        return None;
    };
    if tbs.first() == Some(&0xa0) {
        tbs = tlv(tbs)?.2; // version
    }
    let mut fields = Vec::new();
    for _ in 0..6 {
        let (_, _, rest) = tlv(tbs)?;
        fields.push(&tbs[..tbs.len() - rest.len()]);
        tbs = rest;
    }
    // serial, signature, issuer, validity, subject, subjectPublicKeyInfo
    let subject = tlv(fields[4])?.1;
    Some((subject, fields[5]))
}

/// The first commonName (2.5.4.3) of a Name.
fn common_name(mut name: &[u8]) -> Option<String> {
    while let Some((0x31, set, rest)) = tlv(name) {
        if let Some((0x30, atv, _)) = tlv(set) {
            if let Some((0x06, [0x55, 0x04, 0x03], value)) = tlv(atv) {
                let (_, text, _) = tlv(value)?;
                let text: String = String::from_utf8_lossy(text).chars().take(80).collect();
                return Some(text);
            }
        }
        name = rest;
    }
    None
}

/// The store password, as the digest sees it: each char as two bytes.
fn utf16be(password: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(password)
        .encode_utf16()
        .flat_map(u16::to_be_bytes)
        .collect()
}

/// Whether `password` is the store password.
fn digest_matches(data: &[u8], data_len: usize, password: &[u8]) -> bool {
    let mut h = Sha1::new();
    h.update(utf16be(password));
    h.update(b"Mighty Aphrodite");
    h.update(&data[..data_len]);
    h.finalize().as_slice() == &data[data_len..data_len + 20]
}

/// A private key entry, ready for weak passwords. keytool gives a
/// key the store's password unless told otherwise, so one word serves both.
fn lock(data: &[u8]) -> Result<Lock, &'static str> {
    let unsupported = "no weak-passphrase check for this keystore";
    let (data, n) = part_of(data);
    let store = parse(data).ok_or(unsupported)?;
    let entry = store.keys.get(n).ok_or(unsupported)?;
    let (oid, params, _) = protected_parts(&entry.protected).ok_or(unsupported)?;
    let iterations = if oid == PBE_MD5_3DES {
        pbe_params(params).ok_or(unsupported)?.1
    } else if oid == SUN_JKS_PROTECT {
        1
    } else {
        return Err(unsupported);
    };
    if iterations > MAX_ITERATIONS {
        return Err(super::TOO_COSTLY);
    }
    let data = data.to_vec();
    let (name, data_len, protected) = (store.name, store.data_len, entry.protected.clone());
    // A try is SHA-1 over the file; the costly JCEKS key derivation runs
    // only for the password the digest confirms.
    let cost = 1 + data.len() as u64 / 300;
    let jcek = oid == PBE_MD5_3DES;
    Ok(Lock::new(cost, move |pw| {
        // Android's default rides along with the empty password, tried first.
        let pw = match pw {
            b"" if digest_matches(&data, data_len, ANDROID) => ANDROID,
            pw => pw,
        };
        let store_ok = digest_matches(&data, data_len, pw);
        if !store_ok && jcek {
            return None;
        }
        let plain = open_key(&protected, pw)?;
        let mut info = der::pkcs8(&plain).ok()?;
        info.format = name.into();
        if !store_ok {
            info.note = Some("key password weak, store password not".into());
        }
        Some(info)
    }))
}

/// The PKCS#8 PrivateKeyInfo inside a protected key, if `pw` opens it.
fn open_key(protected: &[u8], pw: &[u8]) -> Option<Vec<u8>> {
    let (oid, params, data) = protected_parts(protected)?;
    if oid == SUN_JKS_PROTECT {
        jks_unprotect(data, &utf16be(pw))
    } else if oid == PBE_MD5_3DES {
        let (salt, iterations) = pbe_params(params)?;
        // SunJCE's PBEKey keeps the low 7 bits of each char.
        let pw: Vec<u8> = String::from_utf8_lossy(pw)
            .chars()
            .map(|c| (c as u32 & 0x7f) as u8)
            .collect();
        let derived = md5_3des_key(salt, iterations, &pw);
        pbe::cbc_by_name("des-ede3-cbc", &derived[..24], &derived[24..], data)
    } else {
        None
    }
}

/// JKS key protection: salt (20) || key XOR SHA-1 keystream || check (20),
/// the check being SHA-1 of the password and the key in clear.
fn jks_unprotect(data: &[u8], pw: &[u8]) -> Option<Vec<u8>> {
    if data.len() < 41 {
        return None;
    }
    let (salt, rest) = data.split_at(20);
    let (enc, check) = rest.split_at(rest.len() - 20);
    let mut out = Vec::with_capacity(enc.len());
    let mut block = salt.to_vec();
    for chunk in enc.chunks(20) {
        block = Sha1::new()
            .chain_update(pw)
            .chain_update(&block)
            .finalize()
            .to_vec();
        out.extend(chunk.iter().zip(&block).map(|(c, k)| c ^ k));
    }
    let expect = Sha1::new().chain_update(pw).chain_update(&out).finalize();
    (expect.as_slice() == check).then_some(out)
}

/// PBEParameter: SEQUENCE { salt OCTET STRING (8), iterations INTEGER }.
fn pbe_params(params: &[u8]) -> Option<(&[u8], u64)> {
    let (0x30, seq, _) = tlv(params)? else {
        return None;
    };
    let (0x04, salt, rest) = tlv(seq)? else {
        return None;
    };
    let (0x02, n, _) = tlv(rest)? else {
        return None;
    };
    if salt.len() != 8 || n.len() > 4 {
        return None;
    }
    Some((salt, n.iter().fold(0u64, |a, b| (a << 8) | *b as u64)))
}

/// SunJCE's PBEWithMD5AndTripleDES: each salt half hashed with the password
/// `iterations` times gives 16 bytes; 24 of key, 8 of IV.
fn md5_3des_key(salt: &[u8], iterations: u64, pw: &[u8]) -> Vec<u8> {
    use md5::Md5;
    let mut out = Vec::with_capacity(32);
    for half in salt.chunks(4) {
        let mut h: [u8; 16] = Md5::new()
            .chain_update(half)
            .chain_update(pw)
            .finalize()
            .into();
        for _ in 1..iterations {
            let mut md = Md5::new();
            md.update(h);
            md.update(pw);
            h = md.finalize().into();
        }
        out.extend(h);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_and_random_stores_never_panic() {
        let mut seed = 7u32;
        for len in 0..300 {
            let mut data = JKS_MAGIC.to_be_bytes().to_vec();
            data.extend([0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1]);
            for _ in 0..len {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                data.push((seed >> 16) as u8);
            }
            let _ = validate(&data);
            let _ = lock(&data);
        }
    }

    #[test]
    fn a_truststore_is_no_finding() {
        // One trusted certificate entry, then the digest.
        let mut data = JKS_MAGIC.to_be_bytes().to_vec();
        data.extend([0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 2, b'c', b'a']);
        data.extend([0; 8]);
        data.extend([0, 5, b'X', b'.', b'5', b'0', b'9', 0, 0, 0, 2, 0x30, 0]);
        data.extend([0; 20]);
        assert!(parse(&data).is_some());
        assert!(validate(&data).is_none());
    }

    #[test]
    fn jks_protection_round_trips() {
        // Protect as JKS does and open again.
        let pw = utf16be(b"changeit");
        let key = b"0123456789abcdefghijklmnopqrstuvwxyz-key".to_vec();
        let salt = [9u8; 20];
        let mut enc = salt.to_vec();
        let mut block = salt.to_vec();
        for chunk in key.chunks(20) {
            block = Sha1::new()
                .chain_update(&pw)
                .chain_update(&block)
                .finalize()
                .to_vec();
            enc.extend(chunk.iter().zip(&block).map(|(c, k)| c ^ k));
        }
        enc.extend(Sha1::new().chain_update(&pw).chain_update(&key).finalize());
        assert_eq!(jks_unprotect(&enc, &pw), Some(key));
        assert_eq!(jks_unprotect(&enc, &utf16be(b"other")), None);
    }
}
