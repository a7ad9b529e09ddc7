//! Weak passphrases: an encrypted key that opens with an empty or common
//! passphrase is, in practice, a key in clear. Only candidates already found
//! `encrypted` come here, so key-free text never pays for it; each key gets a
//! time budget, because bcrypt-pbkdf, scrypt and Argon2 are slow on purpose.

use super::{der, openssh, pbe, pem, pgp, ppk, sshcom};
use crate::rules::unwrap::{Armor, Line};
use crate::rules::{Candidate, Validator};
use crate::scan::finding::{KeyInfo, Status};
use std::time::{Duration, Instant};

/// The passphrases people actually leave on keys, most common first.
pub const COMMON: &[&str] = &[
    "",
    "password",
    "passphrase",
    "changeme",
    "changeit",
    "secret",
    "test",
    "123456",
    "12345678",
    "qwerty",
    "1234",
    "12345",
    "123456789",
    "password1",
    "Password1",
    "pass",
    "admin",
    "root",
    "letmein",
    "testing",
    "test123",
    "abc123",
    "default",
    "foobar",
    "key",
    "private",
    "ssh",
];

/// Time one key may take. A KDF run cannot be cut short, so the check
/// stops before a try that would likely overrun.
pub const BUDGET: Duration = Duration::from_secs(3);

pub struct Wordlist {
    words: Vec<String>,
}

impl Wordlist {
    /// The empty passphrase, the file's own name (`deploy` for
    /// `deploy.pem`), the user's list from config, then the built-in list:
    /// with bcrypt-pbkdf only the first few fit in the budget.
    pub fn new(file_stem: Option<&str>, extra: &[String]) -> Self {
        let mut words: Vec<String> = Vec::new();
        let mut push = |w: &str| {
            if !words.iter().any(|x| x == w) {
                words.push(w.to_string());
            }
        };
        push("");
        if let Some(stem) = file_stem.filter(|s| !s.is_empty() && s.len() <= 64) {
            push(stem);
        }
        for w in extra {
            push(w);
        }
        for w in COMMON {
            push(w);
        }
        Wordlist { words }
    }
}

pub enum Outcome {
    /// It opened: the key as if in clear, with a note.
    Opened(KeyInfo),
    /// No passphrase on the list opens it.
    Held,
    /// Stopped at the budget after trying this many.
    OutOfTime(usize, usize),
    /// A scheme the check cannot compute (or too costly to try at all).
    Skipped(&'static str),
}

/// Hostile files can ask for any KDF cost, and one try cannot be cut
/// short: keys costlier than these limits are not tried at all.
const TOO_COSTLY: &str = "key derivation too costly for a weak-passphrase check";
const MAX_BCRYPT_ROUNDS: u32 = 256;
const MAX_ARGON2_KIB: u64 = 256 * 1024;
const MAX_ARGON2_PASSES: u64 = 64;
const MAX_PARALLELISM: u64 = 16;
/// In hash-block units: about 4 million PBKDF2 iterations, or scrypt at
/// 64 MiB (N·r = 2¹⁹).
const MAX_WORK: u64 = 1 << 22;

type Opener<'a> = Box<dyn Fn(&[u8]) -> Option<KeyInfo> + 'a>;

/// Try every word on an `encrypted` candidate within `budget`.
pub fn crack(c: &Candidate, words: &Wordlist, budget: Duration) -> Outcome {
    let opener = match opener(c) {
        Ok(o) => o,
        Err(why) => return Outcome::Skipped(why),
    };
    let start = Instant::now();
    let mut slowest = Duration::ZERO;
    for (i, word) in words.words.iter().enumerate() {
        let elapsed = start.elapsed();
        if i > 0 && elapsed + slowest > budget {
            return Outcome::OutOfTime(i, words.words.len());
        }
        let before = Instant::now();
        let opened = opener(word.as_bytes());
        slowest = slowest.max(before.elapsed());
        if let Some(mut info) = opened {
            if info.status == Status::Valid {
                info.note = Some("weak passphrase".into());
                return Outcome::Opened(info);
            }
        }
    }
    Outcome::Held
}

fn opener<'a>(c: &'a Candidate) -> Result<Opener<'a>, &'static str> {
    let unsupported = "no weak-passphrase check for this format";
    match c.rule.validator {
        Validator::Openssh => {
            let bytes = c
                .armor
                .as_ref()
                .and_then(Armor::decoded)
                .ok_or(unsupported)?;
            let key = ssh_key::PrivateKey::from_bytes(&bytes).map_err(|_| unsupported)?;
            if let ssh_key::Kdf::Bcrypt { rounds, .. } = key.kdf() {
                if *rounds > MAX_BCRYPT_ROUNDS {
                    return Err(TOO_COSTLY);
                }
            }
            Ok(Box::new(move |pw| {
                let plain = key.decrypt(pw).ok()?;
                let mut info = openssh::from_key(&plain);
                info.format = "OpenSSH".into();
                Some(info)
            }))
        }
        Validator::Ppk => {
            let armor = c.armor.as_ref().ok_or(unsupported)?;
            let number = |name: &str| {
                armor
                    .header(name)
                    .and_then(|v| v.trim().parse::<u64>().ok())
            };
            let costly = number("Argon2-Memory").is_some_and(|kib| kib > MAX_ARGON2_KIB)
                || number("Argon2-Passes").is_some_and(|n| n > MAX_ARGON2_PASSES)
                || number("Argon2-Parallelism").is_some_and(|n| n > MAX_PARALLELISM);
            if costly {
                return Err(TOO_COSTLY);
            }
            let text = ppk_text(armor);
            let format = ppk::format_of(armor);
            Ok(Box::new(move |pw| {
                let pw = String::from_utf8_lossy(pw).into_owned();
                let key = ssh_key::PrivateKey::from_ppk(&text, Some(pw)).ok()?;
                let mut info = openssh::from_key(&key);
                info.format = format.clone();
                Some(info)
            }))
        }
        Validator::Pem => {
            let armor = c.armor.as_ref().ok_or(unsupported)?;
            if armor.header("Proc-Type").is_some() {
                return legacy_pem(armor);
            }
            let body = armor.decoded().ok_or(unsupported)?;
            pkcs8_opener(body, "encrypted PKCS#8")
        }
        Validator::Der => match der::shrouded_key_bag(&c.bytes) {
            Some(bag) => pkcs8_opener(bag.to_vec(), "PKCS#12"),
            None => pkcs8_opener(c.bytes.to_vec(), "DER encrypted PKCS#8"),
        },
        Validator::Sshcom => {
            let armor = c.armor.as_ref().ok_or(unsupported)?;
            Ok(Box::new(move |pw| sshcom::open(armor, pw)))
        }
        Validator::Pgp | Validator::PgpBinary => {
            let data = match &c.armor {
                Some(armor) if c.rule.validator == Validator::Pgp => {
                    pgp::dearmor(armor).ok_or(unsupported)?
                }
                _ => c.bytes.to_vec(),
            };
            let locked = pgp::locked(&data).ok_or("no weak-passphrase check for this S2K")?;
            let format = if c.rule.validator == Validator::Pgp {
                "OpenPGP"
            } else {
                "OpenPGP (binary)"
            };
            Ok(Box::new(move |pw| {
                let mut info = locked.open(pw)?;
                info.format = format.into();
                Some(info)
            }))
        }
        _ => Err(unsupported),
    }
}

fn pkcs8_opener(body: Vec<u8>, format: &'static str) -> Result<Opener<'static>, &'static str> {
    let unsupported = "no weak-passphrase check for this encryption scheme";
    let (scheme, data) = der::encrypted_parts(&body).map_err(|_| unsupported)?;
    let scheme = scheme.map_err(|_| unsupported)?;
    if !pbe::can_decrypt(&scheme) {
        return Err(unsupported);
    }
    if pbe::cost(&scheme) > MAX_WORK {
        return Err(TOO_COSTLY);
    }
    let data = data.to_vec();
    Ok(Box::new(move |pw| {
        let plain = pbe::decrypt(&scheme, &data, pw)?;
        let mut info = der::pkcs8(&plain).ok()?;
        info.format = format.into();
        Some(info)
    }))
}

/// `Proc-Type: 4,ENCRYPTED`: OpenSSL's EVP_BytesToKey (MD5, one round, the
/// IV's first 8 bytes as salt), then CBC.
fn legacy_pem(armor: &Armor) -> Result<Opener<'_>, &'static str> {
    let unsupported = "no weak-passphrase check for this cipher";
    let dek = armor.header("DEK-Info").ok_or(unsupported)?;
    let (cipher, iv_hex) = dek.split_once(',').ok_or(unsupported)?;
    let cipher = cipher.trim().to_ascii_lowercase();
    let key_len = match cipher.as_str() {
        "aes-128-cbc" => 16,
        "aes-192-cbc" | "des-ede3-cbc" => 24,
        "aes-256-cbc" => 32,
        "des-cbc" => 8,
        _ => return Err(unsupported),
    };
    let iv = hex_decode(iv_hex.trim()).ok_or(unsupported)?;
    let body = armor.decoded().ok_or(unsupported)?;
    let parse = pem::parser_for(&armor.label);
    Ok(Box::new(move |pw| {
        use md5::Digest;
        let salt = iv.get(..8)?;
        let mut key = Vec::new();
        let mut prev: Vec<u8> = Vec::new();
        while key.len() < key_len {
            prev = md5::Md5::new()
                .chain_update(&prev)
                .chain_update(pw)
                .chain_update(salt)
                .finalize()
                .to_vec();
            key.extend(&prev);
        }
        key.truncate(key_len);
        let plain = pbe::cbc_by_name(&cipher, &key, &iv, &body)?;
        let mut info = parse(&plain).ok()?;
        info.format = "PEM (legacy encryption)".into();
        Some(info)
    }))
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The PPK file text back from its unwrapped lines.
pub fn ppk_text(armor: &Armor) -> String {
    let mut out = String::new();
    for line in &armor.lines {
        match line {
            Line::Header(k, v) => out.push_str(&format!("{k}: {v}\n")),
            Line::Data(d) => {
                out.push_str(d);
                out.push('\n');
            }
            Line::Junk => {}
        }
    }
    out
}
