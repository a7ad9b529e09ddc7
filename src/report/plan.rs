//! `keyscan revoke-plan` output: a human checklist, JSON, and Markdown to
//! paste into an incident ticket. Fingerprints and public halves only.

use crate::policy::revoke::{KeyPlan, Plan};
use crate::report::escape;
use std::io::{self, Write};

pub fn render_json(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, plan)?;
    writeln!(out)
}

/// Markup for one output flavour.
struct Marks {
    /// A checklist item.
    item: &'static str,
    /// Code: opening and closing.
    code: (&'static str, &'static str),
    markdown: bool,
}

const HUMAN: Marks = Marks {
    item: "[ ]",
    code: ("      $ ", ""),
    markdown: false,
};
const MARKDOWN: Marks = Marks {
    item: "- [ ]",
    code: ("  ```sh\n  ", "\n  ```"),
    markdown: true,
};

pub fn render_human(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    render(plan, &HUMAN, out)
}

pub fn render_markdown(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    render(plan, &MARKDOWN, out)
}

fn render(plan: &Plan, m: &Marks, out: &mut dyn Write) -> io::Result<()> {
    let h = |level: usize, text: &str| {
        if m.markdown {
            format!("{} {text}", "#".repeat(level))
        } else {
            text.to_string()
        }
    };
    writeln!(out, "{}\n", h(1, "Revocation plan (nothing has been run)"))?;
    if plan.keys.is_empty() {
        writeln!(out, "No keys in the input: nothing to revoke.")?;
    }
    for k in &plan.keys {
        key(k, m, &h, out)?;
    }
    if let Some(note) = &plan.instances_note {
        writeln!(out, "{}\n", h(2, "Note on EC2 instances"))?;
        writeln!(out, "{note}\n")?;
    }
    if !plan.alternatives.is_empty() {
        writeln!(
            out,
            "{}\n",
            h(2, "Keyless alternatives for the access these keys gave")
        )?;
        for a in &plan.alternatives {
            writeln!(out, "{} {}: {}", m.item, a.name, a.what)?;
            if m.markdown {
                writeln!(out, "  `{}`", a.how)?;
            } else {
                writeln!(out, "      {}", a.how)?;
            }
        }
        writeln!(out)?;
    }
    for w in &plan.warnings {
        writeln!(out, "warning: {}", escape::text(w))?;
    }
    Ok(())
}

fn key(
    k: &KeyPlan,
    m: &Marks,
    h: &dyn Fn(usize, &str) -> String,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(out, "{}\n", h(2, &format!("Key {}", k.fingerprint)))?;
    for f in &k.found_in {
        writeln!(out, "found in {}", escape::text(f))?;
    }
    if !k.found_in.is_empty() {
        writeln!(out)?;
    }
    let code = |c: &str| format!("{}{}{}", m.code.0, escape::text(c), m.code.1);
    writeln!(out, "{}", h(3, "authorized_keys lines that accept it"))?;
    if k.authorized_keys.is_empty() {
        writeln!(out, "none found in what was given")?;
    }
    for s in &k.authorized_keys {
        let host = s
            .host
            .as_deref()
            .map(|h| format!("on {h}: "))
            .unwrap_or_default();
        let lines: Vec<String> = s.lines.iter().map(|l| l.to_string()).collect();
        let text = format!(
            "{} {host}{} line {} (backup kept as .keyscan.bak)",
            m.item,
            s.path,
            lines.join(", ")
        );
        writeln!(out, "{}", escape::text(&text))?;
        writeln!(out, "{}", code(&s.command))?;
    }
    writeln!(out, "\n{}", h(3, "EC2 key pairs"))?;
    if k.key_pairs.is_empty() {
        writeln!(out, "none matched (or no --aws-key-pairs given)")?;
    }
    for p in &k.key_pairs {
        let text = format!(
            "{} {} ({}), {}",
            m.item, p.key_name, p.key_pair_id, p.matched_as
        );
        writeln!(out, "{}", escape::text(&text))?;
        writeln!(out, "{}", code(&p.command))?;
    }
    if !k.instances.is_empty() {
        writeln!(
            out,
            "\n{}",
            h(
                3,
                "Instances launched with those key pairs (the key is still on them)"
            )
        )?;
    }
    for i in &k.instances {
        let name = i
            .name
            .as_deref()
            .map(|n| format!(" {n}"))
            .unwrap_or_default();
        let state = i
            .state
            .as_deref()
            .map(|s| format!(", {s}"))
            .unwrap_or_default();
        let text = format!(
            "{} {}{name} (key pair {}{state})",
            m.item, i.instance_id, i.key_name
        );
        writeln!(out, "{}", escape::text(&text))?;
        writeln!(out, "  through Session Manager:")?;
        writeln!(out, "{}", code(&i.ssm_command))?;
        writeln!(out, "  or through EC2 Instance Connect:")?;
        writeln!(out, "{}", code(&i.instance_connect_command))?;
    }
    for n in &k.notes {
        writeln!(out, "note: {}", escape::text(n))?;
    }
    writeln!(out)
}
