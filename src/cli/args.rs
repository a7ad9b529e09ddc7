//! Flags several subcommands share, and the one place a scanner is loaded.

use anyhow::Result;
use clap::ValueEnum;
use keyscan::policy::baseline::{self, Baseline};
use keyscan::policy::config::{Config, ServerSettings};
use keyscan::report::Format;
use keyscan::scan::Scanner;
use keyscan::source::push;
use std::path::PathBuf;

/// Options of the commands that scan and report (accepted by every
/// subcommand; each uses those that apply to it).
#[derive(Debug, Clone, clap::Args)]
pub struct Global {
    /// Output format.
    #[arg(long, global = true, value_enum, default_value = "human")]
    pub format: FormatArg,
    /// Config file (default: .keyscan.toml at the top of the work tree or here).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print only blocking findings and errors.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Colour human output (NO_COLOR is honoured by `auto`).
    #[arg(long, global = true, value_enum, default_value = "auto")]
    pub color: Color,
    /// Do not try common passphrases on encrypted keys.
    #[arg(long, global = true)]
    pub no_crack: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Human,
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitLab's secret-detection report (`gl-secret-detection-report.json`).
    Gitlab,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Human => Format::Human,
            FormatArg::Json => Format::Json,
            FormatArg::Sarif => Format::Sarif,
            FormatArg::Gitlab => Format::Gitlab,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

/// The baseline flags, for every command that reports findings.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BaselineArgs {
    /// Drop findings of keys recorded in this baseline file (see --write-baseline).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// With --baseline: a known key still blocks at a path the baseline does not list.
    #[arg(long, requires = "baseline")]
    pub baseline_strict: bool,
}

/// What `scan` and `history` can do besides reporting.
#[derive(Debug, Default, clap::Args)]
pub struct AuditArgs {
    /// Also list allowlist entries that matched nothing (exit 1 if any).
    #[arg(long)]
    pub check_config: bool,
    /// Record every key found in this baseline file (sorted JSON, no key material).
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
}

/// Which configuration a command reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigFrom {
    /// `--config`, else `.keyscan.toml` of the work tree or here.
    Work,
    /// `--config`, else `$KEYSCAN_SERVER_CONFIG`: never the repository's own.
    Server,
}

/// A scanner ready to run, with what the config adds around it.
pub struct Loaded {
    pub scanner: Scanner,
    pub baseline: Option<Baseline>,
    pub baseline_strict: bool,
    pub server: ServerSettings,
}

impl Global {
    /// config -> baseline -> scanner -> `--no-crack`: every scanning
    /// command loads here. `baseline`: the command's baseline flags, if it
    /// applies one (then the config's `[baseline]` applies too).
    pub fn load(&self, from: ConfigFrom, baseline: Option<&BaselineArgs>) -> Result<Loaded> {
        let config = match from {
            ConfigFrom::Work => Config::discover(self.config.as_deref())?,
            ConfigFrom::Server => push::server_config(self.config.as_deref())?,
        };
        let (baseline, baseline_strict) = match baseline {
            Some(args) => {
                baseline::resolve(args.baseline.as_deref(), args.baseline_strict, &config)?
            }
            None => (None, false),
        };
        let server = config.server.clone();
        let mut scanner = config.scanner();
        if self.no_crack {
            scanner.policy.crack = false;
        }
        Ok(Loaded {
            scanner,
            baseline,
            baseline_strict,
            server,
        })
    }
}
