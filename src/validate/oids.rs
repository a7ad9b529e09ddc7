//! Registered private-key algorithms, by PKCS#8 OID, with a readable name
//! and the shape their private key must have. A PKCS#8 whose OID is not
//! here is not a key any tool can use, so it is never called `valid`.

use der::asn1::ObjectIdentifier as Oid;

/// What the PKCS#8 `privateKey` OCTET STRING of an algorithm holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Parsed and checked by a dedicated parser (RSA, EC, DSA, Ed25519).
    Parsed,
    /// RFC 8410 `CurvePrivateKey`: an OCTET STRING of exactly this length.
    Octet(usize),
    /// Diffie-Hellman: an INTEGER.
    Integer,
    /// GOST, bign: the scalar as an OCTET STRING, an INTEGER or bare, of one
    /// of these lengths (tools differ).
    Scalar(&'static [usize]),
    /// ML-DSA, ML-KEM (RFC 9881, RFC 9935): `[0]` seed, expanded OCTET
    /// STRING, or a SEQUENCE of both; bare bytes from early drafts too.
    Seeded { seed: usize, expanded: usize },
    /// SLH-DSA (RFC 9909): the raw key bytes, of exactly this length.
    Raw(usize),
}

pub struct KeyAlgorithm {
    pub oid: Oid,
    pub name: &'static str,
    pub shape: Shape,
}

const fn alg(oid: &str, name: &'static str, shape: Shape) -> KeyAlgorithm {
    KeyAlgorithm {
        oid: Oid::new_unwrap(oid),
        name,
        shape,
    }
}

const fn ml_dsa(oid: &str, name: &'static str, expanded: usize) -> KeyAlgorithm {
    alg(oid, name, Shape::Seeded { seed: 32, expanded })
}

const fn ml_kem(oid: &str, name: &'static str, expanded: usize) -> KeyAlgorithm {
    alg(oid, name, Shape::Seeded { seed: 64, expanded })
}

const GOST_256: &[usize] = &[32];
const GOST_512: &[usize] = &[64];
const BIGN: &[usize] = &[32, 48, 64];

pub const RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
pub const RSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
pub const RSA_OAEP: Oid = Oid::new_unwrap("1.2.840.113549.1.1.7");
pub const EC: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
pub const EC_DH: Oid = Oid::new_unwrap("1.3.132.1.12");
pub const SM2_ALG: Oid = Oid::new_unwrap("1.2.156.10197.1.301");
pub const DSA: Oid = Oid::new_unwrap("1.2.840.10040.4.1");
pub const ED25519: Oid = Oid::new_unwrap("1.3.101.112");

/// Every private-key algorithm keyscan knows.
pub const KEY_ALGORITHMS: &[KeyAlgorithm] = &[
    alg("1.2.840.113549.1.1.1", "RSA", Shape::Parsed),
    alg("1.2.840.113549.1.1.10", "RSA-PSS", Shape::Parsed),
    alg("1.2.840.113549.1.1.7", "RSA-OAEP", Shape::Parsed),
    alg("1.2.840.10045.2.1", "EC", Shape::Parsed),
    alg("1.3.132.1.12", "ECDH", Shape::Parsed),
    alg("1.2.156.10197.1.301", "SM2", Shape::Parsed),
    alg("1.2.840.10040.4.1", "DSA", Shape::Parsed),
    alg("1.3.101.112", "Ed25519", Shape::Parsed),
    alg("1.3.101.113", "Ed448", Shape::Octet(57)),
    alg("1.3.101.110", "X25519", Shape::Octet(32)),
    alg("1.3.101.111", "X448", Shape::Octet(56)),
    alg("1.2.840.113549.1.3.1", "DH", Shape::Integer),
    alg("1.2.840.10046.2.1", "DH (X9.42)", Shape::Integer),
    alg(
        "1.2.643.2.2.19",
        "GOST R 34.10-2001",
        Shape::Scalar(GOST_256),
    ),
    alg(
        "1.2.643.7.1.1.1.1",
        "GOST R 34.10-2012 256",
        Shape::Scalar(GOST_256),
    ),
    alg(
        "1.2.643.7.1.1.1.2",
        "GOST R 34.10-2012 512",
        Shape::Scalar(GOST_512),
    ),
    alg("1.2.112.0.2.0.34.101.45.2.1", "bign", Shape::Scalar(BIGN)),
    ml_dsa("2.16.840.1.101.3.4.3.17", "ML-DSA-44", 2560),
    ml_dsa("2.16.840.1.101.3.4.3.18", "ML-DSA-65", 4032),
    ml_dsa("2.16.840.1.101.3.4.3.19", "ML-DSA-87", 4896),
    ml_dsa("2.16.840.1.101.3.4.3.32", "HashML-DSA-44", 2560),
    ml_dsa("2.16.840.1.101.3.4.3.33", "HashML-DSA-65", 4032),
    ml_dsa("2.16.840.1.101.3.4.3.34", "HashML-DSA-87", 4896),
    alg(
        "2.16.840.1.101.3.4.3.20",
        "SLH-DSA-SHA2-128s",
        Shape::Raw(64),
    ),
    alg(
        "2.16.840.1.101.3.4.3.21",
        "SLH-DSA-SHA2-128f",
        Shape::Raw(64),
    ),
    alg(
        "2.16.840.1.101.3.4.3.22",
        "SLH-DSA-SHA2-192s",
        Shape::Raw(96),
    ),
    alg(
        "2.16.840.1.101.3.4.3.23",
        "SLH-DSA-SHA2-192f",
        Shape::Raw(96),
    ),
    alg(
        "2.16.840.1.101.3.4.3.24",
        "SLH-DSA-SHA2-256s",
        Shape::Raw(128),
    ),
    alg(
        "2.16.840.1.101.3.4.3.25",
        "SLH-DSA-SHA2-256f",
        Shape::Raw(128),
    ),
    alg(
        "2.16.840.1.101.3.4.3.26",
        "SLH-DSA-SHAKE-128s",
        Shape::Raw(64),
    ),
    alg(
        "2.16.840.1.101.3.4.3.27",
        "SLH-DSA-SHAKE-128f",
        Shape::Raw(64),
    ),
    alg(
        "2.16.840.1.101.3.4.3.28",
        "SLH-DSA-SHAKE-192s",
        Shape::Raw(96),
    ),
    alg(
        "2.16.840.1.101.3.4.3.29",
        "SLH-DSA-SHAKE-192f",
        Shape::Raw(96),
    ),
    alg(
        "2.16.840.1.101.3.4.3.30",
        "SLH-DSA-SHAKE-256s",
        Shape::Raw(128),
    ),
    alg(
        "2.16.840.1.101.3.4.3.31",
        "SLH-DSA-SHAKE-256f",
        Shape::Raw(128),
    ),
    ml_kem("2.16.840.1.101.3.4.4.1", "ML-KEM-512", 1632),
    ml_kem("2.16.840.1.101.3.4.4.2", "ML-KEM-768", 2400),
    ml_kem("2.16.840.1.101.3.4.4.3", "ML-KEM-1024", 3168),
];

pub fn key_algorithm(oid: &Oid) -> Option<&'static KeyAlgorithm> {
    KEY_ALGORITHMS.iter().find(|a| a.oid == *oid)
}

pub const P256: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
pub const P384: Oid = Oid::new_unwrap("1.3.132.0.34");
pub const P521: Oid = Oid::new_unwrap("1.3.132.0.35");
pub const SECP256K1: Oid = Oid::new_unwrap("1.3.132.0.10");

/// Named elliptic curves: OID, readable name, and the byte length of the
/// private scalar.
pub const CURVES: &[(Oid, &str, usize)] = &[
    (P256, "P-256", 32),
    (P384, "P-384", 48),
    (P521, "P-521", 66),
    (SECP256K1, "secp256k1", 32),
    (Oid::new_unwrap("1.3.132.0.33"), "P-224", 28),
    (Oid::new_unwrap("1.2.840.10045.3.1.1"), "P-192", 24),
    (Oid::new_unwrap("1.2.156.10197.1.301"), "SM2", 32),
    (
        Oid::new_unwrap("1.3.36.3.3.2.8.1.1.1"),
        "brainpoolP160r1",
        20,
    ),
    (
        Oid::new_unwrap("1.3.36.3.3.2.8.1.1.3"),
        "brainpoolP192r1",
        24,
    ),
    (
        Oid::new_unwrap("1.3.36.3.3.2.8.1.1.5"),
        "brainpoolP224r1",
        28,
    ),
    (
        Oid::new_unwrap("1.3.36.3.3.2.8.1.1.7"),
        "brainpoolP256r1",
        32,
    ),
    (
        Oid::new_unwrap("1.3.36.3.3.2.8.1.1.8"),
        "brainpoolP256t1",
        32,
    ),
    (
        Oid::new_unwrap("1.3.36.3.3.2.8.1.1.9"),
        "brainpoolP320r1",
        40,
    ),
    (
        Oid::new_unwrap("1.3.36.3.3.2.8.1.1.11"),
        "brainpoolP384r1",
        48,
    ),
    (
        Oid::new_unwrap("1.3.36.3.3.2.8.1.1.12"),
        "brainpoolP384t1",
        48,
    ),
    (
        Oid::new_unwrap("1.3.36.3.3.2.8.1.1.13"),
        "brainpoolP512r1",
        64,
    ),
    (
        Oid::new_unwrap("1.3.36.3.3.2.8.1.1.14"),
        "brainpoolP512t1",
        64,
    ),
    (Oid::new_unwrap("1.3.132.0.31"), "secp192k1", 24),
    (Oid::new_unwrap("1.3.132.0.32"), "secp224k1", 29),
];

pub fn curve(oid: &Oid) -> Option<(&'static str, usize)> {
    CURVES
        .iter()
        .find(|(o, _, _)| o == oid)
        .map(|(_, name, len)| (*name, *len))
}
