//! A rule's regex, compiled when a scan first needs it.
//!
//! Most blobs hold none of a rule's keywords, so most runs never run most
//! regexes; compiling all of them at every start cost more than a
//! pre-commit of a few files spends on everything else. A built-in rule's
//! pattern is compiled on first use (the tests compile every one of them);
//! a rule from a config or rule file is compiled at once, so a bad one is
//! an error when it is loaded. Either way a search gives the same result.

use regex::bytes::Regex;
use std::fmt;
use std::ops::Deref;
use std::sync::OnceLock;

pub struct Pattern {
    source: String,
    compiled: OnceLock<Regex>,
    /// The longest match, once asked (`None` inside: unbounded).
    longest: OnceLock<Option<usize>>,
    /// The bytes a match can start with, once asked.
    first: OnceLock<[bool; 256]>,
}

impl Pattern {
    /// Compiled now: a bad pattern is an error here.
    pub fn eager(source: &str) -> Result<Self, regex::Error> {
        let compiled = OnceLock::new();
        let _ = compiled.set(Regex::new(source)?);
        Ok(Pattern {
            source: source.to_string(),
            compiled,
            longest: OnceLock::new(),
            first: OnceLock::new(),
        })
    }

    /// Compiled on first use. Only for built-in rules, whose patterns
    /// `rules::tests` compile: the same pattern always compiles the same way.
    pub(super) fn lazy(source: String) -> Self {
        Pattern {
            source,
            compiled: OnceLock::new(),
            longest: OnceLock::new(),
            first: OnceLock::new(),
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the regex has been compiled yet.
    pub fn is_compiled(&self) -> bool {
        self.compiled.get().is_some()
    }

    /// Whether a match can start with `byte` (true when not known).
    pub fn may_start_with(&self, byte: u8) -> bool {
        self.first.get_or_init(|| {
            let mut first = [true; 256];
            if let Some(known) = self.first_bytes() {
                first = [false; 256];
                for b in known {
                    first[b as usize] = true;
                }
            }
            first
        })[byte as usize]
    }

    /// The first bytes of every match, when the pattern's prefixes say.
    fn first_bytes(&self) -> Option<Vec<u8>> {
        use regex_syntax::hir::literal::Extractor;
        let hir = self.parse()?;
        let prefixes = Extractor::new().extract(&hir);
        let literals = prefixes.literals()?;
        literals
            .iter()
            .map(|l| l.as_bytes().first().copied())
            .collect()
    }

    fn parse(&self) -> Option<regex_syntax::hir::Hir> {
        regex_syntax::ParserBuilder::new()
            .utf8(false)
            .build()
            .parse(&self.source)
            .ok()
    }

    /// The most bytes a match can span, if the pattern bounds it.
    pub fn max_match_len(&self) -> Option<usize> {
        *self
            .longest
            .get_or_init(|| self.parse()?.properties().maximum_len())
    }

    fn regex(&self) -> &Regex {
        self.compiled.get_or_init(|| {
            Regex::new(&self.source).expect("built-in rule patterns compile (rules::tests)")
        })
    }
}

impl Deref for Pattern {
    type Target = Regex;

    fn deref(&self) -> &Regex {
        self.regex()
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        fmt::Debug::fmt(&self.source, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lazy_compiles_on_first_use_and_matches_as_eager() {
        let src = r"(?P<label>ab+)c";
        let lazy = Pattern::lazy(src.to_string());
        assert!(!lazy.is_compiled());
        let eager = Pattern::eager(src).unwrap();
        assert!(eager.is_compiled());
        for text in [&b"xabbbc"[..], b"ac", b"abc abc"] {
            assert_eq!(lazy.find(text), eager.find(text));
        }
        assert!(lazy.is_compiled());
        assert_eq!(lazy.as_str(), src);
    }

    #[test]
    fn first_bytes_come_from_the_prefixes_or_allow_anything() {
        let der = Pattern::eager(r"(?-u)\A\x30(?:[\x20-\x7f]|\x81[\x80-\xff])").unwrap();
        assert!(der.may_start_with(0x30) && !der.may_start_with(0x31));
        let solana = Pattern::eager(r"(?-u)\A\s*\[\s*\d").unwrap();
        for b in [b'[', b' ', b'\n', b'\t'] {
            assert!(solana.may_start_with(b), "{b}");
        }
        assert!(!solana.may_start_with(b'a'));
        let any = Pattern::eager(r"(?s).*x").unwrap();
        assert!((0..=255).all(|b| any.may_start_with(b)));
        // Every built-in binary rule agrees with its own regex.
        for rule in crate::rules::builtin_compiled()
            .unwrap()
            .iter()
            .filter(|r| r.binary)
        {
            for b in 0..=255u8 {
                let data = [b, 0x30, b'[', b'x'];
                if rule.start.is_match(&data) {
                    assert!(rule.start.may_start_with(b), "{} {b}", rule.id);
                }
            }
        }
    }

    #[test]
    fn eager_rejects_a_bad_pattern() {
        assert!(Pattern::eager("(unclosed").is_err());
    }
}
