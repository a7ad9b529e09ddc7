//! Disguises real keys wear in real repositories, through the real binary:
//! each case hides a key generated here and must come out `valid` with the
//! fingerprint `ssh-keygen -lf` gives, on the line where the key starts.
//! Look-alikes in the same disguises must stay quiet.

use crate::support::*;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

/// One disguised file: its name, bytes, and the 1-based line where the key starts.
struct Case {
    name: String,
    bytes: Vec<u8>,
    line: usize,
}

impl Case {
    /// A text case; the key starts on the first line that holds `BEGIN` or `PuTTY`.
    fn text(name: &str, text: String) -> Case {
        let line = line_of_marker(&text);
        Case {
            name: name.to_string(),
            bytes: text.into_bytes(),
            line,
        }
    }
}

fn line_of_marker(text: &str) -> usize {
    let at = text
        .find("BEGIN")
        .or_else(|| text.find("PuTTY"))
        .expect("case text shows its marker");
    1 + text[..at].matches('\n').count()
}

/// A key generated for the test: its text and its `ssh-keygen -lf` fingerprint.
struct Key {
    text: String,
    fp: String,
    what: &'static str,
}

fn key(what: &'static str, (path, fp): (PathBuf, String)) -> Key {
    Key {
        text: fs::read_to_string(path).unwrap(),
        fp,
        what,
    }
}

/// ECDSA from ssh-keygen; `pem` asks for SEC1 PEM instead of the OpenSSH format.
fn ecdsa(dir: &Path, name: &str, bits: &str, pem: bool) -> (PathBuf, String) {
    let path = dir.join(name);
    let mut args = vec!["-q", "-t", "ecdsa", "-b", bits, "-N", "", "-C", "test"];
    if pem {
        args.extend(["-m", "PEM"]);
    }
    args.extend(["-f", path.to_str().unwrap()]);
    tool("ssh-keygen", &args, dir);
    let fp = ssh_fingerprint(&path);
    (path, fp)
}

/// RSA PKCS#8 (`PRIVATE KEY`) from openssl.
fn rsa_pkcs8(dir: &Path, name: &str) -> (PathBuf, String) {
    let path = dir.join(name);
    tool(
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            path.to_str().unwrap(),
        ],
        dir,
    );
    let fp = ssh_fingerprint(&path);
    (path, fp)
}

/// Scan every case in one run; each must yield exactly one valid finding of
/// `key` at its line, and no output may show the key body.
fn assert_all_found(dir: &Path, key: &Key, cases: &[Case]) {
    let scan_dir = dir.join(format!("cases-{}", key.what.replace(' ', "-")));
    fs::create_dir_all(&scan_dir).unwrap();
    for c in cases {
        fs::write(scan_dir.join(&c.name), &c.bytes).unwrap();
    }
    let (code, v) = json(&scan_dir, &["scan", "."], None);
    assert_eq!(code, 1, "{}: {v:#}", key.what);
    let mut by_path: HashMap<String, Vec<&serde_json::Value>> = HashMap::new();
    for f in findings(&v) {
        let path = f["path"].as_str().unwrap().trim_start_matches("./");
        by_path.entry(path.to_string()).or_default().push(f);
    }
    let mut failures = Vec::new();
    for c in cases {
        let what = format!("{} in {}", key.what, c.name);
        match by_path.get(&c.name).map(Vec::as_slice) {
            Some([f]) => {
                if f["status"] != "valid" || f["fingerprint"] != key.fp.as_str() {
                    failures.push(format!("{what}: wrong status or fingerprint: {f:#}"));
                } else if f["line"] != c.line {
                    failures.push(format!("{what}: line {} (want {})", f["line"], c.line));
                }
            }
            other => failures.push(format!("{what}: want one finding, got {other:#?}")),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // No base64 line of the key may show, save those the public key holds.
    let output = v.to_string();
    let public = findings(&v)[0]["public_key"].as_str().unwrap_or("");
    let leaked: Vec<&str> = key
        .text
        .lines()
        .filter(|l| {
            l.len() >= 16
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
        })
        .filter(|l| !public.contains(*l))
        .filter(|l| output.contains(*l))
        .collect();
    assert!(
        leaked.is_empty(),
        "{}: key body leaked: {leaked:?}",
        key.what
    );
}

/// Scan each look-alike: none may be reported.
fn assert_all_quiet(dir: &Path, cases: &[Case]) {
    let scan_dir = dir.join("quiet");
    fs::create_dir_all(&scan_dir).unwrap();
    for c in cases {
        fs::write(scan_dir.join(&c.name), &c.bytes).unwrap();
    }
    let (code, v) = json(&scan_dir, &["scan", "."], None);
    assert_eq!(code, 0, "look-alikes must not block: {v:#}");
    assert!(findings(&v).is_empty(), "look-alikes reported: {v:#}");
}

/// Percent-encode every byte outside `keep` (and A-Z a-z 0-9); `form` writes
/// spaces as `+`; `lower` writes lowercase hex.
fn percent(text: &str, keep: &str, form: bool, lower: bool) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || keep.as_bytes().contains(&b) {
            out.push(b as char);
        } else if form && b == b' ' {
            out.push('+');
        } else if lower {
            out.push_str(&format!("%{b:02x}"));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Every line of `text` behind `marker`.
fn prefixed(text: &str, marker: &str) -> String {
    text.lines()
        .map(|l| format!("{marker}{l}\n"))
        .collect::<String>()
}

fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

/// A JSON string in which `escape` chars are written as `\uXXXX`.
fn json_u_escaped(text: &str, escape: impl Fn(char) -> bool) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            c if escape(c) => out.push_str(&format!("\\u{:04X}", c as u32)),
            '\n' => out.push_str("\\n"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Quoted-printable: `=` as `=3D`; newlines kept as CRLF, or written as
/// `=0A` with soft line breaks every 76 columns (a binary-safe encoder).
fn quoted_printable(text: &str, newlines_encoded: bool) -> String {
    let mut out = String::new();
    let mut col = 0;
    for b in text.bytes() {
        let piece = match b {
            b'=' => "=3D".to_string(),
            b'\n' if !newlines_encoded => {
                out.push_str("\r\n");
                col = 0;
                continue;
            }
            b'\n' => "=0A".to_string(),
            b => (b as char).to_string(),
        };
        if col + piece.len() > 75 {
            out.push_str("=\r\n");
            col = 0;
        }
        col += piece.len();
        out.push_str(&piece);
    }
    out
}

fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut units: Vec<u16> = Vec::new();
    if bom {
        units.push(0xFEFF);
    }
    units.extend(text.encode_utf16());
    units
        .into_iter()
        .flat_map(|u| {
            if big_endian {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            }
        })
        .collect()
}

fn lines_of(key: &Key) -> Vec<&str> {
    key.text.lines().collect()
}

#[test]
fn percent_and_form_encoding() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let keys = [
        key("rsa pkcs1", rsa_pem(dir, "rsa.pem")),
        key("ed25519", ed25519(dir, "id_ed25519")),
        key("ecdsa sec1", ecdsa(dir, "ec.pem", "256", true)),
    ];
    for k in &keys {
        // encodeURIComponent keeps - _ . ! ~ * ' ( ); Python's quote keeps /.
        let component = percent(&k.text, "-_.!~*'()", false, false);
        let python_quote = percent(&k.text, "-_./", false, false);
        let lower = percent(&k.text, "-_.", false, true);
        let form = percent(&k.text, "-_.*", true, false);
        let cases = vec![
            Case::text(
                "access.log",
                format!(
                    "10.0.0.1 - - [01/Dec/2026:05:00:00 +0000] \"GET / HTTP/1.1\" 200 12\n\
                     10.0.0.2 - - [01/Dec/2026:05:00:01 +0000] \"GET /hook?env=prod&key={component}&x=1 HTTP/1.1\" 200 3\n"
                ),
            ),
            Case::text("url.txt", format!("https://ci.example.com/deploy?key={python_quote}\n")),
            Case::text("lower.txt", format!("curl 'https://x.example/?k={lower}'\n")),
            Case::text("form.txt", format!("POST body:\nuser=ci&private_key={form}&submit=Save\n")),
        ];
        assert_all_found(dir, k, &cases);
    }
    // The finding says how the key was hidden.
    let (_, v) = json(dir, &["scan", "cases-rsa-pkcs1/url.txt"], None);
    let redacted = findings(&v)[0]["redacted"].as_str().unwrap().to_string();
    assert!(redacted.contains("(percent-encoded)"), "{redacted}");
}

/// An unencrypted RSA PPK v3 from puttygen (RSA so that it can be exported
/// to ssh.com too); its fingerprint from the OpenSSH
/// public key puttygen exports.
fn ppk(dir: &Path, name: &str) -> (PathBuf, String) {
    let path = dir.join(name);
    let file = path.to_str().unwrap();
    tool(
        "puttygen",
        &[
            "-t",
            "rsa",
            "-b",
            "2048",
            "--new-passphrase",
            "/dev/null",
            "-o",
            file,
        ],
        dir,
    );
    let public = format!("{file}.pub");
    tool(
        "puttygen",
        &[file, "-O", "public-openssh", "-o", &public],
        dir,
    );
    let fp = ssh_fingerprint(Path::new(&public));
    (path, fp)
}

#[test]
fn putty_and_sshcom_keys_percent_encoded_in_utf16_and_quoted() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let k = key("ppk", ppk(dir, "key.ppk"));
    let crlf = k.text.replace('\n', "\r\n");
    let cases = vec![
        Case::text(
            "ppk.log",
            format!("POST /keys?ppk={}\n", percent(&k.text, "-_.", false, false)),
        ),
        Case::text(
            "ppk-form.txt",
            format!("\nppk={}\n", percent(&k.text, "-_.", true, false)),
        ),
        Case {
            name: "ppk-utf16.txt".to_string(),
            bytes: utf16(&format!("Key:\r\n{crlf}"), false, true),
            line: 2,
        },
        Case::text(
            "ppk.patch",
            format!("@@ -0,0 +1,9 @@\n{}", prefixed(&k.text, "+")),
        ),
        Case::text(
            "ppk-spaces.env",
            format!("PPK={}\n", k.text.trim_end().replace('\n', " ")),
        ),
    ];
    assert_all_found(dir, &k, &cases);

    // The same key exported in the ssh.com format, which has its own markers.
    let sshcom = dir.join("key.ssh2");
    tool(
        "puttygen",
        &[
            dir.join("key.ppk").to_str().unwrap(),
            "-O",
            "private-sshcom",
            "-o",
            sshcom.to_str().unwrap(),
        ],
        dir,
    );
    let k = Key {
        text: fs::read_to_string(&sshcom).unwrap(),
        fp: k.fp,
        what: "sshcom",
    };
    let cases = vec![
        Case::text(
            "sshcom.log",
            format!(
                "GET /?k={} HTTP/1.1\n",
                percent(&k.text, "-_.", false, false)
            ),
        ),
        Case {
            name: "sshcom-utf16be.txt".to_string(),
            bytes: utf16(&k.text, true, true),
            line: 1,
        },
        Case::text(
            "sshcom.eml",
            format!("Alice wrote:\n{}", prefixed(&k.text, "> ")),
        ),
    ];
    assert_all_found(dir, &k, &cases);
}

#[test]
fn line_prefixes_of_diffs_mail_and_comments() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let keys = [
        key("rsa pkcs8", rsa_pkcs8(dir, "rsa8.pem")),
        key("ed25519", ed25519(dir, "id_ed25519")),
        key("ecdsa openssh", ecdsa(dir, "id_ecdsa", "384", false)),
    ];
    for k in &keys {
        let n = lines_of(k).len();
        let cases = vec![
            Case::text(
                "added.patch",
                format!(
                    "diff --git a/deploy/key.pem b/deploy/key.pem\nnew file mode 100644\nindex 0000000..e69de29\n--- /dev/null\n+++ b/deploy/key.pem\n@@ -0,0 +1,{n} @@\n{}",
                    prefixed(&k.text, "+")
                ),
            ),
            Case::text(
                "removed.diff",
                format!(
                    "--- a/key.pem\n+++ /dev/null\n@@ -1,{n} +0,0 @@\n{}",
                    prefixed(&k.text, "-")
                ),
            ),
            Case::text(
                "mail.txt",
                format!("On Monday, ops wrote:\n{}\nThanks!\n", prefixed(&k.text, "> ")),
            ),
            Case::text(
                "nested-mail.txt",
                format!("Bob wrote:\n> Alice wrote:\n{}", prefixed(&k.text, "> > ")),
            ),
            Case::text("hash.sh", format!("#!/bin/sh\n{}", prefixed(&k.text, "# "))),
            Case::text("slashes.go", format!("package main\n\n{}", prefixed(&k.text, "// "))),
            Case::text("dashes.sql", format!("SELECT 1;\n{}", prefixed(&k.text, "-- "))),
            Case::text("semicolon.ini", format!("[deploy]\n{}", prefixed(&k.text, "; "))),
            Case::text(
                "block.c",
                format!("/*\n * Test key:\n{} */\nint x;\n", prefixed(&k.text, " * ")),
            ),
        ];
        assert_all_found(dir, k, &cases);
    }
}

#[test]
fn json_escapes_and_nested_json() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let keys = [
        key("rsa pkcs1", rsa_pem(dir, "rsa.pem")),
        key("ed25519", ed25519(dir, "id_ed25519")),
    ];
    for k in &keys {
        // PHP json_encode writes `/` as `\/`.
        let php = json_string(&k.text).replace('/', "\\/");
        // .NET System.Text.Json escapes `+` (and HTML-sensitive characters).
        let dotnet = json_u_escaped(&k.text, |c| matches!(c, '+' | '=' | '<' | '>' | '&'));
        let java = json_u_escaped(&k.text, |c| matches!(c, '\n' | '+' | '/' | '='));
        let everything = json_u_escaped(&k.text, |c| {
            !matches!(c, '-' | ' ') && !c.is_ascii_uppercase()
        });
        // Encoders that escape all punctuation hide the markers themselves.
        let all_punct = json_u_escaped(&k.text, |c| !c.is_ascii_alphanumeric());
        let all_punct_double = json_string(&format!("{{\"k\": {all_punct}}}"));
        let js_hex: String = k
            .text
            .chars()
            .map(|c| match c {
                '-' | ' ' | '\n' | '+' | '/' | '=' => format!("\\x{:02X}", c as u32),
                c => c.to_string(),
            })
            .collect();
        let inner = format!("{{\"private_key\": {}}}", json_string(&k.text));
        let double = format!("{{\"secret_string\": {}}}\n", json_string(&inner));
        let triple = format!("{{\"event\": {}}}\n", json_string(&double));
        let php_double = json_string(&inner).replace('/', "\\/");
        let cases = vec![
            Case::text("php.json", format!("{{\"key\":{php}}}\n")),
            Case::text("dotnet.json", format!("{{\n  \"Key\": {dotnet}\n}}\n")),
            Case::text("java.json", format!("[{java}]\n")),
            Case::text("all-u.json", format!("{{\"k\": {everything}}}\n")),
            Case::text("all-punct.json", format!("{{\"k\": {all_punct}}}\n")),
            Case::text("all-punct-double.json", format!("[{all_punct_double}]\n")),
            Case::text("hex.js", format!("var k = \"{js_hex}\";\n")),
            Case::text("double.json", double),
            Case::text("triple.json", triple),
            Case::text("php-double.json", format!("{{\"payload\":{php_double}}}\n")),
        ];
        assert_all_found(dir, k, &cases);
    }
}

#[test]
fn utf16_with_and_without_bom_and_utf8_bom() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let keys = [
        key("rsa pkcs1", rsa_pem(dir, "rsa.pem")),
        key("ecdsa openssh", ecdsa(dir, "id_ecdsa", "256", false)),
    ];
    for k in &keys {
        // U+040A (Cyrillic NJE) holds a 0x0A byte in UTF-16: lines must be
        // counted in the decoded text, where the key starts on line 3.
        let text = format!("Exported by Њ tool\r\n\r\n{}", k.text.replace('\n', "\r\n"));
        let mut utf8_bom = b"\xEF\xBB\xBF".to_vec();
        utf8_bom.extend(k.text.as_bytes());
        let decoy = format!("\u{4200}\u{4500}\u{4700}\u{4900}\u{4e00}\u{2000}\r\n{text}");
        let at = |name: &str, bytes: Vec<u8>, line: usize| Case {
            name: name.to_string(),
            bytes,
            line,
        };
        let cases = vec![
            at("le-bom.txt", utf16(&text, false, true), 3),
            at("le.txt", utf16(&text, false, false), 3),
            at("be-bom.txt", utf16(&text, true, true), 3),
            at("be.txt", utf16(&text, true, false), 3),
            // CJK characters whose bytes read "BEGIN " at the other byte
            // order come first: each order is decoded.
            at("le-decoy.txt", utf16(&decoy, false, false), 4),
            at("be-decoy.txt", utf16(&decoy, true, false), 4),
            at("utf8-bom.pem", utf8_bom, 1),
        ];
        assert_all_found(dir, k, &cases);
    }
    // The finding says how the key was hidden.
    let (_, v) = json(dir, &["scan", "cases-rsa-pkcs1/le-bom.txt"], None);
    let redacted = findings(&v)[0]["redacted"].as_str().unwrap().to_string();
    assert!(redacted.contains("UTF-16"), "{redacted}");
}

#[test]
fn entities_line_break_tags_and_quoted_printable() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let keys = [
        key("rsa pkcs8", rsa_pkcs8(dir, "rsa8.pem")),
        key("ed25519", ed25519(dir, "id_ed25519")),
    ];
    for k in &keys {
        let entities = |nl: &str, plus: &str, eq: &str| {
            k.text.replace('+', plus).replace('=', eq).replace('\n', nl)
        };
        let cases = vec![
            Case::text(
                "config.xml",
                format!(
                    "<?xml version=\"1.0\"?>\n<settings>\n  <add key=\"SshKey\" value=\"{}\"/>\n</settings>\n",
                    entities("&#10;", "&#x2B;", "&#61;")
                ),
            ),
            Case::text(
                "crlf.xml",
                format!("<k>{}</k>\n", entities("&#13;&#10;", "&#43;", "&#x3D;")),
            ),
            Case::text("hex.xml", format!("<k v='{}'/>\n", entities("&#xA;", "+", "="))),
            Case::text(
                "page.html",
                format!("<p>Your key:</p>\n<p>{}</p>\n", k.text.replace('\n', "<br>")),
            ),
            Case::text(
                "page2.html",
                format!("<div>{}</div>\n", k.text.replace('\n', "<br/>\n")),
            ),
            Case::text(
                "mail.eml",
                format!(
                    "Subject: key\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{}",
                    quoted_printable(&k.text, false)
                ),
            ),
            Case::text(
                "binary-qp.eml",
                format!(
                    "Content-Transfer-Encoding: quoted-printable\r\n\r\nHere:=0A{}",
                    quoted_printable(&k.text, true)
                ),
            ),
        ];
        assert_all_found(dir, k, &cases);
    }
}

#[test]
fn layout_and_text_around_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let keys = [
        key("rsa pkcs1", rsa_pem(dir, "rsa.pem")),
        key("ed25519", ed25519(dir, "id_ed25519")),
        key("ecdsa sec1", ecdsa(dir, "ec.pem", "384", true)),
    ];
    for k in &keys {
        let indented = |n: usize| prefixed(&k.text, &" ".repeat(n));
        let cases = vec![
            Case::text(
                "folded.yaml",
                format!("deploy:\n  key: >\n{}  user: ci\n", indented(4)),
            ),
            Case::text("folded-strip.yaml", format!("key: >-\n{}", indented(2))),
            Case::text(
                "spaces.txt",
                format!("KEY={}\n", k.text.trim_end().replace('\n', " ")),
            ),
            // Text whose first bytes look like a DER header (0x30, length).
            Case::text("der-like-start.txt", format!("0 - notes\n{}", k.text)),
            Case::text(
                "double-backslash.env",
                format!("KEY=\"{}\"\n", k.text.replace('\n', "\\\\n")),
            ),
        ];
        assert_all_found(dir, k, &cases);
    }
}

#[test]
fn encrypted_legacy_pem_whose_newlines_became_spaces() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let path = dir.join("enc.pem");
    tool(
        "openssl",
        &[
            "genrsa",
            "-traditional",
            "-aes128",
            "-passout",
            "pass:hunter22",
            "-out",
            path.to_str().unwrap(),
            "2048",
        ],
        dir,
    );
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains("Proc-Type: 4,ENCRYPTED"));
    fs::write(
        dir.join("one-line.env"),
        format!("KEY={}\n", text.trim_end().replace('\n', " ")),
    )
    .unwrap();
    let (code, v) = json(dir, &["scan", "one-line.env"], None);
    assert_eq!(code, 1, "{v:#}");
    let found = findings(&v);
    assert_eq!(found.len(), 1, "{v:#}");
    assert_eq!(found[0]["status"], "encrypted", "{v:#}");
    assert_eq!(found[0]["format"], "PEM (legacy encryption)", "{v:#}");
}

#[test]
fn keys_split_across_string_literals() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let keys = [
        key("rsa pkcs1", rsa_pem(dir, "rsa.pem")),
        key("ed25519", ed25519(dir, "id_ed25519")),
    ];
    for k in &keys {
        let lines = lines_of(k);
        // Each line as a literal: `open` + line + `close`, joined by `join`.
        let literals = |open: &str, close: &str, join: &str| {
            lines
                .iter()
                .map(|l| format!("    {open}{l}{close}"))
                .collect::<Vec<_>>()
                .join(join)
        };
        let cases = vec![
            Case::text(
                "implicit.py",
                format!("KEY = (\n{}\n)\n", literals("\"", "\\n\"", "\n")),
            ),
            Case::text(
                "macro.h",
                format!("#define KEY \\\n{}\n", literals("\"", "\\n\"", " \\\n")),
            ),
            Case::text(
                "Key.java",
                format!("String key =\n{};\n", literals("\"", "\\n\"", " +\n")),
            ),
            Case::text(
                "Key.cs",
                format!(
                    "var key =\n{};\n",
                    literals("\"", "\"", " + Environment.NewLine +\n")
                ),
            ),
            Case::text(
                "key.go",
                format!("const key = \"\" +\n{}\n", literals("\"", "\\n\"", " +\n")),
            ),
            Case::text(
                "key.rb",
                format!("KEY =\n{}\n", literals("'", "' + \"\\n\"", " +\n")),
            ),
            Case::text(
                "key.php",
                format!("$key =\n{};\n", literals("'", "' . \"\\n\"", " .\n")),
            ),
            Case::text(
                "Key.vb",
                format!("Dim key =\n{}\n", literals("\"", "\" & vbCrLf", " & _\n")),
            ),
            Case::text(
                "key.rs",
                format!(
                    "const KEY: &str = concat!(\n{}\n);\n",
                    literals("\"", "\\n\"", ",\n")
                ),
            ),
            Case::text(
                "key.lua",
                format!("local key =\n{}\n", literals("\"", "\\n\"", " ..\n")),
            ),
            Case::text("heredoc.sh", format!("cat > key <<'EOF'\n{}EOF\n", k.text)),
            Case::text(
                "heredoc.rb",
                format!("KEY = <<~PEM\n{}PEM\n", prefixed(&k.text, "    ")),
            ),
            Case::text(
                "textblock.java",
                format!(
                    "String key = \"\"\"\n{}    \"\"\";\n",
                    prefixed(&k.text, "    ")
                ),
            ),
            Case::text("template.js", format!("const key = `{}`;\n", k.text)),
            // Java properties: escaped newlines, each line continued with `\`.
            Case::text(
                "app.properties",
                format!(
                    "ssh.key={}\n",
                    k.text.trim_end().replace('\n', "\\n\\\n    ")
                ),
            ),
            Case::text(
                "array.js",
                format!(
                    "const key = [\n{}\n].join(\"\\n\");\n",
                    literals("'", "'", ",\n")
                ),
            ),
            Case::text(
                "join.py",
                format!(
                    "KEY = \"\\n\".join([\n{}\n])\n",
                    literals("\"", "\"", ",\n")
                ),
            ),
            Case::text("triple.py", format!("KEY = \"\"\"{}\"\"\"\n", k.text)),
            Case::text(
                "key.m",
                format!("NSString *key = \n{};\n", literals("@\"", "\\n\"", "\n")),
            ),
            Case::text(
                "main.tf",
                format!("private_key = <<-EOT\n{}  EOT\n", prefixed(&k.text, "    ")),
            ),
            Case::text(
                "literals.c",
                format!(
                    "static const char *key =\n{};\n",
                    literals("\"", "\\n\"", "\n")
                ),
            ),
        ];
        assert_all_found(dir, k, &cases);
    }
}

#[test]
fn look_alikes_in_disguise_stay_quiet() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (rsa, _) = rsa_pem(dir, "rsa.pem");
    let public = String::from_utf8(
        tool(
            "openssl",
            &["rsa", "-in", rsa.to_str().unwrap(), "-pubout"],
            dir,
        )
        .stdout,
    )
    .unwrap();
    let cert_path = dir.join("cert.pem");
    tool(
        "openssl",
        &[
            "req",
            "-x509",
            "-key",
            rsa.to_str().unwrap(),
            "-subj",
            "/CN=t",
            "-days",
            "1",
            "-out",
            cert_path.to_str().unwrap(),
        ],
        dir,
    );
    let cert = fs::read_to_string(&cert_path).unwrap();
    let header_only = "-----BEGIN RSA PRIVATE KEY-----";
    let quiet = vec![
        Case::text(
            "public.log",
            format!("GET /?pub={} HTTP/1.1\n", percent(&public, "-_.", false, false)),
        ),
        Case::text(
            "cert-form.txt",
            format!("cert={}\n", percent(&cert, "-_.", true, false)),
        ),
        Case::text(
            "search.log",
            format!("GET /search?q={}&lang=en\n", percent(header_only, "-", false, false)),
        ),
        Case::text("cert.eml", quoted_printable(&cert, false)),
        Case::text(
            "cert-binary.eml",
            format!(
                "Content-Transfer-Encoding: quoted-printable\r\n\r\n{}",
                quoted_printable(&cert, true)
            ),
        ),
        Case {
            name: "doc-utf16.txt".to_string(),
            bytes: utf16(
                &format!("Never commit a file that starts with {header_only}.\r\nUse a vault.\r\n"),
                false,
                true,
            ),
            line: 1,
        },
        Case {
            name: "public-utf16be.txt".to_string(),
            bytes: utf16(&public, true, false),
            line: 1,
        },
        Case::text(
            "prose.md",
            format!("A file beginning with {header_only} is a private key; rotate it.\n"),
        ),
        Case::text(
            "mention.patch",
            format!(
                "+if line.startswith(\"{header_only}\"):\n+    raise ValueError(\"-----END RSA PRIVATE KEY-----\")\n"
            ),
        ),
        Case::text(
            "placeholder.log",
            format!(
                "GET /?k={} HTTP/1.1\n",
                percent(
                    "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----\n",
                    "-",
                    false,
                    false
                )
            ),
        ),
        Case::text(
            "cert.xml",
            format!("<c v=\"{}\"/>\n", cert.replace('\n', "&#10;")),
        ),
        Case::text("public.json", format!("{{\"k\": {}}}\n", json_string(&json_string(&public)))),
        Case::text(
            "public-escaped.json",
            format!(
                "{{\"k\": {}}}\n",
                json_u_escaped(&public, |c| !c.is_ascii_alphanumeric())
            ),
        ),
        Case::text("cert-comment.c", format!("/*\n{} */\n", prefixed(&cert, " * "))),
    ];
    assert_all_quiet(dir, &quiet);
}

/// Keys in every text format keyscan reads, generated in `d` by the real
/// tools: (file name, status keyscan must give it).
fn every_text_format(d: &Path) -> Vec<(&'static str, &'static str)> {
    let gnupg = d.join("gnupg");
    fs::create_dir(&gnupg).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&gnupg, fs::Permissions::from_mode(0o700)).unwrap();
    }
    let pass = "a strong passphrase 42";
    fs::write(d.join("pass"), format!("{pass}\n")).unwrap();
    let gpg = "gpg --homedir gnupg --batch --pinentry-mode loopback";
    let script = format!(
        "set -e
         ssh-keygen -q -t ed25519 -N '' -C t -f openssh
         ssh-keygen -q -t ecdsa -N '{pass}' -C t -f openssh_enc
         openssl genrsa -traditional -out pkcs1.pem 2048 2>/dev/null
         openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out pkcs8.pem
         openssl ec -in pkcs8.pem -out sec1.pem 2>/dev/null
         openssl genrsa -traditional -aes128 -passout 'pass:{pass}' -out legacy_enc.pem 2048 2>/dev/null
         openssl genpkey -algorithm ed25519 -aes-256-cbc -pass 'pass:{pass}' -out pkcs8_enc.pem
         puttygen pkcs1.pem -O private -o v3.ppk
         puttygen pkcs1.pem -O private --ppk-param version=2 -o v2.ppk
         puttygen openssh -O private --new-passphrase pass -o v3_enc.ppk
         puttygen pkcs1.pem -O private-sshcom -o sshcom
         puttygen pkcs1.pem -O private-sshcom --new-passphrase pass -o sshcom_enc
         {gpg} --passphrase '' --quick-gen-key 'Ed <e@example.com>' ed25519 default never 2>/dev/null
         {gpg} --passphrase '' --armor --export-secret-keys > pgp.asc
         cp gnupg/private-keys-v1.d/*.key gnupg.key"
    );
    tool("sh", &["-c", &script], d);
    vec![
        ("openssh", "valid"),
        ("openssh_enc", "encrypted"),
        ("pkcs1.pem", "valid"),
        ("pkcs8.pem", "valid"),
        ("sec1.pem", "valid"),
        ("legacy_enc.pem", "encrypted"),
        ("pkcs8_enc.pem", "encrypted"),
        ("v3.ppk", "valid"),
        ("v2.ppk", "valid"),
        ("v3_enc.ppk", "encrypted"),
        ("sshcom", "valid"),
        ("sshcom_enc", "encrypted"),
        ("pgp.asc", "valid"),
        ("gnupg.key", "valid"),
    ]
}

/// Disguises that keep a key's line ends, written with a lone CR.
fn cr_disguises(key: &str) -> Vec<(&'static str, String)> {
    let cr = key.replace('\n', "\r");
    vec![
        ("notes.txt", format!("Here it is:\r{cr}the end\r")),
        (
            "comment.sh",
            format!("echo hi\r{}", prefixed(key, "# ").replace('\n', "\r")),
        ),
        (
            "key.json",
            format!("{{\"k\": \"{}\"}}\r", key.replace('\n', "\\r")),
        ),
        (
            "mail.eml",
            format!(
                "Content-Transfer-Encoding: quoted-printable\r\r{}",
                quoted_printable(key, true).replace("=\r\n", "=\r")
            ),
        ),
        (
            "crlf-mail.eml",
            format!(
                "Content-Transfer-Encoding: quoted-printable\r\r{}",
                quoted_printable(key, false).replace("\r\n", "\r")
            ),
        ),
    ]
}

/// Issue 13, item 9: every text format, and the disguises that keep line
/// ends, read the same whether lines end in LF, CRLF or a lone CR.
#[test]
fn every_format_with_lf_crlf_and_cr_line_ends() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let formats = every_text_format(d);
    let openssh = d.join("openssh");
    let openssh_fp = ssh_fingerprint(&openssh);
    let ends = [("lf", "\n"), ("crlf", "\r\n"), ("cr", "\r")];
    let cases = d.join("cases");
    fs::create_dir(&cases).unwrap();
    for (name, _) in &formats {
        let text = fs::read_to_string(d.join(name)).unwrap();
        for (end_name, end) in ends {
            let file = cases.join(format!("{name}.{end_name}"));
            fs::write(file, text.replace('\n', end)).unwrap();
        }
    }
    let disguises = cr_disguises(&fs::read_to_string(&openssh).unwrap());
    for (name, text) in &disguises {
        fs::write(cases.join(name), text).unwrap();
    }
    let (code, v) = json(&cases, &["--no-crack", "scan", "."], None);
    assert_eq!(code, 1, "{v:#}");
    let mut by_path: HashMap<String, Vec<&serde_json::Value>> = HashMap::new();
    for f in findings(&v) {
        let path = f["path"].as_str().unwrap().trim_start_matches("./");
        by_path.entry(path.to_string()).or_default().push(f);
    }
    let mut failures = Vec::new();
    for (name, status) in formats {
        let lf = by_path.get(&format!("{name}.lf")).map(Vec::as_slice);
        let Some([lf]) = lf else {
            failures.push(format!("{name}: want one finding with LF, got {lf:#?}"));
            continue;
        };
        if lf["status"] != status {
            failures.push(format!("{name}: {} with LF, want {status}", lf["status"]));
        }
        for (end_name, _) in &ends[1..] {
            match by_path
                .get(&format!("{name}.{end_name}"))
                .map(Vec::as_slice)
            {
                Some([f])
                    if f["status"] == lf["status"] && f["fingerprint"] == lf["fingerprint"] => {}
                other => failures.push(format!("{name} with {end_name}: {other:#?}")),
            }
        }
    }
    for (name, _) in &disguises {
        match by_path.get(*name).map(Vec::as_slice) {
            Some([f]) if f["status"] == "valid" && f["fingerprint"] == openssh_fp.as_str() => {}
            other => failures.push(format!("{name}: {other:#?}")),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
