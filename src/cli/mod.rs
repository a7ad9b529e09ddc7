//! The command line: clap definitions and dispatch only.

mod args;
mod audit;
mod man;
mod revoke_plan;

use anyhow::Result;
use args::BaselineArgs;
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use keyscan::policy::config::Config;
use keyscan::policy::verdict;
use keyscan::report::{self, escape, Format, Mode, Report, Style};
use keyscan::rules;
use keyscan::scan::inspect;
use keyscan::source::{files, history, push, staged};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Stops private keys from reaching a git repository and finds the ones that already did.
///
/// Exit codes: 0 nothing blocking, 1 blocking findings, 2 usage or runtime error.
/// What `scan` and `history` can do besides reporting.
#[derive(Debug, Default, clap::Args)]
struct AuditArgs {
    /// Also list allowlist entries that matched nothing (exit 1 if any).
    #[arg(long)]
    check_config: bool,
    /// Record every key found in this baseline file (sorted JSON, no key material).
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
}

#[derive(Parser)]
#[command(name = "keyscan", version, about, long_about = None)]
struct Cli {
    /// Output format.
    #[arg(long, global = true, value_enum, default_value = "human")]
    format: FormatArg,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    Human,
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitLab's secret-detection report (`gl-secret-detection-report.json`).
    Gitlab,
    /// Markdown (revoke-plan only).
    Markdown,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Human => Format::Human,
            FormatArg::Json => Format::Json,
            FormatArg::Sarif => Format::Sarif,
            FormatArg::Gitlab => Format::Gitlab,
            FormatArg::Markdown => Format::Markdown,
        }
    }
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
        #[command(flatten)]
        audit: AuditArgs,
        #[command(flatten)]
        baseline: BaselineArgs,
    },
    /// Scan the staged changes (what the pre-commit hook runs).
    PreCommit {
        #[command(flatten)]
        baseline: BaselineArgs,
    },
    /// Scan every blob reachable from every ref of a repository, each once,
    /// and say which commit brought each key in.
    History {
        /// The repository (work tree, .git directory or bare); defaults to here.
        path: Option<PathBuf>,
        /// Only this ref (full name, or a branch, tag or remote-tracking ref's
        /// short name). Repeatable.
        #[arg(long = "ref", value_name = "REF")]
        refs: Vec<String>,
        /// Leave out commits reachable from REV (scan REV..refs).
        #[arg(long, value_name = "REV")]
        since: Option<String>,
        /// Also scan objects no ref reaches (dangling commits after a force-push).
        #[arg(long)]
        all_objects: bool,
        #[command(flatten)]
        audit: AuditArgs,
        #[command(flatten)]
        baseline: BaselineArgs,
    },
    /// Scan a push on the server that receives it (git's pre-receive hook;
    /// `<old> <new> <ref>` lines on standard input). Configuration: --config
    /// or $KEYSCAN_SERVER_CONFIG, never the repository's own file.
    PreReceive,
    /// Scan the commits a push sends that the remote lacks (git's pre-push
    /// hook; `<local-ref> <local-oid> <remote-ref> <remote-oid>` lines on
    /// standard input).
    PrePush {
        /// The remote's name (or URL when pushing to a URL).
        remote: Option<String>,
        url: Option<String>,
    },
    /// Install keyscan's git hook into this repository (honours core.hooksPath).
    Install {
        /// pre-commit or pre-push (pre-receive with --server).
        #[arg(long, default_value = "pre-commit")]
        hook: String,
        /// Replace an existing hook (it is kept as a backup and still run).
        #[arg(long)]
        force: bool,
        /// Install the pre-receive hook into this (bare) repository on a server.
        #[arg(long, value_name = "REPO")]
        server: Option<PathBuf>,
    },
    /// Remove a hook that `keyscan install` wrote.
    Uninstall {
        #[arg(long, default_value = "pre-commit")]
        hook: String,
    },
    /// Print every fingerprint of every key in the files (`-` for standard input).
    ///
    /// SHA256 and MD5 as `ssh-keygen -l` prints them, the AWS forms, OpenPGP
    /// and the public key line; private keys in any format keyscan reads, and
    /// OpenSSH public-key lines. Exit 1 when no key is found.
    Fingerprint {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print a shell completion script.
    ///
    /// For example `keyscan completions bash > /etc/bash_completion.d/keyscan`.
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff).
    Man {
        /// Write keyscan.1 and one keyscan-SUBCOMMAND.1 page per subcommand here instead.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
    /// Audit the SSH keys on machines: one entry per key, where its private
    /// copies live and where it is authorized, flagged by risk. Exit 1 when
    /// a blocking flag is set ([audit] block in the config).
    Audit(audit::AuditCmd),
    /// Plan the revocation of leaked keys: every authorized_keys line, EC2
    /// key pair and instance they still open, with the command that closes
    /// each. Prints the plan; runs nothing.
    RevokePlan(revoke_plan::RevokePlanCmd),
    /// Check rule files: that they compile and that their examples hold.
    Rules {
        /// Extra rule files to check; the built-in rules are always checked.
        files: Vec<PathBuf>,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("keyscan: error: {}", escape::text(&format!("{err:#}")));
            ExitCode::from(2)
        }
    }
}

fn run(cli: &Cli) -> Result<u8> {
    match &cli.command {
        Command::Install {
            hook,
            force,
            server,
        } => {
            let opts = keyscan::git::hooks::InstallOptions {
                hook: if server.is_some() {
                    "pre-receive".to_string()
                } else {
                    hook.clone()
                },
                force: *force,
                repo: server.clone(),
            };
            println!("{}", keyscan::git::hooks::install(&opts)?);
            return Ok(0);
        }
        Command::Uninstall { hook } => {
            println!("{}", keyscan::git::hooks::uninstall(hook)?);
            return Ok(0);
        }
        Command::PreReceive => return push_hook(cli, None, true),
        Command::PrePush { remote, .. } => return push_hook(cli, remote.as_deref(), false),
        Command::Rules { files } => return check_rules(files),
        Command::Audit(args) => return audit::run(cli, args),
        Command::RevokePlan(args) => return revoke_plan::run(cli, args),
        Command::Fingerprint { files } => return fingerprint(cli, files),
        Command::Completions { shell } => {
            let mut out = std::io::stdout().lock();
            clap_complete::generate(*shell, &mut Cli::command(), "keyscan", &mut out);
            out.flush()?;
            return Ok(0);
        }
        Command::Man { out_dir } => {
            man::write(Cli::command(), out_dir.as_deref())?;
            return Ok(0);
        }
        Command::Scan { .. } | Command::PreCommit { .. } | Command::History { .. } => {}
    }
    let started = std::time::SystemTime::now();
    let config = Config::discover(cli.config.as_deref())?;
    let no_audit = AuditArgs::default();
    let (baseline_args, audit) = match &cli.command {
        Command::Scan {
            baseline, audit, ..
        }
        | Command::History {
            baseline, audit, ..
        } => (baseline, audit),
        Command::PreCommit { baseline } => (baseline, &no_audit),
        _ => unreachable!("handled above"),
    };
    let (baseline, baseline_strict) = baseline_args.resolve(&config)?;
    let mut scanner = config.scanner();
    if cli.no_crack {
        scanner.policy.crack = false;
    }
    let mut read_errors = 0;
    let mut report = match &cli.command {
        Command::Scan {
            paths, no_ignore, ..
        } => {
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
                started: Some(started),
                ..Report::default()
            }
        }
        Command::PreCommit { .. } => Report {
            findings: staged::scan_staged(&scanner)?,
            scanned: "the staged changes".to_string(),
            mode: Mode::PreCommit,
            // Staged paths are relative to the top of the work tree.
            root: git2::Repository::discover(".")
                .ok()
                .and_then(|r| r.workdir().map(PathBuf::from)),
            started: Some(started),
            ..Report::default()
        },
        Command::History {
            path,
            refs,
            since,
            all_objects,
            ..
        } => {
            let opts = history::HistoryOptions {
                refs: refs.clone(),
                since: since.clone(),
                all_objects: *all_objects,
                progress: !cli.quiet,
            };
            let path = path.clone().unwrap_or_else(|| PathBuf::from("."));
            let scan = history::scan_history(&scanner, &path, &opts)?;
            for e in &scan.errors {
                eprintln!("keyscan: error: {}", escape::text(e));
            }
            read_errors = scan.errors.len();
            Report {
                scanned: scan.summary(),
                findings: scan.findings,
                warnings: scan.notes.clone(),
                errors: scan.errors.clone(),
                mode: Mode::History,
                // History paths are relative to the top of the repository.
                root: git2::Repository::discover(&path).ok().map(|r| {
                    r.workdir()
                        .map(PathBuf::from)
                        .unwrap_or_else(|| r.path().to_path_buf())
                }),
                started: Some(started),
                ..Report::default()
            }
        }
        _ => unreachable!("handled above"),
    };
    let finish = verdict::Finish {
        baseline: baseline.as_ref(),
        baseline_strict,
        write_baseline: audit.write_baseline.as_deref(),
        check_config: audit.check_config,
    };
    let done = verdict::finish(&scanner.policy, &mut report, &finish)?;
    report.rule_descriptions = scanner.engine.descriptions();
    for note in &done.notes {
        eprintln!("{}", escape::text(note));
    }
    emit(cli, &report)?;
    if read_errors > 0 {
        eprintln!(
            "keyscan: {read_errors} object{} could not be read: not everything was scanned",
            if read_errors == 1 { "" } else { "s" }
        );
        return Ok(2);
    }
    Ok(done.exit_code(&report))
}

/// pre-receive (`server`) and pre-push. On the server anything that stops
/// the check rejects the push, and says why.
fn push_hook(cli: &Cli, remote: Option<&str>, server: bool) -> Result<u8> {
    let started = std::time::Instant::now();
    let mut input = String::new();
    if !std::io::stdin().is_terminal() {
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut input)?;
    }
    let run = || -> Result<Report> {
        let config = if server {
            push::server_config(cli.config.as_deref())?
        } else {
            Config::discover(cli.config.as_deref())?
        };
        let settings = config.server.clone();
        let mut scanner = config.scanner();
        if cli.no_crack {
            scanner.policy.crack = false;
        }
        let mut report = if server {
            push::pre_receive(&scanner, &settings, &input, started)?
        } else {
            push::pre_push(&scanner, remote, &input)?
        };
        verdict::finish(&scanner.policy, &mut report, &verdict::Finish::default())?;
        report.rule_descriptions = scanner.engine.descriptions();
        Ok(report)
    };
    match run() {
        Ok(report) => {
            emit(cli, &report)?;
            Ok(u8::from(report.blocking() > 0))
        }
        Err(err) if server => {
            let why = format!("{err:#}");
            eprintln!(
                "keyscan: push rejected, it could not be checked for private keys: {}",
                escape::text(&why)
            );
            Ok(2)
        }
        Err(err) => Err(err),
    }
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
    report::render(report, cli.format.into(), &style, &mut out)?;
    out.flush()?;
    Ok(())
}

fn fingerprint(cli: &Cli, files: &[PathBuf]) -> Result<u8> {
    let keys = inspect::fingerprint_files(files)?;
    let mut out = std::io::stdout().lock();
    match Format::from(cli.format) {
        Format::Json => inspect::render_json(&keys, &mut out)?,
        Format::Human => inspect::render_human(&keys, &mut out)?,
        other => anyhow::bail!("keyscan fingerprint prints human or json, not {other:?}"),
    }
    out.flush()?;
    if keys.is_empty() {
        eprintln!("keyscan: no key found");
        return Ok(1);
    }
    Ok(0)
}

fn check_rules(extra: &[PathBuf]) -> Result<u8> {
    let check = rules::check_files(extra)?;
    for f in &check.failures {
        eprintln!("keyscan: rule check failed: {f}");
    }
    if check.failures.is_empty() {
        println!("keyscan: {} rules ok", check.rules);
    }
    Ok(check.exit_code())
}
