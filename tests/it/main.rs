//! All integration tests, as one test binary (one link of the crate instead
//! of one per file). Each module is one area; `support` holds the helpers.

mod support;

mod audit;
mod baseline;
mod cli;
mod completions;
mod config;
mod crack;
mod disguises;
mod fingerprint;
mod formats;
mod formats_more;
mod formats_new;
mod formats_pgp;
mod history;
mod hook_message;
mod keystores;
mod permissions;
mod precommit;
mod precommit_framework;
mod properties;
mod push;
mod readme;
mod reports;
mod revoke_plan;
mod scan;
