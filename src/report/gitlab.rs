//! GitLab's secret-detection report (`gl-secret-detection-report.json`,
//! report schema 15.x), so findings show in merge requests and the
//! vulnerability report. `raw_source_code_extract`, where other scanners put
//! the secret itself, is never written.

use super::location::display_path;
use super::{advice, Report};
use crate::policy::time::utc_seconds;
use crate::scan::finding::{Finding, Status};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::{self, Write};
use std::time::SystemTime;

pub const SCHEMA_VERSION: &str = "15.0.7";
/// GitLab's own analyzers write this when a finding is not from a commit.
const NO_COMMIT: &str = "0000000";

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let root = report.root_dir();
    let now = SystemTime::now();
    let tool = json!({
        "id": "keyscan",
        "name": "keyscan",
        "version": env!("CARGO_PKG_VERSION"),
        "vendor": { "name": "keyscan" },
    });
    let mut messages: Vec<Value> = (report.warnings.iter())
        .map(|w| json!({ "level": "warn", "value": w }))
        .chain((report.errors.iter()).map(|e| json!({ "level": "fatal", "value": e })))
        .collect();
    // Something could not be read: the scan failed (keyscan exits 2), and
    // says why first.
    let status = if report.errors.is_empty() {
        "success"
    } else {
        let n = report.errors.len();
        let why = format!(
            "{n} object{} could not be read: not everything was scanned",
            if n == 1 { "" } else { "s" }
        );
        messages.insert(0, json!({ "level": "fatal", "value": why }));
        "failure"
    };
    let doc = json!({
        "version": SCHEMA_VERSION,
        "vulnerabilities": report
            .findings
            .iter()
            .map(|f| vulnerability(f, &display_path(f.path_bytes(), &root)))
            .collect::<Vec<_>>(),
        "scan": {
            "analyzer": tool,
            "scanner": tool,
            "type": "secret_detection",
            "start_time": utc_seconds(report.started.unwrap_or(now)),
            "end_time": utc_seconds(now),
            "status": status,
            "messages": messages,
        },
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

fn vulnerability(f: &Finding, file: &str) -> Value {
    let mut commit = json!({ "sha": NO_COMMIT });
    if let Some(c) = &f.commit {
        commit = json!({ "sha": c.id });
        if let Some(a) = &c.author {
            commit["author"] = json!(match &c.email {
                Some(e) => format!("{a} <{e}>"),
                None => a.clone(),
            });
        }
        if let Some(d) = &c.date {
            commit["date"] = json!(d);
        }
    }
    let mut identifiers = vec![json!({
        "type": "keyscan_rule_id",
        "name": format!("keyscan rule {}", f.rule),
        "value": f.rule,
    })];
    if let Some(fp) = advice::allowlist_fingerprint(f) {
        identifiers.push(json!({
            "type": "key_fingerprint",
            "name": format!("Key fingerprint {fp}"),
            "value": fp,
        }));
    }
    identifiers.push(json!({
        "type": "cwe",
        "name": "CWE-798",
        "value": "798",
        "url": "https://cwe.mitre.org/data/definitions/798.html",
    }));
    json!({
        "id": vulnerability_id(f, file),
        "category": "secret_detection",
        "name": format!("{} private key", f.key_type),
        "description": description(f),
        "severity": severity(f),
        "solution": advice::rule_help_markdown(&f.rule),
        "location": {
            "file": file,
            "start_line": f.line.max(1),
            "end_line": f.end_line.max(f.line).max(1),
            "commit": commit,
        },
        "identifiers": identifiers,
    })
}

fn severity(f: &Finding) -> &'static str {
    match (f.status, f.blocking) {
        (Status::Valid, _) => "Critical",
        (Status::Encrypted, _) => "High",
        (Status::Unverified, true) => "Medium",
        (Status::Unverified, false) => "Low",
    }
}

fn description(f: &Finding) -> String {
    let mut text = format!(
        "A {} private key ({} format, status {}) is in {} at line {}.",
        f.key_type,
        f.format,
        f.status.as_str(),
        f.path,
        f.line
    );
    if let Some(fp) = &f.fingerprint {
        text.push_str(&format!(" Fingerprint: {fp}."));
    }
    if let Some(n) = &f.note {
        text.push_str(&format!(" Note: {n}."));
    }
    if let Some(refs) = &f.still_in {
        if refs.is_empty() {
            text.push_str(" No branch tip holds it any more, but history does.");
        } else {
            text.push_str(&format!(" Still in: {}.", refs.join(", ")));
        }
    }
    text
}

/// A stable UUID-shaped id: the same finding gets the same id in every run.
fn vulnerability_id(f: &Finding, file: &str) -> String {
    let mut h = Sha256::new();
    for part in [
        f.rule.as_str(),
        file,
        &f.line.to_string(),
        f.fingerprint.as_deref().unwrap_or(""),
        f.commit.as_ref().map_or("", |c| c.id.as_str()),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let hex: String = h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
