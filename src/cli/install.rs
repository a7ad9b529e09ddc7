//! `keyscan install` and `keyscan uninstall`: keyscan's git hooks.

use super::output::say;
use anyhow::Result;
use clap::ValueEnum;
use keyscan::git::hooks;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[allow(clippy::enum_variant_names)] // named as git names the hooks
enum Hook {
    PreCommit,
    PrePush,
    /// The server's hook: only with --server.
    PreReceive,
}

impl Hook {
    /// The hook asked for, else pre-receive with --server, else pre-commit.
    fn name(hook: Option<Hook>, server: bool) -> &'static str {
        match hook {
            Some(Hook::PreCommit) => "pre-commit",
            Some(Hook::PrePush) => "pre-push",
            Some(Hook::PreReceive) => "pre-receive",
            None if server => "pre-receive",
            None => "pre-commit",
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct InstallArgs {
    /// Which hook [default: pre-commit; pre-receive with --server].
    #[arg(long, value_enum)]
    hook: Option<Hook>,
    /// Replace an existing hook (it is kept as a backup and still run).
    #[arg(long)]
    force: bool,
    /// Install the pre-receive hook into this (bare) repository on a server.
    #[arg(long, value_name = "REPO")]
    server: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct UninstallArgs {
    /// Which hook [default: pre-commit; pre-receive with --server].
    #[arg(long, value_enum)]
    hook: Option<Hook>,
    /// Remove the pre-receive hook from this (bare) repository on a server.
    #[arg(long, value_name = "REPO")]
    server: Option<PathBuf>,
}

impl InstallArgs {
    pub fn run(&self) -> Result<u8> {
        let opts = hooks::InstallOptions {
            hook: Hook::name(self.hook, self.server.is_some()).to_string(),
            force: self.force,
            repo: self.server.clone(),
        };
        say(&hooks::install(&opts)?)?;
        Ok(0)
    }
}

impl UninstallArgs {
    pub fn run(&self) -> Result<u8> {
        let hook = Hook::name(self.hook, self.server.is_some());
        say(&hooks::uninstall(hook, self.server.as_deref())?)?;
        Ok(0)
    }
}
