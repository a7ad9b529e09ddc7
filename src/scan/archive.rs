//! Archives: zip (jar, apk, war), tar, and gzip (tar.gz, tgz), found by
//! their magic bytes. Each member is handed to the caller one at a time,
//! within limits on size, count, compression ratio and nesting, so a zip
//! bomb is refused with a note instead of filling memory.

use std::io::{Cursor, Read};

/// Deepest nesting scanned: an archive in an archive in an archive.
pub const MAX_DEPTH: usize = 3;
/// Largest member inflated.
pub const MAX_MEMBER: u64 = 32 << 20;
/// Inflated bytes one top-level archive may cost, nested ones included.
pub const MAX_TOTAL: u64 = 256 << 20;
/// Members one top-level archive may have, nested ones included.
pub const MAX_MEMBERS: usize = 10_000;
/// Inflated-to-compressed ratio beyond which a member is a bomb, above
/// `RATIO_FLOOR` bytes (Apache POI's limit).
pub const MAX_RATIO: u64 = 100;
const RATIO_FLOOR: u64 = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Zip,
    Tar,
    Gzip,
}

/// What the magic bytes say: a cheap check, so key-free blobs pay nothing.
pub fn kind(data: &[u8]) -> Option<Kind> {
    if data.starts_with(b"PK\x03\x04") {
        Some(Kind::Zip)
    } else if data.starts_with(b"\x1f\x8b\x08") {
        Some(Kind::Gzip)
    } else if data.get(257..262) == Some(b"ustar") {
        Some(Kind::Tar)
    } else {
        None
    }
}

/// What one top-level archive has cost so far, and what it left unscanned.
#[derive(Debug, Default)]
pub struct Budget {
    inflated: u64,
    members: usize,
    /// Why members were not scanned: one line each, at most a few.
    pub refused: Vec<String>,
    pub refused_count: usize,
}

impl Budget {
    pub fn refuse(&mut self, why: String) {
        self.refused_count += 1;
        if self.refused.len() < 3 {
            self.refused.push(why);
        }
    }
}

/// One member's bytes, its path inside the archive.
pub type Visit<'a> = dyn FnMut(&str, &[u8], &mut Budget) + 'a;

/// Hand every member of `data` to `visit`. `false`: not an archive after
/// all (corrupt), and the caller scans the blob as it is.
pub fn each_member(data: &[u8], budget: &mut Budget, visit: &mut Visit) -> bool {
    match kind(data) {
        Some(Kind::Zip) => zip_members(data, budget, visit),
        Some(Kind::Tar) => tar_members(data, budget, visit),
        Some(Kind::Gzip) => gzip_member(data, budget, visit),
        None => false,
    }
}

/// Inflate at most what the limits allow for `compressed` bytes in:
/// `Err` says why the member is refused.
fn inflate(
    reader: impl Read,
    compressed: u64,
    name: &str,
    budget: &mut Budget,
) -> Result<Vec<u8>, String> {
    let by_ratio = compressed.saturating_mul(MAX_RATIO).max(RATIO_FLOOR);
    let left = MAX_TOTAL.saturating_sub(budget.inflated);
    let cap = MAX_MEMBER.min(by_ratio).min(left);
    let mut out = Vec::new();
    reader
        .take(cap + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("{name}: cannot be read ({e})"))?;
    budget.inflated += out.len() as u64;
    if out.len() as u64 <= cap {
        return Ok(out);
    }
    Err(if cap == by_ratio {
        format!("{name}: compression ratio over {MAX_RATIO}:1, refused as a zip bomb")
    } else if cap == left {
        format!(
            "{name}: the archive inflates to more than {} MiB",
            MAX_TOTAL >> 20
        )
    } else {
        format!("{name}: larger than {} MiB", MAX_MEMBER >> 20)
    })
}

/// Count a member against the limits; `false` when over the count.
fn admit(budget: &mut Budget, name: &str) -> bool {
    budget.members += 1;
    if budget.members > MAX_MEMBERS {
        if budget.members == MAX_MEMBERS + 1 {
            budget.refuse(format!(
                "{name} and later members: more than {MAX_MEMBERS} members"
            ));
        }
        return false;
    }
    true
}

fn zip_members(data: &[u8], budget: &mut Budget, visit: &mut Visit) -> bool {
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(data)) else {
        return false;
    };
    for i in 0..zip.len() {
        let member = match zip.by_index(i) {
            Ok(m) if m.is_dir() => continue,
            Ok(m) => m,
            Err(e) => {
                budget.refuse(format!("member {}: cannot be read ({e})", i + 1));
                continue;
            }
        };
        let name = member.name().to_string();
        if !admit(budget, &name) {
            break;
        }
        let compressed = member.compressed_size();
        match inflate(member, compressed, &name, budget) {
            Ok(bytes) => visit(&name, &bytes, budget),
            Err(why) => budget.refuse(why),
        }
    }
    true
}

fn tar_members(data: &[u8], budget: &mut Budget, visit: &mut Visit) -> bool {
    let mut tar = tar::Archive::new(Cursor::new(data));
    let Ok(entries) = tar.entries() else {
        return false;
    };
    for entry in entries {
        let Ok(entry) = entry else {
            budget.refuse("tar: a damaged entry ends the archive".into());
            break;
        };
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry
            .path()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|_| "?".into());
        if !admit(budget, &name) {
            break;
        }
        // Tar stores members whole: its size is its own limit.
        let size = entry.size();
        match inflate(entry, size, &name, budget) {
            Ok(bytes) => visit(&name, &bytes, budget),
            Err(why) => budget.refuse(why),
        }
    }
    true
}

/// A gzip stream: a tarball's members, or the one file it compresses
/// (named as its header says, else `-`).
fn gzip_member(data: &[u8], budget: &mut Budget, visit: &mut Visit) -> bool {
    let mut gz = flate2::read::MultiGzDecoder::new(data);
    let name = gz
        .header()
        .and_then(|h| h.filename())
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .unwrap_or_else(|| "-".into());
    if !admit(budget, &name) {
        return true;
    }
    let mut head = [0u8; 1];
    if gz.read(&mut head).is_err() {
        return false;
    }
    let reader = Cursor::new(head).chain(gz);
    match inflate(reader, data.len() as u64, &name, budget) {
        Ok(bytes) if kind(&bytes) == Some(Kind::Tar) => {
            budget.members -= 1;
            tar_members(&bytes, budget, visit)
        }
        Ok(bytes) => {
            visit(&name, &bytes, budget);
            true
        }
        Err(why) => {
            budget.refuse(why);
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_decide() {
        assert_eq!(kind(b"PK\x03\x04rest"), Some(Kind::Zip));
        assert_eq!(kind(b"\x1f\x8b\x08\0"), Some(Kind::Gzip));
        let mut tar = vec![0u8; 512];
        tar[257..262].copy_from_slice(b"ustar");
        assert_eq!(kind(&tar), Some(Kind::Tar));
        assert_eq!(kind(b"-----BEGIN PRIVATE KEY-----"), None);
        assert_eq!(kind(b""), None);
    }

    #[test]
    fn a_gzip_bomb_is_refused_without_inflating_it_all() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..64 {
            enc.write_all(&zeros).unwrap();
        }
        let bomb = enc.finish().unwrap();
        let mut budget = Budget::default();
        let mut seen = 0;
        assert!(each_member(&bomb, &mut budget, &mut |_, _, _| seen += 1));
        assert_eq!(seen, 0);
        assert!(
            budget.refused[0].contains("zip bomb"),
            "{:?}",
            budget.refused
        );
        assert!(budget.inflated <= bomb.len() as u64 * MAX_RATIO + 1);
    }

    #[test]
    fn corrupt_archives_are_not_archives() {
        let mut budget = Budget::default();
        assert!(!each_member(
            b"PK\x03\x04garbage",
            &mut budget,
            &mut |_, _, _| {}
        ));
        assert!(!each_member(
            b"\x1f\x8b\x08garbage",
            &mut budget,
            &mut |_, _, _| {}
        ));
    }
}
