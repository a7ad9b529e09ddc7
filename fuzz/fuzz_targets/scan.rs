//! Raw bytes through the whole pipeline: the rule engine, every decoder,
//! every validator, then every report format. Nothing may panic.
#![no_main]

use keyscan::policy::config::Config;
use keyscan::report::{self, Format, Report, Style};
use keyscan::scan::{Origin, Scanner};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn scanner() -> &'static Scanner {
    static SCANNER: OnceLock<Scanner> = OnceLock::new();
    SCANNER.get_or_init(|| {
        let mut config = Config::defaults().expect("built-in rules compile");
        // The passphrase check spends seconds per key by design.
        config.policy.crack = false;
        config.scanner()
    })
}

fuzz_target!(|data: &[u8]| {
    let origin = Origin {
        path: "fuzz/input.txt".into(),
        ..Origin::default()
    };
    let findings = scanner().scan(data, &origin);
    if findings.is_empty() {
        return;
    }
    let report = Report {
        findings,
        scanned: "1 file".into(),
        ..Report::default()
    };
    let style = Style {
        color: false,
        quiet: false,
    };
    for format in [Format::Human, Format::Json, Format::Sarif, Format::Gitlab] {
        let mut out = Vec::new();
        report::render(&report, format, &style, &mut out).expect("render to memory");
    }
});
