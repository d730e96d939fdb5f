//! The server-wide part of the snapshot: [`ServerInfo`], `sys.configurations`, and
//! [`ServerSnapshot`], which gathers everything the views, functions and procedures read.

use serde::{Deserialize, Serialize};

use super::civil;
use super::model::{
    DEFAULT_COLLATION, DatabaseFile, DatabaseInfo, FileType, Filegroup, LogReuseWait, RecoveryModel,
};
use super::principals::LoginInfo;
use super::sessions::{RequestInfo, RequestStatus, SessionInfo, SessionStatus};
use crate::msdb::{BackupRecord, BackupType, Msdb};
use crate::value::DateTime;

/// SQL Server 2022 RTM's build.
pub const PRODUCT_VERSION: &str = "16.0.1000.6";

/// The instance: what SERVERPROPERTY, @@VERSION and friends report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerInfo {
    /// The host name (`MachineName`, `ComputerNamePhysicalNetBIOS`).
    pub machine_name: String,
    /// `None` for the default instance.
    pub instance_name: Option<String>,
    /// `MSSQLSERVER` for the default instance, else the instance name.
    pub service_name: String,
    /// `major.minor.build.revision`.
    pub product_version: String,
    /// `RTM`, `SP1`, …
    pub product_level: String,
    /// `CU12` and the like; `None` at RTM.
    pub product_update_level: Option<String>,
    pub edition: String,
    /// 3 = Enterprise-class (Developer, Enterprise, Evaluation).
    pub engine_edition: i32,
    pub edition_id: i64,
    pub collation: String,
    pub start_time: DateTime,
    pub process_id: i32,
    /// `@@VERSION`.
    pub version_text: String,
    pub is_clustered: bool,
    pub is_hadr_enabled: bool,
    pub is_integrated_security_only: bool,
    pub is_single_user: bool,
    pub is_full_text_installed: bool,
    pub max_connections: i32,
    pub default_data_path: String,
    pub default_log_path: String,
    pub default_backup_path: String,
    /// What xp_msver reports as ProcessorCount and PhysicalMemory.
    pub cpu_count: i32,
    pub physical_memory_mb: i64,
}

impl ServerInfo {
    /// SQL Server 2022 RTM Developer Edition on Linux, as vdisim presents itself.
    #[must_use]
    pub fn new(machine_name: &str, instance_name: Option<&str>, start_time: DateTime) -> Self {
        ServerInfo {
            machine_name: machine_name.to_owned(),
            instance_name: instance_name.map(str::to_owned),
            service_name: instance_name.unwrap_or("MSSQLSERVER").to_owned(),
            product_version: PRODUCT_VERSION.to_owned(),
            product_level: "RTM".to_owned(),
            product_update_level: None,
            edition: "Developer Edition (64-bit)".to_owned(),
            engine_edition: 3,
            edition_id: -2_117_995_310,
            collation: DEFAULT_COLLATION.to_owned(),
            start_time,
            process_id: 1,
            version_text: version_text(PRODUCT_VERSION, "Developer Edition (64-bit)"),
            is_clustered: false,
            is_hadr_enabled: false,
            is_integrated_security_only: false,
            is_single_user: false,
            is_full_text_installed: false,
            max_connections: 32_767,
            default_data_path: "/var/opt/mssql/data/".to_owned(),
            default_log_path: "/var/opt/mssql/data/".to_owned(),
            default_backup_path: "/var/opt/mssql/data/".to_owned(),
            cpu_count: 2,
            physical_memory_mb: 8192,
        }
    }

    /// `@@SERVERNAME` and `SERVERPROPERTY('ServerName')`: `machine` or `machine\instance`.
    #[must_use]
    pub fn server_name(&self) -> String {
        match &self.instance_name {
            Some(i) => format!("{}\\{i}", self.machine_name),
            None => self.machine_name.clone(),
        }
    }

    /// The numeric parts of `product_version` (missing parts are 0).
    #[must_use]
    pub fn version_parts(&self) -> [u32; 4] {
        let mut parts = [0u32; 4];
        for (slot, p) in parts.iter_mut().zip(self.product_version.split('.')) {
            *slot = p.parse().unwrap_or(0);
        }
        parts
    }

    /// `@@MICROSOFTVERSION`: major << 24 | minor << 16 | build.
    #[must_use]
    pub fn microsoft_version(&self) -> i32 {
        let [major, minor, build, _] = self.version_parts();
        ((major << 24) | ((minor & 0xff) << 16) | (build & 0xffff)) as i32
    }
}

/// SQL Server's `@@VERSION` text for a build, naming vdisim as the platform.
#[must_use]
pub fn version_text(product_version: &str, edition: &str) -> String {
    format!(
        "Microsoft SQL Server 2022 (RTM) - {product_version} (X64) \n\tOct  8 2022 05:58:25 \n\t\
         Copyright (C) 2022 Microsoft Corporation\n\t{edition} on Linux (vdisim {} emulator) <X64>",
        env!("CARGO_PKG_VERSION")
    )
}

/// One row of `sys.configurations` (sp_configure's options).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigOption {
    pub configuration_id: i32,
    pub name: String,
    pub value: i64,
    pub minimum: i64,
    pub maximum: i64,
    pub value_in_use: i64,
    pub description: String,
    pub is_dynamic: bool,
    pub is_advanced: bool,
}

/// A few of SQL Server 2022's options with their ids and defaults; the ones backup tools
/// read (`backup compression default`, `backup checksum default`) among them.
#[must_use]
pub fn default_configurations() -> Vec<ConfigOption> {
    let opt = |id: i32,
               name: &str,
               min: i64,
               max: i64,
               value: i64,
               description: &str,
               dynamic: bool,
               advanced: bool| ConfigOption {
        configuration_id: id,
        name: name.to_owned(),
        value,
        minimum: min,
        maximum: max,
        value_in_use: value,
        description: description.to_owned(),
        is_dynamic: dynamic,
        is_advanced: advanced,
    };
    vec![
        opt(
            101,
            "recovery interval (min)",
            0,
            32_767,
            0,
            "Maximum recovery interval in minutes",
            true,
            true,
        ),
        opt(
            103,
            "user connections",
            0,
            32_767,
            0,
            "Number of user connections allowed",
            false,
            true,
        ),
        opt(
            518,
            "show advanced options",
            0,
            1,
            0,
            "show advanced options",
            true,
            false,
        ),
        opt(
            1537,
            "media retention",
            0,
            365,
            0,
            "Tape retention period in days",
            true,
            true,
        ),
        opt(
            1538,
            "cost threshold for parallelism",
            0,
            32_767,
            5,
            "cost threshold for parallelism",
            true,
            true,
        ),
        opt(
            1539,
            "max degree of parallelism",
            0,
            32_767,
            0,
            "maximum degree of parallelism",
            true,
            true,
        ),
        opt(
            1543,
            "min server memory (MB)",
            0,
            2_147_483_647,
            0,
            "Minimum size of server memory (MB)",
            true,
            true,
        ),
        opt(
            1544,
            "max server memory (MB)",
            128,
            2_147_483_647,
            2_147_483_647,
            "Maximum size of server memory (MB)",
            true,
            true,
        ),
        opt(
            1562,
            "clr enabled",
            0,
            1,
            0,
            "CLR user code execution enabled in the server",
            true,
            false,
        ),
        opt(
            1568,
            "default trace enabled",
            0,
            1,
            1,
            "Enable or disable the default trace",
            true,
            true,
        ),
        opt(
            1576,
            "remote admin connections",
            0,
            1,
            0,
            "Dedicated Admin Connections are allowed from remote clients",
            true,
            false,
        ),
        opt(
            1579,
            "backup compression default",
            0,
            1,
            0,
            "Enable compression of backups by default",
            true,
            false,
        ),
        opt(
            1580,
            "filestream access level",
            0,
            2,
            0,
            "Sets the FILESTREAM access level",
            true,
            false,
        ),
        opt(
            1584,
            "backup checksum default",
            0,
            1,
            0,
            "Enable checksum of backups by default",
            true,
            false,
        ),
        opt(
            16384,
            "Agent XPs",
            0,
            1,
            0,
            "Enable or disable Agent XPs",
            true,
            true,
        ),
        opt(
            16386,
            "Database Mail XPs",
            0,
            1,
            0,
            "Enable or disable Database Mail XPs",
            true,
            true,
        ),
        opt(
            16390,
            "xp_cmdshell",
            0,
            1,
            0,
            "Enable or disable command shell",
            true,
            true,
        ),
        opt(
            16393,
            "contained database authentication",
            0,
            1,
            0,
            "Enables contained databases and contained authentication",
            true,
            false,
        ),
    ]
}

/// Everything the catalog reads, filled by the server from its live state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerSnapshot {
    pub server: ServerInfo,
    /// In `database_id` order, system databases included.
    pub databases: Vec<DatabaseInfo>,
    pub logins: Vec<LoginInfo>,
    pub sessions: Vec<SessionInfo>,
    pub requests: Vec<RequestInfo>,
    pub configurations: Vec<ConfigOption>,
    pub msdb: Msdb,
}

impl ServerSnapshot {
    /// A fresh instance: the four system databases created at `server.start_time`, `sa`, the
    /// default configuration, no sessions and empty msdb history.
    #[must_use]
    pub fn new(server: ServerInfo) -> Self {
        let created = server.start_time;
        let databases = ["master", "tempdb", "model", "msdb"]
            .iter()
            .filter_map(|n| DatabaseInfo::system(n, created))
            .collect();
        ServerSnapshot {
            server,
            databases,
            logins: vec![LoginInfo::sa(created)],
            sessions: Vec::new(),
            requests: Vec::new(),
            configurations: default_configurations(),
            msdb: Msdb::default(),
        }
    }

    /// The database with this name (case-insensitive).
    #[must_use]
    pub fn database(&self, name: &str) -> Option<&DatabaseInfo> {
        self.databases
            .iter()
            .find(|d| d.name.eq_ignore_ascii_case(name))
    }

    /// The databases in `database_id` order, as the catalog views list them.
    #[must_use]
    pub fn databases_by_id(&self) -> Vec<&DatabaseInfo> {
        let mut dbs: Vec<&DatabaseInfo> = self.databases.iter().collect();
        dbs.sort_by_key(|d| d.database_id);
        dbs
    }

    /// A msdb record of a backup of `database` as this snapshot describes it (see
    /// [`BackupRecord::for_database`]), with this server's name and `user` as the one who
    /// ran it; `None` for an unknown database.
    #[must_use]
    pub fn backup_record(
        &self,
        database: &str,
        backup_type: BackupType,
        devices: &[&str],
        start: DateTime,
        finish: DateTime,
        user: &str,
    ) -> Option<BackupRecord> {
        let db = self.database(database)?;
        let mut rec = BackupRecord::for_database(db, backup_type, devices, start, finish);
        rec.server_name = self.server.server_name();
        rec.machine_name.clone_from(&self.server.machine_name);
        user.clone_into(&mut rec.user_name);
        Some(rec)
    }

    #[must_use]
    pub fn database_by_id(&self, id: i32) -> Option<&DatabaseInfo> {
        self.databases.iter().find(|d| d.database_id == id)
    }

    /// The login with this name (case-insensitive).
    #[must_use]
    pub fn login(&self, name: &str) -> Option<&LoginInfo> {
        self.logins
            .iter()
            .find(|l| l.name.eq_ignore_ascii_case(name))
    }

    #[must_use]
    pub fn login_by_sid(&self, sid: &[u8]) -> Option<&LoginInfo> {
        self.logins.iter().find(|l| l.sid == sid)
    }

    #[must_use]
    pub fn session(&self, session_id: i16) -> Option<&SessionInfo> {
        self.sessions.iter().find(|s| s.session_id == session_id)
    }

    /// The SID of a database's owner (0x01, sa's, when the owner login is gone).
    #[must_use]
    pub fn owner_sid(&self, db: &DatabaseInfo) -> Vec<u8> {
        self.login(&db.owner_login)
            .map_or_else(|| vec![1], |l| l.sid.clone())
    }

    /// A configuration option's value in use.
    #[must_use]
    pub fn configuration(&self, name: &str) -> Option<i64> {
        self.configurations
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
            .map(|c| c.value_in_use)
    }

    /// A server for tests: `VDISIM01`, the system databases, `pubs` (FULL, two filegroups,
    /// three data files and a log), `archive` (SIMPLE, read-only), `staging` (RESTORING),
    /// logins `sa` and `backup_op` (a db_backupoperator in pubs), session 51 of sa in `pubs`
    /// and session 52 of backup_op running a BACKUP DATABASE of pubs at 42.5 %. pubs uses
    /// 1,000 data pages (100 changed since its differential base) and 2 MB of log.
    #[must_use]
    pub fn sample() -> Self {
        let start = civil::datetime(2024, 5, 1, 8, 0, 0);
        let mut snap = ServerSnapshot::new(ServerInfo::new("VDISIM01", None, start));
        let created = civil::datetime(2024, 5, 1, 9, 30, 0);

        let mut pubs = DatabaseInfo::new(5, "pubs", created);
        pubs.filegroups.push(Filegroup::secondary(2, "FG_ARCHIVE"));
        let mut data2 = DatabaseFile::new(
            3,
            FileType::Rows,
            "pubs_data2",
            "/var/opt/mssql/data/pubs_data2.ndf",
            4 << 20,
        );
        data2.data_space_id = 1;
        let mut archive_file = DatabaseFile::new(
            4,
            FileType::Rows,
            "pubs_archive",
            "/var/opt/mssql/data/pubs_archive.ndf",
            2 << 20,
        );
        archive_file.data_space_id = 2;
        archive_file.growth = 10;
        archive_file.is_percent_growth = true;
        archive_file.max_size_pages = 12_800;
        pubs.files.push(data2);
        pubs.files.push(archive_file);
        pubs.log_reuse_wait = LogReuseWait::LogBackup;
        pubs.last_log_backup_lsn = Some(37_000_000_012_800_001);
        pubs.space = super::model::SpaceUsage {
            used_data_pages: 1_000,
            modified_data_pages: 100,
            log_used_bytes: 2 << 20,
            end_lsn: Some(37_000_000_012_900_001),
        };

        let mut archive = DatabaseInfo::new(6, "archive", created);
        archive.recovery_model = RecoveryModel::Simple;
        archive.is_read_only = true;

        let mut staging = DatabaseInfo::new(7, "staging", created);
        staging.state = super::model::DatabaseState::Restoring;
        for f in &mut staging.files {
            f.state = super::model::FileState::Restoring;
        }

        let mut op = LoginInfo::sql_login(267, "backup_op", created);
        op.default_database = "pubs".to_owned();
        pubs.principals
            .add_user("backup_op", Some(op.sid.clone()), created);
        pubs.principals
            .add_role_member("db_backupoperator", "backup_op");

        snap.databases.extend([pubs, archive, staging]);
        snap.logins.push(op);

        let mut s51 = SessionInfo::new(51, "sa", "pubs", civil::datetime(2024, 5, 1, 10, 0, 0));
        s51.status = SessionStatus::Running;
        let mut s52 = SessionInfo::new(
            52,
            "backup_op",
            "pubs",
            civil::datetime(2024, 5, 1, 10, 1, 0),
        );
        s52.status = SessionStatus::Running;
        s52.program_name = "VendorBackup".to_owned();
        s52.sql_text = Some("BACKUP DATABASE [pubs] TO VIRTUAL_DEVICE = 'vd'".to_owned());
        let mut backup = RequestInfo::new(
            52,
            "BACKUP DATABASE",
            "pubs",
            civil::datetime(2024, 5, 1, 10, 2, 0),
        );
        backup.status = RequestStatus::Suspended;
        backup.percent_complete = 42.5;
        backup.estimated_completion_time = 81_000;
        backup.wait_type = Some("BACKUPTHREAD".to_owned());
        backup.last_wait_type = "BACKUPTHREAD".to_owned();
        backup.wait_time = 15;
        backup.total_elapsed_time = 60_000;
        let select = RequestInfo::new(51, "SELECT", "pubs", civil::datetime(2024, 5, 1, 10, 3, 0));
        snap.sessions.extend([s51, s52]);
        snap.requests.extend([select, backup]);
        snap
    }
}
