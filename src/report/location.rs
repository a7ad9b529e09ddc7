//! Where a finding lives, as a URI: relative to the scanned root when it is
//! under it (portable across checkouts), a `file://` URI otherwise.

// Drop `.` and fold `..` without touching the disk: the file may be gone
// (history) and symlinks should stay as the user named them.
use crate::policy::allowlist::lexical as normalize;
use std::path::{Component, Path, PathBuf};

/// A finding's path as a URI reference.
#[derive(Debug, PartialEq, Eq)]
pub enum FileUri {
    /// Percent-encoded path relative to the root, no leading `/`.
    UnderRoot(String),
    /// `file:///...`: outside the root.
    Absolute(String),
    /// Not a file (standard input).
    NoFile,
}

/// Classify `path` (a finding's real bytes) against the absolute `root`.
pub fn file_uri(path: &[u8], root: &Path) -> FileUri {
    if path == b"<stdin>" {
        return FileUri::NoFile;
    }
    let full = normalize(&root.join(from_bytes(path)));
    match full.strip_prefix(normalize(root)) {
        Ok(rel) if rel.as_os_str().is_empty() => FileUri::Absolute(file_url(&full, false)),
        Ok(rel) => FileUri::UnderRoot(encode_path(rel)),
        Err(_) => FileUri::Absolute(file_url(&full, false)),
    }
}

/// The path as a plain repository-relative path when it is under `root`
/// (no `./`, no encoding), else as an absolute path: for formats that want a
/// file name rather than a URI (GitLab). Bytes that are not UTF-8 show as
/// `\xff`, as in the finding's `path`.
pub fn display_path(path: &[u8], root: &Path) -> String {
    if path == b"<stdin>" {
        return "<stdin>".to_string();
    }
    let full = normalize(&root.join(from_bytes(path)));
    let shown = match full.strip_prefix(normalize(root)) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel,
        _ => &full,
    };
    super::escape::bytes(shown.as_os_str().as_encoded_bytes())
}

/// A path from its real bytes.
#[cfg(unix)]
fn from_bytes(path: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(path))
}

#[cfg(not(unix))]
fn from_bytes(path: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(path).into_owned())
}

/// The root as a `file://` URI ending in `/`, as SARIF wants a base URI.
pub fn root_uri(root: &Path) -> String {
    file_url(&normalize(root), true)
}

fn file_url(abs: &Path, dir: bool) -> String {
    let mut url = format!("file:///{}", encode_path(abs));
    if dir && !url.ends_with('/') {
        url.push('/');
    }
    url
}

/// Path segments joined by `/`, each percent-encoded (RFC 3986): only
/// unreserved characters stay literal, so spaces, `#`, `?`, `%`, `:` and
/// non-ASCII bytes cannot change how the URI parses.
fn encode_path(path: &Path) -> String {
    let mut out = String::new();
    for c in path.components() {
        let Component::Normal(seg) = c else { continue };
        if !out.is_empty() {
            out.push('/');
        }
        for &b in seg.as_encoded_bytes() {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_under_the_root_are_relative_and_encoded() {
        let root = Path::new("/src/repo");
        let rel = |p: &str| file_uri(p.as_bytes(), root);
        assert_eq!(rel("a/b.pem"), FileUri::UnderRoot("a/b.pem".into()));
        assert_eq!(rel("./a/b.pem"), FileUri::UnderRoot("a/b.pem".into()));
        assert_eq!(
            rel("/src/repo/x/../deploy key.pem"),
            FileUri::UnderRoot("deploy%20key.pem".into())
        );
        assert_eq!(
            rel("clés/ä#1?.pem"),
            FileUri::UnderRoot("cl%C3%A9s/%C3%A4%231%3F.pem".into())
        );
        assert_eq!(rel("c:d%.pem"), FileUri::UnderRoot("c%3Ad%25.pem".into()));
    }

    #[test]
    fn paths_outside_the_root_are_file_uris() {
        let root = Path::new("/src/repo");
        assert_eq!(
            file_uri(b"/home/me/.ssh/id rsa", root),
            FileUri::Absolute("file:///home/me/.ssh/id%20rsa".into())
        );
        assert_eq!(
            file_uri(b"../other/k.pem", root),
            FileUri::Absolute("file:///src/other/k.pem".into())
        );
        // A sibling whose name starts like the root is not under it.
        assert_eq!(
            file_uri(b"/src/repo2/k", root),
            FileUri::Absolute("file:///src/repo2/k".into())
        );
        assert_eq!(file_uri(b"<stdin>", root), FileUri::NoFile);
        assert_eq!(display_path(b"./a b/k.pem", root), "a b/k.pem");
        assert_eq!(display_path(b"../o/k.pem", root), "/src/o/k.pem");
        assert_eq!(
            root_uri(Path::new("/src/my repo/")),
            "file:///src/my%20repo/"
        );
        assert_eq!(root_uri(Path::new("/")), "file:///");
        // Bytes that are not UTF-8 are encoded as they are, not as U+FFFD.
        assert_eq!(rel_bytes(b"k\xff\x1b.pem", root), "k%FF%1B.pem");
        assert_eq!(display_path(b"k\xff.pem", root), r"k\xff.pem");
    }

    fn rel_bytes(p: &[u8], root: &Path) -> String {
        match file_uri(p, root) {
            FileUri::UnderRoot(u) => u,
            other => panic!("{other:?}"),
        }
    }
}
