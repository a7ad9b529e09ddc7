//! What can be wrong with a rule, as values: compile errors and failed
//! examples carry the rule's id, where it is written and what is wrong, so
//! callers (config loading, `keyscan rules`) word and place them themselves.

use super::{compile, parse_specs, Engine, Rule};
use anyhow::{anyhow, Result};
use std::fmt;
use std::path::PathBuf;

/// One thing wrong with one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    pub id: String,
    /// Where the rule is written: a rule file or a config file.
    pub origin: String,
    pub kind: RuleErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleErrorKind {
    /// `start` or `end_regex` does not compile; `reason` is on one line.
    BadRegex {
        field: &'static str,
        pattern: String,
        reason: String,
    },
    /// `end` uses `{label}` but `start` has no `label` group.
    LabelWithoutGroup,
    EndAndEndRegex,
    EmptyKeyword,
    /// A text rule without keywords would run its regex on every blob.
    NoKeyword,
    /// Another rule (built-in or earlier) has this id.
    DuplicateId,
    /// The n-th (1-based) example yields no candidate from the rule.
    ExampleNotMatched(usize),
    /// The n-th (1-based) negative example yields one.
    NegativeExampleMatched(usize),
}

impl fmt::Display for RuleErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            RuleErrorKind::BadRegex {
                field,
                pattern,
                reason,
            } => write!(f, "bad regex in `{field}` ({pattern}): {reason}"),
            RuleErrorKind::LabelWithoutGroup => {
                f.write_str("`end` uses {label} but `start` has no (?P<label>...) group")
            }
            RuleErrorKind::EndAndEndRegex => f.write_str("give `end` or `end_regex`, not both"),
            RuleErrorKind::EmptyKeyword => f.write_str("empty keyword"),
            RuleErrorKind::NoKeyword => f.write_str("a text rule needs at least one keyword"),
            RuleErrorKind::DuplicateId => f.write_str("this rule id is already taken"),
            RuleErrorKind::ExampleNotMatched(n) => write!(f, "example {n} is not matched"),
            RuleErrorKind::NegativeExampleMatched(n) => {
                write!(f, "negative example {n} is matched")
            }
        }
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "rule {} in {}: {}", self.id, self.origin, self.kind)
    }
}

impl std::error::Error for RuleError {}

impl RuleError {
    pub fn new(id: &str, origin: &str, kind: RuleErrorKind) -> Self {
        RuleError {
            id: id.to_string(),
            origin: origin.to_string(),
            kind,
        }
    }

    fn of(rule: &Rule, kind: RuleErrorKind) -> Self {
        RuleError::new(&rule.id, &rule.origin, kind)
    }
}

/// Add `rule` to `rules`, unless its id is taken.
pub fn add(rules: &mut Vec<Rule>, rule: Rule) -> Result<(), RuleError> {
    if rules.iter().any(|r| r.id == rule.id) {
        return Err(RuleError::of(&rule, RuleErrorKind::DuplicateId));
    }
    rules.push(rule);
    Ok(())
}

/// Check the examples of the engine's rules that `wanted` picks: positives
/// must yield a candidate from (or through) that rule, negatives must not.
pub fn check_examples(engine: &Engine, wanted: impl Fn(&Rule) -> bool) -> Vec<RuleError> {
    let mut failures = Vec::new();
    for rule in engine.rules().iter().filter(|r| wanted(r)) {
        for (i, ex) in rule.examples.iter().enumerate() {
            if !engine.matches_rule(ex.as_bytes(), &rule.id) {
                let kind = RuleErrorKind::ExampleNotMatched(i + 1);
                failures.push(RuleError::of(rule, kind));
            }
        }
        for (i, ex) in rule.negative_examples.iter().enumerate() {
            if engine.matches_rule(ex.as_bytes(), &rule.id) {
                let kind = RuleErrorKind::NegativeExampleMatched(i + 1);
                failures.push(RuleError::of(rule, kind));
            }
        }
    }
    failures
}

/// What `keyscan rules FILE...` found.
#[derive(Debug)]
pub struct RuleCheck {
    /// The ids of the rules checked (built-in ones included).
    pub ids: Vec<String>,
    pub failures: Vec<RuleError>,
}

impl RuleCheck {
    /// 0 when every rule holds, else 2: a broken rule is an error, as it is
    /// when a config holds it.
    pub fn exit_code(&self) -> u8 {
        if self.failures.is_empty() {
            0
        } else {
            2
        }
    }
}

/// Check the built-in rules and the rule files in `files` together: each
/// compiles, no id is taken twice, every example holds. A file that cannot
/// be read or is not a rule file is an `Err`; rule faults are `failures`.
pub fn check_files(files: &[PathBuf]) -> Result<RuleCheck> {
    let mut all = super::builtin_compiled()?;
    let mut failures = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow!("cannot read rule file {}: {e}", path.display()))?;
        let origin = path.display().to_string();
        for spec in parse_specs(&origin, &text)? {
            let added = compile(&origin, spec).and_then(|rule| add(&mut all, rule));
            failures.extend(added.err());
        }
    }
    let engine = Engine::new(all)?;
    failures.extend(check_examples(&engine, |_| true));
    Ok(RuleCheck {
        ids: engine.rules().iter().map(|r| r.id.clone()).collect(),
        failures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::parse_specs;

    const RULE: &str =
        "id='acme'\ndescription='d'\nkeywords=['ACME']\nstart='ACME'\nvalidator='pem'\n";

    fn check(text: &str) -> RuleCheck {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.toml");
        std::fs::write(&path, text).unwrap();
        check_files(&[path]).unwrap()
    }

    #[test]
    fn compile_errors_are_values() {
        let text = format!("[[rule]]\n{RULE}end='-----END {{label}}-----'\n");
        let spec = parse_specs("a.toml", &text).unwrap().pop().unwrap();
        let err = compile("a.toml", spec).unwrap_err();
        assert_eq!(
            err,
            RuleError::new("acme", "a.toml", RuleErrorKind::LabelWithoutGroup)
        );
        let text =
            "[[rule]]\nid='x'\ndescription='d'\nkeywords=['k']\nstart='(k'\nvalidator='pem'\n";
        let spec = parse_specs("a.toml", text).unwrap().pop().unwrap();
        let err = compile("a.toml", spec).unwrap_err();
        let RuleErrorKind::BadRegex { field, reason, .. } = &err.kind else {
            panic!("{err:?}");
        };
        assert_eq!(*field, "start");
        assert!(
            !reason.contains('\n') && reason.contains("unclosed group"),
            "{reason}"
        );
    }

    #[test]
    fn both_spellings_are_rule_files() {
        for table in ["[[rule]]", "[[rules]]"] {
            let c = check(&format!("{table}\n{RULE}examples=['ACME']\n"));
            assert!(c.failures.is_empty(), "{table}: {:?}", c.failures);
            assert_eq!(c.exit_code(), 0);
        }
    }

    #[test]
    fn failed_examples_and_taken_ids_exit_2() {
        let c = check(&format!(
            "[[rules]]\n{RULE}examples=['nothing']\nnegative_examples=['ACME']\n"
        ));
        let kinds: Vec<&RuleErrorKind> = c.failures.iter().map(|f| &f.kind).collect();
        assert_eq!(
            kinds,
            [
                &RuleErrorKind::ExampleNotMatched(1),
                &RuleErrorKind::NegativeExampleMatched(1)
            ]
        );
        assert!(c.failures.iter().all(|f| f.id == "acme"));
        assert!(c.failures[0].origin.ends_with("r.toml"));
        assert_eq!(c.exit_code(), 2);
        let taken = RULE.replace("'acme'", "'pem-private-key'");
        let c = check(&format!("[[rules]]\n{taken}"));
        assert_eq!(c.failures.len(), 1);
        assert_eq!(c.failures[0].kind, RuleErrorKind::DuplicateId);
    }
}
