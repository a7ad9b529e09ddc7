//! Flags several subcommands share, and the one place a scanner is loaded.

use anyhow::Result;
use clap::ValueEnum;
use keyscan::policy::baseline::{self, Baseline};
use keyscan::policy::config::{Config, ServerSettings};
use keyscan::policy::server;
use keyscan::policy::verdict::Finish;
use keyscan::report::Format;
use keyscan::scan::Scanner;
use std::path::PathBuf;

/// The options given before the subcommand (`keyscan --format json scan`).
/// Each subcommand takes those that apply to it after its name too, and
/// there they win.
#[derive(Debug, Clone, clap::Args)]
pub struct TopArgs {
    #[command(flatten)]
    report: ReportArgs,
    #[command(flatten)]
    load: LoadArgs,
}

/// How the commands that report findings print them.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ReportArgs {
    /// Output format [default: human].
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Print only blocking findings and errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Colour human output (NO_COLOR is honoured by `auto`) [default: auto].
    #[arg(long, value_enum)]
    pub color: Option<Color>,
}

/// What a scanner is loaded from.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LoadArgs {
    /// Config file (default: .keyscan.toml at the top of the work tree or here).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Do not try common passphrases on encrypted keys.
    #[arg(long)]
    pub no_crack: bool,
    /// KDF work the passphrase check may spend in the whole run, e.g. 30s
    /// for a deeper look (default 2s, 0.25s in history; or `[policy] crack_budget`).
    #[arg(long, value_name = "DURATION", value_parser = keyscan::validate::crack::parse_budget)]
    pub crack_budget: Option<std::time::Duration>,
}

/// The options a command runs with: its own flags, else those given
/// before the subcommand.
#[derive(Debug, Clone)]
pub struct Options {
    pub format: FormatArg,
    pub config: Option<PathBuf>,
    pub quiet: bool,
    pub color: Color,
    pub no_crack: bool,
    pub crack_budget: Option<std::time::Duration>,
}

impl TopArgs {
    pub fn with(&self, report: &ReportArgs, load: &LoadArgs) -> Options {
        Options {
            format: (report.format.or(self.report.format)).unwrap_or(FormatArg::Human),
            config: load.config.clone().or_else(|| self.load.config.clone()),
            quiet: report.quiet || self.report.quiet,
            color: (report.color.or(self.report.color)).unwrap_or(Color::Auto),
            no_crack: load.no_crack || self.load.no_crack,
            crack_budget: load.crack_budget.or(self.load.crack_budget),
        }
    }

    /// For a command that prints no report: a `--format` other than human
    /// given before it is a mistake, not a wish to ignore.
    pub fn no_format(&self, command: &str) -> Result<()> {
        match self.report.format {
            Some(f) if f != FormatArg::Human => anyhow::bail!(
                "--format {} does not apply to `keyscan {command}` (only to the commands that report: scan, pre-commit, history, pre-push, pre-receive, fingerprint, rules)",
                f.name()
            ),
            _ => Ok(()),
        }
    }
}

/// Human or JSON: for the listings of `fingerprint` and `rules`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Default, clap::Args)]
pub struct ListFormatArgs {
    /// Output format [default: human].
    #[arg(long, value_enum)]
    pub format: Option<ListFormat>,
}

impl ListFormatArgs {
    /// This flag, else a human or json `--format` given before `command`.
    pub fn resolve(&self, top: &TopArgs, command: &str) -> Result<ListFormat> {
        match (self.format, top.report.format) {
            (Some(f), _) => Ok(f),
            (None, None | Some(FormatArg::Human)) => Ok(ListFormat::Human),
            (None, Some(FormatArg::Json)) => Ok(ListFormat::Json),
            (None, Some(other)) => anyhow::bail!(
                "keyscan {command} prints human or json, not {}",
                other.name()
            ),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Human,
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitLab's secret-detection report (`gl-secret-detection-report.json`).
    Gitlab,
    /// Markdown (revoke-plan only).
    Markdown,
}

impl FormatArg {
    /// As it is spelled on the command line.
    pub fn name(self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_string())
            .unwrap_or_default()
    }
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

/// The flags of a command that checks for keys and reports them.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub baseline: BaselineArgs,
    #[command(flatten)]
    pub report: ReportArgs,
    #[command(flatten)]
    pub load: LoadArgs,
}

impl CheckArgs {
    /// This command's options under the top-level flags.
    pub fn options(&self, top: &TopArgs) -> Options {
        top.with(&self.report, &self.load)
    }

    /// Those options, and the scanner loaded from the work tree's config.
    pub fn load(&self, top: &TopArgs) -> Result<(Options, Loaded)> {
        let options = self.options(top);
        let loaded = options.load(ConfigFrom::Work, Some(&self.baseline))?;
        Ok((options, loaded))
    }
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

impl AuditArgs {
    /// How the run ends: with these flags, no baseline yet.
    pub fn finish(&self) -> Finish<'_> {
        Finish {
            write_baseline: self.write_baseline.as_deref(),
            check_config: self.check_config,
            ..Finish::default()
        }
    }
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
    /// When loading began: a hook's time limit counts from here.
    pub started: std::time::Instant,
}

impl Options {
    /// config -> baseline -> scanner -> `--no-crack`, `--crack-budget`: every scanning
    /// command loads here. `baseline`: the command's baseline flags, if it
    /// applies one (then the config's `[baseline]` applies too).
    pub fn load(&self, from: ConfigFrom, baseline: Option<&BaselineArgs>) -> Result<Loaded> {
        let started = std::time::Instant::now();
        let config = match from {
            ConfigFrom::Work => Config::discover(self.config.as_deref())?,
            ConfigFrom::Server => server::server_config(self.config.as_deref())?,
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
        if let Some(budget) = self.crack_budget {
            scanner.policy.crack_budget = budget;
            scanner.policy.crack_budget_set = true;
        }
        Ok(Loaded {
            scanner,
            baseline,
            baseline_strict,
            server,
            started,
        })
    }
}
