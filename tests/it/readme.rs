//! The README runs. A fenced block preceded by a marker comment is checked
//! against the real binary, with keys generated now:
//!
//! - `<!-- readme-test: run [setup=S] [exit=N] -->`: a shell example, run
//!   with `sh -e` in a fresh directory with `keyscan` on PATH;
//! - `<!-- readme-test: config -->`: a `.keyscan.toml` example, loaded with
//!   the real loader, and then a commit's hook run under it must pass;
//! - `<!-- readme-test: output [setup=S] [exit=N] [cmd="..."] -->`: example
//!   output of the block's `$ command` line (or of `cmd`), compared with the
//!   real output once fingerprints, ids, dates and paths are normalised;
//!   JSON is compared as values;
//! - `<!-- readme-test: file NAME -->`: the block is written as NAME into
//!   the directory of every later run and output block;
//! - `<!-- readme-test: skip -->`: a TOML block that is not a config.
//!
//! Every TOML block must carry a marker, so a new config example is checked.
//! Also here: every shape of `--format json` output against the schema.

use crate::support::{bin, tool, without_git_env};
use regex::Regex;
use serde_json::Value;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// One marked fenced block.
#[derive(Debug)]
struct Block {
    kind: String,
    /// The marker's first bare word after the kind (`file NAME`).
    arg: Option<String>,
    attrs: HashMap<String, String>,
    lang: String,
    body: String,
    /// 1-based line of the fence, for messages.
    line: usize,
}

fn readme() -> String {
    fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

/// Every fenced block with its marker (kind "" when it has none).
fn blocks(text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let fence = lines[i].trim_start();
        if !fence.starts_with("```") {
            i += 1;
            continue;
        }
        let indent = lines[i].len() - fence.len();
        let marker = i
            .checked_sub(1)
            .and_then(|p| lines[p].trim().strip_prefix("<!-- readme-test:"))
            .and_then(|m| m.strip_suffix("-->"));
        let (kind, arg, attrs) = marker.map(parse_marker).unwrap_or_default();
        let start = i;
        let mut body = String::new();
        i += 1;
        while i < lines.len() && lines[i].trim() != "```" {
            let l = lines[i];
            body.push_str(
                l.get(indent.min(l.len() - l.trim_start().len())..)
                    .unwrap_or(""),
            );
            body.push('\n');
            i += 1;
        }
        out.push(Block {
            kind,
            arg,
            attrs,
            lang: fence.trim_start_matches('`').trim().to_string(),
            body,
            line: start + 1,
        });
        i += 1;
    }
    out
}

/// `KIND [ARG] [key=value | key="a value"]...`
fn parse_marker(m: &str) -> (String, Option<String>, HashMap<String, String>) {
    let re = Regex::new(r#"(\w+)=(?:"([^"]*)"|(\S+))|(\S+)"#).unwrap();
    let mut kind = String::new();
    let mut arg = None;
    let mut attrs = HashMap::new();
    for c in re.captures_iter(m) {
        match (c.get(1), c.get(4)) {
            (Some(k), _) => {
                let v = c.get(2).or(c.get(3)).map_or("", |v| v.as_str());
                attrs.insert(k.as_str().to_string(), v.to_string());
            }
            (None, Some(word)) if kind.is_empty() => kind = word.as_str().to_string(),
            (None, Some(word)) => arg = Some(word.as_str().to_string()),
            _ => {}
        }
    }
    (kind, arg, attrs)
}

/// A scratch directory with its own HOME, and the environment to run in it.
struct Scratch {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    home: PathBuf,
}

impl Scratch {
    fn new() -> Scratch {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("work");
        let home = tmp.path().join("home");
        fs::create_dir_all(&dir).unwrap();
        fs::create_dir_all(&home).unwrap();
        fs::write(
            home.join(".gitconfig"),
            "[user]\n\tname = Ada Admin\n\temail = ada@example.com\n\
             [init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n",
        )
        .unwrap();
        Scratch {
            _tmp: tmp,
            dir,
            home,
        }
    }

    /// `sh -c script` here, keyscan first on PATH.
    fn sh(&self, flags: &str, script: &str) -> Output {
        let bin_dir = Path::new(bin()).parent().unwrap();
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut paths = vec![bin_dir.to_path_buf()];
        paths.extend(std::env::split_paths(&path));
        let mut cmd = Command::new("sh");
        without_git_env(&mut cmd);
        cmd.arg(flags)
            .arg(script)
            .current_dir(&self.dir)
            .env("PATH", std::env::join_paths(paths).unwrap())
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1")
            .env_remove("KEYSCAN_SERVER_CONFIG")
            .stdin(Stdio::null())
            .output()
            .expect("run sh")
    }

    fn git(&self, args: &str) {
        let out = self.sh("-c", &format!("git {args}"));
        assert!(out.status.success(), "git {args}: {}", text(&out));
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The named starting point of a block: keys generated now.
fn setup(name: &str) -> Scratch {
    let s = Scratch::new();
    let d = &s.dir;
    let mkdir = |p: &str| fs::create_dir_all(d.join(p)).unwrap();
    let ed25519 = |p: &str| {
        tool("ssh-keygen", &["-q", "-t", "ed25519", "-N", "", "-f", p], d);
    };
    match name {
        "empty" => {}
        // A repository with a key staged.
        "repo-with-key" => {
            s.git("init -q");
            ed25519("id_ed25519");
            s.git("add id_ed25519");
        }
        "deploy-key" => {
            mkdir("deploy");
            let out = "deploy/ec2-prod.pem";
            tool(
                "openssl",
                &["genrsa", "-traditional", "-out", out, "2048"],
                d,
            );
        }
        "fixture-key" => {
            mkdir("tests/fixtures");
            ed25519("tests/fixtures/id_ed25519");
        }
        // A config whose line 7 is wrong.
        "bad-config" => fs::write(
            d.join(".keyscan.toml"),
            "disable = []\n\n[policy]\nblock_unverified = false\nmax_file_size = \"10MB\"\n\
             crack = true\nbinaries = \"maybe\"\n",
        )
        .unwrap(),
        // Two hosts' dumps: a key copied between them under a 0777 home, a
        // 1024-bit RSA key under a weak passphrase, root's authorized_keys
        // with that key and a departed person's.
        "fleet" => script(&s, FLEET),
        // A leaked EC2 key, the AWS JSON that names it, an authorized_keys.
        "leak" => script(&s, LEAK),
        other => panic!("README marker names an unknown setup {other}"),
    }
    s
}

const FLEET: &str = r#"
mkdir -p hosts/web1/home/alice/.ssh hosts/web1/root/.ssh hosts/web2/home/deploy/.ssh
ssh-keygen -q -t ed25519 -N '' -C alice -f hosts/web1/home/alice/.ssh/id_ed25519
cp hosts/web1/home/alice/.ssh/id_ed25519 hosts/web2/home/deploy/.ssh/
ssh-keygen -q -t rsa -b 1024 -N password -C old -f hosts/web2/home/deploy/.ssh/old_rsa
ssh-keygen -q -t ed25519 -N '' -C carol -f carol
{ cat hosts/web1/home/alice/.ssh/id_ed25519.pub; printf 'from="10.0.0.0/8" '; cat carol.pub; } \
  > hosts/web1/root/.ssh/authorized_keys
rm carol carol.pub
chmod 777 hosts/web2/home/deploy
"#;

const LEAK: &str = r#"
openssl genrsa -traditional -out leaked.pem 2048 2>/dev/null
ssh-keygen -q -t ed25519 -N '' -C bob -f bob
sha1=$(openssl pkcs8 -in leaked.pem -nocrypt -topk8 -outform DER | openssl sha1 -c | awk '{print $NF}')
cat > key-pairs.json <<EOF
{"KeyPairs": [
  {"KeyPairId": "key-0a1b2c3d4e5f60718", "KeyName": "prod-deploy", "KeyFingerprint": "$sha1", "KeyType": "rsa"},
  {"KeyPairId": "key-0f9e8d7c6b5a40312", "KeyName": "staging", "KeyFingerprint": "1f:51:ae:28:bf:89:e9:d8:1f:25:5d:37:2d:7d:b8:ca:9f:f5:f1:6f", "KeyType": "rsa"}
]}
EOF
cat > instances.json <<EOF
{"Reservations": [{"Instances": [
  {"InstanceId": "i-0abc1234def567890", "KeyName": "prod-deploy", "State": {"Name": "running"},
   "PublicDnsName": "ec2-203-0-113-10.compute-1.amazonaws.com", "Tags": [{"Key": "Name", "Value": "web"}]},
  {"InstanceId": "i-0fff1234def567890", "KeyName": "staging", "State": {"Name": "running"}}
]}]}
EOF
{ cat bob.pub; printf 'restrict,command="/usr/local/bin/deploy" '; ssh-keygen -y -f leaked.pem | tr -d '\n'; echo ' deploy@ci'; } \
  > authorized_keys
rm bob bob.pub
"#;

fn script(s: &Scratch, body: &str) {
    let out = s.sh("-ec", body);
    assert!(out.status.success(), "{}", text(&out));
}

/// Fingerprints, ids, dates, key bodies, timings and the scratch directory
/// replaced by placeholders.
fn normalise(s: &str, dir: &Path) -> String {
    let mut s = s.replace(&dir.display().to_string(), "<dir>");
    for (re, with) in [
        (r"SHA256:[A-Za-z0-9+/]{43}", "SHA256:<fp>"),
        (r"\b([0-9a-f]{2}:){15,}[0-9a-f]{2}\b", "<hex>"),
        (r"AAAA[A-Za-z0-9+/]+=*(\.\.\.|…)?", "<key>"),
        (r"\b[0-9a-f]{40}([0-9a-f]{24})?\b", "<id>"),
        (
            r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})?)?",
            "<date>",
        ),
        (r"\b\d+ rules ok", "<n> rules ok"),
        (r"in \d+\.\d+ s\b", "in <t> s"),
    ] {
        s = Regex::new(re).unwrap().replace_all(&s, with).into_owned();
    }
    s.lines().map(str::trim_end).collect::<Vec<_>>().join("\n")
}

fn normalise_json(v: &mut Value, dir: &Path) {
    match v {
        Value::String(s) => *s = normalise(s, dir),
        Value::Array(a) => a.iter_mut().for_each(|v| normalise_json(v, dir)),
        Value::Object(o) => o.values_mut().for_each(|v| normalise_json(v, dir)),
        _ => {}
    }
}

fn expected_exit(b: &Block) -> i32 {
    b.attrs.get("exit").map_or(0, |e| e.parse().unwrap())
}

/// A marked block's directory: its setup plus the files declared so far.
fn prepare(b: &Block, files: &[(String, String)]) -> Scratch {
    let s = setup(b.attrs.get("setup").map_or("empty", String::as_str));
    for (name, body) in files {
        fs::write(s.dir.join(name), body).unwrap();
    }
    s
}

/// What a failed check says.
type Check = Result<(), String>;

fn check_run(b: &Block, files: &[(String, String)]) -> Check {
    let s = prepare(b, files);
    let out = s.sh("-ec", &b.body);
    if out.status.code() != Some(expected_exit(b)) {
        return Err(format!(
            "README.md:{}: the example exits {:?}, not {}:\n{}\n{}",
            b.line,
            out.status.code(),
            expected_exit(b),
            b.body,
            text(&out)
        ));
    }
    Ok(())
}

/// The command an output block shows, and the output it shows for it.
fn command_and_output(b: &Block) -> Result<(String, String), String> {
    if let Some(cmd) = b.attrs.get("cmd") {
        return Ok((cmd.clone(), b.body.clone()));
    }
    let (first, rest) = b.body.split_once('\n').unwrap_or((&b.body, ""));
    match first.strip_prefix("$ ") {
        Some(cmd) => Ok((cmd.to_string(), rest.to_string())),
        None => Err(format!(
            "README.md:{}: output block without `$ command`",
            b.line
        )),
    }
}

fn check_output(b: &Block, files: &[(String, String)]) -> Check {
    let s = prepare(b, files);
    let (cmd, expected) = command_and_output(b)?;
    let out = s.sh("-c", &format!("{cmd} 2>&1"));
    let actual = String::from_utf8_lossy(&out.stdout).to_string();
    if out.status.code() != Some(expected_exit(b)) {
        return Err(format!(
            "README.md:{}: `{cmd}` exits {:?}, not {}:\n{actual}",
            b.line,
            out.status.code(),
            expected_exit(b)
        ));
    }
    let (want, got) = if b.lang == "json" {
        let parse = |t: &str| -> Result<String, String> {
            let mut v: Value = serde_json::from_str(t)
                .map_err(|e| format!("README.md:{}: not JSON ({e}):\n{t}", b.line))?;
            normalise_json(&mut v, &s.dir);
            Ok(serde_json::to_string_pretty(&v).unwrap())
        };
        (parse(&expected)?, parse(&actual)?)
    } else {
        let norm = |t: &str| normalise(t, &s.dir).trim_end().to_string();
        (norm(&expected), norm(&actual))
    };
    if want != got {
        return Err(format!(
            "README.md:{}: `{cmd}` prints otherwise (normalised)\n--- README\n{want}\n--- real\n{got}",
            b.line
        ));
    }
    Ok(())
}

/// Loaded by the real loader, and a commit's hook passes under it: an
/// example config pasted as it is must not block every commit.
fn check_config(b: &Block) -> Check {
    let s = Scratch::new();
    let path = s.dir.join(".keyscan.toml");
    keyscan::policy::config::Config::parse(&path, &b.body).map_err(|e| {
        format!(
            "README.md:{}: the config example does not load: {e:#}",
            b.line
        )
    })?;
    fs::write(&path, &b.body).unwrap();
    s.git("init -q");
    fs::write(s.dir.join("notes.txt"), "nothing secret\n").unwrap();
    s.git("add notes.txt .keyscan.toml");
    let out = s.sh("-c", "keyscan pre-commit");
    if out.status.code() != Some(0) {
        return Err(format!(
            "README.md:{}: the hook fails under the config example:\n{}",
            b.line,
            text(&out)
        ));
    }
    Ok(())
}

#[test]
fn the_readme_examples_run_as_shown() {
    let blocks = blocks(&readme());
    let mut files: Vec<(String, String)> = Vec::new();
    let mut checked: HashMap<&str, usize> = HashMap::new();
    let mut failures = Vec::new();
    for b in &blocks {
        let result = match b.kind.as_str() {
            "run" => check_run(b, &files),
            "output" => check_output(b, &files),
            "config" => check_config(b),
            "file" => {
                files.push((b.arg.clone().expect("file NAME"), b.body.clone()));
                Ok(())
            }
            "skip" => Ok(()),
            "" if b.lang == "toml" => Err(format!(
                "README.md:{}: a TOML block needs a readme-test marker (config, file or skip)",
                b.line
            )),
            "" => Ok(()),
            other => Err(format!(
                "README.md:{}: unknown readme-test marker {other}",
                b.line
            )),
        };
        failures.extend(result.err());
        *checked.entry(b.kind.as_str()).or_default() += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // The harness has teeth only if the README keeps its marks.
    for kind in ["run", "output", "config", "file"] {
        assert!(checked.contains_key(kind), "no README block marked {kind}");
    }
}

#[test]
fn the_harness_reads_markers_and_normalises() {
    let md = "<!-- readme-test: output setup=deploy-key exit=1 cmd=\"keyscan scan .\" -->\n\
              ```json\n{}\n```\n\n  <!-- readme-test: file a.toml -->\n  ```toml\n  x = 1\n  ```\n\
              ```sh\nls\n```\n";
    let b = blocks(md);
    assert_eq!(b.len(), 3);
    assert_eq!((b[0].kind.as_str(), b[0].lang.as_str()), ("output", "json"));
    assert_eq!(b[0].attrs["cmd"], "keyscan scan .");
    assert_eq!(b[0].attrs["exit"], "1");
    assert_eq!(
        (b[1].kind.as_str(), b[1].arg.as_deref()),
        ("file", Some("a.toml"))
    );
    assert_eq!(b[1].body, "x = 1\n");
    assert_eq!(b[2].kind, "");
    let dir = Path::new("/tmp/x");
    assert_eq!(
        normalise(
            "/tmp/x/k SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8 2026-12-01 ssh-rsa AAAAB3Nza…",
            dir
        ),
        "<dir>/k SHA256:<fp> <date> ssh-rsa <key>"
    );
}

/// Every shape of `--format json` output, made by the real commands.
const JSON_SHAPES: &str = r#"
set -e
top=$PWD
mkdir disk
ssh-keygen -q -t ed25519 -N '' -f disk/id_open
chmod 644 disk/id_open
ssh-keygen -q -t ed25519 -N 'not in any list 7f3a' -f disk/id_locked
printf -- '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAwJ7x0n3Gq1tV9hZkF8mB2yQpL4sDcXaR6eUoT5vNiWjHgKbYfMzl\n-----END RSA PRIVATE KEY-----\n' > disk/lookalike.pem
keyscan --no-crack --format json scan disk > scan.json || true
keyscan --format json scan - < disk/id_open > stdin.json || true
printf '[allowlist]\nfingerprints = ["SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8"]\n' > audit.toml
keyscan --no-crack --format json --config audit.toml scan --check-config disk > audit.json || true
git init -q --bare server.git
printf '#!/bin/sh\nkeyscan --format json pre-receive > "%s/pre-receive.json"\n' "$top" > server.git/hooks/pre-receive
chmod +x server.git/hooks/pre-receive
git init -q repo
cd repo
ssh-keygen -q -t ed25519 -N '' -f id_repo
git add id_repo
keyscan --format json pre-commit > "$top/pre-commit.json" || true
git commit -qm key
git rm -q id_repo
git commit -qm gone
keyscan --format json history > "$top/history.json" || true
git remote add origin ../server.git
printf '#!/bin/sh\nkeyscan --format json pre-push "$@" > "%s/pre-push.json"\nexit 0\n' "$top" > .git/hooks/pre-push
chmod +x .git/hooks/pre-push
git push -q origin main 2>/dev/null || true
"#;

#[test]
fn every_json_output_shape_follows_the_schema() {
    let schema: Value = serde_json::from_slice(
        &fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/keyscan-report.schema.json"))
            .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the schema compiles");
    let s = Scratch::new();
    let out = s.sh("-c", JSON_SHAPES);
    assert!(out.status.success(), "{}", text(&out));
    // Each output, and a field only that shape has: the check is not empty.
    let any = |v: &Value, pick: &dyn Fn(&Value) -> bool| {
        v["findings"].as_array().unwrap().iter().any(pick)
    };
    type Shape = (&'static str, fn(&Value) -> bool);
    let shapes: [Shape; 8] = [
        ("scan", |f| f["permissions"].is_string()),
        ("scan", |f| f["status"] == "encrypted"),
        ("scan", |f| {
            f["status"] == "unverified" && f["note"].is_string()
        }),
        ("stdin", |f| f["path"] == "<stdin>"),
        ("pre-commit", |f| f["blob"].is_string()),
        ("history", |f| {
            f["still_in"] == serde_json::json!([]) && f["commit"]["date"].is_string()
        }),
        ("pre-push", |f| f["commit"]["ref"].is_string()),
        ("pre-receive", |f| f["commit"]["ref"].is_string()),
    ];
    for (name, pick) in shapes {
        let path = s.dir.join(format!("{name}.json"));
        let doc: Value = serde_json::from_slice(&fs::read(&path).unwrap())
            .unwrap_or_else(|e| panic!("{name}: not JSON: {e}"));
        let errors: Vec<String> = (validator.iter_errors(&doc))
            .map(|e| format!("{e} (at {})", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}\n{doc:#}");
        assert!(
            any(&doc, &pick),
            "{name} lacks the shape it is here for:\n{doc:#}"
        );
    }
    let audit: Value =
        serde_json::from_slice(&fs::read(s.dir.join("audit.json")).unwrap()).unwrap();
    assert!(validator.iter_errors(&audit).next().is_none(), "{audit:#}");
    assert!(
        audit["warnings"].to_string().contains("matched no key"),
        "{audit:#}"
    );
}
