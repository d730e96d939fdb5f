//! The snapshot the server fills from its live state: the server, its databases with their
//! files and filegroups. Principals and sessions are in [`super::principals`] and
//! [`super::sessions`].
//!
//! Every code and description here is SQL Server's (`sys.databases`, `sys.master_files`,
//! `sys.filegroups`), so the views only copy them out.

use serde::{Deserialize, Serialize};

use super::principals::DatabasePrincipals;
use crate::value::DateTime;

/// A log sequence number as the catalog shows it (`numeric(25,0)`): wide enough for SQL
/// Server's `VLF × 10^15 + block × 10^5 + slot` form.
pub type Lsn = u128;

/// A `uniqueidentifier` as [`crate::value::Value::Guid`] holds it.
pub type Guid = [u8; 16];

/// `sys.databases.state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum DatabaseState {
    #[default]
    Online,
    Restoring,
    Recovering,
    RecoveryPending,
    Suspect,
    Emergency,
    Offline,
}

impl DatabaseState {
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            DatabaseState::Online => 0,
            DatabaseState::Restoring => 1,
            DatabaseState::Recovering => 2,
            DatabaseState::RecoveryPending => 3,
            DatabaseState::Suspect => 4,
            DatabaseState::Emergency => 5,
            DatabaseState::Offline => 6,
        }
    }

    /// `state_desc`, also DATABASEPROPERTYEX(…, 'Status').
    #[must_use]
    pub fn desc(self) -> &'static str {
        match self {
            DatabaseState::Online => "ONLINE",
            DatabaseState::Restoring => "RESTORING",
            DatabaseState::Recovering => "RECOVERING",
            DatabaseState::RecoveryPending => "RECOVERY_PENDING",
            DatabaseState::Suspect => "SUSPECT",
            DatabaseState::Emergency => "EMERGENCY",
            DatabaseState::Offline => "OFFLINE",
        }
    }
}

/// `sys.databases.recovery_model`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum RecoveryModel {
    #[default]
    Full,
    BulkLogged,
    Simple,
}

impl RecoveryModel {
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            RecoveryModel::Full => 1,
            RecoveryModel::BulkLogged => 2,
            RecoveryModel::Simple => 3,
        }
    }

    /// `recovery_model_desc`, also DATABASEPROPERTYEX(…, 'Recovery').
    #[must_use]
    pub fn desc(self) -> &'static str {
        match self {
            RecoveryModel::Full => "FULL",
            RecoveryModel::BulkLogged => "BULK_LOGGED",
            RecoveryModel::Simple => "SIMPLE",
        }
    }

    /// As msdb's `backupset.recovery_model` spells it (with a hyphen for bulk-logged).
    #[must_use]
    pub fn backupset_desc(self) -> &'static str {
        match self {
            RecoveryModel::BulkLogged => "BULK-LOGGED",
            other => other.desc(),
        }
    }
}

impl From<crate::ast::RecoveryModel> for RecoveryModel {
    fn from(m: crate::ast::RecoveryModel) -> Self {
        match m {
            crate::ast::RecoveryModel::Full => RecoveryModel::Full,
            crate::ast::RecoveryModel::BulkLogged => RecoveryModel::BulkLogged,
            crate::ast::RecoveryModel::Simple => RecoveryModel::Simple,
        }
    }
}

/// `sys.databases.user_access`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum UserAccess {
    #[default]
    MultiUser,
    SingleUser,
    RestrictedUser,
}

impl UserAccess {
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            UserAccess::MultiUser => 0,
            UserAccess::SingleUser => 1,
            UserAccess::RestrictedUser => 2,
        }
    }

    #[must_use]
    pub fn desc(self) -> &'static str {
        match self {
            UserAccess::MultiUser => "MULTI_USER",
            UserAccess::SingleUser => "SINGLE_USER",
            UserAccess::RestrictedUser => "RESTRICTED_USER",
        }
    }
}

/// `sys.databases.log_reuse_wait`: what the log is waiting on before it can be reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum LogReuseWait {
    #[default]
    Nothing,
    Checkpoint,
    LogBackup,
    ActiveBackupOrRestore,
    ActiveTransaction,
}

impl LogReuseWait {
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            LogReuseWait::Nothing => 0,
            LogReuseWait::Checkpoint => 1,
            LogReuseWait::LogBackup => 2,
            LogReuseWait::ActiveBackupOrRestore => 3,
            LogReuseWait::ActiveTransaction => 4,
        }
    }

    #[must_use]
    pub fn desc(self) -> &'static str {
        match self {
            LogReuseWait::Nothing => "NOTHING",
            LogReuseWait::Checkpoint => "CHECKPOINT",
            LogReuseWait::LogBackup => "LOG_BACKUP",
            LogReuseWait::ActiveBackupOrRestore => "ACTIVE_BACKUP_OR_RESTORE",
            LogReuseWait::ActiveTransaction => "ACTIVE_TRANSACTION",
        }
    }
}

/// `sys.master_files.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum FileType {
    #[default]
    Rows,
    Log,
    Filestream,
}

impl FileType {
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            FileType::Rows => 0,
            FileType::Log => 1,
            FileType::Filestream => 2,
        }
    }

    #[must_use]
    pub fn desc(self) -> &'static str {
        match self {
            FileType::Rows => "ROWS",
            FileType::Log => "LOG",
            FileType::Filestream => "FILESTREAM",
        }
    }

    /// The letter msdb's `backupfile.file_type` and RESTORE FILELISTONLY's `Type` use.
    #[must_use]
    pub fn backup_letter(self) -> char {
        match self {
            FileType::Rows => 'D',
            FileType::Log => 'L',
            FileType::Filestream => 'S',
        }
    }
}

/// `sys.master_files.state` (5 is unused, so the codes match the database states).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum FileState {
    #[default]
    Online,
    Restoring,
    Recovering,
    RecoveryPending,
    Suspect,
    Offline,
    Defunct,
}

impl FileState {
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            FileState::Online => 0,
            FileState::Restoring => 1,
            FileState::Recovering => 2,
            FileState::RecoveryPending => 3,
            FileState::Suspect => 4,
            FileState::Offline => 6,
            FileState::Defunct => 7,
        }
    }

    #[must_use]
    pub fn desc(self) -> &'static str {
        match self {
            FileState::Online => "ONLINE",
            FileState::Restoring => "RESTORING",
            FileState::Recovering => "RECOVERING",
            FileState::RecoveryPending => "RECOVERY_PENDING",
            FileState::Suspect => "SUSPECT",
            FileState::Offline => "OFFLINE",
            FileState::Defunct => "DEFUNCT",
        }
    }
}

/// One file of a database (`sys.master_files`, `sys.database_files`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseFile {
    /// 1 is the primary data file, 2 the first log file.
    pub file_id: i32,
    pub file_guid: Guid,
    pub file_type: FileType,
    /// The filegroup's `data_space_id`; 0 for log files.
    pub data_space_id: i32,
    /// The logical name.
    pub name: String,
    pub physical_name: String,
    pub state: FileState,
    /// In 8 KB pages.
    pub size_pages: i32,
    /// In 8 KB pages; -1 for unlimited, 0 for no growth.
    pub max_size_pages: i32,
    /// Pages, or a percentage when `is_percent_growth`.
    pub growth: i32,
    pub is_percent_growth: bool,
    pub is_read_only: bool,
    pub create_lsn: Option<Lsn>,
    pub differential_base_lsn: Option<Lsn>,
    pub differential_base_guid: Option<Guid>,
    pub differential_base_time: Option<DateTime>,
    /// Of the last data or differential backup that included the file.
    pub backup_lsn: Option<Lsn>,
}

impl DatabaseFile {
    /// An online file with SQL Server's default growth (64 MB, unlimited for data; 64 MB,
    /// 2 TB for logs), sized in bytes (rounded up to whole 8 KB pages).
    #[must_use]
    pub fn new(
        file_id: i32,
        file_type: FileType,
        name: &str,
        physical_name: &str,
        bytes: u64,
    ) -> Self {
        let pages = i32::try_from(bytes.div_ceil(8192)).unwrap_or(i32::MAX);
        DatabaseFile {
            file_id,
            file_guid: derived_guid(name, u64::from(file_id.unsigned_abs())),
            file_type,
            data_space_id: if file_type == FileType::Log { 0 } else { 1 },
            name: name.to_owned(),
            physical_name: physical_name.to_owned(),
            state: FileState::Online,
            size_pages: pages.max(1),
            max_size_pages: if file_type == FileType::Log {
                268_435_456
            } else {
                -1
            },
            growth: 8192,
            is_percent_growth: false,
            is_read_only: false,
            create_lsn: None,
            differential_base_lsn: None,
            differential_base_guid: None,
            differential_base_time: None,
            backup_lsn: None,
        }
    }

    /// The size in bytes.
    #[must_use]
    pub fn size_bytes(&self) -> u64 {
        u64::from(self.size_pages.unsigned_abs()) * 8192
    }
}

/// `sys.filegroups.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum FilegroupType {
    /// `FG`, ROWS_FILEGROUP.
    #[default]
    Rows,
    /// `FD`, FILESTREAM_DATA_FILEGROUP.
    Filestream,
    /// `FX`, MEMORY_OPTIMIZED_DATA_FILEGROUP.
    MemoryOptimized,
}

impl FilegroupType {
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            FilegroupType::Rows => "FG",
            FilegroupType::Filestream => "FD",
            FilegroupType::MemoryOptimized => "FX",
        }
    }

    #[must_use]
    pub fn desc(self) -> &'static str {
        match self {
            FilegroupType::Rows => "ROWS_FILEGROUP",
            FilegroupType::Filestream => "FILESTREAM_DATA_FILEGROUP",
            FilegroupType::MemoryOptimized => "MEMORY_OPTIMIZED_DATA_FILEGROUP",
        }
    }
}

/// A filegroup (`sys.filegroups`); PRIMARY is `data_space_id` 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filegroup {
    pub data_space_id: i32,
    pub name: String,
    pub filegroup_type: FilegroupType,
    pub filegroup_guid: Option<Guid>,
    pub is_default: bool,
    pub is_read_only: bool,
}

impl Filegroup {
    /// The PRIMARY filegroup (SQL Server gives it no GUID).
    #[must_use]
    pub fn primary() -> Self {
        Filegroup {
            data_space_id: 1,
            name: "PRIMARY".to_owned(),
            filegroup_type: FilegroupType::Rows,
            filegroup_guid: None,
            is_default: true,
            is_read_only: false,
        }
    }

    /// A secondary rows filegroup.
    #[must_use]
    pub fn secondary(data_space_id: i32, name: &str) -> Self {
        Filegroup {
            data_space_id,
            name: name.to_owned(),
            filegroup_type: FilegroupType::Rows,
            filegroup_guid: Some(derived_guid(
                name,
                0xF6_0000 + u64::from(data_space_id.unsigned_abs()),
            )),
            is_default: false,
            is_read_only: false,
        }
    }
}

/// A user table, for `sys.tables`, `sys.objects` and `INFORMATION_SCHEMA`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableInfo {
    pub object_id: i32,
    pub schema: String,
    pub name: String,
    pub create_date: DateTime,
    pub columns: Vec<crate::value::Column>,
}

/// One database as the catalog views see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseInfo {
    pub database_id: i32,
    pub name: String,
    pub create_date: DateTime,
    /// 160 for SQL Server 2022.
    pub compatibility_level: u8,
    pub state: DatabaseState,
    pub recovery_model: RecoveryModel,
    pub user_access: UserAccess,
    pub is_read_only: bool,
    pub is_in_standby: bool,
    pub is_auto_close_on: bool,
    pub is_auto_shrink_on: bool,
    pub log_reuse_wait: LogReuseWait,
    pub collation: String,
    /// The owning login's name (its SID comes from the logins; `sa` when it is unknown).
    pub owner_login: String,
    pub database_guid: Guid,
    /// Stays the same across restores, even under another name.
    pub family_guid: Guid,
    pub recovery_fork_guid: Guid,
    pub service_broker_guid: Guid,
    pub is_broker_enabled: bool,
    /// `NULL` until the log chain has a log backup (and always in SIMPLE).
    pub last_log_backup_lsn: Option<Lsn>,
    pub files: Vec<DatabaseFile>,
    pub filegroups: Vec<Filegroup>,
    pub principals: DatabasePrincipals,
    pub tables: Vec<TableInfo>,
    /// What the server measured of its space when the snapshot was taken (not persisted).
    #[serde(skip)]
    pub space: SpaceUsage,
}

/// How much of a database's files is in use, as the server measures it: for the space DMVs
/// (`sys.dm_db_file_space_usage`, `sys.dm_db_log_space_usage`, `sys.dm_db_log_stats`),
/// `sp_spaceused` and `FILEPROPERTY`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpaceUsage {
    /// Data pages that hold something.
    pub used_data_pages: u64,
    /// Data pages changed since the differential base (all of them before a full backup).
    pub modified_data_pages: u64,
    /// Bytes of log in use: the records kept for the next log backup.
    pub log_used_bytes: u64,
    /// The LSN of the last log record.
    pub end_lsn: Option<Lsn>,
}

/// The system databases and their fixed ids.
pub const SYSTEM_DATABASES: [(&str, i32); 4] =
    [("master", 1), ("tempdb", 2), ("model", 3), ("msdb", 4)];

impl DatabaseInfo {
    /// An online FULL-recovery database with a primary data file and a log file in a
    /// `/var/opt/mssql/data` layout, owned by `sa`, and the standard database principals.
    #[must_use]
    pub fn new(database_id: i32, name: &str, create_date: DateTime) -> Self {
        let salt = u64::from(database_id.unsigned_abs());
        let data = DatabaseFile::new(
            1,
            FileType::Rows,
            name,
            &format!("/var/opt/mssql/data/{name}.mdf"),
            8 << 20,
        );
        let log = DatabaseFile::new(
            2,
            FileType::Log,
            &format!("{name}_log"),
            &format!("/var/opt/mssql/data/{name}_log.ldf"),
            8 << 20,
        );
        DatabaseInfo {
            database_id,
            name: name.to_owned(),
            create_date,
            compatibility_level: 160,
            state: DatabaseState::Online,
            recovery_model: RecoveryModel::Full,
            user_access: UserAccess::MultiUser,
            is_read_only: false,
            is_in_standby: false,
            is_auto_close_on: false,
            is_auto_shrink_on: false,
            log_reuse_wait: LogReuseWait::Nothing,
            collation: DEFAULT_COLLATION.to_owned(),
            owner_login: "sa".to_owned(),
            database_guid: derived_guid(name, 0xDB00_0000 + salt),
            family_guid: derived_guid(name, 0xFA00_0000 + salt),
            recovery_fork_guid: derived_guid(name, 0xF0_0000 + salt),
            service_broker_guid: derived_guid(name, 0xB0_0000 + salt),
            is_broker_enabled: false,
            last_log_backup_lsn: None,
            files: vec![data, log],
            filegroups: vec![Filegroup::primary()],
            principals: DatabasePrincipals::standard(create_date),
            tables: Vec::new(),
            space: SpaceUsage::default(),
        }
    }

    /// A system database (master, tempdb, model, msdb) with SQL Server's id, file names and
    /// recovery model (SIMPLE except model's FULL and msdb's SIMPLE).
    #[must_use]
    pub fn system(name: &str, create_date: DateTime) -> Option<Self> {
        let (canonical, id) = SYSTEM_DATABASES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .copied()?;
        let mut db = DatabaseInfo::new(id, canonical, create_date);
        let (data_name, data_file, log_name, log_file) = match canonical {
            "master" => ("master", "master", "mastlog", "mastlog"),
            "tempdb" => ("tempdev", "tempdb", "templog", "templog"),
            "model" => ("modeldev", "model", "modellog", "modellog"),
            _ => ("MSDBData", "MSDBData", "MSDBLog", "MSDBLog"),
        };
        db.files[0].name = data_name.to_owned();
        db.files[0].physical_name = format!("/var/opt/mssql/data/{data_file}.mdf");
        db.files[1].name = log_name.to_owned();
        db.files[1].physical_name = format!("/var/opt/mssql/data/{log_file}.ldf");
        db.recovery_model = if canonical == "model" {
            RecoveryModel::Full
        } else {
            RecoveryModel::Simple
        };
        db.is_broker_enabled = canonical == "msdb";
        // The system databases hold no emulated pages: half the data file and a quarter of
        // the log are shown in use.
        let (data, log) = (db.files[0].size_bytes(), db.files[1].size_bytes());
        db.space = SpaceUsage {
            used_data_pages: data / 8192 / 2,
            modified_data_pages: 0,
            log_used_bytes: log / 4,
            end_lsn: None,
        };
        Some(db)
    }

    /// The file with this logical name (case-insensitive).
    #[must_use]
    pub fn file_by_name(&self, logical: &str) -> Option<&DatabaseFile> {
        self.files
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(logical))
    }

    /// The filegroup with this name (case-insensitive).
    #[must_use]
    pub fn filegroup_by_name(&self, name: &str) -> Option<&Filegroup> {
        self.filegroups
            .iter()
            .find(|g| g.name.eq_ignore_ascii_case(name))
    }

    /// Whether it is one of master, tempdb, model, msdb.
    #[must_use]
    pub fn is_system(&self) -> bool {
        SYSTEM_DATABASES
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(&self.name))
    }
}

/// SQL Server's default server and database collation.
pub const DEFAULT_COLLATION: &str = "SQL_Latin1_General_CP1_CI_AS";

/// A deterministic GUID from a name and a salt (FNV-1a), in RFC 4122 version-4 shape, so a
/// snapshot built twice from the same state shows the same ids.
#[must_use]
pub fn derived_guid(name: &str, salt: u64) -> Guid {
    let mut h1: u64 = 0xcbf2_9ce4_8422_2325 ^ salt;
    let mut h2: u64 = 0x8422_2325_cbf2_9ce4 ^ salt.rotate_left(29);
    for b in name.to_ascii_lowercase().bytes() {
        h1 = (h1 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        h2 = (h2 ^ u64::from(b))
            .wrapping_mul(0x0000_0100_0000_01b3)
            .rotate_left(7);
    }
    let mut g = [0u8; 16];
    g[..8].copy_from_slice(&h1.to_le_bytes());
    g[8..].copy_from_slice(&h2.to_le_bytes());
    // Text order (as Value::Guid holds it): the version nibble leads the third group.
    g[6] = (g[6] & 0x0f) | 0x40;
    g[8] = (g[8] & 0x3f) | 0x80;
    g
}
