//! msdb's history procedures: `sp_delete_backuphistory` and
//! `sp_delete_database_backuphistory`. Both return no result set.

use super::Msdb;
use crate::catalog::args::{ProcArg, as_datetime, bind, missing_parameter};
use crate::messages::SqlMessage;
use crate::value::Table;

/// Runs one of msdb's history procedures if `name` is one (`sp_delete_backuphistory`,
/// `msdb.dbo.sp_delete_backuphistory`, `msdb..sp_delete_backuphistory`, …); `None` otherwise.
pub fn call(
    name: &str,
    args: &[ProcArg],
    msdb: &mut Msdb,
) -> Option<Result<Vec<Table>, SqlMessage>> {
    let bare = name
        .rsplit('.')
        .next()
        .unwrap_or(name)
        .trim_matches(['[', ']']);
    if bare.eq_ignore_ascii_case("sp_delete_backuphistory") {
        Some(delete_backuphistory(args, msdb))
    } else if bare.eq_ignore_ascii_case("sp_delete_database_backuphistory") {
        Some(delete_database_backuphistory(args, msdb))
    } else {
        None
    }
}

/// `sp_delete_backuphistory @oldest_date`: see [`Msdb::delete_history`]. A NULL date deletes
/// nothing, as in SQL Server (the comparison is never true).
pub fn delete_backuphistory(args: &[ProcArg], msdb: &mut Msdb) -> Result<Vec<Table>, SqlMessage> {
    const NAME: &str = "sp_delete_backuphistory";
    let bound = bind(NAME, &["@oldest_date"], args)?;
    let value = bound[0].ok_or_else(|| missing_parameter(NAME, "@oldest_date"))?;
    if let Some(oldest) = as_datetime(value.ty, &value.value)? {
        msdb.delete_history(oldest);
    }
    Ok(Vec::new())
}

/// `sp_delete_database_backuphistory @database_name`: see [`Msdb::delete_database_history`].
pub fn delete_database_backuphistory(
    args: &[ProcArg],
    msdb: &mut Msdb,
) -> Result<Vec<Table>, SqlMessage> {
    const NAME: &str = "sp_delete_database_backuphistory";
    let bound = bind(NAME, &["@database_name"], args)?;
    let value = bound[0].ok_or_else(|| missing_parameter(NAME, "@database_name"))?;
    if let Some(db) = value.text() {
        msdb.delete_database_history(&db);
    }
    Ok(Vec::new())
}
