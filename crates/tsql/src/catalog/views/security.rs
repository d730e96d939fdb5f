//! Logins, roles and users: `sys.server_principals`, `sys.sql_logins`,
//! `sys.server_role_members`, `sys.database_principals`, `sys.database_role_members`.

use super::ViewContext;
use crate::catalog::principals::{FIXED_SERVER_ROLES, LoginInfo, fixed_server_role};
use crate::catalog::snapshot::ServerSnapshot;
use crate::catalog::table::*;
use crate::value::{SYSNAME, Table, Value};

const SERVER_PRINCIPAL_COLUMNS: &[Spec] = &[
    ("name", SYSNAME, false),
    ("principal_id", INT, false),
    ("sid", SID, true),
    ("type", char(1), false),
    ("type_desc", DESC, true),
    ("is_disabled", INT, true),
    ("create_date", DATETIME, false),
    ("modify_date", DATETIME, false),
    ("default_database_name", SYSNAME, true),
    ("default_language_name", SYSNAME, true),
    ("credential_id", INT, true),
    ("owning_principal_id", INT, true),
    ("is_fixed_role", BIT, false),
];

fn login_values(l: &LoginInfo) -> Vec<Value> {
    vec![
        text(l.name.clone()),
        int(l.principal_id),
        binary(&l.sid),
        text(l.login_type.code()),
        text(l.login_type.desc()),
        int(i32::from(l.is_disabled)),
        datetime(l.create_date),
        datetime(l.modify_date),
        text(l.default_database.clone()),
        text(l.default_language.clone()),
        Value::Null,
        Value::Null,
        bit(false),
    ]
}

/// `sys.server_principals`: the logins and the fixed server roles, by principal_id.
#[must_use]
pub fn server_principals(snap: &ServerSnapshot) -> Table {
    let mut rows: Vec<(i32, Vec<Value>)> = snap
        .logins
        .iter()
        .map(|l| (l.principal_id, login_values(l)))
        .collect();
    let created = snap.server.start_time;
    for (name, id) in FIXED_SERVER_ROLES {
        // public is a server role but not a fixed one, as SQL Server shows it.
        let fixed = name != "public";
        rows.push((
            id,
            vec![
                text(name),
                int(id),
                binary(&[u8::try_from(id).unwrap_or(0)]),
                text("R"),
                text("SERVER_ROLE"),
                int(0),
                datetime(created),
                datetime(created),
                Value::Null,
                Value::Null,
                Value::Null,
                int(1),
                bit(fixed),
            ],
        ));
    }
    rows.sort_by_key(|(id, _)| *id);
    let mut t = table(SERVER_PRINCIPAL_COLUMNS);
    for (_, row) in rows {
        t.push(row);
    }
    t
}

/// `sys.sql_logins`: the SQL logins, with sys.server_principals' columns and the password
/// policy ones (the hash is not kept).
#[must_use]
pub fn sql_logins(snap: &ServerSnapshot) -> Table {
    let mut specs = SERVER_PRINCIPAL_COLUMNS.to_vec();
    specs.extend_from_slice(&[
        ("is_policy_checked", BIT, true),
        ("is_expiration_checked", BIT, true),
        ("password_hash", SqlType::VarBinary(Some(256)), true),
    ]);
    let mut t = table(&specs);
    for l in snap
        .logins
        .iter()
        .filter(|l| l.login_type == crate::catalog::LoginType::Sql)
    {
        let mut row = login_values(l);
        row.extend([
            bit(l.is_policy_checked),
            bit(l.is_expiration_checked),
            Value::Null,
        ]);
        t.push(row);
    }
    t
}

use crate::value::SqlType;

/// `sys.server_role_members`: each login's fixed server roles (public is implied, not listed).
#[must_use]
pub fn server_role_members(snap: &ServerSnapshot) -> Table {
    let mut t = table(&[
        ("role_principal_id", INT, false),
        ("member_principal_id", INT, false),
    ]);
    let mut pairs: Vec<(i32, i32)> = snap
        .logins
        .iter()
        .flat_map(|l| {
            l.server_roles
                .iter()
                .filter_map(|r| fixed_server_role(r))
                .filter(|(name, _)| *name != "public")
                .map(move |(_, id)| (id, l.principal_id))
        })
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    for (role, member) in pairs {
        t.push(vec![int(role), int(member)]);
    }
    t
}

/// `sys.database_principals` of the database it is seen through.
#[must_use]
pub fn database_principals(c: &ViewContext<'_>) -> Table {
    let mut t = table(&[
        ("name", SYSNAME, false),
        ("principal_id", INT, false),
        ("type", char(1), false),
        ("type_desc", DESC, true),
        ("default_schema_name", SYSNAME, true),
        ("create_date", DATETIME, false),
        ("modify_date", DATETIME, false),
        ("owning_principal_id", INT, true),
        ("sid", SID, true),
        ("is_fixed_role", BIT, false),
        ("authentication_type", INT, false),
        ("authentication_type_desc", DESC, true),
        ("default_language_name", SYSNAME, true),
        ("default_language_lcid", INT, true),
        ("allow_encrypted_value_modifications", BIT, false),
    ]);
    let dbo_sid = c.snapshot.owner_sid(c.database);
    let mut principals: Vec<_> = c.database.principals.principals.iter().collect();
    principals.sort_by_key(|p| p.principal_id);
    for p in principals {
        let is_user = p.principal_type.is_user();
        // Users mapped to logins authenticate at the instance; the schema users and roles not.
        let (auth, auth_desc) = if is_user
            && p.sid
                .as_ref()
                .is_some_and(|s| s.len() > 1 || p.principal_id == 1)
        {
            (1, "INSTANCE")
        } else {
            (0, "NONE")
        };
        let sid = if p.principal_id == 1 {
            Some(dbo_sid.clone())
        } else {
            p.sid.clone()
        };
        t.push(vec![
            text(p.name.clone()),
            int(p.principal_id),
            text(p.principal_type.code()),
            text(p.principal_type.desc()),
            Value::opt_text(p.default_schema.clone()),
            datetime(p.create_date),
            datetime(p.modify_date),
            opt_int(p.owning_principal_id),
            sid.map_or(Value::Null, |s| binary(&s)),
            bit(p.is_fixed_role),
            int(auth),
            text(auth_desc),
            Value::Null,
            Value::Null,
            bit(false),
        ]);
    }
    t
}

/// `sys.database_role_members` of the database it is seen through.
#[must_use]
pub fn database_role_members(c: &ViewContext<'_>) -> Table {
    let mut t = table(&[
        ("role_principal_id", INT, false),
        ("member_principal_id", INT, false),
    ]);
    for (role, member) in &c.database.principals.role_members {
        t.push(vec![int(*role), int(*member)]);
    }
    t
}
