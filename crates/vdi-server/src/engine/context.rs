//! The execution context and other sessions: `EXECUTE AS LOGIN|USER`, `REVERT` and `KILL`.
//!
//! EXECUTE AS changes the login the session's permission checks and `SUSER_SNAME()` use
//! until REVERT. KILL stops another session's running batch between statements, as a
//! cancel from its client would (its BACKUP or RESTORE aborts); the connection itself stays
//! open (decision 79).

use super::security;
use super::session::Session;
use crate::tsql::SqlMessage;
use crate::tsql::catalog::LoginInfo;

/// Msg 15406 or 15517: the principal cannot be impersonated.
fn cannot_impersonate(line: u32, login: bool, name: &str) -> SqlMessage {
    let (number, kind) = if login {
        (15406, "server")
    } else {
        (15517, "database")
    };
    SqlMessage::new(
        number,
        16,
        1,
        line,
        format!(
            "Cannot execute as the {kind} principal because the principal \"{name}\" does not exist, this type of principal cannot be impersonated, or you do not have permission."
        ),
    )
}

impl Session {
    fn current_login(&self) -> Option<LoginInfo> {
        self.engine.lock_security().login(&self.user).cloned()
    }

    /// `EXECUTE AS LOGIN = 'name'` or `EXECUTE AS USER = 'name'`: a sysadmin may become any
    /// login, and any user of the current database (as the login it maps to); anyone may
    /// become itself.
    pub(super) fn execute_as(
        &mut self,
        line: u32,
        login: bool,
        name: &str,
    ) -> Result<(), SqlMessage> {
        let caller = self.current_login();
        let sysadmin = caller.as_ref().is_some_and(LoginInfo::is_sysadmin);
        let target = if login {
            self.engine
                .lock_security()
                .login(name)
                .map(|l| l.name.clone())
        } else {
            self.engine.database_info(&self.database).and_then(|db| {
                let user = db.principals.find(name)?;
                let security = self.engine.lock_security();
                let mapped = user
                    .sid
                    .as_ref()
                    .and_then(|sid| security.logins().iter().find(|l| &l.sid == sid))
                    .map(|l| l.name.clone());
                // A user without a login of its own (dbo of a restored database) runs as the
                // database's owner.
                Some(mapped.unwrap_or_else(|| db.owner_login.clone()))
            })
        };
        let Some(target) = target else {
            return Err(cannot_impersonate(line, login, name));
        };
        if !sysadmin && !target.eq_ignore_ascii_case(&self.user) {
            return Err(cannot_impersonate(line, login, name));
        }
        let previous = std::mem::replace(&mut self.user, target);
        self.impersonation.push(previous);
        Ok(())
    }

    /// `REVERT`: back to the context before the last EXECUTE AS (nothing without one).
    pub(super) fn revert(&mut self) {
        if let Some(previous) = self.impersonation.pop() {
            self.user = previous;
        }
    }

    /// `KILL session_id [WITH STATUSONLY]`.
    pub(super) fn kill(
        &mut self,
        line: u32,
        session_id: i64,
        status_only: bool,
    ) -> Result<(), SqlMessage> {
        let allowed = self
            .current_login()
            .is_some_and(|l| security::has_server_role(&l, "processadmin"));
        if !allowed {
            return Err(SqlMessage::new(
                6102,
                14,
                1,
                line,
                "User does not have permission to use the KILL statement.",
            ));
        }
        if u64::try_from(session_id).is_ok_and(|id| id == self.id) {
            return Err(SqlMessage::new(
                6104,
                16,
                1,
                line,
                "Cannot use KILL to kill your own process.",
            ));
        }
        if (1..=50).contains(&session_id) {
            return Err(SqlMessage::new(
                6107,
                14,
                1,
                line,
                "Only user processes can be killed.",
            ));
        }
        let target = u64::try_from(session_id).ok();
        if !target.is_some_and(|id| self.engine.kill_session(id, status_only)) {
            return Err(SqlMessage::new(
                6106,
                16,
                2,
                line,
                format!("Process ID {session_id} is not an active process ID."),
            ));
        }
        if status_only {
            return Err(SqlMessage::new(
                6120,
                16,
                1,
                line,
                format!(
                    "Status report cannot be obtained. Rollback operation for Process ID {session_id} is not in progress."
                ),
            ));
        }
        Ok(())
    }
}
