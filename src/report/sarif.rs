//! SARIF 2.1.0, for code-scanning dashboards.

use super::Report;
use crate::finding::Finding;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{self, Write};

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut rules = BTreeMap::new();
    for f in &report.findings {
        rules.entry(f.rule.clone()).or_insert_with(|| {
            json!({
                "id": f.rule,
                "shortDescription": { "text": format!("Private key ({})", f.rule) },
                "help": { "text": super::human::ADVICE.join(" ") },
            })
        });
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "keyscan",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules.into_values().collect::<Vec<_>>(),
            }},
            "results": report.findings.iter().map(result).collect::<Vec<_>>(),
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

fn result(f: &Finding) -> Value {
    let mut message = format!(
        "{} private key ({}, {})",
        f.key_type,
        f.format,
        f.status.as_str()
    );
    if let Some(fp) = &f.fingerprint {
        message.push_str(&format!(", fingerprint {fp}"));
    }
    let mut r = json!({
        "ruleId": f.rule,
        "level": if f.blocking { "error" } else { "warning" },
        "message": { "text": message },
        "locations": [{ "physicalLocation": {
            "artifactLocation": { "uri": f.path },
            "region": { "startLine": f.line, "endLine": f.end_line },
        }}],
    });
    if let Some(fp) = &f.fingerprint {
        r["partialFingerprints"] = json!({ "keyFingerprint/v1": fp });
    }
    r
}
