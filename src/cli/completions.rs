//! `keyscan completions`: a shell completion script from the clap definitions.

use anyhow::Result;
use std::io::Write;

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    shell: clap_complete::Shell,
}

impl CompletionsArgs {
    pub fn run(&self, mut cmd: clap::Command) -> Result<u8> {
        let mut out = std::io::stdout().lock();
        clap_complete::generate(self.shell, &mut cmd, "keyscan", &mut out);
        out.flush()?;
        Ok(0)
    }
}
