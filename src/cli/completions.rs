//! `tributary completions SHELL`: a completion script generated from the
//! command-line definition, so it always matches the commands.

use std::process::ExitCode;

use clap::CommandFactory;

use super::Cli;

/// Prints the completion script for `shell`.
pub(super) fn run(shell: clap_complete::Shell) -> anyhow::Result<ExitCode> {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "tributary", &mut std::io::stdout().lock());
    Ok(ExitCode::SUCCESS)
}
