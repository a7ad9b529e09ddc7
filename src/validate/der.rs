//! TODO(validators helper): der
use crate::finding::KeyInfo;
pub fn validate(_bytes: &[u8]) -> Option<KeyInfo> {
    None
}
