//! Logins, users, role memberships and GRANT/DENY/REVOKE.

use super::{Parsed, Parser};
use crate::ast::{
    AlterRoleMembership, CreateLogin, CreateUser, Permission, PermissionAction, StatementKind,
};
use crate::lexer::TokenKind;

impl Parser<'_> {
    // ---- execution context and sessions --------------------------------------------------

    /// `EXECUTE AS LOGIN|USER = 'name' [WITH NO REVERT | COOKIE INTO @v]` (EXECUTE is read
    /// next); `EXECUTE AS CALLER|SELF|OWNER` belongs to modules, which vdisim has not.
    pub(super) fn execute_as(&mut self) -> Parsed<StatementKind> {
        self.pos += 2;
        let login = if self.eat_word("LOGIN") {
            true
        } else if self.eat_word("USER") {
            false
        } else {
            return Err(self.unexpected());
        };
        self.expect_symbol('=')?;
        let name = self.string()?;
        if self.eat_word("WITH") && !self.eat_words(&["NO", "REVERT"]) {
            self.expect_word("COOKIE")?;
            self.expect_word("INTO")?;
            self.expr()?;
        }
        Ok(StatementKind::ExecuteAs { login, name })
    }

    /// `KILL session_id [WITH STATUSONLY]`; a unit of work id (a GUID string) is not
    /// emulated.
    pub(super) fn kill(&mut self) -> Parsed<StatementKind> {
        self.advance();
        let Some(token) = self.peek() else {
            return Err(self.unexpected());
        };
        let session_id = match (&token.kind, token.text.parse::<i64>()) {
            (TokenKind::Integer, Ok(n)) => n,
            _ => return Err(self.unexpected()),
        };
        self.advance();
        let status_only = self.eat_word("WITH") && {
            self.expect_word("STATUSONLY")?;
            true
        };
        Ok(StatementKind::Kill {
            session_id,
            status_only,
        })
    }

    // ---- logins, users, roles, permissions -----------------------------------------------

    pub(super) fn create_login(&mut self) -> Parsed<StatementKind> {
        let name = self.name()?;
        let mut login = CreateLogin {
            name,
            password: None,
            default_database: None,
            other_options: Vec::new(),
        };
        if self.eat_word("FROM") {
            // WINDOWS, CERTIFICATE c, ASYMMETRIC KEY k, EXTERNAL PROVIDER.
            let named = self.eat_word("CERTIFICATE") || self.eat_words(&["ASYMMETRIC", "KEY"]);
            if named {
                self.name()?;
            } else if !(self.eat_word("WINDOWS") || self.eat_words(&["EXTERNAL", "PROVIDER"])) {
                return Err(self.unexpected());
            }
            if self.eat_word("WITH") {
                self.login_options(&mut login)?;
            }
        } else {
            self.expect_word("WITH")?;
            if !self.at_word("PASSWORD") {
                return Err(self.unexpected());
            }
            self.login_options(&mut login)?;
        }
        Ok(StatementKind::CreateLogin(login))
    }

    /// `PASSWORD = 'x' [HASHED] [MUST_CHANGE], DEFAULT_DATABASE = db, CHECK_POLICY = OFF, …`
    fn login_options(&mut self, login: &mut CreateLogin) -> Parsed<()> {
        loop {
            let option = self.name()?.to_ascii_uppercase();
            self.expect_symbol('=')?;
            match option.as_str() {
                "PASSWORD" => {
                    let Some(token) = self.advance() else {
                        return Err(self.unexpected());
                    };
                    login.password = Some(token.near_text().to_owned());
                    // `PASSWORD = 'x' [HASHED] [MUST_CHANGE] | [OLD_PASSWORD = 'y'] [UNLOCK]`
                    for flag in ["HASHED", "MUST_CHANGE", "OLD_PASSWORD", "UNLOCK"] {
                        if self.eat_word(flag) {
                            if flag == "OLD_PASSWORD" {
                                self.expect_symbol('=')?;
                                self.string()?;
                            } else {
                                login.other_options.push(flag.to_owned());
                            }
                        }
                    }
                }
                "DEFAULT_DATABASE" => login.default_database = Some(self.name()?),
                _ => {
                    let Some(token) = self.advance() else {
                        return Err(self.unexpected());
                    };
                    let value = token.near_text().to_ascii_uppercase();
                    login.other_options.push(format!("{option}={value}"));
                }
            }
            if !self.eat_symbol(',') {
                return Ok(());
            }
        }
    }

    pub(super) fn alter_login(&mut self) -> Parsed<StatementKind> {
        let name = self.name()?;
        let mut password = None;
        let mut enable = None;
        if self.eat_word("ENABLE") {
            enable = Some(true);
        } else if self.eat_word("DISABLE") {
            enable = Some(false);
        } else {
            self.expect_word("WITH")?;
            let mut login = CreateLogin {
                name: String::new(),
                password: None,
                default_database: None,
                other_options: Vec::new(),
            };
            self.login_options(&mut login)?;
            password = login.password;
        }
        Ok(StatementKind::AlterLogin {
            name,
            password,
            enable,
        })
    }

    pub(super) fn create_user(&mut self) -> Parsed<StatementKind> {
        let name = self.name()?;
        let mut login = None;
        if self.eat_word("FOR") || self.eat_word("FROM") {
            self.expect_word("LOGIN")?;
            login = Some(self.name()?);
        } else {
            self.eat_words(&["WITHOUT", "LOGIN"]);
        }
        if self.eat_word("WITH") {
            self.skip_option_list()?;
        }
        Ok(StatementKind::CreateUser(CreateUser { name, login }))
    }

    /// `role ADD|DROP MEMBER principal` after ALTER [SERVER] ROLE.
    pub(super) fn role_membership(&mut self, server_role: bool) -> Parsed<StatementKind> {
        let role = self.name()?;
        let add = if self.eat_word("ADD") {
            true
        } else if self.eat_word("DROP") {
            false
        } else {
            return Err(self.unexpected());
        };
        self.expect_word("MEMBER")?;
        let member = self.name()?;
        Ok(StatementKind::AlterRoleMembership(AlterRoleMembership {
            server_role,
            role,
            member,
            add,
        }))
    }

    /// `GRANT|DENY|REVOKE perm [, …] [ON [class::]securable] TO|FROM principal [, …] …`
    pub(super) fn permission(&mut self) -> Parsed<StatementKind> {
        let action = if self.eat_word("GRANT") {
            PermissionAction::Grant
        } else if self.eat_word("DENY") {
            PermissionAction::Deny
        } else {
            self.expect_word("REVOKE")?;
            self.eat_words(&["GRANT", "OPTION", "FOR"]);
            PermissionAction::Revoke
        };
        let mut permissions = Vec::new();
        loop {
            let mut words = Vec::new();
            while let Some(t) = self.peek().filter(|t| t.kind == TokenKind::Word) {
                if ["ON", "TO", "FROM"].iter().any(|w| t.is_word(w)) {
                    break;
                }
                words.push(t.text.to_ascii_uppercase());
                self.pos += 1;
            }
            if words.is_empty() {
                return Err(self.unexpected());
            }
            permissions.push(words.join(" "));
            if !self.eat_symbol(',') {
                break;
            }
        }
        let on = if self.eat_word("ON") {
            let class = if self.peek_at(1).is_some_and(|t| t.is_operator("::")) {
                let class = self.advance().map(|t| t.text.to_ascii_uppercase());
                self.pos += 1;
                class
            } else {
                None
            };
            let securable = self.object_name()?.display();
            Some(match class {
                Some(class) => format!("{class}::{securable}"),
                None => securable,
            })
        } else {
            None
        };
        if !(self.eat_word("TO") || (action == PermissionAction::Revoke && self.eat_word("FROM"))) {
            return Err(self.unexpected());
        }
        let mut principals = vec![self.principal()?];
        while self.eat_symbol(',') {
            principals.push(self.principal()?);
        }
        self.eat_words(&["WITH", "GRANT", "OPTION"]);
        self.eat_word("CASCADE");
        if self.eat_word("AS") {
            self.name()?;
        }
        Ok(StatementKind::Permission(Permission {
            action,
            permissions,
            on,
            principals,
        }))
    }

    /// A principal's name; the reserved word PUBLIC names the public role.
    fn principal(&mut self) -> Parsed<String> {
        if self.eat_word("PUBLIC") {
            return Ok("public".to_owned());
        }
        self.name()
    }
}
