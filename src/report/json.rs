//! `{"findings": [...], "warnings": [...]}`: a stable contract, additive changes only.

use super::Report;
use std::io::{self, Write};

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    // Read errors stay in `warnings` (as `error: ...`), where they always were.
    let warnings: Vec<String> = (report.warnings.iter().cloned())
        .chain(report.errors.iter().map(|e| format!("error: {e}")))
        .collect();
    let doc = serde_json::json!({
        "findings": report.findings,
        "warnings": warnings,
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::finding::{AwsFingerprints, Finding, Status};

    #[test]
    fn schema_has_the_documented_fields() {
        let report = Report {
            findings: vec![Finding {
                path: "a.pem".into(),
                raw_path: None,
                outside_git: false,
                line: 3,
                end_line: 9,
                rule: "pem-private-key".into(),
                format: "PKCS#1".into(),
                key_type: "RSA 2048".into(),
                status: Status::Valid,
                blocking: true,
                fingerprint: Some("SHA256:x".into()),
                aws_fingerprints: AwsFingerprints {
                    md5_spki: Some("aa:bb".into()),
                    ..Default::default()
                },
                public_key: Some("ssh-rsa AAAA".into()),
                commit: None,
                blob: None,
                still_in: None,
                permissions: None,
                redacted: "-----BEGIN RSA PRIVATE KEY----- [7 lines redacted]".into(),
                note: None,
                locked: None,
            }],
            ..Report::default()
        };
        let mut buf = Vec::new();
        render(&report, &mut buf).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        let f = &v["findings"][0];
        for key in [
            "path",
            "line",
            "end_line",
            "rule",
            "format",
            "key_type",
            "status",
            "blocking",
            "fingerprint",
            "aws_fingerprints",
            "public_key",
            "commit",
        ] {
            assert!(f.get(key).is_some(), "missing {key}");
        }
        assert_eq!(f["status"], "valid");
        assert_eq!(f["line"], 3);
        assert!(f["commit"].is_null());
        assert_eq!(f["aws_fingerprints"]["md5_spki"], "aa:bb");
    }
}
