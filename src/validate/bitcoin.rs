//! Bitcoin private keys: WIF (Base58Check, version 0x80 or 0xef, 32 bytes
//! and an optional 0x01 compression flag) and BIP32 extended private keys
//! (xprv/tprv and SLIP-132 yprv/zprv: Base58Check of 78 bytes). Both are
//! checked down to the secp256k1 scalar. WIF shows its public key in hex
//! (compressed or not, as the flag says); BIP32 its extended public key.

use super::base58;
use super::Format;
use crate::rules::Validator;
use crate::scan::finding::{KeyInfo, Status};

pub const FORMAT: Format = Format {
    validator: Validator::Bitcoin,
    validate: |c| validate(std::str::from_utf8(&c.bytes).ok()?.trim()),
    lock: super::no_lock,
    redact: |c, _, via| {
        let head = String::from_utf8_lossy(&c.bytes[..c.bytes.len().min(4)]).into_owned();
        format!("{head}... [redacted]{via}")
    },
    placeholders: false,
};

/// Extended private key versions and their public counterparts.
const BIP32: &[([u8; 4], [u8; 4])] = &[
    ([0x04, 0x88, 0xad, 0xe4], [0x04, 0x88, 0xb2, 0x1e]), // xprv, xpub
    ([0x04, 0x35, 0x83, 0x94], [0x04, 0x35, 0x87, 0xcf]), // tprv, tpub
    ([0x04, 0x9d, 0x78, 0x78], [0x04, 0x9d, 0x7c, 0xb2]), // yprv, ypub
    ([0x04, 0xb2, 0x43, 0x0c], [0x04, 0xb2, 0x47, 0x46]), // zprv, zpub
    ([0x04, 0x4a, 0x4e, 0x28], [0x04, 0x4a, 0x52, 0x62]), // uprv, upub
    ([0x04, 0x5f, 0x18, 0xbc], [0x04, 0x5f, 0x1c, 0xf6]), // vprv, vpub
];

/// The secp256k1 public key of a scalar (SEC1, compressed or not); `None`
/// when the scalar is zero or not below the group order.
pub fn secp256k1_public(scalar: &[u8], compressed: bool) -> Option<Vec<u8>> {
    use k256::elliptic_curve::sec1::ToSec1Point;
    let secret = k256::SecretKey::from_slice(scalar).ok()?;
    Some(
        secret
            .public_key()
            .to_sec1_point(compressed)
            .as_bytes()
            .to_vec(),
    )
}

pub fn validate(text: &str) -> Option<KeyInfo> {
    let payload = base58::decode_check(text)?;
    if payload.len() == 78 {
        return extended(&payload);
    }
    let (&version, rest) = payload.split_first()?;
    if version != 0x80 && version != 0xef {
        return None;
    }
    let (scalar, compressed) = match rest.len() {
        32 => (rest, false),
        33 if rest[32] == 1 => (&rest[..32], true),
        _ => return None,
    };
    let public = secp256k1_public(scalar, compressed)?;
    let net = if version == 0x80 { "" } else { " (testnet)" };
    let mut info = KeyInfo::new(Status::Valid, "Bitcoin WIF", format!("secp256k1{net}"));
    let hex: String = public.iter().map(|b| format!("{b:02x}")).collect();
    info.fingerprint = Some(hex.clone());
    info.public_key = Some(hex);
    Some(info)
}

/// BIP32: version, depth, parent fingerprint, child number, chain code,
/// 0x00 and the 32-byte key.
fn extended(payload: &[u8]) -> Option<KeyInfo> {
    let public_version = BIP32.iter().find(|(v, _)| payload[..4] == *v)?.1;
    let (depth, parent, child) = (payload[4], &payload[5..9], &payload[9..13]);
    if payload[45] != 0 || (depth == 0 && (parent != [0; 4] || child != [0; 4])) {
        return None;
    }
    let public = secp256k1_public(&payload[46..78], true)?;
    let mut xpub = public_version.to_vec();
    xpub.extend_from_slice(&payload[4..45]);
    xpub.extend_from_slice(&public);
    let xpub = base58::encode_check(&xpub);
    let mut info = KeyInfo::new(Status::Valid, "BIP32", "secp256k1 extended private key");
    info.fingerprint = Some(xpub.clone());
    info.public_key = Some(xpub);
    Some(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_versions_and_scalars_are_no_key() {
        let mut payload = vec![0x80];
        payload.extend([0u8; 32]);
        assert!(validate(&base58::encode_check(&payload)).is_none());
        payload[0] = 0x00;
        payload[32] = 1;
        assert!(validate(&base58::encode_check(&payload)).is_none());
        let mut ext = BIP32[0].0.to_vec();
        ext.extend([0u8; 74]);
        ext[77] = 1;
        assert!(validate(&base58::encode_check(&ext)).is_some());
        ext[45] = 2;
        assert!(validate(&base58::encode_check(&ext)).is_none());
    }
}
