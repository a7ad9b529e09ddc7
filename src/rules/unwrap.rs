//! Strip the disguises a key wears in real files, so validators always see
//! clean armor: CRLF, indentation, line prefixes repeated on every line
//! (diffs, quoted mail, comments), string literals joined in code, then the
//! escapes and encodings that `decode` peels off.

use super::decode::peel_layers;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use regex::Regex;
use std::borrow::Cow;
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

static HEADER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([A-Za-z][A-Za-z0-9-]*):\s*(.*)$").expect("valid regex"));

/// Unwrap the body of a key block (the bytes between its markers, or a whole
/// PPK file) into armor lines.
pub fn armor(label: &str, body: &[u8]) -> Armor {
    armor_in(label, body, b"")
}

/// Like [`armor`], knowing `prefix`: what precedes the key's first marker on
/// its line. A comment or diff marker there (`+`, `> `, `# `, ` * `) is
/// repeated on every line and is stripped; an open quote there means the
/// body is code whose string literals hold the key.
pub fn armor_in(label: &str, body: &[u8], prefix: &[u8]) -> Armor {
    let prefix = String::from_utf8_lossy(prefix);
    let (marker, rest) = split_line_marker(&prefix);
    let text = unify_line_ends(String::from_utf8_lossy(body));
    let text = strip_line_marker(&text, marker);
    let text = match open_quote(rest) {
        Some(quote) => Cow::Owned(literal_contents(&text, quote)),
        None => text,
    };
    // Escapes can spell line ends too (`\r` alone).
    let text = unify_line_ends(Cow::Owned(peel_layers(text)));
    let text = split_inline_headers(&text);
    let lines = text.split('\n').filter_map(classify).collect();
    Armor {
        label: label.to_string(),
        lines,
    }
}

/// CRLF and a lone CR (classic Mac OS, some Windows tools) end a line as
/// LF does; from here on, lines are split on LF only.
pub fn unify_line_ends(text: Cow<'_, str>) -> Cow<'_, str> {
    if !text.contains('\r') {
        return text;
    }
    Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
}

/// Legacy PEM encryption headers run together on one line.
static INLINE_PEM_HEADERS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?P<proc>Proc-Type:[ \t]*\S+)[ \t]+(?P<dek>DEK-Info:[ \t]*\S+)[ \t]+")
        .expect("valid regex")
});
/// A PPK field that follows another on the same line.
static INLINE_PPK_FIELD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"[ \t]+((?:Encryption|Comment|Public-Lines|Private-Lines|Private-MAC|Key-Derivation|Argon2-Memory|Argon2-Passes|Argon2-Parallelism|Argon2-Salt):)",
    )
    .expect("valid regex")
});
/// A PPK `*-Lines: N` header with its data lines after it on the same line.
static INLINE_PPK_LINES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^([ \t]*(?:Public|Private)-Lines:[ \t]*[0-9]+)[ \t]+(\S.*)$")
        .expect("valid regex")
});

/// When a key's newlines became spaces, put its header fields (and a PPK's
/// counted data lines) back on lines of their own.
fn split_inline_headers(text: &str) -> Cow<'_, str> {
    let mut text = INLINE_PEM_HEADERS.replace_all(text, "$proc\n$dek\n");
    if text.contains("-Lines:") {
        let fields = INLINE_PPK_FIELD.replace_all(&text, "\n$1").into_owned();
        let lines = INLINE_PPK_LINES.replace_all(&fields, |caps: &regex::Captures| {
            let data: Vec<&str> = caps[2].split_whitespace().collect();
            format!("{}\n{}", &caps[1], data.join("\n"))
        });
        text = Cow::Owned(lines.into_owned());
    }
    text
}

/// Characters that make up a line marker: diff `+`/`-`, quoted mail `>`,
/// comments `#`, `//`, `--`, `;`, `*`, `%`, `!`, and the spaces between.
fn is_marker_char(c: char) -> bool {
    matches!(c, '+' | '-' | '>' | '#' | '/' | '*' | ';' | '%' | '!' | '|') || c.is_whitespace()
}

/// The leading line marker of a prefix, and what follows it.
fn split_line_marker(prefix: &str) -> (&str, &str) {
    let at = prefix
        .find(|c: char| !is_marker_char(c))
        .unwrap_or(prefix.len());
    prefix.split_at(at)
}

/// Remove `marker` (ignoring spaces, so `> >` also strips `>>`) from the
/// start of every line that carries it.
fn strip_line_marker<'a>(text: &'a str, marker: &str) -> Cow<'a, str> {
    let core: Vec<char> = marker.chars().filter(|c| !c.is_whitespace()).collect();
    if core.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(strip_marker(line, &core).unwrap_or(line));
    }
    Cow::Owned(out)
}

fn strip_marker<'a>(line: &'a str, core: &[char]) -> Option<&'a str> {
    let mut rest = line;
    for &c in core {
        rest = rest.trim_start().strip_prefix(c)?;
    }
    Some(rest)
}

/// The quote left open at the end of `code`, if any: the key starts inside
/// a string literal.
fn open_quote(code: &str) -> Option<char> {
    let mut open: Option<char> = None;
    let mut chars = code.chars();
    while let Some(c) = chars.next() {
        match open {
            Some(_) if c == '\\' => {
                chars.next();
            }
            Some(q) if c == q => open = None,
            None if matches!(c, '"' | '\'' | '`') => open = Some(c),
            _ => {}
        }
    }
    open
}

/// The contents of the string literals in `code`, which starts inside one
/// opened by `quote`: joins by `+`, `.`, `&`, `\`, adjacency, `concat!`
/// and the like all fall away. Escapes are kept for [`peel_layers`].
fn literal_contents(code: &str, quote: char) -> String {
    let mut out = String::with_capacity(code.len());
    let mut open = Some(quote);
    let mut chars = code.chars();
    while let Some(c) = chars.next() {
        match open {
            Some(_) if c == '\\' => {
                out.push(c);
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            Some(q) if c == q => open = None,
            Some(_) => out.push(c),
            None if matches!(c, '"' | '\'' | '`') => open = Some(c),
            None => {}
        }
    }
    out
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
    "+", ".", "..", "&", "-", "--", "#", "//", "*", "|", "|-", ">", ">-", "<<", ",", "\\", ":",
    "=", ";", "%", "!",
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
    fn cr_only_lines_are_lines() {
        assert_eq!(data_of("\rQUJD\rREVG\r"), "QUJDREVG");
        let a = armor(
            "X",
            b"Proc-Type: 4,ENCRYPTED\rDEK-Info: AES-128-CBC,00\r\rQUJD\r",
        );
        assert_eq!(a.header("Proc-Type"), Some("4,ENCRYPTED"));
        assert_eq!(a.header("DEK-Info"), Some("AES-128-CBC,00"));
        assert_eq!(a.data(), "QUJD");
        let quoted = armor_in("X", b"\r# QUJD\r# REVG\r", b"# ");
        assert_eq!(quoted.data(), "QUJDREVG");
        assert_eq!(data_of(r"\rQUJD\rREVG\r"), "QUJDREVG");
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
    fn headers_on_one_line_are_split() {
        let a = armor(
            "RSA PRIVATE KEY",
            b" Proc-Type: 4,ENCRYPTED DEK-Info: AES-128-CBC,00FF  QUJD REVG ",
        );
        assert_eq!(a.header("Proc-Type"), Some("4,ENCRYPTED"));
        assert_eq!(a.header("DEK-Info"), Some("AES-128-CBC,00FF"));
        assert_eq!(a.data(), "QUJDREVG");
    }

    #[test]
    fn ppk_fields_on_one_line_are_split() {
        let one_line = "PuTTY-User-Key-File-3: ssh-ed25519 Encryption: none Comment: my key Public-Lines: 2 QUJD REVG Private-Lines: 1 R0hJ Private-MAC: 00ff";
        let a = armor("", one_line.as_bytes());
        assert_eq!(a.header("Comment"), Some("my key"));
        assert_eq!(a.header("Private-MAC"), Some("00ff"));
        let expected = [
            Line::Header("PuTTY-User-Key-File-3".into(), "ssh-ed25519".into()),
            Line::Header("Encryption".into(), "none".into()),
            Line::Header("Comment".into(), "my key".into()),
            Line::Header("Public-Lines".into(), "2".into()),
            Line::Data("QUJD".into()),
            Line::Data("REVG".into()),
            Line::Header("Private-Lines".into(), "1".into()),
            Line::Data("R0hJ".into()),
            Line::Header("Private-MAC".into(), "00ff".into()),
        ];
        assert_eq!(a.lines, expected);
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

    fn data_in(body: &str, prefix: &str) -> String {
        armor_in("X", body.as_bytes(), prefix.as_bytes()).data()
    }

    #[test]
    fn line_markers_are_stripped_on_every_line() {
        assert_eq!(data_in("\n+QUJD\n++REVG\n+", "+"), "QUJD+REVG");
        assert_eq!(data_in("\n-QUJD\n-REVG\n-", "-"), "QUJDREVG");
        assert_eq!(data_in("\n>> /UJD\n> > REVG\n> >", "> > "), "/UJDREVG");
        assert_eq!(data_in("\n   * QUJD\n * REVG\n ", " * "), "QUJDREVG");
        // Text that is not a marker stays.
        assert_eq!(data_in("\nkQUJD\nkREVG\n", "k"), "kQUJDkREVG");
    }

    #[test]
    fn literal_contents_drop_the_code_between_literals() {
        let vb = "\" & vbCrLf & _\n    \"QUJD\" & vbCrLf & _\n    \"REVG\" & vbCrLf & _\n    \"";
        assert_eq!(data_in(vb, "key = \""), "QUJDREVG");
        let cs = "\" + Environment.NewLine +\n \"QUJD\" + Environment.NewLine +\n \"";
        assert_eq!(data_in(cs, "  \""), "QUJD");
        // The quote state of the prefix is parsed, escapes included.
        assert_eq!(open_quote(r#"{"a": "it's", "k": ""#), Some('"'));
        assert_eq!(open_quote(r#"{"a": "x\"", "k": 1, "#), None);
        assert_eq!(open_quote(r#"f("a\\", 'b"#), Some('\''));
    }

    #[test]
    fn escapes_are_peeled_at_any_depth() {
        assert_eq!(data_of(r"\u000AQUJD\u002BREVG\u003D\u000A"), "QUJD+REVG=");
        assert_eq!(data_of(r"\nQU\/JD\n"), "QU/JD");
        assert_eq!(data_of(r"\\\\nQUJD\\\\u002B\\\\/G\\\\n"), "QUJD+/G");
        assert_eq!(
            data_of("&#10;QUJD&#x2B;&#43;&#13;&#10;REVG&#61;&#xA;"),
            "QUJD++REVG="
        );
        assert_eq!(data_of("&amp;#10;QUJD&amp;#10;"), "QUJD");
        assert_eq!(
            data_of("<br>&nbsp;&nbsp;QUJD<br>&nbsp;&nbsp;REVG"),
            "QUJDREVG"
        );
        assert_eq!(data_of("<br>QUJD<BR/>REVG<br />"), "QUJDREVG");
        assert_eq!(data_of("%0AQUJD%2BRE%2FG%3D%0A"), "QUJD+RE/G=");
    }

    #[test]
    fn quoted_printable_only_when_the_body_shows_it() {
        assert_eq!(data_of("\nQUJD=3D=3D\n"), "QUJD==");
        assert_eq!(data_of("=0AQUJDREVG=\r\nQUJD=0A"), "QUJDREVGQUJD");
        // A PGP checksum line (`=AbCd`) after padding is not a soft break.
        let pgp = armor("X", b"\nQUJDREVG=\n=AbCd\n");
        assert_eq!(pgp.data(), "QUJDREVG==AbCd");
    }

    #[test]
    fn arbitrary_input_never_panics() {
        for bytes in crate::rules::awkward_inputs(2000) {
            for prefix in [&b""[..], b"+ ", b"x = \"", b"> '"] {
                let _ = armor_in("X", &bytes, prefix);
            }
        }
    }
}
