//! Login, user and role functions: SUSER_SNAME, ORIGINAL_LOGIN, USER_NAME,
//! IS_SRVROLEMEMBER, IS_MEMBER, IS_ROLEMEMBER, HAS_DBACCESS, HAS_PERMS_BY_NAME, …

use super::{FunctionContext, Typed, arity, current_db, null_of, nvarchar_value, text_arg};
use crate::catalog::args::as_int;
use crate::catalog::model::{DatabaseInfo, DatabaseState};
use crate::catalog::principals::{DatabasePrincipal, LoginInfo, fixed_server_role};
use crate::messages::SqlMessage;
use crate::value::{SqlType, Value};

const NAME: SqlType = SqlType::NVarChar(Some(128));

fn int(v: Option<bool>) -> Typed {
    (
        SqlType::Int,
        v.map_or(Value::Null, |b| Value::Int(i64::from(b))),
    )
}

fn login<'a>(ctx: &FunctionContext<'a>) -> Option<&'a LoginInfo> {
    ctx.snapshot.login(ctx.login)
}

/// The databases where guest can connect by default.
fn guest_enabled(db: &DatabaseInfo) -> bool {
    ["master", "tempdb", "msdb"]
        .iter()
        .any(|n| db.name.eq_ignore_ascii_case(n))
}

/// The database user a login is in `db`: dbo for sysadmins and the owner, the user mapped
/// to its SID, else guest where guest may connect.
#[must_use]
pub fn database_user<'a>(login: &LoginInfo, db: &'a DatabaseInfo) -> Option<&'a DatabasePrincipal> {
    let p = &db.principals;
    if login.is_sysadmin() || db.owner_login.eq_ignore_ascii_case(&login.name) {
        return p.find("dbo");
    }
    p.user_for_sid(&login.sid)
        .or_else(|| guest_enabled(db).then(|| p.find("guest")).flatten())
}

fn current_user<'a>(ctx: &FunctionContext<'a>) -> Option<&'a DatabasePrincipal> {
    database_user(login(ctx)?, current_db(ctx)?)
}

/// Whether the session's login may use `db` (HAS_DBACCESS).
fn has_access(ctx: &FunctionContext<'_>, db: &DatabaseInfo) -> bool {
    db.state == DatabaseState::Online && login(ctx).and_then(|l| database_user(l, db)).is_some()
}

/// Whether the session's user in `db` is in the database role `role`.
fn in_database_role(ctx: &FunctionContext<'_>, db: &DatabaseInfo, role: &str) -> Option<bool> {
    let role = db.principals.find(role)?;
    let user = login(ctx).and_then(|l| database_user(l, db));
    Some(user.is_some_and(|u| db.principals.is_member(u.principal_id, role.principal_id)))
}

pub(super) fn call(
    bare: &str,
    args: &[Typed],
    ctx: &FunctionContext<'_>,
) -> Option<Result<Typed, SqlMessage>> {
    let upper = bare.to_ascii_uppercase();
    let result = match bare {
        "suser_sname" => arity(&upper, args, 0, 1).map(|()| match args.first() {
            None => nvarchar_value(ctx.login),
            Some((_, Value::Binary(sid))) => ctx
                .snapshot
                .login_by_sid(sid)
                .map_or_else(|| null_of(NAME), |l| nvarchar_value(&l.name)),
            Some(_) => null_of(NAME),
        }),
        "suser_name" => arity(&upper, args, 0, 1).and_then(|()| suser_name(args, ctx)),
        "suser_id" => arity(&upper, args, 0, 2).map(|()| {
            let l = match args.first() {
                None => login(ctx),
                Some(_) => text_arg(args, 0).and_then(|n| ctx.snapshot.login(&n)),
            };
            (
                SqlType::Int,
                l.map_or(Value::Null, |l| Value::Int(i64::from(l.principal_id))),
            )
        }),
        "suser_sid" => arity(&upper, args, 0, 2).map(|()| {
            let l = match args.first() {
                None => login(ctx),
                Some(_) => text_arg(args, 0).and_then(|n| ctx.snapshot.login(&n)),
            };
            (
                SqlType::VarBinary(Some(85)),
                l.map_or(Value::Null, |l| Value::Binary(l.sid.clone())),
            )
        }),
        "original_login" => arity(&upper, args, 0, 0).map(|()| nvarchar_value(ctx.original_login)),
        "system_user" => arity(&upper, args, 0, 0).map(|()| nvarchar_value(ctx.login)),
        "current_user" | "session_user" | "user" => arity(&upper, args, 0, 0)
            .map(|()| current_user(ctx).map_or_else(|| null_of(NAME), |u| nvarchar_value(&u.name))),
        "user_name" => arity(&upper, args, 0, 1).and_then(|()| user_name(args, ctx)),
        "user_id" | "database_principal_id" => arity(&upper, args, 0, 1).map(|()| {
            let p = match args.first() {
                None => current_user(ctx),
                Some(_) => text_arg(args, 0).and_then(|n| current_db(ctx)?.principals.find(&n)),
            };
            (
                SqlType::Int,
                p.map_or(Value::Null, |p| Value::Int(i64::from(p.principal_id))),
            )
        }),
        "host_name" => arity(&upper, args, 0, 0).map(|()| nvarchar_value(ctx.host_name)),
        "app_name" => arity(&upper, args, 0, 0).map(|()| nvarchar_value(ctx.program_name)),
        "is_srvrolemember" => arity(&upper, args, 1, 2).map(|()| is_srvrolemember(args, ctx)),
        "is_member" => arity(&upper, args, 1, 1).map(|()| {
            int(text_arg(args, 0).and_then(|role| in_database_role(ctx, current_db(ctx)?, &role)))
        }),
        "is_rolemember" => arity(&upper, args, 1, 2).map(|()| is_rolemember(args, ctx)),
        "has_dbaccess" => arity(&upper, args, 1, 1).map(|()| {
            int(text_arg(args, 0)
                .and_then(|n| ctx.snapshot.database(&n))
                .map(|db| has_access(ctx, db)))
        }),
        "has_perms_by_name" => arity(&upper, args, 3, 5).map(|()| has_perms_by_name(args, ctx)),
        "schema_name" => arity(&upper, args, 0, 1).and_then(|()| schema_name(args)),
        "schema_id" => arity(&upper, args, 0, 1).map(|()| {
            let name = text_arg(args, 0).unwrap_or_else(|| "dbo".to_owned());
            let id = crate::catalog::views::objects::SCHEMAS
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(&name))
                .map(|(_, id)| *id);
            (
                SqlType::Int,
                id.map_or(Value::Null, |id| Value::Int(i64::from(id))),
            )
        }),
        _ => return None,
    };
    Some(result)
}

fn suser_name(args: &[Typed], ctx: &FunctionContext<'_>) -> Result<Typed, SqlMessage> {
    let Some((ty, v)) = args.first() else {
        return Ok(nvarchar_value(ctx.login));
    };
    let Some(id) = as_int(*ty, v)? else {
        return Ok(null_of(NAME));
    };
    let name = ctx
        .snapshot
        .logins
        .iter()
        .find(|l| i64::from(l.principal_id) == id)
        .map(|l| l.name.clone())
        .or_else(|| {
            crate::catalog::principals::FIXED_SERVER_ROLES
                .iter()
                .find(|(_, rid)| i64::from(*rid) == id)
                .map(|(n, _)| (*n).to_owned())
        });
    Ok(name.map_or_else(|| null_of(NAME), |n| nvarchar_value(&n)))
}

fn user_name(args: &[Typed], ctx: &FunctionContext<'_>) -> Result<Typed, SqlMessage> {
    let p = match args.first() {
        None => current_user(ctx),
        Some((ty, v)) => match as_int(*ty, v)? {
            Some(id) => i32::try_from(id)
                .ok()
                .and_then(|id| current_db(ctx)?.principals.by_id(id)),
            None => None,
        },
    };
    Ok(p.map_or_else(|| null_of(NAME), |p| nvarchar_value(&p.name)))
}

/// SCHEMA_NAME([id]): every database has the same schemas, so the id alone decides.
fn schema_name(args: &[Typed]) -> Result<Typed, SqlMessage> {
    let id = match args.first() {
        None => Some(1),
        Some((ty, v)) => as_int(*ty, v)?,
    };
    let name = id.and_then(|id| {
        crate::catalog::views::objects::SCHEMAS
            .iter()
            .find(|(_, sid)| i64::from(*sid) == id)
            .map(|(n, _)| *n)
    });
    Ok(name.map_or_else(|| null_of(NAME), nvarchar_value))
}

/// IS_SRVROLEMEMBER(role [, login]): NULL for an unknown role or login.
fn is_srvrolemember(args: &[Typed], ctx: &FunctionContext<'_>) -> Typed {
    let Some((role, _)) = text_arg(args, 0).and_then(|r| fixed_server_role(&r)) else {
        return int(None);
    };
    let who = match args.get(1) {
        None => login(ctx),
        Some(_) => text_arg(args, 1).and_then(|n| ctx.snapshot.login(&n)),
    };
    int(who.map(|l| l.is_in_server_role(role)))
}

/// IS_ROLEMEMBER(role [, database_principal]) in the current database.
fn is_rolemember(args: &[Typed], ctx: &FunctionContext<'_>) -> Typed {
    let Some(db) = current_db(ctx) else {
        return int(None);
    };
    let Some(role) = text_arg(args, 0).and_then(|r| db.principals.find(&r)) else {
        return int(None);
    };
    if args.len() == 1 {
        return int(in_database_role(ctx, db, &role.name));
    }
    let Some(member) = text_arg(args, 1).and_then(|m| db.principals.find(&m)) else {
        return int(None);
    };
    int(Some(
        db.principals
            .is_member(member.principal_id, role.principal_id),
    ))
}

/// HAS_PERMS_BY_NAME(securable, class, permission …), for the permissions backup tools ask
/// about: sysadmin holds every permission; SERVER-class ones follow the fixed server roles
/// (CREATE DATABASE: dbcreator); DATABASE-class BACKUP DATABASE/LOG: db_owner or
/// db_backupoperator; CONNECT: HAS_DBACCESS; anything else in a database: db_owner.
fn has_perms_by_name(args: &[Typed], ctx: &FunctionContext<'_>) -> Typed {
    let (Some(class), Some(permission)) = (text_arg(args, 1), text_arg(args, 2)) else {
        return int(None);
    };
    let Some(l) = login(ctx) else {
        return int(Some(false));
    };
    let permission = permission.to_ascii_uppercase();
    match class.to_ascii_uppercase().as_str() {
        "SERVER" => int(Some(
            l.is_sysadmin()
                || (permission.contains("DATABASE") && l.is_in_server_role("dbcreator"))
                || (permission == "VIEW ANY DATABASE" || permission == "CONNECT SQL"),
        )),
        "DATABASE" => {
            let Some(db) = text_arg(args, 0).and_then(|n| ctx.snapshot.database(&n)) else {
                return int(None);
            };
            if l.is_sysadmin() {
                return int(Some(true));
            }
            let in_role = |r: &str| in_database_role(ctx, db, r).unwrap_or(false);
            int(Some(match permission.as_str() {
                "CONNECT" => has_access(ctx, db),
                "BACKUP DATABASE" | "BACKUP LOG" => {
                    in_role("db_owner") || in_role("db_backupoperator")
                }
                _ => in_role("db_owner"),
            }))
        }
        _ => int(Some(l.is_sysadmin())),
    }
}
