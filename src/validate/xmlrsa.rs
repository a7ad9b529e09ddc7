//! .NET XML RSA keys: `<RSAKeyValue>` with base64 `<Modulus>`, `<Exponent>`,
//! `<D>`, `<P>`, `<Q>`, `<DP>`, `<DQ>`, `<InverseQ>`. P·Q = Modulus and D
//! against Exponent are checked (with only Modulus, Exponent and D, D is
//! checked by exponentiation). A block without `<D>` is a public key.

use super::fingerprint::bits;
use super::jwk::rsa_from_parts;
use super::Format;
use crate::rules::Validator;
use crate::scan::finding::KeyInfo;
use base64::Engine as _;

const NAME: &str = ".NET XML";

pub const FORMAT: Format = Format {
    validator: Validator::Xmlrsa,
    validate: |c| validate(&unescape(&String::from_utf8_lossy(&c.bytes))),
    lock: super::no_lock,
    redact: |_, lines, via| format!("<RSAKeyValue> [{lines} redacted]{via}"),
    placeholders: false,
};

/// An XML block escaped inside an attribute or text node (a `web.config`
/// `value="&lt;RSAKeyValue&gt;..."`), with its markup restored.
fn unescape(xml: &str) -> std::borrow::Cow<'_, str> {
    if xml.starts_with("&lt;") {
        xml.replace("&lt;", "<").replace("&gt;", ">").into()
    } else {
        xml.into()
    }
}

/// The base64 content of `<tag>`, decoded; `None` when absent or not base64.
fn element(xml: &str, tag: &str) -> Option<Vec<u8>> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&format!("</{tag}>"))?;
    // Line breaks, also escaped ones inside a JSON string, are not base64.
    let text: String = xml[start..end]
        .replace("\\r", "")
        .replace("\\n", "")
        .replace("\\t", "")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()
        .filter(|b| !b.is_empty())
}

pub fn validate(xml: &str) -> Option<KeyInfo> {
    let d = element(xml, "D").filter(|d| d.len() >= 32)?;
    let (Some(n), Some(e)) = (element(xml, "Modulus"), element(xml, "Exponent")) else {
        return Some(KeyInfo::unverified(
            NAME,
            "RSA",
            "no Modulus or Exponent to check D against",
        ));
    };
    let key_type = format!("RSA {}", bits(&n));
    let primes = element(xml, "P").zip(element(xml, "Q"));
    let crt = || ["DP", "DQ", "InverseQ"].map(|t| element(xml, t));
    Some(rsa_from_parts(NAME, key_type, [&n, &e, &d], primes, crt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_and_placeholder_blocks_are_no_key() {
        let public = "<RSAKeyValue><Modulus>AQAB</Modulus><Exponent>AQAB</Exponent></RSAKeyValue>";
        assert!(validate(public).is_none());
        assert!(validate("<RSAKeyValue><D>...</D></RSAKeyValue>").is_none());
        assert!(validate("<RSAKeyValue><D>").is_none());
        let escaped = unescape("&lt;RSAKeyValue&gt;&lt;D&gt;AQAB&lt;/D&gt;&lt;/RSAKeyValue&gt;");
        assert_eq!(escaped, "<RSAKeyValue><D>AQAB</D></RSAKeyValue>");
        assert_eq!(unescape("<D>&lt;</D>"), "<D>&lt;</D>");
    }
}
