//! `keyscan completions` and `keyscan man`: generated from the clap
//! definitions, so each must name every subcommand `keyscan --help` lists
//! (the list is read from the binary, so it stays true as commands are added).

use crate::support;
use crate::support::keyscan;
use std::fs;

/// The subcommands `keyscan --help` lists, without clap's own `help`.
fn subcommands() -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let out = keyscan(dir.path(), &["--help"], None);
    let help = String::from_utf8_lossy(&out.stdout).to_string();
    let section = help
        .split("Commands:\n")
        .nth(1)
        .expect("--help lists commands");
    let names: Vec<String> = section
        .lines()
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
        .map(String::from)
        .collect();
    for expected in ["scan", "pre-commit", "fingerprint", "completions", "man"] {
        assert!(names.iter().any(|n| n == expected), "{names:?}");
    }
    names
}

#[test]
fn completions_name_every_subcommand() {
    let subs = subcommands();
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = keyscan(dir.path(), &["completions", shell], None);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.len() > 2000, "{shell}: {} bytes", script.len());
        for sub in &subs {
            assert!(script.contains(sub.as_str()), "{shell} lacks {sub}");
        }
        // Flags of subcommands are completed too.
        assert!(script.contains("write-baseline"), "{shell}");
    }
    let out = keyscan(dir.path(), &["completions", "tcsh"], None);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bash_accepts_the_completion_script() {
    let dir = tempfile::tempdir().unwrap();
    let out = keyscan(dir.path(), &["completions", "bash"], None);
    fs::write(dir.path().join("k.bash"), &out.stdout).unwrap();
    let check = support::tool(
        "bash",
        &["-c", "source ./k.bash && complete -p keyscan"],
        dir.path(),
    );
    assert!(String::from_utf8_lossy(&check.stdout).contains("keyscan"));
}

#[test]
fn man_page_names_every_subcommand_and_writes_one_page_each() {
    let subs = subcommands();
    let dir = tempfile::tempdir().unwrap();
    let out = keyscan(dir.path(), &["man"], None);
    assert_eq!(out.status.code(), Some(0));
    // roff escapes hyphens.
    let page = String::from_utf8_lossy(&out.stdout).replace("\\-", "-");
    assert!(
        page.starts_with(".ie") || page.contains(".TH keyscan 1"),
        "{page}"
    );
    assert!(page.contains(".SH SYNOPSIS") && page.len() > 1500);
    for sub in &subs {
        assert!(
            page.contains(&format!("keyscan-{sub}(1)")),
            "man lacks {sub}"
        );
    }

    let out = keyscan(dir.path(), &["man", "--out-dir", "man1"], None);
    assert_eq!(out.status.code(), Some(0));
    for sub in &subs {
        let text = fs::read_to_string(dir.path().join(format!("man1/keyscan-{sub}.1")))
            .unwrap_or_else(|e| panic!("keyscan-{sub}.1: {e}"));
        assert!(text.contains(&format!(".TH keyscan-{sub} 1")), "{text}");
    }
    let scan = fs::read_to_string(dir.path().join("man1/keyscan-scan.1")).unwrap();
    assert!(scan.replace("\\-", "-").contains("--baseline-strict"));
}
