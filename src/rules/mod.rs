//! Rules are data: TOML files under `rules/`, embedded at build time.
//!
//! A rule names the literal keywords that gate it (found on raw bytes before
//! any regex runs; the regex then runs only near them), a `start` regex, an optional `end` marker bound to the
//! start's `label`, and the validator that parses what it matched.

mod check;
pub mod decode;
mod keywords;
mod matcher;
mod pattern;
pub mod unwrap;

pub use check::{add, check_examples, check_files, RuleCheck, RuleError, RuleErrorKind};
pub use matcher::{Candidate, Engine};
pub use pattern::Pattern;

use anyhow::{anyhow, Result};
use serde::Deserialize;

/// The rule files shipped in the binary, in priority order.
pub const BUILTIN: &[(&str, &str)] = &[
    ("openssh.toml", include_str!("../../rules/openssh.toml")),
    ("pem.toml", include_str!("../../rules/pem.toml")),
    ("ppk.toml", include_str!("../../rules/ppk.toml")),
    ("pgp.toml", include_str!("../../rules/pgp.toml")),
    ("sshcom.toml", include_str!("../../rules/sshcom.toml")),
    ("encoded.toml", include_str!("../../rules/encoded.toml")),
    ("der.toml", include_str!("../../rules/der.toml")),
    ("ssh1.toml", include_str!("../../rules/ssh1.toml")),
    ("gnupg.toml", include_str!("../../rules/gnupg.toml")),
    ("jks.toml", include_str!("../../rules/jks.toml")),
    ("age.toml", include_str!("../../rules/age.toml")),
    ("wireguard.toml", include_str!("../../rules/wireguard.toml")),
    ("minisign.toml", include_str!("../../rules/minisign.toml")),
    ("signify.toml", include_str!("../../rules/signify.toml")),
    ("jwk.toml", include_str!("../../rules/jwk.toml")),
    ("xmlrsa.toml", include_str!("../../rules/xmlrsa.toml")),
    ("tor.toml", include_str!("../../rules/tor.toml")),
    ("bitcoin.toml", include_str!("../../rules/bitcoin.toml")),
    ("nostr.toml", include_str!("../../rules/nostr.toml")),
    ("solana.toml", include_str!("../../rules/solana.toml")),
];

/// Which parser decides whether a candidate is a real key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Validator {
    Pem,
    Openssh,
    Ppk,
    Pgp,
    Sshcom,
    /// Decode base64 and scan the result again with every rule.
    Base64,
    /// Decode a percent- or form-encoded run and scan it again.
    Percent,
    /// Decode the whole blob as UTF-16 (LE or BE, as the match's alignment
    /// says) and scan it again.
    Utf16,
    /// Undo the escapes of a string whose very markers are escaped
    /// (`\u0020`, `\u002D`) and scan it again.
    Escaped,
    /// Decode the quoted-printable text after a MIME header and scan it again.
    #[serde(rename = "quoted-printable")]
    QuotedPrintable,
    /// A whole blob of binary DER (PKCS#8/PKCS#1/SEC1/DSA) or PKCS#12.
    Der,
    /// A whole blob of binary OpenPGP packets (secring.gpg, .gpg exports).
    PgpBinary,
    /// A whole SSH-1 RSA private key file.
    Ssh1,
    /// GnuPG's private-keys-v1.d key (extended or S-expression form).
    Gnupg,
    /// A whole Java keystore (JKS or JCEKS).
    Jks,
    /// A whole BouncyCastle keystore (BKS or UBER).
    Bks,
    /// age identities (`AGE-SECRET-KEY-1...`, `AGE-PLUGIN-...`).
    Age,
    /// WireGuard `PrivateKey` in an `[Interface]` section.
    Wireguard,
    /// minisign secret key (`untrusted comment:` + base64).
    Minisign,
    /// signify secret key (`untrusted comment:` + base64).
    Signify,
    /// JSON Web Key with a private member `d`.
    Jwk,
    /// .NET XML `<RSAKeyValue>` with a private exponent.
    Xmlrsa,
    /// Tor v3 onion service `hs_ed25519_secret_key`.
    Tor,
    /// Bitcoin WIF and BIP32 extended private keys.
    Bitcoin,
    /// Nostr `nsec1...`.
    Nostr,
    /// Solana keypair (64-byte JSON array).
    Solana,
}

impl Validator {
    /// Decoders: the engine decodes what they match and scans it again.
    pub fn rescans(self) -> bool {
        matches!(
            self,
            Validator::Base64
                | Validator::Percent
                | Validator::Escaped
                | Validator::Utf16
                | Validator::QuotedPrintable
        )
    }

    /// Validators of armored text (BEGIN/END blocks and their kin), which
    /// read the candidate's unwrapped [`unwrap::Armor`].
    pub fn reads_armor(self) -> bool {
        matches!(
            self,
            Validator::Pem
                | Validator::Openssh
                | Validator::Pgp
                | Validator::Ppk
                | Validator::Sshcom
        )
    }

    /// Decoders that turn a whole blob into new text, once per blob.
    pub fn decodes_whole_blob(self) -> bool {
        matches!(self, Validator::Utf16 | Validator::QuotedPrintable)
    }
}

/// A rule file: `[[rule]]` tables, or `[[rules]]` as `.keyscan.toml` spells
/// them (a rule copied from a config works as it is).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default, alias = "rules")]
    rule: Vec<RuleSpec>,
}

/// A rule as written in TOML (rule files, `[[rules]]` in `.keyscan.toml`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    description: String,
    #[serde(default)]
    keywords: Vec<String>,
    start: String,
    end: Option<String>,
    end_regex: Option<String>,
    validator: Validator,
    #[serde(default = "default_max_len")]
    max_len: usize,
    near: Option<usize>,
    #[serde(default)]
    binary: bool,
    #[serde(default)]
    examples: Vec<String>,
    #[serde(default)]
    negative_examples: Vec<String>,
}

fn default_max_len() -> usize {
    65536
}

/// One compiled rule.
#[derive(Debug)]
pub struct Rule {
    pub id: String,
    pub description: String,
    /// Where it is written: a built-in rule file's name, a rule file or config path.
    pub origin: String,
    pub keywords: Vec<String>,
    pub start: Pattern,
    /// END marker template; `{label}` is replaced by the start's `label` group.
    pub end: Option<String>,
    /// For formats without an END marker: where the span ends. The whole
    /// span, start included, is then the body.
    pub end_regex: Option<Pattern>,
    pub validator: Validator,
    /// Longest span a match may cover (0: unbounded, the whole blob).
    pub max_len: usize,
    /// For keywords that are context, not part of the match (a file that
    /// names Bitcoin): the match starts within this many bytes of one.
    /// Without it, a match holds its keyword.
    pub near: Option<usize>,
    /// Matches raw bytes of a whole blob rather than text.
    pub binary: bool,
    pub examples: Vec<String>,
    pub negative_examples: Vec<String>,
}

impl Rule {
    /// How far a match of `start` reaches from where it starts: the
    /// regex's own bound, else `max_len` (`None`: to the blob's end).
    pub fn reach(&self) -> Option<usize> {
        match self.start.max_match_len() {
            Some(n) => Some(n),
            None if self.max_len > 0 => Some(self.max_len),
            None => None,
        }
    }

    /// Where a match may start, given this rule's keyword of `len` bytes at
    /// `at` in a blob of `size` bytes.
    pub fn starts_near(&self, at: usize, len: usize, size: usize) -> std::ops::Range<usize> {
        match (self.near, self.reach()) {
            (Some(n), _) => at.saturating_sub(n)..size.min(at + len + n),
            (None, Some(r)) => (at + len).saturating_sub(r)..at + 1,
            (None, None) => 0..at + 1,
        }
    }
}

/// The rules written in one rule file, not yet compiled; `origin` names it
/// in errors.
pub fn parse_specs(origin: &str, text: &str) -> Result<Vec<RuleSpec>> {
    let file: RuleFile = toml::from_str(text).map_err(|e| {
        let reason = one_line(e.message());
        match e.span() {
            Some(span) => {
                let line = 1 + text[..span.start.min(text.len())].matches('\n').count();
                anyhow!("rule file {origin}:{line}: {reason}")
            }
            None => anyhow!("rule file {origin}: {reason}"),
        }
    })?;
    Ok(file.rule)
}

/// Parse and compile one rule file; the first faulty rule is the error.
pub fn parse_rules(origin: &str, text: &str) -> Result<Vec<Rule>> {
    let specs = parse_specs(origin, text)?;
    let rules: Result<Vec<Rule>, RuleError> = specs
        .into_iter()
        .map(|spec| compile(origin, spec))
        .collect();
    Ok(rules?)
}

/// Compile one rule; `origin` says where it is written.
pub fn compile(origin: &str, spec: RuleSpec) -> Result<Rule, RuleError> {
    build(origin, spec, false)
}

/// A rule from its spec; with `lazy`, its regexes are compiled on first
/// use and not checked here (built-in rules only: the tests check them).
fn build(origin: &str, spec: RuleSpec, lazy: bool) -> Result<Rule, RuleError> {
    let fail = |kind| Err(RuleError::new(&spec.id, origin, kind));
    let regex = |field: &'static str, pattern: &str| {
        if lazy {
            return Ok(Pattern::lazy(pattern.to_string()));
        }
        Pattern::eager(pattern).map_err(|e| {
            let kind = RuleErrorKind::BadRegex {
                field,
                pattern: pattern.to_string(),
                reason: one_line(&e.to_string()),
            };
            RuleError::new(&spec.id, origin, kind)
        })
    };
    let start = regex("start", &spec.start)?;
    if let Some(end) = &spec.end {
        if !lazy && end.contains("{label}") && !start.capture_names().any(|n| n == Some("label")) {
            return fail(RuleErrorKind::LabelWithoutGroup);
        }
    }
    let end_regex = match &spec.end_regex {
        Some(re) => Some(regex("end_regex", re)?),
        None => None,
    };
    if spec.end.is_some() && end_regex.is_some() {
        return fail(RuleErrorKind::EndAndEndRegex);
    }
    if spec.keywords.iter().any(|k| k.is_empty()) {
        return fail(RuleErrorKind::EmptyKeyword);
    }
    if spec.keywords.is_empty() && !spec.binary {
        return fail(RuleErrorKind::NoKeyword);
    }
    Ok(Rule {
        id: spec.id,
        description: spec.description,
        origin: origin.to_string(),
        keywords: spec.keywords,
        start,
        end: spec.end,
        end_regex,
        validator: spec.validator,
        max_len: spec.max_len,
        near: spec.near,
        binary: spec.binary,
        examples: spec.examples,
        negative_examples: spec.negative_examples,
    })
}

/// Every built-in rule. Their regexes are compiled when a scan first needs
/// them: a blob without a rule's keywords never compiles it.
pub fn builtin() -> Result<Vec<Rule>> {
    builtin_with(true)
}

/// Every built-in rule, each regex compiled and checked now.
pub fn builtin_compiled() -> Result<Vec<Rule>> {
    builtin_with(false)
}

fn builtin_with(lazy: bool) -> Result<Vec<Rule>> {
    let mut rules = Vec::new();
    for (name, text) in BUILTIN {
        for spec in parse_specs(name, text)? {
            rules.push(build(name, spec, lazy)?);
        }
    }
    Ok(rules)
}

/// Error text on one line: regex and TOML errors span several (with
/// carets under the culprit, which mean nothing on one line).
pub fn one_line(s: &str) -> String {
    let mut out = String::new();
    for line in s.lines().map(str::trim) {
        if !line
            .chars()
            .any(|c| !matches!(c, '^' | '~' | '-' | '|' | ' '))
        {
            continue;
        }
        if !out.is_empty() {
            out.push_str(if out.ends_with(':') { " " } else { ": " });
        }
        out.push_str(line);
    }
    out
}

/// `n` short byte strings over the characters every unwrapping and decoding
/// step reacts to, the same on every run: for tests that no input panics.
#[cfg(test)]
pub(crate) fn awkward_inputs(n: usize) -> impl Iterator<Item = Vec<u8>> {
    const ALPHABET: &[u8] = b"%=&#x;<br/>\\u0Aa\"'`+-\r\n QD3";
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n).map(move |_| {
        let len = (seed % 24) as usize;
        let mut bytes = Vec::with_capacity(len);
        for _ in 0..len {
            // xorshift64
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            bytes.push(ALPHABET[(seed % ALPHABET.len() as u64) as usize]);
        }
        bytes
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_compile_and_their_examples_hold() {
        let engine = Engine::new(builtin_compiled().unwrap()).unwrap();
        assert!(engine.rules().len() >= 7);
        let failures = check_examples(&engine, |_| true);
        assert!(failures.is_empty(), "{failures:#?}");
    }

    #[test]
    fn lazy_builtin_rules_compile_nothing_until_used_and_agree() {
        let lazy = builtin().unwrap();
        let eager = builtin_compiled().unwrap();
        assert!(lazy.iter().all(|r| !r.start.is_compiled()));
        assert_eq!(lazy.len(), eager.len());
        for (l, e) in lazy.iter().zip(&eager) {
            assert_eq!(l.id, e.id);
            assert_eq!(l.start.as_str(), e.start.as_str());
            let (le, ee) = (l.end_regex.as_ref(), e.end_regex.as_ref());
            assert_eq!(le.map(|p| p.as_str()), ee.map(|p| p.as_str()));
        }
        // Key-free text compiles no text rule's regex.
        let engine = Engine::new(lazy).unwrap();
        assert!(engine.candidates(b"fn main() {}\n").is_empty());
        let compiled: Vec<&str> = (engine.rules().iter())
            .filter(|r| !r.binary && r.start.is_compiled())
            .map(|r| r.id.as_str())
            .collect();
        assert!(compiled.is_empty(), "{compiled:?}");
        // And the examples hold as they do compiled up front.
        let failures = check_examples(&engine, |_| true);
        assert!(failures.is_empty(), "{failures:#?}");
    }

    #[test]
    fn bad_regex_is_a_clear_error() {
        let text = r#"
[[rule]]
id = "broken"
description = "x"
keywords = ["x"]
start = "(unclosed"
validator = "pem"
"#;
        let err = parse_rules("broken.toml", text).unwrap_err();
        let msg = format!("{err:#}");
        assert!(
            msg.contains("broken.toml") && msg.contains("bad regex"),
            "{msg}"
        );
    }

    #[test]
    fn a_bad_rule_file_is_one_line_with_its_line() {
        let text = "[[rule]]\nid = 'a'\ndescription = 'd'\nkeywordz = ['k']\n";
        let msg = format!("{:#}", parse_specs("r.toml", text).unwrap_err());
        assert!(
            msg.starts_with("rule file r.toml:4: unknown field `keywordz`"),
            "{msg}"
        );
        assert!(!msg.contains('\n'), "{msg}");
    }

    #[test]
    fn unknown_validator_and_missing_label_are_errors() {
        let bad_validator =
            "[[rule]]\nid='a'\ndescription='d'\nkeywords=['k']\nstart='k'\nvalidator='nope'\n";
        assert!(parse_rules("a.toml", bad_validator).is_err());
        let no_label = "[[rule]]\nid='a'\ndescription='d'\nkeywords=['k']\nstart='k'\nend='-----END {label}-----'\nvalidator='pem'\n";
        let msg = format!("{:#}", parse_rules("a.toml", no_label).unwrap_err());
        assert!(msg.contains("label"), "{msg}");
    }
}
