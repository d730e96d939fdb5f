//! The read-only system procedures: sp_helpdb, sp_helpfile, sp_helpfilegroup,
//! sp_databases (in [`files`]), sp_who, sp_who2, sp_helpsrvrolemember and xp_msver (in
//! [`server`]), sp_spaceused and xp_fileexist (in [`space`]). msdb's history procedures, which change msdb, are in
//! [`crate::msdb::procedures`].

mod files;
mod server;
mod space;

pub use space::{file_exists, xp_fileexist_table};

use super::args::ProcArg;
use super::functions::FunctionContext;
use crate::messages::SqlMessage;
use crate::value::Table;

/// A procedure: its result sets or its error.
type Outcome = Result<Vec<Table>, SqlMessage>;

/// Runs a read-only system procedure by name (`sp_helpdb`, `sys.sp_who`,
/// `master.dbo.xp_msver`, `[master]..[sp_who2]`, any case); `None` if it is not one of the
/// catalog's (the caller reports Msg 2812).
#[must_use]
pub fn call(name: &str, args: &[ProcArg], ctx: &FunctionContext<'_>) -> Option<Outcome> {
    let bare = name
        .rsplit('.')
        .next()
        .unwrap_or(name)
        .trim_matches(['[', ']', '"'])
        .to_ascii_lowercase();
    Some(match bare.as_str() {
        "sp_helpdb" => files::sp_helpdb(args, ctx),
        "sp_helpfile" => files::sp_helpfile(args, ctx),
        "sp_helpfilegroup" => files::sp_helpfilegroup(args, ctx),
        "sp_databases" => files::sp_databases(args, ctx),
        "sp_who" => server::sp_who(args, ctx),
        "sp_who2" => server::sp_who2(args, ctx),
        "sp_helpsrvrolemember" => server::sp_helpsrvrolemember(args, ctx),
        "xp_msver" => server::xp_msver(args, ctx),
        "sp_spaceused" => space::sp_spaceused(args, ctx),
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
