//! SEC1 EC private keys, named curves and explicit curve parameters.
//! Parsed by hand: the `sec1` crate rejects explicit parameters and public
//! keys whose BIT STRING has unused bits, both of which openssl loads.

use super::asn1::tlv;
use super::oids::{self, P256, P384, P521};
use super::{fingerprint, Parsed};
use crate::scan::finding::{KeyInfo, Status};
use der::asn1::ObjectIdentifier as Oid;
use num_bigint::BigUint;

const PRIME_FIELD: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x01, 0x01];

/// Standard curves recognised by their explicit parameters: (p, n) in hex.
const BY_PARAMETERS: &[(&str, &str, Oid)] = &[
    (
        "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff",
        "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551",
        P256,
    ),
    (
        "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff",
        "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973",
        P384,
    ),
    (
        "1ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "1fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409",
        P521,
    ),
    (
        "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f",
        "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
        oids::SECP256K1,
    ),
];

/// The fields of an ECPrivateKey.
struct Sec1<'a> {
    scalar: &'a [u8],
    named: Option<Oid>,
    explicit: Option<&'a [u8]>,
    public: Option<&'a [u8]>,
}

fn parse(der: &[u8]) -> Result<Sec1<'_>, String> {
    let bad = |what: &str| format!("SEC1: {what}");
    let Some((0x30, body, [])) = tlv(der) else {
        return Err(bad("not a SEQUENCE"));
    };
    let Some((0x02, [1], rest)) = tlv(body) else {
        return Err(bad("expected version 1"));
    };
    let Some((0x04, scalar, mut rest)) = tlv(rest) else {
        return Err(bad("expected the private key OCTET STRING"));
    };
    let mut out = Sec1 {
        scalar,
        named: None,
        explicit: None,
        public: None,
    };
    while !rest.is_empty() {
        let (tag, value, after) = tlv(rest).ok_or_else(|| bad("bad DER"))?;
        match tag {
            0xa0 => match tlv(value) {
                Some((0x06, oid, [])) => {
                    out.named = Some(Oid::from_bytes(oid).map_err(|_| bad("bad curve OID"))?)
                }
                Some((0x30, params, [])) => out.explicit = Some(params),
                _ => return Err(bad("bad curve parameters")),
            },
            0xa1 => match tlv(value) {
                // The unused-bits count is ignored, as openssl does.
                Some((0x03, [unused, point @ ..], [])) if *unused < 8 => out.public = Some(point),
                _ => return Err(bad("bad public key")),
            },
            _ => return Err(bad("unexpected field")),
        }
        rest = after;
    }
    Ok(out)
}

/// SEC1 ECPrivateKey (`BEGIN EC PRIVATE KEY`).
pub fn sec1(der: &[u8]) -> Parsed {
    key(der, None, None)
}

/// An EC key; `hint` and `explicit` are the curve from a PKCS#8 wrapper.
pub fn key(der: &[u8], hint: Option<Oid>, explicit: Option<&[u8]>) -> Parsed {
    let k = parse(der)?;
    if k.scalar.iter().all(|b| *b == 0) {
        return Err("EC private scalar is zero".into());
    }
    if let Some(params) = k.explicit.or(explicit) {
        return explicit_curve(params, k.scalar, k.public);
    }
    let curve = k.named.or(hint).ok_or("EC key without a curve")?;
    named(&curve, k.scalar, k.public)
}

fn named(curve: &Oid, scalar: &[u8], public: Option<&[u8]>) -> Parsed {
    let derived: Option<Box<[u8]>> = if *curve == P256 {
        p256::SecretKey::from_slice(scalar)
            .ok()
            .map(|s| s.public_key().to_sec1_bytes())
    } else if *curve == P384 {
        p384::SecretKey::from_slice(scalar)
            .ok()
            .map(|s| s.public_key().to_sec1_bytes())
    } else if *curve == P521 {
        p521::SecretKey::from_slice(scalar)
            .ok()
            .map(|s| s.public_key().to_sec1_bytes())
    } else {
        // No arithmetic here for this curve: check the scalar fits it.
        let Some((name, len)) = oids::curve(curve) else {
            return Ok(KeyInfo::new(Status::Valid, "SEC1", format!("EC ({curve})")));
        };
        if scalar.len() > len + 1 {
            return Err(format!("EC private scalar is too long for {name}"));
        }
        let name = match name {
            "SM2" => "SM2".to_string(),
            "secp256k1" => "ECDSA secp256k1".to_string(),
            other => format!("EC {other}"),
        };
        return Ok(KeyInfo::new(Status::Valid, "SEC1", name));
    };
    let derived = derived.ok_or("EC private scalar is out of range")?;
    if let Some(embedded) = public {
        if !same_point(curve, embedded, &derived) {
            return Err("EC public key does not match the private key".into());
        }
    }
    let name = match curve {
        c if *c == P256 => "ECDSA P-256",
        c if *c == P384 => "ECDSA P-384",
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

/// ECParameters: SEQUENCE { version, fieldID { prime-field, p }, curve { a,
/// b, seed? }, base, order, cofactor? }. A standard curve is named by its
/// parameters; on any prime curve, d·G must be the stored public point.
fn explicit_curve(params: &[u8], scalar: &[u8], public: Option<&[u8]>) -> Parsed {
    let bad = || "EC explicit parameters do not parse".to_string();
    let Some((0x02, _version, rest)) = tlv(params) else {
        return Err(bad());
    };
    let (0x30, field, rest) = tlv(rest).ok_or_else(bad)? else {
        return Err(bad());
    };
    let (0x30, curve, rest) = tlv(rest).ok_or_else(bad)? else {
        return Err(bad());
    };
    let (0x04, base, rest) = tlv(rest).ok_or_else(bad)? else {
        return Err(bad());
    };
    let (0x02, order, _) = tlv(rest).ok_or_else(bad)? else {
        return Err(bad());
    };
    let Some((0x06, field_type, field_rest)) = tlv(field) else {
        return Err(bad());
    };
    if field_type != PRIME_FIELD {
        // Binary fields: no arithmetic here; the structure parsed.
        return Ok(KeyInfo::new(
            Status::Valid,
            "SEC1",
            "EC (explicit binary-field curve)",
        ));
    }
    let Some((0x02, p, _)) = tlv(field_rest) else {
        return Err(bad());
    };
    let (Some((0x04, a, rest)), n) = (tlv(curve), BigUint::from_bytes_be(order)) else {
        return Err(bad());
    };
    let Some((0x04, b, _)) = tlv(rest) else {
        return Err(bad());
    };
    let p = BigUint::from_bytes_be(p);
    if !(128..=571).contains(&p.bits()) || !p.bit(0) || n.bits() > 572 || n.bits() < 64 {
        return Err("EC explicit parameters out of range".into());
    }
    let curve = Curve {
        a: BigUint::from_bytes_be(a) % &p,
        b: BigUint::from_bytes_be(b) % &p,
        p,
    };
    let d = BigUint::from_bytes_be(scalar);
    if d >= n {
        return Err("EC private scalar is not below the curve order".into());
    }
    let g = curve
        .decode(base)
        .ok_or("EC base point is not on the curve")?;
    let derived = curve
        .mul(&g, &d)
        .ok_or("EC private scalar gives no point")?;
    if let Some(stored) = public {
        let stored = curve
            .decode(stored)
            .ok_or("EC public key is not on the curve")?;
        if stored != derived {
            return Err("EC public key does not match the private key".into());
        }
    }
    let hex = |v: &BigUint| format!("{v:x}");
    let standard = BY_PARAMETERS
        .iter()
        .find(|(p, n_hex, _)| *p == hex(&curve.p) && *n_hex == hex(&n));
    match standard {
        Some((_, _, oid)) => {
            let point = curve.encode(&derived);
            let mut info = if [P256, P384, P521].contains(oid) {
                named(oid, scalar, Some(&point))?
            } else {
                KeyInfo::new(Status::Valid, "SEC1", "ECDSA secp256k1")
            };
            info.note = Some("explicit curve parameters".into());
            Ok(info)
        }
        None => {
            let name = format!("EC (explicit {}-bit curve)", curve.p.bits());
            Ok(KeyInfo::new(Status::Valid, "SEC1", name))
        }
    }
}

/// y² = x³ + ax + b over the prime field p; affine points, `None` is infinity.
struct Curve {
    p: BigUint,
    a: BigUint,
    b: BigUint,
}

type Point = (BigUint, BigUint);

impl Curve {
    fn decode(&self, sec1: &[u8]) -> Option<Point> {
        let (&tag, rest) = sec1.split_first()?;
        let len = self.p.bits().div_ceil(8) as usize;
        if tag != 4 || rest.len() != 2 * len {
            return None;
        }
        let x = BigUint::from_bytes_be(&rest[..len]);
        let y = BigUint::from_bytes_be(&rest[len..]);
        let on_curve = (&y * &y) % &self.p == (&x * &x * &x + &self.a * &x + &self.b) % &self.p;
        (x < self.p && y < self.p && on_curve).then_some((x, y))
    }

    fn encode(&self, (x, y): &Point) -> Vec<u8> {
        let len = self.p.bits().div_ceil(8) as usize;
        let mut out = vec![4];
        for v in [x, y] {
            let bytes = v.to_bytes_be();
            out.extend(std::iter::repeat_n(0, len - bytes.len()));
            out.extend(bytes);
        }
        out
    }

    fn sub(&self, a: &BigUint, b: &BigUint) -> BigUint {
        (a + &self.p - (b % &self.p)) % &self.p
    }

    fn inv(&self, v: &BigUint) -> BigUint {
        v.modinv(&self.p).unwrap_or_default()
    }

    fn add(&self, s: Option<&Point>, t: Option<&Point>) -> Option<Point> {
        let ((x1, y1), (x2, y2)) = match (s, t) {
            (None, t) => return t.cloned(),
            (s, None) => return s.cloned(),
            (Some(s), Some(t)) => (s, t),
        };
        let p = &self.p;
        let slope = if x1 == x2 {
            if (y1 + y2) % p == BigUint::ZERO {
                return None;
            }
            (BigUint::from(3u8) * x1 * x1 + &self.a) % p * self.inv(&(BigUint::from(2u8) * y1)) % p
        } else {
            self.sub(y2, y1) * self.inv(&self.sub(x2, x1)) % p
        };
        let x3 = self.sub(&self.sub(&(&slope * &slope), x1), x2);
        let y3 = self.sub(&(&slope * self.sub(x1, &x3)), y1);
        Some((x3, y3))
    }

    fn mul(&self, g: &Point, k: &BigUint) -> Option<Point> {
        let mut acc: Option<Point> = None;
        for i in (0..k.bits()).rev() {
            acc = self.add(acc.as_ref(), acc.as_ref());
            if k.bit(i) {
                acc = self.add(acc.as_ref(), Some(g));
            }
        }
        acc
    }
}
