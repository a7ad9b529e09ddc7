//! The config loader on any text, and the scanner it builds (user rules
//! included) on a small fixed blob. A bad config is an error, never a panic.
#![no_main]

use keyscan::policy::config::Config;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

const BLOB: &[u8] = b"-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAK\n-----END RSA PRIVATE KEY-----\nkey = \"LS0tLS1CRUdJTg==\"\n";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(mut config) = Config::parse(Path::new("/repo/.keyscan.toml"), text) else {
        return;
    };
    config.policy.crack = false;
    let scanner = config.scanner();
    let _ = scanner.hits(BLOB);
    let _ = scanner.policy.admit_path("vendor/a/b.pem");
});
