//! `keyscan audit`: the SSH keys on machines, one entry per key, flagged.

use super::args::{FormatArg, LoadArgs, ReportArgs, TopArgs};
use anyhow::{anyhow, bail, Result};
use keyscan::policy::audit::{self, AuditPolicy, AuditReport};
use keyscan::policy::config::Config;
use keyscan::report::audit as render;
use keyscan::scan::audit::collect;
use keyscan::source::machines;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct AuditCmd {
    /// Homes, `/home`, or folders of per-host dumps; default: your home.
    paths: Vec<PathBuf>,
    /// Join these per-host `--format json` audit reports instead of walking:
    /// sharing and reach are judged across all of them.
    #[arg(long, num_args = 1.., value_name = "REPORT.json", conflicts_with = "paths")]
    merge: Vec<PathBuf>,
    /// Expected keys: a TOML file of `[[keys]]` with fingerprint, owner and
    /// optional expires (YYYY-MM-DD).
    #[arg(long, value_name = "FILE")]
    known_keys: Option<PathBuf>,
    /// Keys whose newest file is older than this are `stale` (90d, 12w, 6m, 1y).
    #[arg(long, value_name = "AGE", default_value = "1y")]
    max_age: String,
    /// The paths are per-host dumps (`hosts/web1/...`): the host is the
    /// first path component under each path.
    #[arg(long)]
    hosts: bool,
    /// The host is this path component under each path (1 = the first).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    host_from_path: Option<u16>,
    #[command(flatten)]
    report: ReportArgs,
    #[command(flatten)]
    load: LoadArgs,
}

pub fn run(top: &TopArgs, args: &AuditCmd) -> Result<u8> {
    let cli = top.with(&args.report, &args.load);
    let config = Config::discover(cli.config.as_deref())?;
    let known = match &args.known_keys {
        Some(path) => audit::load_known(path)?,
        None => Default::default(),
    };
    let mut policy = AuditPolicy::new(audit::parse_age(&args.max_age)?, known);
    if let Some(block) = &config.audit_block {
        policy.block = block.clone();
    }
    let mut report = if args.merge.is_empty() {
        let paths = if args.paths.is_empty() {
            let home = std::env::var_os("HOME")
                .ok_or_else(|| anyhow!("HOME is not set: name the paths to audit"))?;
            vec![PathBuf::from(home)]
        } else {
            args.paths.clone()
        };
        let opts = machines::WalkOptions {
            host_from_path: args
                .host_from_path
                .map(usize::from)
                .or(args.hosts.then_some(1)),
        };
        let walk = machines::walk(&paths, &opts)?;
        let mut scanner = config.scanner();
        if cli.no_crack {
            scanner.policy.crack = false;
        }
        if let Some(budget) = cli.crack_budget {
            scanner.policy.crack_budget = budget;
            scanner.policy.crack_budget_set = true;
        }
        collect(&scanner, walk)
    } else {
        merge(&args.merge)?
    };
    policy.judge(&mut report);
    let mut out = std::io::stdout().lock();
    match cli.format {
        FormatArg::Json => render::render_json(&report, &mut out)?,
        FormatArg::Human => render::render_human(&report, cli.quiet, &mut out)?,
        FormatArg::Sarif => render::render_sarif(&report, &mut out)?,
        other => bail!(
            "keyscan audit prints human, json or sarif, not {}",
            other.name()
        ),
    }
    out.flush()?;
    if !report.errors.is_empty() {
        eprintln!(
            "keyscan: {} could not be read: not everything was audited",
            keyscan::report::words::plural(report.errors.len(), "path")
        );
        return Ok(2);
    }
    Ok(u8::from(report.blocking() > 0))
}

/// Read and join audit reports.
fn merge(files: &[PathBuf]) -> Result<AuditReport> {
    let mut all = AuditReport::default();
    for path in files {
        let text =
            std::fs::read(path).map_err(|e| anyhow!("cannot read {}: {e}", path.display()))?;
        let one: AuditReport = serde_json::from_slice(&text)
            .ok()
            .filter(|r: &AuditReport| r.report == "audit")
            .ok_or_else(|| anyhow!("{}: not a keyscan audit JSON report", path.display()))?;
        all.keys.extend(one.keys);
        all.malformed.extend(one.malformed);
        all.warnings.extend(one.warnings);
        all.errors.extend(one.errors);
        all.files_seen += one.files_seen;
    }
    all.consolidate();
    Ok(all)
}
