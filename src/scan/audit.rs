//! Machine files (`source::machines`) through the pipeline: private keys
//! via the scanner (with the weak-passphrase check), public-key and
//! `authorized_keys` lines via their parser, gathered into an
//! `AuditReport` with one entry per key. The flags are set by
//! `policy::audit`.

use crate::policy::audit::{
    AuditReport, AuthorizedIn, KeyEntry, MalformedLine, PrivateCopy, PublicCopy,
};
use crate::scan::finding::Status;
use crate::scan::{Hit, Scanner};
use crate::source::machines::{FileKind, MachineFile, Walk};
use crate::validate::authorized_keys::{self, describe, KeyLine};
use crate::validate::fingerprint;
use rayon::prelude::*;
use std::collections::BTreeMap;

/// What one file says.
#[derive(Default)]
struct Seen {
    keys: Vec<KeyEntry>,
    malformed: Vec<MalformedLine>,
    warnings: Vec<String>,
    /// Private keys, before the run's weak-passphrase check settles them.
    hits: Vec<Hit>,
}

/// Every key in the walked files, one entry per fingerprint (no flags yet).
pub fn collect(scanner: &Scanner, walk: Walk) -> AuditReport {
    let mut seen: Vec<Seen> = walk
        .files
        .par_iter()
        .map(|f| one_file(scanner, f))
        .collect();
    // The weak-passphrase check, once for every key of the run.
    let mut hits: Vec<(usize, Hit)> = Vec::new();
    for (i, s) in seen.iter_mut().enumerate() {
        hits.extend(std::mem::take(&mut s.hits).into_iter().map(|h| (i, h)));
    }
    let mut only: Vec<Hit> = hits.iter().map(|(_, h)| h.clone()).collect();
    scanner.settle_hits(&mut only);
    // settle_hits keeps order and drops only allowlisted keys.
    let mut settled = only.into_iter().peekable();
    for (i, hit) in hits {
        if settled
            .peek()
            .is_some_and(|h| h.start == hit.start && h.end == hit.end && h.line == hit.line)
        {
            let h = settled.next().expect("peeked");
            private_key(h, &walk.files[i], &mut seen[i]);
        }
    }
    let mut report = AuditReport {
        errors: walk.errors,
        files_seen: walk.seen,
        ..AuditReport::default()
    };
    let mut by_fp: BTreeMap<String, KeyEntry> = BTreeMap::new();
    for s in seen {
        for k in s.keys {
            match by_fp.get_mut(&k.fingerprint) {
                Some(have) => have.absorb(k),
                None => {
                    by_fp.insert(k.fingerprint.clone(), k);
                }
            }
        }
        report.malformed.extend(s.malformed);
        report.warnings.extend(s.warnings);
    }
    report.keys = by_fp.into_values().collect();
    report.consolidate();
    report
}

fn one_file(scanner: &Scanner, f: &MachineFile) -> Seen {
    let mut seen = Seen::default();
    let (lines, malformed) = authorized_keys::parse(&f.data);
    if f.kind == FileKind::AuthorizedKeys {
        for bad in malformed {
            seen.malformed.push(MalformedLine {
                path: f.path.clone(),
                host: f.host.clone(),
                line: bad.line,
                reason: bad.reason,
            });
        }
        for l in &lines {
            let Some(mut entry) = entry_for_line(l) else {
                continue;
            };
            entry.authorized_in.push(AuthorizedIn {
                path: f.path.clone(),
                line: l.line,
                host: f.host.clone(),
                host_path: f.host_path.clone(),
                user: f.user.clone(),
                options: l.options.clone(),
                comment: l.comment.clone(),
                mtime: f.mtime,
            });
            seen.keys.push(entry);
        }
        return seen;
    }
    for l in lines.iter().filter(|l| l.options.is_empty()) {
        let Some(mut entry) = entry_for_line(l) else {
            continue;
        };
        entry.public_copies.push(PublicCopy {
            path: f.path.clone(),
            host: f.host.clone(),
            user: f.user.clone(),
            mtime: f.mtime,
        });
        seen.keys.push(entry);
    }
    seen.hits = scanner.hits_named(&f.data, Some(&f.path));
    seen
}

/// One private key in a key file.
fn private_key(hit: Hit, f: &MachineFile, seen: &mut Seen) {
    {
        let info = hit.info;
        let fp = info
            .fingerprint
            .as_deref()
            .filter(|fp| fp.starts_with("SHA256:"));
        let Some(fp) = fp else {
            if info.status != Status::Unverified {
                seen.warnings.push(format!(
                    "{}:{}: {} {} key whose public half is hidden: not in the per-key view",
                    f.path,
                    hit.line,
                    info.status.as_str(),
                    info.format
                ));
            }
            return;
        };
        let weak = info.status == Status::Valid
            && info
                .note
                .as_deref()
                .is_some_and(|n| n.contains("weak passphrase"));
        let mut entry = KeyEntry::new(fp);
        let blob = info.public_key.as_deref().and_then(|line| {
            let b64 = line.split_whitespace().nth(1)?;
            authorized_keys::decode_blob(b64)
        });
        if let Some(blob) = blob {
            (entry.algorithm, entry.bits) = describe(&blob);
        }
        entry.public_key = info.public_key;
        entry.aws_fingerprints = info.aws_fingerprints;
        entry.private_copies.push(PrivateCopy {
            path: f.path.clone(),
            host: f.host.clone(),
            host_path: f.host_path.clone(),
            user: f.user.clone(),
            owner: f.owner.clone(),
            mode: format!("{:04o}", f.mode),
            mtime: f.mtime,
            format: info.format,
            encrypted: info.status == Status::Encrypted || weak,
            weak_passphrase: weak,
            exposed: f.exposed.clone(),
        });
        seen.keys.push(entry);
    }
}

/// An entry (no locations) for a public-key line.
fn entry_for_line(l: &KeyLine) -> Option<KeyEntry> {
    let blob = l.blob_bytes()?;
    let info = fingerprint::from_blob(&blob);
    let mut entry = KeyEntry::new(info.fingerprint.as_deref()?);
    (entry.algorithm, entry.bits) = describe(&blob);
    entry.public_key = Some(format!("{} {}", l.key_type, l.blob));
    entry.aws_fingerprints = info.aws_fingerprints;
    Some(entry)
}
