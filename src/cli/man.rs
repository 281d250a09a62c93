//! `tributary man`: the manual page (roff), generated from the
//! command-line definition: a synopsis, every option and a section per
//! command with its own options.

use std::io::Write;
use std::process::ExitCode;

use clap::CommandFactory;

use super::Cli;

/// Prints `tributary.1`.
pub(super) fn run() -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    out.write_all(&page()?)?;
    Ok(ExitCode::SUCCESS)
}

/// The page: clap_mangen's title, synopsis and options, a list of the
/// commands, then one section per command with its synopsis and options.
fn page() -> std::io::Result<Vec<u8>> {
    let cmd = Cli::command();
    let man = clap_mangen::Man::new(cmd.clone());
    let mut buf = Vec::new();
    man.render_title(&mut buf)?;
    man.render_name_section(&mut buf)?;
    man.render_synopsis_section(&mut buf)?;
    man.render_description_section(&mut buf)?;
    man.render_options_section(&mut buf)?;
    let visible: Vec<&clap::Command> = cmd.get_subcommands().filter(|s| !s.is_hide_set()).collect();
    writeln!(buf, ".SH COMMANDS")?;
    for sub in &visible {
        let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
        writeln!(
            buf,
            ".TP\n\\fB{}\\fR\n{}",
            roff_text(sub.get_name()),
            roff_text(&about)
        )?;
    }
    for sub in visible {
        let name = sub.get_name();
        writeln!(buf, ".SH \"TRIBUTARY {}\"", name.to_uppercase())?;
        let sub = sub.clone().bin_name(format!("tributary {name}"));
        let sub_man = clap_mangen::Man::new(sub);
        let mut part = Vec::new();
        sub_man.render_synopsis_section(&mut part)?;
        sub_man.render_description_section(&mut part)?;
        sub_man.render_options_section(&mut part)?;
        // Keep each command's parts under its own heading.
        let part = String::from_utf8_lossy(&part)
            .replace(".SH SYNOPSIS", ".SS Synopsis")
            .replace(".SH DESCRIPTION", ".SS Description")
            .replace(".SH OPTIONS", ".SS Options");
        buf.extend_from_slice(part.as_bytes());
    }
    man.render_version_section(&mut buf)?;
    Ok(keep_first_preamble(&String::from_utf8_lossy(&buf)).into_bytes())
}

/// `s` as roff text: backslashes and hyphens escaped, no line starting
/// with a control character.
fn roff_text(s: &str) -> String {
    let escaped = s.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

/// Each rendered part starts with the same two-line apostrophe preamble;
/// once at the top is enough.
fn keep_first_preamble(roff: &str) -> String {
    let mut out = String::with_capacity(roff.len());
    let mut seen = 0;
    for line in roff.split_inclusive('\n') {
        let preamble = line.starts_with(".ie \\n(.g .ds Aq") || line.starts_with(".el .ds Aq");
        if preamble {
            seen += 1;
            if seen > 2 {
                continue;
            }
        }
        out.push_str(line);
    }
    out
}
