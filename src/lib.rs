//! keyscan: stops private keys from reaching a git repository and finds the
//! ones that already did.
//!
//! The pipeline, one folder per step: `source` (blobs to scan, and where
//! they live) -> `rules` (candidates) -> `validate` (parse the key) ->
//! `scan` (one blob through the pipeline, findings) -> `policy` (config,
//! allowlist, baseline, the verdict) -> `report` (human, JSON, SARIF,
//! GitLab). `git` holds every piece of git plumbing; only `source` uses it.
//! The command line lives in the binary (`src/cli/`), not here.

pub mod git;
pub mod policy;
pub mod report;
pub mod rules;
pub mod scan;
pub mod source;
pub mod validate;
