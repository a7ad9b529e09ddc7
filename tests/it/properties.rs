//! Properties over real keys generated here, checked in-process on the
//! library (no binary, no git) so that hundreds of variants cost seconds:
//! - a detected key stays detected, with its fingerprint, under every
//!   disguise and under LF, CRLF and CR line endings;
//! - a one-byte change in the body of a key that carries a check never
//!   yields a different `valid` key;
//! - no report format prints a 16-character run of a key's body.
//!
//! Variants are enumerated deterministically: a failure names the key, the
//! disguise and the position, and reproduces on every run.

use crate::support::tool;
use base64::Engine as _;
use keyscan::policy::config::Config;
use keyscan::report::{self, Format, Report, Style};
use keyscan::scan::finding::Status;
use keyscan::scan::{Origin, Scanner};
use std::collections::HashSet;
use std::fs;
use std::path::Path;
use std::sync::OnceLock;

fn scanner() -> Scanner {
    let mut config = Config::defaults().unwrap();
    // The passphrase check is tested elsewhere; it costs seconds a key.
    config.policy.crack = false;
    config.scanner()
}

/// A generated key: its file text and what a plain scan says of it.
struct Key {
    what: &'static str,
    text: String,
    fingerprint: String,
}

/// The keys, generated once for every test of this file.
fn keys() -> &'static [Key] {
    static KEYS: OnceLock<Vec<Key>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        generate(dir.path(), &scanner())
    })
}

fn generate(dir: &Path, scanner: &Scanner) -> Vec<Key> {
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let ssh = |name: &str, extra: &[&str]| {
        let p = path(name);
        let mut args = vec!["-q", "-N", "", "-C", "prop", "-f", &p];
        args.extend(extra);
        tool("ssh-keygen", &args, dir);
        p
    };
    let openssl = |name: &str, args: &[&str]| {
        let p = path(name);
        let mut all = vec![args[0], "-out", &p];
        all.extend(&args[1..]);
        tool("openssl", &all, dir);
        p
    };
    let puttygen = |name: &str, args: &[&str]| {
        let p = path(name);
        let mut all = args.to_vec();
        all.extend(["-C", "prop", "-o", &p, "--new-passphrase", "/dev/null"]);
        tool("puttygen", &all, dir);
        p
    };
    let files = [
        ("OpenSSH Ed25519", ssh("openssh", &["-t", "ed25519"])),
        (
            "OpenSSH RSA",
            ssh("openssh-rsa", &["-t", "rsa", "-b", "1024"]),
        ),
        (
            "RSA PKCS#1",
            openssl("pkcs1", &["genrsa", "-traditional", "1024"]),
        ),
        (
            "EC SEC1",
            openssl(
                "sec1",
                &["ecparam", "-name", "prime256v1", "-genkey", "-noout"],
            ),
        ),
        (
            "PKCS#8 Ed25519",
            openssl("pkcs8", &["genpkey", "-algorithm", "ED25519"]),
        ),
        (
            "PPK v3",
            puttygen("ppk", &["-t", "ed25519", "-O", "private"]),
        ),
        ("ssh.com RSA", {
            let ppk = puttygen("ppk-rsa", &["-t", "rsa", "-b", "1024", "-O", "private"]);
            puttygen("sshcom", &[&ppk, "-O", "private-sshcom"])
        }),
        ("OpenPGP", gpg_key(dir)),
    ];
    files
        .into_iter()
        .map(|(what, p)| {
            let text = fs::read_to_string(&p).unwrap();
            let fingerprint = valid_fingerprints(scanner, text.as_bytes())
                .into_iter()
                .next()
                .unwrap_or_else(|| panic!("{what}: the plain key is not found valid"));
            Key {
                what,
                text,
                fingerprint,
            }
        })
        .collect()
}

/// An armored OpenPGP secret key from a throwaway GnuPG home.
fn gpg_key(dir: &Path) -> String {
    let home = dir.join("gnupg");
    fs::create_dir(&home).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&home, fs::Permissions::from_mode(0o700)).unwrap();
    }
    let home = home.to_str().unwrap();
    let gpg = |args: &[&str]| {
        let mut all = vec![
            "--homedir",
            home,
            "--batch",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
        ];
        all.extend(args);
        tool("gpg", &all, dir)
    };
    gpg(&[
        "--quick-gen-key",
        "prop@example.invalid",
        "ed25519",
        "default",
        "never",
    ]);
    let out = gpg(&["--armor", "--export-secret-keys"]);
    let p = dir.join("pgp.asc");
    fs::write(&p, out.stdout).unwrap();
    p.to_str().unwrap().to_string()
}

/// Fingerprints of the `valid` keys found in `data`.
fn valid_fingerprints(scanner: &Scanner, data: &[u8]) -> Vec<String> {
    scanner
        .hits(data)
        .into_iter()
        .filter(|h| h.info.status == Status::Valid)
        .filter_map(|h| h.info.fingerprint)
        .collect()
}

// ---- Disguises -------------------------------------------------------------

fn percent(text: &str, form: bool) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' if form => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut units: Vec<u16> = if bom { vec![0xFEFF] } else { Vec::new() };
    units.extend(text.encode_utf16());
    units
        .iter()
        .flat_map(|u| {
            if big_endian {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            }
        })
        .collect()
}

fn quoted_printable(text: &str) -> String {
    let body = text.replace('=', "=3D");
    format!("Subject: key\nContent-Transfer-Encoding: quoted-printable\n\n{body}")
}

/// Each line of `text` (any ending) with `marker` in front, lines joined by `nl`.
fn prefixed(text: &str, marker: &str, nl: &str) -> String {
    lines(text).map(|l| format!("{marker}{l}{nl}")).collect()
}

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.split(['\n', '\r']).filter(|l| !l.is_empty())
}

/// Every disguise of `text` (whose lines end in `nl`), by name.
fn disguises(text: &str, nl: &str) -> Vec<(&'static str, Vec<u8>)> {
    let escaped_nl = |with: &str| lines(text).collect::<Vec<_>>().join(with) + with;
    let b64 = base64::engine::general_purpose::STANDARD.encode(text);
    let texts: Vec<(&'static str, String)> = vec![
        ("as is", text.to_string()),
        ("UTF-8 BOM", format!("\u{feff}{text}")),
        ("text before it", format!("key = {text}")),
        (
            "YAML block",
            format!("key: |{nl}{}", prefixed(text, "  ", nl)),
        ),
        (
            "newlines as spaces",
            lines(text).collect::<Vec<_>>().join(" "),
        ),
        ("diff +", prefixed(text, "+", nl)),
        ("mail quote", prefixed(text, "> ", nl)),
        ("nested mail quote", prefixed(text, "> > ", nl)),
        ("# comment", prefixed(text, "# ", nl)),
        ("// comment", prefixed(text, "// ", nl)),
        ("-- comment", prefixed(text, "-- ", nl)),
        ("; comment", prefixed(text, "; ", nl)),
        (" * comment", prefixed(text, " * ", nl)),
        (
            "JSON \\n",
            format!("{{\"key\": \"{}\"}}", escaped_nl("\\n")),
        ),
        (
            "JSON \\r\\n",
            format!("{{\"key\": \"{}\"}}", escaped_nl("\\r\\n")),
        ),
        (
            "JSON in JSON",
            format!("\"{{\\\"key\\\": \\\"{}\\\"}}\"", escaped_nl("\\\\n")),
        ),
        ("\\u000A", format!("\"{}\"", escaped_nl("\\u000A"))),
        ("XML &#10;", format!("<key>{}</key>", escaped_nl("&#10;"))),
        ("XML &#xA;", format!("<key>{}</key>", escaped_nl("&#xA;"))),
        ("<br/>", format!("<p>{}</p>", escaped_nl("<br/>"))),
        (
            "string literals +",
            prefixed(text, "\"", &format!("\\n\" +{nl}")) + "\"\"",
        ),
        ("base64 again", format!("tls.key: {b64}{nl}")),
        (
            "percent-encoded",
            format!("url?key={}", percent(text, false)),
        ),
        ("form-encoded", format!("key={}", percent(text, true))),
        ("quoted-printable", quoted_printable(text)),
    ];
    let mut out: Vec<(&'static str, Vec<u8>)> = texts
        .into_iter()
        .map(|(name, t)| (name, t.into_bytes()))
        .collect();
    out.push(("UTF-16 LE BOM", utf16(text, false, true)));
    out.push(("UTF-16 BE", utf16(text, true, false)));
    out
}

fn with_endings(text: &str, nl: &str) -> String {
    text.replace("\r\n", "\n").replace('\n', nl)
}

/// Disguises the README does not claim for a format: base64 of a whole
/// file is claimed for PEM-style armor only, and the armor of ssh.com and
/// OpenPGP keys needs its line breaks (headers, a blank line).
const NOT_CLAIMED: &[(&str, &str)] = &[
    ("PPK v3", "base64 again"),
    ("ssh.com RSA", "base64 again"),
    ("ssh.com RSA", "form-encoded"),
    ("ssh.com RSA", "newlines as spaces"),
    ("OpenPGP", "newlines as spaces"),
];

/// Every (key, disguise) whose scan does not find the key `valid` with its
/// fingerprint, with lines ending in `nl`.
fn missed(scanner: &Scanner, keys: &[Key], nl: &str) -> Vec<String> {
    let mut missed = Vec::new();
    for key in keys {
        let text = with_endings(&key.text, nl);
        for (name, bytes) in disguises(&text, nl) {
            if NOT_CLAIMED.contains(&(key.what, name)) {
                continue;
            }
            if !valid_fingerprints(scanner, &bytes).contains(&key.fingerprint) {
                missed.push(format!("{} / {name} / {nl:?}", key.what));
            }
        }
    }
    missed
}

#[test]
fn detected_keys_stay_detected_in_every_disguise_with_lf_and_crlf() {
    let scanner = scanner();
    let keys = keys();
    let mut failures = missed(&scanner, keys, "\n");
    failures.extend(missed(&scanner, keys, "\r\n"));
    assert!(failures.is_empty(), "missed: {failures:#?}");
}

#[test]
fn detected_keys_stay_detected_in_every_disguise_with_cr_only() {
    let scanner = scanner();
    let keys = keys();
    let failures = missed(&scanner, keys, "\r");
    assert!(failures.is_empty(), "missed: {failures:#?}");
}

// ---- One-byte changes ------------------------------------------------------

const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Byte offsets of the base64 body of `text`: the lines between the armor
/// (PEM, OpenSSH, OpenPGP, ssh.com) or the public and private lines of a PPK.
fn body_offsets(text: &str) -> Vec<usize> {
    let mut offsets = Vec::new();
    let mut at = 0;
    let mut inside = false;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end();
        let is_body = !bare.is_empty()
            && !bare.contains(':')
            && !bare.starts_with('=')
            && bare.bytes().all(|b| B64.contains(&b) || b == b'=');
        if bare.contains("BEGIN") || bare.ends_with("-Lines: 1") || bare.contains("-Lines:") {
            inside = true;
        } else if bare.contains("END") || bare.starts_with("Private-MAC") {
            inside = false;
        } else if inside && is_body {
            offsets.extend((at..at + bare.len()).filter(|&i| text.as_bytes()[i] != b'='));
        }
        at += line.len();
    }
    offsets
}

/// The armored OpenPGP key without its optional CRC-24 line, so that a
/// change reaches the packet parser instead of failing the checksum.
fn without_crc(text: &str) -> String {
    text.lines()
        .filter(|l| !(l.starts_with('=') && l.len() == 5))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn a_one_byte_change_never_yields_a_different_valid_key() {
    let scanner = scanner();
    let keys = keys();
    let mut failures = Vec::new();
    let mut tried = 0;
    for key in keys {
        // Formats that carry their own public half or a check.
        let text = match key.what {
            "OpenPGP" => without_crc(&key.text),
            "RSA PKCS#1" | "EC SEC1" | "OpenSSH Ed25519" | "OpenSSH RSA" | "PPK v3" => {
                key.text.clone()
            }
            _ => continue,
        };
        let offsets = body_offsets(&text);
        assert!(offsets.len() > 40, "{}: no body found", key.what);
        let step = (offsets.len() / 150).max(1);
        for (n, &i) in offsets.iter().step_by(step).enumerate() {
            let mut bytes = text.clone().into_bytes();
            let old = B64.iter().position(|&b| b == bytes[i]).unwrap();
            bytes[i] = B64[(old + 1 + n % 63) % 64];
            tried += 1;
            for fp in valid_fingerprints(&scanner, &bytes) {
                if fp != key.fingerprint {
                    failures.push(format!("{} at byte {i}: valid {fp}", key.what));
                }
            }
        }
    }
    assert!(tried > 500, "only {tried} changes tried");
    assert!(failures.is_empty(), "{failures:#?}");
}

// ---- Redaction -------------------------------------------------------------

/// Every 16-character run of the key's body lines.
fn body_runs(text: &str) -> HashSet<String> {
    let offsets: HashSet<usize> = body_offsets(text).into_iter().collect();
    let mut runs = HashSet::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end();
        if (at..at + bare.len()).any(|i| offsets.contains(&i)) {
            for w in bare.as_bytes().windows(16) {
                runs.insert(String::from_utf8(w.to_vec()).unwrap());
            }
        }
        at += line.len();
    }
    runs
}

#[test]
fn no_report_format_prints_a_run_of_a_key_body() {
    let scanner = scanner();
    let keys = keys();
    for key in keys {
        // The PPK's public lines are the public key, which reports may show.
        let secret = match key.text.find("Private-Lines") {
            Some(at) => &key.text[at..],
            None => &key.text,
        };
        let runs = body_runs(secret);
        assert!(runs.len() > 20, "{}: no body runs", key.what);
        for (name, bytes) in disguises(&key.text, "\n") {
            if NOT_CLAIMED.contains(&(key.what, name)) {
                continue;
            }
            let origin = Origin {
                path: format!("keys/{}.txt", key.what.replace(' ', "-")),
                ..Origin::default()
            };
            let findings = scanner.scan(&bytes, &origin);
            assert!(!findings.is_empty(), "{} / {name}: nothing found", key.what);
            // The public key is no secret, and reports show it.
            let public: Vec<String> = findings
                .iter()
                .filter_map(|f| f.public_key.clone())
                .collect();
            let report = Report {
                findings,
                scanned: "1 file".into(),
                ..Report::default()
            };
            for format in [Format::Human, Format::Json, Format::Sarif, Format::Gitlab] {
                let mut out = Vec::new();
                let style = Style {
                    color: false,
                    quiet: false,
                };
                report::render(&report, format, &style, &mut out).unwrap();
                let out = String::from_utf8_lossy(&out);
                let leaked = out
                    .as_bytes()
                    .windows(16)
                    .filter_map(|w| std::str::from_utf8(w).ok())
                    .find(|w| runs.contains(*w) && !public.iter().any(|p| p.contains(*w)));
                assert!(
                    leaked.is_none(),
                    "{} / {name} / {format:?} prints {leaked:?}",
                    key.what
                );
            }
        }
    }
}
