//! The end every findings command shares: the verdict, notes, the report.

use super::args::{Color, Loaded, Options};
use anyhow::Result;
use keyscan::policy::verdict::{self, Finish};
use keyscan::report::{self, escape, Report, Style};
use std::io::{IsTerminal, Write};

/// Apply the baseline and allowlist check, print the notes and the report;
/// the exit code. A gate (a hook) keeps its verdict when standard output
/// is closed; other commands end quietly with 0 (see `cli::main`).
pub fn conclude(
    opts: &Options,
    loaded: &Loaded,
    report: &mut Report,
    finish: Finish,
    gate: bool,
) -> Result<u8> {
    let finish = Finish {
        baseline: loaded.baseline.as_ref(),
        baseline_strict: loaded.baseline_strict,
        ..finish
    };
    // The weak-passphrase check, once for the whole run. In a hook an
    // encrypted key blocks anyway: the check only refines the message, so
    // it never runs past the time limit.
    let deadline = gate
        .then(|| loaded.started.checked_add(loaded.server.time_limit))
        .flatten();
    if let Some(summary) = loaded.scanner.settle(&mut report.findings, deadline) {
        if !opts.quiet {
            eprintln!("keyscan: {summary}");
        }
    }
    let done = verdict::finish(&loaded.scanner.policy, report, &finish)?;
    report.rule_descriptions = loaded.scanner.engine.descriptions();
    for note in &done.notes {
        eprintln!("{}", escape::text(note));
    }
    let code = done.exit_code(report);
    match emit(opts, report) {
        Err(e) if gate && closed_pipe(&e) => Ok(code),
        other => other.map(|()| code),
    }
}

pub fn emit(opts: &Options, report: &Report) -> Result<()> {
    let stdout = std::io::stdout();
    let color = match opts.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let style = Style {
        color,
        quiet: opts.quiet,
    };
    let mut out = stdout.lock();
    report::render(report, opts.format.into(), &style, &mut out)?;
    out.flush()?;
    Ok(())
}

/// A hook whose check could not run fails closed: it says why (`what`:
/// "commit blocked", ...) and exits 2.
pub fn failed_closed(what: &str, err: &anyhow::Error) -> u8 {
    eprintln!(
        "keyscan: {what}, it could not be checked for private keys: {}",
        escape::text(&format!("{err:#}"))
    );
    2
}

/// Standard output was closed under us (`keyscan scan | head -1`).
pub fn closed_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Write `text` and a newline to standard output.
pub fn say(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    out.flush()?;
    Ok(())
}
