//! The history source: every blob reachable from every ref, each scanned
//! once, each finding tied to the commit and path that brought it in.
//!
//! So that a key-free blob costs little more than inflating it:
//! 1. every object of the stores but the trees once, in pack order, on all
//!    cores ([`crate::git::packs`]): blobs go through the rules and
//!    validators (only those that hold a key are remembered; a delta of a
//!    keyword-free blob has only its new bytes gated, see `keyword_free.rs`),
//!    commits are parsed and kept (tree, parents, time), and the messages of
//!    commits and tags go through the rules too; the pack's pages are then
//!    let go;
//! 2. the trees alone, decoded along their own delta chains, each
//!    reduced to its folders and the entries that matter now that pass 1
//!    named them: key blobs, blobs the stores lack, submodules
//!    ([`crate::git::tree_index`]);
//! 3. a walk of the commit graph from every ref, in memory: each commit's
//!    tree diffed against its parents', skipping equal subtrees and those
//!    that hold nothing that matters. It says which commit first brought
//!    each key blob in at each path, finds missing blobs, and tells
//!    reachable blobs from dangling ones. Then each location is looked up
//!    in every ref's tip tree: `still_in`.

use super::keyword_free::KeywordFree;
use super::{commit_info, plural, timing};
use crate::git::introduced::EntryKind;
use crate::git::objects::{self, peel, peel_with, read_commit, CommitData, Peeled};
use crate::git::packs::{Counters, Stores, TreeLocations};
use crate::git::repo::{RefTip, Repo};
use crate::git::tree_index::{Present, TreeIndex};
use crate::git::{ObjectId, ObjectReader};
use crate::scan::finding::{CommitInfo, Finding};
use crate::scan::{Hit, Origin, Scanner};
use anyhow::{anyhow, Result};
use gix::objs::Kind;
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Default, Clone)]
pub struct HistoryOptions {
    /// Only these refs (full names, or short names under refs/heads,
    /// refs/tags, refs/remotes).
    pub refs: Vec<String>,
    /// Leave out commits reachable from this revision.
    pub since: Option<String>,
    /// Also scan objects no ref reaches (dangling commits, lost blobs).
    pub all_objects: bool,
    /// Show progress on standard error (only when it is a terminal).
    pub progress: bool,
}

/// What a history scan found and what it could not read.
#[derive(Debug, Default)]
pub struct HistoryScan {
    pub findings: Vec<Finding>,
    /// Worth knowing, not findings: shallow boundary, refs left out, submodules.
    pub notes: Vec<String>,
    /// What could not be read (missing or corrupt objects): exit 2.
    pub errors: Vec<String>,
    pub refs: usize,
    pub commits: usize,
    pub blobs: u64,
    pub bytes: u64,
    pub seconds: f64,
}

impl HistoryScan {
    /// The summary line: refs, commits, distinct blobs, bytes, seconds.
    pub fn summary(&self) -> String {
        format!(
            "{} ref{}, {} commit{}, {} distinct blob{} ({}) in {:.1} s",
            self.refs,
            plural(self.refs),
            self.commits,
            plural(self.commits),
            self.blobs,
            plural(self.blobs as usize),
            human_bytes(self.bytes),
            self.seconds
        )
    }
}

/// A blob that holds a key, at one path, brought in by one commit.
#[derive(Debug, Clone)]
struct Location {
    commit: Option<ObjectId>,
    time: i64,
}

pub fn scan_history(scanner: &Scanner, path: &Path, opts: &HistoryOptions) -> Result<HistoryScan> {
    let started = Instant::now();
    let repo = Repo::discover(path)?;
    let mut out = HistoryScan::default();
    let tips = chosen_tips(&repo, opts, &mut out)?;
    out.refs = tips.len();
    let excluded = left_out(&repo, opts, &mut out)?;
    if !repo.shallow.is_empty() {
        out.notes.push(format!(
            "shallow clone: history before {} boundary commit{} is not in this repository and was not scanned",
            repo.shallow.len(),
            plural(repo.shallow.len())
        ));
    }

    // Pass 1: every object once.
    let mut stores = Stores::open(&repo.objects_dir)?.with_limit(super::blob_limit(scanner));
    let pass1 = read_objects(scanner, &repo, &stores, opts, &mut out);
    // The pages pass 1 read are not needed again: let them go.
    stores.release_pages()?;
    timing(started, "objects read, blobs scanned");

    // Pass 2: every tree once, reduced to its folders and the entries that
    // matter (key blobs, missing blobs, submodules).
    let interesting: gix::hashtable::HashSet = (pass1.hits.keys())
        .chain(pass1.too_big.keys())
        .copied()
        .collect();
    let (index, tree_errors) = TreeIndex::build(
        &stores,
        &repo.repo,
        &pass1.trees,
        &interesting,
        pass1.present.as_ref(),
    );
    out.errors.extend(tree_errors);
    stores.release_pages()?;
    timing(started, "trees indexed");

    // Pass 3: where each key blob came in; missing blobs.
    let mut walk = Walk {
        reader: &repo.repo,
        commits: &pass1.commits,
        hits: &pass1.hits,
        too_big: &pass1.too_big,
        index: &index,
        stores: &stores,
        found: Found::default(),
        walked: 0,
        excluded: &excluded,
        shallow: repo.shallow.iter().copied().collect(),
        seen: HashSet::new(),
        tip_commits: Vec::new(),
        tags: HashMap::new(),
    };
    let locations = walk.run(&tips, opts.all_objects, &mut out);
    let message_findings = walk.message_findings(scanner, &pass1.messages, opts.all_objects);
    drop(walk);
    timing(started, "commit walk done");

    let tip_trees = if locations.is_empty() {
        Vec::new()
    } else {
        tip_trees(&repo.repo, &pass1.commits, &tips)
    };
    let located = Located {
        scanner,
        reader: &repo.repo,
        hits: &pass1.hits,
        index: &index,
        tip_trees: &tip_trees,
    };
    out.findings = located.findings(&locations, opts.all_objects);
    out.findings.extend(message_findings);
    sort(&mut out.findings);
    timing(started, "findings located");
    out.seconds = started.elapsed().as_secs_f64();
    Ok(out)
}

/// The refs to scan: all, or those `--ref` names (noted).
fn chosen_tips(repo: &Repo, opts: &HistoryOptions, out: &mut HistoryScan) -> Result<Vec<RefTip>> {
    let all_refs = repo.refs()?;
    if opts.refs.is_empty() {
        return Ok(all_refs);
    }
    // A symbolic ref (`HEAD` on a branch, `origin/HEAD`) names its target.
    let wanted: Vec<(&String, Option<String>)> = opts
        .refs
        .iter()
        .map(|want| (want, symbolic_target(&repo.repo, want)))
        .collect();
    let names = |name: &str, (want, target): &(&String, Option<String>)| {
        ref_matches(name, want) || target.as_deref() == Some(name)
    };
    let chosen: Vec<RefTip> = all_refs
        .iter()
        .filter(|r| wanted.iter().any(|w| names(&r.name, w)))
        .cloned()
        .collect();
    for w in &wanted {
        if !all_refs.iter().any(|r| names(&r.name, w)) {
            anyhow::bail!("no ref named {}", w.0);
        }
    }
    out.notes.push(format!(
        "scanned {} of {} refs (--ref); the others were left out",
        chosen.len(),
        all_refs.len()
    ));
    Ok(chosen)
}

/// The commits `--since` leaves out (noted).
fn left_out(
    repo: &Repo,
    opts: &HistoryOptions,
    out: &mut HistoryScan,
) -> Result<HashSet<ObjectId>> {
    let Some(rev) = &opts.since else {
        return Ok(HashSet::new());
    };
    // Peeled: an annotated tag names the commit it tags.
    let id = repo
        .repo
        .rev_parse_single(rev.as_str())
        .map_err(|e| anyhow!("--since {rev}: {e}"))?
        .object()
        .map_err(|e| anyhow!("--since {rev}: {e}"))?
        .peel_to_commit()
        .map_err(|e| anyhow!("--since {rev}: {e}"))?
        .id;
    let mut seen = HashSet::new();
    let commits = ancestry(&repo.repo, &[id], &mut seen, &repo.shallow)?;
    out.notes.push(format!(
        "left out {} commit{} reachable from {rev} (--since)",
        commits,
        plural(commits)
    ));
    Ok(seen)
}

/// What pass 1 keeps: blobs with hits, every commit, the trees' locations,
/// and (when a blob may be missing) which blobs the stores hold.
struct Pass1 {
    hits: HashMap<ObjectId, Vec<Hit>>,
    /// Commits and tags whose message holds a key.
    messages: HashMap<ObjectId, Vec<Hit>>,
    commits: HashMap<ObjectId, CommitData>,
    trees: TreeLocations,
    present: Option<Present>,
    /// Blobs over the size limit, never read: their sizes.
    too_big: HashMap<ObjectId, u64>,
}

/// Pass 1: every object once, in pack order on all cores. Blobs go through
/// the rules, commits are kept (small), trees are left for pass 2.
fn read_objects(
    scanner: &Scanner,
    repo: &Repo,
    stores: &Stores,
    opts: &HistoryOptions,
    out: &mut HistoryScan,
) -> Pass1 {
    let counters = Counters::default();
    let hits: Mutex<HashMap<ObjectId, Vec<Hit>>> = Mutex::new(HashMap::new());
    let messages: Mutex<HashMap<ObjectId, Vec<Hit>>> = Mutex::new(HashMap::new());
    let commits = CommitTable::default();
    // Which blobs the stores hold, to find those a tree names but nobody has
    // (partial clones; loose objects deleted by hand). A fully packed, whole
    // repository cannot lack one without its pack failing to read.
    let present: Option<Mutex<Vec<ObjectId>>> =
        (repo.partial || stores.has_loose_or_alternates()).then(Default::default);
    let keyword_free = KeywordFree::new(scanner, stores.packed_objects);
    let traversal = with_progress(opts.progress, &counters, stores.packed_objects, || {
        stores.for_each_object_with(&repo.repo, &counters, &|o| match o.kind {
            Kind::Blob => {
                let id = o.id;
                if let Some(p) = &present {
                    p.lock().unwrap().push(id);
                }
                let found = keyword_free.hits(scanner, o);
                if !found.is_empty() {
                    hits.lock().unwrap().insert(id, found);
                }
            }
            Kind::Commit | Kind::Tag => {
                let (kind, id, data) = (o.kind, o.id, o.data);
                if kind == Kind::Commit {
                    commits.add(id, data);
                }
                let found = scanner.hits(objects::message(data));
                if !found.is_empty() {
                    messages.lock().unwrap().insert(id, found);
                }
            }
            Kind::Tree => {}
        })
    });
    out.errors.extend(traversal.errors);
    out.notes.extend(traversal.notes);
    // Never inflated (see git::packs::Oversized): a blob is skipped and said so
    // with its path after the walk, as `scan` skips a file over
    // max_file_size; anything else over the limit cannot be read.
    let mut too_big = HashMap::new();
    for o in traversal.oversized {
        match o.kind {
            Some(Kind::Blob) => {
                too_big.insert(o.id, o.size);
            }
            kind => out.errors.push(format!(
                "{} {} ({} bytes) is over the {} byte limit per object ([policy] max_file_size): not read",
                kind.map_or("object".to_string(), |k| k.to_string()),
                o.id,
                o.size,
                stores.limit()
            )),
        }
    }
    out.blobs = counters.blobs.load(Ordering::Relaxed);
    out.bytes = counters.bytes.load(Ordering::Relaxed);
    Pass1 {
        hits: hits.into_inner().unwrap(),
        messages: messages.into_inner().unwrap(),
        commits: commits.into_map(),
        trees: traversal.trees,
        present: present.map(|p| Present::new(p.into_inner().unwrap())),
        too_big,
    }
}

/// Each tip's name and the tree it leads to, or the blob a tag names
/// (`is_blob`).
fn tip_trees(
    reader: &gix::Repository,
    commits: &HashMap<ObjectId, CommitData>,
    tips: &[RefTip],
) -> Vec<(String, ObjectId, bool)> {
    let mut buf = Vec::new();
    let mut out = Vec::new();
    for tip in tips {
        // A tip that does not peel was reported by the walk.
        let tree = match peel(reader, tip.id, &mut buf) {
            Ok(Peeled::Commit(id)) => match commits.get(&id) {
                Some(c) => Some(c.tree),
                None => read_commit(reader, &id, &mut buf).ok().map(|c| c.tree),
            },
            Ok(Peeled::Tree(id)) => Some(id),
            Ok(Peeled::Blob(id)) => {
                out.push((tip.name.clone(), id, true));
                None
            }
            Err(_) => None,
        };
        if let Some(tree) = tree {
            out.push((tip.name.clone(), tree, false));
        }
    }
    out
}

/// Turns the walk's locations into findings, each with the tips that still
/// hold it.
struct Located<'a> {
    scanner: &'a Scanner,
    reader: &'a gix::Repository,
    hits: &'a HashMap<ObjectId, Vec<Hit>>,
    index: &'a TreeIndex,
    tip_trees: &'a [(String, ObjectId, bool)],
}

impl Located<'_> {
    fn findings(
        &self,
        locations: &BTreeMap<(ObjectId, Vec<u8>), Location>,
        all_objects: bool,
    ) -> Vec<Finding> {
        let mut findings = Vec::new();
        let mut located: HashSet<ObjectId> = HashSet::new();
        let mut authors: HashMap<ObjectId, CommitInfo> = HashMap::new();
        for ((blob, path), loc) in locations {
            located.insert(*blob);
            let still_in: Vec<String> = self
                .tip_trees
                .iter()
                .filter(|(name, id, is_blob)| match is_blob {
                    // A tag on the blob itself, located at the tag's name.
                    true => id == blob && name.as_bytes() == path.as_slice(),
                    false => self.index.marked_at(id, path) == Some(*blob),
                })
                .map(|(name, _, _)| name.clone())
                .collect();
            let commit = loc.commit.map(|id| {
                authors
                    .entry(id)
                    .or_insert_with(|| commit_info(self.reader, &id))
                    .clone()
            });
            let (shown, raw_path) = crate::report::escape::path(path);
            let origin = Origin {
                path: shown,
                blob: Some(blob.to_string()),
                commit,
            };
            for hit in &self.hits[blob] {
                let mut f = self.scanner.finding(hit.clone(), &origin);
                if raw_path.is_some() {
                    f.raw_path = raw_path.clone();
                }
                f.still_in = Some(still_in.clone());
                findings.push(f);
            }
        }
        if all_objects {
            // Blobs no commit holds at any path: lost blobs, stashes dropped long ago.
            for (blob, found) in self.hits {
                if located.contains(blob) {
                    continue;
                }
                let origin = Origin {
                    path: format!("(unreachable blob {blob})"),
                    blob: Some(blob.to_string()),
                    commit: None,
                };
                for hit in found {
                    let mut f = self.scanner.finding(hit.clone(), &origin);
                    f.still_in = Some(Vec::new());
                    findings.push(f);
                }
            }
        }
        findings
    }
}

/// By date, path and line.
fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        let time = |f: &Finding| f.commit.as_ref().and_then(|c| c.date.clone());
        (time(a), &a.path, a.line).cmp(&(time(b), &b.path, b.line))
    });
}

/// `want` names `name`: exactly, or as a short name of a branch, tag or remote-tracking ref.
fn ref_matches(name: &str, want: &str) -> bool {
    name == want
        || ["refs/heads/", "refs/tags/", "refs/remotes/", "refs/"]
            .iter()
            .any(|p| name.strip_prefix(p) == Some(want))
}

/// The ref a symbolic ref such as `HEAD` points at.
fn symbolic_target(repo: &gix::Repository, name: &str) -> Option<String> {
    let r = repo.find_reference(name).ok()?;
    match r.target() {
        gix::refs::TargetRef::Symbolic(target) => Some(target.as_bstr().to_string()),
        gix::refs::TargetRef::Object(_) => None,
    }
}

/// What the walk knows of a blob: which stores hold it, which blobs hold
/// keys, and which were over the size limit.
type Known<'a> = (
    &'a Stores,
    &'a HashMap<ObjectId, Vec<Hit>>,
    &'a HashMap<ObjectId, u64>,
);

/// What diffing commits found; each thread keeps its own, merged at the end.
#[derive(Default)]
struct Found {
    /// (blob, path) -> the first commit that brought it in.
    locations: BTreeMap<(ObjectId, Vec<u8>), Location>,
    missing: BTreeMap<ObjectId, String>,
    /// Blobs over the size limit, with a path each.
    too_big: BTreeMap<ObjectId, String>,
    submodules: usize,
    errors: Vec<String>,
}

impl Found {
    fn visit(
        &mut self,
        (objects, hits, too_big): Known<'_>,
        path: &[u8],
        blob: ObjectId,
        kind: EntryKind,
        at: (Option<ObjectId>, i64),
    ) {
        let (commit, time) = at;
        if kind == EntryKind::Submodule {
            self.submodules += 1;
            return;
        }
        if hits.contains_key(&blob) {
            let loc = self
                .locations
                .entry((blob, path.to_vec()))
                .or_insert(Location { commit, time });
            if time < loc.time || (loc.commit.is_none() && commit.is_some()) {
                *loc = Location { commit, time };
            }
        } else if too_big.contains_key(&blob) {
            (self.too_big.entry(blob)).or_insert_with(|| crate::report::escape::bytes(path));
        } else if !self.missing.contains_key(&blob) && !objects.contains(&blob) {
            self.missing
                .insert(blob, crate::report::escape::bytes(path));
        }
    }

    fn merge(mut self, other: Found) -> Found {
        for (key, loc) in other.locations {
            match self.locations.entry(key) {
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(loc);
                }
                std::collections::btree_map::Entry::Occupied(mut o) => {
                    let cur = o.get();
                    if loc.time < cur.time || (cur.commit.is_none() && loc.commit.is_some()) {
                        o.insert(loc);
                    }
                }
            }
        }
        for (blob, path) in other.missing {
            self.missing.entry(blob).or_insert(path);
        }
        for (blob, path) in other.too_big {
            self.too_big.entry(blob).or_insert(path);
        }
        self.submodules += other.submodules;
        self.errors.extend(other.errors);
        self
    }
}

struct Walk<'a> {
    reader: &'a gix::Repository,
    /// Every commit of the stores, parsed in pass 1.
    commits: &'a HashMap<ObjectId, CommitData>,
    hits: &'a HashMap<ObjectId, Vec<Hit>>,
    too_big: &'a HashMap<ObjectId, u64>,
    index: &'a TreeIndex,
    stores: &'a Stores,
    found: Found,
    /// Commits walked.
    walked: usize,
    excluded: &'a HashSet<ObjectId>,
    shallow: HashSet<ObjectId>,
    seen: HashSet<ObjectId>,
    /// Each tip's commit, by ref name.
    tip_commits: Vec<(String, ObjectId)>,
    /// The annotated tags on the way from each tip, with their refs.
    tags: HashMap<ObjectId, Vec<String>>,
}

impl<'a> Walk<'a> {
    /// Walks from every tip (and, with `all_objects`, from commits no ref
    /// reaches); notes and errors go to `out`. Returns the locations.
    fn run(
        &mut self,
        tips: &[RefTip],
        all_objects: bool,
        out: &mut HistoryScan,
    ) -> BTreeMap<(ObjectId, Vec<u8>), Location> {
        let mut roots = Vec::new();
        for tip in tips {
            self.tip(tip, &mut roots);
        }
        self.commits_from(&roots);
        if all_objects {
            self.dangling();
        }
        out.commits = self.walked;
        self.note_too_big(out);
        let found = &mut self.found;
        if found.submodules > 0 {
            out.notes.push(format!(
                "{} submodule entr{} skipped (scan each submodule's own repository)",
                found.submodules,
                if found.submodules == 1 { "y" } else { "ies" }
            ));
        }
        out.errors.append(&mut found.errors);
        for (blob, path) in &found.missing {
            out.errors.push(format!(
                "blob {blob} ({path}) is missing (partial clone or damaged repository); not fetched, not scanned"
            ));
        }
        std::mem::take(&mut found.locations)
    }

    /// Blobs over the size limit: skipped and said so, by id, size and the
    /// first path the walk met them at (none for a blob no tree names).
    fn note_too_big(&self, out: &mut HistoryScan) {
        let mut ids: Vec<(&ObjectId, &u64)> = self.too_big.iter().collect();
        ids.sort();
        for (id, size) in ids {
            let at = self
                .found
                .too_big
                .get(id)
                .map_or_else(String::new, |p| format!("{p}, "));
            out.notes.push(format!(
                "blob {id} ({at}{size} bytes) is over the {} byte limit per blob \
                 ([policy] max_file_size): skipped, not scanned",
                self.stores.limit()
            ));
        }
    }

    /// Peels a ref's tip through annotated tags. Commits go to `roots`;
    /// a tag on a tree or a blob is attributed here, to the ref. A tip that
    /// cannot be peeled is an error (exit 2), never skipped silently.
    fn tip(&mut self, tip: &RefTip, roots: &mut Vec<ObjectId>) {
        let mut buf = Vec::new();
        let tags = &mut self.tags;
        let mut on_tag =
            |id: ObjectId, _: &[u8]| tags.entry(id).or_default().push(tip.name.clone());
        match peel_with(self.reader, tip.id, &mut buf, &mut on_tag) {
            Ok(Peeled::Commit(id)) => {
                roots.push(id);
                self.tip_commits.push((tip.name.clone(), id));
            }
            Ok(Peeled::Tree(id)) => {
                // The same in-memory diff as for commits, against nothing.
                let (known, found) = (self.known(), &mut self.found);
                self.index.introduced(&id, &[], &mut |path, blob, kind| {
                    found.visit(known, path, blob, kind, (None, 0))
                });
            }
            Ok(Peeled::Blob(id)) => {
                let name = tip.name.clone();
                self.visit(name.as_bytes(), id, EntryKind::File, None, 0);
            }
            Err(e) => self.found.errors.push(format!("{}: {e:#}", tip.name)),
        }
    }

    fn visit(
        &mut self,
        path: &[u8],
        blob: ObjectId,
        kind: EntryKind,
        commit: Option<ObjectId>,
        time: i64,
    ) {
        let known = self.known();
        self.found.visit(known, path, blob, kind, (commit, time));
    }

    fn known(&self) -> Known<'a> {
        (self.stores, self.hits, self.too_big)
    }

    /// Every commit reachable from `roots` (minus the excluded ones), each
    /// diffed against its parents once.
    fn commits_from(&mut self, roots: &[ObjectId]) {
        // First the commits alone (small objects), then their trees diffed
        // in memory, one after the other.
        let mut stack: Vec<ObjectId> = roots
            .iter()
            .filter(|id| !self.excluded.contains(*id))
            .copied()
            .collect();
        let mut buf = Vec::new();
        let mut walked: Vec<(ObjectId, Cow<CommitData>)> = Vec::new();
        while let Some(id) = stack.pop() {
            if !self.seen.insert(id) {
                continue;
            }
            let mut commit = match self.commits.get(&id) {
                Some(c) => Cow::Borrowed(c),
                // Not a commit of the stores: say what it is.
                None => match read_commit(self.reader, &id, &mut buf) {
                    Ok(c) => Cow::Owned(c),
                    Err(e) => {
                        self.found.errors.push(format!("{e:#}"));
                        continue;
                    }
                },
            };
            if self.shallow.contains(&id) {
                commit.to_mut().parents.clear();
            }
            for p in &commit.parents {
                if !self.excluded.contains(p) && !self.seen.contains(p) {
                    stack.push(*p);
                }
            }
            walked.push((id, commit));
        }
        self.walked += walked.len();
        // Each commit diffed on its own, on all cores; the results are
        // merged in walk order, so the first commit wins a tie as it would
        // one after the other.
        let (index, stores, commits, known) = (self.index, self.stores, self.commits, self.known());
        // A tree that is in no store (not merely absent from the index,
        // which leaves out trees that hold nothing that matters).
        let lacks = |tree: &ObjectId| !index.has(tree) && !stores.contains(tree);
        // Parents left out by --since are still compared against.
        let tree_of = |id: &ObjectId| commits.get(id).map(|c| c.tree);
        let found = walked
            .par_iter()
            .fold(Found::default, |mut found, (id, commit)| {
                if lacks(&commit.tree) {
                    found
                        .errors
                        .push(format!("commit {id}: tree {} is missing", commit.tree));
                    return found;
                }
                // A parent whose tree is missing (a treeless partial clone)
                // counts as empty, so the keys this commit holds are still
                // found; the parent's own visit reports its tree missing.
                let parent_trees: Vec<ObjectId> = commit
                    .parents
                    .iter()
                    .filter_map(tree_of)
                    .filter(|t| !lacks(t))
                    .collect();
                index.introduced(&commit.tree, &parent_trees, &mut |path, blob, kind| {
                    found.visit(known, path, blob, kind, (Some(*id), commit.time))
                });
                found
            })
            .reduce(Found::default, Found::merge);
        let mine = std::mem::take(&mut self.found);
        self.found = mine.merge(found);
    }

    /// A finding for each key in the message of a commit the walk reached
    /// or a tag on the way from a tip (any commit or tag with
    /// `all_objects`), located by the commit or tag; `still_in`: the refs
    /// that reach it.
    fn message_findings(
        &self,
        scanner: &Scanner,
        messages: &HashMap<ObjectId, Vec<Hit>>,
        all_objects: bool,
    ) -> Vec<Finding> {
        let wanted: HashSet<ObjectId> = messages
            .keys()
            .filter(|id| all_objects || self.seen.contains(*id) || self.tags.contains_key(*id))
            .copied()
            .collect();
        if wanted.is_empty() {
            return Vec::new();
        }
        let mut reached: HashMap<ObjectId, Vec<String>> = self.tags.clone();
        for (name, tip) in &self.tip_commits {
            for id in self.ancestors(*tip).filter(|id| wanted.contains(id)) {
                reached.entry(id).or_default().push(name.clone());
            }
        }
        let mut findings = Vec::new();
        let mut ids: Vec<&ObjectId> = wanted.iter().collect();
        ids.sort();
        for id in ids {
            let (kind, commit) = if self.commits.contains_key(id) {
                ("commit", commit_info(self.reader, id))
            } else {
                let info = CommitInfo {
                    id: id.to_string(),
                    ..CommitInfo::default()
                };
                ("tag", info)
            };
            let origin = Origin {
                path: format!("(message of {kind} {id})"),
                blob: None,
                commit: Some(commit),
            };
            for hit in &messages[id] {
                let mut f = scanner.finding(hit.clone(), &origin);
                f.still_in = Some(reached.get(id).cloned().unwrap_or_default());
                findings.push(f);
            }
        }
        findings
    }

    /// The commits reachable from `tip`, in memory.
    fn ancestors(&self, tip: ObjectId) -> impl Iterator<Item = ObjectId> + '_ {
        let mut stack = vec![tip];
        let mut seen = HashSet::new();
        std::iter::from_fn(move || {
            while let Some(id) = stack.pop() {
                if !seen.insert(id) {
                    continue;
                }
                if let Some(c) = self.commits.get(&id) {
                    if !self.shallow.contains(&id) {
                        stack.extend(c.parents.iter().copied());
                    }
                }
                return Some(id);
            }
            None
        })
    }

    /// Commits no ref reaches: those in the stores that the walk did not see.
    fn dangling(&mut self) {
        let mut unseen: Vec<ObjectId> = self
            .commits
            .keys()
            .filter(|id| !self.seen.contains(*id))
            .copied()
            .collect();
        unseen.sort();
        self.commits_from(&unseen);
    }
}

/// Every commit of the stores, parsed as pass 1 meets them (on all cores).
#[derive(Default)]
struct CommitTable {
    shards: [Mutex<Vec<(ObjectId, CommitData)>>; 16],
}

impl CommitTable {
    fn add(&self, id: ObjectId, data: &[u8]) {
        // A commit that does not parse is left out here; the walk reads it
        // again and reports why.
        if let Ok(c) = gix::objs::CommitRef::from_bytes(data, id.kind()) {
            let commit = CommitData {
                tree: c.tree(),
                parents: c.parents().collect(),
                time: c.time().map(|t| t.seconds).unwrap_or(0),
            };
            self.shards[id.as_bytes()[0] as usize % 16]
                .lock()
                .unwrap()
                .push((id, commit));
        }
    }

    fn into_map(self) -> HashMap<ObjectId, CommitData> {
        let mut map = HashMap::new();
        for shard in self.shards {
            map.extend(shard.into_inner().unwrap());
        }
        map
    }
}

/// Commits reachable from `from`, added to `seen`; returns how many.
fn ancestry(
    reader: &dyn ObjectReader,
    from: &[ObjectId],
    seen: &mut HashSet<ObjectId>,
    shallow: &[ObjectId],
) -> Result<usize> {
    let mut stack = from.to_vec();
    let mut buf = Vec::new();
    let mut n = 0;
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        n += 1;
        let commit = read_commit(reader, &id, &mut buf)?;
        if !shallow.contains(&id) {
            stack.extend(commit.parents.iter().filter(|p| !seen.contains(*p)));
        }
    }
    Ok(n)
}

/// Runs `work` with objects and bytes scanned, rate and ETA on standard
/// error, when it is a terminal.
fn with_progress<T>(wanted: bool, counters: &Counters, total: u64, work: impl FnOnce() -> T) -> T {
    if !wanted || !std::io::stderr().is_terminal() {
        return work();
    }
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} {pos}/{len} objects, {msg} [{elapsed_precise}]",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let started = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                let bytes = counters.bytes.load(Ordering::Relaxed);
                let secs = started.elapsed().as_secs_f64().max(0.001);
                let done = counters.objects.load(Ordering::Relaxed);
                bar.set_position(done);
                bar.set_message(format!(
                    "{} of blobs, {}/s{}",
                    human_bytes(bytes),
                    human_bytes((bytes as f64 / secs) as u64),
                    eta(secs, done, total)
                ));
                std::thread::sleep(Duration::from_millis(100));
            }
            bar.finish_and_clear();
        });
        let result = work();
        stop.store(true, Ordering::Relaxed);
        result
    })
}

/// ", ETA 12 s" from the share of objects done so far; nothing until a
/// second has passed or when the total is unknown (it counts packed
/// objects only, so past it there is no estimate).
fn eta(secs: f64, done: u64, total: u64) -> String {
    if secs < 1.0 || done == 0 || done >= total {
        return String::new();
    }
    let left = secs * (total - done) as f64 / done as f64;
    format!(", ETA {:.0} s", left.ceil())
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::eta;

    #[test]
    fn eta_is_estimated_from_the_share_done() {
        assert_eq!(eta(0.5, 10, 100), "");
        assert_eq!(eta(2.0, 0, 100), "");
        assert_eq!(eta(2.0, 50, 100), ", ETA 2 s");
        assert_eq!(eta(3.0, 25, 100), ", ETA 9 s");
        assert_eq!(eta(3.0, 100, 100), "");
    }
}
