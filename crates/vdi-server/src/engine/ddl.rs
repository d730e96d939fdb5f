//! CREATE/DROP/ALTER DATABASE, logins, users and roles.

use super::sink::OutputSink;
use super::{
    DEFAULT_CREATE_SIZE_MB, Session, catalog_error, datetime_now, is_system_database, security,
};
use crate::db::{CatalogError, RecoveryModel as DbRecoveryModel};
use crate::tsql::ast::{
    AlterDatabaseAction, AlterRoleMembership, CreateDatabaseStatement, DatabaseStateChange,
    FileSize, FileSpec, Statement, StatementKind, UserAccess as AstUserAccess,
};
use crate::tsql::catalog::{
    DatabaseFile, DatabaseInfo, DatabasePrincipals, DatabaseState, FileType, Filegroup,
    FilegroupType, RecoveryModel, UserAccess,
};
use crate::tsql::{SqlMessage, messages};

const PAGE: u64 = 8192;

impl Session {
    /// The statements that change the server's definitions.
    pub(super) fn ddl(&mut self, statement: &Statement, sink: &mut dyn OutputSink) {
        let line = statement.line;
        let result = match &statement.kind {
            StatementKind::CreateDatabase(create) => self.create_database(line, create),
            StatementKind::DropDatabase(drop) => {
                self.drop_databases(line, &drop.names, drop.if_exists, sink);
                Ok(())
            }
            StatementKind::AlterDatabase { database, action } => {
                let name = database.clone().unwrap_or_else(|| self.database.clone());
                self.alter_database(line, &name, action, sink)
            }
            StatementKind::CreateLogin(create) => self.server_admin(line).and_then(|()| {
                let now = datetime_now();
                let result = self.engine.lock_security().create_login(
                    line,
                    &create.name,
                    create.password.as_deref(),
                    create.default_database.as_deref(),
                    now,
                );
                result.and_then(|()| self.save_security(line))
            }),
            StatementKind::DropLogin(name) => self.server_admin(line).and_then(|()| {
                let result = self.engine.lock_security().drop_login(line, name);
                result.and_then(|()| self.save_security(line))
            }),
            StatementKind::AlterLogin {
                name,
                password,
                enable,
            } => self.server_admin(line).and_then(|()| {
                let result = self.engine.lock_security().alter_login(
                    line,
                    name,
                    password.as_deref(),
                    *enable,
                );
                result.and_then(|()| self.save_security(line))
            }),
            StatementKind::AlterRoleMembership(AlterRoleMembership {
                server_role,
                role,
                member,
                add,
            }) => {
                if *server_role {
                    self.server_role(line, role, member, *add, sink);
                } else {
                    self.database_role(line, role, member, *add, sink);
                }
                Ok(())
            }
            StatementKind::CreateUser(create) => {
                let login = create.login.clone().unwrap_or_else(|| create.name.clone());
                self.change_current_database(line, |db| {
                    if db.principals.find(&create.name).is_some() {
                        return Err(SqlMessage::new(
                            15023,
                            16,
                            1,
                            line,
                            format!("User, group, or role '{}' already exists in the current database.", create.name),
                        ));
                    }
                    Ok(login.clone())
                })
                .and_then(|login_name| {
                    let sid = self
                        .engine
                        .lock_security()
                        .login(&login_name)
                        .map(|l| l.sid.clone())
                        .ok_or_else(|| {
                            SqlMessage::new(
                                15007,
                                16,
                                1,
                                line,
                                format!("'{login_name}' is not a valid login or you do not have permission."),
                            )
                        })?;
                    self.change_current_database(line, |db| {
                        db.principals
                            .add_user(&create.name, Some(sid.clone()), datetime_now());
                        Ok(())
                    })
                })
            }
            StatementKind::DropUser(name) => self.change_current_database(line, |db| {
                if remove_user(&mut db.principals, name) {
                    Ok(())
                } else {
                    Err(SqlMessage::new(
                        15151,
                        16,
                        1,
                        line,
                        format!("Cannot drop the user '{name}', because it does not exist or you do not have permission."),
                    ))
                }
            }),
            // GRANT/DENY/REVOKE are accepted; the fixed roles decide what a login may do.
            StatementKind::Permission(_) => Ok(()),
            // Whatever the parser learns before the engine does is refused, never ignored.
            _ => Err(SqlMessage::new(
                59032,
                16,
                1,
                line,
                "vdisim does not emulate this statement.",
            )),
        };
        if let Err(m) = result {
            sink.message(m);
        }
    }

    fn save_security(&self, line: u32) -> Result<(), SqlMessage> {
        self.engine
            .save_security()
            .map_err(|e| messages::catalog_io_failed(line, &e))
    }

    /// sysadmin or securityadmin, for logins.
    fn server_admin(&self, line: u32) -> Result<(), SqlMessage> {
        let security = self.engine.lock_security();
        match security.login(&self.user) {
            Some(l) if security::has_server_role(l, "securityadmin") => Ok(()),
            _ => Err(security::action_denied(line)),
        }
    }

    pub(super) fn server_role(
        &mut self,
        line: u32,
        role: &str,
        member: &str,
        add: bool,
        sink: &mut dyn OutputSink,
    ) {
        let result = self.server_admin(line).and_then(|()| {
            let r = self
                .engine
                .lock_security()
                .change_server_role(line, role, member, add);
            r.and_then(|()| self.save_security(line))
        });
        if let Err(m) = result {
            sink.message(m);
        }
    }

    pub(super) fn database_role(
        &mut self,
        line: u32,
        role: &str,
        member: &str,
        add: bool,
        sink: &mut dyn OutputSink,
    ) {
        let result = self.change_current_database(line, |db| {
            let ok = if add {
                db.principals.add_role_member(role, member)
            } else {
                drop_role_member(&mut db.principals, role, member)
            };
            if ok {
                Ok(())
            } else {
                Err(SqlMessage::new(
                    15151,
                    16,
                    1,
                    line,
                    format!("Cannot alter the role '{role}', because it does not exist or you do not have permission."),
                ))
            }
        });
        if let Err(m) = result {
            sink.message(m);
        }
    }

    /// Changes the current database's metadata (a system database's, or a user database's,
    /// which is then saved).
    fn change_current_database<R>(
        &self,
        line: u32,
        change: impl FnOnce(&mut DatabaseInfo) -> Result<R, SqlMessage>,
    ) -> Result<R, SqlMessage> {
        self.change_database(line, &self.database, change)
    }

    fn change_database<R>(
        &self,
        line: u32,
        name: &str,
        change: impl FnOnce(&mut DatabaseInfo) -> Result<R, SqlMessage>,
    ) -> Result<R, SqlMessage> {
        if is_system_database(name) {
            let mut system = self.engine.lock_system_databases();
            let db = system
                .iter_mut()
                .find(|d| d.name.eq_ignore_ascii_case(name))
                .ok_or_else(|| messages::database_does_not_exist(line, name))?;
            return change(db);
        }
        let mut catalog = self.engine.lock_catalog();
        let db = catalog
            .get_mut(name)
            .ok_or_else(|| messages::database_does_not_exist(line, name))?;
        let result = change(db.sql_info_mut())?;
        let canonical = db.name().to_owned();
        catalog
            .save(&canonical)
            .map_err(|e| catalog_error(line, &e))?;
        Ok(result)
    }

    fn create_database(
        &mut self,
        line: u32,
        create: &CreateDatabaseStatement,
    ) -> Result<(), SqlMessage> {
        {
            let security = self.engine.lock_security();
            let allowed = security
                .login(&self.user)
                .is_some_and(|l| security::has_server_role(l, "dbcreator"));
            if !allowed {
                return Err(security::permission_denied(
                    line,
                    "CREATE DATABASE",
                    "master",
                ));
            }
        }
        if is_system_database(&create.name) {
            return Err(messages::database_already_exists(line, &create.name));
        }
        if create.for_attach {
            return Err(SqlMessage::new(
                59031,
                16,
                1,
                line,
                "vdisim does not emulate CREATE DATABASE … FOR ATTACH: there are no database files to attach. Restore a backup instead.",
            ));
        }
        let layout = FileLayout::from_statement(create);
        let size_bytes = match create.size_mb {
            Some(mb) => mb.saturating_mul(1 << 20),
            None if layout.data_bytes > 0 => layout.data_bytes,
            None => DEFAULT_CREATE_SIZE_MB << 20,
        };
        let recovery = match create.recovery {
            Some(crate::tsql::RecoveryModel::Simple) => DbRecoveryModel::Simple,
            _ => DbRecoveryModel::Full,
        };
        let containers = u16::try_from(create.filestream_containers.unwrap_or(0)).unwrap_or(0);
        let mut catalog = self.engine.lock_catalog();
        let id = catalog.next_database_id();
        let name = create.name.clone();
        let db = catalog
            .create(&name, size_bytes, recovery, containers)
            .map_err(|e| catalog_error(line, &e))?;
        let mut info = DatabaseInfo::new(id, &name, datetime_now());
        if create.recovery == Some(crate::tsql::RecoveryModel::BulkLogged) {
            info.recovery_model = RecoveryModel::BulkLogged;
        }
        if let Some(c) = &create.collation {
            info.collation.clone_from(c);
        }
        info.owner_login.clone_from(&self.user);
        layout.apply(&mut info, size_bytes);
        db.set_sql_info(info);
        catalog.save(&name).map_err(|e| catalog_error(line, &e))
    }

    fn drop_databases(
        &mut self,
        line: u32,
        names: &[String],
        if_exists: bool,
        sink: &mut dyn OutputSink,
    ) {
        for name in names {
            if is_system_database(name) {
                sink.message(messages::cannot_drop_system(line, name));
                continue;
            }
            if self.engine.sessions_using(name, None) > 0 || self.engine.has_operation(name) {
                sink.message(messages::cannot_drop_in_use(line, name));
                continue;
            }
            let dropped = self.engine.lock_catalog().drop_database(name);
            match dropped {
                Ok(_) => {}
                Err(CatalogError::NotFound { .. }) if if_exists => {}
                Err(CatalogError::NotFound { .. }) => {
                    sink.message(messages::cannot_drop_database(line, name));
                }
                Err(e) => sink.message(catalog_error(line, &e)),
            }
        }
    }

    fn alter_database(
        &mut self,
        line: u32,
        name: &str,
        action: &AlterDatabaseAction,
        sink: &mut dyn OutputSink,
    ) -> Result<(), SqlMessage> {
        if self.engine.database_info(name).is_none() {
            sink.message(messages::cannot_alter_database(line, name));
            return Err(messages::alter_database_failed(line));
        }
        match action {
            AlterDatabaseAction::Recovery(model) => {
                if is_system_database(name) {
                    return self.change_database(line, name, |db| {
                        db.recovery_model = (*model).into();
                        Ok(())
                    });
                }
                let mut catalog = self.engine.lock_catalog();
                let db = catalog
                    .get_mut(name)
                    .ok_or_else(|| messages::database_does_not_exist(line, name))?;
                db.set_recovery(match model {
                    crate::tsql::RecoveryModel::Simple => DbRecoveryModel::Simple,
                    _ => DbRecoveryModel::Full,
                });
                db.sql_info_mut().recovery_model = (*model).into();
                let canonical = db.name().to_owned();
                catalog.save(&canonical).map_err(|e| catalog_error(line, &e))
            }
            AlterDatabaseAction::UserAccess { access, termination } => {
                let others = self.engine.sessions_using(name, Some(self.id));
                if *access == AstUserAccess::SingleUser && others > 0 && termination.is_none() {
                    // Without ROLLBACK, SQL Server waits for the others; vdisim refuses at once.
                    return Err(exclusive_access(line, name));
                }
                self.change_database(line, name, |db| {
                    db.user_access = match access {
                        AstUserAccess::SingleUser => UserAccess::SingleUser,
                        AstUserAccess::RestrictedUser => UserAccess::RestrictedUser,
                        AstUserAccess::MultiUser => UserAccess::MultiUser,
                    };
                    Ok(())
                })
            }
            AlterDatabaseAction::State { state, .. } => self.change_database(line, name, |db| {
                db.state = match state {
                    DatabaseStateChange::Online => DatabaseState::Online,
                    DatabaseStateChange::Offline => DatabaseState::Offline,
                    DatabaseStateChange::Emergency => DatabaseState::Emergency,
                };
                Ok(())
            }),
            AlterDatabaseAction::ReadOnly { read_only, .. } => {
                self.change_database(line, name, |db| {
                    db.is_read_only = *read_only;
                    Ok(())
                })
            }
            AlterDatabaseAction::SetOther { option, value } => {
                self.change_database(line, name, |db| {
                    if option == "COMPATIBILITY_LEVEL"
                        && let Ok(level) = value.trim().parse::<u8>()
                    {
                        db.compatibility_level = level;
                    }
                    if option == "AUTO_CLOSE" {
                        db.is_auto_close_on = value.eq_ignore_ascii_case("ON");
                    }
                    Ok(())
                })
            }
            AlterDatabaseAction::ModifyFile(spec) => self.change_database(line, name, |db| {
                let database = db.name.clone();
                let file = db
                    .files
                    .iter_mut()
                    .find(|f| f.name.eq_ignore_ascii_case(&spec.logical_name))
                    .ok_or_else(|| unknown_file(line, &spec.logical_name, &database))?;
                if let Some(p) = &spec.physical_name {
                    file.physical_name.clone_from(p);
                }
                if let Some(n) = &spec.new_name {
                    file.name.clone_from(n);
                }
                if let Some(FileSize::Bytes(b)) = spec.size {
                    file.size_pages = pages(b);
                }
                set_growth(file, spec);
                Ok(())
            }),
            AlterDatabaseAction::AddFiles { files, filegroup } => {
                self.change_database(line, name, |db| {
                    let group = match filegroup {
                        Some(g) => db
                            .filegroup_by_name(g)
                            .map(|g| g.data_space_id)
                            .ok_or_else(|| unknown_filegroup(line, g))?,
                        None => db
                            .filegroups
                            .iter()
                            .find(|g| g.is_default)
                            .map_or(1, |g| g.data_space_id),
                    };
                    add_files(db, files, FileType::Rows, group, line)
                })
            }
            AlterDatabaseAction::AddLogFiles(files) => self.change_database(line, name, |db| {
                add_files(db, files, FileType::Log, 0, line)
            }),
            AlterDatabaseAction::AddFilegroup { name: group, filestream } => {
                self.change_database(line, name, |db| {
                    if db.filegroup_by_name(group).is_some() {
                        return Err(SqlMessage::new(
                            1828,
                            16,
                            1,
                            line,
                            format!("The logical file name \"{group}\" is already in use. Choose a different name."),
                        ));
                    }
                    let id = db.filegroups.iter().map(|g| g.data_space_id).max().unwrap_or(1) + 1;
                    db.filegroups.push(new_filegroup(id, group, *filestream));
                    Ok(())
                })
            }
            AlterDatabaseAction::RemoveFile(file) => self.change_database(line, name, |db| {
                let database = db.name.clone();
                let before = db.files.len();
                db.files
                    .retain(|f| !(f.name.eq_ignore_ascii_case(file) && f.file_id > 2));
                if db.files.len() == before {
                    return Err(unknown_file(line, file, &database));
                }
                Ok(())
            }),
            AlterDatabaseAction::Rename(_) | AlterDatabaseAction::ModifyFilegroup { .. } => {
                self.change_database(line, name, |_| Ok(()))
            }
        }
    }
}

fn pages(bytes: u64) -> i32 {
    i32::try_from(bytes.div_ceil(PAGE)).unwrap_or(i32::MAX)
}

fn set_growth(file: &mut DatabaseFile, spec: &FileSpec) {
    match spec.growth {
        Some(FileSize::Bytes(b)) => {
            file.growth = pages(b);
            file.is_percent_growth = false;
        }
        Some(FileSize::Percent(p)) => {
            file.growth = i32::try_from(p).unwrap_or(i32::MAX);
            file.is_percent_growth = true;
        }
        _ => {}
    }
    match spec.max_size {
        Some(FileSize::Unlimited) => file.max_size_pages = -1,
        Some(FileSize::Bytes(b)) => file.max_size_pages = pages(b),
        _ => {}
    }
}

fn add_files(
    db: &mut DatabaseInfo,
    specs: &[FileSpec],
    file_type: FileType,
    data_space_id: i32,
    line: u32,
) -> Result<(), SqlMessage> {
    for spec in specs {
        if db.file_by_name(&spec.logical_name).is_some() {
            return Err(SqlMessage::new(
                1828,
                16,
                1,
                line,
                format!(
                    "The logical file name \"{}\" is already in use. Choose a different name.",
                    spec.logical_name
                ),
            ));
        }
        let id = db.files.iter().map(|f| f.file_id).max().unwrap_or(2) + 1;
        let physical = spec
            .physical_name
            .clone()
            .unwrap_or_else(|| format!("/var/opt/mssql/data/{}.ndf", spec.logical_name));
        let size = match spec.size {
            Some(FileSize::Bytes(b)) => b,
            _ => 8 << 20,
        };
        let mut file = DatabaseFile::new(id, file_type, &spec.logical_name, &physical, size);
        file.data_space_id = data_space_id;
        set_growth(&mut file, spec);
        db.files.push(file);
    }
    Ok(())
}

fn unknown_file(line: u32, file: &str, database: &str) -> SqlMessage {
    SqlMessage::new(
        5041,
        16,
        1,
        line,
        format!("MODIFY FILE failed. File '{file}' does not exist in database '{database}'."),
    )
}

fn unknown_filegroup(line: u32, group: &str) -> SqlMessage {
    SqlMessage::new(
        1810,
        16,
        1,
        line,
        format!("The filegroup \"{group}\" does not exist in the database."),
    )
}

fn exclusive_access(line: u32, database: &str) -> SqlMessage {
    SqlMessage::new(
        5064,
        16,
        1,
        line,
        format!(
            "Changes to the state or options of database '{database}' cannot be made at this time. The database is in single-user mode, and a user is currently connected to it."
        ),
    )
}

/// The files and filegroups a CREATE DATABASE names.
struct FileLayout<'a> {
    create: &'a CreateDatabaseStatement,
    data_bytes: u64,
}

impl<'a> FileLayout<'a> {
    fn from_statement(create: &'a CreateDatabaseStatement) -> Self {
        let size = |f: &FileSpec| match f.size {
            Some(FileSize::Bytes(b)) => b,
            _ => 8 << 20,
        };
        let data_bytes = create
            .primary_files
            .iter()
            .chain(create.filegroups.iter().flat_map(|g| &g.files))
            .map(size)
            .sum();
        FileLayout { create, data_bytes }
    }

    /// Replaces the default file list of `info` with the statement's files (keeping the
    /// defaults for what the statement leaves out).
    fn apply(&self, info: &mut DatabaseInfo, total_bytes: u64) {
        let create = self.create;
        let default_data = info.files[0].clone();
        let default_log = info.files[1].clone();
        let mut files = Vec::new();
        let mut next_id = 3;
        let mut push = |files: &mut Vec<DatabaseFile>,
                        spec: &FileSpec,
                        kind: FileType,
                        space: i32,
                        first: bool| {
            let id = if first {
                if kind == FileType::Log { 2 } else { 1 }
            } else {
                let id = next_id;
                next_id += 1;
                id
            };
            let physical = spec.physical_name.clone().unwrap_or_else(|| {
                format!(
                    "/var/opt/mssql/data/{}.{}",
                    spec.logical_name,
                    if kind == FileType::Log { "ldf" } else { "ndf" }
                )
            });
            let size = match spec.size {
                Some(FileSize::Bytes(b)) => b,
                _ => 8 << 20,
            };
            let mut file = DatabaseFile::new(id, kind, &spec.logical_name, &physical, size);
            file.data_space_id = space;
            set_growth(&mut file, spec);
            files.push(file);
        };
        if create.primary_files.is_empty() {
            let mut data = default_data;
            data.size_pages = pages(total_bytes);
            files.push(data);
        }
        for (i, spec) in create.primary_files.iter().enumerate() {
            push(&mut files, spec, FileType::Rows, 1, i == 0);
        }
        let mut filegroups = vec![info.filegroups[0].clone()];
        for (g, group) in create.filegroups.iter().enumerate() {
            let space = i32::try_from(g).unwrap_or(0) + 2;
            let mut fg = new_filegroup(space, &group.name, group.filestream);
            fg.is_default = group.default;
            if group.default {
                filegroups[0].is_default = false;
            }
            filegroups.push(fg);
            for spec in &group.files {
                push(
                    &mut files,
                    spec,
                    if group.filestream {
                        FileType::Filestream
                    } else {
                        FileType::Rows
                    },
                    space,
                    false,
                );
            }
        }
        if create.log_files.is_empty() {
            files.push(default_log);
        }
        for (i, spec) in create.log_files.iter().enumerate() {
            push(&mut files, spec, FileType::Log, 0, i == 0);
        }
        files.sort_by_key(|f| f.file_id);
        info.files = files;
        info.filegroups = filegroups;
    }
}

fn new_filegroup(id: i32, name: &str, filestream: bool) -> Filegroup {
    let mut group = Filegroup::secondary(id, name);
    if filestream {
        group.filegroup_type = FilegroupType::Filestream;
    }
    group
}

/// DROP USER: the user and its role memberships.
fn remove_user(principals: &mut DatabasePrincipals, name: &str) -> bool {
    let Some(id) = principals
        .find(name)
        .filter(|p| p.principal_type.is_user() && p.principal_id > 4)
        .map(|p| p.principal_id)
    else {
        return false;
    };
    principals.principals.retain(|p| p.principal_id != id);
    principals.role_members.retain(|&(_, member)| member != id);
    true
}

fn drop_role_member(principals: &mut DatabasePrincipals, role: &str, member: &str) -> bool {
    let (Some(role), Some(member)) = (
        principals.find(role).map(|p| p.principal_id),
        principals.find(member).map(|p| p.principal_id),
    ) else {
        return false;
    };
    principals
        .role_members
        .retain(|&(r, m)| !(r == role && m == member));
    true
}
