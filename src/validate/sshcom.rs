//! TODO(validators helper): sshcom
use crate::finding::KeyInfo;
use crate::rules::unwrap::Armor;
pub fn validate(_armor: &Armor) -> KeyInfo {
    KeyInfo::unverified("?", "unknown", "not implemented")
}
