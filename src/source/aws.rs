//! Saved AWS CLI output for `keyscan revoke-plan`: `aws ec2
//! describe-key-pairs --output json` and `aws ec2 describe-instances
//! --output json`. Anything else is a clear error naming the file.

use anyhow::{anyhow, Result};
use serde::Deserialize;
use std::path::Path;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyPair {
    pub key_pair_id: String,
    pub key_name: String,
    pub key_fingerprint: String,
    #[serde(default)]
    pub key_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyPairs {
    key_pairs: Vec<KeyPair>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Instance {
    pub instance_id: String,
    #[serde(default)]
    pub key_name: Option<String>,
    #[serde(default)]
    pub state: Option<State>,
    #[serde(default)]
    pub platform_details: Option<String>,
    #[serde(default)]
    pub public_dns_name: Option<String>,
    #[serde(default)]
    pub private_ip_address: Option<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct State {
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    pub value: String,
}

impl Instance {
    /// The `Name` tag.
    pub fn name(&self) -> Option<&str> {
        (self.tags.iter())
            .find(|t| t.key == "Name")
            .map(|t| t.value.as_str())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Reservations {
    reservations: Vec<Reservation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Reservation {
    instances: Vec<Instance>,
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| anyhow!("cannot read {}: {e}", path.display()))
}

/// The key pairs in a saved `describe-key-pairs`.
pub fn key_pairs(path: &Path) -> Result<Vec<KeyPair>> {
    let parsed: KeyPairs = serde_json::from_slice(&read(path)?).map_err(|e| {
        anyhow!(
            "{}: not the JSON of `aws ec2 describe-key-pairs --output json` \
             (a KeyPairs list with KeyPairId, KeyName, KeyFingerprint): {e}",
            path.display()
        )
    })?;
    Ok(parsed.key_pairs)
}

/// The instances in a saved `describe-instances`.
pub fn instances(path: &Path) -> Result<Vec<Instance>> {
    let parsed: Reservations = serde_json::from_slice(&read(path)?).map_err(|e| {
        anyhow!(
            "{}: not the JSON of `aws ec2 describe-instances --output json` \
             (Reservations with Instances): {e}",
            path.display()
        )
    })?;
    Ok(parsed
        .reservations
        .into_iter()
        .flat_map(|r| r.instances)
        .collect())
}
