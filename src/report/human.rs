//! Text for people: where the key is, what it is, how to revoke it.

use super::escape::text as esc;
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
    let count = count(report.mode, &blocking, "");
    if let (Some(what), false) = (hook, blocking.is_empty()) {
        let headline = match report.scanned.as_str() {
            "" => format!("keyscan: {what} blocked: {count} found"),
            scanned => format!("keyscan: {what} blocked: {count} in {scanned}"),
        };
        writeln!(out, "{}\n", paint.on(RED, &esc(&headline)))?;
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
            writeln!(out, "{} {}", paint.on(YELLOW, "warning:"), esc(w))?;
        }
    }
    if !blocking.is_empty() {
        let ends_blank = what_to_do(report.mode, &blocking, out)?;
        // A scan ends with its summary, the last thing a person reads.
        if hook.is_none() {
            if !ends_blank {
                writeln!(out)?;
            }
            // "found" alone would not say that a look-alike blocks.
            let count = self::count(report.mode, &blocking, " (blocking)");
            let summary = format!("keyscan: {count} found{}", scanned(report));
            writeln!(out, "{}", paint.on(RED, &esc(&summary)))?;
        }
    } else if !style.quiet {
        let extra = not_blocking(&report.findings);
        let line = format!("keyscan: no private keys found{}{extra}", scanned(report));
        writeln!(out, "{}", esc(&line))?;
    }
    Ok(())
}

/// What blocks, counted as it is: real keys (in history: keys and their
/// locations) apart from look-alikes that block under `block_unverified`.
fn count(mode: Mode, blocking: &[&Finding], look_alike_note: &str) -> String {
    let (real, unverified): (Vec<&Finding>, Vec<&Finding>) = blocking
        .iter()
        .partition(|f| f.status != Status::Unverified);
    let mut parts = Vec::new();
    if !real.is_empty() || unverified.is_empty() {
        let n = real.len();
        parts.push(match mode {
            Mode::History => {
                let keys = by_key(&real).len();
                format!(
                    "{keys} private key{} at {n} location{}",
                    plural(keys),
                    plural(n)
                )
            }
            _ => format!("{n} private key{}", plural(n)),
        });
    }
    if !unverified.is_empty() {
        let n = unverified.len();
        parts.push(format!(
            "{n} unverified look-alike{}{look_alike_note}",
            plural(n)
        ));
    }
    parts.join(" and ")
}

/// The numbered advice; true when it ended with a blank line.
fn what_to_do(mode: Mode, blocking: &[&Finding], out: &mut dyn Write) -> io::Result<bool> {
    writeln!(out, "What to do:")?;
    let mut ends_blank = false;
    for (i, step) in advice::steps(mode, blocking).iter().enumerate() {
        // Multi-line steps (a config snippet) stay indented under their number.
        for (n, line) in step.lines().enumerate() {
            match (n, line.is_empty()) {
                (0, _) => writeln!(out, "  {}. {line}", i + 1)?,
                (_, true) => writeln!(out)?,
                (_, false) => writeln!(out, "     {line}")?,
            }
        }
        ends_blank = step.contains('\n');
        if ends_blank {
            writeln!(out)?;
        }
    }
    Ok(ends_blank)
}

/// What the summary says of findings that do not block: keys a server
/// policy allowed ("1 key allowed by push option keyscan.allow"), and
/// unverified look-alikes.
fn not_blocking(findings: &[Finding]) -> String {
    let mut allowed: std::collections::BTreeMap<&str, std::collections::BTreeSet<String>> =
        Default::default();
    let mut unverified = 0;
    for f in findings {
        match f
            .note
            .as_deref()
            .and_then(|n| n.strip_prefix("allowed by "))
        {
            Some(by) => {
                let by = by.split([',', '(']).next().unwrap_or(by).trim();
                let key = f.fingerprint.clone().unwrap_or_else(|| f.path.clone());
                allowed.entry(by).or_default().insert(key);
            }
            None => unverified += 1,
        }
    }
    let mut parts: Vec<String> = allowed
        .iter()
        .map(|(by, keys)| format!("{} key{} allowed by {by}", keys.len(), plural(keys.len())))
        .collect();
    if unverified > 0 {
        parts.push(format!(
            "{unverified} unverified look-alike{} reported as warning{}",
            plural(unverified),
            plural(unverified)
        ));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join("; "))
    }
}

/// One indented `name value` line under a heading.
fn row(out: &mut dyn Write, paint: &Paint, name: &str, value: &str) -> io::Result<()> {
    writeln!(
        out,
        "    {} {}",
        paint.on(DIM, &format!("{name:<12}")),
        esc(value)
    )
}

fn finding(f: &Finding, paint: &Paint, out: &mut dyn Write) -> io::Result<()> {
    let head = heading(f.status, paint);
    writeln!(out, "{} {head}", paint.on(BOLD, &esc(&place(f))))?;
    let mut row = |name: &str, value: &str| row(out, paint, name, value);
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
    writeln!(
        out,
        "{} {head}: {}",
        paint.on(BOLD, &esc(id)),
        esc(&summary)
    )?;
    let mut row = |name: &str, value: &str| row(out, paint, name, value);
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
                raw_path: None,
                outside_git: false,
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
    fn a_blocking_look_alike_is_not_counted_as_a_private_key() {
        let mut r = report(Mode::PreCommit, "the staged changes");
        r.findings[0].status = Status::Unverified;
        let text = shown(&r);
        assert!(
            text.starts_with(
                "keyscan: commit blocked: 1 unverified look-alike in the staged changes\n"
            ),
            "{text}"
        );
        r.mode = Mode::History;
        r.findings
            .push(report(Mode::History, "").findings.remove(0));
        assert!(
            shown(&r).ends_with(
                "keyscan: 1 private key at 1 location and 1 unverified look-alike (blocking) found in the staged changes\n"
            ),
            "{}",
            shown(&r)
        );
    }

    #[test]
    fn colour_codes_wrap_padded_fields_in_every_mode() {
        let sgr = regex::Regex::new("\x1b\\[[0-9;]*m").unwrap();
        for mode in [Mode::Scan, Mode::PreCommit, Mode::History, Mode::PreReceive] {
            let r = report(mode, "2 commits");
            let mut out = Vec::new();
            let style = Style {
                color: true,
                quiet: false,
            };
            render(&r, &style, &mut out).unwrap();
            let coloured = String::from_utf8(out).unwrap();
            assert_eq!(sgr.replace_all(&coloured, ""), shown(&r), "{mode:?}");
        }
    }

    #[test]
    fn values_from_the_input_are_escaped_in_every_mode() {
        for mode in [Mode::Scan, Mode::PreCommit, Mode::History, Mode::PreReceive] {
            let mut r = report(mode, "1 ref \x1b[2J");
            let f = &mut r.findings[0];
            f.path = "a\nb\u{202e}".into();
            f.key_type = "RSA\x1b[8m".into();
            f.note = Some("header \u{9b}31m".into());
            f.redacted = "-----BEGIN \x1b[8m PRIVATE KEY-----".into();
            f.still_in = Some(vec!["refs/heads/\u{2066}x".into()]);
            f.commit = Some(CommitInfo {
                id: "0123abcd".into(),
                author: Some("Eve\x1b[8m".into()),
                email: Some("e\x07@x".into()),
                r#ref: Some("refs/heads/\u{202e}x".into()),
                ..CommitInfo::default()
            });
            r.warnings.push("skipped a\rb: \u{2028}".into());
            let text = shown(&r);
            let bad =
                |c: char| c.is_control() && c != '\n' || "\u{202e}\u{2066}\u{2028}".contains(c);
            assert!(!text.chars().any(bad), "{mode:?}: {text:?}");
            assert!(text.contains(r"RSA\x1b[8m"), "{text}");
            assert!(text.contains(r"a\x0ab\u{202e}"), "{text}");
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
        assert!(text.contains("\nWhat to do:\n  1. Rotate"), "{text}");
        assert!(
            text.ends_with("\n\nkeyscan: 1 private key at 1 location found in 40 commits\n"),
            "{text}"
        );
    }
}
