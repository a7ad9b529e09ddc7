//! The listing `keyscan fingerprint` prints: fingerprints and public
//! halves only, never key material.

use crate::scan::fingerprints::KeyPrints;
use std::io::{self, Write};

/// The human listing.
pub fn render_human(keys: &[KeyPrints], out: &mut dyn Write) -> io::Result<()> {
    for k in keys {
        writeln!(
            out,
            "{}:{}  {}, {} ({})",
            k.path, k.line, k.key_type, k.format, k.status
        )?;
        let mut row = |name: &str, value: &str| writeln!(out, "    {name:<12} {value}");
        let keygen = |fp: &str| match (&k.bits, &k.ssh_type) {
            (Some(b), Some(t)) => format!("{b} {fp} ({t})"),
            _ => fp.to_string(),
        };
        if let Some(fp) = &k.sha256 {
            row("sha256", &keygen(fp))?;
        }
        if let Some(fp) = &k.md5 {
            row("md5", &keygen(fp))?;
        }
        let aws = &k.aws_fingerprints;
        if let Some(v) = &aws.sha1_pkcs8 {
            row("aws created", v)?;
        }
        if let Some(v) = &aws.md5_spki {
            row("aws imported", v)?;
        }
        if let Some(v) = &aws.sha256 {
            row("aws", v)?;
        }
        if let Some(v) = &k.openpgp {
            row("openpgp", v)?;
        }
        if let Some(v) = &k.fingerprint {
            row("fingerprint", v)?;
        }
        if let Some(v) = &k.public_key {
            row("public key", v)?;
        }
        if let Some(v) = &k.note {
            row("note", v)?;
        } else if k.sha256.is_none() && k.openpgp.is_none() && k.fingerprint.is_none() {
            row(
                "note",
                "no fingerprint: this format encrypts the public half too",
            )?;
        }
    }
    Ok(())
}

pub fn render_json(keys: &[KeyPrints], out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &serde_json::json!({ "keys": keys }))?;
    writeln!(out)
}
