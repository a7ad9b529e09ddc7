//! Weak passphrases: an encrypted key that opens with an empty or common
//! passphrase is, in practice, a key in clear.
//!
//! One check per run. Every distinct encrypted key is registered once (by
//! the digest of its bytes, whatever its copies and paths); `Checker::run`
//! then tries passphrases in rounds, cheap ones first across all keys: the
//! empty passphrase, the file stems, the config's list, the built-in list.
//! Within a round the keys go cheapest first, and a try starts only if its
//! estimated KDF work still fits in the run's budget. The budget counts
//! that estimate (from each key's KDF parameters), not the clock, so the
//! same input gives the same result on every run, on any number of cores.
//! A deadline (hooks) is an outer stop on the clock; when it cuts the check
//! short, the result says so.

use super::Lock;
use crate::rules::Candidate as Found;
use crate::scan::finding::{KeyInfo, Status};
use rayon::prelude::*;
use sha2::Digest;
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex};
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

/// KDF work the whole run may spend, counted in one core's time: the whole
/// list on hundreds of cheap keys (PBKDF2, legacy PEM, PKCS#12), or the
/// file name and the common list on a few OpenSSH keys (bcrypt-pbkdf, 16
/// rounds: about 0.12 s a try). A hook also stops it at its time limit;
/// `--crack-budget` looks further.
pub const BUDGET: Duration = Duration::from_secs(2);

/// `keyscan history`'s default: a history full of strong encrypted test
/// keys must not be slowed down, so only the cheap tries and a few costly
/// ones fit (`--crack-budget` or `[policy] crack_budget` for more).
pub const HISTORY_BUDGET: Duration = Duration::from_millis(250);

/// A key whose try costs at most this (microseconds) is cheap: PBKDF2 at
/// common iteration counts, legacy PEM, PKCS#12. Cheap keys get their
/// whole list before any costly try is made.
const CHEAP_TRY: u64 = 1_000;

/// The longest file stem tried as a passphrase.
const MAX_STEM: usize = 64;

/// `--crack-budget` and `[policy] crack_budget`: `"10s"`, `"500ms"`,
/// `"2m"`, or plain seconds.
pub fn parse_budget(text: &str) -> Result<Duration, String> {
    let bad = || {
        format!("crack budget must be a time such as \"10s\", \"500ms\" or \"2m\", not {text:?}")
    };
    let s = text.trim();
    let (n, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else {
        (s, 1.0)
    };
    let n: f64 = n.trim().parse().map_err(|_| bad())?;
    let secs = n * scale;
    // A day is more than any check needs; beyond it, a typo.
    if !(0.0..=86_400.0).contains(&secs) {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(secs))
}

/// What the check did in a run, for the summary.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Distinct encrypted keys.
    pub keys: usize,
    /// Passphrases tried, over all keys.
    pub tries: usize,
    pub opened: usize,
    /// Keys whose list was cut short by the budget.
    pub over_budget: usize,
    /// Keys whose list was cut short by the deadline.
    pub out_of_time: usize,
    /// Keys the check cannot try (scheme not computed here, KDF too costly).
    pub skipped: usize,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let s = |n: usize| if n == 1 { "" } else { "s" };
        write!(
            f,
            "weak-passphrase check: {} encrypted key{}, {} passphrase{} tried, {} opened",
            self.keys,
            s(self.keys),
            self.tries,
            s(self.tries),
            self.opened
        )?;
        if self.over_budget > 0 {
            write!(
                f,
                ", {} not finished within the budget (--crack-budget to look further)",
                self.over_budget
            )?;
        }
        if self.out_of_time > 0 {
            write!(f, ", {} stopped at the time limit", self.out_of_time)?;
        }
        if self.skipped > 0 {
            write!(f, ", {} not checkable", self.skipped)?;
        }
        Ok(())
    }
}

/// Where one key stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It opened: the key as if in clear, with a note.
    Opened(KeyInfo),
    /// Every passphrase on its list tried; none opens it.
    Held,
    /// Not tried: why.
    Skipped(&'static str),
    /// Stopped with passphrases left: a note saying how far it got.
    Stopped(String),
}

struct Entry {
    digest: [u8; 32],
    lock: Result<Arc<Lock>, &'static str>,
    stems: BTreeSet<String>,
    /// Passphrases already tried, in order.
    tried: Vec<String>,
    opened: Option<KeyInfo>,
    /// Why it stopped before its list ended, when it did.
    stopped: Option<Stop>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Budget,
    Deadline,
}

#[derive(Default)]
struct State {
    keys: Vec<Entry>,
    by_digest: HashMap<[u8; 32], usize>,
    /// Estimated work spent so far, in microseconds of one core.
    spent: u64,
    tries: usize,
}

/// The run-wide check: every encrypted key of the run, and the budget.
#[derive(Default)]
pub struct Checker {
    state: Mutex<State>,
}

/// How a run's check is bounded.
pub struct Limits<'a> {
    pub budget: Duration,
    /// The config's passphrases, tried after the file stems.
    pub passphrases: &'a [String],
    /// A clock stop (a hook's time limit): no try starts that would
    /// likely end after it.
    pub deadline: Option<Instant>,
}

/// A key's next try: (key, rank, passphrase, cost, digest).
type Candidate = (usize, (bool, u8, usize), String, u64, [u8; 32]);

/// One try picked for a round.
struct Try {
    key: usize,
    word: String,
}

impl Checker {
    /// Register an `encrypted` candidate: its id in this run, the same for
    /// every copy of the same bytes.
    pub fn register(&self, c: &Found) -> usize {
        let digest: [u8; 32] = sha2::Sha256::digest(&c.bytes).into();
        let mut state = self.lock_state();
        if let Some(&id) = state.by_digest.get(&digest) {
            return id;
        }
        let lock = super::format(c.rule.validator).map_or(Err(super::NO_CHECK), |f| (f.lock)(c));
        let lock = lock.map(Arc::new);
        let id = state.keys.len();
        state.keys.push(Entry {
            digest,
            lock,
            stems: BTreeSet::new(),
            tried: Vec::new(),
            opened: None,
            stopped: None,
        });
        state.by_digest.insert(digest, id);
        id
    }

    /// A path the key `id` was found at: its file stem (`deploy` for
    /// `keys/deploy.pem`) is one of the passphrases tried on it.
    pub fn add_path(&self, id: usize, path: &str) {
        let stem = std::path::Path::new(path)
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|s| !s.is_empty() && s.len() <= MAX_STEM);
        if let Some(stem) = stem {
            if let Some(e) = self.lock_state().keys.get_mut(id) {
                e.stems.insert(stem.to_string());
            }
        }
    }

    /// Where the key `id` stands now (`passphrases`: the config's).
    pub fn outcome(&self, id: usize, passphrases: &[String]) -> Outcome {
        let state = self.lock_state();
        let Some(e) = state.keys.get(id) else {
            return Outcome::Skipped(super::NO_CHECK);
        };
        if let Some(info) = &e.opened {
            return Outcome::Opened(info.clone());
        }
        if let Err(why) = &e.lock {
            return Outcome::Skipped(why);
        }
        let (tried, total) = (e.tried.len(), e.tried.len() + untried(e, passphrases).len());
        match e.stopped {
            Some(Stop::Budget) => Outcome::Stopped(format!(
                "weak-passphrase check stopped at its budget after {tried} of {total} passphrases"
            )),
            Some(Stop::Deadline) => Outcome::Stopped(format!(
                "weak-passphrase check stopped at the time limit after {tried} of {total} passphrases"
            )),
            None => Outcome::Held,
        }
    }

    /// Try passphrases on every key registered so far, within `limits`
    /// (the budget is the run's: what earlier calls spent counts).
    pub fn run(&self, limits: &Limits) -> Summary {
        // Measured time per estimated microsecond, for the deadline only.
        let pace = Mutex::new((0u64, Duration::ZERO));
        let budget = limits.budget.as_micros().min(u64::MAX as u128) as u64;
        while let Some(round) = self.next_round(limits.passphrases, budget) {
            let results: Vec<(Try, Option<Option<KeyInfo>>)> = round
                .into_par_iter()
                .map(|t| {
                    let result = self.try_one(&t, limits.deadline, &pace);
                    (t, result)
                })
                .collect();
            let mut state = self.lock_state();
            for (t, result) in results {
                let e = &mut state.keys[t.key];
                let Some(opened) = result else {
                    e.stopped = Some(Stop::Deadline);
                    continue;
                };
                e.tried.push(t.word);
                if let Some(mut info) = opened {
                    info.note = Some("weak passphrase".into());
                    e.opened = Some(info);
                }
                state.tries += 1;
            }
        }
        self.summary()
    }

    /// One try: `None` when the deadline leaves no time for it, else what
    /// it opened (a key in clear) or `Some(None)`.
    fn try_one(
        &self,
        t: &Try,
        deadline: Option<Instant>,
        pace: &Mutex<(u64, Duration)>,
    ) -> Option<Option<KeyInfo>> {
        let lock = self.lock_of(t.key)?;
        if let Some(deadline) = deadline {
            let (units, took) = *pace.lock().unwrap_or_else(|e| e.into_inner());
            let per_unit = if units == 0 {
                Duration::from_micros(2)
            } else {
                took.div_f64(units as f64).max(Duration::from_nanos(200))
            };
            let expected = per_unit.saturating_mul(lock.cost.min(u32::MAX as u64) as u32);
            if Instant::now() + expected >= deadline {
                return None;
            }
        }
        let before = Instant::now();
        let opened = (lock.open)(t.word.as_bytes()).filter(|i| i.status == Status::Valid);
        let mut p = pace.lock().unwrap_or_else(|e| e.into_inner());
        p.0 += lock.cost;
        p.1 += before.elapsed();
        Some(opened)
    }

    /// The next round: for every key still open to tries, its next
    /// passphrase, if it has the lowest rank any key is at (cheap keys
    /// before costly ones, then by tier and place in the tier); keys
    /// cheapest first, as many as the budget pays for. Keys it cannot pay
    /// for are stopped. `None` when nothing is left to try.
    fn next_round(&self, passphrases: &[String], budget: u64) -> Option<Vec<Try>> {
        let mut state = self.lock_state();
        let mut next: Vec<Candidate> = Vec::new();
        for (id, e) in state.keys.iter().enumerate() {
            let Ok(lock) = &e.lock else { continue };
            if e.opened.is_some() || e.stopped.is_some() {
                continue;
            }
            if let Some((tier, index, word)) = untried(e, passphrases).into_iter().next() {
                let rank = (lock.cost > CHEAP_TRY, tier, index);
                next.push((id, rank, word, lock.cost, e.digest));
            }
        }
        let lowest = next.iter().map(|n| n.1).min()?;
        next.retain(|n| n.1 == lowest);
        next.sort_by_key(|n| (n.3, n.4));
        let mut round = Vec::new();
        for (id, _, word, cost, _) in next {
            if state.spent.saturating_add(cost) > budget {
                state.keys[id].stopped = Some(Stop::Budget);
                continue;
            }
            state.spent += cost;
            round.push(Try { key: id, word });
        }
        Some(round)
    }

    /// The lock of key `id`, shared with the worker threads.
    fn lock_of(&self, id: usize) -> Option<Arc<Lock>> {
        match self.lock_state().keys.get(id).map(|e| &e.lock) {
            Some(Ok(lock)) => Some(Arc::clone(lock)),
            _ => None,
        }
    }

    pub fn summary(&self) -> Summary {
        let state = self.lock_state();
        let mut s = Summary {
            keys: state.keys.len(),
            tries: state.tries,
            ..Summary::default()
        };
        for e in &state.keys {
            if e.opened.is_some() {
                s.opened += 1;
            } else if e.lock.is_err() {
                s.skipped += 1;
            } else {
                match e.stopped {
                    Some(Stop::Budget) => s.over_budget += 1,
                    Some(Stop::Deadline) => s.out_of_time += 1,
                    None => {}
                }
            }
        }
        s
    }

    fn lock_state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The passphrases still to try on a key, in order, each with its tier
/// (0 empty, 1 file stem, 2 config, 3 built-in) and place in the tier.
fn untried(e: &Entry, passphrases: &[String]) -> Vec<(u8, usize, String)> {
    let mut seen: BTreeSet<&str> = e.tried.iter().map(String::as_str).collect();
    if e.lock.as_ref().is_ok_and(|l| !l.empty) {
        seen.insert("");
    }
    let tiers: [Vec<&str>; 4] = [
        vec![""],
        e.stems.iter().map(String::as_str).collect(),
        passphrases.iter().map(String::as_str).collect(),
        COMMON.to_vec(),
    ];
    let mut out = Vec::new();
    for (tier, words) in tiers.iter().enumerate() {
        for (i, w) in words.iter().enumerate() {
            if seen.insert(w) {
                out.push((tier as u8, i, w.to_string()));
            }
        }
    }
    out
}
