//! `vdisim`: emulator and conformance harness for SQL Server's Virtual Device Interface.

mod bench_cmd;
mod conform_cmd;
mod demo;
mod demo_server;
mod rules_cmd;
mod server_cmd;
mod sql_target;
mod sqlcmd;
mod tds_args;
mod transfer_cmd;

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
    /// The conformance harness: run a client program through the case catalogue.
    Conform(conform_cmd::ConformArgs),
    /// Re-drive the server side of a conformance transcript against a client.
    Replay(conform_cmd::ReplayArgs),
    /// Back AdventureWorks up over 4 virtual devices and restore it, verifying every byte.
    Demo(demo::DemoArgs),
    /// The reference client: BACKUP a database to stripe files through a virtual device set.
    Backup(transfer_cmd::BackupArgs),
    /// The reference client: RESTORE a database from stripe files through a virtual device set.
    Restore(transfer_cmd::RestoreArgs),
    /// Print the rule table: every rule ID, its section of the specification, code and meaning.
    Rules(rules_cmd::RulesArgs),
    /// Run the fake sqlservr in the foreground on a Unix socket and TDS (Ctrl-C or SIGTERM stops
    /// it).
    Server(server_cmd::ServerArgs),
    /// sqlcmd for the vdisim server (also what the binary does when run as `sqlcmd`).
    Sqlcmd(sqlcmd::SqlcmdArgs),
    /// Measure throughput, latency, idle CPU and memory against same-run ceilings.
    Bench(bench_cmd::BenchArgs),
    /// The server process of the conformance harness's crash cases (internal; configured
    /// through $VDISIM_CONFORM_SERVER).
    #[command(name = "__conform-server", hide = true)]
    ConformServer,
    /// The client process of `vdisim bench` (internal).
    #[command(name = "__bench-child", hide = true)]
    BenchChild(bench_cmd::ChildArgs),
}

fn main() -> ExitCode {
    // Run through a symlink named `sqlcmd`, `osql` or `isql`, behave as that tool.
    let mut args = std::env::args_os();
    let program = args.next().map(std::path::PathBuf::from);
    if let Some(tool) = program
        .as_deref()
        .and_then(std::path::Path::file_name)
        .and_then(sqlcmd::Tool::from_program)
    {
        return sqlcmd::run(tool, &args.collect::<Vec<_>>());
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Conform(args) => conform_cmd::conform(&args),
        Command::Replay(args) => conform_cmd::replay(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Backup(args) => transfer_cmd::backup(&args),
        Command::Restore(args) => transfer_cmd::restore(&args),
        Command::Rules(args) => rules_cmd::run(&args),
        Command::Server(args) => server_cmd::run(&args),
        Command::Sqlcmd(args) => Ok(sqlcmd::run(sqlcmd::Tool::Sqlcmd, &args.args)),
        Command::Bench(args) => bench_cmd::run(&args),
        Command::BenchChild(args) => bench_cmd::child(&args),
        Command::ConformServer => {
            vdi_conform::child::serve_if_asked();
            Err(format!("{} is not set", vdi_conform::child::SPEC_ENV))
        }
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
