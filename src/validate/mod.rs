//! Parse every candidate: a real key gets a status and fingerprints, a
//! look-alike is dropped or marked `unverified`. Never judged by looks alone.

pub mod authorized_keys;
pub mod crack;
pub mod der;
pub mod ec;
pub mod fingerprint;
pub mod gnupg;
pub mod oids;
pub mod openssh;
pub mod pbe;
pub mod pem;
pub mod pgp;
pub mod ppk;
pub mod ssh1;
pub mod sshcom;
mod wire;

use crate::rules::{Candidate, Validator};
use crate::scan::finding::KeyInfo;

/// Decide what a candidate is. `None`: not a private key at all (e.g. a
/// binary blob that merely starts like DER), so nothing is reported.
pub fn validate(c: &Candidate) -> Option<KeyInfo> {
    let armor = c.armor.as_ref();
    match c.rule.validator {
        Validator::Pem => Some(pem::validate(armor?)),
        Validator::Openssh => Some(openssh::validate(armor?)),
        Validator::Ppk => Some(ppk::validate(armor?)),
        Validator::Pgp => Some(pgp::validate(armor?)),
        Validator::Sshcom => Some(sshcom::validate(armor?)),
        Validator::Der => der::validate(&c.bytes),
        Validator::PgpBinary => pgp::binary(&c.bytes),
        Validator::Ssh1 => ssh1::validate(&c.bytes),
        Validator::Gnupg => gnupg::validate(&c.bytes),
        // The engine decodes these itself and rescans; none reach a validator.
        decoder => {
            debug_assert!(decoder.rescans(), "{decoder:?} has no validator");
            None
        }
    }
}
