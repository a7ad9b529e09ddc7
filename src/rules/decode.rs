//! Undo encodings. `peel_layers` takes escapes and encodings off a key's
//! body, one layer per round (JSON/C escapes at any depth, `\uXXXX`,
//! XML/HTML entities, `<br>`, percent, quoted-printable). The others decode
//! whole runs or blobs whose very markers are hidden (percent-encoded URLs,
//! quoted-printable mail, UTF-16), so they can be scanned again.

use regex::Regex;
use std::borrow::Cow;
use std::sync::LazyLock;

/// Escapes and encodings nest (a JSON string in a JSON string, entities in
/// JSON); each round peels one layer, and this many rounds are enough.
const MAX_LAYERS: usize = 8;

/// Numeric character references and the named entities a key's text needs.
static ENTITY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|(amp|lt|gt|quot|apos|sol|plus|equals|nbsp|NewLine));")
        .expect("valid regex")
});
/// `<br>`, `<br/>`, `<br />`, `</br>` between lines.
static BREAK_TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)</?br\s*/?>").expect("valid regex"));
/// Percent-encoded line breaks or base64 characters.
static PERCENT_HINT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"%(?:0[AaDd]|2[BbFf]|3[Dd])").expect("valid regex"));
/// Quoted-printable: encoded `=`, line breaks, or a soft break inside a
/// base64 run (real base64 has `=` only at its very end).
static QP_HINT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"=(?:3[Dd]|0[AaDd])|=(?:\r\n?|\n)[A-Za-z0-9+/]+=*(?:\r|\n|\z)")
        .expect("valid regex")
});

/// Undo escapes and encodings, one layer per round, until nothing changes.
pub(super) fn peel_layers(text: Cow<'_, str>) -> String {
    let mut text = text.into_owned();
    for _ in 0..MAX_LAYERS {
        let next = peel_once(&text);
        if next == text {
            break;
        }
        text = next;
    }
    text
}

fn peel_once(text: &str) -> String {
    let mut out = if text.contains('\\') {
        unescape(text)
    } else {
        text.to_string()
    };
    if out.contains('&') {
        out = ENTITY
            .replace_all(&out, |caps: &regex::Captures| {
                let code = match (caps.get(1), caps.get(2), caps.get(3)) {
                    (Some(d), _, _) => d.as_str().parse().ok(),
                    (_, Some(h), _) => u32::from_str_radix(h.as_str(), 16).ok(),
                    (_, _, Some(name)) => Some(match name.as_str() {
                        "amp" => u32::from(b'&'),
                        "lt" => u32::from(b'<'),
                        "gt" => u32::from(b'>'),
                        "quot" => u32::from(b'"'),
                        "apos" => u32::from(b'\''),
                        "sol" => u32::from(b'/'),
                        "plus" => u32::from(b'+'),
                        "equals" => u32::from(b'='),
                        "nbsp" => u32::from(b' '),
                        _ => u32::from(b'\n'),
                    }),
                    _ => None,
                };
                code.and_then(char::from_u32)
                    .map(String::from)
                    .unwrap_or_else(|| caps[0].to_string())
            })
            .into_owned();
    }
    if out.contains('<') {
        out = BREAK_TAG.replace_all(&out, "\n").into_owned();
    }
    if PERCENT_HINT.is_match(&out) {
        out = decode_hex_escapes(&out, b'%', false);
    }
    if QP_HINT.is_match(&out) {
        out = decode_hex_escapes(&out, b'=', true);
    }
    out
}

/// One layer of backslash escapes as JSON, C, Java, .NET, Go, JS and Python
/// write them: `\n`, `\r`, `\t`, `\/`, `\"`, `\\`, `\uXXXX`, `\xHH`, and a
/// backslash before a line break (a continued line). Others stay as they are.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some(e @ ('/' | '"' | '\'' | '\\' | '`')) => out.push(e),
            Some('\n') => {}
            Some(u @ ('u' | 'x')) => {
                let digits = if u == 'u' { 4 } else { 2 };
                let hex: String = chars.clone().skip(1).take(digits).collect();
                match parse_hex(&hex).filter(|_| hex.len() == digits) {
                    Some(code) => {
                        out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                        for _ in 0..digits {
                            chars.next();
                        }
                    }
                    None => {
                        out.push(c);
                        continue;
                    }
                }
            }
            _ => {
                out.push(c);
                continue;
            }
        }
        chars.next();
    }
    out
}

/// Hex digits only (`from_str_radix` alone would accept a sign).
fn parse_hex(hex: &str) -> Option<u32> {
    if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(hex, 16).ok()
}

/// Decode `%XX` (percent) or `=XX` (quoted-printable, where `=` at the end of
/// a line is a soft break that joins it to the next).
fn decode_hex_escapes(text: &str, escape: u8, soft_breaks: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == escape {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(parse_hex);
            if let Some(b) = hex {
                out.push(b as u8);
                i += 3;
                continue;
            }
            if soft_breaks {
                let soft = line_end(&bytes[i + 1..]);
                if soft > 0 {
                    i += 1 + soft;
                    continue;
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
/// The length of the line end (CRLF, LF or a lone CR) at the start of
/// `rest`, 0 when there is none.
fn line_end(rest: &[u8]) -> usize {
    match rest {
        [b'\r', b'\n', ..] => 2,
        [b'\r' | b'\n', ..] => 1,
        _ => 0,
    }
}

/// Decode a percent-encoded run (a URL, a query string, a log line). Form
/// encoding (`+` for a space) is recognised by the `+` in the first marker.
pub fn decode_percent_run(run: &[u8]) -> Vec<u8> {
    let head = &run[..run.len().min(32)];
    let form = memchr::memmem::find(head, b"BEGIN+").is_some()
        || memchr::memmem::find(head, b"%3A+").is_some()
        || memchr::memmem::find(head, b"%3a+").is_some();
    let mut out = Vec::with_capacity(run.len());
    let mut i = 0;
    while i < run.len() {
        let hex = (run[i] == b'%')
            .then(|| run.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(parse_hex);
        match (run[i], hex) {
            (_, Some(b)) => {
                out.push(b as u8);
                i += 3;
                continue;
            }
            (b'+', None) if form => out.push(b' '),
            (b, None) => out.push(b),
        }
        i += 1;
    }
    out
}

/// Decode quoted-printable text: `=XX` is a byte, `=` at the end of a line
/// a soft break. Also returns, per decoded byte (and one more for the end),
/// its offset in `text`.
pub fn decode_quoted_printable(text: &[u8]) -> (Vec<u8>, Vec<usize>) {
    let mut out = Vec::with_capacity(text.len());
    let mut offsets = Vec::with_capacity(text.len() + 1);
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'=' {
            let hex = text
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(parse_hex);
            if let Some(b) = hex {
                out.push(b as u8);
                offsets.push(i);
                i += 3;
                continue;
            }
            let soft = line_end(&text[i + 1..]);
            if soft > 0 {
                i += 1 + soft;
                continue;
            }
        }
        out.push(text[i]);
        offsets.push(i);
        i += 1;
    }
    offsets.push(text.len());
    (out, offsets)
}

/// UTF-16 text as one byte per code unit: ASCII stays, anything else
/// becomes 0x80 (never part of a key). Offsets in the result are half those
/// in `data`, and its newlines are the text's.
pub fn utf16_to_ascii(data: &[u8], big_endian: bool) -> Vec<u8> {
    data.chunks_exact(2)
        .map(|pair| {
            let unit = if big_endian {
                u16::from_be_bytes([pair[0], pair[1]])
            } else {
                u16::from_le_bytes([pair[0], pair[1]])
            };
            u8::try_from(unit).ok().filter(u8::is_ascii).unwrap_or(0x80)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_escapes_and_signs_are_left_alone() {
        assert_eq!(unescape(r"\q \u12 \x+1"), r"\q \u12 \x+1");
        assert_eq!(unescape(r"\u002B\x2F\/\\"), r"+//\");
        assert_eq!(parse_hex("+1"), None);
    }

    #[test]
    fn quoted_printable_soft_breaks_end_in_cr_lf_or_crlf() {
        for end in ["\r\n", "\n", "\r"] {
            let text = format!("ab=3D=0Ac={end}d");
            assert_eq!(decode_quoted_printable(text.as_bytes()).0, b"ab=\ncd");
            assert_eq!(decode_hex_escapes(&text, b'=', true), "ab=\ncd");
            let hint = format!("QUJD={end}REVG={end}");
            assert!(QP_HINT.is_match(&hint), "{hint:?}");
        }
    }

    #[test]
    fn quoted_printable_keeps_offsets() {
        let (text, offsets) = decode_quoted_printable(b"a=3Db=\r\nc");
        assert_eq!(text, b"a=bc");
        assert_eq!(offsets, vec![0, 1, 4, 8, 9]);
    }

    #[test]
    fn percent_runs_and_utf16() {
        assert_eq!(
            decode_percent_run(b"-----BEGIN+EC+KEY-----%0Aab%2B+c"),
            b"-----BEGIN EC KEY-----\nab+ c"
        );
        assert_eq!(
            decode_percent_run(b"-----BEGIN%20EC%20KEY-----%0aab+c"),
            b"-----BEGIN EC KEY-----\nab+c"
        );
        let le: Vec<u8> = "\u{feff}A\u{40a}\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(utf16_to_ascii(&le, false), b"\x80A\x80\n");
        let be: Vec<u8> = "A\n".encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(utf16_to_ascii(&be, true), b"A\n");
    }

    #[test]
    fn arbitrary_input_never_panics() {
        for (i, bytes) in crate::rules::awkward_inputs(2000).enumerate() {
            let _ = peel_layers(String::from_utf8_lossy(&bytes));
            let _ = decode_percent_run(&bytes);
            let (text, offsets) = decode_quoted_printable(&bytes);
            assert_eq!(offsets.len(), text.len() + 1);
            assert!(offsets.windows(2).all(|w| w[0] < w[1]));
            let _ = utf16_to_ascii(&bytes, i % 2 == 0);
        }
    }
}
