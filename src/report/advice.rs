//! What to do about a key that was found: the same advice in every format,
//! ordered by the mode (a blocked commit has not leaked yet; a scan or a
//! history finding may have).

use super::Mode;
use crate::scan::finding::Finding;

/// Getting rid of the key's use altogether: said next to rotation.
const KEYLESS: &str = "Make the key unnecessary where you can: EC2 Instance Connect \
(`aws ec2-instance-connect ssh`) or AWS Systems Manager Session Manager \
(`aws ssm start-session`) give shell access without a long-lived key, and CI \
can use its secret store or OIDC instead of a key in the repository.";

const ROTATE: &str = "Rotate the key: once it has left your machine it cannot be \
un-leaked, so make a new key pair, remove the old public key from every \
authorized_keys (grep for its fingerprint or public key line) and, for an EC2 \
key pair, find it by its AWS fingerprint in `aws ec2 describe-key-pairs` and \
delete it.";

const ROTATE_IF_SHARED: &str = "If this key was ever pushed, shared or copied \
elsewhere, rotate it: make a new key pair, remove the old public key from every \
authorized_keys (grep for its fingerprint or public key line) and, for an EC2 \
key pair, find it by its AWS fingerprint in `aws ec2 describe-key-pairs` and \
delete it.";

const REMOVE: &str = "Take the file out of the repository (`git rm --cached FILE`) \
and add it to .gitignore; rewriting history hides it but does not un-leak it.";

const REMOVE_FROM_HISTORY: &str = "Delete the file where it is still in a branch \
(`git rm`), and add it to .gitignore. Rewriting history (`git filter-repo --invert-paths --path FILE`) \
hides old copies but does not un-leak them: rotate first.";

fn revoke(key_id: &str, only_if_shared: bool) -> String {
    let lead = if only_if_shared {
        "If this PGP key was ever pushed, shared or published, revoke it"
    } else {
        "Revoke the PGP key"
    };
    format!(
        "{lead} and publish the revocation: \
`gpg --gen-revoke {key_id} > revoke.asc`, `gpg --import revoke.asc`, then \
`gpg --send-keys {key_id}` to the keyservers (and re-upload the revoked \
public key wherever else you published it)."
    )
}

fn is_pgp(f: &Finding) -> bool {
    f.format.contains("PGP") || f.rule.starts_with("pgp")
}

/// The fingerprint `.keyscan.toml` would allowlist a finding by.
pub fn allowlist_fingerprint(f: &Finding) -> Option<&str> {
    let aws = &f.aws_fingerprints;
    f.fingerprint
        .as_deref()
        .or(aws.sha1_pkcs8.as_deref())
        .or(aws.md5_spki.as_deref())
        .or(aws.sha256.as_deref())
}

fn allowlist(findings: &[&Finding]) -> Option<String> {
    // Each key once, in the order found, however many places hold it.
    let mut seen = std::collections::HashSet::new();
    let fps: Vec<&str> = findings
        .iter()
        .filter_map(|f| allowlist_fingerprint(f))
        .filter(|fp| seen.insert(*fp))
        .collect();
    if fps.is_empty() {
        return None;
    }
    let list = fps
        .iter()
        .map(|fp| format!("\"{fp}\""))
        .collect::<Vec<_>>()
        .join(", ");
    Some(format!(
        "If it is a test fixture that is meant to be public, allow this key (not \
the path) by its fingerprint in .keyscan.toml, so it stays allowed when it moves \
while any other key still blocks:\n\n    [allowlist]\n    fingerprints = [{list}]"
    ))
}

/// The steps for these (blocking) findings, most urgent first.
pub fn steps(mode: Mode, findings: &[&Finding]) -> Vec<String> {
    let pgp = findings.iter().find(|f| is_pgp(f));
    let other = findings.iter().any(|f| !is_pgp(f));
    let mut steps = Vec::new();
    // In a hook the key has not landed yet: taking it out comes first.
    let hook = matches!(mode, Mode::PreCommit | Mode::PrePush | Mode::PreReceive);
    if hook {
        let paths = unique_paths(findings);
        steps.push(match mode {
            Mode::PreCommit => format!(
                "Unstage it: `git rm --cached {paths}` (or `git restore --staged {paths}`), \
and add it to .gitignore."
            ),
            _ => format!(
                "Take it out of the commits you are pushing (`git commit --amend` for the last one, \
`git rebase -i` or `git filter-repo` for older ones) so that no commit holds {paths}, add it \
to .gitignore, then push again."
            ),
        });
        // On the server the pusher's own .keyscan.toml does not count by default.
        if mode != Mode::PreReceive {
            steps.extend(allowlist(findings));
        }
        if other && mode == Mode::PreReceive {
            // It has left the pusher's machine: it may already be copied.
            steps.push(ROTATE.to_string());
            steps.push(KEYLESS.to_string());
        } else if other {
            steps.push(ROTATE_IF_SHARED.to_string());
            steps.push(KEYLESS.to_string());
        }
    } else {
        if other {
            steps.push(ROTATE.to_string());
            steps.push(KEYLESS.to_string());
        }
        if mode == Mode::History {
            steps.push(REMOVE_FROM_HISTORY.to_string());
            steps.extend(allowlist(findings));
        } else {
            steps.extend(remove_from_disk(findings));
            // A fingerprint allowlist is for files a scan meets again.
            let files: Vec<&Finding> = findings.iter().copied().filter(|f| !is_stdin(f)).collect();
            steps.extend(allowlist(&files));
        }
    }
    if let Some(f) = pgp {
        let key_id = f
            .fingerprint
            .as_deref()
            .map_or_else(|| "KEYID".to_string(), |fp| fp.replace(' ', ""));
        // Before everything after a scan (it may have leaked); after the
        // unstaging and the allowlist in a hook (it has not yet).
        let at = if hook { steps.len() } else { 0 };
        steps.insert(at, revoke(&key_id, hook));
    }
    steps
}

fn is_stdin(f: &Finding) -> bool {
    f.path == "<stdin>" && f.raw_path.is_none()
}

/// `scan`: getting the key out of where it is, by where that is: a file in
/// a git work tree, a file elsewhere on disk, or standard input.
fn remove_from_disk(findings: &[&Finding]) -> Vec<String> {
    let pick = |want: fn(&Finding) -> bool| -> Vec<&Finding> {
        findings.iter().copied().filter(|f| want(f)).collect()
    };
    let in_repo = pick(|f| !is_stdin(f) && !f.outside_git);
    let on_disk = pick(|f| !is_stdin(f) && f.outside_git);
    let mut steps = Vec::new();
    if !in_repo.is_empty() {
        steps.push(format!(
            "Take the file out of the repository (`git rm --cached {}`) and add it to \
.gitignore; rewriting history hides it but does not un-leak it.",
            unique_paths(&in_repo)
        ));
    }
    if !on_disk.is_empty() {
        steps.push(format!(
            "Delete the key file if nothing needs it (`rm {}`), or keep it where only you \
can read it (`~/.ssh/`, `chmod 600`) or in a secret manager; make sure no backup, sync \
or repository took a copy.",
            unique_paths(&on_disk)
        ));
    }
    if findings.iter().any(|f| is_stdin(f)) {
        steps.push(
            "The key came in on standard input: remove it where that input came from \
(the file, paste, log or clipboard history that holds it)."
                .to_string(),
        );
    }
    steps
}

fn unique_paths(findings: &[&Finding]) -> String {
    let mut paths: Vec<&[u8]> = findings.iter().map(|f| f.path_bytes()).collect();
    paths.sort_unstable();
    paths.dedup();
    paths
        .iter()
        .map(|p| super::escape::shell_word(p))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Generic remediation for a rule, for report formats that carry help per
/// rule rather than per finding (SARIF, GitLab), as Markdown.
pub fn rule_help_markdown(rule: &str) -> String {
    let mut md = String::from(
        "A private key was found. keyscan parsed it, so `valid` and `encrypted` \
findings are real keys (an encrypted key can be cracked offline).\n\n",
    );
    let steps: Vec<String> = if rule.starts_with("pgp") {
        vec![revoke("KEYID", false), REMOVE.to_string()]
    } else {
        vec![ROTATE.to_string(), KEYLESS.to_string(), REMOVE.to_string()]
    };
    for (i, s) in steps.iter().enumerate() {
        md.push_str(&format!("{}. {s}\n", i + 1));
    }
    md.push_str(&format!(
        "{}. A test fixture that is meant to be public can be allowed by its key fingerprint \
in `.keyscan.toml` (`[allowlist] fingerprints = [\"SHA256:...\"]`), so it stays allowed when it \
moves while any other key still blocks.\n",
        steps.len() + 1
    ));
    md
}

/// The same help as plain text (Markdown backticks dropped).
pub fn rule_help_text(rule: &str) -> String {
    rule_help_markdown(rule).replace('`', "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(path: &str, format: &str, fp: &str) -> Finding {
        Finding {
            rule: if format == "OpenPGP" {
                "pgp-private-key".into()
            } else {
                "openssh-private-key".into()
            },
            format: format.into(),
            fingerprint: Some(fp.into()),
            ..Finding::sample(path)
        }
    }

    #[test]
    fn pre_commit_advice_unstages_allowlists_and_names_keyless_access() {
        let f = finding("my key.pem", "OpenSSH", "SHA256:abc");
        let steps = steps(Mode::PreCommit, &[&f]);
        assert!(
            steps[0].contains("git rm --cached 'my key.pem'"),
            "{steps:?}"
        );
        assert!(steps[1].contains("fingerprints = [\"SHA256:abc\"]"));
        let all = steps.join("\n");
        assert!(all.contains("EC2 Instance Connect") && all.contains("Session Manager"));
        assert!(all.contains("rotate it"));
        assert!(!all.contains("gpg"));
    }

    #[test]
    fn a_pgp_key_is_revoked_not_removed_from_authorized_keys() {
        let f = finding("k.asc", "OpenPGP", "ABCD1234");
        let steps = steps(Mode::PreCommit, &[&f]);
        let all = steps.join("\n");
        assert!(all.contains("gpg --gen-revoke ABCD1234"), "{all}");
        assert!(all.contains("--send-keys"));
        assert!(!all.contains("Rotate the key") && !all.contains("rotate it"));
        assert!(!all.contains("EC2") && !all.contains("authorized_keys"));
    }

    #[test]
    fn scan_advice_starts_with_rotation() {
        let f = finding("a.pem", "PKCS#8", "SHA256:x");
        let steps = steps(Mode::Scan, &[&f]);
        assert!(steps[0].starts_with("Rotate"));
    }
}
