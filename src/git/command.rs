//! Running the `git` executable: one place that sets its environment (it
//! only reads: no lazy fetches from a promisor remote, no optional locks)
//! and, when asked, stops it at a deadline.

use anyhow::anyhow;
use std::io::{Read, Write};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

/// `git` with keyscan's read-only environment, in the caller's directory
/// and environment (so a hook's git sees the same repository and quarantine).
pub fn git() -> Command {
    let mut cmd = Command::new("git");
    cmd.env("GIT_NO_LAZY_FETCH", "1")
        .env("GIT_OPTIONAL_LOCKS", "0");
    cmd
}

/// Why [`run`] did not return git's output.
#[derive(Debug)]
pub enum RunError {
    /// The deadline passed: git was killed.
    TimedOut,
    Failed(anyhow::Error),
}

/// Runs `cmd` with `input` on its standard input and returns its output,
/// killing it if it is still running at `deadline`.
pub fn run(
    mut cmd: Command,
    input: Vec<u8>,
    deadline: Option<Instant>,
) -> std::result::Result<Output, RunError> {
    let what = format!("{:?}", cmd.get_args().next().unwrap_or_default());
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| RunError::Failed(anyhow!("cannot run git {what}: {e}")))?;
    let mut stdin = child.stdin.take().expect("piped");
    // Written and read from threads: git may print before it has read
    // everything, and its output may outgrow a pipe's buffer.
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped")));
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => return Err(RunError::Failed(anyhow!("git {what}: {e}"))),
        }
        if deadline.is_some_and(|at| Instant::now() >= at) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(RunError::TimedOut);
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    };
    let _ = writer.join();
    Ok(Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

/// git's first non-empty line of standard error, for a one-line message.
pub fn first_error_line(output: &Output) -> String {
    let err = String::from_utf8_lossy(&output.stderr);
    err.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

/// [`run`], with a failed git an error.
pub fn run_ok(
    cmd: Command,
    input: Vec<u8>,
    deadline: Option<Instant>,
) -> std::result::Result<Output, RunError> {
    let out = run(cmd, input, deadline)?;
    if !out.status.success() {
        return Err(RunError::Failed(anyhow!("{}", first_error_line(&out))));
    }
    Ok(out)
}

impl From<RunError> for anyhow::Error {
    fn from(e: RunError) -> Self {
        match e {
            RunError::TimedOut => anyhow!("git was stopped at the time limit"),
            RunError::Failed(e) => e,
        }
    }
}
