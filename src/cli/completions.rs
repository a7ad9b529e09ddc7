//! `keyscan completions`: a shell completion script from the clap definitions.

use anyhow::Result;
use std::io::Write;

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell the script is for.
    shell: clap_complete::Shell,
}

impl CompletionsArgs {
    pub fn run(&self, mut cmd: clap::Command) -> Result<u8> {
        // clap_complete panics on a failed write: write it out ourselves.
        let mut script = Vec::new();
        clap_complete::generate(self.shell, &mut cmd, "keyscan", &mut script);
        let mut out = std::io::stdout().lock();
        out.write_all(&script)?;
        out.flush()?;
        Ok(0)
    }
}
