//! keyscan: stops private keys from reaching a git repository and finds the
//! ones that already did.
//!
//! The pipeline, one module per step:
//! `source` (blobs to scan) -> `rules` (candidates) -> `validate` (parse the
//! key) -> `scan` (policy, findings) -> `report` (human, JSON, SARIF) and an
//! exit code. `config` holds `.keyscan.toml`; `hook` installs git hooks.

pub mod allowlist;
pub mod baseline;
pub mod config;
pub mod finding;
pub mod git;
pub mod hook;
pub mod inspect;
pub mod manpage;
pub mod outcome;
pub mod report;
pub mod rules;
pub mod scan;
pub mod source;
pub mod time;
pub mod validate;
