//! `authorized_keys` lines (sshd(8), AUTHORIZED_KEYS FILE FORMAT): options,
//! key type, base64 blob and comment. A line that is not one is reported
//! with its number and skipped. Used by `audit` and `revoke-plan`.

use base64::Engine as _;
use ssh_key::public::{EcdsaPublicKey, KeyData};

/// One key line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLine {
    /// 1-based.
    pub line: usize,
    /// Each option as written: `restrict`, `from="10.0.0.0/8"`.
    pub options: Vec<String>,
    pub key_type: String,
    /// The base64 blob as written.
    pub blob: String,
    pub comment: String,
}

/// A line that is neither blank, a comment nor a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub line: usize,
    pub reason: String,
}

impl KeyLine {
    /// The option's name, lower case, for each option.
    pub fn has_option(&self, name: &str) -> bool {
        self.options.iter().any(|o| {
            let n = o.split('=').next().unwrap_or("");
            n.eq_ignore_ascii_case(name)
        })
    }

    /// The raw key blob.
    pub fn blob_bytes(&self) -> Option<Vec<u8>> {
        decode_blob(&self.blob)
    }
}

pub fn decode_blob(b64: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// Key types sshd accepts in `authorized_keys` (and their certificates).
fn is_key_type(word: &str) -> bool {
    let base = word.strip_suffix("-cert-v01@openssh.com").unwrap_or(word);
    matches!(
        base,
        "ssh-rsa"
            | "ssh-dss"
            | "ssh-ed25519"
            | "ecdsa-sha2-nistp256"
            | "ecdsa-sha2-nistp384"
            | "ecdsa-sha2-nistp521"
            | "sk-ecdsa-sha2-nistp256@openssh.com"
            | "sk-ssh-ed25519@openssh.com"
            | "ssh-ed448"
    )
}

/// Every key line of a file, and the lines that are not keys.
pub fn parse(data: &[u8]) -> (Vec<KeyLine>, Vec<Malformed>) {
    let mut keys = Vec::new();
    let mut bad = Vec::new();
    for (i, raw) in data.split(|b| *b == b'\n').enumerate() {
        let line = i + 1;
        let text = String::from_utf8_lossy(raw);
        let text = text.trim_end_matches('\r').trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        match parse_line(text) {
            Ok(mut k) => {
                k.line = line;
                keys.push(k);
            }
            Err(reason) => bad.push(Malformed { line, reason }),
        }
    }
    (keys, bad)
}

/// One non-blank, non-comment line.
pub fn parse_line(text: &str) -> Result<KeyLine, String> {
    let first = text.split_ascii_whitespace().next().unwrap_or("");
    let (options, rest) = if is_key_type(first) {
        (Vec::new(), text)
    } else {
        split_options(text)?
    };
    let mut words = rest.trim_start().splitn(3, [' ', '\t']);
    let key_type = words.next().unwrap_or("").to_string();
    if !is_key_type(&key_type) {
        return Err(format!(
            "not a key: expected [options] key-type base64-key [comment], found {:?}",
            clip(&key_type)
        ));
    }
    let blob = words.next().unwrap_or("").trim().to_string();
    let bytes = decode_blob(&blob).ok_or("the key is not valid base64")?;
    if blob_type(&bytes).as_deref() != Some(key_type.as_str()) {
        return Err(format!("the key blob is not a {key_type} key"));
    }
    let comment = words.next().unwrap_or("").trim().to_string();
    Ok(KeyLine {
        line: 0,
        options,
        key_type,
        blob,
        comment,
    })
}

/// The options before the key type: comma-separated, values in double
/// quotes may hold spaces, commas and `\"`.
fn split_options(text: &str) -> Result<(Vec<String>, &str), String> {
    let mut options = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' if quoted => {
                current.push(c);
                if let Some((_, next)) = chars.next() {
                    current.push(next);
                }
            }
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ',' if !quoted => options.push(std::mem::take(&mut current)),
            ' ' | '\t' if !quoted => {
                options.push(current);
                if options.iter().any(String::is_empty) {
                    return Err("empty option".into());
                }
                return Ok((options, &text[i..]));
            }
            _ => current.push(c),
        }
    }
    if quoted {
        Err("unterminated quote in the options".into())
    } else {
        Err("no key after the options".into())
    }
}

/// The type name inside an SSH wire blob.
fn blob_type(blob: &[u8]) -> Option<String> {
    let len = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?) as usize;
    let name = blob.get(4..4 + len)?;
    String::from_utf8(name.to_vec()).ok()
}

fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}

/// Algorithm and size of a public-key blob, as `ssh-keygen -l` names them.
pub fn describe(blob: &[u8]) -> (String, Option<usize>) {
    use crate::validate::fingerprint::bits;
    let Ok(key) = ssh_key::PublicKey::from_bytes(blob) else {
        let name = blob_type(blob).unwrap_or_else(|| "unknown".into());
        return (name, None);
    };
    let (name, size) = match key.key_data() {
        KeyData::Rsa(k) => ("RSA", k.n().as_positive_bytes().map(bits)),
        KeyData::Dsa(k) => ("DSA", k.p().as_positive_bytes().map(bits)),
        KeyData::Ed25519(_) => ("ED25519", Some(256)),
        KeyData::Ecdsa(k) => (
            "ECDSA",
            Some(match k {
                EcdsaPublicKey::NistP256(_) => 256,
                EcdsaPublicKey::NistP384(_) => 384,
                EcdsaPublicKey::NistP521(_) => 521,
            }),
        ),
        KeyData::SkEcdsaSha2NistP256(_) => ("ECDSA-SK", Some(256)),
        KeyData::SkEd25519(_) => ("ED25519-SK", Some(256)),
        _ => ("UNKNOWN", None),
    };
    (name.to_string(), size)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIJROFDhKv5tgD36ILiPhlD1+P0xobQaMl53JLfNPMOu1";

    #[test]
    fn options_keys_and_comments() {
        let text = format!(
            "# c\n\nssh-ed25519 {ED} a b\nfrom=\"10.0.0.1,10.0.0.2\",command=\"echo \\\"hi there\\\"\",restrict ssh-ed25519 {ED}\r\nnot a key\n"
        );
        let (keys, bad) = parse(text.as_bytes());
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].line, 3);
        assert_eq!(keys[0].comment, "a b");
        assert_eq!(keys[1].line, 4);
        assert_eq!(
            keys[1].options,
            vec![
                "from=\"10.0.0.1,10.0.0.2\"".to_string(),
                "command=\"echo \\\"hi there\\\"\"".to_string(),
                "restrict".to_string()
            ]
        );
        assert!(keys[1].has_option("FROM") && keys[1].has_option("restrict"));
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].line, 5);
    }

    #[test]
    fn blob_must_match_type() {
        assert!(parse_line(&format!("ssh-rsa {ED}")).is_err());
        assert!(parse_line("ssh-ed25519 !!!").is_err());
        assert!(parse_line("restrict,from=\"x ssh-ed25519 AAAA").is_err());
    }
}
