//! The server's policy for pre-receive: its configuration (never a file
//! from the pushed repository), what happens when the time limit is
//! reached (`fail_mode`), the repository allowlists a pushed
//! `.keyscan.toml` may hold (`allow_repo_config`), and the push-option
//! bypass (`allow_push_option_bypass`). It sees findings and strings; the
//! push source reads git and hands them over.

use super::allowlist;
use super::config::{Config, ServerSettings, FILE_NAME};
use crate::scan::finding::Finding;
use anyhow::{bail, Result};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

/// The server's configuration: `--config FILE`, else `$KEYSCAN_SERVER_CONFIG`,
/// else the built-in defaults. Never a file from the repository itself.
pub fn server_config(explicit: Option<&Path>) -> Result<Config> {
    if let Some(path) = explicit {
        return Config::load(path);
    }
    match std::env::var_os("KEYSCAN_SERVER_CONFIG").filter(|v| !v.is_empty()) {
        Some(path) => Config::load(Path::new(&path)),
        None => Config::defaults(),
    }
}

/// The longest `[server] time_limit` (a day): a push waits no longer.
pub const MAX_TIME_LIMIT: Duration = Duration::from_secs(86_400);

/// When the check must stop; `None` when the limit is beyond any clock.
pub fn deadline(started: Instant, limit: Duration) -> Option<Instant> {
    started.checked_add(limit)
}

/// The push ran out of time with `what` left unchecked. Failing closed,
/// that rejects the push (an error); failing open, it is a warning, and
/// only what was not checked goes through: `found` (keys in what was
/// checked) still block.
pub fn out_of_time(server: &ServerSettings, what: &str, found: &[Finding]) -> Result<String> {
    let secs = server.time_limit.as_secs_f64();
    let how = "push it in smaller parts (a few hundred commits at a time), or ask an \
               administrator to check it with `keyscan history` and raise [server] time_limit";
    if !server.fail_open {
        bail!("it is too large to check within the {secs} s limit ({what}); {how}");
    }
    let blocking = found.iter().filter(|f| f.blocking).count();
    let still = if blocking > 0 {
        "; the keys found in what was checked still block it"
    } else {
        ""
    };
    Ok(format!(
        "this push was NOT checked for private keys in full: it is too large to check within \
         the {secs} s limit ({what}) and the server lets what it could not check through \
         (fail_mode = \"open\"){still}; {how}"
    ))
}

/// Fingerprints allowed per ref by the `.keyscan.toml` in that ref's tree
/// (`allow_repo_config`).
#[derive(Debug, Default)]
pub struct RepoConfigs(HashMap<String, HashSet<String>>);

impl RepoConfigs {
    /// `configs`: (ref, text of the `.keyscan.toml` at the top of its tree).
    pub fn parse(configs: &[(String, String)]) -> Result<Self> {
        let mut allowed: HashMap<String, HashSet<String>> = HashMap::new();
        for (name, text) in configs {
            let origin = format!("{name}:{FILE_NAME}");
            let config = Config::parse(Path::new(&origin), text)?;
            let set = allowed.entry(name.clone()).or_default();
            for e in config
                .policy
                .allowlist
                .entries()
                .iter()
                .filter(|e| !e.expired)
            {
                set.insert(allowlist::normalize(&e.fingerprint));
            }
        }
        Ok(RepoConfigs(allowed))
    }

    /// Lets through each blocking finding on a ref whose own tree allows it.
    pub fn apply(&self, findings: &mut [Finding]) {
        for f in findings.iter_mut().filter(|f| f.blocking) {
            let on = f.commit.as_ref().and_then(|c| c.r#ref.as_deref());
            let Some(set) = on.and_then(|r| self.0.get(r)) else {
                continue;
            };
            if fingerprints(f)
                .iter()
                .any(|fp| set.contains(&allowlist::normalize(fp)))
            {
                f.blocking = false;
                f.note = Some(format!(
                    "allowed by {FILE_NAME} in the pushed tree (allow_repo_config)"
                ));
            }
        }
    }
}

fn fingerprints(f: &Finding) -> Vec<&str> {
    crate::scan::finding::fingerprint_forms(&f.fingerprint, &f.aws_fingerprints).collect()
}

/// The hosting services' variables that name who pushed, in order.
pub const PUSHER_VARIABLES: [&str; 4] = [
    "GL_USERNAME",
    "GITHUB_USER",
    "GITEA_PUSHER_NAME",
    "REMOTE_USER",
];

/// What the server knows about a push besides its objects.
#[derive(Debug, Default)]
pub struct PushContext {
    /// `git push -o` options.
    pub options: Vec<String>,
    /// (variable, user) from [`PUSHER_VARIABLES`], when one is set.
    pub pusher: Option<(String, String)>,
}

/// `git push -o keyscan.allow=FINGERPRINT` (when the server enables it):
/// that key passes. Returns an audit line for each key let through.
pub fn apply_push_option_bypass(push: &PushContext, findings: &mut [Finding]) -> Vec<String> {
    let wanted: HashSet<String> = push
        .options
        .iter()
        .filter_map(|o| o.strip_prefix("keyscan.allow="))
        .map(allowlist::normalize)
        .collect();
    let mut audit = Vec::new();
    if wanted.is_empty() {
        return audit;
    }
    for f in findings.iter_mut().filter(|f| f.blocking) {
        let Some(fp) = fingerprints(f)
            .into_iter()
            .find(|fp| wanted.contains(&allowlist::normalize(fp)))
            .map(str::to_string)
        else {
            continue;
        };
        let who = pusher(push, f);
        audit.push(audit_line(push, f, &fp, &who));
        f.blocking = false;
        f.note = Some(format!(
            "allowed by push option keyscan.allow, pushed by {who}"
        ));
    }
    audit
}

/// One audit record as a single JSON line (escaped, so nothing in a path
/// or a name can split it or forge another).
fn audit_line(push: &PushContext, f: &Finding, fp: &str, who: &str) -> String {
    let commit = f.commit.as_ref();
    let (pusher, source) = match &push.pusher {
        Some((var, user)) => (Some(user.as_str()), Some(var.as_str())),
        None => (None, None),
    };
    let record = serde_json::json!({
        "event": "push_option_bypass",
        "message": format!("{who} bypassed the check with push option keyscan.allow={fp}"),
        "pusher": pusher,
        "pusher_variable": source,
        "commit_author": commit.and_then(|c| c.author.as_deref()),
        "commit_author_email": commit.and_then(|c| c.email.as_deref()),
        "fingerprint": fp,
        "key_type": f.key_type,
        "path": f.path,
        "commit": commit.map(|c| c.id.as_str()),
        "ref": commit.and_then(|c| c.r#ref.as_deref()),
    });
    format!("keyscan: audit: {record}")
}

/// Who pushed: the hosting service's user variable; without one, nobody
/// knows (the commit's author is whatever the commit claims).
fn pusher(push: &PushContext, f: &Finding) -> String {
    if let Some((var, user)) = &push.pusher {
        return format!("{user} ({var})");
    }
    match f
        .commit
        .as_ref()
        .and_then(|c| c.author.as_ref().zip(c.email.as_ref()))
    {
        Some((name, email)) => format!("pusher unknown (commit author: {name} <{email}>)"),
        None => "pusher unknown".to_string(),
    }
}
