//! DER private keys: PKCS#8 (plain and encrypted), PKCS#1, SEC1, OpenSSL's
//! traditional DSA, and PKCS#12 containers. Used for PEM bodies and for
//! whole binary blobs.

use super::fingerprint::{self, bits};
use crate::finding::{KeyInfo, Status};
use der::asn1::ObjectIdentifier as Oid;
use der::Decode;
use num_bigint::BigUint;

const RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
const EC: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
const DSA: Oid = Oid::new_unwrap("1.2.840.10040.4.1");
const ED25519: Oid = Oid::new_unwrap("1.3.101.112");
const ED448: Oid = Oid::new_unwrap("1.3.101.113");
const X25519: Oid = Oid::new_unwrap("1.3.101.110");
const X448: Oid = Oid::new_unwrap("1.3.101.111");
const P256: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
const P384: Oid = Oid::new_unwrap("1.3.132.0.34");
const P521: Oid = Oid::new_unwrap("1.3.132.0.35");
const SECP256K1: Oid = Oid::new_unwrap("1.3.132.0.10");
/// pkcs-12 keyBag and pkcs8ShroudedKeyBag, DER-encoded with their tag.
const P12_KEY_BAG: &[u8] = &[
    0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x01,
];
const P12_SHROUDED_BAG: &[u8] = &[
    0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x02,
];
/// OID arcs (encoded content bytes) of pkcs-5 (1.2.840.113549.1.5) and
/// pkcs-12 PBE ids (1.2.840.113549.1.12.1).
const PKCS5_ARC: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05];
const PKCS12_PBE_ARC: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01];
/// pkcs7-data, the content type of a PFX's authSafe.
const PKCS7_DATA: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01,
];

pub type Parsed = Result<KeyInfo, String>;

/// A whole binary blob: a DER key or a PKCS#12 holding one, else `None`.
pub fn validate(bytes: &[u8]) -> Option<KeyInfo> {
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
    pkcs12(bytes)
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

/// PKCS#8 PrivateKeyInfo (`BEGIN PRIVATE KEY`).
pub fn pkcs8(der: &[u8]) -> Parsed {
    let info = pkcs8::PrivateKeyInfoRef::from_der(der).map_err(|e| format!("PKCS#8: {e}"))?;
    let key = info.private_key.as_bytes();
    let oid = info.algorithm.oid;
    let mut out = if oid == RSA {
        rsa_from_pkcs1(key)?
    } else if oid == EC {
        let curve = info
            .algorithm
            .parameters
            .and_then(|p| p.decode_as::<Oid>().ok());
        ec_from_sec1(key, curve)?
    } else if oid == ED25519 {
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
    } else if oid == DSA {
        let params = info
            .algorithm
            .parameters
            .ok_or("DSA key without parameters")?;
        let (p, q, g) = dsa_params(params.value())?;
        let x = integer(key)?;
        dsa_info(p, q, g, None, x)?
    } else if oid == ED448 || oid == X25519 || oid == X448 {
        let name = match oid {
            o if o == ED448 => "Ed448",
            o if o == X25519 => "X25519",
            _ => "X448",
        };
        KeyInfo::new(Status::Valid, "PKCS#8", name)
    } else {
        KeyInfo::new(Status::Valid, "PKCS#8", format!("unknown ({oid})"))
    };
    out.format = "PKCS#8".into();
    Ok(out)
}

/// PKCS#8 EncryptedPrivateKeyInfo (`BEGIN ENCRYPTED PRIVATE KEY`).
pub fn encrypted_pkcs8(der: &[u8]) -> Parsed {
    // SEQUENCE { AlgorithmIdentifier { OID, params }, OCTET STRING }
    let bad = || "not an EncryptedPrivateKeyInfo".to_string();
    let (tag, content, rest) = tlv(der).ok_or_else(bad)?;
    let (alg_tag, alg, after) = tlv(content).ok_or_else(bad)?;
    let (oid_tag, oid, _) = tlv(alg).ok_or_else(bad)?;
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
    if !(oid.starts_with(PKCS5_ARC) || oid.starts_with(PKCS12_PBE_ARC)) {
        return Err("encrypted PKCS#8 with an unknown encryption scheme".into());
    }
    if data.len() < 32 || data.len() % 8 != 0 {
        return Err("encrypted PKCS#8 too short to hold a key".into());
    }
    Ok(KeyInfo::new(
        Status::Encrypted,
        "encrypted PKCS#8",
        "unknown",
    ))
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
    ec_from_sec1(der, None)
}

fn ec_from_sec1(der: &[u8], curve_hint: Option<Oid>) -> Parsed {
    let key = sec1::EcPrivateKey::from_der(der).map_err(|e| format!("SEC1: {e}"))?;
    let curve = key
        .parameters
        .and_then(|p| p.named_curve())
        .or(curve_hint)
        .ok_or("EC key without a named curve")?;
    let scalar = key.private_key;
    let derived: Option<Box<[u8]>> = if curve == P256 {
        p256::SecretKey::from_slice(scalar)
            .ok()
            .map(|s| s.public_key().to_sec1_bytes())
    } else if curve == P384 {
        p384::SecretKey::from_slice(scalar)
            .ok()
            .map(|s| s.public_key().to_sec1_bytes())
    } else if curve == P521 {
        p521::SecretKey::from_slice(scalar)
            .ok()
            .map(|s| s.public_key().to_sec1_bytes())
    } else {
        let name = if curve == SECP256K1 {
            "ECDSA secp256k1".to_string()
        } else {
            format!("EC ({curve})")
        };
        return Ok(KeyInfo::new(Status::Valid, "SEC1", name));
    };
    let derived = derived.ok_or("EC private scalar is out of range")?;
    if let Some(embedded) = key.public_key {
        if !same_point(&curve, embedded, &derived) {
            return Err("EC public key does not match the private key".into());
        }
    }
    let name = match curve {
        c if c == P256 => "ECDSA P-256",
        c if c == P384 => "ECDSA P-384",
        _ => "ECDSA P-521",
    };
    let mut out = KeyInfo::new(Status::Valid, "SEC1", name);
    let public = fingerprint::ecdsa_key(&derived).ok_or("EC public key does not encode")?;
    fingerprint::fill_ssh(&mut out, &public);
    Ok(out)
}

fn same_point(curve: &Oid, a: &[u8], b: &[u8]) -> bool {
    if *curve == P256 {
        p256::PublicKey::from_sec1_bytes(a).ok() == p256::PublicKey::from_sec1_bytes(b).ok()
    } else if *curve == P384 {
        p384::PublicKey::from_sec1_bytes(a).ok() == p384::PublicKey::from_sec1_bytes(b).ok()
    } else {
        p521::PublicKey::from_sec1_bytes(a).ok() == p521::PublicKey::from_sec1_bytes(b).ok()
    }
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

/// A PFX holding a key bag: its contents are passphrase-protected.
fn pkcs12(der: &[u8]) -> Option<KeyInfo> {
    let (_, content, _) = tlv(der)?;
    let (tag, version, after) = tlv(content)?;
    if tag != 0x02 || version != [3] {
        return None;
    }
    let (tag, auth_safe, _) = tlv(after)?;
    if tag != 0x30 || !auth_safe.starts_with(PKCS7_DATA) {
        return None;
    }
    let find = |needle: &[u8]| memchr::memmem::find(der, needle).is_some();
    let status = if find(P12_SHROUDED_BAG) {
        Status::Encrypted
    } else if find(P12_KEY_BAG) {
        Status::Valid
    } else {
        return None;
    };
    Some(KeyInfo::new(status, "PKCS#12", "unknown"))
}

/// One DER TLV: (tag, value, rest). Definite lengths only.
pub fn tlv(data: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *data.first()?;
    let first = *data.get(1)? as usize;
    let (len, header) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let bytes = data.get(2..2 + n)?;
        (
            bytes.iter().fold(0usize, |a, b| (a << 8) | *b as usize),
            2 + n,
        )
    };
    let end = header.checked_add(len)?;
    let value = data.get(header..end)?;
    Some((tag, value, &data[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlv_reads_short_and_long_lengths() {
        assert_eq!(
            tlv(&[0x02, 0x01, 0x05, 0xff]),
            Some((0x02, &[5u8][..], &[0xffu8][..]))
        );
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend([7u8; 0x80]);
        assert_eq!(tlv(&long).unwrap().1.len(), 0x80);
        assert_eq!(tlv(&[0x30, 0x85, 1, 1, 1, 1, 1]), None);
        assert_eq!(tlv(&[0x30, 0x05, 1]), None);
    }

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
