//! Base58 and Base58Check (Bitcoin's alphabet), as wallets write keys.

use sha2::Digest;

const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// Base58 text to bytes; `None` for a character outside the alphabet.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(text.len());
    for c in text.bytes() {
        let mut carry = ALPHABET.iter().position(|&a| a == c)? as u32;
        for b in out.iter_mut().rev() {
            carry += u32::from(*b) * 58;
            *b = carry as u8;
            carry >>= 8;
        }
        while carry > 0 {
            out.insert(0, carry as u8);
            carry >>= 8;
        }
    }
    let zeros = text.bytes().take_while(|&c| c == b'1').count();
    let mut full = vec![0u8; zeros];
    full.extend(out.into_iter().skip_while(|&b| b == 0));
    Some(full)
}

pub fn encode(data: &[u8]) -> String {
    let mut digits: Vec<u8> = Vec::new();
    for &byte in data {
        let mut carry = u32::from(byte);
        for d in digits.iter_mut().rev() {
            carry += u32::from(*d) << 8;
            *d = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.insert(0, (carry % 58) as u8);
            carry /= 58;
        }
    }
    let zeros = data.iter().take_while(|&&b| b == 0).count();
    let mut out = "1".repeat(zeros);
    out.extend(digits.iter().map(|&d| ALPHABET[usize::from(d)] as char));
    out
}

fn checksum(payload: &[u8]) -> [u8; 4] {
    let twice = sha2::Sha256::digest(sha2::Sha256::digest(payload));
    [twice[0], twice[1], twice[2], twice[3]]
}

/// The payload of Base58Check text; `None` when the checksum is wrong.
pub fn decode_check(text: &str) -> Option<Vec<u8>> {
    let mut raw = decode(text)?;
    let at = raw.len().checked_sub(4)?;
    let sum = raw.split_off(at);
    (sum == checksum(&raw)).then_some(raw)
}

pub fn encode_check(payload: &[u8]) -> String {
    let mut raw = payload.to_vec();
    raw.extend_from_slice(&checksum(payload));
    encode(&raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_checksums() {
        assert_eq!(encode(b"hello world"), "StV1DL6CwTryKyV");
        assert_eq!(decode("StV1DL6CwTryKyV").unwrap(), b"hello world");
        assert_eq!(decode("11").unwrap(), vec![0, 0]);
        let text = encode_check(&[0, 1, 2, 3]);
        assert_eq!(decode_check(&text).unwrap(), vec![0, 1, 2, 3]);
        assert!(decode_check(&text.replace('1', "2")).is_none());
        assert!(decode("0OIl").is_none());
    }
}
