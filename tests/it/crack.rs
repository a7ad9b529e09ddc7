//! Weak passphrases: keys encrypted at test time by ssh-keygen, openssl and
//! puttygen with a common passphrase open and are reported `valid` with the
//! note `weak passphrase` and full fingerprints; a strong passphrase keeps
//! them `encrypted`; `--no-crack` and `[policy] crack = false` turn it off.

use crate::support;
use keyscan::policy::Policy;
use keyscan::scan::finding::{KeyInfo, Status};
use keyscan::scan::Scanner;
use std::fs;
use std::path::Path;

const STRONG: &str = "k7#Qz!v9-unguessable-Wm2";

/// A generous budget: the machine running the tests may be busy.
fn patient() -> Policy {
    let mut policy = Policy::default();
    policy.crack_budget = std::time::Duration::from_secs(120);
    policy
}

fn scanner_with(policy: Policy) -> Scanner {
    let rules = keyscan::rules::builtin().expect("built-in rules load");
    Scanner::new(
        keyscan::rules::Engine::new(rules).expect("engine builds"),
        policy,
    )
}

fn sh(dir: &Path, script: &str) -> String {
    String::from_utf8_lossy(&support::tool("sh", &["-c", script], dir).stdout).into_owned()
}

/// The single key in `dir/name`, scanned with its path (the stem counts).
fn one(s: &Scanner, dir: &Path, name: &str) -> KeyInfo {
    let data = fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let hits = settled(s, &data, name);
    assert_eq!(hits.len(), 1, "{name}: {hits:#?}");
    hits.into_iter().next().unwrap().info
}

/// The hits in `data` (found at `name`) once the run's check has run.
fn settled(s: &Scanner, data: &[u8], name: &str) -> Vec<keyscan::scan::Hit> {
    let mut hits = s.hits_named(data, Some(name));
    s.settle_hits(&mut hits);
    hits
}

fn opened(s: &Scanner, dir: &Path, name: &str, key_type: &str) -> KeyInfo {
    let info = one(s, dir, name);
    assert_eq!(info.status, Status::Valid, "{name}: {info:#?}");
    assert_eq!(info.note.as_deref(), Some("weak passphrase"), "{name}");
    assert_eq!(info.key_type, key_type, "{name}");
    info
}

fn held(s: &Scanner, dir: &Path, name: &str) -> KeyInfo {
    let info = one(s, dir, name);
    assert_eq!(info.status, Status::Encrypted, "{name}: {info:#?}");
    info
}

/// AWS's SHA-1 fingerprint as openssl computes it from a PEM key in clear.
fn openssl_sha1_pkcs8(dir: &Path, plain_pem: &str) -> String {
    let out = sh(
        dir,
        &format!("openssl pkcs8 -topk8 -nocrypt -in {plain_pem} -outform DER | openssl sha1 -c"),
    );
    out.split_whitespace().last().unwrap().to_ascii_lowercase()
}

#[test]
fn openssh_keys_with_common_passphrases_open() {
    let s = scanner_with(patient());
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    sh(
        d,
        "ssh-keygen -q -t ed25519 -N password -C t -f ed \
         && ssh-keygen -q -t rsa -b 2048 -N changeme -C t -f rsa \
         && ssh-keygen -q -t ecdsa -N '' -C t -f deploy-bot \
         && ssh-keygen -q -p -P '' -N deploy-bot -f deploy-bot \
         && cp rsa rsa-plain && ssh-keygen -q -p -P changeme -N '' -m PEM -f rsa-plain",
    );
    fs::write(d.join("strong"), "").unwrap();
    sh(
        d,
        &format!("rm strong && ssh-keygen -q -t ed25519 -N '{STRONG}' -C t -f strong"),
    );
    let ed = opened(&s, d, "ed", "Ed25519");
    assert_eq!(
        ed.fingerprint,
        Some(support::ssh_fingerprint(&d.join("ed")))
    );
    assert!(ed.aws_fingerprints.sha256.is_some());
    let rsa = opened(&s, d, "rsa", "RSA 2048");
    assert_eq!(
        rsa.aws_fingerprints.sha1_pkcs8,
        Some(openssl_sha1_pkcs8(d, "rsa-plain"))
    );
    assert!(rsa.aws_fingerprints.md5_spki.is_some());
    // The file's own name as its passphrase.
    opened(&s, d, "deploy-bot", "ECDSA P-256");
    let strong = held(&s, d, "strong");
    assert!(strong.fingerprint.is_some());
}

#[test]
fn openssl_pkcs8_and_legacy_pem_with_common_passphrases_open() {
    let s = scanner_with(patient());
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    sh(
        d,
        "openssl genrsa -traditional -out plain.pem 2048 2>/dev/null \
         && openssl pkcs8 -topk8 -in plain.pem -v2 aes-256-cbc -v2prf hmacWithSHA512 -passout pass:secret -out pbes2.pem \
         && openssl pkcs8 -topk8 -in plain.pem -v2 des-ede3-cbc -passout pass:test -outform DER -out pbes2.der \
         && openssl pkcs8 -topk8 -in plain.pem -scrypt -passout pass:123456 -out scrypt.pem \
         && openssl pkcs8 -topk8 -in plain.pem -v1 PBE-SHA1-3DES -passout pass:qwerty -out p12pbe.pem \
         && openssl pkcs8 -topk8 -in plain.pem -v1 PBE-MD5-DES -provider legacy -provider default -passout pass:changeit -out pbes1.pem \
         && openssl pkcs8 -topk8 -in plain.pem -v2 aes-128-cbc -passout pass: -out empty.pem \
         && openssl rsa -in plain.pem -aes256 -traditional -passout pass:password -out legacy-aes.pem 2>/dev/null \
         && openssl rsa -in plain.pem -des3 -traditional -passout pass:passphrase -out legacy-3des.pem 2>/dev/null",
    );
    sh(
        d,
        &format!("openssl pkcs8 -topk8 -in plain.pem -v2 aes-256-cbc -passout 'pass:{STRONG}' -out strong8.pem \
                  && openssl rsa -in plain.pem -aes128 -traditional -passout 'pass:{STRONG}' -out strong-legacy.pem 2>/dev/null"),
    );
    let fp = support::ssh_fingerprint(&d.join("plain.pem"));
    let sha1 = openssl_sha1_pkcs8(d, "plain.pem");
    for name in [
        "pbes2.pem",
        "pbes2.der",
        "scrypt.pem",
        "p12pbe.pem",
        "pbes1.pem",
        "empty.pem",
        "legacy-aes.pem",
        "legacy-3des.pem",
    ] {
        let info = opened(&s, d, name, "RSA 2048");
        assert_eq!(info.fingerprint.as_deref(), Some(fp.as_str()), "{name}");
        assert_eq!(
            info.aws_fingerprints.sha1_pkcs8.as_deref(),
            Some(sha1.as_str()),
            "{name}"
        );
    }
    held(&s, d, "strong8.pem");
    held(&s, d, "strong-legacy.pem");
}

#[test]
fn putty_keys_with_common_passphrases_open_and_plain_rsa_gets_sha1() {
    let s = scanner_with(patient());
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    fs::write(d.join("weak.txt"), "password\n").unwrap();
    fs::write(d.join("strong.txt"), format!("{STRONG}\n")).unwrap();
    fs::write(d.join("none.txt"), "").unwrap();
    sh(
        d,
        "puttygen -t ed25519 -o v3.ppk --new-passphrase weak.txt \
         && puttygen -t ecdsa -b 256 -o v2.ppk --new-passphrase weak.txt --ppk-param version=2 \
         && puttygen -t ed25519 -o strong.ppk --new-passphrase strong.txt \
         && puttygen -t rsa -b 2048 -o rsa.ppk --new-passphrase none.txt \
         && puttygen rsa.ppk -O private-openssh -o rsa.pem --new-passphrase none.txt \
         && puttygen rsa.ppk -O private-sshcom -o weak.sshcom --new-passphrase weak.txt \
         && puttygen rsa.ppk -O private-sshcom -o strong.sshcom --new-passphrase strong.txt",
    );
    opened(&s, d, "v3.ppk", "Ed25519");
    opened(&s, d, "v2.ppk", "ECDSA P-256");
    held(&s, d, "strong.ppk");
    let rsa = one(&s, d, "rsa.ppk");
    assert_eq!(rsa.status, Status::Valid);
    assert_eq!(
        rsa.aws_fingerprints.sha1_pkcs8,
        Some(openssl_sha1_pkcs8(d, "rsa.pem"))
    );
    // ssh.com export of the same key: 3des-cbc under an MD5-derived key.
    let sc = opened(&s, d, "weak.sshcom", "RSA 2048");
    assert_eq!(sc.fingerprint, rsa.fingerprint);
    assert_eq!(
        sc.aws_fingerprints.sha1_pkcs8,
        rsa.aws_fingerprints.sha1_pkcs8
    );
    held(&s, d, "strong.sshcom");
}

#[test]
fn no_crack_flag_config_switch_and_user_list() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    sh(
        d,
        "ssh-keygen -q -t ed25519 -N password -C t -f weak \
         && ssh-keygen -q -t ed25519 -N hunter2-team -C t -f team",
    );
    // Through the binary: opened, blocking, and the passphrase never shown.
    let out = support::keyscan(d, &["--format", "json", "scan", "weak"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("weak passphrase"), "{text}");
    assert!(!text.contains("password"), "the passphrase leaked: {text}");
    let human = support::keyscan(d, &["scan", "weak"], None);
    assert!(!String::from_utf8_lossy(&human.stdout).contains("password"));

    let (code, v) = support::json(d, &["--no-crack", "scan", "weak"], None);
    assert_eq!(code, 1);
    assert_eq!(support::findings(&v)[0]["status"], "encrypted");

    fs::write(d.join("off.toml"), "[policy]\ncrack = false\n").unwrap();
    let (_, v) = support::json(d, &["--config", "off.toml", "scan", "weak"], None);
    assert_eq!(support::findings(&v)[0]["status"], "encrypted");

    let (_, v) = support::json(d, &["scan", "team"], None);
    assert_eq!(support::findings(&v)[0]["status"], "encrypted");
    fs::write(
        d.join("team.toml"),
        "[policy]\npassphrases = [\"hunter2-team\"]\n",
    )
    .unwrap();
    let (_, v) = support::json(d, &["--config", "team.toml", "scan", "team"], None);
    let f = &support::findings(&v)[0];
    assert_eq!(f["status"], "valid", "{f}");
    assert_eq!(f["note"], "weak passphrase");
}

#[test]
fn pkcs12_keystores_with_common_passwords_open() {
    let s = scanner_with(patient());
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    sh(
        d,
        &format!(
            "openssl genrsa -traditional -out k.pem 2048 2>/dev/null \
             && openssl req -x509 -new -key k.pem -subj /CN=test -days 1 -out c.pem \
             && openssl pkcs12 -export -inkey k.pem -in c.pem -passout pass:changeit -out java.p12 \
             && openssl pkcs12 -export -legacy -inkey k.pem -in c.pem -passout pass:password -out legacy.pfx \
             && openssl pkcs12 -export -inkey k.pem -in c.pem -passout 'pass:{STRONG}' -out strong.p12"
        ),
    );
    let fp = support::ssh_fingerprint(&d.join("k.pem"));
    for name in ["java.p12", "legacy.pfx"] {
        let info = opened(&s, d, name, "RSA 2048");
        assert_eq!(info.format, "PKCS#12");
        assert_eq!(info.fingerprint.as_deref(), Some(fp.as_str()), "{name}");
        assert_eq!(
            info.aws_fingerprints.sha1_pkcs8,
            Some(openssl_sha1_pkcs8(d, "k.pem"))
        );
    }
    held(&s, d, "strong.p12");
}

#[test]
fn gpg_secret_keys_with_common_passphrases_open() {
    let s = scanner_with(patient());
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let home = d.join("gnupg");
    fs::create_dir(&home).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&home, fs::Permissions::from_mode(0o700)).unwrap();
    }
    let gpg = "gpg --homedir gnupg --batch --pinentry-mode loopback";
    sh(
        d,
        &format!(
            "{gpg} --passphrase password --quick-gen-key 'Weak <w@example.com>' rsa2048 default never \
             && {gpg} --passphrase '{STRONG}' --quick-gen-key 'Strong <s@example.com>' ed25519 default never \
             && {gpg} --passphrase password --armor --export-secret-keys w@example.com > weak.asc \
             && {gpg} --passphrase password --export-secret-keys w@example.com > weak.gpg \
             && {gpg} --passphrase '{STRONG}' --armor --export-secret-keys s@example.com > strong.asc \
             && {gpg} --with-colons --fingerprint w@example.com | awk -F: '/^fpr/ {{print $10; exit}}' > w.fpr"
        ),
    );
    let fpr = fs::read_to_string(d.join("w.fpr"))
        .unwrap()
        .trim()
        .to_string();
    for name in ["weak.asc", "weak.gpg"] {
        let info = opened(&s, d, name, "PGP RSA 2048");
        assert_eq!(info.fingerprint.as_deref(), Some(fpr.as_str()), "{name}");
    }
    held(&s, d, "strong.asc");
    let _ = std::process::Command::new("gpgconf")
        .args(["--homedir", home.to_str().unwrap(), "--kill", "gpg-agent"])
        .output();
}

#[test]
fn hostile_kdf_costs_are_not_tried() {
    // One KDF run cannot be interrupted, so a file asking for billions of
    // rounds must be skipped, not started.
    let s = scanner_with(Policy::default());
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    fs::write(d.join("weak.txt"), "password\n").unwrap();
    sh(
        d,
        "ssh-keygen -q -t ed25519 -N password -C t -f ssh \
         && puttygen -t ed25519 -o argon.ppk --new-passphrase weak.txt",
    );
    // OpenSSH: kdfoptions = string salt(16), uint32 rounds; set rounds to 2³²-1.
    let text = fs::read_to_string(d.join("ssh")).unwrap();
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut bytes = b64.decode(body).unwrap();
    let at = bytes.windows(6).position(|w| w == b"bcrypt").unwrap() + 6 + 4 + 4 + 16;
    bytes[at..at + 4].copy_from_slice(&[0xff; 4]);
    let hostile = format!(
        "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----\n",
        b64.encode(&bytes)
    );
    fs::write(d.join("ssh-hostile"), hostile).unwrap();
    let ppk = fs::read_to_string(d.join("argon.ppk")).unwrap();
    let memory = ppk
        .lines()
        .find(|l| l.starts_with("Argon2-Memory:"))
        .unwrap();
    fs::write(
        d.join("argon-hostile.ppk"),
        ppk.replace(memory, "Argon2-Memory: 4194304"),
    )
    .unwrap();
    for name in ["ssh-hostile", "argon-hostile.ppk"] {
        let started = std::time::Instant::now();
        let info = held(&s, d, name);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{name} took {:?}",
            started.elapsed()
        );
        assert!(info.note.is_none(), "{info:#?}");
    }
}

#[test]
fn allowlisted_fixtures_are_not_cracked() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    sh(
        d,
        &format!("ssh-keygen -q -t ed25519 -N '{STRONG}' -C t -f fixture"),
    );
    let fp = support::ssh_fingerprint(&d.join("fixture"));
    let mut policy = patient();
    policy.allowlist = keyscan::policy::allowlist::Allowlist::new(
        vec![keyscan::policy::allowlist::FingerprintEntry::plain(&fp)],
        Vec::new(),
    )
    .unwrap();
    let s = scanner_with(policy);
    let data = fs::read(d.join("fixture")).unwrap();
    let started = std::time::Instant::now();
    assert!(settled(&s, &data, "fixture").is_empty());
    // Trying the whole list with bcrypt-pbkdf takes seconds; skipping, none.
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

#[test]
fn the_same_key_is_checked_once() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    sh(
        d,
        &format!("ssh-keygen -q -t ed25519 -N '{STRONG}' -C t -f copy"),
    );
    let mut policy = Policy::default();
    policy.crack_budget = std::time::Duration::from_secs(2);
    let s = scanner_with(policy);
    let data = fs::read(d.join("copy")).unwrap();
    let first = settled(&s, &data, "a/copy");
    let started = std::time::Instant::now();
    let again = settled(&s, &data, "b/copy");
    assert!(started.elapsed() < std::time::Duration::from_millis(500));
    assert_eq!(first[0].info, again[0].info);
    assert_eq!(first[0].info.status, Status::Encrypted);
}

/// Every hit of every file in `names`, settled by one run-wide check.
fn run_once(policy: Policy, d: &Path, names: &[&str]) -> (Vec<KeyInfo>, String) {
    let s = scanner_with(policy);
    let mut hits = Vec::new();
    for name in names {
        let data = fs::read(d.join(name)).unwrap();
        hits.extend(s.hits_named(&data, Some(name)));
    }
    let summary = s.settle_hits(&mut hits).expect("encrypted keys were found");
    (
        hits.into_iter().map(|h| h.info).collect(),
        summary.to_string(),
    )
}

#[test]
fn one_budget_per_run_cheap_tries_first_and_the_same_result_every_time() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // Eight OpenSSH keys (bcrypt-pbkdf: costly tries) with a strong
    // passphrase, two copies of one, and a legacy PEM key (cheap tries)
    // whose passphrase is on the built-in list, far down it.
    let mut script = String::from(
        "openssl genrsa -traditional -out plain.pem 2048 2>/dev/null \
         && openssl rsa -in plain.pem -aes128 -traditional -passout pass:letmein -out cheap.pem 2>/dev/null",
    );
    for i in 0..8 {
        script.push_str(&format!(
            " && ssh-keygen -q -t ed25519 -N '{STRONG}' -C t -f s{i}"
        ));
    }
    script.push_str(" && mkdir a b && cp s0 a/copy && cp s0 b/other");
    sh(d, &script);
    let mut names = vec!["cheap.pem", "a/copy", "b/other"];
    let strong: Vec<String> = (0..8).map(|i| format!("s{i}")).collect();
    names.extend(strong.iter().map(String::as_str));
    // About six bcrypt tries' worth: not enough for every key's first try.
    let mut policy = Policy::default();
    policy.crack_budget = std::time::Duration::from_millis(300);
    let (first, summary) = run_once(policy.clone(), d, &names);
    assert!(
        summary.starts_with("weak-passphrase check: 9 encrypted keys, "),
        "copies count once: {summary}"
    );
    assert!(summary.contains(", 1 opened, "), "{summary}");
    assert!(
        summary.contains("not finished within the budget"),
        "{summary}"
    );
    // The cheap key opens although costly keys came first in the tree.
    assert_eq!(first[0].status, Status::Valid, "{:#?}", first[0]);
    assert_eq!(first[0].note.as_deref(), Some("weak passphrase"));
    // Copies of one key share one result.
    assert_eq!(first[1], first[2]);
    let stopped = first
        .iter()
        .filter(|i| {
            i.note
                .as_deref()
                .is_some_and(|n| n.contains("stopped at its budget"))
        })
        .count();
    assert!(stopped >= 2, "{first:#?}");
    // The same budget gives the same result, run after run.
    for _ in 0..2 {
        let (again, summary_again) = run_once(policy.clone(), d, &names);
        assert_eq!(summary_again, summary);
        assert_eq!(again, first);
    }
}

#[test]
fn a_deadline_stops_the_check_whatever_the_budget() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let mut script = String::from("true");
    for i in 0..12 {
        script.push_str(&format!(
            " && ssh-keygen -q -t ed25519 -N '{STRONG}' -C t -f k{i}"
        ));
    }
    sh(d, &script);
    let s = scanner_with(patient());
    let mut findings = Vec::new();
    for i in 0..12 {
        let name = format!("k{i}");
        let data = fs::read(d.join(&name)).unwrap();
        let origin = keyscan::scan::Origin {
            path: name,
            ..Default::default()
        };
        findings.extend(s.scan(&data, &origin));
    }
    let started = std::time::Instant::now();
    let deadline = started + std::time::Duration::from_millis(500);
    let summary = s.settle(&mut findings, Some(deadline)).unwrap();
    // One try may be under way at the deadline; nothing starts after it.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(summary.out_of_time > 0, "{summary:?}");
    assert!(summary.to_string().contains("stopped at the time limit"));
    assert!(findings
        .iter()
        .all(|f| f.status == Status::Encrypted && f.blocking));
    assert!(findings
        .iter()
        .any(|f| f.note.as_deref().is_some_and(|n| n.contains("time limit"))));
}

#[test]
fn crack_budget_flag_and_config_and_the_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    sh(
        d,
        &format!(
            "ssh-keygen -q -t ed25519 -N password -C t -f weak \
             && ssh-keygen -q -t ed25519 -N '{STRONG}' -C t -f strong"
        ),
    );
    let out = support::keyscan(
        d,
        &["--crack-budget", "0", "--format", "json", "scan", "weak"],
        None,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("weak-passphrase check: 1 encrypted key, 0 passphrases tried, 0 opened, 1 not finished within the budget"),
        "{err}"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &support::findings(&v)[0];
    assert_eq!(f["status"], "encrypted");
    assert!(
        f["note"]
            .as_str()
            .unwrap()
            .contains("stopped at its budget after 0 of"),
        "{f}"
    );

    fs::write(d.join("zero.toml"), "[policy]\ncrack_budget = \"0s\"\n").unwrap();
    let (_, v) = support::json(d, &["--config", "zero.toml", "scan", "weak"], None);
    assert_eq!(support::findings(&v)[0]["status"], "encrypted");
    // The flag wins over the config.
    let (_, v) = support::json(
        d,
        &[
            "--config",
            "zero.toml",
            "--crack-budget",
            "5s",
            "scan",
            "weak",
        ],
        None,
    );
    assert_eq!(support::findings(&v)[0]["status"], "valid");

    // One budget for the run: history's default (250ms) pays for two
    // OpenSSH tries in all; the default elsewhere (2s) reaches `password`.
    let out = support::keyscan(
        d,
        &["--crack-budget", "250ms", "scan", "weak", "strong"],
        None,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("2 encrypted keys, 2 passphrases tried, 0 opened, 2 not finished"),
        "{err}"
    );
    let out = support::keyscan(d, &["scan", "weak", "strong"], None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("weak-passphrase check: 2 encrypted keys, "),
        "{err}"
    );
    assert!(err.contains(", 1 opened"), "{err}");

    let out = support::keyscan(d, &["--crack-budget", "soon", "scan", "weak"], None);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    fs::write(d.join("bad.toml"), "[policy]\ncrack_budget = \"soon\"\n").unwrap();
    let out = support::keyscan(d, &["--config", "bad.toml", "scan", "weak"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("crack budget"));
}
