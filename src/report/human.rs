//! Text for people: where the key is, what it is, how to revoke it.

use super::{advice, Mode, Report, Style};
use crate::scan::finding::{Finding, Status};
use std::io::{self, Write};

const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[33m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

struct Paint(bool);

impl Paint {
    fn on(&self, code: &str, text: &str) -> String {
        if self.0 {
            format!("{code}{text}{RESET}")
        } else {
            text.to_string()
        }
    }
}

pub fn render(report: &Report, style: &Style, out: &mut dyn Write) -> io::Result<()> {
    let paint = Paint(style.color);
    let blocking: Vec<&Finding> = report.findings.iter().filter(|f| f.blocking).collect();
    // A hook's first line is what git shows first: say it blocked, and why.
    let hook = match report.mode {
        Mode::PreCommit => Some("commit"),
        Mode::PrePush | Mode::PreReceive => Some("push"),
        Mode::Scan | Mode::History => None,
    };
    let mut count = format!("{} private key{}", blocking.len(), plural(blocking.len()));
    if report.mode == Mode::History {
        let keys = by_key(&blocking).len();
        count = format!(
            "{keys} private key{} at {} location{}",
            plural(keys),
            blocking.len(),
            plural(blocking.len())
        );
    }
    if let (Some(what), false) = (hook, blocking.is_empty()) {
        let headline = match report.scanned.as_str() {
            "" => format!("keyscan: {what} blocked: {count} found"),
            scanned => format!("keyscan: {what} blocked: {count} in {scanned}"),
        };
        writeln!(out, "{}\n", paint.on(RED, &headline))?;
    }
    let shown: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.blocking || !style.quiet)
        .collect();
    if report.mode == Mode::History {
        for group in by_key(&shown) {
            key_group(&group, &paint, out)?;
        }
    } else {
        for f in shown {
            finding(f, &paint, out)?;
        }
    }
    if !style.quiet {
        for w in &report.warnings {
            writeln!(out, "{} {w}", paint.on(YELLOW, "warning:"))?;
        }
    }
    if !blocking.is_empty() {
        if hook.is_none() {
            let summary = format!("keyscan: {count} found{}", scanned(report));
            writeln!(out, "{}", paint.on(RED, &summary))?;
        }
        writeln!(out, "What to do:")?;
        for (i, step) in advice::steps(report.mode, &blocking).iter().enumerate() {
            // Multi-line steps (a config snippet) stay indented under their number.
            for (n, line) in step.lines().enumerate() {
                match (n, line.is_empty()) {
                    (0, _) => writeln!(out, "  {}. {line}", i + 1)?,
                    (_, true) => writeln!(out)?,
                    (_, false) => writeln!(out, "     {line}")?,
                }
            }
            if step.contains('\n') {
                writeln!(out)?;
            }
        }
    } else if !style.quiet {
        let unverified = report.findings.len();
        let extra = if unverified > 0 {
            format!(
                " ({unverified} unverified look-alike{} reported as warning{})",
                plural(unverified),
                plural(unverified)
            )
        } else {
            String::new()
        };
        writeln!(
            out,
            "keyscan: no private keys found{}{extra}",
            scanned(report)
        )?;
    }
    Ok(())
}

fn finding(f: &Finding, paint: &Paint, out: &mut dyn Write) -> io::Result<()> {
    let head = heading(f.status, paint);
    writeln!(out, "{} {head}", paint.on(BOLD, &place(f)))?;
    let mut row =
        |name: &str, value: &str| writeln!(out, "    {:<12} {value}", paint.on(DIM, name));
    row("type", &format!("{}, {}", f.key_type, f.format))?;
    row("status", f.status.as_str())?;
    row("rule", &f.rule)?;
    if let Some(c) = &f.commit {
        let mut text = c.id.clone();
        if let Some(a) = &c.author {
            text.push_str(&format!(" by {a}"));
        }
        if let Some(d) = &c.date {
            text.push_str(&format!(" on {d}"));
        }
        row("commit", &text)?;
        if let Some(r) = &c.r#ref {
            row("ref", r)?;
        }
    }
    if let Some(fp) = &f.fingerprint {
        row("fingerprint", fp)?;
    }
    if let Some(pk) = &f.public_key {
        row("public key", &shorten(pk, 60))?;
    }
    aws_rows(f, &mut row)?;
    if let Some(note) = &f.note {
        row("note", note)?;
    }
    if let Some(p) = &f.permissions {
        row("permissions", p)?;
    }
    row("match", &f.redacted)?;
    writeln!(out)
}

/// What a finding is, coloured by how much it matters.
fn heading(status: Status, paint: &Paint) -> String {
    match status {
        Status::Unverified => paint.on(YELLOW, "possible private key (does not parse)"),
        Status::Encrypted => paint.on(RED, "private key (encrypted: still crackable offline)"),
        Status::Valid => paint.on(RED, "private key"),
    }
}

/// `path:line` or `path:first-last`.
fn place(f: &Finding) -> String {
    if f.line == f.end_line {
        format!("{}:{}", f.path, f.line)
    } else {
        format!("{}:{}-{}", f.path, f.line, f.end_line)
    }
}

/// The AWS fingerprint forms a finding has, one row each.
fn aws_rows(f: &Finding, row: &mut dyn FnMut(&str, &str) -> io::Result<()>) -> io::Result<()> {
    let aws = &f.aws_fingerprints;
    for (name, value) in [
        ("AWS (EC2)", &aws.sha1_pkcs8),
        ("AWS (import)", &aws.md5_spki),
        ("AWS", &aws.sha256),
    ] {
        if let Some(v) = value {
            row(name, v)?;
        }
    }
    Ok(())
}

/// History: the locations of one key together, in the order found (oldest
/// first). A key without a fingerprint is its own group per blob.
fn by_key<'a>(findings: &[&'a Finding]) -> Vec<Vec<&'a Finding>> {
    let mut groups: Vec<Vec<&Finding>> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = Default::default();
    for f in findings {
        let key = match &f.fingerprint {
            Some(fp) => format!("fp:{fp}"),
            None => format!("blob:{}:{}", f.blob.as_deref().unwrap_or(""), f.line),
        };
        match index.get(&key) {
            Some(&i) => groups[i].push(f),
            None => {
                index.insert(key, groups.len());
                groups.push(vec![f]);
            }
        }
    }
    groups
}

/// One key and every place history holds it.
fn key_group(group: &[&Finding], paint: &Paint, out: &mut dyn Write) -> io::Result<()> {
    let first = group
        .iter()
        .min_by_key(|f| f.commit.as_ref().and_then(|c| c.date.clone()))
        .copied()
        .unwrap_or(group[0]);
    let mut still: Vec<&str> = group
        .iter()
        .flat_map(|f| f.still_in.iter().flatten())
        .map(|r| r.strip_prefix("refs/heads/").unwrap_or(r))
        .collect();
    still.sort_unstable();
    still.dedup();
    let head = heading(first.status, paint);
    let id = first.fingerprint.as_deref().unwrap_or("(no fingerprint)");
    let mut summary = format!(
        "{} {} location{}",
        first.key_type,
        group.len(),
        plural(group.len())
    );
    if let Some(c) = &first.commit {
        summary.push_str(", first committed");
        if let Some(d) = &c.date {
            summary.push_str(&format!(" {}", d.get(..10).unwrap_or(d)));
        }
        if let Some(a) = &c.author {
            summary.push_str(&format!(" by {a}"));
            if let Some(e) = &c.email {
                summary.push_str(&format!(" <{e}>"));
            }
        }
    }
    if still.is_empty() {
        summary.push_str(", deleted from every ref");
    } else {
        summary.push_str(&format!(", still in {}", still.join(", ")));
    }
    writeln!(out, "{} {head}: {summary}", paint.on(BOLD, id))?;
    let mut row =
        |name: &str, value: &str| writeln!(out, "    {:<12} {value}", paint.on(DIM, name));
    row("type", &format!("{}, {}", first.key_type, first.format))?;
    row("status", first.status.as_str())?;
    if let Some(pk) = &first.public_key {
        row("public key", &shorten(pk, 60))?;
    }
    aws_rows(first, &mut row)?;
    if let Some(note) = &first.note {
        row("note", note)?;
    }
    for f in group {
        let mut text = place(f);
        if let Some(c) = &f.commit {
            text.push_str(&format!("  commit {}", c.id.get(..12).unwrap_or(&c.id)));
            if let Some(d) = &c.date {
                text.push_str(&format!(" {}", d.get(..10).unwrap_or(d)));
            }
            if let Some(a) = &c.author {
                text.push_str(&format!(" {a}"));
            }
        }
        match f.still_in.as_deref() {
            Some([]) | None => text.push_str("  (deleted)"),
            Some(refs) => text.push_str(&format!("  still in {}", refs.join(", "))),
        }
        row("at", &text)?;
    }
    writeln!(out)
}

fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn scanned(report: &Report) -> String {
    if report.scanned.is_empty() {
        String::new()
    } else {
        format!(" in {}", report.scanned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::finding::{AwsFingerprints, CommitInfo};

    fn report(mode: Mode, scanned: &str) -> Report {
        Report {
            findings: vec![Finding {
                path: "deploy/k.pem".into(),
                line: 1,
                end_line: 7,
                rule: "openssh-private-key".into(),
                format: "OpenSSH".into(),
                key_type: "Ed25519".into(),
                status: Status::Valid,
                blocking: true,
                fingerprint: Some("SHA256:abc".into()),
                aws_fingerprints: AwsFingerprints::default(),
                public_key: None,
                commit: Some(CommitInfo {
                    id: "0123abcd".into(),
                    ..CommitInfo::default()
                }),
                blob: None,
                still_in: None,
                permissions: None,
                redacted: "-----BEGIN OPENSSH PRIVATE KEY----- [5 lines redacted]".into(),
                note: None,
                locked: None,
            }],
            scanned: scanned.into(),
            mode,
            ..Report::default()
        }
    }

    fn shown(r: &Report) -> String {
        let mut out = Vec::new();
        let style = Style {
            color: false,
            quiet: false,
        };
        render(r, &style, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_blocked_push_says_so_first_and_how_to_rewrite_the_commits() {
        for mode in [Mode::PrePush, Mode::PreReceive] {
            let text = shown(&report(mode, "2 commits"));
            assert!(
                text.starts_with("keyscan: push blocked: 1 private key in 2 commits\n"),
                "{text}"
            );
            assert!(text.contains("git rebase -i"), "{text}");
            assert!(text.contains("commit       0123abcd"), "{text}");
            assert!(!text.contains("git rm --cached"), "{text}");
        }
    }

    #[test]
    fn history_ends_with_a_summary_and_rotation_first() {
        let text = shown(&report(Mode::History, "40 commits"));
        // History groups by key: the fingerprint heads the group, each
        // location is a line under it.
        assert!(
            text.starts_with("SHA256:abc private key: Ed25519 1 location"),
            "{text}"
        );
        assert!(
            text.contains("    at           deploy/k.pem:1-7  commit 0123abcd  (deleted)"),
            "{text}"
        );
        assert!(
            text.contains("keyscan: 1 private key at 1 location found in 40 commits\nWhat to do:\n  1. Rotate"),
            "{text}"
        );
    }
}
