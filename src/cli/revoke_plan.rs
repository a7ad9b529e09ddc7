//! `keyscan revoke-plan`: what to do about keys that got out. Prints a
//! plan; runs nothing and writes nothing but `--out`.

use super::args::{FormatArg, ReportArgs, TopArgs};
use anyhow::{anyhow, bail, Result};
use keyscan::policy::audit::AuditReport;
use keyscan::policy::revoke::{self, AuthLine, Inputs, LeakedKey};
use keyscan::report::plan as render;
use keyscan::rules::{self, Engine};
use keyscan::scan::finding::AwsFingerprints;
use keyscan::scan::{fingerprints, Scanner};
use keyscan::source::{aws, machines};
use keyscan::validate::authorized_keys;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct RevokePlanCmd {
    /// keyscan JSON reports (scan, history, pre-commit, pre-receive, audit,
    /// fingerprint) or key files. From an audit report, its blocking keys.
    #[arg(required = true, value_name = "REPORT.json|KEY")]
    inputs: Vec<PathBuf>,
    /// authorized_keys files, or folders to search for them.
    #[arg(long, num_args = 1.., value_name = "PATH")]
    authorized_keys: Vec<PathBuf>,
    /// Saved `aws ec2 describe-key-pairs --output json`.
    #[arg(long, value_name = "FILE")]
    aws_key_pairs: Option<PathBuf>,
    /// Saved `aws ec2 describe-instances --output json`.
    #[arg(long, value_name = "FILE")]
    aws_instances: Option<PathBuf>,
    /// Write the plan here instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    #[command(flatten)]
    report: ReportArgs,
}

pub fn run(top: &TopArgs, args: &RevokePlanCmd) -> Result<u8> {
    let cli = top.with(&args.report, &Default::default());
    let mut inputs = Inputs::default();
    let mut unreadable = Vec::new();
    let scanner = Scanner::new(
        Engine::new(rules::builtin()?)?,
        keyscan::policy::Policy::default(),
    );
    for path in &args.inputs {
        match std::fs::read(path) {
            Ok(data) => read_input(&scanner, path, &data, &mut inputs)?,
            Err(e) => unreadable.push(format!("{}: {e}", path.display())),
        }
    }
    for path in &args.authorized_keys {
        authorized_from(path, &mut inputs, &mut unreadable)?;
    }
    if let Some(p) = &args.aws_key_pairs {
        inputs.key_pairs = Some(aws::key_pairs(p)?);
    }
    if let Some(p) = &args.aws_instances {
        inputs.instances = Some(aws::instances(p)?);
    }
    if !unreadable.is_empty() {
        for u in &unreadable {
            eprintln!("keyscan: cannot read {}", keyscan::report::escape::text(u));
        }
        eprintln!("keyscan: no plan: every input must be read");
        return Ok(2);
    }
    let plan = revoke::plan(inputs);
    let mut text = Vec::new();
    match cli.format {
        FormatArg::Human => render::render_human(&plan, &mut text)?,
        FormatArg::Json => render::render_json(&plan, &mut text)?,
        FormatArg::Markdown => render::render_markdown(&plan, &mut text)?,
        other => bail!("keyscan revoke-plan prints human, json or markdown, not {other:?}"),
    }
    match &args.out {
        Some(path) => std::fs::write(path, &text)
            .map_err(|e| anyhow!("cannot write {}: {e}", path.display()))?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&text)?;
            out.flush()?;
        }
    }
    Ok(0)
}

/// A JSON report, or else a key file.
fn read_input(scanner: &Scanner, path: &Path, data: &[u8], inputs: &mut Inputs) -> Result<()> {
    let shown = path.display().to_string();
    if let Ok(v) = serde_json::from_slice::<Value>(data) {
        return read_report(&shown, v, inputs);
    }
    let keys = fingerprints::fingerprints(scanner, &shown, Some(&shown), data);
    if keys.is_empty() {
        bail!("{shown}: neither a keyscan JSON report nor a key file");
    }
    for k in keys {
        let Some(fp) = k.sha256 else { continue };
        inputs.keys.push(LeakedKey {
            fingerprint: fp,
            public_key: k.public_key.as_deref().map(bare),
            aws_fingerprints: k.aws_fingerprints,
            found_in: vec![format!("{}:{}", k.path, k.line)],
        });
    }
    Ok(())
}

/// `type base64` without a comment.
fn bare(line: &str) -> String {
    line.split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

fn read_report(shown: &str, v: Value, inputs: &mut Inputs) -> Result<()> {
    if v["report"] == "audit" {
        let audit: AuditReport = serde_json::from_value(v)
            .map_err(|e| anyhow!("{shown}: a broken keyscan audit report: {e}"))?;
        read_audit(shown, audit, inputs);
        return Ok(());
    }
    let list = v["findings"].as_array().or(v["keys"].as_array());
    let Some(list) = list else {
        bail!("{shown}: not a keyscan JSON report (no findings or keys list)");
    };
    for f in list {
        let fp = f["fingerprint"].as_str().or(f["sha256"].as_str());
        let Some(fp) = fp.filter(|fp| fp.starts_with("SHA256:")) else {
            continue;
        };
        let aws: AwsFingerprints =
            serde_json::from_value(f["aws_fingerprints"].clone()).unwrap_or_default();
        let mut at = format!("{shown}: {}:{}", str_of(&f["path"]), f["line"]);
        if let Some(c) = f["commit"]["id"].as_str() {
            at.push_str(&format!(" (commit {c})"));
        }
        inputs.keys.push(LeakedKey {
            fingerprint: fp.to_string(),
            public_key: f["public_key"].as_str().map(bare),
            aws_fingerprints: aws,
            found_in: vec![at],
        });
    }
    Ok(())
}

fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or("?")
}

/// An audit's blocking keys are leaked; all its authorized lines are places.
fn read_audit(shown: &str, audit: AuditReport, inputs: &mut Inputs) {
    for k in audit.keys {
        let blob = k
            .public_key
            .as_deref()
            .and_then(|p| p.split_whitespace().nth(1));
        if let Some(blob) = blob {
            for a in &k.authorized_in {
                inputs.authorized.push(AuthLine {
                    host: Some(a.host.clone()),
                    path: a.host_path.clone(),
                    line: a.line,
                    options: a.options.clone(),
                    comment: a.comment.clone(),
                    blob: blob.to_string(),
                });
            }
        }
        if k.blocking {
            inputs.keys.push(LeakedKey {
                fingerprint: k.fingerprint.clone(),
                public_key: k.public_key.as_deref().map(bare),
                aws_fingerprints: k.aws_fingerprints.clone(),
                found_in: vec![format!("{shown}: audit flags {}", k.flags.join(", "))],
            });
        }
    }
}

/// Lines of one authorized_keys file, or of every one under a folder.
fn authorized_from(path: &Path, inputs: &mut Inputs, unreadable: &mut Vec<String>) -> Result<()> {
    let files: Vec<(String, Vec<u8>)> = if path.is_dir() {
        let walk = machines::walk(&[path.to_path_buf()], &machines::WalkOptions::default())?;
        unreadable.extend(walk.errors);
        (walk.files.into_iter())
            .filter(|f| f.kind == machines::FileKind::AuthorizedKeys)
            .map(|f| (f.path, f.data))
            .collect()
    } else {
        match std::fs::read(path) {
            Ok(data) => vec![(path.display().to_string(), data)],
            Err(e) => {
                unreadable.push(format!("{}: {e}", path.display()));
                return Ok(());
            }
        }
    };
    for (shown, data) in files {
        let (lines, bad) = authorized_keys::parse(&data);
        for b in bad {
            inputs
                .warnings
                .push(format!("{shown}:{}: {} (line skipped)", b.line, b.reason));
        }
        for l in lines {
            inputs.authorized.push(AuthLine {
                host: None,
                path: shown.clone(),
                line: l.line,
                options: l.options,
                comment: l.comment,
                blob: l.blob,
            });
        }
    }
    Ok(())
}
