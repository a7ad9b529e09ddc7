//! The command line: clap definitions and dispatch only; the work is in the
//! library. One file per subcommand, holding its flags and its `run`.

mod args;
mod audit;
mod completions;
mod fingerprint;
mod history;
mod install;
mod man;
mod output;
mod pre_commit;
mod push;
mod revoke_plan;
mod rules;
mod scan;

use clap::{CommandFactory, Parser, Subcommand};
use std::process::ExitCode;

/// Stops private keys from reaching a git repository and finds the ones that already did.
///
/// Exit codes: 0 nothing blocking, 1 blocking findings, 2 usage or runtime error.
#[derive(Parser)]
#[command(name = "keyscan", version)]
struct Cli {
    #[command(flatten)]
    top: args::TopArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan files and directories on disk (`-` for standard input).
    Scan(scan::ScanArgs),
    /// Scan the staged changes (what the pre-commit hook runs).
    PreCommit(pre_commit::PreCommitArgs),
    /// Scan every blob reachable from every ref of a repository, each once,
    /// and say which commit brought each key in.
    History(history::HistoryArgs),
    /// Scan a push on the server that receives it (git's pre-receive hook;
    /// `<old> <new> <ref>` lines on standard input). Configuration: --config
    /// or $KEYSCAN_SERVER_CONFIG, never the repository's own file.
    PreReceive(push::PreReceiveArgs),
    /// Scan the commits a push sends that the remote lacks (git's pre-push
    /// hook; `<local-ref> <local-oid> <remote-ref> <remote-oid>` lines on
    /// standard input).
    PrePush(push::PrePushArgs),
    /// Install keyscan's git hook into this repository (honours core.hooksPath).
    Install(install::InstallArgs),
    /// Remove a hook that `keyscan install` wrote.
    Uninstall(install::UninstallArgs),
    /// Print every fingerprint of every key in the files (`-` for standard input).
    ///
    /// SHA256 and MD5 as `ssh-keygen -l` prints them, the AWS forms, OpenPGP
    /// and the public key line; private keys in any format keyscan reads, and
    /// OpenSSH public-key lines. Exit 1 when no key is found.
    Fingerprint(fingerprint::FingerprintArgs),
    /// Print a shell completion script.
    ///
    /// For example `keyscan completions bash > /etc/bash_completion.d/keyscan`.
    Completions(completions::CompletionsArgs),
    /// Print the man page (roff).
    Man(man::ManArgs),
    /// Audit the SSH keys on machines: one entry per key, where its private
    /// copies live and where it is authorized, flagged by risk. Exit 1 when
    /// a blocking flag is set ([audit] block in the config).
    Audit(audit::AuditCmd),
    /// Plan the revocation of leaked keys: every authorized_keys line, EC2
    /// key pair and instance they still open, with the command that closes
    /// each. Prints the plan; runs nothing.
    RevokePlan(revoke_plan::RevokePlanCmd),
    /// Check rule files: that they compile and that their examples hold.
    Rules(rules::RulesArgs),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => ExitCode::from(code),
        // A closed pipe (`keyscan scan | head -1`) ends quietly, as ripgrep does.
        Err(err) if output::closed_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!(
                "keyscan: error: {}",
                keyscan::report::escape::text(&format!("{err:#}"))
            );
            ExitCode::from(2)
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<u8> {
    let top = &cli.top;
    match &cli.command {
        Command::Scan(args) => args.run(top),
        Command::PreCommit(args) => args.run(top),
        Command::History(args) => args.run(top),
        Command::PreReceive(args) => args.run(top),
        Command::PrePush(args) => args.run(top),
        Command::Fingerprint(args) => args.run(top),
        Command::Rules(args) => args.run(top),
        Command::Audit(args) => audit::run(top, args),
        Command::RevokePlan(args) => revoke_plan::run(top, args),
        Command::Install(args) => top.no_format("install").and_then(|()| args.run()),
        Command::Uninstall(args) => top.no_format("uninstall").and_then(|()| args.run()),
        Command::Completions(args) => {
            top.no_format("completions")?;
            args.run(Cli::command())
        }
        Command::Man(args) => {
            top.no_format("man")?;
            args.run(Cli::command())
        }
    }
}
