//! `.keyscan.toml`: policy, allowlist, custom and disabled rules. Loading it
//! checks everything (globs, regexes, rule examples, dates), so a config that
//! loads is one the scan can use; every error names the file and line.
//! The README has a complete example, which tests/readme.rs loads.

use crate::policy::allowlist::{Allowlist, FingerprintEntry};
use crate::policy::Policy;
use crate::rules::{self, one_line, Engine, Rule, RuleError, RuleSpec};
use crate::scan::Scanner;
use anyhow::{anyhow, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::Spanned;

pub const FILE_NAME: &str = ".keyscan.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    /// Rule ids to switch off (built-in or custom).
    #[serde(default)]
    disable: Vec<Spanned<String>>,
    #[serde(default)]
    policy: RawPolicy,
    #[serde(default)]
    allowlist: RawAllowlist,
    /// Custom rules; `[[rule]]` as rule files spell it works too.
    #[serde(default, alias = "rule")]
    rules: Vec<Spanned<RuleSpec>>,
    #[serde(default)]
    baseline: RawBaseline,
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    audit: RawAudit,
}

/// `[audit]`: which `keyscan audit` flags make the exit code 1.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAudit {
    #[serde(default)]
    block: Option<Spanned<Vec<String>>>,
}

/// `[server]`: how `keyscan pre-receive` behaves on a server.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    /// Seconds, or a string such as "4s" or "500ms".
    time_limit: Option<Spanned<toml::Value>>,
    fail_mode: Option<Spanned<String>>,
    #[serde(default)]
    allow_repo_config: bool,
    #[serde(default)]
    allow_push_option_bypass: bool,
}

/// The `[server]` settings, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    /// Past this, the push is rejected (or, failing open, let through unchecked).
    pub time_limit: std::time::Duration,
    /// `fail_mode = "open"`: a push that could not be checked in time passes.
    pub fail_open: bool,
    /// A `.keyscan.toml` in the pushed tree may add allowlist fingerprints.
    pub allow_repo_config: bool,
    /// `git push -o keyscan.allow=FINGERPRINT` lets that key through (logged).
    pub allow_push_option_bypass: bool,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            time_limit: std::time::Duration::from_secs(4),
            fail_open: false,
            allow_repo_config: false,
            allow_push_option_bypass: false,
        }
    }
}

/// `[baseline]`: what `--baseline` / `--baseline-strict` give, for hooks
/// that run keyscan without flags.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBaseline {
    file: Option<String>,
    #[serde(default)]
    strict: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default)]
    block_unverified: bool,
    /// Bytes, or a string such as "10MB".
    max_file_size: Option<Spanned<toml::Value>>,
    #[serde(default)]
    binaries: Binaries,
    #[serde(default)]
    shared_folders: Vec<String>,
    /// Try common passphrases on encrypted keys (default on).
    crack: Option<bool>,
    /// Extra passphrases to try (a team's usual ones).
    #[serde(default)]
    passphrases: Vec<String>,
    /// KDF work the passphrase check may spend in a run: "10s", "500ms".
    crack_budget: Option<Spanned<toml::Value>>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Binaries {
    #[default]
    Scan,
    Skip,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAllowlist {
    /// Each a fingerprint string or a table with fingerprint, reason, expires.
    #[serde(default)]
    fingerprints: Vec<Spanned<toml::Value>>,
    #[serde(default)]
    paths: Vec<Spanned<String>>,
}

/// A loaded, checked configuration.
pub struct Config {
    /// The file it came from; `None` for the defaults.
    pub path: Option<PathBuf>,
    pub policy: Policy,
    /// Built-in rules minus `disable`, plus `[[rules]]`.
    pub engine: Engine,
    /// `[baseline] file`, relative to the config's directory; `None` (and a
    /// warning in the policy) when that file does not exist.
    pub baseline: Option<PathBuf>,
    pub baseline_strict: bool,
    /// `[server]`, for pre-receive.
    pub server: ServerSettings,
    /// `[audit] block`: the audit flags that block (`None`: the defaults).
    pub audit_block: Option<std::collections::BTreeSet<String>>,
}

/// Positions in the config text, for errors.
struct Source<'a> {
    name: String,
    text: &'a str,
}

impl Source<'_> {
    fn at(&self, offset: usize) -> String {
        let line = 1 + self.text.as_bytes()[..offset.min(self.text.len())]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        format!("{}:{line}", self.name)
    }

    fn error(&self, offset: usize, reason: impl std::fmt::Display) -> anyhow::Error {
        anyhow!(
            "config {}: {}",
            self.at(offset),
            one_line(&reason.to_string())
        )
    }
}

impl Config {
    /// Parse and check a config. `origin` is the file (it names errors and
    /// anchors relative paths).
    pub fn parse(origin: &Path, text: &str) -> Result<Self> {
        let src = Source {
            name: origin.display().to_string(),
            text,
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| match e.span() {
            Some(span) => src.error(span.start, e.message()),
            None => anyhow!("config {}: {}", src.name, one_line(e.message())),
        })?;
        let dir = origin
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());

        let today = crate::policy::time::today();
        let mut entries = Vec::new();
        for value in &raw.allowlist.fingerprints {
            entries.push(fingerprint_entry(&src, value, today)?);
        }
        let globs: Vec<String> = raw
            .allowlist
            .paths
            .iter()
            .map(|p| p.get_ref().clone())
            .collect();
        let allowlist = Allowlist::new(entries, globs).map_err(|e| {
            let at = raw.allowlist.paths.first().map_or(0, |p| p.span().start);
            src.error(at, format!("{e:#}"))
        })?;

        let max_file_size = match &raw.policy.max_file_size {
            Some(v) => Some(parse_size(v.get_ref()).map_err(|e| src.error(v.span().start, e))?),
            None => None,
        };
        let mut policy = Policy::default();
        policy.block_unverified = raw.policy.block_unverified;
        policy.allowlist = allowlist;
        policy.max_file_size = max_file_size;
        policy.skip_binaries = raw.policy.binaries == Binaries::Skip;
        policy.shared_folders = (raw.policy.shared_folders.iter())
            .map(|f| shared_folder(f, &dir))
            .collect();
        policy.config_dir = Some(dir);
        policy.crack = raw.policy.crack.unwrap_or(true);
        policy.passphrases = raw.policy.passphrases.clone();
        if let Some(v) = &raw.policy.crack_budget {
            let text = match v.get_ref() {
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            policy.crack_budget = crate::validate::crack::parse_budget(&text)
                .map_err(|e| src.error(v.span().start, e))?;
            policy.crack_budget_set = true;
        }
        let engine = build_engine(&src, raw.rules, &raw.disable)?;
        let server = server_settings(&src, &raw.server)?;
        let audit_block = match &raw.audit.block {
            Some(b) => Some(
                crate::policy::audit::check_block(b.get_ref())
                    .map_err(|e| src.error(b.span().start, e))?,
            ),
            None => None,
        };
        let baseline = raw.baseline.file.map(|f| config_relative(origin, &f));
        let baseline = baseline.filter(|path| {
            let exists = path.exists();
            if !exists {
                policy
                    .config_warnings
                    .push(missing_baseline(&src.name, path));
            }
            exists
        });
        Ok(Config {
            path: Some(origin.to_path_buf()),
            policy,
            engine,
            baseline,
            baseline_strict: raw.baseline.strict,
            server,
            audit_block,
        })
    }

    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow!("cannot read config {}: {e}", path.display()))?;
        Self::parse(path, &text)
    }

    /// Built-in rules and the default policy.
    pub fn defaults() -> Result<Self> {
        Ok(Config {
            path: None,
            policy: Policy::default(),
            engine: Engine::new(rules::builtin()?)?,
            baseline: None,
            baseline_strict: false,
            server: ServerSettings::default(),
            audit_block: None,
        })
    }

    /// The explicit `--config` file, else `.keyscan.toml` at the top of the
    /// enclosing git work tree or in the current directory, else defaults.
    pub fn discover(explicit: Option<&Path>) -> Result<Self> {
        if let Some(path) = explicit {
            return Self::load(path);
        }
        match default_path() {
            Some(path) => Self::load(&path),
            None => Self::defaults(),
        }
    }

    pub fn scanner(self) -> Scanner {
        Scanner::new(self.engine, self.policy)
    }
}

fn fingerprint_entry(
    src: &Source,
    value: &Spanned<toml::Value>,
    today: (i64, u32, u32),
) -> Result<FingerprintEntry> {
    let at = value.span().start;
    let origin = src.at(at);
    let mut entry = FingerprintEntry {
        fingerprint: String::new(),
        reason: None,
        expires: None,
        expired: false,
        origin,
    };
    match value.get_ref() {
        toml::Value::String(s) => entry.fingerprint = s.clone(),
        toml::Value::Table(t) => {
            for (key, v) in t {
                match (key.as_str(), v) {
                    ("fingerprint", toml::Value::String(s)) => entry.fingerprint = s.clone(),
                    ("reason", toml::Value::String(s)) => entry.reason = Some(s.clone()),
                    ("expires", v) => {
                        let date = parse_date(v).ok_or_else(|| {
                            src.error(at, "`expires` must be a date such as 2027-06-30")
                        })?;
                        entry.expired = today > date;
                        entry.expires =
                            Some(format!("{:04}-{:02}-{:02}", date.0, date.1, date.2));
                    }
                    ("fingerprint" | "reason", _) => {
                        return Err(src.error(at, format!("`{key}` must be a string")))
                    }
                    _ => {
                        return Err(src.error(
                            at,
                            format!("unknown key `{key}` in an allowlist entry (expected fingerprint, reason, expires)"),
                        ))
                    }
                }
            }
        }
        _ => {
            return Err(src.error(
                at,
                "an allowlist fingerprint is a string or { fingerprint = \"...\", reason = \"...\", expires = 2027-06-30 }",
            ))
        }
    }
    if entry.fingerprint.trim().is_empty() {
        return Err(src.error(at, "allowlist entry without a fingerprint"));
    }
    Ok(entry)
}

/// Built-in rules minus `disable`, plus the config's own, whose examples
/// must hold.
fn build_engine(
    src: &Source,
    custom: Vec<Spanned<RuleSpec>>,
    disable: &[Spanned<String>],
) -> Result<Engine> {
    let mut all: Vec<Rule> = rules::builtin()?;
    // Where each custom rule starts, for errors.
    let mut custom_at = Vec::new();
    for spec in custom {
        let at = spec.span().start;
        rules::compile(&src.name, spec.into_inner())
            .and_then(|rule| {
                custom_at.push((rule.id.clone(), at));
                rules::add(&mut all, rule)
            })
            .map_err(|e| rule_error(src, at, &e))?;
    }
    for id in disable {
        if !all.iter().any(|r| &r.id == id.get_ref()) {
            let known: Vec<&str> = all.iter().map(|r| r.id.as_str()).collect();
            return Err(src.error(
                id.span().start,
                format!(
                    "disable: unknown rule id {} (known: {})",
                    id.get_ref(),
                    known.join(", ")
                ),
            ));
        }
    }
    all.retain(|r| !disable.iter().any(|d| d.get_ref() == &r.id));
    let engine = Engine::new(all)?;
    let is_custom = |r: &Rule| custom_at.iter().any(|(id, _)| *id == r.id);
    if let Some(e) = rules::check_examples(&engine, is_custom).first() {
        let at = custom_at
            .iter()
            .find(|(id, _)| *id == e.id)
            .map_or(0, |c| c.1);
        return Err(rule_error(src, at, e));
    }
    Ok(engine)
}

/// A faulty `[[rules]]` entry, placed at its line.
fn rule_error(src: &Source, at: usize, e: &RuleError) -> anyhow::Error {
    src.error(at, format!("rule {}: {}", e.id, e.kind))
}

fn server_settings(src: &Source, raw: &RawServer) -> Result<ServerSettings> {
    let mut s = ServerSettings {
        allow_repo_config: raw.allow_repo_config,
        allow_push_option_bypass: raw.allow_push_option_bypass,
        ..ServerSettings::default()
    };
    if let Some(v) = &raw.time_limit {
        s.time_limit = parse_duration(v.get_ref()).map_err(|e| src.error(v.span().start, e))?;
        if s.time_limit > super::server::MAX_TIME_LIMIT {
            let max = super::server::MAX_TIME_LIMIT.as_secs();
            return Err(src.error(
                v.span().start,
                format!(
                    "time_limit must be at most {max} s (a day), not {v}",
                    v = v.get_ref()
                ),
            ));
        }
    }
    if let Some(mode) = &raw.fail_mode {
        s.fail_open = match mode.get_ref().as_str() {
            "closed" => false,
            "open" => true,
            other => {
                return Err(src.error(
                    mode.span().start,
                    format!("fail_mode must be \"closed\" or \"open\", not \"{other}\""),
                ))
            }
        };
    }
    Ok(s)
}

/// A duration from `4` (seconds), `"4s"`, `"1.5s"` or `"500ms"`.
fn parse_duration(v: &toml::Value) -> std::result::Result<std::time::Duration, String> {
    let bad =
        || format!("time_limit must be seconds or a time such as \"4s\" or \"500ms\", not {v}");
    let secs = match v {
        toml::Value::Integer(n) if *n >= 0 => *n as f64,
        toml::Value::Float(f) if *f >= 0.0 => *f,
        toml::Value::String(s) => {
            let s = s.trim();
            let (n, scale) = if let Some(n) = s.strip_suffix("ms") {
                (n, 0.001)
            } else if let Some(n) = s.strip_suffix('s') {
                (n, 1.0)
            } else {
                (s, 1.0)
            };
            let n: f64 = n.trim().parse().map_err(|_| bad())?;
            if !(n >= 0.0 && n.is_finite()) {
                return Err(bad());
            }
            n * scale
        }
        _ => return Err(bad()),
    };
    std::time::Duration::try_from_secs_f64(secs).map_err(|_| bad())
}

/// Bytes from `10485760` or `"10MB"` (K, M, G: powers of 1024; `KiB` too).
fn parse_size(v: &toml::Value) -> std::result::Result<u64, String> {
    let bad = || format!("max_file_size must be bytes or a size such as \"10MB\", not {v}");
    match v {
        toml::Value::Integer(n) if *n > 0 => Ok(*n as u64),
        toml::Value::String(s) => {
            let s = s.trim();
            let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
            let n: u64 = s[..split].parse().map_err(|_| bad())?;
            let unit = s[split..].trim().to_ascii_lowercase();
            let scale: u64 = match unit.trim_end_matches("ib").trim_end_matches('b') {
                "" => 1,
                "k" => 1 << 10,
                "m" => 1 << 20,
                "g" => 1 << 30,
                _ => return Err(bad()),
            };
            n.checked_mul(scale).filter(|n| *n > 0).ok_or_else(bad)
        }
        _ => Err(bad()),
    }
}

/// A TOML date (`2027-06-30`) or a string holding one.
fn parse_date(v: &toml::Value) -> Option<(i64, u32, u32)> {
    let text = match v {
        toml::Value::Datetime(d) if d.time.is_none() && d.offset.is_none() => d.to_string(),
        toml::Value::String(s) => s.clone(),
        _ => return None,
    };
    let mut parts = text.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then_some((y, m, d))
}

/// `~/Dropbox` under $HOME; relative folders are relative to the config's
/// directory. Resolved through symlinks when it exists.
fn shared_folder(folder: &str, config_dir: &Path) -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let path = match (folder.strip_prefix("~/"), &home) {
        (Some(rest), Some(home)) => home.join(rest),
        _ if folder == "~" && home.is_some() => home.clone().unwrap_or_default(),
        _ => config_dir.join(folder),
    };
    path.canonicalize().unwrap_or(path)
}

/// A baseline the config names but that does not exist knows no keys: every
/// key found blocks, which is safe, so it is a warning and not an error (an
/// explicit `--baseline FILE` that is missing stays an error).
fn missing_baseline(config: &str, path: &Path) -> String {
    format!(
        "baseline {} (named in {config}) does not exist: no keys are known, every key found blocks; \
         `keyscan history --write-baseline {}` records the keys already in history",
        path.display(),
        path.display()
    )
}

/// A path written in the config, relative to the config file's directory
/// (kept short when that is the current directory).
fn config_relative(origin: &Path, path: &str) -> PathBuf {
    match origin.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(path),
        _ => PathBuf::from(path),
    }
}

fn default_path() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    for dir in cwd.ancestors() {
        let candidate = dir.join(FILE_NAME);
        if candidate.is_file() {
            // Named as short as it can be, for messages.
            return Some(match candidate.strip_prefix(&cwd) {
                Ok(rel) => rel.to_path_buf(),
                Err(_) => candidate,
            });
        }
        if dir.join(".git").exists() {
            break;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config> {
        Config::parse(Path::new(".keyscan.toml"), text)
    }

    impl std::fmt::Debug for Config {
        fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(f, "Config({:?})", self.path)
        }
    }

    #[test]
    fn parses_policy_and_allowlist() {
        let c = parse(
            "[policy]\nblock_unverified = true\nmax_file_size = \"2MB\"\nbinaries = \"skip\"\n\
             [allowlist]\nfingerprints = [\"SHA256:abc\", { fingerprint = \"SHA256:def\", reason = \"fixture\", expires = 2000-01-01 }]\n",
        )
        .unwrap();
        let p = &c.policy;
        assert!(p.block_unverified && p.skip_binaries);
        assert_eq!(p.max_file_size, Some(2 << 20));
        let e = p.allowlist.entries();
        assert_eq!(e.len(), 2);
        assert!(!e[0].expired && e[1].expired);
        assert_eq!(e[1].origin, ".keyscan.toml:6");
        assert_eq!(e[1].reason.as_deref(), Some("fixture"));
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let err = parse("[policy]\nblock_unverified = true\n\n[allowlist]\npathz = [\"x\"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("config .keyscan.toml:5: unknown field `pathz`"),
            "{err}"
        );
        assert!(!err.contains('\n'));
        let err = parse("disable = [\"nope\"]\n").unwrap_err().to_string();
        assert!(err.contains(":1: disable: unknown rule id nope"), "{err}");
        let err = parse("[policy]\nmax_file_size = \"10 parsecs\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains(":2: max_file_size"), "{err}");
    }

    #[test]
    fn custom_rule_examples_are_checked() {
        let rule = "[[rules]]\nid = \"acme-key\"\ndescription = \"d\"\nkeywords = [\"ACME KEY\"]\n\
                    start = '-----BEGIN (?P<label>ACME KEY)-----'\nend = '-----END {label}-----'\nvalidator = \"pem\"\n";
        let good = format!(
            "{rule}examples = [\"-----BEGIN ACME KEY-----\\nAAAA\\n-----END ACME KEY-----\"]\n"
        );
        let c = parse(&good).unwrap();
        assert!(c.engine.rules().iter().any(|r| r.id == "acme-key"));
        let bad = format!("\n{rule}examples = [\"no key here\"]\n");
        let err = parse(&bad).unwrap_err().to_string();
        assert!(
            err.contains(".keyscan.toml:2: rule acme-key: example 1"),
            "{err}"
        );
    }

    #[test]
    fn sizes() {
        let s = |t: &str| parse_size(&toml::Value::String(t.into()));
        assert_eq!(s("10MB"), Ok(10 << 20));
        assert_eq!(s("512 KiB"), Ok(512 << 10));
        assert_eq!(s("100"), Ok(100));
        assert!(s("lots").is_err() && s("0").is_err());
    }

    #[test]
    fn server_section() {
        let c = parse("[server]\ntime_limit = \"500ms\"\nfail_mode = \"open\"\n").unwrap();
        assert_eq!(c.server.time_limit, std::time::Duration::from_millis(500));
        assert!(c.server.fail_open && !c.server.allow_repo_config);
        assert_eq!(parse("").unwrap().server, ServerSettings::default());
        let err = parse("[server]\nfail_mode = \"maybe\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains(":2: fail_mode"), "{err}");
        let err = parse("[server]\ntime_limit = \"soon\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains(":2: time_limit"), "{err}");
    }
}
