//! `keyscan revoke-plan`: for each leaked key, every place it still opens
//! (`authorized_keys` lines, EC2 key pairs, the instances launched with
//! them) and the command that closes each, plus keyless alternatives.
//! Pure: inputs are already read; nothing here runs or writes anything.
//! A module of its own in `policy` because it decides what to do with
//! what the sources found, as the verdict does for findings.

use crate::scan::finding::AwsFingerprints;
use crate::source::aws::{Instance, KeyPair};
use serde::Serialize;
use std::collections::BTreeMap;

/// A key that got out, from a report or a key file.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LeakedKey {
    pub fingerprint: String,
    /// `type base64` (no comment); needed to find `authorized_keys` lines.
    pub public_key: Option<String>,
    pub aws_fingerprints: AwsFingerprints,
    /// Where it was found (`path:line`, with the commit in git reports).
    pub found_in: Vec<String>,
}

impl LeakedKey {
    fn blob(&self) -> Option<&str> {
        self.public_key.as_deref()?.split_whitespace().nth(1)
    }
}

/// An `authorized_keys` line: from a file given on the command line
/// (`host` is `None`: this machine) or from an audit report.
#[derive(Debug, Clone, Serialize)]
pub struct AuthLine {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The path on that host.
    pub path: String,
    pub line: usize,
    pub options: Vec<String>,
    pub comment: String,
    #[serde(skip)]
    pub blob: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuthStep {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    pub path: String,
    pub lines: Vec<usize>,
    pub options: Vec<Vec<String>>,
    /// Removes exactly the lines holding this key; keeps `PATH.keyscan.bak`.
    pub command: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PairStep {
    pub key_pair_id: String,
    pub key_name: String,
    pub key_fingerprint: String,
    /// Which AWS fingerprint form matched.
    pub matched_as: String,
    pub command: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct InstanceStep {
    pub instance_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub key_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Through Session Manager: needs no SSH key.
    pub ssm_command: String,
    /// Through EC2 Instance Connect: a one-minute key instead of the leaked one.
    pub instance_connect_command: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct KeyPlan {
    pub fingerprint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    pub found_in: Vec<String>,
    pub authorized_keys: Vec<AuthStep>,
    pub key_pairs: Vec<PairStep>,
    pub instances: Vec<InstanceStep>,
    /// Why some places could not be checked (e.g. no public half known).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Plan {
    pub keys: Vec<KeyPlan>,
    /// Said once for the whole plan.
    pub instances_note: Option<String>,
    pub alternatives: Vec<Alternative>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Alternative {
    pub name: &'static str,
    pub what: &'static str,
    pub how: &'static str,
}

/// What the plan is made from.
#[derive(Debug, Default)]
pub struct Inputs {
    pub keys: Vec<LeakedKey>,
    pub authorized: Vec<AuthLine>,
    pub key_pairs: Option<Vec<KeyPair>>,
    pub instances: Option<Vec<Instance>>,
    pub warnings: Vec<String>,
}

pub const INSTANCES_NOTE: &str =
    "Deleting an EC2 key pair does not remove its public key from the \
instances launched with it: the key stays in ~/.ssh/authorized_keys on each of them and keeps \
opening them until it is removed there.";

pub fn alternatives() -> Vec<Alternative> {
    vec![
        Alternative {
            name: "EC2 Instance Connect",
            what: "a key pushed for 60 seconds, allowed by IAM, instead of a long-lived key",
            how: "aws ec2-instance-connect ssh --instance-id INSTANCE_ID",
        },
        Alternative {
            name: "Session Manager",
            what: "a shell through the SSM agent: no key, no open port, logged",
            how: "aws ssm start-session --target INSTANCE_ID",
        },
        Alternative {
            name: "short-lived SSH certificates",
            what: "sshd trusts a CA (TrustedUserCAKeys); users get certificates valid for hours",
            how: "ssh-keygen -s ca_key -I USER -n USER -V +8h id_ed25519.pub",
        },
        Alternative {
            name: "CI OIDC",
            what: "CI jobs assume a cloud role with their OIDC token instead of holding a key",
            how: "GitHub Actions: permissions id-token: write, then \
                  aws-actions/configure-aws-credentials with role-to-assume",
        },
    ]
}

/// Build the plan. Keys are joined by fingerprint.
pub fn plan(inputs: Inputs) -> Plan {
    let mut by_fp: BTreeMap<String, LeakedKey> = BTreeMap::new();
    for k in inputs.keys {
        let have = by_fp
            .entry(k.fingerprint.clone())
            .or_insert_with(|| LeakedKey {
                fingerprint: k.fingerprint.clone(),
                ..LeakedKey::default()
            });
        if have.public_key.is_none() {
            have.public_key = k.public_key;
        }
        have.aws_fingerprints.merge(&k.aws_fingerprints);
        for f in k.found_in {
            if !have.found_in.contains(&f) {
                have.found_in.push(f);
            }
        }
    }
    let mut out = Plan {
        warnings: inputs.warnings,
        ..Plan::default()
    };
    for key in by_fp.into_values() {
        let mut kp = KeyPlan {
            fingerprint: key.fingerprint.clone(),
            public_key: key.public_key.clone(),
            found_in: key.found_in.clone(),
            authorized_keys: authorized_steps(&key, &inputs.authorized),
            key_pairs: Vec::new(),
            instances: Vec::new(),
            notes: Vec::new(),
        };
        if key.blob().is_none() {
            kp.notes.push(
                "the public half of this key is unknown (its format encrypts it): \
                 authorized_keys lines cannot be matched"
                    .into(),
            );
        }
        if let Some(pairs) = &inputs.key_pairs {
            kp.key_pairs = pair_steps(&key, pairs, &mut kp.notes);
        }
        if let Some(instances) = &inputs.instances {
            kp.instances = instance_steps(&key, &kp.key_pairs, instances);
        }
        out.keys.push(kp);
    }
    if out.keys.iter().any(|k| !k.instances.is_empty()) {
        out.instances_note = Some(INSTANCES_NOTE.into());
    }
    if !out.keys.is_empty() {
        out.alternatives = alternatives();
    }
    out
}

/// Lines holding the key's blob, grouped by file, each file with one command.
fn authorized_steps(key: &LeakedKey, lines: &[AuthLine]) -> Vec<AuthStep> {
    let Some(blob) = key.blob() else {
        return Vec::new();
    };
    let mut steps: Vec<AuthStep> = Vec::new();
    for l in lines.iter().filter(|l| l.blob == blob) {
        let same = |s: &&mut AuthStep| s.host == l.host && s.path == l.path;
        match steps.iter_mut().find(same) {
            Some(s) => {
                if !s.lines.contains(&l.line) {
                    s.lines.push(l.line);
                    s.options.push(l.options.clone());
                }
            }
            None => steps.push(AuthStep {
                host: l.host.clone(),
                path: l.path.clone(),
                lines: vec![l.line],
                options: vec![l.options.clone()],
                command: remove_command(blob, &l.path),
            }),
        }
    }
    steps
}

/// `sed` that deletes every line whose key is `blob` (the blob as a whole
/// word, so options and comments do not matter), keeping `PATH.keyscan.bak`;
/// every other line is left byte for byte. GNU and BSD sed both take it.
pub fn remove_command(blob: &str, path: &str) -> String {
    format!(
        "sed -i.keyscan.bak {} {}",
        sed_script(blob),
        shell_quote(path)
    )
}

/// The sed script (single-quoted) of `remove_command`. Base64 never holds
/// `#` or a quote, so neither needs escaping.
fn sed_script(blob: &str) -> String {
    format!("'\\#[[:space:]]{blob}\\([[:space:]].*\\)\\{{0,1\\}}$#d'")
}

pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+=:@,".contains(&b))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn pair_steps(key: &LeakedKey, pairs: &[KeyPair], notes: &mut Vec<String>) -> Vec<PairStep> {
    let aws = &key.aws_fingerprints;
    let forms = [
        (
            &aws.sha1_pkcs8,
            "RSA key pair AWS created: SHA-1 of the PKCS#8 private key",
        ),
        (&aws.md5_spki, "imported RSA key: MD5 of the public key DER"),
        (&aws.sha256, "ED25519 key pair: SHA-256 of the public key"),
    ];
    let norm = |s: &str| s.trim().trim_end_matches('=').to_ascii_lowercase();
    let mut steps = Vec::new();
    for pair in pairs {
        let theirs = norm(&pair.key_fingerprint);
        let hit = forms
            .iter()
            .find(|(mine, _)| mine.as_deref().is_some_and(|m| norm(m) == theirs));
        if let Some((_, how)) = hit {
            steps.push(PairStep {
                key_pair_id: pair.key_pair_id.clone(),
                key_name: pair.key_name.clone(),
                key_fingerprint: pair.key_fingerprint.clone(),
                matched_as: how.to_string(),
                command: format!(
                    "aws ec2 delete-key-pair --key-pair-id {}",
                    shell_quote(&pair.key_pair_id)
                ),
            });
        }
    }
    if aws.sha1_pkcs8.is_none() && aws.md5_spki.is_some() {
        notes.push(
            "only the public half is known: a key pair AWS created for this RSA key \
             (SHA-1 of the private key) cannot be matched"
                .into(),
        );
    }
    steps
}

fn instance_steps(
    key: &LeakedKey,
    pairs: &[PairStep],
    instances: &[Instance],
) -> Vec<InstanceStep> {
    let blob = key.blob().unwrap_or("PUBLIC_KEY_BLOB");
    instances
        .iter()
        .filter_map(|i| {
            let name = i.key_name.as_deref()?;
            pairs.iter().find(|p| p.key_name == name)?;
            Some(InstanceStep {
                instance_id: i.instance_id.clone(),
                name: i.name().map(String::from),
                key_name: name.to_string(),
                state: i.state.as_ref().map(|s| s.name.clone()),
                ssm_command: ssm_command(&i.instance_id, blob),
                instance_connect_command: instance_connect_command(i, blob),
            })
        })
        .collect()
}

/// The remote shell line that removes the key from every home's file.
fn remote_removal(blob: &str) -> String {
    format!(
        "for f in /root/.ssh/authorized_keys /home/*/.ssh/authorized_keys; do [ -f \"$f\" ] && \
         sed -i.keyscan.bak \"\\#[[:space:]]{blob}\\([[:space:]].*\\)\\{{0,1\\}}\\$#d\" \"$f\"; done"
    )
}

fn ssm_command(instance: &str, blob: &str) -> String {
    let params = serde_json::json!({ "commands": [remote_removal(blob)] }).to_string();
    format!(
        "aws ssm send-command --instance-ids {} --document-name AWS-RunShellScript \
         --comment 'keyscan revoke-plan: remove a leaked key' --parameters {}",
        shell_quote(instance),
        shell_quote(&params)
    )
}

/// Push a fresh one-minute key with EC2 Instance Connect, then use it.
fn instance_connect_command(i: &Instance, blob: &str) -> String {
    let host = (i.public_dns_name.as_deref().filter(|h| !h.is_empty()))
        .or(i.private_ip_address.as_deref())
        .unwrap_or("HOST");
    let remote = format!("sudo sh -c {}", shell_quote(&remote_removal(blob)));
    format!(
        "ssh-keygen -q -t ed25519 -N '' -f eic-key && \
         aws ec2-instance-connect send-ssh-public-key --instance-id {} \
         --instance-os-user ec2-user --ssh-public-key file://eic-key.pub && \
         ssh -i eic-key ec2-user@{} {}",
        shell_quote(&i.instance_id),
        shell_quote(host),
        shell_quote(&remote)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_the_removal_command() {
        assert_eq!(
            shell_quote("/home/a/.ssh/authorized_keys"),
            "/home/a/.ssh/authorized_keys"
        );
        assert_eq!(shell_quote("it's here"), "'it'\\''s here'");
        assert_eq!(
            remove_command("AAAAx+/=", "a b"),
            "sed -i.keyscan.bak '\\#[[:space:]]AAAAx+/=\\([[:space:]].*\\)\\{0,1\\}$#d' 'a b'"
        );
    }

    #[test]
    fn aws_forms_match_case_and_padding_blind() {
        let key = LeakedKey {
            fingerprint: "SHA256:x".into(),
            aws_fingerprints: AwsFingerprints {
                sha256: Some("abc=".into()),
                md5_spki: Some("AA:BB".into()),
                ..AwsFingerprints::default()
            },
            ..LeakedKey::default()
        };
        let pair = |id: &str, fp: &str| KeyPair {
            key_pair_id: id.into(),
            key_name: id.into(),
            key_fingerprint: fp.into(),
            key_type: None,
        };
        let pairs = [pair("k1", "abc"), pair("k2", "aa:bb"), pair("k3", "cc:dd")];
        let mut notes = Vec::new();
        let steps = pair_steps(&key, &pairs, &mut notes);
        let ids: Vec<&str> = steps.iter().map(|s| s.key_pair_id.as_str()).collect();
        assert_eq!(ids, ["k1", "k2"]);
        assert_eq!(
            notes.len(),
            1,
            "an RSA public half cannot match AWS-created pairs"
        );
    }
}
