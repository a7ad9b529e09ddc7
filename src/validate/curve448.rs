//! Public halves of Curve448 keys, for JWKs: X448 (RFC 7748's Montgomery
//! ladder) and Ed448 (RFC 8032: SHAKE256 of the secret, clamped, times the
//! base point). Plain big-number arithmetic: a few milliseconds a key, and
//! only for candidates that already look like Curve448 JWKs.

use num_bigint::BigUint;
use sha3::digest::{ExtendableOutput, Update, XofReader};

/// 2^448 - 2^224 - 1.
fn prime() -> BigUint {
    (BigUint::from(1u8) << 448) - (BigUint::from(1u8) << 224) - 1u8
}

struct Field {
    p: BigUint,
}

impl Field {
    fn add(&self, a: &BigUint, b: &BigUint) -> BigUint {
        (a + b) % &self.p
    }
    fn sub(&self, a: &BigUint, b: &BigUint) -> BigUint {
        (a + &self.p - b) % &self.p
    }
    fn mul(&self, a: &BigUint, b: &BigUint) -> BigUint {
        (a * b) % &self.p
    }
    fn inv(&self, a: &BigUint) -> BigUint {
        a.modpow(&(&self.p - 2u8), &self.p)
    }
}

/// X448 public key of a 56-byte private key.
pub fn x448_public(secret: &[u8; 56]) -> [u8; 56] {
    let f = Field { p: prime() };
    let mut k = *secret;
    k[0] &= 252;
    k[55] |= 128;
    let k = BigUint::from_bytes_le(&k);
    let u = BigUint::from(5u8);
    let (mut x2, mut z2) = (BigUint::from(1u8), BigUint::from(0u8));
    let (mut x3, mut z3) = (u.clone(), BigUint::from(1u8));
    let a24 = BigUint::from(39081u32);
    for t in (0..448).rev() {
        // Not constant time: the key is already in the scanned file.
        if k.bit(t) {
            std::mem::swap(&mut x2, &mut x3);
            std::mem::swap(&mut z2, &mut z3);
        }
        let a = f.add(&x2, &z2);
        let aa = f.mul(&a, &a);
        let b = f.sub(&x2, &z2);
        let bb = f.mul(&b, &b);
        let e = f.sub(&aa, &bb);
        let c = f.add(&x3, &z3);
        let d = f.sub(&x3, &z3);
        let da = f.mul(&d, &a);
        let cb = f.mul(&c, &b);
        let s = f.add(&da, &cb);
        x3 = f.mul(&s, &s);
        let m = f.sub(&da, &cb);
        z3 = f.mul(&u, &f.mul(&m, &m));
        x2 = f.mul(&aa, &bb);
        z2 = f.mul(&e, &f.add(&aa, &f.mul(&a24, &e)));
        if k.bit(t) {
            std::mem::swap(&mut x2, &mut x3);
            std::mem::swap(&mut z2, &mut z3);
        }
    }
    le_bytes(&f.mul(&x2, &f.inv(&z2)))
}

fn le_bytes<const N: usize>(n: &BigUint) -> [u8; N] {
    let mut out = [0u8; N];
    let bytes = n.to_bytes_le();
    out[..bytes.len().min(N)].copy_from_slice(&bytes[..bytes.len().min(N)]);
    out
}

/// A point in projective coordinates (X : Y : Z).
type Point = (BigUint, BigUint, BigUint);

/// RFC 8032's addition on edwards448 (complete: it doubles too).
fn add(f: &Field, d: &BigUint, p: &Point, q: &Point) -> Point {
    let a = f.mul(&p.2, &q.2);
    let b = f.mul(&a, &a);
    let c = f.mul(&p.0, &q.0);
    let dd = f.mul(&p.1, &q.1);
    let e = f.mul(d, &f.mul(&c, &dd));
    let ff = f.sub(&b, &e);
    let g = f.add(&b, &e);
    let h = f.mul(&f.add(&p.0, &p.1), &f.add(&q.0, &q.1));
    let x = f.mul(&a, &f.mul(&ff, &f.sub(&f.sub(&h, &c), &dd)));
    let y = f.mul(&a, &f.mul(&g, &f.sub(&dd, &c)));
    (x, y, f.mul(&ff, &g))
}

/// Ed448 public key of a 57-byte private key.
pub fn ed448_public(secret: &[u8; 57]) -> [u8; 57] {
    let f = Field { p: prime() };
    let mut h = [0u8; 114];
    let mut shake = sha3::Shake256::default();
    shake.update(secret);
    shake.finalize_xof().read(&mut h);
    let mut s = [0u8; 57];
    s.copy_from_slice(&h[..57]);
    s[0] &= 252;
    s[55] |= 128;
    s[56] = 0;
    let s = BigUint::from_bytes_le(&s);
    let d = f.sub(&BigUint::from(0u8), &BigUint::from(39081u32));
    let num = |t: &str| BigUint::parse_bytes(t.as_bytes(), 10).unwrap_or_default();
    let base: Point = (
        num("224580040295924300187604334099896036246789641632564134246125461686950415467406032909029192869357953282578032075146446173674602635247710"),
        num("298819210078481492676017930443930673437544040154080242095928241372331506189835876003536878655418784733982303233503462500531545062832660"),
        BigUint::from(1u8),
    );
    let mut acc: Point = (BigUint::from(0u8), BigUint::from(1u8), BigUint::from(1u8));
    for t in (0..s.bits()).rev() {
        acc = add(&f, &d, &acc, &acc);
        if s.bit(t) {
            acc = add(&f, &d, &acc, &base);
        }
    }
    let zi = f.inv(&acc.2);
    let (x, y) = (f.mul(&acc.0, &zi), f.mul(&acc.1, &zi));
    let mut out: [u8; 57] = le_bytes(&y);
    if x.bit(0) {
        out[56] |= 0x80;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex<const N: usize>(s: &str) -> [u8; N] {
        let v: Vec<u8> = (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect();
        v.try_into().unwrap()
    }

    #[test]
    fn rfc_test_vectors() {
        // RFC 7748 section 6.2, Alice.
        let a = hex("9a8f4925d1519f5775cf46b04b5800d4ee9ee8bae8bc5565d498c28dd9c9baf574a9419744897391006382a6f127ab1d9ac2d8c0a598726b");
        let want: [u8; 56] = hex("9b08f7cc31b7e3e67d22d5aea121074a273bd2b83de09c63faa73d2c22c5d9bbc836647241d953d40c5b12da88120d53177f80e532c41fa0");
        assert_eq!(x448_public(&a), want);
        // RFC 8032 section 7.4, "Blank".
        let k = hex("6c82a562cb808d10d632be89c8513ebf6c929f34ddfa8c9f63c9960ef6e348a3528c8a3fcc2f044e39a3fc5b94492f8f032e7549a20098f95b");
        let want: [u8; 57] = hex("5fd7449b59b461fd2ce787ec616ad46a1da1342485a70e1f8a0ea75d80e96778edf124769b46c7061bd6783df1e50f6cd1fa1abeafe8256180");
        assert_eq!(ed448_public(&k), want);
    }
}
