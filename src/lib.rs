//! keyscan: stops private keys from reaching a git repository and finds the
//! ones that already did.
//!
//! The pipeline, one module per step:
//! `source` (blobs to scan) -> `rules` (candidates) -> `validate` (parse the
//! key) -> `finding` -> `report` (human, JSON, SARIF) and an exit code.

pub mod finding;
pub mod rules;
pub mod scan;
pub mod validate;
