//! Bech32 (BIP 173) as age and Nostr use it: checksum, 5-to-8 bit regrouping.
//! No length limit (age identities are longer than BIP 173's 90).

const CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const GEN: [u32; 5] = [
    0x3b6a_57b2,
    0x2650_8e6d,
    0x1ea1_19fa,
    0x3d42_33dd,
    0x2a14_62b3,
];

fn polymod(values: impl Iterator<Item = u8>) -> u32 {
    let mut chk = 1u32;
    for v in values {
        let top = chk >> 25;
        chk = ((chk & 0x01ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

fn hrp_expand(hrp: &[u8]) -> impl Iterator<Item = u8> + '_ {
    hrp.iter()
        .map(|c| c >> 5)
        .chain(std::iter::once(0))
        .chain(hrp.iter().map(|c| c & 31))
}

/// The human-readable part (lower case) and the data bytes of a Bech32
/// string of one case; `None` when the checksum or the padding is wrong.
pub fn decode(s: &str) -> Option<(String, Vec<u8>)> {
    if s.bytes().any(|b| b.is_ascii_lowercase()) && s.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let s = s.to_ascii_lowercase();
    let sep = s.rfind('1')?;
    let (hrp, data) = (&s.as_bytes()[..sep], &s.as_bytes()[sep + 1..]);
    if hrp.is_empty() || data.len() < 6 || hrp.iter().any(|c| !(33..=126).contains(c)) {
        return None;
    }
    let values = data
        .iter()
        .map(|c| CHARSET.iter().position(|x| x == c).map(|p| p as u8))
        .collect::<Option<Vec<u8>>>()?;
    if polymod(hrp_expand(hrp).chain(values.iter().copied())) != 1 {
        return None;
    }
    let bytes = regroup(&values[..values.len() - 6], 5, 8, false)?;
    Some((String::from_utf8_lossy(hrp).into_owned(), bytes))
}

/// Bech32 of `data` under `hrp` (lower case).
pub fn encode(hrp: &str, data: &[u8]) -> String {
    let values = regroup(data, 8, 5, true).unwrap_or_default();
    let chk = polymod(
        hrp_expand(hrp.as_bytes())
            .chain(values.iter().copied())
            .chain([0; 6]),
    ) ^ 1;
    let mut out = format!("{hrp}1");
    let checksum = (0..6).map(|i| ((chk >> (5 * (5 - i))) & 31) as u8);
    for v in values.iter().copied().chain(checksum) {
        out.push(CHARSET[usize::from(v)] as char);
    }
    out
}

fn regroup(data: &[u8], from: u32, to: u32, pad: bool) -> Option<Vec<u8>> {
    let (mut acc, mut bits) = (0u32, 0u32);
    let max = (1u32 << to) - 1;
    let mut out = Vec::new();
    for &v in data {
        acc = (acc << from) | u32::from(v);
        bits += from;
        while bits >= to {
            bits -= to;
            out.push(((acc >> bits) & max) as u8);
        }
    }
    if pad {
        if bits > 0 {
            out.push(((acc << (to - bits)) & max) as u8);
        }
    } else if bits >= from || (acc << (to - bits)) & max != 0 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_broken_checksum() {
        let s = encode("age", &[7u8; 32]);
        assert_eq!(decode(&s), Some(("age".into(), vec![7u8; 32])));
        assert_eq!(decode(&s.to_ascii_uppercase()).unwrap().1, vec![7u8; 32]);
        let mut broken = s.into_bytes();
        let last = broken.len() - 1;
        broken[last] = if broken[last] == b'q' { b'p' } else { b'q' };
        assert!(decode(std::str::from_utf8(&broken).unwrap()).is_none());
        // BIP 173 test vector.
        assert!(decode("A12UEL5L").is_some());
        assert!(decode("a12UEL5L").is_none());
    }
}
