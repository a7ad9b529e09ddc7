//! The one escaping for text keyscan prints but did not write: paths, author
//! names, ref names, header values, notes and warnings that embed them.
//!
//! A terminal obeys control characters and a bidi override reorders what
//! follows it, so a name could hide or forge report lines. Such characters
//! are shown as Rust-style escapes: `\x1b` for C0 and DEL, `\u{85}` for C1,
//! `\u{202e}` for bidi controls and the line and paragraph separators.
//! Bytes that are not UTF-8 are shown as `\xff`.

use std::borrow::Cow;

/// Whether `c` may not reach a terminal as it is.
fn unsafe_char(c: char) -> bool {
    matches!(c,
        '\0'..='\x1f' | '\x7f' | '\u{80}'..='\u{9f}'
        // Bidi marks, embeddings, overrides and isolates.
        | '\u{061c}' | '\u{200e}' | '\u{200f}'
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        // Line and paragraph separators: a new line to some terminals.
        | '\u{2028}' | '\u{2029}')
}

fn push_escaped(out: &mut String, c: char) {
    if (c as u32) < 0x80 {
        out.push_str(&format!("\\x{:02x}", c as u32));
    } else {
        out.push_str(&format!("\\u{{{:x}}}", c as u32));
    }
}

/// `s` safe for a terminal: control and bidi characters escaped.
pub fn text(s: &str) -> Cow<'_, str> {
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Bytes as a string: UTF-8 as it is, each other byte as `\xff`. Control
/// characters are kept (JSON escapes them itself; [`text`] does for people).
pub fn bytes(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    for chunk in b.utf8_chunks() {
        out.push_str(chunk.valid());
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out
}

/// A path as a finding holds it: [`bytes`] of its raw form, and the raw
/// bytes themselves when they are not UTF-8 (so URIs can point at the real
/// file).
pub fn path(raw: &[u8]) -> (String, Option<Vec<u8>>) {
    match std::str::from_utf8(raw) {
        Ok(s) => (s.to_string(), None),
        Err(_) => (bytes(raw), Some(raw.to_vec())),
    }
}

/// A path as a shell word that names the real file: as it is when plain,
/// in single quotes when it has spaces or quotes, as `$'...'` (bash, zsh)
/// when it holds control or bidi characters or bytes that are not UTF-8.
pub fn shell_word(raw: &[u8]) -> String {
    if !raw.is_empty()
        && raw
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-._/+@:".contains(b))
    {
        return String::from_utf8_lossy(raw).into_owned();
    }
    match std::str::from_utf8(raw) {
        Ok(s) if !s.chars().any(unsafe_char) => format!("'{}'", s.replace('\'', r"'\''")),
        _ => {
            let mut out = String::from("$'");
            for chunk in raw.utf8_chunks() {
                for c in chunk.valid().chars() {
                    match c {
                        '\'' | '\\' => {
                            out.push('\\');
                            out.push(c);
                        }
                        c if unsafe_char(c) => {
                            let mut buf = [0; 4];
                            for b in c.encode_utf8(&mut buf).bytes() {
                                out.push_str(&format!("\\x{b:02x}"));
                            }
                        }
                        c => out.push(c),
                    }
                }
                for b in chunk.invalid() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            }
            out.push('\'');
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_are_escaped_and_the_rest_kept() {
        assert_eq!(text("plain clés ✓"), "plain clés ✓");
        assert_eq!(text("a\x1b[8mb"), r"a\x1b[8mb");
        assert_eq!(text("a\nb\rc\td\x7f"), r"a\x0ab\x0dc\x09d\x7f");
        assert_eq!(text("x\u{85}y\u{9b}"), r"x\u{85}y\u{9b}");
        assert_eq!(
            text("\u{202e}gpj.\u{2066}\u{2069}\u{2028}\u{2029}\u{200f}"),
            r"\u{202e}gpj.\u{2066}\u{2069}\u{2028}\u{2029}\u{200f}"
        );
    }

    #[test]
    fn bytes_that_are_not_utf8_are_shown_not_replaced() {
        assert_eq!(bytes(b"k\xffey\xc3"), r"k\xffey\xc3");
        assert_eq!(bytes("é".as_bytes()), "é");
        assert_eq!(path(b"a/b"), ("a/b".to_string(), None));
        assert_eq!(
            path(b"a\xff"),
            (r"a\xff".to_string(), Some(b"a\xff".to_vec()))
        );
    }

    #[test]
    fn shell_words_name_the_real_file() {
        assert_eq!(shell_word(b"a/b.pem"), "a/b.pem");
        assert_eq!(shell_word(b"my key's.pem"), r"'my key'\''s.pem'");
        assert_eq!(shell_word(b"a\x1b[8m\\'\xff"), r"$'a\x1b[8m\\\'\xff'");
        assert_eq!(shell_word("\u{202e}é".as_bytes()), r"$'\xe2\x80\xaeé'");
    }
}
