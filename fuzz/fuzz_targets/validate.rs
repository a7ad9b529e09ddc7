//! Each validator family, reached through the scanner with the armor its
//! rule expects already in place: the first byte picks the family, the rest
//! is the key's body (binary, base64-encoded here) or, for the text and
//! binary formats found as they are, the whole blob.
#![no_main]

use base64::Engine as _;
use keyscan::policy::config::Config;
use keyscan::scan::Scanner;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn scanner() -> &'static Scanner {
    static SCANNER: OnceLock<Scanner> = OnceLock::new();
    SCANNER.get_or_init(|| {
        let mut config = Config::defaults().expect("built-in rules compile");
        config.policy.crack = false;
        config.scanner()
    })
}

/// Armor labels, by selector: PEM (PKCS#1, SEC1, PKCS#8, PBES2, DSA),
/// OpenSSH, OpenPGP and ssh.com.
const ARMORED: &[(&str, &str, &str)] = &[
    ("-----BEGIN ", "RSA PRIVATE KEY", "-----"),
    ("-----BEGIN ", "EC PRIVATE KEY", "-----"),
    ("-----BEGIN ", "PRIVATE KEY", "-----"),
    ("-----BEGIN ", "ENCRYPTED PRIVATE KEY", "-----"),
    ("-----BEGIN ", "DSA PRIVATE KEY", "-----"),
    ("-----BEGIN ", "OPENSSH PRIVATE KEY", "-----"),
    ("-----BEGIN ", "PGP PRIVATE KEY BLOCK", "-----"),
    ("---- BEGIN ", "SSH2 ENCRYPTED PRIVATE KEY", " ----"),
];

fn armored(selector: usize, body: &[u8]) -> Vec<u8> {
    let (begin, label, tail) = ARMORED[selector];
    let end = begin.replace("BEGIN", "END");
    let b64 = base64::engine::general_purpose::STANDARD.encode(body);
    let mut text = format!("{begin}{label}{tail}\n");
    if selector == 6 {
        text.push('\n'); // OpenPGP armor: a blank line after the headers
    }
    for line in b64.as_bytes().chunks(64) {
        text.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        text.push('\n');
    }
    text.push_str(&format!("{end}{label}{tail}\n"));
    text.into_bytes()
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let selector = selector as usize % (ARMORED.len() + 1);
    let blob = if selector < ARMORED.len() {
        armored(selector, body)
    } else {
        // DER, PKCS#12, binary OpenPGP, SSH-1, GnuPG, PPK: as found on disk.
        body.to_vec()
    };
    for hit in scanner().hits(&blob) {
        assert!(hit.start <= hit.end && hit.end <= blob.len(), "span out of the blob");
        assert!(hit.line <= hit.end_line, "lines out of order");
    }
});
