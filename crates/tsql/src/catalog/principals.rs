//! Logins, server roles, database users and database roles.

use serde::{Deserialize, Serialize};

use super::model::derived_guid;
use crate::value::DateTime;

/// SQL Server's fixed server roles and their principal ids.
pub const FIXED_SERVER_ROLES: [(&str, i32); 9] = [
    ("public", 2),
    ("sysadmin", 3),
    ("securityadmin", 4),
    ("serveradmin", 5),
    ("setupadmin", 6),
    ("processadmin", 7),
    ("diskadmin", 8),
    ("dbcreator", 9),
    ("bulkadmin", 10),
];

/// The fixed server role with this name (case-insensitive): `(canonical name, principal_id)`.
#[must_use]
pub fn fixed_server_role(name: &str) -> Option<(&'static str, i32)> {
    FIXED_SERVER_ROLES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .copied()
}

/// `sys.server_principals.type` for logins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum LoginType {
    /// `S`, SQL_LOGIN.
    #[default]
    Sql,
    /// `U`, WINDOWS_LOGIN.
    Windows,
    /// `G`, WINDOWS_GROUP.
    WindowsGroup,
}

impl LoginType {
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            LoginType::Sql => "S",
            LoginType::Windows => "U",
            LoginType::WindowsGroup => "G",
        }
    }

    #[must_use]
    pub fn desc(self) -> &'static str {
        match self {
            LoginType::Sql => "SQL_LOGIN",
            LoginType::Windows => "WINDOWS_LOGIN",
            LoginType::WindowsGroup => "WINDOWS_GROUP",
        }
    }
}

/// A login (`sys.server_principals`, `sys.sql_logins`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginInfo {
    pub principal_id: i32,
    pub sid: Vec<u8>,
    pub name: String,
    pub login_type: LoginType,
    pub is_disabled: bool,
    pub create_date: DateTime,
    pub modify_date: DateTime,
    pub default_database: String,
    pub default_language: String,
    /// Fixed server roles it is a member of (`sysadmin`, `dbcreator`, …); `public` is implied.
    pub server_roles: Vec<String>,
    pub is_policy_checked: bool,
    pub is_expiration_checked: bool,
}

impl LoginInfo {
    /// `sa`: principal 1, SID 0x01, sysadmin.
    #[must_use]
    pub fn sa(create_date: DateTime) -> Self {
        LoginInfo {
            principal_id: 1,
            sid: vec![1],
            name: "sa".to_owned(),
            login_type: LoginType::Sql,
            is_disabled: false,
            create_date,
            modify_date: create_date,
            default_database: "master".to_owned(),
            default_language: "us_english".to_owned(),
            server_roles: vec!["sysadmin".to_owned()],
            is_policy_checked: true,
            is_expiration_checked: false,
        }
    }

    /// A SQL login with a 16-byte SID derived from its name (SQL Server's are random GUIDs)
    /// and no server roles.
    #[must_use]
    pub fn sql_login(principal_id: i32, name: &str, create_date: DateTime) -> Self {
        LoginInfo {
            principal_id,
            sid: derived_guid(name, 0x51D).to_vec(),
            name: name.to_owned(),
            login_type: LoginType::Sql,
            is_disabled: false,
            create_date,
            modify_date: create_date,
            default_database: "master".to_owned(),
            default_language: "us_english".to_owned(),
            server_roles: Vec::new(),
            is_policy_checked: true,
            is_expiration_checked: false,
        }
    }

    /// Whether the login is in the fixed server role (`public` always).
    #[must_use]
    pub fn is_in_server_role(&self, role: &str) -> bool {
        role.eq_ignore_ascii_case("public")
            || self
                .server_roles
                .iter()
                .any(|r| r.eq_ignore_ascii_case(role))
    }

    #[must_use]
    pub fn is_sysadmin(&self) -> bool {
        self.is_in_server_role("sysadmin")
    }
}

/// `sys.database_principals.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum DatabasePrincipalType {
    /// `S`, SQL_USER.
    #[default]
    SqlUser,
    /// `U`, WINDOWS_USER.
    WindowsUser,
    /// `G`, WINDOWS_GROUP.
    WindowsGroup,
    /// `R`, DATABASE_ROLE.
    Role,
    /// `A`, APPLICATION_ROLE.
    ApplicationRole,
}

impl DatabasePrincipalType {
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            DatabasePrincipalType::SqlUser => "S",
            DatabasePrincipalType::WindowsUser => "U",
            DatabasePrincipalType::WindowsGroup => "G",
            DatabasePrincipalType::Role => "R",
            DatabasePrincipalType::ApplicationRole => "A",
        }
    }

    #[must_use]
    pub fn desc(self) -> &'static str {
        match self {
            DatabasePrincipalType::SqlUser => "SQL_USER",
            DatabasePrincipalType::WindowsUser => "WINDOWS_USER",
            DatabasePrincipalType::WindowsGroup => "WINDOWS_GROUP",
            DatabasePrincipalType::Role => "DATABASE_ROLE",
            DatabasePrincipalType::ApplicationRole => "APPLICATION_ROLE",
        }
    }

    #[must_use]
    pub fn is_user(self) -> bool {
        !matches!(
            self,
            DatabasePrincipalType::Role | DatabasePrincipalType::ApplicationRole
        )
    }
}

/// A database user or role (`sys.database_principals`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabasePrincipal {
    pub principal_id: i32,
    pub name: String,
    pub principal_type: DatabasePrincipalType,
    /// The login's SID for a user mapped to a login; NULL for roles and the schema users.
    pub sid: Option<Vec<u8>>,
    pub default_schema: Option<String>,
    pub create_date: DateTime,
    pub modify_date: DateTime,
    /// Roles only: the owner (dbo for the fixed roles).
    pub owning_principal_id: Option<i32>,
    pub is_fixed_role: bool,
}

/// SQL Server's fixed database roles and their principal ids.
pub const FIXED_DATABASE_ROLES: [(&str, i32); 9] = [
    ("db_owner", 16384),
    ("db_accessadmin", 16385),
    ("db_securityadmin", 16386),
    ("db_ddladmin", 16387),
    ("db_backupoperator", 16389),
    ("db_datareader", 16390),
    ("db_datawriter", 16391),
    ("db_denydatareader", 16392),
    ("db_denydatawriter", 16393),
];

/// The SID SQL Server shows for a database role: `S-1-9-4`'s 12 bytes, 12 zero bytes, then
/// the principal id (little-endian).
#[must_use]
pub fn role_sid(principal_id: i32) -> Vec<u8> {
    let mut sid = vec![1, 5, 0, 0, 0, 0, 0, 9, 4, 0, 0, 0];
    sid.extend_from_slice(&[0; 12]);
    sid.extend_from_slice(&principal_id.to_le_bytes());
    sid
}

/// A database's principals and role memberships.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabasePrincipals {
    pub principals: Vec<DatabasePrincipal>,
    /// `(role_principal_id, member_principal_id)`.
    pub role_members: Vec<(i32, i32)>,
}

impl DatabasePrincipals {
    /// What every new database has: public, dbo (mapped to sa), guest, INFORMATION_SCHEMA,
    /// sys and the fixed roles, with dbo in db_owner.
    #[must_use]
    pub fn standard(create_date: DateTime) -> Self {
        let user =
            |id: i32, name: &str, sid: Option<Vec<u8>>, schema: Option<&str>| DatabasePrincipal {
                principal_id: id,
                name: name.to_owned(),
                principal_type: DatabasePrincipalType::SqlUser,
                sid,
                default_schema: schema.map(str::to_owned),
                create_date,
                modify_date: create_date,
                owning_principal_id: None,
                is_fixed_role: false,
            };
        let role = |id: i32, name: &str, owner: Option<i32>, fixed: bool| DatabasePrincipal {
            principal_id: id,
            name: name.to_owned(),
            principal_type: DatabasePrincipalType::Role,
            sid: Some(role_sid(id)),
            default_schema: None,
            create_date,
            modify_date: create_date,
            owning_principal_id: owner,
            is_fixed_role: fixed,
        };
        let mut principals = vec![
            role(0, "public", Some(1), false),
            user(1, "dbo", Some(vec![1]), Some("dbo")),
            user(2, "guest", Some(vec![0]), Some("guest")),
            user(3, "INFORMATION_SCHEMA", None, None),
            user(4, "sys", None, None),
        ];
        principals.extend(
            FIXED_DATABASE_ROLES
                .iter()
                .map(|&(name, id)| role(id, name, Some(1), true)),
        );
        DatabasePrincipals {
            principals,
            role_members: vec![(16384, 1)],
        }
    }

    /// The principal with this name (case-insensitive).
    #[must_use]
    pub fn find(&self, name: &str) -> Option<&DatabasePrincipal> {
        self.principals
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// The principal with this id.
    #[must_use]
    pub fn by_id(&self, principal_id: i32) -> Option<&DatabasePrincipal> {
        self.principals
            .iter()
            .find(|p| p.principal_id == principal_id)
    }

    /// The user mapped to a login SID.
    #[must_use]
    pub fn user_for_sid(&self, sid: &[u8]) -> Option<&DatabasePrincipal> {
        self.principals
            .iter()
            .find(|p| p.principal_type.is_user() && p.sid.as_deref() == Some(sid))
    }

    /// Adds a SQL user (mapped to `sid` when given) and returns its principal id; an existing
    /// principal of that name keeps its id.
    pub fn add_user(&mut self, name: &str, sid: Option<Vec<u8>>, create_date: DateTime) -> i32 {
        if let Some(p) = self.find(name) {
            return p.principal_id;
        }
        let id = self.next_id(5, 16384);
        self.principals.push(DatabasePrincipal {
            principal_id: id,
            name: name.to_owned(),
            principal_type: DatabasePrincipalType::SqlUser,
            sid,
            default_schema: Some("dbo".to_owned()),
            create_date,
            modify_date: create_date,
            owning_principal_id: None,
            is_fixed_role: false,
        });
        id
    }

    /// Adds a user-defined role owned by dbo and returns its principal id.
    pub fn add_role(&mut self, name: &str, create_date: DateTime) -> i32 {
        if let Some(p) = self.find(name) {
            return p.principal_id;
        }
        let id = self.next_id(5, 16384);
        self.principals.push(DatabasePrincipal {
            principal_id: id,
            name: name.to_owned(),
            principal_type: DatabasePrincipalType::Role,
            sid: Some(role_sid(id)),
            default_schema: None,
            create_date,
            modify_date: create_date,
            owning_principal_id: Some(1),
            is_fixed_role: false,
        });
        id
    }

    /// Makes `member` a member of `role` (both by name); false if either is missing or `role`
    /// is not a role.
    pub fn add_role_member(&mut self, role: &str, member: &str) -> bool {
        let (Some(r), Some(m)) = (self.find(role), self.find(member)) else {
            return false;
        };
        if r.principal_type != DatabasePrincipalType::Role {
            return false;
        }
        let pair = (r.principal_id, m.principal_id);
        if !self.role_members.contains(&pair) {
            self.role_members.push(pair);
        }
        true
    }

    /// Whether principal `member_id` is in `role_id`, directly or through nested roles;
    /// everyone is in public.
    #[must_use]
    pub fn is_member(&self, member_id: i32, role_id: i32) -> bool {
        if role_id == 0 {
            return true;
        }
        let mut seen = vec![member_id];
        let mut i = 0;
        while i < seen.len() {
            let current = seen[i];
            for &(r, m) in &self.role_members {
                if m == current && !seen.contains(&r) {
                    if r == role_id {
                        return true;
                    }
                    seen.push(r);
                }
            }
            i += 1;
        }
        false
    }

    fn next_id(&self, from: i32, below: i32) -> i32 {
        self.principals
            .iter()
            .map(|p| p.principal_id)
            .filter(|&id| id >= from && id < below)
            .max()
            .map_or(from, |m| m + 1)
    }
}
