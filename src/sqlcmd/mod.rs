//! `vdisim sqlcmd` (and the binary run as `sqlcmd`, `osql` or `isql`): Microsoft's sqlcmd 17/18
//! for Linux, and its predecessors, for the local vdisim server. Switches, script commands,
//! scripting variables, output and exit codes follow sqlcmd; `docs/sqlcmd.md` lists what is
//! emulated and what is refused.

mod help;
mod input;
mod legacy;
mod lines;
mod options;
mod printer;
mod runner;
mod server;
mod session;
mod vars;

use std::ffi::{OsStr, OsString};
use std::process::ExitCode;

pub(crate) use input::reason;
pub(crate) use server::resolve_server;

/// `vdisim sqlcmd ARGS…`: every argument is passed through to sqlcmd's own parser.
#[derive(clap::Args, Debug)]
#[command(
    disable_help_flag = true,
    after_help = "sqlcmd's own switches follow; `vdisim sqlcmd -?` lists them, with the \
environment variables and exit codes.\n\nExample:\n  vdisim sqlcmd -S . -U sa -P \"$PW\" -b -Q \"SELECT name FROM sys.databases\""
)]
pub struct SqlcmdArgs {
    /// sqlcmd's switches (-S -U -P -d -Q -q -i -o -v -b -V -m -h -s -w -W -y -Y -k -r -e -t -l
    /// -c -x -X …); `-?` or `--help` lists them.
    #[arg(num_args = 0.., allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<OsString>,
}

/// Which tool the binary plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Sqlcmd,
    Osql,
    Isql,
}

impl Tool {
    pub fn name(self) -> &'static str {
        match self {
            Tool::Sqlcmd => "sqlcmd",
            Tool::Osql => "osql",
            Tool::Isql => "isql",
        }
    }

    /// The tool a program name (argv[0]'s file name) asks for.
    pub fn from_program(name: &OsStr) -> Option<Tool> {
        [Tool::Sqlcmd, Tool::Osql, Tool::Isql]
            .into_iter()
            .find(|t| OsStr::new(t.name()) == name)
    }
}

/// Runs `tool` with `args` (without the program name).
pub fn run(tool: Tool, args: &[OsString]) -> ExitCode {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let parsed = match tool {
        Tool::Sqlcmd => options::parse_sqlcmd(&args),
        Tool::Osql | Tool::Isql => legacy::parse_legacy(tool, &args),
    };
    let opts = match parsed {
        Ok(opts) => opts,
        Err(message) => {
            println!("{message}");
            return ExitCode::FAILURE;
        }
    };
    if opts.help {
        print!("{}", help::usage(tool));
        return ExitCode::SUCCESS;
    }
    if opts.version {
        println!("{}", help::banner(tool));
        return ExitCode::SUCCESS;
    }
    runner::run(opts)
}
