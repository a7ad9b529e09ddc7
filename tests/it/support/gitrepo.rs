#![allow(dead_code)]
//! A throwaway git repository with its own HOME and config, for the report
//! and hook tests.

use crate::support::without_git_env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub struct TempRepo {
    _tmp: tempfile::TempDir,
    /// The work tree.
    pub dir: PathBuf,
    /// HOME, and a place for keys and scratch files outside the repository.
    pub home: PathBuf,
}

pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

impl TempRepo {
    pub fn new() -> TempRepo {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("repo");
        let home = tmp.path().join("home");
        fs::create_dir_all(&dir).unwrap();
        fs::create_dir_all(&home).unwrap();
        fs::write(
            home.join(".gitconfig"),
            "[user]\n\tname = keyscan test\n\temail = test@example.com\n\
             [commit]\n\tgpgsign = false\n[init]\n\tdefaultBranch = main\n\
             [gc]\n\tauto = 0\n[maintenance]\n\tauto = false\n",
        )
        .unwrap();
        let r = TempRepo {
            _tmp: tmp,
            dir,
            home,
        };
        r.ok(&["init", "-q"]);
        r
    }

    /// A command with this repository's clean environment.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> Command {
        let mut cmd = Command::new(program);
        without_git_env(&mut cmd);
        cmd.current_dir(dir)
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        cmd
    }

    pub fn git(&self, args: &[&str]) -> Output {
        self.command("git", &self.dir)
            .args(args)
            .output()
            .expect("git is needed by this test")
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.git(args);
        assert!(out.status.success(), "git {args:?}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn write(&self, path: &str, content: &str) {
        let p = self.dir.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }

    /// `git commit` through whatever hooks are installed: (went through, output).
    pub fn commit(&self) -> (bool, String) {
        let out = self.git(&["commit", "-q", "-m", "test"]);
        (out.status.success(), text(&out))
    }
}
