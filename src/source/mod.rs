//! Sources yield blobs to scan and say where they live. Sources know git and
//! the filesystem; nothing after them does.

pub mod aws;
pub mod files;
pub mod history;
mod keyword_free;
pub mod machines;
pub mod push;
mod pushed;
pub mod staged;

use crate::git::{objects, ObjectId, ObjectReader};
use crate::scan::finding::CommitInfo;

/// A commit as findings name it: its id and author (left out when the
/// commit cannot be read).
pub(crate) fn commit_info(reader: &dyn ObjectReader, id: &ObjectId) -> CommitInfo {
    let author = objects::read_author(reader, id).ok();
    CommitInfo {
        id: id.to_string(),
        author: author.as_ref().map(|a| a.name.clone()),
        email: author.as_ref().map(|a| a.email.clone()),
        date: author.map(|a| a.date),
        r#ref: None,
    }
}

/// The largest blob the git doors read whole, unless `[policy]
/// max_file_size` says otherwise: a bigger one is not scanned, and says so.
pub const MAX_BLOB_SIZE: u64 = 256 << 20;

/// The per-blob limit of the git doors for this scanner's policy.
pub(crate) fn blob_limit(scanner: &crate::scan::Scanner) -> u64 {
    scanner.policy.max_file_size.unwrap_or(MAX_BLOB_SIZE)
}

/// The plural ending of a count's noun: "" for one, else "s".
pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// With `KEYSCAN_TIMING` set: when a phase of a git door ended, the memory
/// in use (heap and file pages) and its peak so far, on standard error (for
/// the benchmarks).
pub(crate) fn timing(started: std::time::Instant, phase: &str) {
    if std::env::var_os("KEYSCAN_TIMING").is_none() {
        return;
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    eprintln!(
        "timing: {phase} at {:.2} s, RSS {} (heap {}, files {}), peak RSS {}",
        started.elapsed().as_secs_f64(),
        field("VmRSS:"),
        field("RssAnon:"),
        field("RssFile:"),
        field("VmHWM:")
    );
}
