//! TODO fingerprints
