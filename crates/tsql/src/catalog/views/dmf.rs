//! The dynamic management functions tools call in FROM and APPLY:
//! `sys.dm_db_log_stats`, `sys.dm_io_virtual_file_stats`, `sys.dm_os_volume_stats` and
//! `sys.dm_exec_sql_text`. They live in the `sys` schema and resolve through any database
//! (`master.sys.dm_db_log_stats`), as SQL Server's do.

use super::{connections, space};
use crate::ast::expr::ObjectName;
use crate::catalog::snapshot::ServerSnapshot;
use crate::messages::SqlMessage;
use crate::value::{SqlType, Table, Value, convert};

/// One argument: its type and value.
type Arg = (SqlType, Value);

/// A function's name and how many arguments it takes.
const FUNCTIONS: &[(&str, usize)] = &[
    ("dm_db_log_stats", 1),
    ("dm_io_virtual_file_stats", 2),
    ("dm_os_volume_stats", 2),
    ("dm_exec_sql_text", 1),
];

/// An argument as an integer; NULL (or a value that is not a number) is `None`.
fn int_arg(arg: &Arg) -> Result<Option<i64>, SqlMessage> {
    Ok(match convert::implicit(&arg.1, arg.0, SqlType::BigInt)? {
        Value::Int(n) => Some(n),
        _ => None,
    })
}

/// Calls a dynamic management function; `None` when `name` is not one (the caller reports
/// Msg 208). `current_database` stands for a NULL database id.
pub fn call(
    name: &ObjectName,
    args: &[Arg],
    current_database: &str,
    snapshot: &ServerSnapshot,
) -> Option<Result<Table, SqlMessage>> {
    let parts = &name.parts;
    let n = parts.len();
    if !(2..=3).contains(&n) || !parts[n - 2].eq_ignore_ascii_case("sys") {
        return None;
    }
    if n == 3 && !parts[0].is_empty() && snapshot.database(&parts[0]).is_none() {
        return None;
    }
    let (function, arity) = FUNCTIONS
        .iter()
        .find(|(f, _)| f.eq_ignore_ascii_case(&parts[n - 1]))?;
    Some(run(function, *arity, args, current_database, snapshot))
}

fn run(
    function: &str,
    arity: usize,
    args: &[Arg],
    current_database: &str,
    snap: &ServerSnapshot,
) -> Result<Table, SqlMessage> {
    if args.len() < arity {
        return Err(SqlMessage::new(
            216,
            16,
            1,
            0,
            format!("Parameters were not supplied for the function 'sys.{function}'."),
        ));
    }
    if args.len() > arity {
        return Err(crate::catalog::args::too_many_arguments(function));
    }
    let current = snap.database(current_database).map(|d| d.database_id);
    match function {
        "dm_db_log_stats" => {
            let id = int_arg(&args[0])?.or(current.map(i64::from));
            let db = snap
                .databases
                .iter()
                .find(|d| Some(i64::from(d.database_id)) == id);
            Ok(space::dm_db_log_stats(snap, db))
        }
        "dm_io_virtual_file_stats" => Ok(space::dm_io_virtual_file_stats(
            snap,
            int_arg(&args[0])?,
            int_arg(&args[1])?,
        )),
        "dm_os_volume_stats" => Ok(space::dm_os_volume_stats(
            snap,
            int_arg(&args[0])?.unwrap_or(-1),
            int_arg(&args[1])?.unwrap_or(-1),
        )),
        _ => {
            let handle = match convert::implicit(&args[0].1, args[0].0, SqlType::VarBinary(None))? {
                Value::Binary(b) => Some(b),
                _ => None,
            };
            Ok(connections::dm_exec_sql_text(snap, handle.as_deref()))
        }
    }
}
