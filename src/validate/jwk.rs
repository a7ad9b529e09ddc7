//! JSON Web Keys with a private member `d` (RFC 7517/7518/8037), alone or
//! in a JWKS, one-line or pretty-printed, also inside escaped strings.
//! The private half is checked against the public one: RSA p·q = n and d
//! consistent with e; EC d·G = (x, y); OKP public from d = x. Without the
//! public members the key is `unverified`; a `d` that is no base64url of a
//! plausible length is a placeholder and no key at all.
//!
//! Fingerprint: OpenSSH `SHA256:` where the algorithm has one (RSA, NIST
//! ECDSA, Ed25519), else the RFC 7638 thumbprint; the note always carries
//! the thumbprint (often the key's `kid`).

use super::age::x25519_public;
use super::fingerprint::{self, bits};
use super::{curve448, der, Format};
use crate::rules::Validator;
use crate::scan::finding::{KeyInfo, Status};
use base64::Engine as _;
use num_bigint::BigUint;
use serde_json::{Map, Value};
use sha2::Digest;

const NAME: &str = "JWK";

pub const FORMAT: Format = Format {
    validator: Validator::Jwk,
    validate: |c| validate(&c.bytes),
    lock: super::no_lock,
    redact: |_, lines, via| format!("{{\"kty\": ..., \"d\": ...}} [{lines} redacted]{via}"),
    placeholders: false,
};

type Members = Map<String, Value>;

pub fn validate(matched: &[u8]) -> Option<KeyInfo> {
    let jwk = parse(&String::from_utf8_lossy(matched))?;
    let d = member(&jwk, "d")?;
    let kty = jwk.get("kty")?.as_str()?;
    let thumbprint = thumbprint(&jwk, kty);
    let mut info = match kty {
        "RSA" => rsa(&jwk, &d)?,
        "EC" => ec(&jwk, &d)?,
        "OKP" => okp(&jwk, &d)?,
        _ => return None,
    };
    if let Some(tp) = thumbprint.filter(|_| info.status == Status::Valid) {
        if info.fingerprint.is_none() {
            info.fingerprint = Some(tp.clone());
        }
        let note = format!("JWK thumbprint {tp}");
        info.note = Some(match info.note.take() {
            Some(n) => format!("{n}; {note}"),
            None => note,
        });
    }
    Some(info)
}

/// The JSON object, after undoing up to three layers of string escaping.
fn parse(text: &str) -> Option<Members> {
    let mut text = text.to_string();
    for _ in 0..4 {
        if let Ok(Value::Object(m)) = serde_json::from_str(&text) {
            return Some(m);
        }
        if !text.contains('\\') {
            return None;
        }
        text = unescape(&text);
    }
    None
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'r' | 't') => out.push(' '),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// A base64url member, decoded; `None` when absent or not base64url.
fn member(jwk: &Members, name: &str) -> Option<Vec<u8>> {
    let text = jwk.get(name)?.as_str()?.trim_end_matches('=');
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()?;
    (!bytes.is_empty()).then_some(bytes)
}

/// RFC 7638: SHA-256 of the required public members in lexicographic order.
fn thumbprint(jwk: &Members, kty: &str) -> Option<String> {
    let names: &[&str] = match kty {
        "RSA" => &["e", "kty", "n"],
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        _ => return None,
    };
    let mut canonical = Map::new();
    for &n in names {
        canonical.insert(
            n.to_string(),
            Value::String(jwk.get(n)?.as_str()?.to_string()),
        );
    }
    let json = serde_json::to_string(&Value::Object(canonical)).ok()?;
    let digest = sha2::Sha256::digest(json.as_bytes());
    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest))
}

fn rsa(jwk: &Members, d: &[u8]) -> Option<KeyInfo> {
    if d.len() < 32 {
        return None;
    }
    let (Some(n), Some(e)) = (member(jwk, "n"), member(jwk, "e")) else {
        return Some(KeyInfo::unverified(
            NAME,
            "RSA",
            "no public modulus to check d against",
        ));
    };
    let key_type = format!("RSA {}", bits(&n));
    let primes = member(jwk, "p").zip(member(jwk, "q"));
    let crt = || [member(jwk, "dp"), member(jwk, "dq"), member(jwk, "qi")];
    Some(rsa_from_parts(NAME, key_type, [&n, &e, d], primes, crt))
}

/// An RSA key given as its numbers (JWK, .NET XML): d checked against n and
/// e (with the primes and CRT values when there are), then fingerprinted.
pub fn rsa_from_parts(
    name: &str,
    key_type: String,
    [n, e, d]: [&[u8]; 3],
    primes: Option<(Vec<u8>, Vec<u8>)>,
    crt: impl FnOnce() -> [Option<Vec<u8>>; 3],
) -> KeyInfo {
    let checked = match &primes {
        Some((p, q)) => der::rsa_check([n, e, d, p, q], crt().each_ref().map(|v| v.as_deref())),
        None => exponents_agree(n, e, d),
    };
    if let Err(why) = checked {
        return KeyInfo::unverified(name, &key_type, why);
    }
    let Some(public) = fingerprint::rsa_key(n, e) else {
        return KeyInfo::unverified(name, &key_type, "RSA public key does not encode");
    };
    let mut info = KeyInfo::new(Status::Valid, name, key_type);
    fingerprint::fill_ssh(&mut info, &public);
    if let Some((p, q)) = primes {
        fingerprint::fill_rsa_pkcs8_sha1_from_parts(&mut info, [n, e, d, &p, &q]);
    }
    info
}

/// Without the primes: (2^e)^d = 2 mod n holds only for a matching d.
pub fn exponents_agree(n: &[u8], e: &[u8], d: &[u8]) -> Result<(), String> {
    let [n, e, d] = [n, e, d].map(BigUint::from_bytes_be);
    if !(256..=16384).contains(&n.bits()) || e.bits() > 64 || d >= n {
        return Err("RSA key parameters out of range".into());
    }
    let two = BigUint::from(2u8);
    if two.modpow(&e, &n).modpow(&d, &n) != two {
        return Err("RSA private exponent does not match the public key".into());
    }
    Ok(())
}

fn ec(jwk: &Members, d: &[u8]) -> Option<KeyInfo> {
    let crv = jwk.get("crv")?.as_str()?;
    let (key_type, len) = match crv {
        "P-256" => ("ECDSA P-256", 32),
        "P-384" => ("ECDSA P-384", 48),
        "P-521" => ("ECDSA P-521", 66),
        "secp256k1" => ("ECDSA secp256k1", 32),
        _ => return None,
    };
    if d.len() != len {
        return None;
    }
    let (Some(x), Some(y)) = (member(jwk, "x"), member(jwk, "y")) else {
        return Some(KeyInfo::unverified(
            NAME,
            key_type,
            "no public point to check d against",
        ));
    };
    let mut point = vec![4u8];
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    // Each curve: (d is a scalar of it, d·G is the stored point).
    macro_rules! check {
        ($curve:ident) => {
            $curve::SecretKey::from_slice(d)
                .ok()
                .map(|s| $curve::PublicKey::from_sec1_bytes(&point).ok() == Some(s.public_key()))
        };
    }
    let matches = match crv {
        "P-256" => check!(p256),
        "P-384" => check!(p384),
        "P-521" => check!(p521),
        _ => check!(k256),
    };
    match matches {
        None => {
            let why = "EC private scalar is out of range";
            return Some(KeyInfo::unverified(NAME, key_type, why));
        }
        Some(false) => {
            let why = "public point does not match d";
            return Some(KeyInfo::unverified(NAME, key_type, why));
        }
        Some(true) => {}
    }
    let mut info = KeyInfo::new(Status::Valid, NAME, key_type);
    if crv != "secp256k1" {
        fingerprint::fill_ssh(&mut info, &fingerprint::ecdsa_key(&point)?);
    }
    Some(info)
}

fn okp(jwk: &Members, d: &[u8]) -> Option<KeyInfo> {
    let crv = jwk.get("crv")?.as_str()?;
    let len = match crv {
        "Ed25519" | "X25519" => 32,
        "Ed448" => 57,
        "X448" => 56,
        _ => return None,
    };
    if d.len() != len {
        return None;
    }
    let Some(x) = member(jwk, "x") else {
        return Some(KeyInfo::unverified(
            NAME,
            crv,
            "no public key to check d against",
        ));
    };
    if x.len() != len {
        return Some(KeyInfo::unverified(
            NAME,
            crv,
            "public key has the wrong length",
        ));
    }
    let public: Vec<u8> = match (crv, d) {
        ("Ed25519", d) => ed25519_dalek::SigningKey::from_bytes(d.try_into().ok()?)
            .verifying_key()
            .to_bytes()
            .to_vec(),
        ("X25519", d) => x25519_public(d.try_into().ok()?).to_vec(),
        ("Ed448", d) => curve448::ed448_public(d.try_into().ok()?).to_vec(),
        (_, d) => curve448::x448_public(d.try_into().ok()?).to_vec(),
    };
    if x != public {
        return Some(KeyInfo::unverified(
            NAME,
            crv,
            "public key does not match d",
        ));
    }
    let mut info = KeyInfo::new(Status::Valid, NAME, crv);
    if crv == "Ed25519" {
        fingerprint::fill_ssh(
            &mut info,
            &fingerprint::ed25519_key(public.try_into().ok()?),
        );
    }
    Some(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_layers_parse() {
        let m = parse(r#"{\"kty\":\"OKP\",\n \"d\":\"AA\"}"#).unwrap();
        assert_eq!(m["kty"], "OKP");
        let m = parse(r#"{\\\"kty\\\":\\\"EC\\\"}"#).unwrap();
        assert_eq!(m["kty"], "EC");
        assert!(parse("{not json}").is_none());
    }

    #[test]
    fn placeholders_are_no_key() {
        for text in [
            r#"{"kty":"RSA","n":"...","e":"AQAB","d":"..."}"#,
            r#"{"kty":"EC","crv":"P-256","x":"x","y":"y","d":"<private>"}"#,
            r#"{"kty":"OKP","crv":"Ed25519","x":"AA","d":"base64url"}"#,
            r#"{"kty":"oct","k":"AAAA","d":"AAAA"}"#,
        ] {
            assert!(validate(text.as_bytes()).is_none(), "{text}");
        }
    }

    #[test]
    fn rfc7638_thumbprint_example() {
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let jwk = parse(&format!(
            r#"{{"kty":"RSA","n":"{n}","e":"AQAB","alg":"RS256","kid":"2011-04-29"}}"#
        ))
        .unwrap();
        assert_eq!(
            thumbprint(&jwk, "RSA").as_deref(),
            Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
        );
    }
}
