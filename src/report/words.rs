//! Small wording helpers every message shares.

/// `n` and its noun: "1 key", "2 keys", "0 files". Nouns that do not take
/// an `s` need their own wording.
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_nouns() {
        assert_eq!(plural(0, "file"), "0 files");
        assert_eq!(plural(1, "known key"), "1 known key");
        assert_eq!(plural(27, "line"), "27 lines");
    }
}
