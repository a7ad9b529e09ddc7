//! Weak passphrases: an encrypted key that opens with an empty or common
//! passphrase is, in practice, a key in clear. Only candidates already found
//! `encrypted` come here, so key-free text never pays for it; each key gets a
//! time budget, because bcrypt-pbkdf, scrypt and Argon2 are slow on purpose.

use crate::rules::Candidate;
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

/// Try every word on an `encrypted` candidate within `budget`.
pub fn crack(c: &Candidate, words: &Wordlist, budget: Duration) -> Outcome {
    let lock = super::format(c.rule.validator).map_or(Err(super::NO_CHECK), |f| (f.lock)(c));
    let lock = match lock {
        Ok(lock) => lock,
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
        let opened = (lock.open)(word.as_bytes());
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
