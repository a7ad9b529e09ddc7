//! SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
//!
//! Paths under the scanned root are relative URIs against `%SRCROOT%`
//! (declared in `originalUriBaseIds`), others are `file://` URIs, so the log
//! is valid wherever it is read. Alerts are keyed by the key's fingerprint
//! (`partialFingerprints`), so they follow a key that moves.

use super::location::{file_uri, root_uri, FileUri};
use super::{advice, Report};
use crate::scan::finding::Finding;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
pub const SRCROOT: &str = "%SRCROOT%";
/// The `partialFingerprints` key: versioned, as SARIF recommends.
pub const FINGERPRINT_KEY: &str = "keyFingerprint/v1";

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let root = report.root_dir();
    let rule_ids: BTreeSet<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
    let described = &report.rule_descriptions;
    let rules: Vec<Value> = rule_ids
        .iter()
        .map(|id| rule(id, described.get(*id).map(String::as_str)))
        .collect();
    let index: BTreeMap<&str, usize> = rule_ids
        .iter()
        .enumerate()
        .map(|(i, id)| (*id, i))
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| result(f, index[f.rule.as_str()], &root))
        .collect();

    let mut driver = json!({
        "name": "keyscan",
        "version": env!("CARGO_PKG_VERSION"),
        "semanticVersion": env!("CARGO_PKG_VERSION"),
        "rules": rules,
    });
    let home = env!("CARGO_PKG_REPOSITORY");
    if !home.is_empty() {
        driver["informationUri"] = json!(home);
    }
    let notifications: Vec<Value> = (report.warnings.iter())
        .map(|w| json!({ "level": "warning", "message": { "text": sentence(w) } }))
        .chain(
            (report.errors.iter())
                .map(|e| json!({ "level": "error", "message": { "text": sentence(e) } })),
        )
        .collect();
    let doc = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": driver },
            "originalUriBaseIds": { SRCROOT: { "uri": root_uri(&root) } },
            "invocations": [{
                // Not when something could not be read: keyscan exits 2.
                "executionSuccessful": report.errors.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

fn rule(id: &str, description: Option<&str>) -> Value {
    let what = description.unwrap_or("private key");
    json!({
        "id": id,
        "name": pascal_case(id),
        "shortDescription": { "text": sentence(&capitalize(what)) },
        "fullDescription": { "text": format!(
            "{}: keyscan parses each match, so a valid or encrypted finding is a real private key, \
    reported with its fingerprints and never its body.",
            capitalize(what)
        )},
        "help": {
            "text": advice::rule_help_text(id),
            "markdown": advice::rule_help_markdown(id),
        },
        "defaultConfiguration": { "level": "error" },
        "properties": {
            "tags": ["security", "secret", "private-key", "external/cwe/cwe-321", "external/cwe/cwe-798"],
            "precision": "very-high",
            "problem.severity": "error",
            "security-severity": "9.0",
        },
    })
}

fn result(f: &Finding, rule_index: usize, root: &std::path::Path) -> Value {
    let mut r = json!({
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": if f.blocking { "error" } else { "warning" },
        "message": { "text": message(f) },
    });
    let artifact = match file_uri(f.path_bytes(), root) {
        FileUri::UnderRoot(uri) => Some(json!({ "uri": uri, "uriBaseId": SRCROOT })),
        FileUri::Absolute(uri) => Some(json!({ "uri": uri })),
        FileUri::NoFile => None,
    };
    if let Some(artifact) = artifact {
        r["locations"] = json!([{ "physicalLocation": {
            "artifactLocation": artifact,
            "region": { "startLine": f.line.max(1), "endLine": f.end_line.max(f.line).max(1) },
        }}]);
    }
    if let Some(fp) = &f.fingerprint {
        r["partialFingerprints"] = json!({ FINGERPRINT_KEY: fp });
    }
    r["properties"] = properties(f);
    r
}

/// What a reader needs in one sentence: key type, status, fingerprint, and
/// in git modes the commit. Never key material.
fn message(f: &Finding) -> String {
    let mut text = format!(
        "{} private key ({}, {})",
        f.key_type,
        f.format,
        f.status.as_str()
    );
    if let Some(fp) = &f.fingerprint {
        text.push_str(&format!(", fingerprint {fp}"));
    }
    if let Some(c) = &f.commit {
        text.push_str(&format!(", added in commit {}", c.id));
        if let Some(a) = &c.author {
            text.push_str(&format!(" by {a}"));
        }
        if let Some(d) = &c.date {
            text.push_str(&format!(" on {d}"));
        }
    }
    match f.still_in.as_deref() {
        Some([]) => text.push_str("; no branch tip holds it any more, but history does"),
        Some(refs) => text.push_str(&format!("; still in {}", refs.join(", "))),
        None => {}
    }
    sentence(&text)
}

/// keyscan's own fields, for tools that read more than the message.
fn properties(f: &Finding) -> Value {
    let mut p = Map::new();
    p.insert("status".into(), json!(f.status.as_str()));
    p.insert("keyType".into(), json!(f.key_type));
    p.insert("format".into(), json!(f.format));
    if let Some(fp) = &f.fingerprint {
        p.insert("fingerprint".into(), json!(fp));
    }
    if !f.aws_fingerprints.is_empty() {
        p.insert("awsFingerprints".into(), json!(f.aws_fingerprints));
    }
    if let Some(c) = &f.commit {
        p.insert("commit".into(), json!(c));
    }
    if let Some(b) = &f.blob {
        p.insert("blob".into(), json!(b));
    }
    if let Some(s) = &f.still_in {
        p.insert("stillIn".into(), json!(s));
    }
    if let Some(n) = &f.note {
        p.insert("note".into(), json!(n));
    }
    Value::Object(p)
}

fn sentence(s: &str) -> String {
    let s = s.trim_end();
    if s.ends_with('.') {
        s.to_string()
    } else {
        format!("{s}.")
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|first| first.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn pascal_case(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .map(capitalize)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_described_as_loaded() {
        let rule = |id: &str, d: Option<&str>| rule(id, d)["shortDescription"]["text"].clone();
        assert_eq!(rule("acme", Some("ACME deploy keys")), "ACME deploy keys.");
        assert_eq!(rule("gone", None), "Private key.");
        assert_eq!(pascal_case("pem-private-key"), "PemPrivateKey");
    }
}
