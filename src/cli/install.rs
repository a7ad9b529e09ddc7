//! `keyscan install` and `keyscan uninstall`: keyscan's git hooks.

use super::output::say;
use anyhow::Result;
use keyscan::git::hooks;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct InstallArgs {
    /// pre-commit or pre-push (pre-receive with --server).
    #[arg(long, default_value = "pre-commit")]
    hook: String,
    /// Replace an existing hook (it is kept as a backup and still run).
    #[arg(long)]
    force: bool,
    /// Install the pre-receive hook into this (bare) repository on a server.
    #[arg(long, value_name = "REPO")]
    server: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct UninstallArgs {
    #[arg(long, default_value = "pre-commit")]
    hook: String,
}

impl InstallArgs {
    pub fn run(&self) -> Result<u8> {
        let opts = hooks::InstallOptions {
            hook: if self.server.is_some() {
                "pre-receive".to_string()
            } else {
                self.hook.clone()
            },
            force: self.force,
            repo: self.server.clone(),
        };
        say(&hooks::install(&opts)?)?;
        Ok(0)
    }
}

impl UninstallArgs {
    pub fn run(&self) -> Result<u8> {
        say(&hooks::uninstall(&self.hook)?)?;
        Ok(0)
    }
}
