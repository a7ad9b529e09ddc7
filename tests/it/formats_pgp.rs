//! Binary OpenPGP (gpg exports without --armor, secret subkeys, old- and
//! new-format packet headers), v3 and v6 secret keys built from RFC 4880 /
//! RFC 9580, and SSH-1 RSA keys built from their file format.

use crate::support;
use keyscan::policy::Policy;
use keyscan::scan::finding::{KeyInfo, Status};
use keyscan::scan::Scanner;
use std::fs;
use std::path::Path;

fn scanner() -> Scanner {
    let rules = keyscan::rules::builtin().expect("built-in rules load");
    Scanner::new(
        keyscan::rules::Engine::new(rules).expect("engine builds"),
        Policy::default(),
    )
}

fn sh(dir: &Path, script: &str) -> String {
    String::from_utf8_lossy(&support::tool("sh", &["-c", script], dir).stdout).into_owned()
}

fn one_in(s: &Scanner, what: &str, data: &[u8]) -> KeyInfo {
    let found: Vec<KeyInfo> = s.hits(data).into_iter().map(|h| h.info).collect();
    assert_eq!(found.len(), 1, "{what}: {found:#?}");
    found.into_iter().next().unwrap()
}

fn quiet(s: &Scanner, what: &str, data: &[u8]) {
    let found: Vec<KeyInfo> = s.hits(data).into_iter().map(|h| h.info).collect();
    assert!(found.is_empty(), "{what} must stay quiet: {found:#?}");
}

/// An old-format packet (RFC 4880 4.2.1) with a 2-octet length.
fn old_packet(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![0x80 | (tag << 2) | 1];
    out.extend((body.len() as u16).to_be_bytes());
    out.extend(body);
    out
}

/// A new-format packet (RFC 4880 4.2.2) with a five-octet length.
fn new_packet(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![0xc0 | tag, 0xff];
    out.extend((body.len() as u32).to_be_bytes());
    out.extend(body);
    out
}

fn mpi(be: &[u8]) -> Vec<u8> {
    let start = be.iter().position(|b| *b != 0).unwrap_or(be.len());
    let v = &be[start..];
    let bits = v.len() * 8 - v.first().map_or(8, |b| b.leading_zeros() as usize);
    let mut out = (bits as u16).to_be_bytes().to_vec();
    out.extend(v);
    out
}

/// The parts of a fresh openssl RSA key: n, e, d, p, q, qinv (big-endian).
fn rsa_parts(dir: &Path, bits: u32) -> [Vec<u8>; 6] {
    use pkcs1::der::Decode;
    sh(
        dir,
        &format!("openssl genrsa -traditional -out rsa.pem {bits} 2>/dev/null && openssl rsa -in rsa.pem -traditional -outform DER -out rsa.der 2>/dev/null"),
    );
    let der = fs::read(dir.join("rsa.der")).unwrap();
    let k = pkcs1::RsaPrivateKey::from_der(&der).unwrap();
    let b = |u: pkcs1::UintRef| u.as_bytes().to_vec();
    [
        b(k.modulus),
        b(k.public_exponent),
        b(k.private_exponent),
        b(k.prime1),
        b(k.prime2),
        b(k.coefficient),
    ]
}

#[test]
fn gpg_binary_exports_and_subkeys() {
    let s = scanner();
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
            "{gpg} --passphrase '' --quick-gen-key 'Clear <c@example.com>' ed25519 default never \
             && {gpg} --passphrase pw --quick-gen-key 'Locked <l@example.com>' rsa2048 default never \
             && for who in c l; do \
                  fpr=$({gpg} --with-colons --fingerprint $who@example.com | awk -F: '/^fpr/ {{print $10; exit}}'); \
                  if [ $who = c ]; then p=''; else p=pw; fi; \
                  {gpg} --passphrase \"$p\" --quick-add-key $fpr cv25519 encr never; \
                  echo $fpr > $who.fpr; \
                done \
             && {gpg} --export-secret-keys c@example.com > clear.gpg \
             && {gpg} --passphrase pw --export-secret-keys l@example.com > locked.pgp \
             && {gpg} --export-secret-subkeys c@example.com > clear-subkeys.gpg \
             && {gpg} --passphrase pw --export-secret-subkeys l@example.com > locked-subkeys.gpg \
             && {gpg} --export c@example.com > public.gpg"
        ),
    );
    let fpr = |who: &str| {
        fs::read_to_string(d.join(format!("{who}.fpr")))
            .unwrap()
            .trim()
            .to_string()
    };
    for (file, status, key_type, who) in [
        ("clear.gpg", Status::Valid, "PGP EdDSA (Ed25519)", "c"),
        ("locked.pgp", Status::Encrypted, "PGP RSA 2048", "l"),
        (
            "clear-subkeys.gpg",
            Status::Valid,
            "PGP EdDSA (Ed25519)",
            "c",
        ),
        ("locked-subkeys.gpg", Status::Encrypted, "PGP RSA 2048", "l"),
    ] {
        let data = fs::read(d.join(file)).unwrap();
        let info = one_in(&s, file, &data);
        assert_eq!(
            (info.status, info.key_type.as_str()),
            (status, key_type),
            "{file}: {info:#?}"
        );
        assert_eq!(info.fingerprint, Some(fpr(who)), "{file}");
        assert_eq!(info.format, "OpenPGP (binary)");
    }
    quiet(
        &s,
        "a public keyring",
        &fs::read(d.join("public.gpg")).unwrap(),
    );

    // The same key with a new-format header on its first packet.
    let data = fs::read(d.join("clear.gpg")).unwrap();
    let (tag, len, at) = match data[0] & 0x03 {
        0 => ((data[0] >> 2) & 0x0f, data[1] as usize, 2),
        1 => (
            (data[0] >> 2) & 0x0f,
            u16::from_be_bytes([data[1], data[2]]) as usize,
            3,
        ),
        _ => panic!("gpg wrote an unexpected length type"),
    };
    assert_eq!(tag, 5);
    let mut renewed = new_packet(5, &data[at..at + len]);
    renewed.extend(&data[at + len..]);
    let info = one_in(&s, "new format", &renewed);
    assert_eq!(info.status, Status::Valid);
    assert_eq!(info.fingerprint, Some(fpr("c")));

    // A flipped byte in the clear secret breaks the checksum.
    let mut bad = data.clone();
    bad[at + len - 5] ^= 0x01;
    assert_eq!(one_in(&s, "corrupted", &bad).status, Status::Unverified);
    let _ = std::process::Command::new("gpgconf")
        .args(["--homedir", home.to_str().unwrap(), "--kill", "gpg-agent"])
        .output();
}

#[test]
fn pgp_v3_and_v6_secret_keys_built_from_the_spec() {
    let s = scanner();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let [n, e, dd, p, q, _] = rsa_parts(d, 1024);
    // v3 (RFC 4880 5.5.2): version, created, validity days, algorithm, n, e;
    // then S2K usage 0, d, p, q, u and the 16-bit sum of those MPIs.
    let mut body = vec![3, 0x50, 0, 0, 0, 0, 0, 1];
    body.extend(mpi(&n));
    body.extend(mpi(&e));
    body.push(0);
    let mut secret = Vec::new();
    for part in [&dd, &q, &p, &p] {
        secret.extend(mpi(part));
    }
    let sum = secret.iter().fold(0u16, |a, b| a.wrapping_add(*b as u16));
    body.extend(&secret);
    body.extend(sum.to_be_bytes());
    let v3 = old_packet(5, &body);
    let info = one_in(&s, "v3", &v3);
    assert_eq!(
        (info.status, info.key_type.as_str()),
        (Status::Valid, "PGP RSA 1024")
    );
    use md5::Digest as _;
    let trim = |v: &[u8]| v[v.iter().position(|b| *b != 0).unwrap()..].to_vec();
    let expected: String = md5::Md5::new()
        .chain_update(trim(&n))
        .chain_update(trim(&e))
        .finalize()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    assert_eq!(info.fingerprint, Some(expected));

    // v6 (RFC 9580 5.5.2): version, created, algorithm, 4-octet material
    // length, material; S2K usage 0 and the secret with no checksum.
    let v6 = |algo: u8, public_len: usize, secret_len: usize| -> (Vec<u8>, String) {
        let mut body = vec![6, 0x66, 0, 0, 0, algo];
        body.extend((public_len as u32).to_be_bytes());
        let secret: Vec<u8> = (0..secret_len).map(|i| (i * 13 + 5) as u8).collect();
        if algo == 27 {
            // Checked: the public key must be the secret's.
            let seed: [u8; 32] = secret[..].try_into().unwrap();
            body.extend(
                ed25519_dalek::SigningKey::from_bytes(&seed)
                    .verifying_key()
                    .to_bytes(),
            );
        } else {
            body.extend((0..public_len).map(|i| (i * 7 + 3) as u8));
        }
        let public_end = body.len();
        body.push(0);
        body.extend(&secret);
        use sha2::Digest as _;
        let fp: String = sha2::Sha256::new()
            .chain_update([0x9b])
            .chain_update((public_end as u32).to_be_bytes())
            .chain_update(&body[..public_end])
            .finalize()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        (new_packet(5, &body), fp)
    };
    for (algo, public_len, secret_len, name) in [
        (27, 32, 32, "PGP Ed25519"),
        (28, 57, 57, "PGP Ed448"),
        (25, 32, 32, "PGP X25519"),
        (30, 32 + 1952, 32 + 32, "PGP ML-DSA-65 + Ed25519"),
        (35, 32 + 1184, 32 + 64, "PGP ML-KEM-768 + X25519"),
        (32, 32, 64, "PGP SLH-DSA-SHAKE-128s"),
    ] {
        let (packet, fp) = v6(algo, public_len, secret_len);
        let info = one_in(&s, name, &packet);
        assert_eq!((info.status, info.key_type.as_str()), (Status::Valid, name));
        assert_eq!(info.fingerprint, Some(fp));
        // Armored, the same.
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&packet);
        let armored = format!(
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{b64}\n-----END PGP PRIVATE KEY BLOCK-----\n"
        );
        assert_eq!(one_in(&s, name, armored.as_bytes()).key_type, name);
    }
    // A declared length that does not fit the algorithm is not a key.
    let (mut packet, _) = v6(27, 32, 32);
    packet[6 + 9] = 33;
    quiet(&s, "wrong v6 length", &packet);
}

/// An SSH-1 private key file (OpenSSH's old authfile.c format).
fn ssh1_file(parts: &[Vec<u8>; 6], cipher: u8, check: [u8; 4]) -> Vec<u8> {
    let [n, e, d, p, q, qinv] = parts;
    let mut out = b"SSH PRIVATE KEY FILE FORMAT 1.1\n\0".to_vec();
    out.push(cipher);
    out.extend([0, 0, 0, 0]);
    out.extend(1024u32.to_be_bytes());
    out.extend(mpi(n));
    out.extend(mpi(e));
    out.extend(4u32.to_be_bytes());
    out.extend(b"test");
    let mut private = check.to_vec();
    // d, iqmp, then q before p (OpenSSH reads them in this order).
    for part in [d, qinv, q, p] {
        private.extend(mpi(part));
    }
    while private.len() % 8 != 0 {
        private.push(0);
    }
    if cipher != 0 {
        private = private.iter().map(|b| b ^ 0x5a).collect();
    }
    out.extend(private);
    out
}

#[test]
fn ssh1_rsa_keys_built_from_the_format() {
    let s = scanner();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let parts = rsa_parts(d, 1024);
    let fp = support::ssh_fingerprint(&d.join("rsa.pem"));
    let aws = sh(
        d,
        "openssl pkcs8 -topk8 -nocrypt -in rsa.pem -outform DER | openssl sha1 -c",
    );
    let aws = aws.split_whitespace().last().unwrap().to_string();

    let clear = ssh1_file(&parts, 0, [7, 9, 7, 9]);
    fs::write(d.join("identity"), &clear).unwrap();
    let info = one_in(&s, "ssh1", &clear);
    assert_eq!(
        (info.status, info.key_type.as_str()),
        (Status::Valid, "RSA 1024"),
        "{info:#?}"
    );
    assert_eq!(info.format, "SSH-1");
    assert_eq!(info.fingerprint, Some(fp.clone()));
    assert_eq!(info.aws_fingerprints.sha1_pkcs8, Some(aws));

    let locked = ssh1_file(&parts, 3, [7, 9, 7, 9]);
    let info = one_in(&s, "ssh1 3des", &locked);
    assert_eq!(info.status, Status::Encrypted);
    assert_eq!(info.fingerprint, Some(fp));

    let corrupt = ssh1_file(&parts, 0, [7, 9, 7, 8]);
    assert_eq!(one_in(&s, "bad check", &corrupt).status, Status::Unverified);
    let mut wrong = parts.clone();
    wrong[2][5] ^= 1;
    assert_eq!(
        one_in(&s, "wrong d", &ssh1_file(&wrong, 0, [1, 2, 1, 2])).status,
        Status::Unverified
    );
    quiet(
        &s,
        "a text mention",
        b"SSH PRIVATE KEY FILE FORMAT 1.1 is obsolete\n",
    );

    // Through the binary: it blocks, and the key body is not printed.
    let out = support::keyscan(d, &["scan", "identity"], None);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("SSH-1"), "{text}");
}

#[test]
fn gnupg_private_keys_v1_d() {
    let s = scanner();
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
    let keygrip = |who: &str| -> String {
        sh(d, &format!("{gpg} --with-colons --with-keygrip -K {who} | awk -F: '/^grp/ {{print $10; exit}}'"))
            .trim()
            .to_string()
    };
    sh(
        d,
        &format!(
            "{gpg} --passphrase '' --quick-gen-key 'Ed <e@example.com>' ed25519 default never \
             && {gpg} --passphrase '' --quick-gen-key 'Nist <n@example.com>' nistp256 default never \
             && {gpg} --passphrase '' --quick-gen-key 'Rsa <r@example.com>' rsa2048 default never \
             && {gpg} --passphrase pw --quick-gen-key 'Locked <l@example.com>' rsa2048 default never \
             && for who in e r; do \
                  fpr=$({gpg} --with-colons --fingerprint $who@example.com | awk -F: '/^fpr/ {{print $10; exit}}'); \
                  {gpg} --export-ssh-key \"$fpr!\" > $who.pub; \
                done"
        ),
    );
    let key_file = |who: &str| {
        home.join("private-keys-v1.d")
            .join(format!("{}.key", keygrip(who)))
    };
    for (who, status, key_type, ssh_pub) in [
        ("e@example.com", Status::Valid, "Ed25519", Some("e.pub")),
        ("n@example.com", Status::Valid, "ECDSA P-256", None),
        ("r@example.com", Status::Valid, "RSA 2048", Some("r.pub")),
        ("l@example.com", Status::Encrypted, "RSA", None),
    ] {
        let data = fs::read(key_file(who)).unwrap();
        let info = one_in(&s, who, &data);
        assert_eq!(
            (info.status, info.key_type.as_str()),
            (status, key_type),
            "{who}: {info:#?}"
        );
        assert_eq!(info.format, "GnuPG private-keys-v1.d");
        // A decoy start before it (whose end would be the key's) hides nothing.
        let mut decoy = b"Key: (private-key is what such a file holds\n".to_vec();
        decoy.extend(&data);
        assert_eq!(
            one_in(&s, who, &decoy).status,
            status,
            "{who} after a decoy"
        );
        if let Some(public) = ssh_pub {
            assert_eq!(
                info.fingerprint,
                Some(support::ssh_fingerprint(&d.join(public))),
                "{who}"
            );
        }
        // A changed secret byte fails the check (RSA: the primes no longer
        // multiply to n; Ed25519: the seed no longer gives q).
        if status == Status::Valid {
            let text = String::from_utf8(data.clone()).unwrap();
            let d_at = text.find("(d").unwrap();
            let at = d_at + text[d_at..].find('#').unwrap() + 6;
            let mut bad = data.clone();
            bad[at] = if bad[at] == b'1' { b'2' } else { b'1' };
            assert_eq!(
                one_in(&s, "edited", &bad).status,
                Status::Unverified,
                "{who}"
            );
        }
    }
    // The same RSA key in the canonical S-expression form (libgcrypt's
    // p < q and u = p⁻¹ mod q), built from openssl's parts.
    let [n, e, dd, p, q, _] = rsa_parts(d, 2048);
    let (p, q) = if p < q { (p, q) } else { (q, p) };
    let u = {
        use num_bigint::BigUint;
        let (pb, qb) = (BigUint::from_bytes_be(&p), BigUint::from_bytes_be(&q));
        pb.modinv(&qb).unwrap().to_bytes_be()
    };
    let mut canon = b"(11:private-key(3:rsa".to_vec();
    for (name, v) in [
        ("n", &n),
        ("e", &e),
        ("d", &dd),
        ("p", &p),
        ("q", &q),
        ("u", &u),
    ] {
        canon.extend(format!("(1:{name}{}:", v.len()).as_bytes());
        canon.extend(v.iter());
        canon.push(b')');
    }
    canon.extend(b"))");
    let info = one_in(&s, "canonical", &canon);
    assert_eq!(
        (info.status, info.key_type.as_str()),
        (Status::Valid, "RSA 2048"),
        "{info:#?}"
    );
    assert_eq!(
        info.fingerprint,
        Some(support::ssh_fingerprint(&d.join("rsa.pem")))
    );
    // Look-alikes: a public key, a smartcard stub, prose.
    quiet(&s, "public", b"(10:public-key(3:rsa(1:n3:abc)(1:e1:\x03)))");
    quiet(
        &s,
        "prose",
        b"The Key: line of a .key file holds (private-key ...).\n",
    );
    let _ = std::process::Command::new("gpgconf")
        .args(["--homedir", home.to_str().unwrap(), "--kill", "gpg-agent"])
        .output();
}
