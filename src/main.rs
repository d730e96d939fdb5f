//! `vdisim`: emulator and conformance harness for SQL Server's Virtual Device Interface.

mod demo;
mod rules_cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "vdisim",
    version,
    about = "Emulator and conformance harness for SQL Server's Virtual Device Interface"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Back a synthetic database stream up and restore it, verifying every byte.
    Demo(demo::DemoArgs),
    /// Print the rule table: every rule ID, its section of the specification, code and meaning.
    Rules(rules_cmd::RulesArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => demo::run(&args),
        Command::Rules(args) => rules_cmd::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("vdisim: {message}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
