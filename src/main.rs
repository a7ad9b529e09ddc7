//! The command line: clap definitions and dispatch only.

use anyhow::Result;
use clap::{Parser, Subcommand, ValueEnum};
use keyscan::config::Config;
use keyscan::report::{self, Format, Report, Style};
use keyscan::rules::{self, Engine};
use keyscan::scan::Scanner;
use keyscan::source::{files, staged};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Stops private keys from reaching a git repository and finds the ones that already did.
///
/// Exit codes: 0 nothing blocking, 1 blocking findings, 2 usage or runtime error.
#[derive(Parser)]
#[command(name = "keyscan", version, about, long_about = None)]
struct Cli {
    /// Output format.
    #[arg(long, global = true, value_enum, default_value = "human")]
    format: Format,
    /// Config file (default: .keyscan.toml at the top of the work tree or here).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Print only blocking findings and errors.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Colour human output (NO_COLOR is honoured by `auto`).
    #[arg(long, global = true, value_enum, default_value = "auto")]
    color: Color,
    /// Do not try common passphrases on encrypted keys.
    #[arg(long, global = true)]
    no_crack: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand)]
enum Command {
    /// Scan files and directories on disk (`-` for standard input).
    Scan {
        /// Files or directories; defaults to the current directory.
        paths: Vec<PathBuf>,
        /// Also scan files that .gitignore, .ignore and git excludes would skip.
        #[arg(long)]
        no_ignore: bool,
    },
    /// Scan the staged changes (what the pre-commit hook runs).
    PreCommit,
    /// Install keyscan's git hook into this repository (honours core.hooksPath).
    Install {
        #[arg(long, default_value = "pre-commit")]
        hook: String,
        /// Replace an existing hook (it is kept as a backup and still run).
        #[arg(long)]
        force: bool,
    },
    /// Remove a hook that `keyscan install` wrote.
    Uninstall {
        #[arg(long, default_value = "pre-commit")]
        hook: String,
    },
    /// Check rule files: that they compile and that their examples hold.
    Rules {
        /// Extra rule files to check; the built-in rules are always checked.
        files: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("keyscan: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: &Cli) -> Result<u8> {
    match &cli.command {
        Command::Install { hook, force } => {
            let opts = keyscan::hook::InstallOptions {
                hook: hook.clone(),
                force: *force,
            };
            println!("{}", keyscan::hook::install(&opts)?);
            return Ok(0);
        }
        Command::Uninstall { hook } => {
            println!("{}", keyscan::hook::uninstall(hook)?);
            return Ok(0);
        }
        Command::Rules { files } => return check_rules(files),
        Command::Scan { .. } | Command::PreCommit => {}
    }
    let config = Config::discover(cli.config.as_deref())?;
    let mut policy = config.policy();
    if cli.no_crack {
        policy.crack = false;
    }
    let scanner = Scanner::new(Engine::new(rules::builtin()?)?, policy);
    let report = match &cli.command {
        Command::Scan { paths, no_ignore } => {
            let paths = if paths.is_empty() {
                vec![PathBuf::from(".")]
            } else {
                paths.clone()
            };
            let opts = files::WalkOptions {
                no_ignore: *no_ignore,
            };
            let scan = files::scan_paths(&scanner, &paths, &opts)?;
            Report {
                findings: scan.findings,
                warnings: scan.warnings,
                scanned: format!(
                    "{} file{}",
                    scan.files,
                    if scan.files == 1 { "" } else { "s" }
                ),
            }
        }
        Command::PreCommit => Report {
            findings: staged::scan_staged(&scanner)?,
            scanned: "the staged changes".to_string(),
            ..Report::default()
        },
        _ => unreachable!("handled above"),
    };
    emit(cli, &report)?;
    Ok(if report.blocking() > 0 { 1 } else { 0 })
}

fn emit(cli: &Cli, report: &Report) -> Result<()> {
    let stdout = std::io::stdout();
    let color = match cli.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let style = Style {
        color,
        quiet: cli.quiet,
    };
    let mut out = stdout.lock();
    report::render(report, cli.format, &style, &mut out)?;
    out.flush()?;
    Ok(())
}

fn check_rules(extra: &[PathBuf]) -> Result<u8> {
    let mut all = rules::builtin()?;
    for path in extra {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read rule file {}: {e}", path.display()))?;
        all.extend(rules::parse_rules(&path.display().to_string(), &text)?);
    }
    let engine = Engine::new(all)?;
    let failures = rules::check_examples(&engine);
    for f in &failures {
        eprintln!("keyscan: rule check failed: {f}");
    }
    if failures.is_empty() {
        println!("keyscan: {} rules ok", engine.rules().len());
        Ok(0)
    } else {
        Ok(1)
    }
}
