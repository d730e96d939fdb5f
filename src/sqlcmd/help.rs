//! `-?` of sqlcmd, osql and isql (sqlcmd's layout, with what vdisim does differently), and
//! the `:help` list of commands.

use super::Tool;

const SQLCMD_USAGE: &str = r#"usage: sqlcmd            [-U login id]          [-P password]
  [-S server]            [-H hostname]          [-E trusted connection]
  [-N Encrypt Connection][-C Trust Server Certificate]
  [-d use database name] [-l login timeout]     [-t query timeout]
  [-h headers]           [-s colseparator]      [-w screen width]
  [-a packetsize]        [-e echo input]        [-I Enable Quoted Identifiers]
  [-c cmdend]
  [-q "cmdline query"]   [-Q "cmdline query" and exit]
  [-m errorlevel]        [-V severitylevel]     [-W remove trailing spaces]
  [-u unicode output]    [-r[0|1] msgs to stderr]
  [-i inputfile]         [-o outputfile]
  [-k[1|2] remove[replace] control characters]
  [-y variable length type display width]
  [-Y fixed length type display width]
  [-p[1] print statistics[colon format]]
  [-R use client regional setting]
  [-K application intent]
  [-M multisubnet failover]
  [-b On error batch abort]
  [-v var = "value"...]
  [-X[1] disable commands, startup script, environment variables [and exit]]
  [-x disable variable substitution]
  [-L[c] list servers[clean output]]
  [-? show syntax summary]"#;

const OSQL_USAGE: &str = r#"usage: osql              [-U login id]          [-P password]
  [-S server]            [-H hostname]          [-E trusted connection]
  [-d use database name] [-l login timeout]     [-t query timeout]
  [-h headers]           [-s colseparator]      [-w columnwidth]
  [-a packetsize]        [-e echo input]        [-I Enable Quoted Identifiers]
  [-L list servers]      [-c cmdend]            [-D ODBC DSN name]
  [-q "cmdline query"]   [-Q "cmdline query" and exit]
  [-n remove numbering]  [-m errorlevel]
  [-r msgs to stderr]
  [-i inputfile]         [-o outputfile]
  [-p print statistics]  [-b On error batch abort]
  [-u unicode output]    [-R use client regional setting]
  [-O use Old ISQL behavior]
  [-? show syntax summary]"#;

const ISQL_USAGE: &str = r#"usage: isql              [-U login id]          [-P password]
  [-S server]            [-H hostname]          [-E trusted connection]
  [-d use database name] [-l login timeout]     [-t query timeout]
  [-h headers]           [-s colseparator]      [-w columnwidth]
  [-a packetsize]        [-e echo input]        [-x max text size]
  [-L list servers]      [-c cmdend]
  [-q "cmdline query"]   [-Q "cmdline query" and exit]
  [-n remove numbering]  [-m errorlevel]
  [-r msgs to stderr]
  [-i inputfile]         [-o outputfile]
  [-p print statistics]  [-b On error batch abort]
  [-O use Old ISQL behavior]
  [-? show syntax summary]"#;

const VDISIM_NOTES: &str = r#"
vdisim:
  -S  ., localhost, (local), 127.0.0.1, ::1 or this host's name (with an optional np:/lpc:
      prefix or \instance) reach the local vdisim server's Unix socket; unix:PATH names one.
      host,port, tcp:host[,port] and other hosts speak TDS (vdisim server's TDS port, or a
      real SQL Server): -N[s|m|o] encryption (default mandatory), -C trusts the certificate.
  Refused, with one line saying why: -E and -G (SQL Server authentication only), -D (no ODBC
      data sources), -z/-Z (no password changes), and the commands !!, ED, :ServerList, :XML.
  Accepted and without effect on a local socket: -C -N -M -I -A -K -H -a -f -R (-a sets the
      TDS packet size).

Environment variables: SQLCMDSERVER, SQLCMDUSER, SQLCMDPASSWORD, SQLCMDDBNAME,
  SQLCMDLOGINTIMEOUT, SQLCMDSTATTIMEOUT, SQLCMDHEADERS, SQLCMDCOLSEP, SQLCMDCOLWIDTH,
  SQLCMDMAXVARTYPEWIDTH, SQLCMDMAXFIXEDTYPEWIDTH, SQLCMDERRORLEVEL, SQLCMDINI (a start-up
  script), OSQLSERVER/OSQLUSER/OSQLPASSWORD (older names), VDISIM_SERVER (the socket of the
  local server; default /tmp/vdisim-<uid>/sqlservr.sock). Any environment variable can be
  used as $(NAME) in a script unless -X is given.

Exit codes: 0 on success (without -b, also after errors in batches); 1 when a batch reports an
  error under -b or :on error exit, on a login or connection failure, a bad switch, a missing
  file, an undefined scripting variable or a command syntax error; :exit(query) returns the
  query's value (low byte); RAISERROR(n, …, 127) returns n (low byte).

Example:
  sqlcmd -S . -U sa -P "$PW" -b -v db=pubs -Q "BACKUP DATABASE [$(db)] TO VIRTUAL_DEVICE = 'set1'""#;

const LEGACY_NOTES: &str = r#"
vdisim: -S reaches the local vdisim server (., localhost, (local), this host, or unix:PATH).
  -E is refused (SQL Server authentication only). Script lines are numbered (1>, 2>) unless -n.
  Environment: OSQLSERVER, OSQLUSER, OSQLPASSWORD, VDISIM_SERVER.
Exit codes: 0 on success; 1 after an error with -b, on a login or connection failure or a bad
  switch; EXIT(query) returns the query's value (low byte).
Example:
  osql -S . -U sa -P "$PW" -n -b -Q "BACKUP DATABASE pubs TO VIRTUAL_DEVICE = 'set1'""#;

/// The `-?` text.
pub fn usage(tool: Tool) -> String {
    let (usage, notes) = match tool {
        Tool::Sqlcmd => (SQLCMD_USAGE, VDISIM_NOTES),
        Tool::Osql => (OSQL_USAGE, LEGACY_NOTES),
        Tool::Isql => (ISQL_USAGE, LEGACY_NOTES),
    };
    format!("{}\n\n{usage}\n{notes}\n", banner(tool))
}

/// The first lines of `-?`: what this is and which sqlcmd it behaves as.
pub fn banner(tool: Tool) -> String {
    let emulated = match tool {
        Tool::Sqlcmd => "Microsoft (R) SQL Server Command Line Tool, version 17/18 for Linux",
        Tool::Osql => "Microsoft (R) SQL Server osql",
        Tool::Isql => "Microsoft (R) SQL Server isql",
    };
    format!(
        "vdisim {} {}: behaves as {emulated}\nfor the vdisim server ({}).",
        env!("CARGO_PKG_VERSION"),
        tool.name(),
        vdi_server::engine::default_version()
            .lines()
            .next()
            .unwrap_or("")
            .trim()
    )
}

/// `:help`.
pub const COMMANDS: &str = r#":!! [<command>]
  - Refused: vdisim's sqlcmd runs no operating system commands.
:connect server[\instance] [-l timeout] [-U user [-P password]]
  - Connects to a SQL Server instance (the local vdisim server).
:ed
  - Refused: there is no editor.
:error <dest>
  - Redirects error output to a file, stderr, or stdout.
:exit
  - Quits sqlcmd immediately.
:exit()
  - Execute statement cache; quit with no return value.
:exit(<query>)
  - Execute the specified query; returns numeric result.
go [<n>]
  - Executes the statement cache (n times).
:help
  - Shows this list of commands.
:list
  - Prints the content of the statement cache.
:listvar
  - Lists the set sqlcmd scripting variables.
:on error [exit|ignore]
  - Action for batch or sqlcmd command errors.
:out <filename>|stderr|stdout
  - Redirects query output to a file, stderr, or stdout.
:perftrace <filename>|stderr|stdout
  - Redirects timing output (-p) to a file, stderr, or stdout.
:quit
  - Quits sqlcmd immediately.
:r <filename>
  - Append file contents to the statement cache.
:reset
  - Discards the statement cache.
:serverlist
  - Refused: not supported on Linux.
:setvar {variable}
  - Removes a sqlcmd scripting variable.
:setvar <variable> <value>
  - Sets a sqlcmd scripting variable.
:xml [on|off]
  - Refused: not supported on Linux.
"#;
