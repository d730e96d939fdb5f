//! `vdisim`: emulator and conformance harness for SQL Server's Virtual Device Interface.

mod bench_cmd;
mod bench_tds;
mod conform_cmd;
mod demo;
mod demo_server;
mod out;
mod rules_cmd;
mod server_cmd;
mod sql_target;
mod sqlcmd;
mod tds_args;
mod tds_client;
mod transfer;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::process::ExitCode;

/// The environment variables vdisim reads, for `vdisim --help`.
const ENVIRONMENT: &str = "Environment:
  VDISIM_SERVER       the daemon's socket, for the server, sqlcmd, backup and restore
                      [default: /tmp/vdisim-<uid>/sqlservr.sock]
  VDISIM_SA_PASSWORD  the sa password: of the server (--sa-password), of backup and restore (-P)
  SQLCMDSERVER, SQLCMDUSER, SQLCMDPASSWORD, SQLCMDDBNAME, SQLCMDLOGINTIMEOUT, SQLCMDSTATTIMEOUT,
  SQLCMDHEADERS, SQLCMDCOLSEP, SQLCMDCOLWIDTH, SQLCMDMAXVARTYPEWIDTH, SQLCMDMAXFIXEDTYPEWIDTH,
  SQLCMDERRORLEVEL, SQLCMDINI
                      sqlcmd's own (see `vdisim sqlcmd -?`); SQLCMDSERVER also names the
                      server of backup and restore
  OSQLSERVER, OSQLUSER, OSQLPASSWORD
                      osql's and isql's (the binary run as osql or isql)
  VDISIM_TRANSCRIPT   record every VDI call of a client (vdisim's libsqlvdi.so, the reference
                      client) in this JSON-lines file
  VDISIM_SHM_MODE     group: shared memory 0660 for a client in the server's group
  NO_COLOR            no colour in the conformance report

Exit codes: 0 success, 1 failure, 2 a wrong command line; each command's --help says more.
Run as sqlcmd, osql or isql (a symlink), the binary behaves as that tool.

Example:
  VDISIM_SA_PASSWORD=\"$PW\" vdisim server &
  vdisim sqlcmd -S . -U sa -P \"$PW\" -Q \"SELECT name FROM sys.databases\"
  vdisim backup --db pubs --devices 4 --to /tmp/media -S . -P \"$PW\"";

#[derive(Parser, Debug)]
#[command(
    name = "vdisim",
    about = "Emulator and conformance harness for SQL Server's Virtual Device Interface",
    after_help = ENVIRONMENT
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// The conformance harness: run a client program through the case catalogue.
    #[command(
        after_help = "Exit codes:\n  0  every case passed (SHOULD cases may warn, unless --strict)\n  1  a case failed (or warned, with --strict)\n  2  the command line is wrong\n  3  the harness itself could not run a case\n\nExample:\n  vdisim conform --client builtin --json report.json"
    )]
    Conform(conform_cmd::ConformArgs),
    /// Re-drive the server side of a conformance transcript against a client.
    #[command(
        after_help = "Exit codes:\n  0  the case passed (or the page was drawn)\n  1  it failed\n  2  the command line is wrong\n  3  the harness could not run it\n\nExample:\n  vdisim replay transcripts/VDI-CLOSE-003.jsonl --client builtin"
    )]
    Replay(conform_cmd::ReplayArgs),
    /// Back AdventureWorks up over 4 virtual devices and restore it, verifying every byte.
    #[command(
        after_help = "Exit codes:\n  0  the restored database equals the backed-up one\n  1  a step failed or the verification found a difference\n  2  the command line is wrong\n\nExample:\n  vdisim demo --database pubs --devices 2"
    )]
    Demo(demo::DemoArgs),
    /// The reference client: BACKUP a database to stripe files through a virtual device set.
    Backup(transfer::BackupArgs),
    /// The reference client: RESTORE a database from stripe files through a virtual device set.
    Restore(transfer::RestoreArgs),
    /// Print the rule table: every rule ID, its section of the specification, code and meaning.
    #[command(
        after_help = "Exit codes:\n  0  printed (also when the reader, e.g. head, stops early)\n  2  the command line is wrong\n\nExample:\n  vdisim rules --json | jq '.[0]'"
    )]
    Rules(rules_cmd::RulesArgs),
    /// Run the fake sqlservr in the foreground on a Unix socket and TDS (Ctrl-C or SIGTERM stops
    /// it).
    #[command(
        after_help = "Exit codes:\n  0  stopped by Ctrl-C or SIGTERM\n  1  could not start (another server on the socket, a bad --data-dir, a port in use …)\n  2  the command line is wrong\n\nEnvironment:\n  VDISIM_SERVER       the socket [default: /tmp/vdisim-<uid>/sqlservr.sock]\n  VDISIM_SA_PASSWORD  the sa password when --sa-password is not given\n\nExample:\n  VDISIM_SA_PASSWORD=\"$PW\" vdisim server --database sales:64MB"
    )]
    Server(server_cmd::ServerArgs),
    /// sqlcmd for the vdisim server (also what the binary does when run as `sqlcmd`).
    Sqlcmd(sqlcmd::SqlcmdArgs),
    /// Measure throughput, latency, idle CPU and memory against same-run ceilings.
    #[command(
        after_help = "Exit codes:\n  0  every figure is within its ceiling\n  1  a figure exceeded its ceiling or a run failed\n  2  the command line is wrong\n\nExample:\n  vdisim bench --quick --json bench.json"
    )]
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
    let matches = command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let result = match cli.command {
        Command::Conform(args) => conform_cmd::conform(&args),
        Command::Replay(args) => conform_cmd::replay(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Backup(args) => transfer::backup(&args),
        Command::Restore(args) => transfer::restore(&args),
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

/// The command line: `--version` names the SQL Server vdisim plays, and the sa password's
/// help says whether `$VDISIM_SA_PASSWORD` is set without showing it.
fn command() -> clap::Command {
    let version = format!(
        "{} (emulates {})",
        env!("CARGO_PKG_VERSION"),
        vdi_server::engine::default_version()
            .lines()
            .next()
            .unwrap_or("")
            .trim()
    );
    let password_help = format!(
        "Password [env: VDISIM_SA_PASSWORD: {}]",
        if std::env::var_os("VDISIM_SA_PASSWORD").is_some_and(|v| !v.is_empty()) {
            "(set)"
        } else {
            "not set"
        }
    );
    // Built once per run, so leaking the text is fine (clap wants a 'static version).
    let mut command = Cli::command().version(&*Box::leak(version.into_boxed_str()));
    for name in ["backup", "restore"] {
        let help = password_help.clone();
        command = command.mut_subcommand(name, |c| c.mut_arg("password", |a| a.help(help)));
    }
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn version_names_the_emulated_sql_server() {
        let version = command().render_version();
        assert!(version.contains("SQL Server 2022"), "{version}");
    }
}
