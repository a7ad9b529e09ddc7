//! `keyscan pre-receive` (the server's hook) and `keyscan pre-push` (the
//! client's): both read git's ref lines on standard input.

use super::args::{CheckArgs, ConfigFrom, LoadArgs, Loaded, Options, ReportArgs, TopArgs};
use super::output::{closed_pipe, conclude, failed_closed};
use anyhow::{bail, Result};
use keyscan::policy::verdict::Finish;
use keyscan::report::Report;
use keyscan::source::push;
use std::io::{IsTerminal, Read};

#[derive(Debug, clap::Args)]
pub struct PreReceiveArgs {
    #[command(flatten)]
    report: ReportArgs,
    #[command(flatten)]
    load: LoadArgs,
}

#[derive(Debug, clap::Args)]
pub struct PrePushArgs {
    /// The remote's name (or URL when pushing to a URL).
    remote: Option<String>,
    /// The remote's URL (git passes it; not needed).
    url: Option<String>,
    #[command(flatten)]
    check: CheckArgs,
}

impl PreReceiveArgs {
    /// On the server anything that stops the check rejects the push, and
    /// says why.
    pub fn run(&self, top: &TopArgs) -> Result<u8> {
        let opts = &top.with(&self.report, &self.load);
        let started = std::time::Instant::now();
        let input = ref_lines()?;
        let checked = || -> Result<(Loaded, Report, Vec<String>)> {
            let loaded = opts.load(ConfigFrom::Server, None)?;
            let (report, audit) =
                push::pre_receive(&loaded.scanner, &loaded.server, &input, started)?;
            Ok((loaded, report, audit))
        };
        match checked() {
            Ok((loaded, mut report, audit)) => {
                // The push-option bypass audit: one JSON line each.
                for line in &audit {
                    eprintln!("{line}");
                }
                conclude(opts, &loaded, &mut report, Finish::default(), true)
            }
            Err(err) => Ok(failed_closed("push rejected", &err)),
        }
    }
}

impl PrePushArgs {
    /// Run by hand without ref lines it says where they come from; in the
    /// hook anything that stops the check blocks the push, and says so.
    pub fn run(&self, top: &TopArgs) -> Result<u8> {
        let opts = &self.check.options(top);
        let input = ref_lines()?;
        let from_framework = ["PRE_COMMIT_TO_REF", "PRE_COMMIT_FROM_REF"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()));
        // git always names the remote, even when it sends no ref lines.
        if input.trim_ascii().is_empty() && self.remote.is_none() && !from_framework {
            bail!(
                "keyscan pre-push reads the ref lines git gives a pre-push hook on standard input \
                 (`<local-ref> <local-oid> <remote-ref> <remote-oid>`) and got none; \
                 install it with `keyscan install --hook pre-push` and `git push` runs it"
            );
        }
        match self.check(opts, &input) {
            Err(err) if !closed_pipe(&err) => Ok(failed_closed("push blocked", &err)),
            other => other,
        }
    }

    fn check(&self, opts: &Options, input: &[u8]) -> Result<u8> {
        let loaded = opts.load(ConfigFrom::Work, Some(&self.check.baseline))?;
        let mut report = push::pre_push(&loaded.scanner, self.remote.as_deref(), input)?;
        conclude(opts, &loaded, &mut report, Finish::default(), true)
    }
}

/// Standard input, unless it is a terminal (run by hand: no ref lines).
/// Bytes: a ref name need not be UTF-8.
fn ref_lines() -> Result<Vec<u8>> {
    let mut input = Vec::new();
    if !std::io::stdin().is_terminal() {
        std::io::stdin().read_to_end(&mut input)?;
    }
    Ok(input)
}
