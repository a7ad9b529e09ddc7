//! GnuPG's own secret-key store, `private-keys-v1.d/*.key`: the extended
//! form (`Key: (private-key ...)`) and the canonical S-expression form
//! (`(11:private-key...`). In clear the key is checked like any other;
//! `protected-private-key` is encrypted; `shadowed-private-key` (a smartcard
//! stub) holds no secret and is not reported.

use super::asn1::der_encode;
use super::{der, ec, fingerprint, oids, Format, Parsed};
use crate::rules::Validator;
use crate::scan::finding::{KeyInfo, Status};
use num_bigint::BigUint;

const NAME: &str = "GnuPG private-keys-v1.d";

pub const FORMAT: Format = Format {
    validator: Validator::Gnupg,
    validate: |c| validate(&c.bytes),
    lock: super::no_lock,
    redact: |_, lines, _| format!("GnuPG private key ({lines} redacted)"),
    // S-expressions are not base64 armor: judged whole.
    placeholders: false,
};

/// An S-expression: a byte string or a list.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Sexp {
    Atom(Vec<u8>),
    List(Vec<Sexp>),
}

impl Sexp {
    fn atom(&self) -> Option<&[u8]> {
        match self {
            Sexp::Atom(a) => Some(a),
            Sexp::List(_) => None,
        }
    }

    fn list(&self) -> Option<&[Sexp]> {
        match self {
            Sexp::List(l) => Some(l),
            Sexp::Atom(_) => None,
        }
    }

    fn name(&self) -> Option<&[u8]> {
        self.list()?.first()?.atom()
    }

    /// The value of the sub-list `(name value)`.
    fn field(&self, name: &str) -> Option<&[u8]> {
        self.list()?
            .iter()
            .find(|s| s.name() == Some(name.as_bytes()))?
            .list()?
            .get(1)?
            .atom()
    }

    fn has(&self, name: &str) -> bool {
        self.list()
            .is_some_and(|l| l.iter().any(|s| s.name() == Some(name.as_bytes())))
    }
}

/// Parse both the canonical (`3:abc`) and the advanced (`abc`, `#616263#`,
/// `"abc"`) notations. Bounded depth: hostile input cannot recurse deeply.
fn parse(data: &[u8], pos: &mut usize, depth: usize) -> Option<Sexp> {
    let skip = |pos: &mut usize| {
        while data.get(*pos).is_some_and(|b| b.is_ascii_whitespace()) {
            *pos += 1;
        }
    };
    skip(pos);
    match *data.get(*pos)? {
        b'(' => {
            if depth > 16 {
                return None;
            }
            *pos += 1;
            let mut items = Vec::new();
            loop {
                skip(pos);
                if *data.get(*pos)? == b')' {
                    *pos += 1;
                    return Some(Sexp::List(items));
                }
                items.push(parse(data, pos, depth + 1)?);
            }
        }
        b'0'..=b'9' => {
            let start = *pos;
            while data.get(*pos)?.is_ascii_digit() {
                *pos += 1;
            }
            if data[*pos] != b':' {
                return token(data, start, pos);
            }
            let len: usize = std::str::from_utf8(&data[start..*pos]).ok()?.parse().ok()?;
            *pos += 1;
            let bytes = data.get(*pos..pos.checked_add(len)?)?.to_vec();
            *pos += len;
            Some(Sexp::Atom(bytes))
        }
        b'#' => {
            *pos += 1;
            let mut hex = Vec::new();
            loop {
                let b = *data.get(*pos)?;
                *pos += 1;
                match b {
                    b'#' => break,
                    b if b.is_ascii_hexdigit() => hex.push(b),
                    b if b.is_ascii_whitespace() => {}
                    _ => return None,
                }
            }
            if hex.len() % 2 != 0 {
                return None;
            }
            let bytes = hex
                .chunks(2)
                .map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
                .collect::<Option<Vec<u8>>>()?;
            Some(Sexp::Atom(bytes))
        }
        b'"' => {
            *pos += 1;
            let start = *pos;
            while *data.get(*pos)? != b'"' {
                if data[*pos] == b'\\' {
                    *pos += 1;
                }
                *pos += 1;
            }
            let bytes = data[start..*pos].to_vec();
            *pos += 1;
            Some(Sexp::Atom(bytes))
        }
        _ => token(data, *pos, pos),
    }
}

fn token(data: &[u8], start: usize, pos: &mut usize) -> Option<Sexp> {
    let ok = |b: u8| b.is_ascii_alphanumeric() || b"-./_:*+=".contains(&b);
    while data.get(*pos).is_some_and(|b| ok(*b)) {
        *pos += 1;
    }
    (*pos > start).then(|| Sexp::Atom(data[start..*pos].to_vec()))
}

/// A key file or a `Key:` item; `None` when it is no GnuPG secret key.
pub fn validate(bytes: &[u8]) -> Option<KeyInfo> {
    let mut pos = memchr::memchr(b'(', bytes)?;
    let top = parse(bytes, &mut pos, 0)?;
    let kind = top.name()?;
    let key = top.list()?.get(1)?;
    let algo = String::from_utf8_lossy(key.name()?).to_ascii_lowercase();
    match kind {
        b"private-key" => Some(match clear(&algo, key) {
            Ok(mut info) => {
                info.format = NAME.into();
                info
            }
            Err(why) => KeyInfo::unverified(NAME, &family(&algo), why),
        }),
        b"protected-private-key" => {
            if !key.has("protected") {
                return Some(KeyInfo::unverified(
                    NAME,
                    &family(&algo),
                    "protected key without its protection",
                ));
            }
            let mut info = KeyInfo::new(Status::Encrypted, NAME, family(&algo));
            // The public half is in clear: fingerprint it where possible.
            if let Some(public) = public_of(&algo, key) {
                fingerprint::fill_ssh(&mut info, &public);
            }
            Some(info)
        }
        _ => None,
    }
}

fn family(algo: &str) -> String {
    match algo {
        "rsa" => "RSA".into(),
        "dsa" => "DSA".into(),
        "ecc" | "ecdsa" | "eddsa" => "EC".into(),
        "elg" => "Elgamal".into(),
        other => other.to_string(),
    }
}

fn public_of(algo: &str, key: &Sexp) -> Option<ssh_key::public::KeyData> {
    match algo {
        "rsa" => fingerprint::rsa_key(key.field("n")?, key.field("e")?),
        "ecc" if key.field("curve") == Some(b"Ed25519") => {
            let q = key.field("q")?;
            let pk: [u8; 32] = q.strip_prefix(&[0x40])?.try_into().ok()?;
            Some(fingerprint::ed25519_key(pk))
        }
        _ => None,
    }
}

fn clear(algo: &str, key: &Sexp) -> Parsed {
    let field = |name: &str| key.field(name).ok_or(format!("{name} is missing"));
    match algo {
        "rsa" => {
            let (n, e, d, p, q, u) = (
                field("n")?,
                field("e")?,
                field("d")?,
                field("p")?,
                field("q")?,
                field("u")?,
            );
            // libgcrypt keeps p < q and u = p⁻¹ mod q.
            der::rsa_check([n, e, d, q, p], [None, None, Some(u)])?;
            let mut info =
                KeyInfo::new(Status::Valid, NAME, format!("RSA {}", fingerprint::bits(n)));
            let public = fingerprint::rsa_key(n, e).ok_or("RSA public key does not encode")?;
            fingerprint::fill_ssh(&mut info, &public);
            fingerprint::fill_rsa_pkcs8_sha1_from_parts(&mut info, [n, e, d, p, q]);
            Ok(info)
        }
        "dsa" => der::dsa_info(
            field("p")?,
            field("q")?,
            field("g")?,
            Some(field("y")?),
            field("x")?,
        ),
        "elg" => {
            let (p, g, y, x) = (field("p")?, field("g")?, field("y")?, field("x")?);
            let (pb, xb) = (BigUint::from_bytes_be(p), BigUint::from_bytes_be(x));
            if !(512..=8192).contains(&pb.bits()) || xb.bits() == 0 || xb >= pb {
                return Err("Elgamal parameters out of range".into());
            }
            if BigUint::from_bytes_be(g).modpow(&xb, &pb) != BigUint::from_bytes_be(y) {
                return Err("Elgamal public value does not match the private key".into());
            }
            Ok(KeyInfo::new(
                Status::Valid,
                NAME,
                format!("Elgamal {}", pb.bits()),
            ))
        }
        "ecc" | "ecdsa" | "eddsa" => {
            let curve = String::from_utf8_lossy(field("curve")?).into_owned();
            let (q, d) = (field("q")?, field("d")?);
            match curve.as_str() {
                "Ed25519" => {
                    let seed: [u8; 32] =
                        d.try_into().map_err(|_| "Ed25519 secret is not 32 bytes")?;
                    let derived = ed25519_dalek::SigningKey::from_bytes(&seed)
                        .verifying_key()
                        .to_bytes();
                    if q.strip_prefix(&[0x40]) != Some(&derived[..]) {
                        return Err("Ed25519 public key does not match the private key".into());
                    }
                    let mut info = KeyInfo::new(Status::Valid, NAME, "Ed25519");
                    fingerprint::fill_ssh(&mut info, &fingerprint::ed25519_key(derived));
                    Ok(info)
                }
                "NIST P-256" | "nistp256" | "NIST P-384" | "nistp384" | "NIST P-521"
                | "nistp521" => {
                    let oid = match &curve[curve.len() - 3..] {
                        "256" => oids::P256,
                        "384" => oids::P384,
                        _ => oids::P521,
                    };
                    // Re-wrap as SEC1 so the EC checks apply unchanged.
                    let mut body = der_encode(0x02, &[1]);
                    let len = oids::curve(&oid).map_or(66, |(_, len)| len);
                    // An MPI may carry a sign octet or drop leading zeros.
                    let d = &d[d.iter().position(|b| *b != 0).unwrap_or(d.len())..];
                    let mut scalar = vec![0u8; len.max(d.len()) - d.len()];
                    scalar.extend(d);
                    body.extend(der_encode(0x04, &scalar));
                    let mut bits = vec![0];
                    bits.extend(q);
                    body.extend(der_encode(0xa1, &der_encode(0x03, &bits)));
                    ec::key(&der_encode(0x30, &body), Some(oid), None)
                }
                "Curve25519" | "cv25519" | "Ed448" | "X448" | "Curve448" => {
                    let len = if curve.contains("25519") { 32 } else { 57 };
                    if d.is_empty() || d.len() > len {
                        return Err(format!("{curve} secret has the wrong length"));
                    }
                    let name = match curve.as_str() {
                        "Curve25519" | "cv25519" => "X25519",
                        "Ed448" => "Ed448",
                        _ => "X448",
                    };
                    Ok(KeyInfo::new(Status::Valid, NAME, name))
                }
                other => Ok(KeyInfo::new(Status::Valid, NAME, format!("EC ({other})"))),
            }
        }
        other => Err(format!("unknown algorithm {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_notations_parse_alike() {
        let canonical = b"(11:private-key(3:ecc(5:curve7:Ed25519)))";
        let advanced = b"(private-key (ecc (curve Ed25519)))";
        let hex = b"(private-key (ecc (curve #45643235353139#)))";
        let a = parse(canonical, &mut 0, 0).unwrap();
        assert_eq!(a, parse(advanced, &mut 0, 0).unwrap());
        assert_eq!(a, parse(hex, &mut 0, 0).unwrap());
    }

    #[test]
    fn deep_or_truncated_input_never_panics() {
        let deep = "(".repeat(10_000);
        assert!(validate(deep.as_bytes()).is_none());
        let text = b"(11:private-key(3:rsa(1:n3:\x01\x02\x03)(1:e1:\x03)))";
        for cut in 0..text.len() {
            let _ = validate(&text[..cut]);
        }
    }
}
