//! DER private keys: PKCS#8 (plain and encrypted), PKCS#1, SEC1, OpenSSL's
//! traditional DSA, and PKCS#12 containers. Used for PEM bodies and for
//! whole binary blobs.

use super::asn1::tlv;
use super::fingerprint::{self, bits};
use super::{ec, oids, pbe, Parsed};
use super::{Format, Lock, TOO_COSTLY};
use crate::rules::Validator;
use crate::scan::finding::{KeyInfo, Status};
use der::asn1::ObjectIdentifier as Oid;
use der::{Decode, Tagged};
use num_bigint::BigUint;

/// pkcs-12 keyBag and pkcs8ShroudedKeyBag, DER-encoded with their tag.
const P12_KEY_BAG: &[u8] = &[
    0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x01,
];
const P12_SHROUDED_BAG: &[u8] = &[
    0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x02,
];
/// pkcs7-data, the content type of a PFX's authSafe.
const PKCS7_DATA: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01,
];

pub const FORMAT: Format = Format {
    validator: Validator::Der,
    validate: |c| validate(&c.bytes),
    lock: |c| {
        let (bytes, n) = super::part_of(&c.bytes);
        match shrouded_key_bags(bytes).nth(n) {
            Some(bag) => pkcs8_lock(bag.to_vec(), "PKCS#12"),
            None => pkcs8_lock(bytes.to_vec(), "DER encrypted PKCS#8"),
        }
    },
    redact: |c, _, _| format!("<{} bytes of binary DER, redacted>", c.bytes.len()),
    placeholders: true,
};

/// A whole binary blob: a DER key or a PKCS#12 holding one, else `None`.
pub fn validate(bytes: &[u8]) -> Option<KeyInfo> {
    let (bytes, bag) = super::part_of(bytes);
    if bag > 0 {
        return pkcs12(bytes, bag);
    }
    let bytes = trim_trailing_whitespace(bytes);
    let (tag, content, rest) = tlv(bytes)?;
    if tag != 0x30 || !rest.is_empty() || content.is_empty() {
        return None;
    }
    let parsers: [fn(&[u8]) -> Parsed; 5] = [pkcs8, encrypted_pkcs8, pkcs1, sec1, dsa];
    for parse in parsers {
        if let Ok(mut info) = parse(bytes) {
            info.format = format!("DER {}", info.format);
            return Some(info);
        }
    }
    pkcs12(bytes, 0)
}

fn trim_trailing_whitespace(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    // Only strip when the DER length says the blob ends there.
    match tlv(bytes) {
        Some((_, _, rest)) if rest.len() == bytes.len() - end => &bytes[..end],
        _ => bytes,
    }
}

/// PKCS#8 PrivateKeyInfo (`BEGIN PRIVATE KEY`). A well-formed structure
/// whose algorithm is not registered, or whose key has the wrong shape for
/// it, is `unverified` with a note.
pub fn pkcs8(der: &[u8]) -> Parsed {
    let info = pkcs8::PrivateKeyInfoRef::from_der(der).map_err(|e| format!("PKCS#8: {e}"))?;
    let key = info.private_key.as_bytes();
    let oid = info.algorithm.oid;
    let Some(alg) = oids::key_algorithm(&oid) else {
        return Ok(KeyInfo::unverified(
            "PKCS#8",
            "unknown",
            format!("algorithm {oid} is not a registered private-key algorithm"),
        ));
    };
    let params = info.algorithm.parameters;
    let mut out = if oid == oids::RSA || oid == oids::RSA_PSS || oid == oids::RSA_OAEP {
        let mut out = rsa_from_pkcs1(key)?;
        if oid != oids::RSA {
            // AWS fingerprints are for rsaEncryption keys only.
            out.key_type = out.key_type.replacen("RSA", alg.name, 1);
            out.aws_fingerprints.sha1_pkcs8 = None;
        }
        out
    } else if oid == oids::EC || oid == oids::EC_DH || oid == oids::SM2_ALG {
        let hint = match params {
            Some(p) if p.tag() == der::Tag::ObjectIdentifier => p.decode_as::<Oid>().ok(),
            _ => None,
        };
        // SM2 as the algorithm (GmSSL) means the SM2 curve.
        let hint = hint.or((oid == oids::SM2_ALG).then_some(oids::SM2_ALG));
        let explicit = match params {
            Some(p) if p.tag() == der::Tag::Sequence => Some(p.value()),
            _ => None,
        };
        ec::key(key, hint, explicit)?
    } else if oid == oids::ED25519 {
        let seed: [u8; 32] = match tlv(key) {
            Some((0x04, seed, [])) => seed
                .try_into()
                .map_err(|_| "Ed25519 key is not 32 bytes".to_string())?,
            _ => return Err("Ed25519 key is not an OCTET STRING".into()),
        };
        let public = ed25519_dalek::SigningKey::from_bytes(&seed)
            .verifying_key()
            .to_bytes();
        if let Some(embedded) = info.public_key.and_then(|p| p.as_bytes()) {
            if embedded != public {
                return Err("Ed25519 public key does not match the private key".into());
            }
        }
        let mut out = KeyInfo::new(Status::Valid, "PKCS#8", "Ed25519");
        fingerprint::fill_ssh(&mut out, &fingerprint::ed25519_key(public));
        out
    } else if oid == oids::DSA {
        let params = params.ok_or("DSA key without parameters")?;
        let (p, q, g) = dsa_params(params.value())?;
        let x = integer(key)?;
        dsa_info(p, q, g, None, x)?
    } else {
        match key_shape(alg.shape, key) {
            Ok(()) => KeyInfo::new(Status::Valid, "PKCS#8", alg.name),
            Err(why) => KeyInfo::unverified("PKCS#8", alg.name, why),
        }
    };
    out.format = "PKCS#8".into();
    Ok(out)
}

/// The structural check for algorithms keyscan cannot do arithmetic on:
/// the private key has the encoding and length its algorithm prescribes.
fn key_shape(shape: oids::Shape, key: &[u8]) -> Result<(), String> {
    use oids::Shape;
    let fits = match shape {
        Shape::Parsed => true,
        Shape::Octet(len) => matches!(tlv(key), Some((0x04, v, [])) if v.len() == len),
        Shape::Integer => matches!(tlv(key), Some((0x02, v, [])) if !v.is_empty()),
        Shape::Scalar(lens) => {
            let value = match tlv(key) {
                Some((0x04 | 0x02, v, [])) => v,
                _ => key,
            };
            // An INTEGER may carry a leading sign byte.
            let value = match value {
                [0, rest @ ..] if !lens.contains(&value.len()) => rest,
                _ => value,
            };
            lens.contains(&value.len()) && value.iter().any(|b| *b != 0)
        }
        Shape::Seeded { seed, expanded } => match tlv(key) {
            Some((0x80, v, [])) => v.len() == seed,
            Some((0x04, v, [])) => v.len() == expanded,
            Some((0x30, both, [])) => match tlv(both) {
                Some((0x04, s, rest)) => {
                    s.len() == seed
                        && matches!(tlv(rest), Some((0x04, e, [])) if e.len() == expanded)
                }
                _ => false,
            },
            _ => key.len() == seed || key.len() == expanded,
        },
        Shape::Raw(len) => key.len() == len,
    };
    if fits {
        Ok(())
    } else {
        Err("private key has the wrong length or encoding for its algorithm".into())
    }
}

/// PKCS#8 EncryptedPrivateKeyInfo (`BEGIN ENCRYPTED PRIVATE KEY`): its
/// scheme and ciphertext. `Err` when it is no such structure.
pub fn encrypted_parts(der: &[u8]) -> Result<(Result<pbe::Scheme, String>, &[u8]), String> {
    // SEQUENCE { AlgorithmIdentifier { OID, params }, OCTET STRING }
    let bad = || "not an EncryptedPrivateKeyInfo".to_string();
    let (tag, content, rest) = tlv(der).ok_or_else(bad)?;
    let (alg_tag, alg, after) = tlv(content).ok_or_else(bad)?;
    let (oid_tag, oid, params) = tlv(alg).ok_or_else(bad)?;
    let (data_tag, data, end) = tlv(after).ok_or_else(bad)?;
    if tag != 0x30
        || !rest.is_empty()
        || alg_tag != 0x30
        || oid_tag != 0x06
        || data_tag != 0x04
        || !end.is_empty()
    {
        return Err(bad());
    }
    // Password-based encryption only: PKCS#5 (PBES1, PBES2) or PKCS#12 PBE.
    // Anything else with this shape (a DigestInfo, say) is not a key.
    let scheme = match pbe::parse(oid, params) {
        Ok(scheme) => Ok(scheme),
        Err(pbe::Rejected::NotPbe) => {
            return Err("encrypted PKCS#8 with an unknown encryption scheme".into())
        }
        Err(pbe::Rejected::Unknown(why)) => Err(why),
    };
    if data.len() < 32 {
        return Err("encrypted PKCS#8 too short to hold a key".into());
    }
    Ok((scheme, data))
}

/// PKCS#8 EncryptedPrivateKeyInfo (`BEGIN ENCRYPTED PRIVATE KEY`). A scheme
/// no tool knows makes it `unverified`: nothing could ever decrypt it.
pub fn encrypted_pkcs8(der: &[u8]) -> Parsed {
    const FORMAT: &str = "encrypted PKCS#8";
    let (scheme, data) = encrypted_parts(der)?;
    let scheme = match scheme {
        Ok(scheme) => scheme,
        Err(why) => return Ok(KeyInfo::unverified(FORMAT, "unknown", why)),
    };
    // Block ciphers leave whole blocks; stream modes any length.
    let stream = match &scheme {
        pbe::Scheme::Pbes2 { cipher, .. } => ["ofb", "cfb", "gcm", "ccm", "ctr"]
            .iter()
            .any(|m| cipher.name.contains(m)),
        pbe::Scheme::Legacy { kind, .. } => {
            matches!(
                kind,
                pbe::Legacy::Pkcs12 {
                    cipher: pbe::Pkcs12Cipher::Rc4(_),
                    ..
                }
            )
        }
    };
    if !stream && data.len() % 8 != 0 {
        return Ok(KeyInfo::unverified(
            FORMAT,
            "unknown",
            "ciphertext is not whole cipher blocks",
        ));
    }
    let mut info = KeyInfo::new(Status::Encrypted, FORMAT, "unknown");
    info.note = Some(format!("encrypted with {}", scheme.describe()));
    Ok(info)
}

/// An EncryptedPrivateKeyInfo (`body`) ready for passphrases; `format`
/// names the key once opened.
pub fn pkcs8_lock(body: Vec<u8>, format: &'static str) -> Result<Lock, &'static str> {
    let unsupported = "no weak-passphrase check for this encryption scheme";
    let (scheme, data) = encrypted_parts(&body).map_err(|_| unsupported)?;
    let scheme = scheme.map_err(|_| unsupported)?;
    if !pbe::can_decrypt(&scheme) {
        return Err(unsupported);
    }
    if pbe::cost(&scheme) > pbe::MAX_WORK {
        return Err(TOO_COSTLY);
    }
    let data = data.to_vec();
    Ok(Lock::new(pbe::micros(&scheme), move |pw| {
        let plain = pbe::decrypt(&scheme, &data, pw)?;
        let mut info = pkcs8(&plain).ok()?;
        info.format = format.into();
        Some(info)
    }))
}

/// PKCS#1 RSAPrivateKey (`BEGIN RSA PRIVATE KEY`).
pub fn pkcs1(der: &[u8]) -> Parsed {
    rsa_from_pkcs1(der)
}

fn rsa_from_pkcs1(der: &[u8]) -> Parsed {
    let key = pkcs1::RsaPrivateKeyRef::from_der(der).map_err(|e| format!("PKCS#1: {e}"))?;
    let n = key.modulus.as_bytes();
    let e = key.public_exponent.as_bytes();
    if key.other_prime_infos.is_none() {
        rsa_check(
            [
                n,
                e,
                key.private_exponent.as_bytes(),
                key.prime1.as_bytes(),
                key.prime2.as_bytes(),
            ],
            [
                Some(key.exponent1.as_bytes()),
                Some(key.exponent2.as_bytes()),
                Some(key.coefficient.as_bytes()),
            ],
        )?;
    }
    let mut out = KeyInfo::new(Status::Valid, "PKCS#1", format!("RSA {}", bits(n)));
    let public = fingerprint::rsa_key(n, e).ok_or("RSA public key does not encode")?;
    fingerprint::fill_ssh(&mut out, &public);
    fingerprint::fill_rsa_pkcs8_sha1(&mut out, der);
    Ok(out)
}

/// The largest RSA modulus worth checking; beyond it nothing is real.
const MAX_RSA_BITS: u64 = 16384;

/// The parts of an RSA private key must agree: n = p*q, e*d = 1 modulo
/// p-1 and q-1, and the CRT values `[dp, dq, qinv]` where the format has them.
/// `parts` is `[n, e, d, p, q]`, big-endian unsigned.
pub fn rsa_check(parts: [&[u8]; 5], crt: [Option<&[u8]>; 3]) -> Result<(), String> {
    let [n, e, d, p, q] = parts.map(BigUint::from_bytes_be);
    let one = BigUint::from(1u8);
    if n.bits() > MAX_RSA_BITS || n.bits() < 256 || p <= one || q <= one || e <= one {
        return Err("RSA key parameters out of range".into());
    }
    if &p * &q != n {
        return Err("RSA modulus is not the product of its primes".into());
    }
    let (p1, q1) = (&p - &one, &q - &one);
    let ed = &e * &d;
    if &ed % &p1 != one || &ed % &q1 != one {
        return Err("RSA private exponent does not match the public exponent".into());
    }
    let [dp, dq, qinv] = crt.map(|v| v.map(BigUint::from_bytes_be));
    if dp.is_some_and(|dp| dp != &d % &p1) || dq.is_some_and(|dq| dq != &d % &q1) {
        return Err("RSA CRT exponents do not match the private exponent".into());
    }
    if qinv.is_some_and(|qinv| (qinv * &q) % &p != one) {
        return Err("RSA CRT coefficient does not match the primes".into());
    }
    Ok(())
}

/// SEC1 ECPrivateKey (`BEGIN EC PRIVATE KEY`).
pub fn sec1(der: &[u8]) -> Parsed {
    ec::sec1(der)
}

/// OpenSSL's traditional DSA key: SEQUENCE { 0, p, q, g, y, x }.
pub fn dsa(der: &[u8]) -> Parsed {
    let (tag, content, rest) = tlv(der).ok_or("DSA: not DER")?;
    if tag != 0x30 || !rest.is_empty() {
        return Err("DSA: not a SEQUENCE".into());
    }
    let mut ints = Vec::new();
    let mut cur = content;
    while !cur.is_empty() {
        let (tag, value, rest) = tlv(cur).ok_or("DSA: bad DER")?;
        if tag != 0x02 {
            return Err("DSA: expected INTEGER".into());
        }
        ints.push(value);
        cur = rest;
    }
    if ints.len() != 6 || ints[0] != [0] {
        return Err("DSA: expected version and five integers".into());
    }
    dsa_info(ints[1], ints[2], ints[3], Some(ints[4]), ints[5])
}

/// DSA domain parameters p, q, g as big-endian bytes.
type DsaParams<'a> = (&'a [u8], &'a [u8], &'a [u8]);

fn dsa_params(der: &[u8]) -> Result<DsaParams<'_>, String> {
    let mut cur = der;
    let mut out = Vec::new();
    while !cur.is_empty() && out.len() < 3 {
        let (tag, value, rest) = tlv(cur).ok_or("DSA parameters: bad DER")?;
        if tag != 0x02 {
            return Err("DSA parameters: expected INTEGER".into());
        }
        out.push(value);
        cur = rest;
    }
    match out.as_slice() {
        [p, q, g] => Ok((p, q, g)),
        _ => Err("DSA parameters: expected p, q, g".into()),
    }
}

fn integer(der: &[u8]) -> Result<&[u8], String> {
    match tlv(der) {
        Some((0x02, value, [])) => Ok(value),
        _ => Err("expected an INTEGER".into()),
    }
}

/// A DSA key from its parts; `y`, when stored, must be g^x mod p.
pub fn dsa_info(p: &[u8], q: &[u8], g: &[u8], y: Option<&[u8]>, x: &[u8]) -> Parsed {
    let (pb, qb, gb, xb) = (
        BigUint::from_bytes_be(p),
        BigUint::from_bytes_be(q),
        BigUint::from_bytes_be(g),
        BigUint::from_bytes_be(x),
    );
    // Real DSA: p of 1024 to 3072 bits, q of 160 to 256; the bounds also keep
    // the modular exponentiation cheap on hostile input.
    if !(512..=16384).contains(&pb.bits())
        || !(128..=512).contains(&qb.bits())
        || gb.bits() < 2
        || gb >= pb
        || xb.bits() == 0
        || xb >= qb
    {
        return Err("DSA parameters out of range".into());
    }
    let derived = gb.modpow(&xb, &pb);
    if let Some(y) = y {
        if derived != BigUint::from_bytes_be(y) {
            return Err("DSA public value does not match the private key".into());
        }
    }
    let y = derived.to_bytes_be();
    let mut out = KeyInfo::new(Status::Valid, "DSA", format!("DSA {}", bits(p)));
    if let Some(public) = fingerprint::dsa_key(p, q, g, &y) {
        fingerprint::fill_ssh(&mut out, &public);
    }
    Ok(out)
}

/// Key bag `bag` of a PFX: its contents are passphrase-protected.
fn pkcs12(der: &[u8], bag: usize) -> Option<KeyInfo> {
    if !is_pfx(der) {
        return None;
    }
    let shrouded = shrouded_key_bags(der).count();
    let find = |needle: &[u8]| memchr::memmem::find(der, needle).is_some();
    let status = if bag < shrouded || (bag == 0 && find(P12_SHROUDED_BAG)) {
        Status::Encrypted
    } else if bag == 0 && find(P12_KEY_BAG) {
        Status::Valid
    } else {
        return None;
    };
    let mut info = KeyInfo::new(status, "PKCS#12", "unknown");
    if shrouded > 1 {
        info.note = Some(format!("key bag {} of {shrouded}", bag + 1));
    }
    Some(info)
}

/// Whether `der` is a PFX: version 3, its authSafe pkcs7-data.
fn is_pfx(der: &[u8]) -> bool {
    let Some((_, content, _)) = tlv(der) else {
        return false;
    };
    let Some((tag, version, after)) = tlv(content) else {
        return false;
    };
    let auth_safe = tlv(after).filter(|(tag, _, _)| *tag == 0x30);
    tag == 0x02 && version == [3] && auth_safe.is_some_and(|(_, a, _)| a.starts_with(PKCS7_DATA))
}

/// The key bags after the first of a PFX, a candidate each.
pub fn more_bags(data: &[u8]) -> Vec<Vec<u8>> {
    if !is_pfx(data) {
        return Vec::new();
    }
    super::parts(data, shrouded_key_bags(data).count())
}

/// The EncryptedPrivateKeyInfo of each of a PFX's pkcs8ShroudedKeyBags
/// (Java keystores, `openssl pkcs12 -export`): SafeBag { bagId, [0]
/// bagValue }.
pub fn shrouded_key_bags(pfx: &[u8]) -> impl Iterator<Item = &[u8]> {
    memchr::memmem::find_iter(pfx, P12_SHROUDED_BAG).filter_map(|at| {
        let (tag, value, _) = tlv(&pfx[at + P12_SHROUDED_BAG.len()..])?;
        if tag != 0xa0 {
            return None;
        }
        let (tag, _, rest) = tlv(value)?;
        (tag == 0x30).then(|| &value[..value.len() - rest.len()])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_and_truncated_bytes_never_panic() {
        let mut seed = 0x1234_5678u32;
        for len in 0..400 {
            let mut data = vec![0x30, 0x82, (len >> 8) as u8, len as u8];
            for _ in 0..len {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                data.push((seed >> 16) as u8);
            }
            assert!(validate(&data).is_none());
            for cut in [1, 2, 5, data.len() / 2] {
                let _ = validate(&data[..data.len().saturating_sub(cut)]);
            }
        }
    }

    #[test]
    fn digest_info_is_not_an_encrypted_key() {
        // SEQUENCE { SEQUENCE { sha256, NULL }, OCTET STRING (32) }
        let mut alg = vec![
            0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
        ];
        alg.extend([0x05, 0x00]);
        let mut body = fingerprint::der_encode(0x30, &alg);
        body.extend(fingerprint::der_encode(0x04, &[0xab; 32]));
        let info = fingerprint::der_encode(0x30, &body);
        assert!(encrypted_pkcs8(&info).is_err());
        assert!(validate(&info).is_none());
    }

    #[test]
    fn rsa_check_rejects_degenerate_input() {
        let big = [0xffu8; 64];
        assert!(rsa_check([&big, &[3], &big, &[1], &[0]], [None; 3]).is_err());
        assert!(rsa_check([&[], &[], &[], &[], &[]], [None; 3]).is_err());
    }
}
