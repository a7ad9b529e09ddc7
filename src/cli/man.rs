//! `keyscan man`: roff man pages generated from the clap definitions, so
//! they list exactly the subcommands and flags the binary has.

use anyhow::{Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write keyscan.1 and one keyscan-SUBCOMMAND.1 page per subcommand here instead.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
}

impl ManArgs {
    pub fn run(&self, cmd: clap::Command) -> Result<u8> {
        write(cmd, self.out_dir.as_deref())?;
        Ok(0)
    }
}

/// The main page on standard output, or with `out_dir`, `keyscan.1` and
/// `keyscan-SUBCOMMAND.1` for every subcommand (the names the main page's
/// SUBCOMMANDS section refers to).
fn write(cmd: clap::Command, out_dir: Option<&Path>) -> Result<()> {
    let cmd = cmd.name("keyscan");
    let Some(dir) = out_dir else {
        let mut out = std::io::stdout().lock();
        clap_mangen::Man::new(cmd).render(&mut out)?;
        out.flush()?;
        return Ok(());
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut cmd = cmd;
    cmd.build();
    page(dir, "keyscan", cmd.clone())?;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("keyscan-{}", sub.get_name());
        page(dir, &name, sub.clone().name(name.clone()))?;
    }
    Ok(())
}

fn page(dir: &Path, name: &str, cmd: clap::Command) -> Result<()> {
    let path = dir.join(format!("{name}.1"));
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut buf)?;
    std::fs::write(&path, buf).with_context(|| format!("cannot write {}", path.display()))
}
