//! The hand-written tree parser of the history walk on raw bytes. It must
//! never panic, read what gitoxide's parser reads from the same bytes, and
//! never stop before it: an entry it skipped would be a blob never scanned.
//! It may read further (git itself takes any octal mode, gitoxide does not),
//! and stops, as git does, at an empty name (gitoxide reads one).
#![no_main]

use gix::objs::TreeRefIter;
use keyscan::git::tree_index::parse_tree_entries;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ours = parse_tree_entries(data);
    let theirs: Vec<_> = TreeRefIter::from_bytes(data, gix::hash::Kind::Sha1)
        .map_while(Result::ok)
        .collect();
    let until_empty_name = theirs.iter().take_while(|e| !e.filename.is_empty());
    for (i, e) in until_empty_name.enumerate() {
        let Some((_, name, id)) = ours.get(i) else {
            panic!("entry {i} read by gitoxide only");
        };
        assert_eq!(&name[..], &e.filename[..], "entry {i}: name differs");
        assert_eq!(&id[..], e.oid.as_bytes(), "entry {i}: id differs");
    }
});
