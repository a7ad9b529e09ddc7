//! Java keystores (JKS, JCEKS, BouncyCastle's BKS) made by keytool at test
//! time, and keys inside archives (zip, tar, tar.gz, gzip) built at test time.

use crate::support::gitrepo::{text, TempRepo};
use crate::support::{findings, json, keyscan, ssh_fingerprint, tool};
use std::path::Path;

/// BouncyCastle's provider jar (Debian's `libbcprov-java`, which CI
/// installs): keytool writes BKS stores only with it.
const BCPROV: &str = "/usr/share/java/bcprov.jar";

/// keytool's provider arguments for a BouncyCastle store type; none for
/// the JDK's own. A missing jar fails the test: nothing is skipped.
fn provider(kind: &str) -> Vec<&'static str> {
    if kind != "BKS" && kind != "UBER" {
        return Vec::new();
    }
    assert!(
        Path::new(BCPROV).exists(),
        "{BCPROV} is needed by the BKS tests: install libbcprov-java (.ci/run does)"
    );
    vec![
        "-providerpath",
        BCPROV,
        "-provider",
        "org.bouncycastle.jce.provider.BouncyCastleProvider",
    ]
}

/// keytool's arguments to read `store`: BKS and UBER stores (by their
/// extension) need their type and provider named.
fn read_args(store: &str) -> Vec<&'static str> {
    let kind = match store.rsplit('.').next() {
        Some("bks") => "BKS",
        Some("uber") => "UBER",
        _ => return Vec::new(),
    };
    let mut args = vec!["-storetype", kind];
    args.extend(provider(kind));
    args
}

/// `keytool -genkeypair` into a new store.
fn genkey(dir: &Path, store: &str, kind: &str, alg: &str, alias: &str, pass: &str) {
    let dname = format!("CN={alias}");
    let mut args: Vec<&str> = provider(kind);
    args.extend([
        "-genkeypair",
        "-keyalg",
        alg,
        "-alias",
        alias,
        "-dname",
        &dname,
        "-storetype",
        kind,
        "-keystore",
        store,
        "-storepass",
        pass,
        "-keypass",
        pass,
        "-validity",
        "30",
    ]);
    tool("keytool", &args, dir);
}

/// The OpenSSH fingerprint of a store's key, the long way round: keytool
/// to PKCS#12, openssl to PEM, ssh-keygen.
fn fingerprint_via_pkcs12(dir: &Path, store: &str, pass: &str) -> String {
    let p12 = format!("{store}.p12");
    tool(
        "keytool",
        &[
            "-importkeystore",
            "-srckeystore",
            store,
            "-srcstorepass",
            pass,
            "-destkeystore",
            &p12,
            "-deststoretype",
            "PKCS12",
            "-deststorepass",
            pass,
        ],
        dir,
    );
    let out = tool(
        "openssl",
        &[
            "pkcs12",
            "-in",
            &p12,
            "-nodes",
            "-nocerts",
            "-passin",
            &format!("pass:{pass}"),
        ],
        dir,
    );
    let bags = dir.join(format!("{store}.bags"));
    std::fs::write(&bags, &out.stdout).unwrap();
    let pem = dir.join(format!("{store}.pem"));
    let (bags, pem_s) = (bags.to_str().unwrap(), pem.to_str().unwrap());
    tool("openssl", &["pkey", "-in", bags, "-out", pem_s], dir);
    std::fs::set_permissions(&pem, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    ssh_fingerprint(&pem)
}

fn scan_one(dir: &Path, name: &str) -> (i32, Vec<serde_json::Value>) {
    let (code, v) = json(dir, &["scan", name], None);
    (code, findings(&v).clone())
}

#[test]
fn weak_jks_and_jceks_open_with_the_fingerprint_of_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    for (store, kind, alg, pass) in [
        ("rsa.jks", "JKS", "RSA", "changeit"),
        ("ec.jceks", "JCEKS", "EC", "changeit"),
        ("release.keystore", "JKS", "RSA", "android"),
    ] {
        genkey(d, store, kind, alg, "signing", pass);
        let want = fingerprint_via_pkcs12(d, store, pass);
        let (code, found) = scan_one(d, store);
        assert_eq!(code, 1, "{store}: {found:?}");
        assert_eq!(found.len(), 1, "{store}: {found:?}");
        let f = &found[0];
        assert_eq!(f["status"], "valid", "{store}: {f}");
        assert_eq!(f["format"], kind, "{store}");
        assert_eq!(f["fingerprint"], want.as_str(), "{store}");
        assert!(f["public_key"]
            .as_str()
            .unwrap()
            .starts_with(if alg == "RSA" {
                "ssh-rsa "
            } else {
                "ecdsa-sha2-nistp256 "
            }));
    }
}

#[test]
fn fingerprint_of_an_android_keystore_prompts_for_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    genkey(
        d,
        "release.keystore",
        "JKS",
        "RSA",
        "androiddebugkey",
        "android",
    );
    let want = fingerprint_via_pkcs12(d, "release.keystore", "android");
    // Standard input is closed: a prompt would fail.
    let out = keyscan(d, &["fingerprint", "release.keystore"], None);
    assert!(out.status.success(), "{}", text(&out));
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains(&want), "{shown}");
    assert!(shown.contains("JKS (valid)"), "{shown}");
    // The file's own name is a password tried too.
    genkey(d, "billing.jks", "JKS", "EC", "billing", "billing");
    let out = keyscan(d, &["fingerprint", "billing.jks"], None);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("ECDSA P-256, JKS (valid)"), "{shown}");
}

#[test]
fn strong_keystore_is_encrypted_with_aliases_and_certificate() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let pass = "Tr0ub4dor-and-3-horses";
    genkey(d, "prod.jks", "JKS", "RSA", "prodsigner", pass);
    genkey(d, "prod.jceks", "JCEKS", "EC", "jcesigner", pass);
    let want = fingerprint_via_pkcs12(d, "prod.jks", pass);
    let (code, found) = scan_one(d, "prod.jks");
    assert_eq!(code, 1);
    let f = &found[0];
    assert_eq!(f["status"], "encrypted", "{f}");
    assert_eq!(f["key_type"], "RSA 2048", "{f}");
    // The public half comes from the entry's certificate.
    assert_eq!(f["fingerprint"], want.as_str());
    let note = f["note"].as_str().unwrap();
    assert!(note.contains("aliases: prodsigner"), "{note}");
    assert!(note.contains("CN=prodsigner"), "{note}");
    let (_, found) = scan_one(d, "prod.jceks");
    assert_eq!(found[0]["status"], "encrypted");
    assert_eq!(found[0]["format"], "JCEKS");
    assert_eq!(found[0]["key_type"], "ECDSA P-256");
    assert!(found[0]["note"]
        .as_str()
        .unwrap()
        .contains("PBEWithMD5AndTripleDES"));
}

#[test]
fn truststore_and_damaged_store_are_quiet() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    genkey(d, "src.jks", "JKS", "RSA", "server", "changeit");
    tool(
        "keytool",
        &[
            "-exportcert",
            "-alias",
            "server",
            "-keystore",
            "src.jks",
            "-storepass",
            "changeit",
            "-file",
            "server.crt",
        ],
        d,
    );
    for kind in ["JKS", "JCEKS"] {
        let store = format!("trust.{}", kind.to_lowercase());
        tool(
            "keytool",
            &[
                "-importcert",
                "-noprompt",
                "-alias",
                "ca",
                "-file",
                "server.crt",
                "-storetype",
                kind,
                "-keystore",
                &store,
                "-storepass",
                "changeit",
            ],
            d,
        );
        let (code, found) = scan_one(d, &store);
        assert_eq!((code, found.len()), (0, 0), "{store}: {found:?}");
    }
    // Cut short, the structure no longer ends at its digest: no finding.
    let data = std::fs::read(d.join("src.jks")).unwrap();
    std::fs::write(d.join("cut.jks"), &data[..data.len() - 7]).unwrap();
    let (code, found) = scan_one(d, "cut.jks");
    assert_eq!((code, found.len()), (0, 0), "{found:?}");
}

#[test]
fn precommit_blocks_a_keystore() {
    let r = TempRepo::new();
    let out = r
        .command(crate::support::bin(), &r.dir)
        .arg("install")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    std::fs::create_dir_all(r.dir.join("app")).unwrap();
    genkey(
        &r.dir,
        "app/release.keystore",
        "JKS",
        "RSA",
        "release",
        "android",
    );
    r.ok(&["add", "app/release.keystore"]);
    let (went, out) = r.commit();
    assert!(!went, "{out}");
    assert!(out.contains("app/release.keystore"), "{out}");
}

/// Run a python3 snippet in `dir` (zipfile, tarfile, gzip build archives).
fn python(dir: &Path, code: &str) {
    tool("python3", &["-c", code], dir);
}

/// Findings by path: (path, status, fingerprint).
fn located(found: &[serde_json::Value]) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = found
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["status"].as_str().unwrap().to_string(),
                f["fingerprint"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn keys_inside_zip_tar_gzip_and_nested_archives_are_found() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (_, ed) = crate::support::ed25519(d, "id_ed25519");
    let (_, rsa) = crate::support::rsa_pem(d, "deploy.pem");
    python(
        d,
        "import zipfile, tarfile, gzip, shutil\n\
         with zipfile.ZipFile('bundle.jar', 'w', zipfile.ZIP_DEFLATED) as z:\n\
         \x20   z.write('id_ed25519', 'META-INF/keys/id_ed25519')\n\
         \x20   z.write('id_ed25519.pub', 'META-INF/keys/id_ed25519.pub')\n\
         \x20   z.writestr('README', 'no key here')\n\
         with tarfile.open('plain.tar', 'w') as t:\n\
         \x20   t.add('deploy.pem', 'etc/ssl/deploy.pem')\n\
         with tarfile.open('backup.tar.gz', 'w:gz') as t:\n\
         \x20   t.add('bundle.jar', 'release/bundle.jar')\n\
         with open('deploy.pem', 'rb') as f, gzip.open('deploy.pem.gz', 'wb') as g:\n\
         \x20   shutil.copyfileobj(f, g)\n",
    );
    let (code, v) = json(
        d,
        &[
            "scan",
            "bundle.jar",
            "plain.tar",
            "backup.tar.gz",
            "deploy.pem.gz",
        ],
        None,
    );
    assert_eq!(code, 1);
    let valid = |p: &str, fp: &str| (p.to_string(), "valid".to_string(), fp.to_string());
    assert_eq!(
        located(findings(&v)),
        vec![
            valid(
                "backup.tar.gz!release/bundle.jar!META-INF/keys/id_ed25519",
                &ed
            ),
            valid("bundle.jar!META-INF/keys/id_ed25519", &ed),
            valid("deploy.pem.gz!deploy.pem", &rsa),
            valid("plain.tar!etc/ssl/deploy.pem", &rsa),
        ]
    );
    // Lines count inside the member.
    let f = &findings(&v)[0];
    assert_eq!(f["line"], 1, "{f}");
}

#[test]
fn an_archive_of_public_keys_is_quiet() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    crate::support::ed25519(d, "id_ed25519");
    python(
        d,
        "import zipfile, tarfile\n\
         with zipfile.ZipFile('pub.zip', 'w', zipfile.ZIP_DEFLATED) as z:\n\
         \x20   z.write('id_ed25519.pub', 'keys/id_ed25519.pub')\n\
         with tarfile.open('pub.tgz', 'w:gz') as t:\n\
         \x20   t.add('pub.zip')\n",
    );
    let (code, v) = json(d, &["scan", "pub.zip", "pub.tgz"], None);
    assert_eq!((code, findings(&v).len()), (0, 0), "{v}");
}

#[test]
fn a_zip_bomb_is_refused_quickly_with_a_note() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (_, ed) = crate::support::ed25519(d, "id_ed25519");
    python(
        d,
        "import zipfile\n\
         with zipfile.ZipFile('bomb.zip', 'w', zipfile.ZIP_DEFLATED) as z:\n\
         \x20   z.writestr('zeros.bin', bytes(100 << 20))\n\
         \x20   z.write('id_ed25519', 'after/id_ed25519')\n",
    );
    let start = std::time::Instant::now();
    let (code, v) = json(d, &["scan", "bomb.zip"], None);
    let took = start.elapsed();
    assert!(took < std::time::Duration::from_secs(10), "{took:?}");
    assert_eq!(code, 1, "{v}");
    let found = located(findings(&v));
    assert_eq!(found.len(), 2, "{v}");
    assert_eq!(
        found[1],
        ("bomb.zip!after/id_ed25519".into(), "valid".into(), ed)
    );
    let refused = &findings(&v)[0];
    assert_eq!(
        (refused["path"].as_str(), refused["status"].as_str()),
        (Some("bomb.zip"), Some("unverified"))
    );
    let note = refused["note"].as_str().unwrap();
    assert!(
        note.contains("zeros.bin") && note.contains("zip bomb"),
        "{note}"
    );
}

#[test]
fn precommit_blocks_a_key_inside_an_apk() {
    let r = TempRepo::new();
    let out = r
        .command(crate::support::bin(), &r.dir)
        .arg("install")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let (_, fp) = crate::support::rsa_pem(&r.home, "signing.pem");
    python(
        &r.home,
        "import zipfile\n\
         with zipfile.ZipFile('../repo/app.apk', 'w', zipfile.ZIP_DEFLATED) as z:\n\
         \x20   z.write('signing.pem', 'assets/signing.pem')\n\
         \x20   z.writestr('classes.dex', b'dex\\n035\\0' * 100)\n",
    );
    r.ok(&["add", "app.apk"]);
    let (went, out) = r.commit();
    assert!(!went, "{out}");
    assert!(out.contains("app.apk!assets/signing.pem"), "{out}");
    assert!(out.contains(&fp), "{out}");
    // History finds it too, once it is in (committed past the hook).
    r.ok(&[
        "-c",
        "core.hooksPath=/dev/null",
        "commit",
        "-q",
        "-m",
        "apk",
    ]);
    let out = r
        .command(crate::support::bin(), &r.dir)
        .args(["--format", "json", "history"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let paths: Vec<&str> = findings(&v)
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["app.apk!assets/signing.pem"], "{v}");
}

/// A bare repository next to `r`: with keyscan's pre-receive hook, or none.
fn bare(r: &TempRepo, name: &str, hook: bool) -> std::path::PathBuf {
    let out = r
        .command("git", &r.home)
        .args(["init", "-q", "--bare", name])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let path = r.home.join(name);
    if hook {
        let out = r
            .command(crate::support::bin(), &r.home)
            .args(["install", "--server", path.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
    }
    path
}

/// Every ref of a repository and what it points at.
fn refs(r: &TempRepo, repo: &Path) -> String {
    r.ok(&["--git-dir", repo.to_str().unwrap(), "for-each-ref"])
}

/// An age identity, a WireGuard config, a JKS store with a weak password
/// and an ed25519 key inside a zip, committed past the pre-commit hook:
/// `git push` is rejected by the server's pre-receive hook and, into a
/// server without one, by the client's pre-push hook, each naming every
/// key by its fingerprint.
#[test]
fn pre_receive_and_pre_push_reject_new_formats_with_their_fingerprints() {
    let r = TempRepo::new();
    let d = r.dir.clone();
    tool("age-keygen", &["-o", "keys.txt"], &d);
    let recipient = String::from_utf8_lossy(&tool("age-keygen", &["-y", "keys.txt"], &d).stdout)
        .trim()
        .to_string();
    let private = String::from_utf8_lossy(&tool("wg", &["genkey"], &d).stdout)
        .trim()
        .to_string();
    std::fs::write(d.join("private.wg"), format!("{private}\n")).unwrap();
    let out = tool("sh", &["-c", "wg pubkey < private.wg && rm private.wg"], &d);
    let wg_public = String::from_utf8_lossy(&out.stdout).trim().to_string();
    r.write(
        "wg0.conf",
        &format!("[Interface]\nPrivateKey = {private}\n"),
    );
    genkey(&r.home, "app.jks", "JKS", "RSA", "signing", "password");
    let jks = fingerprint_via_pkcs12(&r.home, "app.jks", "password");
    std::fs::copy(r.home.join("app.jks"), d.join("app.jks")).unwrap();
    let (_, ed) = crate::support::ed25519(&r.home, "deploy");
    python(
        &r.home,
        "import zipfile\n\
         with zipfile.ZipFile('../repo/bundle.zip', 'w', zipfile.ZIP_DEFLATED) as z:\n\
         \x20   z.write('deploy', 'keys/deploy')\n",
    );
    r.ok(&["add", "-A"]);
    r.ok(&["commit", "-q", "--no-verify", "-m", "keys"]);
    let expected = [recipient.as_str(), wg_public.as_str(), &jks, &ed];

    let server = bare(&r, "server.git", true);
    let out = r.git(&["push", server.to_str().unwrap(), "main"]);
    let all = text(&out);
    assert!(!out.status.success(), "{all}");
    assert!(all.contains("pre-receive hook declined"), "{all}");
    assert!(all.contains("bundle.zip!keys/deploy"), "{all}");
    for fp in expected {
        assert!(all.contains(fp), "pre-receive: no {fp} in:\n{all}");
    }
    assert!(!all.contains(&private), "key printed:\n{all}");
    assert_eq!(refs(&r, &server), "");

    let plain = bare(&r, "plain.git", false);
    let out = r
        .command(crate::support::bin(), &d)
        .args(["install", "--hook", "pre-push"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let out = r.git(&["push", plain.to_str().unwrap(), "main"]);
    let all = text(&out);
    assert!(!out.status.success(), "{all}");
    assert!(all.contains("keyscan: push blocked"), "{all}");
    for fp in expected {
        assert!(all.contains(fp), "pre-push: no {fp} in:\n{all}");
    }
    assert_eq!(refs(&r, &plain), "");
}

/// The OpenSSH fingerprint of one entry's certificate key (its public half).
fn entry_fingerprint(dir: &Path, store: &str, alias: &str, pass: &str) -> String {
    let mut args: Vec<&str> = read_args(store);
    args.extend([
        "-exportcert",
        "-rfc",
        "-alias",
        alias,
        "-keystore",
        store,
        "-storepass",
        pass,
    ]);
    let pem = tool("keytool", &args, dir);
    std::fs::write(dir.join("cert.pem"), &pem.stdout).unwrap();
    let script = "openssl x509 -in cert.pem -pubkey -noout > spki.pem && \
                  ssh-keygen -i -m PKCS8 -f spki.pem > ssh.pub && ssh-keygen -lf ssh.pub";
    let out = tool("sh", &["-c", script], dir);
    let line = String::from_utf8_lossy(&out.stdout).into_owned();
    line.split_whitespace().nth(1).unwrap().to_string()
}

#[test]
fn every_private_entry_is_its_own_finding_and_secret_entries_are_stepped_over() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let seckey = |store: &str, alias: &str, pass: &str| {
        tool(
            "keytool",
            &[
                "-genseckey",
                "-keyalg",
                "AES",
                "-keysize",
                "128",
                "-alias",
                alias,
                "-storetype",
                "JCEKS",
                "-keystore",
                store,
                "-storepass",
                pass,
                "-keypass",
                pass,
            ],
            d,
        );
    };
    // JKS: two key pairs and a trusted certificate; JCEKS: secret keys
    // around two key pairs.
    genkey(d, "two.jks", "JKS", "RSA", "first", "changeit");
    genkey(d, "two.jks", "JKS", "EC", "second", "changeit");
    let first = entry_fingerprint(d, "two.jks", "first", "changeit");
    let script = "keytool -exportcert -alias first -keystore two.jks -storepass changeit -file c.der \
                  && keytool -noprompt -importcert -alias ca -file c.der -keystore two.jks -storepass changeit";
    tool("sh", &["-c", script], d);
    seckey("three.jceks", "aes1", "password");
    genkey(d, "three.jceks", "JCEKS", "EC", "one", "password");
    seckey("three.jceks", "aes2", "password");
    seckey("three.jceks", "aes3", "password");
    genkey(d, "three.jceks", "JCEKS", "RSA", "two", "password");
    let mut want = [
        first,
        entry_fingerprint(d, "two.jks", "second", "changeit"),
        entry_fingerprint(d, "three.jceks", "one", "password"),
        entry_fingerprint(d, "three.jceks", "two", "password"),
    ];
    want.sort();
    let (code, v) = json(d, &["scan", "two.jks", "three.jceks"], None);
    assert_eq!(code, 1, "{v:#}");
    let mut got: Vec<(String, String)> = findings(&v)
        .iter()
        .map(|f| {
            let fp = f["fingerprint"].as_str().unwrap_or("").to_string();
            (fp, f["status"].as_str().unwrap().to_string())
        })
        .collect();
    got.sort();
    let valid: Vec<(String, String)> = want.iter().map(|f| (f.clone(), "valid".into())).collect();
    assert_eq!(got, valid, "{v:#}");

    // PKCS#12 as keytool writes it: a key bag per key pair, each its own
    // finding; with a strong password, each encrypted and numbered.
    genkey(d, "two.p12", "PKCS12", "RSA", "first", "changeit");
    genkey(d, "two.p12", "PKCS12", "EC", "second", "changeit");
    let mut want = [
        entry_fingerprint(d, "two.p12", "first", "changeit"),
        entry_fingerprint(d, "two.p12", "second", "changeit"),
    ];
    want.sort();
    let (code, v) = json(d, &["scan", "two.p12"], None);
    assert_eq!(code, 1, "{v:#}");
    let mut got: Vec<String> = (findings(&v).iter())
        .filter(|f| f["status"] == "valid")
        .map(|f| f["fingerprint"].as_str().unwrap_or("").to_string())
        .collect();
    got.sort();
    assert_eq!(got, want, "{v:#}");
    let strong = "Zq8-long-and-random";
    genkey(d, "strong.p12", "PKCS12", "RSA", "a", strong);
    genkey(d, "strong.p12", "PKCS12", "EC", "b", strong);
    let (code, v) = json(d, &["scan", "strong.p12"], None);
    assert_eq!(code, 1, "{v:#}");
    let mut notes: Vec<String> = (findings(&v).iter())
        .inspect(|f| assert_eq!(f["status"], "encrypted", "{f:#}"))
        .map(|f| f["note"].as_str().unwrap_or("").to_string())
        .collect();
    notes.sort();
    assert!(
        notes[0].contains("key bag 1 of 2") && notes[1].contains("key bag 2 of 2"),
        "{notes:?}"
    );

    // Strong: each key pair encrypted, named by its certificate; the
    // aliases include the secret keys'.
    genkey(
        d,
        "strong.jceks",
        "JCEKS",
        "RSA",
        "signer",
        "Zq8-long-and-random",
    );
    seckey("strong.jceks", "aes", "Zq8-long-and-random");
    let want = entry_fingerprint(d, "strong.jceks", "signer", "Zq8-long-and-random");
    let (_, found) = scan_one(d, "strong.jceks");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["status"], "encrypted");
    assert_eq!(found[0]["fingerprint"], want.as_str());
    let note = found[0]["note"].as_str().unwrap();
    assert!(note.contains("aes") && note.contains("signer"), "{note}");
}

/// (fingerprint, status, format) of each finding, sorted.
fn fingerprints(found: &[serde_json::Value]) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = found
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or("").to_string();
            (s("fingerprint"), s("status"), s("format"))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn weak_bks_opens_each_private_entry_with_the_fingerprint_of_its_key() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    genkey(d, "app.bks", "BKS", "RSA", "rsa", "changeit");
    genkey(d, "app.bks", "BKS", "EC", "ec", "changeit");
    let rsa = entry_fingerprint(d, "app.bks", "rsa", "changeit");
    let ec = entry_fingerprint(d, "app.bks", "ec", "changeit");
    let (code, found) = scan_one(d, "app.bks");
    assert_eq!(code, 1, "{found:?}");
    let valid = |fp: &str| (fp.to_string(), "valid".to_string(), "BKS".to_string());
    let mut want = vec![valid(&rsa), valid(&ec)];
    want.sort();
    assert_eq!(fingerprints(&found), want, "{found:#?}");
    let mut keys: Vec<&str> = (found.iter())
        .map(|f| f["public_key"].as_str().unwrap().split(' ').next().unwrap())
        .collect();
    keys.sort();
    assert_eq!(keys, ["ecdsa-sha2-nistp256", "ssh-rsa"]);
}

#[test]
fn strong_bks_is_encrypted_with_aliases_and_certificate() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let pass = "Tr0ub4dor-and-3-horses";
    genkey(d, "prod.bks", "BKS", "RSA", "prodsigner", pass);
    let want = entry_fingerprint(d, "prod.bks", "prodsigner", pass);
    let (code, found) = scan_one(d, "prod.bks");
    assert_eq!((code, found.len()), (1, 1), "{found:?}");
    let f = &found[0];
    assert_eq!(f["status"], "encrypted", "{f}");
    assert_eq!(f["format"], "BKS", "{f}");
    assert_eq!(f["key_type"], "RSA 2048", "{f}");
    assert_eq!(f["fingerprint"], want.as_str(), "{f}");
    let note = f["note"].as_str().unwrap();
    assert!(note.contains("aliases: prodsigner"), "{note}");
    assert!(note.contains("CN=prodsigner"), "{note}");
    assert!(note.contains("PBEWithSHAAnd3-KeyTripleDES-CBC"), "{note}");
}

#[test]
fn bks_truststore_and_damaged_bks_are_quiet() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    genkey(d, "src.bks", "BKS", "EC", "server", "changeit");
    let mut args: Vec<&str> = read_args("src.bks");
    args.extend(["-exportcert", "-alias", "server", "-keystore", "src.bks"]);
    args.extend(["-storepass", "changeit", "-file", "server.crt"]);
    tool("keytool", &args, d);
    let mut args: Vec<&str> = read_args("trust.bks");
    args.extend(["-importcert", "-noprompt", "-alias", "ca", "-file"]);
    args.extend([
        "server.crt",
        "-keystore",
        "trust.bks",
        "-storepass",
        "changeit",
    ]);
    tool("keytool", &args, d);
    let (code, found) = scan_one(d, "trust.bks");
    assert_eq!((code, found.len()), (0, 0), "{found:?}");

    let data = std::fs::read(d.join("src.bks")).unwrap();
    // A byte flipped inside the entries: the HMAC no longer checks, so
    // the weak password opens nothing.
    let mut flipped = data.clone();
    flipped[data.len() - 40] ^= 1;
    std::fs::write(d.join("flipped.bks"), &flipped).unwrap();
    let (_, found) = scan_one(d, "flipped.bks");
    assert!(found.iter().all(|f| f["status"] != "valid"), "{found:?}");
    // The first entry's type broken, or the store cut short: no store.
    let mut broken = data.clone();
    broken[32] = 9;
    std::fs::write(d.join("broken.bks"), &broken).unwrap();
    std::fs::write(d.join("cut.bks"), &data[..data.len() - 7]).unwrap();
    for name in ["broken.bks", "cut.bks"] {
        let (code, found) = scan_one(d, name);
        assert_eq!((code, found.len()), (0, 0), "{name}: {found:?}");
    }
}

#[test]
fn precommit_blocks_a_bks_keystore() {
    let r = TempRepo::new();
    let out = r
        .command(crate::support::bin(), &r.dir)
        .arg("install")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    genkey(&r.home, "signing.bks", "BKS", "EC", "signing", "changeit");
    let want = entry_fingerprint(&r.home, "signing.bks", "signing", "changeit");
    std::fs::copy(r.home.join("signing.bks"), r.dir.join("signing.bks")).unwrap();
    r.ok(&["add", "signing.bks"]);
    let (went, out) = r.commit();
    assert!(!went, "{out}");
    assert!(out.contains("signing.bks"), "{out}");
    assert!(out.contains(&want), "{out}");
}

#[test]
fn uber_opens_with_a_weak_password_and_is_encrypted_otherwise() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    genkey(d, "weak.uber", "UBER", "EC", "signing", "changeit");
    let want = entry_fingerprint(d, "weak.uber", "signing", "changeit");
    let strong = "Tr0ub4dor-and-3-horses";
    genkey(d, "strong.uber", "UBER", "RSA", "prod", strong);
    let (code, v) = json(d, &["scan", "weak.uber", "strong.uber"], None);
    assert_eq!(code, 1, "{v:#}");
    let found = findings(&v);
    let got: Vec<(&str, &str, &str)> = found
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or("");
            (s("path"), s("status"), s("format"))
        })
        .collect();
    assert_eq!(
        got,
        [
            ("strong.uber", "encrypted", "UBER"),
            ("weak.uber", "valid", "UBER")
        ],
        "{v:#}"
    );
    assert_eq!(found[1]["fingerprint"], want.as_str(), "{v:#}");
}
