//! `keyscan audit` output: human (grouped by risk) and JSON. Entries carry
//! fingerprints and public halves only.

use crate::policy::audit::{AuditReport, KeyEntry};
use crate::report::escape;
use crate::report::words::plural;
use std::io::{self, Write};

pub fn render_json(report: &AuditReport, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

/// Blocking keys first, then other flagged keys, then a count of the rest.
pub fn render_human(report: &AuditReport, quiet: bool, out: &mut dyn Write) -> io::Result<()> {
    let blocking: Vec<&KeyEntry> = report.keys.iter().filter(|k| k.blocking).collect();
    let flagged: Vec<&KeyEntry> = (report.keys.iter())
        .filter(|k| !k.blocking && !k.flags.is_empty())
        .collect();
    let clean = report.keys.len() - blocking.len() - flagged.len();
    if !blocking.is_empty() {
        writeln!(out, "Blocking ({}):\n", blocking.len())?;
        for k in &blocking {
            entry(k, out)?;
        }
    }
    if !flagged.is_empty() && !quiet {
        writeln!(out, "Flagged ({}):\n", flagged.len())?;
        for k in &flagged {
            entry(k, out)?;
        }
    }
    for m in &report.malformed {
        let line = format!(
            "malformed: {}:{}: {} (line skipped)",
            m.path, m.line, m.reason
        );
        writeln!(out, "{}", escape::text(&line))?;
    }
    if !quiet {
        for w in &report.warnings {
            writeln!(out, "warning: {}", escape::text(w))?;
        }
    }
    for e in &report.errors {
        writeln!(out, "unreadable: {}", escape::text(e))?;
    }
    writeln!(
        out,
        "{}: {} blocking, {} flagged, {} without flags ({} seen)",
        plural(report.keys.len(), "key"),
        blocking.len(),
        flagged.len(),
        clean,
        plural(report.files_seen, "file"),
    )
}

fn entry(k: &KeyEntry, out: &mut dyn Write) -> io::Result<()> {
    let size = k.bits.map(|b| format!(" {b}")).unwrap_or_default();
    let owner = match &k.owner {
        Some(o) => format!("  owner {o}"),
        None => String::new(),
    };
    let head = format!("{}  {}{size}{owner}", k.fingerprint, k.algorithm);
    writeln!(out, "{}", escape::text(&head))?;
    writeln!(out, "    flags       {}", k.flags.join(", "))?;
    for c in &k.private_copies {
        let state = if c.weak_passphrase {
            "weak passphrase"
        } else if c.encrypted {
            "encrypted"
        } else {
            "unencrypted"
        };
        let line = format!(
            "{}:{}  user {}  mode {}  {state}",
            c.host, c.host_path, c.user, c.mode
        );
        writeln!(out, "    private     {}", escape::text(&line))?;
        if let Some(why) = &c.exposed {
            writeln!(out, "                {}", escape::text(why))?;
        }
    }
    for a in &k.authorized_in {
        let opts = if a.options.is_empty() {
            "no options".to_string()
        } else {
            a.options.join(",")
        };
        let line = format!(
            "{}:{}:{}  user {}  {opts}",
            a.host, a.host_path, a.line, a.user
        );
        writeln!(out, "    authorized  {}", escape::text(&line))?;
    }
    for p in &k.public_copies {
        let line = format!("{}:{}", p.host, p.path);
        writeln!(out, "    public      {}", escape::text(&line))?;
    }
    writeln!(out)
}

/// SARIF 2.1.0: one rule per flag, one result per flagged key and flag, at
/// its first private copy (else its first authorized_keys line); blocking
/// flags are errors, the rest warnings. Keyed by the key's fingerprint.
pub fn render_sarif(report: &AuditReport, out: &mut dyn Write) -> io::Result<()> {
    use crate::policy::audit::FLAGS;
    use serde_json::json;
    let rules: Vec<serde_json::Value> = FLAGS
        .iter()
        .map(|f| json!({ "id": format!("audit/{f}"), "shortDescription": { "text": *f } }))
        .collect();
    let mut results = Vec::new();
    for k in &report.keys {
        let (path, line) = match (k.private_copies.first(), k.authorized_in.first()) {
            (Some(c), _) => (c.path.clone(), 1),
            (None, Some(a)) => (a.path.clone(), a.line),
            (None, None) => match k.public_copies.first() {
                Some(p) => (p.path.clone(), 1),
                None => continue,
            },
        };
        for f in &k.flags {
            let rule_index = FLAGS.iter().position(|x| x == f).unwrap_or(0);
            results.push(json!({
                "ruleId": format!("audit/{f}"),
                "ruleIndex": rule_index,
                "level": if k.blocking { "error" } else { "warning" },
                "message": { "text": format!("{} {}: {f}", k.algorithm, k.fingerprint) },
                "locations": [{ "physicalLocation": {
                    "artifactLocation": { "uri": uri(&path) },
                    "region": { "startLine": line }
                }}],
                "partialFingerprints": { "keyFingerprint/v1": k.fingerprint },
            }));
        }
    }
    let doc = json!({
        "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "keyscan",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// Relative paths stay relative; absolute ones become `file://` URIs.
fn uri(path: &str) -> String {
    let encoded: String = path
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'.' | b'-' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    if path.starts_with('/') {
        format!("file://{encoded}")
    } else {
        encoded
    }
}
