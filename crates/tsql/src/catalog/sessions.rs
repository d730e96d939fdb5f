//! Sessions and the requests they are running (`sys.dm_exec_sessions`,
//! `sys.dm_exec_requests`, `sysprocesses`, sp_who).

use serde::{Deserialize, Serialize};

use crate::value::DateTime;

/// `sys.dm_exec_sessions.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum SessionStatus {
    /// Running one or more requests.
    Running,
    /// Connected, no request.
    #[default]
    Sleeping,
    /// A system session with no work.
    Dormant,
}

impl SessionStatus {
    #[must_use]
    pub fn desc(self) -> &'static str {
        match self {
            SessionStatus::Running => "running",
            SessionStatus::Sleeping => "sleeping",
            SessionStatus::Dormant => "dormant",
        }
    }
}

/// A connection (or a system session).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// `@@SPID`; user sessions start at 51 in SQL Server.
    pub session_id: i16,
    pub login_name: String,
    /// What the client said it is (`HOST_NAME()`).
    pub host_name: String,
    /// `APP_NAME()`.
    pub program_name: String,
    pub host_process_id: Option<i32>,
    /// E.g. `ODBC`, `.Net SqlClient Data Provider`, `vdisim`.
    pub client_interface_name: String,
    /// The current database's name.
    pub database: String,
    pub status: SessionStatus,
    pub login_time: DateTime,
    pub last_request_start_time: DateTime,
    pub last_request_end_time: Option<DateTime>,
    pub is_user_process: bool,
    /// `@@TRANCOUNT` of the session.
    pub open_transaction_count: i32,
    /// The text of the batch it runs or ran last (`sys.dm_exec_sql_text`).
    #[serde(default)]
    pub sql_text: Option<String>,
}

impl SessionInfo {
    /// A sleeping user session that logged in at `login_time`.
    #[must_use]
    pub fn new(session_id: i16, login_name: &str, database: &str, login_time: DateTime) -> Self {
        SessionInfo {
            session_id,
            login_name: login_name.to_owned(),
            host_name: "vdisim-client".to_owned(),
            program_name: "vdisim sqlcmd".to_owned(),
            host_process_id: None,
            client_interface_name: "vdisim".to_owned(),
            database: database.to_owned(),
            status: SessionStatus::Sleeping,
            login_time,
            last_request_start_time: login_time,
            last_request_end_time: Some(login_time),
            is_user_process: true,
            open_transaction_count: 0,
            sql_text: None,
        }
    }
}

/// `sys.dm_exec_requests.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum RequestStatus {
    Background,
    #[default]
    Running,
    Runnable,
    Sleeping,
    Suspended,
}

impl RequestStatus {
    #[must_use]
    pub fn desc(self) -> &'static str {
        match self {
            RequestStatus::Background => "background",
            RequestStatus::Running => "running",
            RequestStatus::Runnable => "runnable",
            RequestStatus::Sleeping => "sleeping",
            RequestStatus::Suspended => "suspended",
        }
    }
}

/// A running request. A BACKUP or RESTORE waiting on its virtual devices is `suspended`
/// with a wait type such as `BACKUPTHREAD` or `BACKUPIO`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestInfo {
    pub session_id: i16,
    pub request_id: i32,
    pub start_time: DateTime,
    pub status: RequestStatus,
    /// As SQL Server names it: `BACKUP DATABASE`, `BACKUP LOG`, `RESTORE DATABASE`,
    /// `RESTORE LOG`, `RESTORE HEADERONLY`, `SELECT`, …
    pub command: String,
    /// The database the request runs in (the backed-up one for BACKUP).
    pub database: String,
    /// 0–100; SQL Server reports it for BACKUP, RESTORE, DBCC and a few more.
    pub percent_complete: f32,
    /// Milliseconds left, as SQL Server estimates it; 0 when unknown.
    pub estimated_completion_time: i64,
    pub wait_type: Option<String>,
    /// Milliseconds in the current wait.
    pub wait_time: i32,
    pub last_wait_type: String,
    pub blocking_session_id: Option<i16>,
    pub cpu_time: i32,
    /// Milliseconds since the request arrived.
    pub total_elapsed_time: i32,
    pub reads: i64,
    pub writes: i64,
    pub logical_reads: i64,
    pub open_transaction_count: i32,
}

impl RequestInfo {
    /// A running request with no wait and no progress yet.
    #[must_use]
    pub fn new(session_id: i16, command: &str, database: &str, start_time: DateTime) -> Self {
        RequestInfo {
            session_id,
            request_id: 0,
            start_time,
            status: RequestStatus::Running,
            command: command.to_owned(),
            database: database.to_owned(),
            percent_complete: 0.0,
            estimated_completion_time: 0,
            wait_type: None,
            wait_time: 0,
            last_wait_type: "MISCELLANEOUS".to_owned(),
            blocking_session_id: None,
            cpu_time: 0,
            total_elapsed_time: 0,
            reads: 0,
            writes: 0,
            logical_reads: 0,
            open_transaction_count: 0,
        }
    }
}
