//! The server's built-in functions and @@ variables that read the catalog.
//!
//! [`call`] answers `Some` for the functions it knows and `None` for the rest (the
//! evaluator's own, or Msg 195 "is not a recognized built-in function name").

mod properties;
mod security;

pub use properties::{database_property, null_variant, server_property};
pub use security::database_user;

use super::args::{as_int, as_text, wrong_argument_count};
use super::sessions::SessionInfo;
use super::snapshot::ServerSnapshot;
use crate::ast::expr::ObjectName;
use crate::messages::SqlMessage;
use crate::value::{SqlType, Value};

/// A value with its declared type.
pub type Typed = (SqlType, Value);

/// What a function call sees of the server and of the calling session.
#[derive(Debug, Clone, Copy)]
pub struct FunctionContext<'a> {
    pub snapshot: &'a ServerSnapshot,
    /// `@@SPID`.
    pub session_id: i16,
    /// The login the session runs as (SUSER_SNAME(), SYSTEM_USER).
    pub login: &'a str,
    /// The login that connected (ORIGINAL_LOGIN()); differs only under EXECUTE AS.
    pub original_login: &'a str,
    pub current_database: &'a str,
    pub host_name: &'a str,
    pub program_name: &'a str,
}

impl<'a> FunctionContext<'a> {
    /// The context of one of the snapshot's sessions (or any session the caller keeps).
    #[must_use]
    pub fn for_session(snapshot: &'a ServerSnapshot, session: &'a SessionInfo) -> Self {
        FunctionContext {
            snapshot,
            session_id: session.session_id,
            login: &session.login_name,
            original_login: &session.login_name,
            current_database: &session.database,
            host_name: &session.host_name,
            program_name: &session.program_name,
        }
    }
}

/// `nvarchar(128)` text.
#[must_use]
pub fn nvarchar_value(s: &str) -> Typed {
    (SqlType::NVarChar(Some(128)), Value::String(s.to_owned()))
}

fn null_of(ty: SqlType) -> Typed {
    (ty, Value::Null)
}

/// The function's name without schema, brackets or case: `SYS.FN_HADR_…` → `fn_hadr_…`.
fn bare_name(name: &str) -> String {
    name.rsplit('.')
        .next()
        .unwrap_or(name)
        .trim_matches(['[', ']', '"'])
        .to_ascii_lowercase()
}

/// Checks the argument count: `Err(174)` when it is outside `min..=max`.
fn arity(name: &str, args: &[Typed], min: usize, max: usize) -> Result<(), SqlMessage> {
    if (min..=max).contains(&args.len()) {
        return Ok(());
    }
    Err(wrong_argument_count(name, min, max))
}

/// The text of argument `i`, or `None` when absent or NULL.
fn text_arg(args: &[Typed], i: usize) -> Option<String> {
    args.get(i).and_then(|(_, v)| as_text(v))
}

/// Calls a catalog function by name (`SERVERPROPERTY`, `sys.fn_hadr_backup_is_preferred_replica`,
/// any case); `None` if it is not one of the catalog's.
#[must_use]
pub fn call(
    name: &str,
    args: &[Typed],
    ctx: &FunctionContext<'_>,
) -> Option<Result<Typed, SqlMessage>> {
    let bare = bare_name(name);
    let upper = bare.to_ascii_uppercase();
    let result = match bare.as_str() {
        "serverproperty" => arity("serverproperty", args, 1, 1)
            .map(|()| text_arg(args, 0).map_or_else(null_variant, |p| server_property(&p, ctx))),
        "databasepropertyex" => arity("databasepropertyex", args, 2, 2).map(|()| {
            match (text_arg(args, 0), text_arg(args, 1)) {
                (Some(db), Some(p)) => database_property(&db, &p, ctx),
                _ => null_variant(),
            }
        }),
        "db_id" => arity(&upper, args, 0, 1).map(|()| db_id(args, ctx)),
        "db_name" => arity(&upper, args, 0, 1).and_then(|()| db_name(args, ctx)),
        "fn_hadr_backup_is_preferred_replica" => {
            arity(&bare, args, 1, 1).map(|()| (SqlType::Bit, Value::Bit(true)))
        }
        "file_id" => arity(&upper, args, 1, 1).map(|()| file_id(args, ctx, SqlType::SmallInt)),
        "file_idex" => arity(&upper, args, 1, 1).map(|()| file_id(args, ctx, SqlType::Int)),
        "file_name" => arity(&upper, args, 1, 1).and_then(|()| file_name(args, ctx)),
        "fileproperty" => arity(&upper, args, 2, 2).map(|()| file_property(args, ctx)),
        "filegroup_id" => arity(&upper, args, 1, 1).map(|()| filegroup_id(args, ctx)),
        "filegroup_name" => arity(&upper, args, 1, 1).and_then(|()| filegroup_name(args, ctx)),
        "object_id" => arity(&upper, args, 1, 2).map(|()| object_id(args, ctx)),
        "object_name" => arity(&upper, args, 1, 2).and_then(|()| object_name(args, ctx)),
        _ => return security::call(&bare, args, ctx),
    };
    Some(result)
}

/// The value of a server-level `@@` variable (name with or without `@@`); `None` for the
/// interpreter's own (@@ERROR, @@ROWCOUNT, @@TRANCOUNT, …) and unknown names.
#[must_use]
pub fn system_variable(name: &str, ctx: &FunctionContext<'_>) -> Option<Typed> {
    properties::system_variable(name, ctx)
}

fn current_db<'a>(ctx: &FunctionContext<'a>) -> Option<&'a super::DatabaseInfo> {
    ctx.snapshot.database(ctx.current_database)
}

fn db_id(args: &[Typed], ctx: &FunctionContext<'_>) -> Typed {
    let db = match args.first() {
        None => current_db(ctx),
        Some((_, v)) => as_text(v).and_then(|n| ctx.snapshot.database(&n)),
    };
    db.map_or_else(
        || null_of(SqlType::Int),
        |d| (SqlType::Int, Value::Int(i64::from(d.database_id))),
    )
}

fn db_name(args: &[Typed], ctx: &FunctionContext<'_>) -> Result<Typed, SqlMessage> {
    let db = match args.first() {
        None => current_db(ctx),
        Some((ty, v)) => {
            as_int(*ty, v)?.and_then(|id| ctx.snapshot.database_by_id(i32::try_from(id).ok()?))
        }
    };
    Ok(db.map_or_else(
        || null_of(SqlType::NVarChar(Some(128))),
        |d| nvarchar_value(&d.name),
    ))
}

fn file_id(args: &[Typed], ctx: &FunctionContext<'_>, ty: SqlType) -> Typed {
    let id = text_arg(args, 0).and_then(|n| current_db(ctx)?.file_by_name(&n).map(|f| f.file_id));
    (ty, id.map_or(Value::Null, |id| Value::Int(i64::from(id))))
}

fn file_name(args: &[Typed], ctx: &FunctionContext<'_>) -> Result<Typed, SqlMessage> {
    let (ty, v) = &args[0];
    let name = as_int(*ty, v)?.and_then(|id| {
        current_db(ctx)?
            .files
            .iter()
            .find(|f| i64::from(f.file_id) == id)
            .map(|f| f.name.clone())
    });
    Ok(name.map_or_else(
        || null_of(SqlType::NVarChar(Some(128))),
        |n| nvarchar_value(&n),
    ))
}

/// `FILEPROPERTY(file, 'SpaceUsed'|'IsLogFile'|'IsPrimaryFile'|'IsReadOnly')` of a file of
/// the current database; NULL for an unknown file or property.
fn file_property(args: &[Typed], ctx: &FunctionContext<'_>) -> Typed {
    let value = (|| {
        let db = current_db(ctx)?;
        let file = db.file_by_name(&text_arg(args, 0)?)?;
        let n = match text_arg(args, 1)?.to_ascii_lowercase().as_str() {
            "spaceused" => i64::try_from(super::views::space::file_used_pages(db, file)).ok()?,
            "islogfile" => i64::from(file.file_type == super::FileType::Log),
            "isprimaryfile" => i64::from(file.file_id == 1),
            "isreadonly" => i64::from(file.is_read_only),
            _ => return None,
        };
        Some(Value::Int(n))
    })();
    (SqlType::Int, value.unwrap_or(Value::Null))
}

fn filegroup_id(args: &[Typed], ctx: &FunctionContext<'_>) -> Typed {
    let id = text_arg(args, 0).and_then(|n| {
        current_db(ctx)?
            .filegroup_by_name(&n)
            .map(|g| g.data_space_id)
    });
    (
        SqlType::Int,
        id.map_or(Value::Null, |id| Value::Int(i64::from(id))),
    )
}

fn filegroup_name(args: &[Typed], ctx: &FunctionContext<'_>) -> Result<Typed, SqlMessage> {
    let (ty, v) = &args[0];
    let name = as_int(*ty, v)?.and_then(|id| {
        current_db(ctx)?
            .filegroups
            .iter()
            .find(|g| i64::from(g.data_space_id) == id)
            .map(|g| g.name.clone())
    });
    Ok(name.map_or_else(
        || null_of(SqlType::NVarChar(Some(128))),
        |n| nvarchar_value(&n),
    ))
}

/// Splits `[db].[schema].[name]`, `db..name`, `"a"."b"` into parts as the parser would.
#[must_use]
pub fn split_object_name(text: &str) -> ObjectName {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = text.trim().chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '[' => {
                while let Some(c) = chars.next() {
                    if c == ']' {
                        if chars.peek() == Some(&']') {
                            chars.next();
                            current.push(']');
                        } else {
                            break;
                        }
                    } else {
                        current.push(c);
                    }
                }
            }
            '"' => {
                for c in chars.by_ref() {
                    if c == '"' {
                        break;
                    }
                    current.push(c);
                }
            }
            '.' => parts.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    parts.push(current);
    ObjectName::new(parts)
}

fn object_id(args: &[Typed], ctx: &FunctionContext<'_>) -> Typed {
    let id = text_arg(args, 0).and_then(|text| {
        let name = split_object_name(&text);
        if let Some(id) = super::system_object_id(&name, ctx.current_database, ctx.snapshot) {
            return Some(id);
        }
        let db = ctx
            .snapshot
            .database(name.database().unwrap_or(ctx.current_database))?;
        let schema = name.qualifier().unwrap_or("dbo");
        db.tables
            .iter()
            .find(|t| {
                t.name.eq_ignore_ascii_case(name.name()) && t.schema.eq_ignore_ascii_case(schema)
            })
            .map(|t| t.object_id)
    });
    (
        SqlType::Int,
        id.map_or(Value::Null, |id| Value::Int(i64::from(id))),
    )
}

fn object_name(args: &[Typed], ctx: &FunctionContext<'_>) -> Result<Typed, SqlMessage> {
    let (ty, v) = &args[0];
    let Some(id) = as_int(*ty, v)? else {
        return Ok(null_of(SqlType::NVarChar(Some(128))));
    };
    let db = match args.get(1) {
        Some((ty, v)) => match as_int(*ty, v)? {
            Some(db_id) => i32::try_from(db_id)
                .ok()
                .and_then(|i| ctx.snapshot.database_by_id(i)),
            None => None,
        },
        None => current_db(ctx),
    };
    let system = super::views::OBJECTS
        .iter()
        .find(|o| i64::from(o.object_id) == id)
        .filter(|o| {
            o.kind != super::views::Kind::Msdb
                || db.is_some_and(|d| d.name.eq_ignore_ascii_case("msdb"))
        })
        .map(|o| o.name.to_owned());
    let user = || {
        db?.tables
            .iter()
            .find(|t| i64::from(t.object_id) == id)
            .map(|t| t.name.clone())
    };
    Ok(system.or_else(user).map_or_else(
        || null_of(SqlType::NVarChar(Some(128))),
        |n| nvarchar_value(&n),
    ))
}

#[cfg(test)]
mod tests;
