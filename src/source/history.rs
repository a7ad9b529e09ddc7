//! The history source: every blob reachable from every ref, each scanned
//! once, each finding tied to the commit and path that brought it in.
//!
//! So that a key-free blob costs little more than inflating it:
//! 1. every object of the stores once, in pack order, on all cores
//!    ([`crate::git::packs`]): blobs go through the rules and validators
//!    (only those that hold a key are remembered), commits are parsed and
//!    kept (tree, parents, time);
//! 2. the trees alone, decoded again along their own delta chains, each
//!    reduced to its folders and the entries that matter now that pass 1
//!    named them: key blobs, blobs the stores lack, submodules
//!    ([`crate::git::tree_index`]);
//! 3. a walk of the commit graph from every ref, in memory: each commit's
//!    tree diffed against its parents', skipping equal subtrees and those
//!    that hold nothing that matters. It says which commit first brought
//!    each key blob in at each path, finds missing blobs, and tells
//!    reachable blobs from dangling ones. Then each location is looked up
//!    in every ref's tip tree: `still_in`.

use crate::git::introduced::{self, read_commit, CommitData, EntryKind};
use crate::git::packs::{Counters, Stores};
use crate::git::repo::{RefTip, Repo};
use crate::git::tree_index::{Present, TreeIndex};
use crate::git::{ObjectId, ObjectReader};
use crate::scan::finding::{CommitInfo, Finding};
use crate::scan::{Hit, Origin, Scanner};
use anyhow::{anyhow, Result};
use gix::objs::Kind;
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

    // Which refs, and which commits to leave out.
    let all_refs = repo.refs()?;
    let tips: Vec<RefTip> = if opts.refs.is_empty() {
        all_refs.clone()
    } else {
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
        chosen
    };
    out.refs = tips.len();
    let excluded = match &opts.since {
        Some(rev) => {
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
            seen
        }
        None => HashSet::new(),
    };
    if !repo.shallow.is_empty() {
        out.notes.push(format!(
            "shallow clone: history before {} boundary commit{} is not in this repository and was not scanned",
            repo.shallow.len(),
            plural(repo.shallow.len())
        ));
    }

    // Pass 1: every object once. Blobs go through the rules, commits are
    // kept (small), trees are left for pass 2.
    let stores = Stores::open(&repo.objects_dir)?;
    let counters = Counters::default();
    let hits: Mutex<HashMap<ObjectId, Vec<Hit>>> = Mutex::new(HashMap::new());
    let commits = CommitTable::default();
    // Which blobs the stores hold, to find those a tree names but nobody has
    // (partial clones; loose objects deleted by hand). A fully packed, whole
    // repository cannot lack one without its pack failing to read.
    let present: Option<Mutex<Vec<ObjectId>>> =
        (repo.partial || stores.has_loose_or_alternates()).then(Default::default);
    let traversal = with_progress(opts.progress, &counters, stores.packed_objects, || {
        stores.for_each_object(&repo.repo, &counters, &|kind, id, data| match kind {
            Kind::Blob => {
                if let Some(p) = &present {
                    p.lock().unwrap().push(id);
                }
                let found = scanner.hits(data);
                if !found.is_empty() {
                    hits.lock().unwrap().insert(id, found);
                }
            }
            Kind::Commit => commits.add(id, data),
            Kind::Tree | Kind::Tag => {}
        })
    });
    out.errors.extend(traversal.errors);
    let commits = commits.into_map();
    timing(started, "objects read, blobs scanned");
    out.blobs = counters.blobs.load(Ordering::Relaxed);
    out.bytes = counters.bytes.load(Ordering::Relaxed);
    let hits = hits.into_inner().unwrap();

    // Pass 2: every tree once, reduced to its folders and the entries that
    // matter (key blobs, missing blobs, submodules).
    let interesting: gix::hashtable::HashSet = hits.keys().copied().collect();
    let present = present.map(|p| Present::new(p.into_inner().unwrap()));
    let (index, tree_errors) = TreeIndex::build(
        &stores,
        &repo.repo,
        &traversal.trees,
        &interesting,
        present.as_ref(),
    );
    out.errors.extend(tree_errors);
    timing(started, "trees indexed");

    // Pass 3: where each key blob came in; missing blobs.
    let mut walk = Walk {
        reader: &repo.repo,
        commits: &commits,
        hits: &hits,
        index: &index,
        stores: &stores,
        found: Found::default(),
        walked: 0,
        excluded: &excluded,
        shallow: repo.shallow.iter().copied().collect(),
        seen: HashSet::new(),
    };
    let mut roots = Vec::new();
    for tip in &tips {
        walk.tip(tip, &mut roots);
    }
    walk.commits_from(&roots);
    if opts.all_objects {
        walk.dangling();
    }
    out.commits = walk.walked;
    if walk.found.submodules > 0 {
        out.notes.push(format!(
            "{} submodule entr{} skipped (scan each submodule's own repository)",
            walk.found.submodules,
            if walk.found.submodules == 1 {
                "y"
            } else {
                "ies"
            }
        ));
    }
    out.errors.append(&mut walk.found.errors);
    for (blob, path) in &walk.found.missing {
        out.errors.push(format!(
            "blob {blob} ({path}) is missing (partial clone or damaged repository); not fetched, not scanned"
        ));
    }
    let locations = std::mem::take(&mut walk.found.locations);
    drop(walk);
    timing(started, "commit walk done");

    // Which tips still hold each location.
    let mut tip_trees: Vec<(String, ObjectId)> = Vec::new();
    if !locations.is_empty() {
        let mut buf = Vec::new();
        for tip in &tips {
            if let Ok(Some(tree)) = peel_to_tree(&repo.repo, &commits, tip.id, &mut buf) {
                tip_trees.push((tip.name.clone(), tree));
            }
        }
    }
    let mut located: HashSet<ObjectId> = HashSet::new();
    let mut authors: HashMap<ObjectId, CommitInfo> = HashMap::new();
    for ((blob, path), loc) in &locations {
        located.insert(*blob);
        let still_in: Vec<String> = tip_trees
            .iter()
            .filter(|(_, tree)| index.marked_at(tree, path) == Some(*blob))
            .map(|(name, _)| name.clone())
            .collect();
        let commit = loc.commit.map(|id| {
            authors
                .entry(id)
                .or_insert_with(|| commit_info(&repo.repo, &id))
                .clone()
        });
        let (shown, raw_path) = crate::report::escape::path(path);
        let origin = Origin {
            path: shown,
            blob: Some(blob.to_string()),
            commit,
        };
        for hit in &hits[blob] {
            let mut f = scanner.finding(hit.clone(), &origin);
            if raw_path.is_some() {
                f.raw_path = raw_path.clone();
            }
            f.still_in = Some(still_in.clone());
            out.findings.push(f);
        }
    }
    if opts.all_objects {
        // Blobs no commit holds at any path: lost blobs, stashes dropped long ago.
        for (blob, found) in &hits {
            if located.contains(blob) {
                continue;
            }
            let origin = Origin {
                path: format!("(unreachable blob {blob})"),
                blob: Some(blob.to_string()),
                commit: None,
            };
            for hit in found {
                let mut f = scanner.finding(hit.clone(), &origin);
                f.still_in = Some(Vec::new());
                out.findings.push(f);
            }
        }
    }
    out.findings.sort_by(|a, b| {
        let time = |f: &Finding| f.commit.as_ref().and_then(|c| c.date.clone());
        (time(a), &a.path, a.line).cmp(&(time(b), &b.path, b.line))
    });
    timing(started, "findings located");
    out.seconds = started.elapsed().as_secs_f64();
    Ok(out)
}

/// With `KEYSCAN_TIMING` set: when each phase ended, and the peak memory so
/// far (for `scripts/bench-history`).
fn timing(started: Instant, phase: &str) {
    if std::env::var_os("KEYSCAN_TIMING").is_none() {
        return;
    }
    let peak = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l[6..].trim().to_string())
        })
        .unwrap_or_default();
    eprintln!(
        "timing: {phase} at {:.2} s, peak RSS {peak}",
        started.elapsed().as_secs_f64()
    );
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

/// What diffing commits found; each thread keeps its own, merged at the end.
#[derive(Default)]
struct Found {
    /// (blob, path) -> the first commit that brought it in.
    locations: BTreeMap<(ObjectId, Vec<u8>), Location>,
    missing: BTreeMap<ObjectId, String>,
    submodules: usize,
    errors: Vec<String>,
}

impl Found {
    fn visit(
        &mut self,
        objects: &Stores,
        hits: &HashMap<ObjectId, Vec<Hit>>,
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
        } else if !self.missing.contains_key(&blob) && !objects.contains(&blob) {
            self.missing
                .insert(blob, String::from_utf8_lossy(path).into_owned());
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
    index: &'a TreeIndex,
    stores: &'a Stores,
    found: Found,
    /// Commits walked.
    walked: usize,
    excluded: &'a HashSet<ObjectId>,
    shallow: HashSet<ObjectId>,
    seen: HashSet<ObjectId>,
}

impl Walk<'_> {
    /// Peels a ref's tip through annotated tags. Commits go to `roots`;
    /// a tag on a tree or a blob is attributed here, to the ref.
    fn tip(&mut self, tip: &RefTip, roots: &mut Vec<ObjectId>) {
        let mut id = tip.id;
        let mut buf = Vec::new();
        for _ in 0..64 {
            match self.reader.read(&id, &mut buf) {
                Ok(Some(Kind::Commit)) => {
                    roots.push(id);
                    return;
                }
                Ok(Some(Kind::Tag)) => {
                    match gix::objs::TagRefIter::from_bytes(&buf, id.kind()).target_id() {
                        Ok(target) => id = target,
                        Err(e) => {
                            self.found
                                .errors
                                .push(format!("{}: tag {id} is corrupt: {e}", tip.name));
                            return;
                        }
                    }
                }
                Ok(Some(Kind::Tree)) => {
                    // The same in-memory diff as for commits, against nothing.
                    let (stores, hits, found) = (self.stores, self.hits, &mut self.found);
                    self.index.introduced(&id, &[], &mut |path, blob, kind| {
                        found.visit(stores, hits, path, blob, kind, (None, 0))
                    });
                    return;
                }
                Ok(Some(Kind::Blob)) => {
                    let name = tip.name.clone();
                    self.visit(name.as_bytes(), id, EntryKind::File, None, 0);
                    return;
                }
                Ok(None) => {
                    self.found
                        .errors
                        .push(format!("{}: object {id} is missing", tip.name));
                    return;
                }
                Err(e) => {
                    self.found.errors.push(format!("{}: {e:#}", tip.name));
                    return;
                }
            }
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
        self.found
            .visit(self.stores, self.hits, path, blob, kind, (commit, time));
    }

    /// Every commit reachable from `roots` (minus the excluded ones), each
    /// diffed against its parents once.
    fn commits_from(&mut self, roots: &[ObjectId]) {
        // First the commits alone (small objects), then their trees diffed
        // on every core: the diffs are independent of each other.
        let mut stack: Vec<ObjectId> = roots
            .iter()
            .filter(|id| !self.excluded.contains(*id))
            .copied()
            .collect();
        let mut buf = Vec::new();
        let mut walked: Vec<(ObjectId, CommitData)> = Vec::new();
        while let Some(id) = stack.pop() {
            if !self.seen.insert(id) {
                continue;
            }
            let mut commit = match self.commits.get(&id) {
                Some(c) => c.clone(),
                // Not a commit of the stores: say what it is.
                None => match read_commit(self.reader, &id, &mut buf) {
                    Ok(c) => c,
                    Err(e) => {
                        self.found.errors.push(format!("{e:#}"));
                        continue;
                    }
                },
            };
            if self.shallow.contains(&id) {
                commit.parents.clear();
            }
            for p in &commit.parents {
                if !self.excluded.contains(p) && !self.seen.contains(p) {
                    stack.push(*p);
                }
            }
            walked.push((id, commit));
        }
        self.walked += walked.len();
        // Parents left out by --since are still compared against.
        let tree_of = |id: &ObjectId| self.commits.get(id).map(|c| c.tree);
        let mut found = Found::default();
        for (id, commit) in &walked {
            if self.index_lacks(&commit.tree) {
                found
                    .errors
                    .push(format!("commit {id}: tree {} is missing", commit.tree));
                continue;
            }
            // A parent whose tree is missing (a treeless partial clone)
            // counts as empty, so the keys this commit holds are still
            // found; the parent's own visit reports its tree missing.
            let parent_trees: Vec<ObjectId> = commit
                .parents
                .iter()
                .filter_map(tree_of)
                .filter(|t| !self.index_lacks(t))
                .collect();
            let (stores, hits) = (self.stores, self.hits);
            self.index
                .introduced(&commit.tree, &parent_trees, &mut |path, blob, kind| {
                    found.visit(stores, hits, path, blob, kind, (Some(*id), commit.time))
                });
        }
        let mine = std::mem::take(&mut self.found);
        self.found = mine.merge(found);
    }

    /// A tree that is in no store (not merely absent from the index, which
    /// leaves out trees that hold nothing that matters).
    fn index_lacks(&self, tree: &ObjectId) -> bool {
        !self.stores.contains(tree)
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

/// The tree a ref's tip leads to, through tags and commits.
fn peel_to_tree(
    reader: &dyn ObjectReader,
    commits: &HashMap<ObjectId, CommitData>,
    mut id: ObjectId,
    buf: &mut Vec<u8>,
) -> Result<Option<ObjectId>> {
    for _ in 0..64 {
        if let Some(c) = commits.get(&id) {
            return Ok(Some(c.tree));
        }
        match reader.read(&id, buf)? {
            Some(Kind::Commit) => return Ok(Some(read_commit(reader, &id, buf)?.tree)),
            Some(Kind::Tag) => {
                id = gix::objs::TagRefIter::from_bytes(buf, id.kind())
                    .target_id()
                    .map_err(|e| anyhow!("tag {id} is corrupt: {e}"))?
            }
            Some(Kind::Tree) => return Ok(Some(id)),
            _ => return Ok(None),
        }
    }
    Ok(None)
}

fn commit_info(reader: &dyn ObjectReader, id: &ObjectId) -> CommitInfo {
    match introduced::commit_author(reader, id) {
        Ok((author, email, date)) => CommitInfo {
            id: id.to_string(),
            author: Some(author),
            email: Some(email),
            date: Some(date),
            r#ref: None,
        },
        Err(_) => CommitInfo {
            id: id.to_string(),
            ..CommitInfo::default()
        },
    }
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
                    "{spinner} {pos}/{len} objects, {msg} [{elapsed_precise}, ETA {eta}]",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let started = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                let bytes = counters.bytes.load(Ordering::Relaxed);
                let secs = started.elapsed().as_secs_f64().max(0.001);
                bar.set_position(counters.objects.load(Ordering::Relaxed));
                bar.set_message(format!(
                    "{} of blobs, {}/s",
                    human_bytes(bytes),
                    human_bytes((bytes as f64 / secs) as u64)
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

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
