//! Logins and what they may do: authentication, CREATE/ALTER/DROP LOGIN, fixed server roles,
//! and the permission checks SQL Server makes before BACKUP, RESTORE and CREATE DATABASE.
//!
//! Passwords are kept only as salted SHA-256 digests, in memory and in `security.json` under
//! `--data-dir`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::tsql::SqlMessage;
use crate::tsql::catalog::principals::fixed_server_role;
use crate::tsql::catalog::{DatabaseInfo, LoginInfo};
use crate::tsql::value::DateTime;

/// A stored password: a random salt and SHA-256(salt ‖ password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PasswordDigest {
    salt: [u8; 16],
    digest: [u8; 32],
}

impl PasswordDigest {
    fn new(password: &str) -> Self {
        let mut salt = [0u8; 16];
        let mut rng = fastrand::Rng::new();
        rng.fill(&mut salt);
        PasswordDigest {
            salt,
            digest: Self::hash(&salt, password),
        }
    }

    fn hash(salt: &[u8; 16], password: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(salt);
        h.update(password.as_bytes());
        h.finalize().into()
    }

    fn matches(&self, password: &str) -> bool {
        Self::hash(&self.salt, password) == self.digest
    }
}

/// The server's logins.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Security {
    logins: Vec<LoginInfo>,
    /// By lower-cased login name; sa's is absent when any password is accepted for it.
    passwords: HashMap<String, PasswordDigest>,
}

impl Security {
    /// `sa` only; `sa_password` `None` accepts any password for sa.
    #[must_use]
    pub fn new(sa_password: Option<&str>, now: DateTime) -> Self {
        let mut passwords = HashMap::new();
        if let Some(p) = sa_password {
            passwords.insert("sa".to_owned(), PasswordDigest::new(p));
        }
        Security {
            logins: vec![LoginInfo::sa(now)],
            passwords,
        }
    }

    #[must_use]
    pub fn logins(&self) -> &[LoginInfo] {
        &self.logins
    }

    #[must_use]
    pub fn login(&self, name: &str) -> Option<&LoginInfo> {
        self.logins
            .iter()
            .find(|l| l.name.eq_ignore_ascii_case(name))
    }

    /// The login, if the password is right and the login is enabled.
    #[must_use]
    pub fn authenticate(&self, name: &str, password: &str) -> Option<&LoginInfo> {
        let login = self.login(name).filter(|l| !l.is_disabled)?;
        match self.passwords.get(&login.name.to_lowercase()) {
            Some(digest) => digest.matches(password).then_some(login),
            // Only sa can be without a password: the socket's mode is then the access control.
            None => login.name.eq_ignore_ascii_case("sa").then_some(login),
        }
    }

    /// Replaces sa's password (the server's `--sa-password`, which wins over a stored one).
    pub fn set_sa_password(&mut self, password: Option<&str>) {
        match password {
            Some(p) => {
                self.passwords
                    .insert("sa".to_owned(), PasswordDigest::new(p));
            }
            None => {
                self.passwords.remove("sa");
            }
        }
    }

    /// CREATE LOGIN … WITH PASSWORD.
    pub fn create_login(
        &mut self,
        line: u32,
        name: &str,
        password: Option<&str>,
        default_database: Option<&str>,
        now: DateTime,
    ) -> Result<(), SqlMessage> {
        if self.login(name).is_some() || fixed_server_role(name).is_some() {
            return Err(SqlMessage::new(
                15025,
                16,
                1,
                line,
                format!("The server principal '{name}' already exists."),
            ));
        }
        let id = self
            .logins
            .iter()
            .map(|l| l.principal_id)
            .max()
            .unwrap_or(256)
            .max(256)
            + 1;
        let mut login = LoginInfo::sql_login(id, name, now);
        if let Some(db) = default_database {
            login.default_database = db.to_owned();
        }
        if let Some(p) = password {
            self.passwords
                .insert(name.to_lowercase(), PasswordDigest::new(p));
        }
        self.logins.push(login);
        Ok(())
    }

    /// DROP LOGIN.
    pub fn drop_login(&mut self, line: u32, name: &str) -> Result<(), SqlMessage> {
        let Some(i) = self
            .logins
            .iter()
            .position(|l| l.name.eq_ignore_ascii_case(name) && l.principal_id != 1)
        else {
            return Err(SqlMessage::new(
                15151,
                16,
                1,
                line,
                format!(
                    "Cannot drop the login '{name}', because it does not exist or you do not have permission."
                ),
            ));
        };
        self.logins.remove(i);
        self.passwords.remove(&name.to_lowercase());
        Ok(())
    }

    /// ALTER LOGIN … WITH PASSWORD / ENABLE / DISABLE.
    pub fn alter_login(
        &mut self,
        line: u32,
        name: &str,
        password: Option<&str>,
        enable: Option<bool>,
    ) -> Result<(), SqlMessage> {
        let Some(login) = self
            .logins
            .iter_mut()
            .find(|l| l.name.eq_ignore_ascii_case(name))
        else {
            return Err(SqlMessage::new(
                15151,
                16,
                1,
                line,
                format!(
                    "Cannot alter the login '{name}', because it does not exist or you do not have permission."
                ),
            ));
        };
        if let Some(enable) = enable {
            login.is_disabled = !enable;
        }
        if let Some(p) = password {
            self.passwords
                .insert(name.to_lowercase(), PasswordDigest::new(p));
        }
        Ok(())
    }

    /// ALTER SERVER ROLE role ADD|DROP MEMBER login, sp_addsrvrolemember.
    pub fn change_server_role(
        &mut self,
        line: u32,
        role: &str,
        member: &str,
        add: bool,
    ) -> Result<(), SqlMessage> {
        let Some((role, _)) = fixed_server_role(role) else {
            return Err(SqlMessage::new(
                15151,
                16,
                1,
                line,
                format!(
                    "Cannot alter the server role '{role}', because it does not exist or you do not have permission."
                ),
            ));
        };
        let Some(login) = self
            .logins
            .iter_mut()
            .find(|l| l.name.eq_ignore_ascii_case(member))
        else {
            return Err(SqlMessage::new(
                15151,
                16,
                1,
                line,
                format!(
                    "Cannot add the principal '{member}', because it does not exist or you do not have permission."
                ),
            ));
        };
        login.server_roles.retain(|r| !r.eq_ignore_ascii_case(role));
        if add {
            login.server_roles.push(role.to_owned());
        }
        Ok(())
    }
}

/// Whether a login holds a fixed server role (sysadmin holds them all).
#[must_use]
pub fn has_server_role(login: &LoginInfo, role: &str) -> bool {
    login.is_sysadmin() || login.is_in_server_role(role)
}

/// Whether the login's user in `db` is in the database role (db_owner implies every role).
#[must_use]
pub fn has_database_role(login: &LoginInfo, db: &DatabaseInfo, role: &str) -> bool {
    if login.is_sysadmin() || db.owner_login.eq_ignore_ascii_case(&login.name) {
        return true;
    }
    let principals = &db.principals;
    let Some(user) = principals.user_for_sid(&login.sid) else {
        return false;
    };
    [role, "db_owner"].iter().any(|r| {
        principals
            .find(r)
            .is_some_and(|role| principals.is_member(user.principal_id, role.principal_id))
    })
}

/// Whether the login may use the database: sysadmin, its owner, a mapped user, or a
/// database where guest may connect (master, tempdb, msdb).
#[must_use]
pub fn has_database_access(login: &LoginInfo, db: &DatabaseInfo) -> bool {
    login.is_sysadmin()
        || db.owner_login.eq_ignore_ascii_case(&login.name)
        || ["master", "tempdb", "msdb"]
            .iter()
            .any(|n| n.eq_ignore_ascii_case(&db.name))
        || db.principals.user_for_sid(&login.sid).is_some()
}

/// 916: the login has no user in the database.
#[must_use]
pub fn cannot_access_database(line: u32, login: &str, database: &str) -> SqlMessage {
    SqlMessage::new(
        916,
        14,
        2,
        line,
        format!(
            "The server principal \"{login}\" is not able to access the database \"{database}\" under the current security context."
        ),
    )
}

/// 262: `BACKUP DATABASE permission denied in database 'x'.` and its kin.
#[must_use]
pub fn permission_denied(line: u32, permission: &str, database: &str) -> SqlMessage {
    SqlMessage::new(
        262,
        14,
        1,
        line,
        format!("{permission} permission denied in database '{database}'."),
    )
}

/// 3110: RESTORE without the right to create or own the database.
#[must_use]
pub fn restore_denied(line: u32, database: &str) -> SqlMessage {
    SqlMessage::new(
        3110,
        14,
        1,
        line,
        format!("User does not have permission to RESTORE database '{database}'."),
    )
}

/// 15247: a server-level action the login may not take.
#[must_use]
pub fn action_denied(line: u32) -> SqlMessage {
    SqlMessage::new(
        15247,
        16,
        1,
        line,
        "User does not have permission to perform this action.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime {
        DateTime {
            days: 739_000,
            ticks: 0,
        }
    }

    #[test]
    fn passwords_are_checked_and_never_stored_in_clear() {
        let mut s = Security::new(Some("Secret-1"), now());
        s.create_login(1, "backup_agent", Some("pw1"), None, now())
            .unwrap();
        assert!(s.authenticate("sa", "Secret-1").is_some());
        assert!(s.authenticate("SA", "wrong").is_none());
        assert!(s.authenticate("backup_agent", "pw1").is_some());
        assert!(s.authenticate("backup_agent", "PW1").is_none());
        assert!(s.authenticate("nobody", "pw1").is_none());
        let json = serde_json::to_string(&s).unwrap();
        assert!(!json.contains("Secret-1") && !json.contains("pw1"));
        assert_eq!(
            s.create_login(3, "Backup_Agent", Some("x"), None, now())
                .unwrap_err()
                .number,
            15025
        );
    }

    #[test]
    fn server_roles_and_disabled_logins() {
        let mut s = Security::new(None, now());
        assert!(s.authenticate("sa", "anything").is_some());
        s.create_login(1, "op", Some("p"), None, now()).unwrap();
        assert!(!has_server_role(s.login("op").unwrap(), "dbcreator"));
        s.change_server_role(1, "dbcreator", "op", true).unwrap();
        assert!(has_server_role(s.login("op").unwrap(), "dbcreator"));
        assert_eq!(
            s.change_server_role(1, "nosuchrole", "op", true)
                .unwrap_err()
                .number,
            15151
        );
        s.alter_login(1, "op", None, Some(false)).unwrap();
        assert!(s.authenticate("op", "p").is_none());
        assert_eq!(s.drop_login(1, "sa").unwrap_err().number, 15151);
        s.drop_login(1, "op").unwrap();
        assert!(s.login("op").is_none());
    }
}
