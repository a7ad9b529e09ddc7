//! Text for people: where the key is, what it is, how to revoke it.

use super::{Report, Style};
use crate::finding::{Finding, Status};
use std::io::{self, Write};

/// What to do about a leaked key, in order.
pub const ADVICE: &[&str] = &[
    "Rotate the key: it cannot be un-leaked once pushed, so make a new key pair.",
    "Remove its public half from every authorized_keys (grep for the public key or fingerprint).",
    "If it is an EC2 key pair, find it by the AWS fingerprint in `aws ec2 describe-key-pairs` and delete it.",
    "Take the file out of the commit (`git rm --cached FILE`) and add it to .gitignore.",
];

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
    let shown: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.blocking || !style.quiet)
        .collect();
    for f in &shown {
        finding(f, &paint, out)?;
    }
    if !style.quiet {
        for w in &report.warnings {
            writeln!(out, "{} {w}", paint.on(YELLOW, "warning:"))?;
        }
    }
    let blocking = report.blocking();
    if blocking > 0 {
        writeln!(
            out,
            "{}",
            paint.on(
                RED,
                &format!(
                    "keyscan: {blocking} private key{} found{}",
                    plural(blocking),
                    scanned(report)
                )
            )
        )?;
        writeln!(out, "What to do:")?;
        for (i, step) in ADVICE.iter().enumerate() {
            writeln!(out, "  {}. {step}", i + 1)?;
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
    let head = match f.status {
        Status::Unverified => paint.on(YELLOW, "possible private key (does not parse)"),
        Status::Encrypted => paint.on(RED, "private key (encrypted: still crackable offline)"),
        Status::Valid => paint.on(RED, "private key"),
    };
    let place = if f.line == f.end_line {
        format!("{}:{}", f.path, f.line)
    } else {
        format!("{}:{}-{}", f.path, f.line, f.end_line)
    };
    writeln!(out, "{} {head}", paint.on(BOLD, &place))?;
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
    }
    if let Some(fp) = &f.fingerprint {
        row("fingerprint", fp)?;
    }
    if let Some(pk) = &f.public_key {
        row("public key", &shorten(pk, 60))?;
    }
    let aws = &f.aws_fingerprints;
    if let Some(v) = &aws.sha1_pkcs8 {
        row("AWS (EC2)", v)?;
    }
    if let Some(v) = &aws.md5_spki {
        row("AWS (import)", v)?;
    }
    if let Some(v) = &aws.sha256 {
        row("AWS", v)?;
    }
    if let Some(note) = &f.note {
        row("note", note)?;
    }
    if let Some(p) = &f.permissions {
        row("permissions", p)?;
    }
    row("match", &f.redacted)?;
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
