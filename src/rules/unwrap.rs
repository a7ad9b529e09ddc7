//! Strip the disguises a key wears in real files, so validators always see
//! clean armor: CRLF, indentation, `\n` escapes inside JSON/Go/JS/Python
//! strings, one string literal per line joined by `+`, comment markers.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use regex::Regex;
use std::sync::LazyLock;

/// One line of armor after unwrapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// `Name: value` (PEM headers such as `Proc-Type`, PPK fields, PGP `Version`).
    Header(String, String),
    /// Base64 characters only.
    Data(String),
    /// Anything else: prose, code, placeholders such as `...`.
    Junk,
}

/// The inside of a key block, marker lines removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Armor {
    /// The BEGIN label (`RSA PRIVATE KEY`), empty for formats without one.
    pub label: String,
    pub lines: Vec<Line>,
}

impl Armor {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.lines.iter().find_map(|l| match l {
            Line::Header(k, v) if k.eq_ignore_ascii_case(name) => Some(v.as_str()),
            _ => None,
        })
    }

    /// All data lines joined: the base64 body.
    pub fn data(&self) -> String {
        let mut out = String::new();
        for l in &self.lines {
            if let Line::Data(d) = l {
                out.push_str(d);
            }
        }
        out
    }

    /// The base64 body decoded, or `None` when it is not valid base64.
    pub fn decoded(&self) -> Option<Vec<u8>> {
        decode_base64(self.data().as_bytes())
    }

    pub fn junk_lines(&self) -> usize {
        self.lines
            .iter()
            .filter(|l| matches!(l, Line::Junk))
            .count()
    }

    /// True when the body cannot hold key material: too short or too uniform
    /// (`...`, `<your key here>`, `xxxx`, `MIIEpAIBAAKCAQEA...`).
    pub fn is_placeholder(&self) -> bool {
        let data = self.data();
        let mut seen = [false; 256];
        for b in data.bytes() {
            seen[b as usize] = true;
        }
        let distinct = seen.iter().filter(|s| **s).count();
        data.trim_end_matches('=').len() * 3 / 4 < MIN_KEY_BYTES || distinct < 16
    }
}

/// The smallest private key encoding there is (Ed25519 PKCS#8 DER) is 48 bytes.
pub const MIN_KEY_BYTES: usize = 48;

/// Escaped newlines inside string literals, including doubly escaped ones.
static ESCAPES: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:\\+r)?\\+n|\\+r").expect("valid regex"));
static HEADER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([A-Za-z][A-Za-z0-9-]*):\s*(.*)$").expect("valid regex"));

/// Unwrap the body of a key block (the bytes between its markers, or a whole
/// PPK file) into armor lines.
pub fn armor(label: &str, body: &[u8]) -> Armor {
    let text = String::from_utf8_lossy(body);
    let text = ESCAPES.replace_all(&text, "\n");
    let lines = text.split('\n').filter_map(classify).collect();
    Armor {
        label: label.to_string(),
        lines,
    }
}

fn classify(line: &str) -> Option<Line> {
    let t = line.trim();
    if t.is_empty() {
        return None;
    }
    let h = t.trim_start_matches(|c: char| {
        matches!(c, '"' | '\'' | '`' | '+' | '#' | '*' | '/') || c.is_whitespace()
    });
    if let Some(caps) = HEADER.captures(h) {
        let value = caps[2].trim_end_matches(|c: char| {
            matches!(c, '"' | '\'' | '`' | ',' | ';' | '+' | '\\' | ')') || c.is_whitespace()
        });
        return Some(Line::Header(caps[1].to_string(), value.to_string()));
    }
    let mut data = String::new();
    for tok in t.split_whitespace() {
        let tok = strip_token(tok);
        if tok.is_empty() || OPERATORS.contains(&tok) {
            continue;
        }
        if tok.bytes().all(is_base64) {
            data.push_str(tok);
        } else {
            return Some(Line::Junk);
        }
    }
    (!data.is_empty()).then_some(Line::Data(data))
}

/// Tokens that join or introduce string literals and comments, never key data.
const OPERATORS: &[&str] = &[
    "+", ".", "..", "&", "-", "#", "//", "*", "|", "|-", ">", ">-", "<<", ",", "\\", ":", "=",
];

/// The string literal's content if the token is (part of) one; else the token
/// without trailing punctuation.
fn strip_token(tok: &str) -> &str {
    let is_quote = |c: char| matches!(c, '"' | '\'' | '`');
    let tok = match (tok.find(is_quote), tok.rfind(is_quote)) {
        (Some(a), Some(b)) if a < b => &tok[a + 1..b],
        (Some(a), _) if a + 1 == tok.len() => match &tok[..a] {
            // A string prefix opening a literal whose text is on the next line.
            "b" | "r" | "f" | "u" | "br" | "rb" | "B" | "R" => "",
            before => before,
        },
        (Some(a), _) => &tok[a + 1..],
        _ => tok,
    };
    tok.trim_start_matches('(')
        .trim_end_matches(['\\', ',', ';', ')'])
}

pub fn is_base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')
}

static LENIENT: LazyLock<GeneralPurpose> = LazyLock::new(|| {
    GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    )
});

/// Decode base64, tolerating missing padding; `None` if it is not base64.
pub fn decode_base64(data: &[u8]) -> Option<Vec<u8>> {
    LENIENT.decode(data).ok()
}

/// Decode the longest decodable prefix of a base64 run that may be wrapped,
/// indented or carry `\n` escapes (a PEM file encoded again).
pub fn decode_base64_prefix(run: &[u8]) -> Vec<u8> {
    let mut clean = Vec::with_capacity(run.len());
    let mut i = 0;
    while i < run.len() {
        let b = run[i];
        if b == b'\\' && matches!(run.get(i + 1), Some(b'n' | b'r')) {
            i += 2;
            continue;
        }
        if b == b'=' {
            break;
        }
        if is_base64(b) {
            clean.push(b);
        }
        i += 1;
    }
    if clean.len() % 4 == 1 {
        clean.pop();
    }
    LENIENT.decode(&clean).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data_of(body: &str) -> String {
        armor("X", body.as_bytes()).data()
    }

    #[test]
    fn plain_crlf_and_indented_lines() {
        assert_eq!(data_of("\nQUJD\nREVG\n"), "QUJDREVG");
        assert_eq!(data_of("\r\nQUJD\r\nREVG\r\n"), "QUJDREVG");
        assert_eq!(data_of("\n    QUJD\n    REVG\n    "), "QUJDREVG");
    }

    #[test]
    fn escaped_newlines_in_one_string() {
        assert_eq!(data_of(r"\nQUJD\nREVG\n"), "QUJDREVG");
        assert_eq!(data_of(r"\r\nQUJD\r\nREVG\r\n"), "QUJDREVG");
        assert_eq!(data_of(r"\\nQUJD\\nREVG\\n"), "QUJDREVG");
    }

    #[test]
    fn one_literal_per_line_concatenated() {
        let body = "\\n\" +\n  \"QUJD\\n\" +\n  \"RE+G\\n\" +\n  \"";
        assert_eq!(data_of(body), "QUJDRE+G");
        let py = "\\n\"\n    b\"QUJD\\n\"\n    b\"REVG\\n\"\n    b\"";
        assert_eq!(data_of(py), "QUJDREVG");
    }

    #[test]
    fn headers_are_kept_and_junk_is_marked() {
        let a = armor(
            "RSA PRIVATE KEY",
            b"\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00FF\n\nQUJD\n...\n",
        );
        assert_eq!(a.header("proc-type"), Some("4,ENCRYPTED"));
        assert_eq!(a.header("DEK-Info"), Some("AES-128-CBC,00FF"));
        assert_eq!(a.junk_lines(), 1);
        assert_eq!(a.data(), "QUJD");
    }

    #[test]
    fn placeholders_are_recognised() {
        assert!(armor("X", b"\n...\n").is_placeholder());
        assert!(armor("X", b"\n<your key here>\n").is_placeholder());
        assert!(armor("X", b"\nMIIEpAIBAAKCAQEA...\n").is_placeholder());
        assert!(armor(
            "X",
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n".repeat(5).as_bytes()
        )
        .is_placeholder());
        let real = "MIIEpAIBAAKCAQEAwJ7x0n3Gq1tV9hZkF8mB2yQpL4sDcXaR6eUoT5vNiWjHgKbYfMzl\n";
        assert!(!armor("X", real.as_bytes()).is_placeholder());
    }

    #[test]
    fn base64_prefix_survives_wrapping_and_junk() {
        let enc = "SGVsbG8sIHdv\n    cmxkIQ==\nnext: key";
        assert_eq!(decode_base64_prefix(enc.as_bytes()), b"Hello, world!");
        assert_eq!(
            decode_base64_prefix(br"SGVsbG8s\nIHdvcmxkIQ"),
            b"Hello, world!"
        );
    }
}
