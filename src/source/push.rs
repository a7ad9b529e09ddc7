//! The push doors: `keyscan pre-receive` on the server that receives a push,
//! and `keyscan pre-push`, its client-side twin.
//!
//! Both scan what a push brings: the commits the other side does not have
//! yet (`git rev-list NEW --not --all` on the server, `--not
//! --remotes=REMOTE` on the client), plus for an updated ref the commits new
//! to that ref (`NEW --not OLD`); every blob each of them introduces relative
//! to each of its parents ([`crate::git::introduced`]); their messages and
//! those of the pushed tags; the tree or blob a new tag points at; and every
//! other blob in the push's quarantine. A key blob the server already holds
//! still counts when a new commit brings it in again.
//!
//! The repository is found with libgit2's `open_from_env`; objects are read
//! with gitoxide from exactly the stores git names in the hook's environment
//! ([`crate::git::hook_stores`]). The push's quarantine is read once, in pack
//! order, each delta resolved once, while `git rev-list` lists the commits
//! (`source::pushed`): every blob there is scanned, and the commits are
//! then diffed in memory, only to place the blobs that hold keys and to find
//! the server's own blobs that new commits bring back (read by id, with the
//! trees the server already had). (Reading every tree and blob by id cost
//! 3x `keyscan history` on a migration of git's own history.) Nothing here
//! writes to the repository.
//! Whatever cannot be read is an error: the push is rejected. What the
//! server's policy then allows is [`crate::policy::server`]'s business.

use super::pushed::Pushed;
use super::{commit_info, plural, timing};
use crate::git::command::{self, RunError};
use crate::git::hook_stores::{self, open_repo, HookStores};
use crate::git::introduced::{self, EntryKind};
use crate::git::objects::{self, peel_to_tree, peel_with, read_commit, read_tree, Peeled};
use crate::git::{from_git2, ObjectId, ObjectReader};
use crate::policy::config::{ServerSettings, FILE_NAME};
use crate::policy::server::{self, PushContext};
use crate::report::{Mode, Report};
use crate::scan::finding::{CommitInfo, Finding};
use crate::scan::{Hit, Origin, Scanner};
use anyhow::{anyhow, bail, Context, Result};
use gix::objs::Kind;
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Instant;

/// One ref a push updates. `new = None` deletes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefUpdate {
    pub name: String,
    pub old: Option<ObjectId>,
    pub new: Option<ObjectId>,
}

/// What a push scan found.
#[derive(Debug, Default)]
pub struct PushScan {
    pub findings: Vec<Finding>,
    pub refs: usize,
    pub commits: usize,
    pub blobs: usize,
    /// Set when the time limit was reached: what was left unchecked.
    pub timed_out: Option<String>,
}

impl PushScan {
    pub fn summary(&self) -> String {
        format!(
            "{} new commit{} on {} ref{} ({} distinct blob{})",
            self.commits,
            plural(self.commits),
            self.refs,
            plural(self.refs),
            self.blobs,
            plural(self.blobs)
        )
    }
}

/// The fields of each non-empty line. Lines are bytes: a ref name need not
/// be UTF-8 (its other bytes are shown escaped, `\\xff`).
fn fields(input: &[u8]) -> impl Iterator<Item = (String, Vec<String>)> + '_ {
    input
        .split(|b| *b == b'\n')
        .map(crate::report::escape::bytes)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let parts = l.split_whitespace().map(str::to_string).collect();
            (l, parts)
        })
}

/// `<old> <new> <ref>` lines, as git gives a pre-receive hook.
pub fn parse_receive_lines(input: &[u8]) -> Result<Vec<RefUpdate>> {
    let mut out = Vec::new();
    for (line, parts) in fields(input) {
        let [old, new, name] = &parts[..] else {
            bail!("unexpected line on standard input (want `<old> <new> <ref>`): {line}");
        };
        out.push(RefUpdate {
            name: name.to_string(),
            old: parse_id(old)?,
            new: parse_id(new)?,
        });
    }
    Ok(out)
}

/// `<local-ref> <local-oid> <remote-ref> <remote-oid>` lines, as git gives a
/// pre-push hook. The update is named by the remote ref.
pub fn parse_push_lines(input: &[u8]) -> Result<Vec<RefUpdate>> {
    let mut out = Vec::new();
    for (line, parts) in fields(input) {
        let [_local, new, remote_ref, old] = &parts[..] else {
            bail!("unexpected line on standard input (want `<local-ref> <local-oid> <remote-ref> <remote-oid>`): {line}");
        };
        out.push(RefUpdate {
            name: remote_ref.to_string(),
            old: parse_id(old)?,
            new: parse_id(new)?,
        });
    }
    Ok(out)
}

/// An object id; all zeros (a ref that does not exist on one side) is `None`.
fn parse_id(hex: &str) -> Result<Option<ObjectId>> {
    let id = ObjectId::from_hex(hex.as_bytes()).map_err(|e| anyhow!("bad object id {hex}: {e}"))?;
    Ok((!id.is_null()).then_some(id))
}

/// Where a blob was brought in.
#[derive(Debug, Clone)]
struct Location {
    r#ref: String,
    /// The commit that brought it in; `None` for a tag on a tree or a blob.
    commit: Option<ObjectId>,
    /// That tag (what the ref points at).
    tag: Option<ObjectId>,
    path: String,
}

/// A new commit or tag whose message holds a key.
struct Message {
    /// "commit" or "tag".
    kind: &'static str,
    id: ObjectId,
    r#ref: String,
    hits: Vec<Hit>,
}

/// Blobs with where they came in, in the order they were first met, and
/// the new commits and tags whose messages hold keys.
#[derive(Default)]
struct Found {
    order: Vec<ObjectId>,
    at: HashMap<ObjectId, Vec<Location>>,
    messages: Vec<Message>,
}

impl Found {
    fn add(&mut self, blob: ObjectId, loc: Location) {
        let locs = self.at.entry(blob).or_default();
        if locs.is_empty() {
            self.order.push(blob);
        }
        locs.push(loc);
    }
}

/// The time limit of a push scan.
#[derive(Clone, Copy)]
struct Clock(Option<Instant>);

impl Clock {
    fn past(self) -> bool {
        self.0.is_some_and(|at| Instant::now() >= at)
    }
}

/// Scans what `updates` bring that `exclude` (rev-list arguments after
/// `--not`, e.g. `--all`) does not reach. `limit`: give up past this time
/// (reported in `timed_out`).
pub fn scan_push(
    scanner: &Scanner,
    updates: &[RefUpdate],
    exclude: &[String],
    exclude_ids: &[ObjectId],
    limit: Option<Instant>,
) -> Result<PushScan> {
    let started = Instant::now();
    let mut out = PushScan::default();
    let pushed: Vec<&RefUpdate> = updates.iter().filter(|u| u.new.is_some()).collect();
    out.refs = pushed.len();
    if pushed.is_empty() {
        return Ok(out); // only deletions: nothing arrives
    }
    let git_dir = open_repo()?.path().to_path_buf();
    let stores = HookStores::open(&git_dir)?;
    let clock = Clock(limit);
    if clock.past() {
        out.timed_out = Some("nothing was checked yet".into());
        return Ok(out);
    }
    let mut found = Found::default();
    let tips = peel_tips(scanner, &stores, &pushed, &mut found)?;
    // Old tips to compare with, when they are here (pre-push: they may not be).
    let olds: HashMap<&str, ObjectId> = pushed
        .iter()
        .filter_map(|u| Some((u.name.as_str(), u.old?)))
        .filter(|(_, old)| matches!(stores.header(old), Ok(Some(_))))
        .collect();
    let what = Listing {
        tips: &tips,
        olds: &olds,
        exclude,
        exclude_ids,
        limit,
    };
    let (brought, listed) = read_and_list(scanner, &git_dir, &what, clock, started)?;
    timing(started, "commits listed");
    let (commits, via) = match listed {
        Ok(listed) => listed,
        Err(RunError::TimedOut) => {
            out.timed_out = Some("the new commits could not be listed in time".into());
            out.findings = unlocated(
                scanner,
                &brought.hits,
                &found,
                "where it came in was not checked in time",
            );
            return Ok(out);
        }
        Err(RunError::Failed(e)) => return Err(e),
    };
    out.commits = commits.iter().filter(|c| c.2).count();
    let commits: Vec<(ObjectId, Vec<ObjectId>)> =
        commits.into_iter().map(|(id, ps, _)| (id, ps)).collect();
    let walked = introduce(
        scanner, &stores, &brought, &commits, &via, &mut found, clock,
    )?;
    timing(started, "trees diffed");
    // Blobs new commits bring that the quarantine lacks: the server's own.
    let old: Vec<ObjectId> = (found.order.iter())
        .filter(|b| !brought.blobs.contains(*b))
        .copied()
        .collect();
    out.blobs = brought.blobs.len() + old.len();
    let scanned = scan_by_id(scanner, &git_dir, &stores, &old, clock)?;
    timing(started, "blobs scanned");
    let mut too_big = brought.too_big.clone();
    too_big.extend(scanned.too_big);
    refuse_too_big(scanner, &found, &too_big)?;
    let unscanned = brought.unscanned + scanned.unscanned;
    if let Some(done) = walked {
        out.timed_out = Some(format!("{done} of {} new commits were read", commits.len()));
    } else if unscanned > 0 {
        // What was checked still counts: a key found there blocks.
        out.timed_out = Some(format!(
            "{} of {} blobs and the messages of {} new commits were checked; \
             {unscanned} blobs were not",
            out.blobs.saturating_sub(unscanned),
            out.blobs,
            commits.len()
        ));
    }
    out.findings = findings(
        scanner,
        &stores,
        &found,
        &brought,
        scanned.hits,
        walked.is_some(),
    );
    timing(started, "findings located");
    Ok(out)
}

/// What to list the new commits from: the pushed tips, the refs' old tips,
/// and what the server already reaches.
struct Listing<'a> {
    tips: &'a [(String, ObjectId)],
    olds: &'a HashMap<&'a str, ObjectId>,
    exclude: &'a [String],
    exclude_ids: &'a [ObjectId],
    limit: Option<Instant>,
}

impl Listing<'_> {
    fn list(&self) -> std::result::Result<Listed, RunError> {
        list_commits(
            self.tips,
            self.olds,
            self.exclude,
            self.exclude_ids,
            self.limit,
        )
    }
}

/// Reads the quarantine, and lists the new commits at the same time. Into a
/// repository that holds no object yet (a migration), every commit the tips
/// reach is new and in the quarantine: listed from it.
fn read_and_list(
    scanner: &Scanner,
    git_dir: &Path,
    what: &Listing<'_>,
    clock: Clock,
    started: Instant,
) -> Result<(Pushed, std::result::Result<Listed, RunError>)> {
    let quarantine = hook_stores::quarantine();
    let whole = quarantine.is_some() && hook_stores::server_is_empty(git_dir);
    let (listed, brought) = std::thread::scope(|s| {
        let lister = (!whole).then(|| s.spawn(|| what.list()));
        let brought = match &quarantine {
            Some(dir) => Pushed::read(scanner, git_dir, dir, whole, &|| clock.past(), started),
            None => Ok(Pushed::default()),
        };
        let listed = lister.map(|l| {
            l.join()
                .unwrap_or_else(|_| Err(RunError::Failed(anyhow!("listing the commits failed"))))
        });
        (listed, brought)
    });
    let brought = brought?;
    let listed = listed.unwrap_or_else(|| match brought.ancestry(what.tips) {
        Some(new) => Ok((
            new.iter().map(|(id, ps)| (*id, ps.clone(), true)).collect(),
            refs_of(what.tips, &new),
        )),
        None => what.list(),
    });
    Ok((brought, listed))
}

/// The findings: each blob's hits where it came in (or, with no place for
/// it, as sent in the push, or not located when `late`), and the messages'.
fn findings(
    scanner: &Scanner,
    stores: &HookStores,
    found: &Found,
    brought: &Pushed,
    old_hits: Vec<(ObjectId, Vec<Hit>)>,
    late: bool,
) -> Vec<Finding> {
    let (located, unreferenced): (Vec<_>, Vec<_>) = (brought.hits.iter())
        .map(|(id, hits)| (*id, hits.clone()))
        .chain(old_hits)
        .partition(|(id, _)| found.at.contains_key(id));
    let mut findings = locate(scanner, stores, found, located);
    let unreferenced: HashMap<ObjectId, Vec<Hit>> = unreferenced.into_iter().collect();
    let why = match late {
        true => "where it came in was not checked in time",
        false => "sent in the push but in no pushed commit",
    };
    findings.extend(unlocated(scanner, &unreferenced, found, why));
    findings.extend(messages(scanner, stores, &found.messages));
    sort(&mut findings);
    findings
}

/// A finding for each hit of a blob `found` has no place for, saying `why`.
fn unlocated(
    scanner: &Scanner,
    hits: &HashMap<ObjectId, Vec<Hit>>,
    found: &Found,
    why: &str,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (id, hits) in hits.iter().filter(|(id, _)| !found.at.contains_key(*id)) {
        let origin = Origin {
            path: format!("(blob {id}, {why})"),
            blob: Some(id.to_string()),
            commit: None,
        };
        findings.extend(hits.iter().map(|h| scanner.finding(h.clone(), &origin)));
    }
    findings
}

/// Each pushed ref's tip, peeled: commits are returned (for rev-list); a tag
/// on a tree or a blob brings that object, added to `found`.
fn peel_tips(
    scanner: &Scanner,
    stores: &HookStores,
    pushed: &[&RefUpdate],
    found: &mut Found,
) -> Result<Vec<(String, ObjectId)>> {
    let mut tips = Vec::new();
    let mut buf = Vec::new();
    for u in pushed {
        let new = u.new.expect("pushed refs have a new id");
        let name = &u.name;
        let at_tag = |path: String| Location {
            r#ref: name.clone(),
            commit: None,
            tag: u.new,
            path,
        };
        let mut on_tag = |id: ObjectId, text: &[u8]| {
            let hits = scanner.hits(text);
            if !hits.is_empty() {
                found.messages.push(Message {
                    kind: "tag",
                    id,
                    r#ref: name.clone(),
                    hits,
                })
            }
        };
        let peeled = peel_with(stores, new, &mut buf, &mut on_tag).with_context(|| name.clone())?;
        match peeled {
            Peeled::Commit(id) => tips.push((name.clone(), id)),
            Peeled::Tree(id) => {
                introduced::introduced(stores, id, &[], &mut |path, blob, kind| {
                    if kind != EntryKind::Submodule {
                        found.add(blob, at_tag(crate::report::escape::bytes(path)));
                    }
                    Ok(())
                })
                .with_context(|| format!("{name}: tree {id}"))?;
            }
            Peeled::Blob(id) => found.add(id, at_tag(format!("({name})"))),
        }
    }
    Ok(tips)
}

type Listed = (
    Vec<(ObjectId, Vec<ObjectId>, bool)>,
    HashMap<ObjectId, Vec<String>>,
);

/// The commits to diff, each with its parents and whether it is new to the
/// other side (`exclude`), and the refs it lands on. A commit the other side
/// has is still new to a ref whose old tip did not reach it (`git rev-list
/// NEW ^OLD`): a `--no-ff` merge of a branch the server holds brings that
/// branch's keys onto the ref, as a revert that restores a key would.
fn list_commits(
    tips: &[(String, ObjectId)],
    olds: &HashMap<&str, ObjectId>,
    exclude: &[String],
    exclude_ids: &[ObjectId],
    limit: Option<Instant>,
) -> std::result::Result<Listed, RunError> {
    let new = new_commits(tips, exclude, exclude_ids, limit)?;
    let mut via = refs_of(tips, &new);
    let mut commits: Vec<(ObjectId, Vec<ObjectId>, bool)> =
        new.into_iter().map(|(id, ps)| (id, ps, true)).collect();
    for (name, tip) in tips {
        let Some(old) = olds.get(name.as_str()) else {
            continue;
        };
        for (id, ps) in new_commits(&[(name.clone(), *tip)], &[], &[*old], limit)? {
            let refs = via.entry(id).or_insert_with(|| {
                commits.push((id, ps, false));
                Vec::new()
            });
            if !refs.contains(name) {
                refs.push(name.clone());
            }
        }
    }
    Ok((commits, via))
}

/// Every pushed ref each new commit lands on (the tips that reach it).
fn refs_of(
    tips: &[(String, ObjectId)],
    commits: &[(ObjectId, Vec<ObjectId>)],
) -> HashMap<ObjectId, Vec<String>> {
    let parents: HashMap<ObjectId, &Vec<ObjectId>> =
        commits.iter().map(|(id, ps)| (*id, ps)).collect();
    let mut via: HashMap<ObjectId, Vec<String>> = HashMap::new();
    for (name, tip) in tips {
        let mut stack = vec![*tip];
        let mut seen = HashSet::new();
        while let Some(id) = stack.pop() {
            let Some(ps) = parents.get(&id) else { continue };
            if !seen.insert(id) {
                continue;
            }
            let refs = via.entry(id).or_default();
            if !refs.contains(name) {
                refs.push(name.clone());
            }
            stack.extend(ps.iter().copied());
        }
    }
    via
}

/// Every blob that matters here ([`Pushed::introduced`]) each new commit
/// introduces relative to each parent, added to `found`, and the commits
/// whose messages hold keys. `Some(n)`: the time ran out after `n` commits.
fn introduce(
    scanner: &Scanner,
    stores: &HookStores,
    brought: &Pushed,
    commits: &[(ObjectId, Vec<ObjectId>)],
    via: &HashMap<ObjectId, Vec<String>>,
    found: &mut Found,
    clock: Clock,
) -> Result<Option<usize>> {
    let mut buf = Vec::new();
    let tree_of = |id: &ObjectId, buf: &mut Vec<u8>| -> Result<ObjectId> {
        Ok(match brought.commits.get(id) {
            Some(c) => c.tree,
            None => read_commit(stores, id, buf)?.tree,
        })
    };
    for (done, (id, ps)) in commits.iter().enumerate() {
        // Now and then: a commit costs microseconds here, and a blob whose
        // scan began before the limit may have ended after it.
        if done % 256 == 255 && clock.past() {
            return Ok(Some(done));
        }
        let names = via.get(id).cloned().unwrap_or_else(|| vec![String::new()]);
        let hits = match brought.commits.get(id) {
            Some(_) => brought.messages.get(id).cloned().unwrap_or_default(),
            None => {
                read_commit(stores, id, &mut buf)?;
                scanner.hits(objects::message(&buf))
            }
        };
        if !hits.is_empty() {
            found.messages.push(Message {
                kind: "commit",
                id: *id,
                r#ref: names.first().cloned().unwrap_or_default(),
                hits,
            });
        }
        let tree = tree_of(id, &mut buf)?;
        let parent_trees = (ps.iter().map(|p| tree_of(p, &mut buf))).collect::<Result<Vec<_>>>()?;
        brought
            .introduced(stores, tree, &parent_trees, &mut |path, blob, kind| {
                if kind != EntryKind::Submodule {
                    for name in &names {
                        found.add(
                            blob,
                            Location {
                                r#ref: name.clone(),
                                commit: Some(*id),
                                tag: None,
                                path: crate::report::escape::bytes(path),
                            },
                        );
                    }
                }
            })
            .with_context(|| format!("commit {id}"))?;
    }
    Ok(None)
}

/// Blobs with hits, and how many blobs were left unscanned at the time
/// limit.
struct Scanned {
    hits: Vec<(ObjectId, Vec<Hit>)>,
    unscanned: usize,
    /// Blobs over the per-blob size limit: (id, size), not scanned.
    too_big: Vec<(ObjectId, u64)>,
}

/// Each of `blobs` (the server's, brought back by new commits) read by id
/// and scanned, on all cores, each thread a contiguous share with its own
/// caches.
fn scan_by_id(
    scanner: &Scanner,
    git_dir: &Path,
    stores: &HookStores,
    blobs: &[ObjectId],
    clock: Clock,
) -> Result<Scanned> {
    let mut out = Scanned {
        hits: Vec::new(),
        unscanned: 0,
        too_big: Vec::new(),
    };
    let limit = super::blob_limit(scanner);
    let rest = blobs;
    // Ok(None): out of time; Some(Err(size)): over the size limit.
    let scan_one = |stores: &HookStores, id: &ObjectId, buf: &mut Vec<u8>| {
        if clock.past() {
            return Ok(None);
        }
        if let Some((_, size)) = stores.header(id)?.filter(|(_, size)| *size > limit) {
            return Ok(Some(Err(size)));
        }
        match stores.read(id, buf)? {
            Some(Kind::Blob) => Ok(Some(Ok(scanner.hits(buf)))),
            Some(kind) => bail!("object {id} is a {kind}, not a blob"),
            None => bail!("blob {id} cannot be read: it is missing"),
        }
    };
    let results: Vec<Result<Option<BlobResult>>> = if rest.len() < 64 {
        let mut buf = Vec::new();
        rest.iter()
            .map(|id| scan_one(stores, id, &mut buf))
            .collect()
    } else {
        let share = rest.len().div_ceil(rayon::current_num_threads().max(1));
        let per_share: Vec<Vec<Result<Option<BlobResult>>>> = rest
            .par_chunks(share)
            .map(|chunk| match HookStores::open(git_dir) {
                Ok(stores) => {
                    let mut buf = Vec::new();
                    chunk
                        .iter()
                        .map(|id| scan_one(&stores, id, &mut buf))
                        .collect()
                }
                Err(e) => vec![Err(anyhow!("{e:#}"))],
            })
            .collect();
        per_share.into_iter().flatten().collect()
    };
    for (id, r) in rest.iter().zip(results) {
        match r? {
            Some(Ok(h)) if !h.is_empty() => out.hits.push((*id, h)),
            Some(Ok(_)) => {}
            Some(Err(size)) => out.too_big.push((*id, size)),
            None => out.unscanned += 1,
        }
    }
    Ok(out)
}

/// A blob's hits, or its size when it is over the limit.
type BlobResult = std::result::Result<Vec<Hit>, u64>;

/// Blobs over the size limit were not scanned: that fails closed, naming
/// each by id, size and where it came in.
fn refuse_too_big(scanner: &Scanner, found: &Found, too_big: &[(ObjectId, u64)]) -> Result<()> {
    let Some((id, size)) = too_big.first() else {
        return Ok(());
    };
    let at = found.at.get(id).and_then(|locs| locs.first()).map_or_else(
        || "sent in the push but in no pushed commit".to_string(),
        |l| format!("at {} on {}", l.path, l.r#ref),
    );
    bail!(
        "{} blob{} over the {} byte limit per blob ([policy] max_file_size) could not be \
         scanned: blob {id} ({size} bytes) {at}",
        too_big.len(),
        plural(too_big.len()),
        super::blob_limit(scanner)
    )
}

/// A finding for each hit at each place its blob came in.
fn locate(
    scanner: &Scanner,
    stores: &HookStores,
    found: &Found,
    hits: Vec<(ObjectId, Vec<Hit>)>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut authors: HashMap<ObjectId, CommitInfo> = HashMap::new();
    for (blob, blob_hits) in hits {
        for loc in &found.at[&blob] {
            let commit = match loc.commit {
                Some(id) => {
                    let mut info = authors
                        .entry(id)
                        .or_insert_with(|| commit_info(stores, &id))
                        .clone();
                    info.r#ref = Some(loc.r#ref.clone());
                    Some(info)
                }
                // A tag on a tree or a blob: the tag itself.
                None => Some(CommitInfo {
                    id: loc.tag.map(|t| t.to_string()).unwrap_or_default(),
                    r#ref: Some(loc.r#ref.clone()),
                    ..CommitInfo::default()
                }),
            };
            let origin = Origin {
                path: loc.path.clone(),
                blob: Some(blob.to_string()),
                commit,
            };
            for hit in &blob_hits {
                findings.push(scanner.finding(hit.clone(), &origin));
            }
        }
    }
    findings
}

/// A finding for each key in a new commit's or tag's message, located by
/// the commit or tag.
fn messages(scanner: &Scanner, stores: &HookStores, messages: &[Message]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for m in messages {
        let mut commit = match m.kind {
            "commit" => commit_info(stores, &m.id),
            _ => CommitInfo {
                id: m.id.to_string(),
                ..CommitInfo::default()
            },
        };
        commit.r#ref = Some(m.r#ref.clone());
        let origin = Origin {
            path: format!("(message of {} {})", m.kind, m.id),
            blob: None,
            commit: Some(commit),
        };
        for hit in &m.hits {
            findings.push(scanner.finding(hit.clone(), &origin));
        }
    }
    findings
}

/// By ref, date and path.
fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        let key = |f: &Finding| {
            f.commit
                .as_ref()
                .map(|c| (c.r#ref.clone(), c.date.clone(), c.id.clone()))
        };
        (key(a), &a.path, a.line).cmp(&(key(b), &b.path, b.line))
    });
}

/// `git rev-list --parents` of the tips, minus what `exclude` reaches:
/// (commit, parents), newest first. Run with the hook's environment, so git
/// sees the quarantined objects; stopped at `limit`.
fn new_commits(
    tips: &[(String, ObjectId)],
    exclude: &[String],
    exclude_ids: &[ObjectId],
    limit: Option<Instant>,
) -> std::result::Result<Vec<(ObjectId, Vec<ObjectId>)>, RunError> {
    if tips.is_empty() {
        return Ok(Vec::new());
    }
    let mut cmd = command::git();
    cmd.args(["rev-list", "--parents", "--stdin", "--not"])
        .args(exclude);
    let mut input = String::new();
    for (_, id) in tips {
        input.push_str(&format!("{id}\n"));
    }
    for id in exclude_ids {
        input.push_str(&format!("^{id}\n"));
    }
    let output = command::run(cmd, input.into_bytes(), limit)?;
    if !output.status.success() {
        return Err(RunError::Failed(anyhow!(
            "git rev-list could not list the pushed commits: {}",
            command::first_error_line(&output)
        )));
    }
    let mut commits = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let mut ids = line.split_whitespace().map(|h| {
            ObjectId::from_hex(h.as_bytes()).map_err(|e| anyhow!("git rev-list printed {h}: {e}"))
        });
        let Some(id) = ids.next() else { continue };
        let id = id.map_err(RunError::Failed)?;
        commits.push((
            id,
            ids.collect::<Result<Vec<_>>>().map_err(RunError::Failed)?,
        ));
    }
    Ok(commits)
}

/// `keyscan pre-receive`: the report for the pusher, and the audit lines
/// for the server's log. Errors (unreadable objects, the time limit when
/// failing closed) reject the push.
pub fn pre_receive(
    scanner: &Scanner,
    server: &ServerSettings,
    input: &[u8],
    started: Instant,
) -> Result<(Report, Vec<String>)> {
    let updates = parse_receive_lines(input)?;
    let limit = server::deadline(started, server.time_limit);
    let mut scan = scan_push(scanner, &updates, &["--all".to_string()], &[], limit)?;
    let mut warnings = Vec::new();
    if let Some(what) = &scan.timed_out {
        warnings.push(server::out_of_time(server, what, &scan.findings)?);
    }
    if server.allow_repo_config {
        let configs = server::RepoConfigs::parse(&repo_configs(&updates)?)?;
        configs.apply(&mut scan.findings);
    }
    let mut audit = Vec::new();
    if server.allow_push_option_bypass {
        audit = server::apply_push_option_bypass(&push_context(), &mut scan.findings);
    }
    if scan.findings.iter().any(|f| f.blocking) {
        audit.clear(); // rejected anyway: nothing was let through
    }
    let report = Report {
        scanned: scan.summary(),
        findings: scan.findings,
        warnings,
        mode: Mode::PreReceive,
        ..Report::default()
    };
    Ok((report, audit))
}

/// The `.keyscan.toml` at the top of each pushed ref's tree: (ref, text).
fn repo_configs(updates: &[RefUpdate]) -> Result<Vec<(String, String)>> {
    let stores = HookStores::open(open_repo()?.path())?;
    let mut buf = Vec::new();
    let mut out = Vec::new();
    for u in updates {
        let Some(new) = u.new else { continue };
        let Ok(Some(tree)) = peel_to_tree(&stores, new, &mut buf) else {
            continue;
        };
        let entries = read_tree(&stores, &tree, &mut buf)?;
        let Some(entry) = entries.iter().find(|e| e.name == FILE_NAME.as_bytes()) else {
            continue;
        };
        if stores.read(&entry.id, &mut buf)? != Some(Kind::Blob) {
            continue;
        }
        out.push((u.name.clone(), String::from_utf8_lossy(&buf).into_owned()));
    }
    Ok(out)
}

/// The push options and the pusher, as the server's environment gives them.
fn push_context() -> PushContext {
    let count: usize = std::env::var("GIT_PUSH_OPTION_COUNT")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let options = (0..count)
        .filter_map(|i| std::env::var(format!("GIT_PUSH_OPTION_{i}")).ok())
        .collect();
    let pusher = server::PUSHER_VARIABLES.iter().find_map(|var| {
        std::env::var(var)
            .ok()
            .filter(|v| !v.is_empty())
            .map(|v| (var.to_string(), v))
    });
    PushContext { options, pusher }
}

/// `keyscan pre-push REMOTE URL`, or under the pre-commit framework
/// (`PRE_COMMIT_FROM_REF` / `PRE_COMMIT_TO_REF`, nothing on standard input).
pub fn pre_push(scanner: &Scanner, remote: Option<&str>, input: &[u8]) -> Result<Report> {
    let repo = open_repo()?;
    let mut updates = parse_push_lines(input)?;
    let mut exclude = Vec::new();
    let mut exclude_ids = Vec::new();
    let to_ref = std::env::var("PRE_COMMIT_TO_REF")
        .ok()
        .filter(|s| !s.is_empty());
    let remote_name = remote
        .map(str::to_string)
        .or_else(|| std::env::var("PRE_COMMIT_REMOTE_NAME").ok())
        .filter(|s| !s.is_empty());
    if let (true, Some(to)) = (updates.is_empty(), &to_ref) {
        let resolve = |rev: &str| {
            repo.revparse_single(rev)
                .map(|o| from_git2(o.id()))
                .map_err(|e| anyhow!("cannot resolve {rev}: {}", e.message()))
        };
        let name = std::env::var("PRE_COMMIT_REMOTE_BRANCH").unwrap_or_else(|_| to.clone());
        updates.push(RefUpdate {
            name,
            old: None,
            new: Some(resolve(to)?),
        });
        let from = std::env::var("PRE_COMMIT_FROM_REF").unwrap_or_default();
        // All zeros: pre-commit's way of saying the remote has no such ref.
        if !from.is_empty() && !from.bytes().all(|b| b == b'0') {
            exclude_ids.push(resolve(&from)?);
        }
    }
    if exclude_ids.is_empty() {
        if let Some(name) = &remote_name {
            exclude.push(format!("--remotes={name}"));
        }
    }
    // What the remote already has, when this clone has it too.
    let odb = repo
        .odb()
        .map_err(|e| anyhow!("cannot read the object database: {}", e.message()))?;
    for old in updates.iter().filter_map(|u| u.old) {
        if git2::Oid::from_bytes(old.as_bytes()).is_ok_and(|oid| odb.exists(oid)) {
            exclude_ids.push(old);
        }
    }
    let scan = scan_push(scanner, &updates, &exclude, &exclude_ids, None)?;
    Ok(Report {
        scanned: scan.summary(),
        findings: scan.findings,
        mode: Mode::PrePush,
        root: repo.workdir().map(Path::to_path_buf),
        ..Report::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receive_lines_parse_and_deletions_have_no_new_id() {
        let z = "0".repeat(40);
        let a = "a".repeat(40);
        let u = parse_receive_lines(
            format!("{z} {a} refs/heads/x\n{a} {z} refs/tags/t\n\n").as_bytes(),
        )
        .unwrap();
        assert_eq!(u.len(), 2);
        assert!(u[0].old.is_none() && u[0].new.is_some());
        assert!(u[1].new.is_none());
        assert!(parse_receive_lines(b"junk\n").is_err());
        let p = parse_push_lines(format!("refs/heads/x {a} refs/heads/y {z}").as_bytes()).unwrap();
        assert_eq!(p[0].name, "refs/heads/y");
        assert!(p[0].old.is_none());
    }
}
