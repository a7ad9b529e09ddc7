//! Sources yield blobs to scan and say where they live. Sources know git and
//! the filesystem; nothing after them does.

pub mod aws;
pub mod files;
pub mod history;
pub mod machines;
pub mod push;
pub mod staged;
