//! Password-based encryption of PKCS#8 keys: PBES2 (PBKDF2 or scrypt, any
//! cipher OpenSSL writes), PBES1 and the PKCS#12 PBE schemes. Parsing tells
//! `encrypted` (a tool could decrypt it) from `unverified` (an OID no tool
//! knows); `decrypt` lets the weak-passphrase check open the ones it can.

use super::asn1::tlv;
use der::asn1::ObjectIdentifier as Oid;

const PBES2: Oid = Oid::new_unwrap("1.2.840.113549.1.5.13");
const PBKDF2: Oid = Oid::new_unwrap("1.2.840.113549.1.5.12");
const SCRYPT: Oid = Oid::new_unwrap("1.3.6.1.4.1.11591.4.11");

/// The pseudo-random function of PBKDF2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prf {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    Sha512_224,
    Sha512_256,
    /// Known to OpenSSL, not computed here (MD5, SHA-3, SM3, GOST).
    Other(&'static str),
}

const PRFS: &[(&str, Prf)] = &[
    ("1.2.840.113549.2.6", Prf::Other("hmacWithMD5")),
    ("1.2.840.113549.2.7", Prf::Sha1),
    ("1.2.840.113549.2.8", Prf::Sha224),
    ("1.2.840.113549.2.9", Prf::Sha256),
    ("1.2.840.113549.2.10", Prf::Sha384),
    ("1.2.840.113549.2.11", Prf::Sha512),
    ("1.2.840.113549.2.12", Prf::Sha512_224),
    ("1.2.840.113549.2.13", Prf::Sha512_256),
    ("2.16.840.1.101.3.4.2.13", Prf::Other("hmacWithSHA3-224")),
    ("2.16.840.1.101.3.4.2.14", Prf::Other("hmacWithSHA3-256")),
    ("2.16.840.1.101.3.4.2.15", Prf::Other("hmacWithSHA3-384")),
    ("2.16.840.1.101.3.4.2.16", Prf::Other("hmacWithSHA3-512")),
    ("1.2.156.10197.1.401.3.1", Prf::Other("hmacWithSM3")),
    ("1.2.643.2.2.10", Prf::Other("HMAC GOST 34.11-94")),
    ("1.2.643.7.1.1.4.1", Prf::Other("HMAC GOST 34.11-2012 256")),
    ("1.2.643.7.1.1.4.2", Prf::Other("HMAC GOST 34.11-2012 512")),
];

impl Prf {
    pub fn name(self) -> &'static str {
        match self {
            Prf::Sha1 => "hmacWithSHA1",
            Prf::Sha224 => "hmacWithSHA224",
            Prf::Sha256 => "hmacWithSHA256",
            Prf::Sha384 => "hmacWithSHA384",
            Prf::Sha512 => "hmacWithSHA512",
            Prf::Sha512_224 => "hmacWithSHA512-224",
            Prf::Sha512_256 => "hmacWithSHA512-256",
            Prf::Other(name) => name,
        }
    }
}

/// A PBES2 encryption scheme: its name, key length and IV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cipher {
    pub name: String,
    pub key_len: usize,
    pub iv: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kdf {
    Pbkdf2 {
        salt: Vec<u8>,
        iterations: u32,
        prf: Prf,
    },
    Scrypt {
        salt: Vec<u8>,
        n: u64,
        r: u32,
        p: u32,
    },
}

/// PBES1 and PKCS#12 PBE: one OID names digest and cipher together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Legacy {
    Pbes1 {
        name: &'static str,
        md5: bool,
        des: bool,
    },
    Pkcs12 {
        name: &'static str,
        cipher: Pkcs12Cipher,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pkcs12Cipher {
    Rc4(usize),
    TripleDes(usize),
    Rc2(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scheme {
    Pbes2 {
        kdf: Kdf,
        cipher: Cipher,
    },
    Legacy {
        kind: Legacy,
        salt: Vec<u8>,
        iterations: u32,
    },
}

impl Scheme {
    /// For the note: what a tool needs to open it.
    pub fn describe(&self) -> String {
        match self {
            Scheme::Pbes2 { kdf, cipher } => match kdf {
                Kdf::Pbkdf2 { prf, .. } => {
                    format!("PBES2 (PBKDF2 {}, {})", prf.name(), cipher.name)
                }
                Kdf::Scrypt { .. } => format!("PBES2 (scrypt, {})", cipher.name),
            },
            Scheme::Legacy { kind, .. } => match kind {
                Legacy::Pbes1 { name, .. } | Legacy::Pkcs12 { name, .. } => name.to_string(),
            },
        }
    }
}

const LEGACY: &[(&str, Legacy)] = &[
    (
        "1.2.840.113549.1.5.1",
        Legacy::Pbes1 {
            name: "pbeWithMD2AndDES-CBC",
            md5: false,
            des: true,
        },
    ),
    (
        "1.2.840.113549.1.5.4",
        Legacy::Pbes1 {
            name: "pbeWithMD2AndRC2-CBC",
            md5: false,
            des: false,
        },
    ),
    (
        "1.2.840.113549.1.5.3",
        Legacy::Pbes1 {
            name: "pbeWithMD5AndDES-CBC",
            md5: true,
            des: true,
        },
    ),
    (
        "1.2.840.113549.1.5.6",
        Legacy::Pbes1 {
            name: "pbeWithMD5AndRC2-CBC",
            md5: true,
            des: false,
        },
    ),
    (
        "1.2.840.113549.1.5.10",
        Legacy::Pbes1 {
            name: "pbeWithSHA1AndDES-CBC",
            md5: false,
            des: true,
        },
    ),
    (
        "1.2.840.113549.1.5.11",
        Legacy::Pbes1 {
            name: "pbeWithSHA1AndRC2-CBC",
            md5: false,
            des: false,
        },
    ),
    (
        "1.2.840.113549.1.12.1.1",
        Legacy::Pkcs12 {
            name: "pbeWithSHAAnd128BitRC4",
            cipher: Pkcs12Cipher::Rc4(16),
        },
    ),
    (
        "1.2.840.113549.1.12.1.2",
        Legacy::Pkcs12 {
            name: "pbeWithSHAAnd40BitRC4",
            cipher: Pkcs12Cipher::Rc4(5),
        },
    ),
    (
        "1.2.840.113549.1.12.1.3",
        Legacy::Pkcs12 {
            name: "pbeWithSHAAnd3-KeyTripleDES-CBC",
            cipher: Pkcs12Cipher::TripleDes(24),
        },
    ),
    (
        "1.2.840.113549.1.12.1.4",
        Legacy::Pkcs12 {
            name: "pbeWithSHAAnd2-KeyTripleDES-CBC",
            cipher: Pkcs12Cipher::TripleDes(16),
        },
    ),
    (
        "1.2.840.113549.1.12.1.5",
        Legacy::Pkcs12 {
            name: "pbeWithSHAAnd128BitRC2-CBC",
            cipher: Pkcs12Cipher::Rc2(16),
        },
    ),
    (
        "1.2.840.113549.1.12.1.6",
        Legacy::Pkcs12 {
            name: "pbewithSHAAnd40BitRC2-CBC",
            cipher: Pkcs12Cipher::Rc2(5),
        },
    ),
];

/// Why a structure is not a usable encrypted key.
#[derive(Debug, PartialEq, Eq)]
pub enum Rejected {
    /// Not password-based encryption at all (a DigestInfo, say): not a key.
    NotPbe,
    /// Password-based encryption, but with parts no tool knows.
    Unknown(String),
}

fn oid_of(bytes: &[u8]) -> Result<Oid, Rejected> {
    Oid::from_bytes(bytes).map_err(|_| Rejected::NotPbe)
}

fn uint(bytes: &[u8]) -> Option<u64> {
    let bytes = match bytes {
        [0, rest @ ..] => rest,
        b => b,
    };
    (bytes.len() <= 8 && !bytes.is_empty())
        .then(|| bytes.iter().fold(0u64, |a, b| (a << 8) | *b as u64))
}

/// The scheme of an EncryptedPrivateKeyInfo's AlgorithmIdentifier:
/// `oid` and `params` are the DER contents of its two fields.
pub fn parse(oid: &[u8], params: &[u8]) -> Result<Scheme, Rejected> {
    let oid = oid_of(oid)?;
    let arc = oid.to_string();
    if !(arc.starts_with("1.2.840.113549.1.5.") || arc.starts_with("1.2.840.113549.1.12.1.")) {
        return Err(Rejected::NotPbe);
    }
    let unknown = |what: String| Err(Rejected::Unknown(what));
    let malformed = || Rejected::Unknown("encryption parameters do not parse".into());
    if let Some((_, kind)) = LEGACY.iter().find(|(o, _)| *o == arc) {
        let Some((0x30, seq, [])) = tlv(params) else {
            return Err(malformed());
        };
        let Some((0x04, salt, rest)) = tlv(seq) else {
            return Err(malformed());
        };
        let Some((0x02, iter, _)) = tlv(rest) else {
            return Err(malformed());
        };
        let iterations = uint(iter).and_then(|i| u32::try_from(i).ok());
        return Ok(Scheme::Legacy {
            kind: *kind,
            salt: salt.to_vec(),
            iterations: iterations.ok_or_else(malformed)?,
        });
    }
    if oid != PBES2 {
        return unknown(format!("unknown password-based encryption scheme {oid}"));
    }
    // PBES2-params: SEQUENCE { keyDerivationFunc, encryptionScheme }
    let Some((0x30, seq, [])) = tlv(params) else {
        return Err(malformed());
    };
    let Some((0x30, kdf_alg, rest)) = tlv(seq) else {
        return Err(malformed());
    };
    let Some((0x30, enc_alg, [])) = tlv(rest) else {
        return Err(malformed());
    };
    let kdf = kdf(kdf_alg)?;
    let cipher = cipher(enc_alg)?;
    Ok(Scheme::Pbes2 { kdf, cipher })
}

fn kdf(alg: &[u8]) -> Result<Kdf, Rejected> {
    let malformed = || Rejected::Unknown("key derivation parameters do not parse".into());
    let Some((0x06, oid, rest)) = tlv(alg) else {
        return Err(malformed());
    };
    let oid = oid_of(oid).map_err(|_| malformed())?;
    let Some((0x30, params, [])) = tlv(rest) else {
        return Err(malformed());
    };
    let Some((0x04, salt, mut rest)) = tlv(params) else {
        return Err(malformed());
    };
    let mut ints = Vec::new();
    let mut prf = Prf::Sha1;
    while let Some((tag, value, after)) = tlv(rest) {
        match tag {
            0x02 => ints.push(uint(value).ok_or_else(malformed)?),
            0x30 if oid == PBKDF2 => {
                let Some((0x06, prf_oid, _)) = tlv(value) else {
                    return Err(malformed());
                };
                let prf_oid = oid_of(prf_oid).map_err(|_| malformed())?.to_string();
                prf = match PRFS.iter().find(|(o, _)| *o == prf_oid) {
                    Some((_, prf)) => *prf,
                    None => return Err(Rejected::Unknown(format!("unknown PBKDF2 PRF {prf_oid}"))),
                };
            }
            _ => return Err(malformed()),
        }
        rest = after;
    }
    let salt = salt.to_vec();
    if oid == PBKDF2 {
        let iterations = ints.first().and_then(|i| u32::try_from(*i).ok());
        let iterations = iterations.filter(|i| *i > 0).ok_or_else(malformed)?;
        Ok(Kdf::Pbkdf2 {
            salt,
            iterations,
            prf,
        })
    } else if oid == SCRYPT {
        let [n, r, p, ..] = ints[..] else {
            return Err(malformed());
        };
        let (r, p) = (u32::try_from(r), u32::try_from(p));
        match (r, p) {
            (Ok(r), Ok(p)) if n > 1 && n.is_power_of_two() => Ok(Kdf::Scrypt { salt, n, r, p }),
            _ => Err(malformed()),
        }
    } else {
        Err(Rejected::Unknown(format!(
            "unknown key derivation function {oid}"
        )))
    }
}

/// The cipher of PBES2: every one OpenSSL can write.
fn cipher(alg: &[u8]) -> Result<Cipher, Rejected> {
    let malformed = || Rejected::Unknown("cipher parameters do not parse".into());
    let Some((0x06, oid_bytes, params)) = tlv(alg) else {
        return Err(malformed());
    };
    let oid = oid_of(oid_bytes).map_err(|_| malformed())?;
    let Some((name, key_len)) = cipher_name(&oid) else {
        return Err(Rejected::Unknown(format!("unknown cipher {oid}")));
    };
    // The IV is an OCTET STRING, or the first field of a SEQUENCE (RC2, GCM).
    let iv = match tlv(params) {
        Some((0x04, iv, _)) => iv.to_vec(),
        Some((0x30, seq, _)) => match tlv(seq) {
            Some((0x04, iv, _)) => iv.to_vec(),
            Some((0x02, _, rest)) => match tlv(rest) {
                Some((0x04, iv, _)) => iv.to_vec(),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    Ok(Cipher { name, key_len, iv })
}

/// A PBES2 cipher's name and key length (0: set by the parameters).
fn cipher_name(oid: &Oid) -> Option<(String, usize)> {
    let arc = oid.to_string();
    let last = |prefix: &str| -> Option<u32> { arc.strip_prefix(prefix)?.parse().ok() };
    if let Some(n) = last("2.16.840.1.101.3.4.1.") {
        let bits = [128, 192, 256].get((n / 20) as usize)?;
        let mode = ["ecb", "cbc", "ofb", "cfb", "wrap", "gcm", "ccm", "wrap-pad"]
            .get((n % 20).checked_sub(1)? as usize)?;
        return Some((format!("aes-{bits}-{mode}"), bits / 8));
    }
    if let Some(n) = last("1.2.392.200011.61.1.1.1.") {
        let bits = [128, 192, 256].get(n.checked_sub(2)? as usize)?;
        return Some((format!("camellia-{bits}-cbc"), bits / 8));
    }
    let families = [
        ("0.3.4401.5.3.1.9.", "camellia", 1..=49),
        ("1.2.410.200046.1.1.", "aria", 1..=39),
        ("1.2.156.10197.1.104.", "sm4", 1..=10),
    ];
    for (prefix, name, range) in families {
        if last(prefix).is_some_and(|n| range.contains(&n)) {
            return Some((name.to_string(), 0));
        }
    }
    let fixed = [
        ("1.3.14.3.2.7", "des-cbc", 8),
        ("1.2.840.113549.3.7", "des-ede3-cbc", 24),
        ("1.2.840.113549.3.2", "rc2-cbc", 0),
        ("1.2.840.113549.3.8", "rc5-cbc", 0),
        ("1.3.6.1.4.1.3029.1.2", "bf-cbc", 16),
        ("1.2.840.113533.7.66.10", "cast5-cbc", 16),
        ("1.3.6.1.4.1.188.7.1.1.2", "idea-cbc", 16),
        ("1.2.410.200004.1.4", "seed-cbc", 16),
        ("1.2.643.2.2.21", "gost89", 32),
        ("1.2.643.7.1.1.5.1.1", "magma-ctr-acpkm", 32),
        ("1.2.643.7.1.1.5.1.2", "magma-ctr-acpkm-omac", 32),
        ("1.2.643.7.1.1.5.2.1", "kuznyechik-ctr-acpkm", 32),
        ("1.2.643.7.1.1.5.2.2", "kuznyechik-ctr-acpkm-omac", 32),
    ];
    fixed
        .iter()
        .find(|(o, _, _)| *o == arc)
        .map(|(_, name, len)| (name.to_string(), *len))
}

/// Decrypt with `passphrase`: the padded-off plaintext, or `None` when the
/// scheme is not one computed here or the padding is wrong (the wrong
/// passphrase, nearly always).
pub fn decrypt(scheme: &Scheme, data: &[u8], passphrase: &[u8]) -> Option<Vec<u8>> {
    match scheme {
        Scheme::Pbes2 { kdf, cipher } => {
            let mut key = vec![0u8; cipher.key_len];
            match kdf {
                Kdf::Pbkdf2 {
                    salt,
                    iterations,
                    prf,
                } => {
                    use pbkdf2::pbkdf2_hmac;
                    let (p, s, i, k) = (passphrase, &salt[..], *iterations, &mut key[..]);
                    match prf {
                        Prf::Sha1 => pbkdf2_hmac::<sha1::Sha1>(p, s, i, k),
                        Prf::Sha224 => pbkdf2_hmac::<sha2::Sha224>(p, s, i, k),
                        Prf::Sha256 => pbkdf2_hmac::<sha2::Sha256>(p, s, i, k),
                        Prf::Sha384 => pbkdf2_hmac::<sha2::Sha384>(p, s, i, k),
                        Prf::Sha512 => pbkdf2_hmac::<sha2::Sha512>(p, s, i, k),
                        Prf::Sha512_224 => pbkdf2_hmac::<sha2::Sha512_224>(p, s, i, k),
                        Prf::Sha512_256 => pbkdf2_hmac::<sha2::Sha512_256>(p, s, i, k),
                        Prf::Other(_) => return None,
                    }
                }
                Kdf::Scrypt { salt, n, r, p } => {
                    let log_n = n.trailing_zeros() as u8;
                    let params = scrypt::Params::new(log_n, *r, *p).ok()?;
                    scrypt::scrypt(passphrase, salt, &params, &mut key).ok()?;
                }
            }
            cbc_by_name(&cipher.name, &key, &cipher.iv, data)
        }
        Scheme::Legacy {
            kind,
            salt,
            iterations,
        } => match kind {
            Legacy::Pbes1 { md5, des: true, .. } => {
                // PBKDF1: T = H^c(P || S); key = T[..8], IV = T[8..16].
                let mut t = [passphrase, &salt[..]].concat();
                for _ in 0..(*iterations).max(1) {
                    t = if *md5 {
                        use md5::Digest;
                        md5::Md5::digest(&t).to_vec()
                    } else {
                        use sha1::Digest;
                        sha1::Sha1::digest(&t).to_vec()
                    };
                }
                cbc::<des::Des>(&t[..8], &t[8..16], data)
            }
            Legacy::Pkcs12 {
                cipher: Pkcs12Cipher::TripleDes(len),
                ..
            } => {
                let key = pkcs12_kdf(passphrase, salt, 1, *iterations, *len);
                let iv = pkcs12_kdf(passphrase, salt, 2, *iterations, 8);
                let key = if *len == 16 {
                    [&key[..], &key[..8]].concat()
                } else {
                    key
                };
                cbc::<des::TdesEde3>(&key, &iv, data)
            }
            _ => None,
        },
    }
}

/// Rough work of one try, in hash-block units: PBKDF2 iterations times
/// output blocks, scrypt N·r·p (and its memory, 128·N·r bytes, counts the
/// same way), the legacy schemes' iterations.
pub fn cost(scheme: &Scheme) -> u64 {
    match scheme {
        Scheme::Pbes2 { kdf, cipher } => match kdf {
            Kdf::Pbkdf2 { iterations, .. } => {
                *iterations as u64 * (cipher.key_len as u64).div_ceil(20).max(1)
            }
            Kdf::Scrypt { n, r, p, .. } => {
                let memory = n.saturating_mul(*r as u64);
                if *p > 16 {
                    u64::MAX
                } else {
                    memory.saturating_mul(*p as u64).max(memory * 8)
                }
            }
        },
        Scheme::Legacy { iterations, .. } => *iterations as u64 * 2,
    }
}

/// The most work one try may take, in `cost` units: about 4 million
/// PBKDF2 iterations, or scrypt at 64 MiB (N·r = 2¹⁹).
pub const MAX_WORK: u64 = 1 << 22;

/// `cost` in microseconds of one core (measured with keyscan's own
/// implementations, release build): PBKDF2 and the legacy schemes do about
/// 14 units a microsecond, scrypt about 40.
pub fn micros(scheme: &Scheme) -> u64 {
    let units = cost(scheme);
    match scheme {
        Scheme::Pbes2 {
            kdf: Kdf::Scrypt { .. },
            ..
        } => units / 40,
        _ => units / 14,
    }
    .max(1)
}

/// Whether `decrypt` can compute this scheme at all.
pub fn can_decrypt(scheme: &Scheme) -> bool {
    match scheme {
        Scheme::Pbes2 { kdf, cipher } => {
            !matches!(
                kdf,
                Kdf::Pbkdf2 {
                    prf: Prf::Other(_),
                    ..
                }
            ) && matches!(
                cipher.name.as_str(),
                "aes-128-cbc" | "aes-192-cbc" | "aes-256-cbc" | "des-ede3-cbc" | "des-cbc"
            )
        }
        Scheme::Legacy { kind, .. } => matches!(
            kind,
            Legacy::Pbes1 { des: true, .. }
                | Legacy::Pkcs12 {
                    cipher: Pkcs12Cipher::TripleDes(_),
                    ..
                }
        ),
    }
}

/// CBC with the cipher OpenSSL calls `name`.
pub fn cbc_by_name(name: &str, key: &[u8], iv: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    match name.to_ascii_lowercase().as_str() {
        "aes-128-cbc" => cbc::<aes::Aes128>(key, iv, data),
        "aes-192-cbc" => cbc::<aes::Aes192>(key, iv, data),
        "aes-256-cbc" => cbc::<aes::Aes256>(key, iv, data),
        "des-ede3-cbc" => cbc::<des::TdesEde3>(key, iv, data),
        "des-cbc" => cbc::<des::Des>(key, iv, data),
        _ => None,
    }
}

/// CBC decryption and PKCS#7 unpadding.
pub fn cbc<C>(key: &[u8], iv: &[u8], data: &[u8]) -> Option<Vec<u8>>
where
    C: aes::cipher::BlockCipherDecrypt + aes::cipher::KeyInit,
{
    let mut out = cbc_raw::<C>(key, iv, data)?;
    let size = iv.len();
    let pad = *out.last()? as usize;
    if pad == 0 || pad > size || !out[out.len() - pad..].iter().all(|b| *b as usize == pad) {
        return None;
    }
    out.truncate(out.len() - pad);
    Some(out)
}

/// CBC decryption without unpadding (formats with their own padding).
pub fn cbc_raw<C>(key: &[u8], iv: &[u8], data: &[u8]) -> Option<Vec<u8>>
where
    C: aes::cipher::BlockCipherDecrypt + aes::cipher::KeyInit,
{
    let cipher = C::new_from_slice(key).ok()?;
    let size = iv.len();
    if size != C::block_size() || data.is_empty() || data.len() % size != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(data.len());
    let mut prev = iv;
    for chunk in data.chunks(size) {
        let mut block = aes::cipher::Block::<C>::default();
        block.copy_from_slice(chunk);
        cipher.decrypt_block(&mut block);
        out.extend(block.iter().zip(prev).map(|(b, p)| b ^ p));
        prev = chunk;
    }
    Some(out)
}

/// RFC 7292 appendix B.2 key derivation (SHA-1): `id` 1 for the key, 2 for the IV.
fn pkcs12_kdf(passphrase: &[u8], salt: &[u8], id: u8, iterations: u32, len: usize) -> Vec<u8> {
    let mut bmp = bmp_string(passphrase);
    bmp.extend([0, 0]);
    pkcs12_kdf_bmp(&bmp, salt, id, iterations, len)
}

/// A passphrase as UTF-16BE, as the PKCS#12 KDF and Java keystores see it.
pub fn bmp_string(passphrase: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(passphrase)
        .encode_utf16()
        .flat_map(u16::to_be_bytes)
        .collect()
}

/// The PKCS#12 KDF on a password already encoded (a NUL-terminated
/// BMPString; BouncyCastle gives the empty password as no bytes at all).
/// `id` 3 derives a MAC key.
pub fn pkcs12_kdf_bmp(bmp: &[u8], salt: &[u8], id: u8, iterations: u32, len: usize) -> Vec<u8> {
    use sha1::Digest;
    const V: usize = 64;
    let repeat = |s: &[u8]| -> Vec<u8> {
        if s.is_empty() {
            return Vec::new();
        }
        let n = V * s.len().div_ceil(V);
        s.iter().cycle().take(n).copied().collect()
    };
    let mut i = [repeat(salt), repeat(bmp)].concat();
    let d = [id; V];
    let mut out = Vec::new();
    while out.len() < len {
        let mut a = sha1::Sha1::new()
            .chain_update(d)
            .chain_update(&i)
            .finalize();
        for _ in 1..iterations.max(1) {
            a = sha1::Sha1::digest(a);
        }
        out.extend_from_slice(&a);
        // I_j = (I_j + B + 1) mod 2^(8v), B = A repeated to v bytes.
        let b: Vec<u8> = a.iter().cycle().take(V).copied().collect();
        for block in i.chunks_mut(V) {
            let mut carry = 1u16;
            for k in (0..V).rev() {
                let sum = block[k] as u16 + b[k] as u16 + carry;
                block[k] = sum as u8;
                carry = sum >> 8;
            }
        }
    }
    out.truncate(len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_grows_with_the_parameters() {
        let cipher = Cipher {
            name: "aes-256-cbc".into(),
            key_len: 32,
            iv: vec![0; 16],
        };
        let pbkdf2 = |iterations| Scheme::Pbes2 {
            kdf: Kdf::Pbkdf2 {
                salt: vec![],
                iterations,
                prf: Prf::Sha256,
            },
            cipher: cipher.clone(),
        };
        let scrypt = |n, r, p| Scheme::Pbes2 {
            kdf: Kdf::Scrypt {
                salt: vec![],
                n,
                r,
                p,
            },
            cipher: cipher.clone(),
        };
        assert!(cost(&pbkdf2(2048)) < 1 << 22);
        assert!(cost(&pbkdf2(u32::MAX)) > 1 << 22);
        assert!(cost(&scrypt(1 << 14, 8, 1)) < 1 << 22);
        assert!(cost(&scrypt(1 << 20, 8, 1)) > 1 << 22);
        assert!(cost(&scrypt(2, 1, u32::MAX)) > 1 << 22);
    }

    #[test]
    fn pkcs12_kdf_matches_rfc_7292_shape() {
        // Same inputs, same output; the id separates key from IV.
        let key = pkcs12_kdf(b"changeit", b"saltsalt", 1, 2048, 24);
        assert_eq!(key, pkcs12_kdf(b"changeit", b"saltsalt", 1, 2048, 24));
        assert_ne!(
            key[..8],
            pkcs12_kdf(b"changeit", b"saltsalt", 2, 2048, 8)[..]
        );
        assert_eq!(key.len(), 24);
    }
}
