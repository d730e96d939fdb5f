//! Sessions and requests (`sys.dm_exec_sessions`, `sys.dm_exec_requests`,
//! `sys.sysprocesses`) and the Always On views, which are empty: vdisim hosts no
//! availability group.

use super::connections;
use crate::catalog::sessions::{RequestInfo, SessionInfo};
use crate::catalog::snapshot::ServerSnapshot;
use crate::catalog::table::*;
use crate::value::{SYSNAME, SqlType, Table, Value};

/// `s` blank-padded (or cut) to `n` characters, as an `nchar(n)`/`char(n)` column holds it.
#[must_use]
pub fn fixed(s: &str, n: usize) -> Value {
    Value::String(format!("{:<n$}", s.chars().take(n).collect::<String>()))
}

/// `b` zero-padded (or cut) to `n` bytes, as a `binary(n)` column holds it.
fn fixed_binary(b: &[u8], n: usize) -> Value {
    let mut v: Vec<u8> = b.iter().copied().take(n).collect();
    v.resize(n, 0);
    Value::Binary(v)
}

fn database_id(snap: &ServerSnapshot, name: &str) -> i64 {
    snap.database(name).map_or(1, |d| i64::from(d.database_id))
}

fn login_sid(snap: &ServerSnapshot, login: &str) -> Vec<u8> {
    snap.login(login).map_or_else(|| vec![1], |l| l.sid.clone())
}

/// The database user id a login runs as in a database (1 = dbo, as for sysadmins).
fn user_id(snap: &ServerSnapshot, login: &str, database: &str) -> i64 {
    let (Some(l), Some(db)) = (snap.login(login), snap.database(database)) else {
        return 1;
    };
    crate::catalog::functions::database_user(l, db).map_or(2, |p| i64::from(p.principal_id))
}

/// `sys.dm_exec_requests`: SQL Server 2022's columns; the session options show ODBC's
/// defaults.
#[must_use]
pub fn dm_exec_requests(snap: &ServerSnapshot) -> Table {
    let mut t = table(&[
        ("session_id", SMALLINT, false),
        ("request_id", INT, false),
        ("start_time", DATETIME, false),
        ("status", nvarchar(30), false),
        ("command", nvarchar(32), false),
        ("sql_handle", SqlType::VarBinary(Some(64)), true),
        ("statement_start_offset", INT, true),
        ("statement_end_offset", INT, true),
        ("plan_handle", SqlType::VarBinary(Some(64)), true),
        ("database_id", SMALLINT, false),
        ("user_id", INT, false),
        ("connection_id", GUID, true),
        ("blocking_session_id", SMALLINT, true),
        ("wait_type", DESC, true),
        ("wait_time", INT, false),
        ("last_wait_type", DESC, false),
        ("wait_resource", nvarchar(256), false),
        ("open_transaction_count", INT, false),
        ("open_resultset_count", INT, false),
        ("transaction_id", BIGINT, false),
        ("context_info", SqlType::VarBinary(Some(128)), true),
        ("percent_complete", SqlType::Real, false),
        ("estimated_completion_time", BIGINT, false),
        ("cpu_time", INT, false),
        ("total_elapsed_time", INT, false),
        ("scheduler_id", INT, true),
        ("task_address", SqlType::VarBinary(Some(8)), true),
        ("reads", BIGINT, false),
        ("writes", BIGINT, false),
        ("logical_reads", BIGINT, false),
        ("text_size", INT, false),
        ("language", nvarchar(128), true),
        ("date_format", nvarchar(3), true),
        ("date_first", SMALLINT, false),
        ("quoted_identifier", BIT, false),
        ("arithabort", BIT, false),
        ("ansi_null_dflt_on", BIT, false),
        ("ansi_defaults", BIT, false),
        ("ansi_warnings", BIT, false),
        ("ansi_padding", BIT, false),
        ("ansi_nulls", BIT, false),
        ("concat_null_yields_null", BIT, false),
        ("transaction_isolation_level", SMALLINT, false),
        ("lock_timeout", INT, false),
        ("deadlock_priority", INT, false),
        ("row_count", BIGINT, false),
        ("prev_error", INT, false),
        ("nest_level", INT, false),
        ("granted_query_memory", INT, false),
        ("executing_managed_code", BIT, false),
        ("group_id", INT, false),
        ("query_hash", SqlType::Binary(8), true),
        ("query_plan_hash", SqlType::Binary(8), true),
        ("statement_sql_handle", SqlType::VarBinary(Some(64)), true),
        ("statement_context_id", BIGINT, true),
        ("dop", INT, false),
        ("parallel_worker_count", INT, true),
        ("external_script_request_id", GUID, true),
        ("is_resumable", BIT, false),
        ("page_resource", SqlType::Binary(8), true),
        ("page_server_reads", BIGINT, false),
    ]);
    for (i, r) in snap.requests.iter().enumerate() {
        let session = snap.session(r.session_id);
        let login = session.map_or("sa", |s| s.login_name.as_str());
        t.push(vec![
            int(r.session_id),
            int(r.request_id),
            datetime(r.start_time),
            text(r.status.desc()),
            text(r.command.clone()),
            session.map_or(Value::Null, connections::sql_handle_value),
            int(0),
            int(-1),
            Value::Null,
            int(database_id(snap, &r.database)),
            int(user_id(snap, login, &r.database)),
            guid(Some(connections::connection_id(r.session_id))),
            int(r.blocking_session_id.unwrap_or(0)),
            Value::opt_text(r.wait_type.clone()),
            int(r.wait_time),
            text(r.last_wait_type.clone()),
            text(""),
            int(r.open_transaction_count),
            int(1),
            int(10_000 + i as i64),
            Value::Null,
            Value::Float(f64::from(r.percent_complete)),
            int(r.estimated_completion_time),
            int(r.cpu_time),
            int(r.total_elapsed_time),
            int(1),
            Value::Null,
            int(r.reads),
            int(r.writes),
            int(r.logical_reads),
            int(2_147_483_647),
            text("us_english"),
            text("mdy"),
            int(7),
            bit(true),
            bit(false),
            bit(true),
            bit(false),
            bit(true),
            bit(true),
            bit(true),
            bit(true),
            int(2),
            int(-1),
            int(0),
            int(0),
            int(0),
            int(0),
            int(0),
            bit(false),
            int(2),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            int(1),
            int(0),
            Value::Null,
            bit(false),
            Value::Null,
            int(0),
        ]);
    }
    t
}

/// `sys.dm_exec_sessions`.
#[must_use]
pub fn dm_exec_sessions(snap: &ServerSnapshot) -> Table {
    let mut t = table(&[
        ("session_id", SMALLINT, false),
        ("login_time", DATETIME, false),
        ("host_name", nvarchar(128), true),
        ("program_name", nvarchar(128), true),
        ("host_process_id", INT, true),
        ("client_version", INT, true),
        ("client_interface_name", nvarchar(32), true),
        ("security_id", SID, false),
        ("login_name", nvarchar(128), false),
        ("nt_domain", nvarchar(128), true),
        ("nt_user_name", nvarchar(128), true),
        ("status", nvarchar(30), false),
        ("context_info", SqlType::VarBinary(Some(128)), true),
        ("cpu_time", INT, false),
        ("memory_usage", INT, false),
        ("total_scheduled_time", INT, false),
        ("total_elapsed_time", INT, false),
        ("endpoint_id", INT, false),
        ("last_request_start_time", DATETIME, false),
        ("last_request_end_time", DATETIME, true),
        ("reads", BIGINT, false),
        ("writes", BIGINT, false),
        ("logical_reads", BIGINT, false),
        ("is_user_process", BIT, false),
        ("text_size", INT, false),
        ("language", nvarchar(128), true),
        ("date_format", nvarchar(3), true),
        ("date_first", SMALLINT, false),
        ("quoted_identifier", BIT, false),
        ("arithabort", BIT, false),
        ("ansi_null_dflt_on", BIT, false),
        ("ansi_defaults", BIT, false),
        ("ansi_warnings", BIT, false),
        ("ansi_padding", BIT, false),
        ("ansi_nulls", BIT, false),
        ("concat_null_yields_null", BIT, false),
        ("transaction_isolation_level", SMALLINT, false),
        ("lock_timeout", INT, false),
        ("deadlock_priority", INT, false),
        ("row_count", BIGINT, false),
        ("prev_error", INT, false),
        ("original_security_id", SID, false),
        ("original_login_name", nvarchar(128), false),
        ("last_successful_logon", DATETIME, true),
        ("last_unsuccessful_logon", DATETIME, true),
        ("unsuccessful_logons", BIGINT, true),
        ("group_id", INT, false),
        ("database_id", SMALLINT, false),
        ("authenticating_database_id", INT, true),
        ("open_transaction_count", INT, false),
        ("page_server_reads", BIGINT, false),
        ("contained_availability_group_id", GUID, true),
    ]);
    for s in &snap.sessions {
        let sid = login_sid(snap, &s.login_name);
        t.push(vec![
            int(s.session_id),
            datetime(s.login_time),
            text(s.host_name.clone()),
            text(s.program_name.clone()),
            opt_int(s.host_process_id),
            int(0x7400_0004),
            text(s.client_interface_name.clone()),
            binary(&sid),
            text(s.login_name.clone()),
            Value::Null,
            Value::Null,
            text(s.status.desc()),
            Value::Null,
            int(0),
            int(0),
            int(0),
            int(0),
            int(4),
            datetime(s.last_request_start_time),
            opt_datetime(s.last_request_end_time),
            int(0),
            int(0),
            int(0),
            bit(s.is_user_process),
            int(2_147_483_647),
            text("us_english"),
            text("mdy"),
            int(7),
            bit(true),
            bit(false),
            bit(true),
            bit(false),
            bit(true),
            bit(true),
            bit(true),
            bit(true),
            int(2),
            int(-1),
            int(0),
            int(0),
            int(0),
            binary(&sid),
            text(s.login_name.clone()),
            Value::Null,
            Value::Null,
            Value::Null,
            int(2),
            int(database_id(snap, &s.database)),
            int(0),
            int(s.open_transaction_count),
            int(0),
            Value::Null,
        ]);
    }
    t
}

/// The running request of a session, if any.
#[must_use]
pub fn request_of<'a>(snap: &'a ServerSnapshot, s: &SessionInfo) -> Option<&'a RequestInfo> {
    snap.requests.iter().find(|r| r.session_id == s.session_id)
}

/// What sysprocesses and sp_who show as a session's status and command.
#[must_use]
pub fn process_status_and_command(snap: &ServerSnapshot, s: &SessionInfo) -> (String, String) {
    match request_of(snap, s) {
        Some(r) => (
            if r.wait_type.is_some() {
                "suspended"
            } else {
                "runnable"
            }
            .to_owned(),
            r.command.clone(),
        ),
        None => ("sleeping".to_owned(), "AWAITING COMMAND".to_owned()),
    }
}

/// `sys.sysprocesses` (also `master..sysprocesses`): one row per session.
#[must_use]
pub fn sysprocesses(snap: &ServerSnapshot) -> Table {
    let mut t = table(&[
        ("spid", SMALLINT, false),
        ("kpid", SMALLINT, false),
        ("blocked", SMALLINT, false),
        ("waittype", SqlType::Binary(2), false),
        ("waittime", BIGINT, false),
        ("lastwaittype", SqlType::NChar(32), false),
        ("waitresource", SqlType::NChar(256), false),
        ("dbid", SMALLINT, false),
        ("uid", SMALLINT, true),
        ("cpu", INT, false),
        ("physical_io", BIGINT, false),
        ("memusage", INT, false),
        ("login_time", DATETIME, false),
        ("last_batch", DATETIME, false),
        ("ecid", SMALLINT, false),
        ("open_tran", SMALLINT, false),
        ("status", SqlType::NChar(30), false),
        ("sid", SqlType::Binary(86), false),
        ("hostname", SqlType::NChar(128), false),
        ("program_name", SqlType::NChar(128), false),
        ("hostprocess", SqlType::NChar(10), false),
        ("cmd", SqlType::NChar(32), false),
        ("nt_domain", SqlType::NChar(128), false),
        ("nt_username", SqlType::NChar(128), false),
        ("net_address", SqlType::NChar(12), false),
        ("net_library", SqlType::NChar(12), false),
        ("loginame", SqlType::NChar(128), false),
        ("context_info", SqlType::Binary(128), false),
        ("sql_handle", SqlType::Binary(20), false),
        ("stmt_start", INT, false),
        ("stmt_end", INT, false),
        ("request_id", INT, false),
        ("page_resource", SqlType::Binary(8), true),
    ]);
    for s in &snap.sessions {
        let (status, cmd) = process_status_and_command(snap, s);
        let req = request_of(snap, s);
        let wait = req.and_then(|r| r.wait_type.clone()).unwrap_or_default();
        t.push(vec![
            int(s.session_id),
            int(0),
            int(req.and_then(|r| r.blocking_session_id).unwrap_or(0)),
            fixed_binary(&[], 2),
            int(req.map_or(0, |r| r.wait_time)),
            fixed(
                if wait.is_empty() {
                    "MISCELLANEOUS"
                } else {
                    &wait
                },
                32,
            ),
            fixed("", 256),
            int(database_id(snap, &s.database)),
            int(user_id(snap, &s.login_name, &s.database)),
            int(0),
            int(0),
            int(0),
            datetime(s.login_time),
            datetime(s.last_request_start_time),
            int(0),
            int(s.open_transaction_count),
            fixed(&status, 30),
            fixed_binary(&login_sid(snap, &s.login_name), 86),
            fixed(&s.host_name, 128),
            fixed(&s.program_name, 128),
            fixed(
                &s.host_process_id.map(|p| p.to_string()).unwrap_or_default(),
                10,
            ),
            fixed(&cmd, 32),
            fixed("", 128),
            fixed("", 128),
            fixed("000000000000", 12),
            fixed("TCP/IP", 12),
            fixed(&s.login_name, 128),
            fixed_binary(&[], 128),
            fixed_binary(&[], 20),
            int(0),
            int(0),
            int(0),
            Value::Null,
        ]);
    }
    t
}

/// `sys.availability_groups`: empty.
#[must_use]
pub fn availability_groups() -> Table {
    table(&[
        ("group_id", GUID, false),
        ("name", SYSNAME, true),
        ("resource_id", nvarchar(40), true),
        ("resource_group_id", nvarchar(40), true),
        ("failure_condition_level", INT, true),
        ("health_check_timeout", INT, true),
        ("automated_backup_preference", TINYINT, true),
        ("automated_backup_preference_desc", DESC, true),
        ("version", SMALLINT, true),
        ("basic_features", BIT, true),
        ("dtc_support", BIT, true),
        ("db_failover", BIT, true),
        ("is_distributed", BIT, true),
        ("cluster_type", TINYINT, true),
        ("cluster_type_desc", DESC, true),
        ("required_synchronized_secondaries_to_commit", INT, true),
        ("sequence_number", BIGINT, true),
        ("is_contained", BIT, true),
    ])
}

/// `sys.availability_replicas`: empty.
#[must_use]
pub fn availability_replicas() -> Table {
    table(&[
        ("replica_id", GUID, true),
        ("group_id", GUID, true),
        ("replica_metadata_id", INT, true),
        ("replica_server_name", nvarchar(256), true),
        ("owner_sid", SID, true),
        ("endpoint_url", nvarchar(128), true),
        ("availability_mode", TINYINT, true),
        ("availability_mode_desc", DESC, true),
        ("failover_mode", TINYINT, true),
        ("failover_mode_desc", DESC, true),
        ("session_timeout", INT, true),
        ("primary_role_allow_connections", TINYINT, true),
        ("primary_role_allow_connections_desc", DESC, true),
        ("secondary_role_allow_connections", TINYINT, true),
        ("secondary_role_allow_connections_desc", DESC, true),
        ("create_date", DATETIME, true),
        ("modify_date", DATETIME, true),
        ("backup_priority", INT, true),
        ("read_only_routing_url", nvarchar(256), true),
        ("seeding_mode", TINYINT, true),
        ("seeding_mode_desc", DESC, true),
        ("read_write_routing_url", nvarchar(256), true),
    ])
}

/// `sys.dm_hadr_database_replica_states`: empty.
#[must_use]
pub fn dm_hadr_database_replica_states() -> Table {
    table(&[
        ("database_id", INT, false),
        ("group_id", GUID, false),
        ("replica_id", GUID, false),
        ("group_database_id", GUID, false),
        ("is_local", BIT, true),
        ("is_primary_replica", BIT, true),
        ("synchronization_state", TINYINT, true),
        ("synchronization_state_desc", DESC, true),
        ("is_commit_participant", BIT, true),
        ("synchronization_health", TINYINT, true),
        ("synchronization_health_desc", DESC, true),
        ("database_state", TINYINT, true),
        ("database_state_desc", DESC, true),
        ("is_suspended", BIT, true),
        ("suspend_reason", TINYINT, true),
        ("suspend_reason_desc", DESC, true),
        ("recovery_lsn", LSN, true),
        ("truncation_lsn", LSN, true),
        ("last_sent_lsn", LSN, true),
        ("last_sent_time", DATETIME, true),
        ("last_received_lsn", LSN, true),
        ("last_received_time", DATETIME, true),
        ("last_hardened_lsn", LSN, true),
        ("last_hardened_time", DATETIME, true),
        ("last_redone_lsn", LSN, true),
        ("last_redone_time", DATETIME, true),
        ("log_send_queue_size", BIGINT, true),
        ("log_send_rate", BIGINT, true),
        ("redo_queue_size", BIGINT, true),
        ("redo_rate", BIGINT, true),
        ("filestream_send_rate", BIGINT, true),
        ("end_of_log_lsn", LSN, true),
        ("last_commit_lsn", LSN, true),
        ("last_commit_time", DATETIME, true),
        ("low_water_mark_for_ghosts", BIGINT, true),
        ("secondary_lag_seconds", BIGINT, true),
        ("quorum_commit_lsn", LSN, true),
        ("quorum_commit_time", DATETIME, true),
    ])
}

/// `sys.dm_hadr_availability_replica_states`: empty.
#[must_use]
pub fn dm_hadr_availability_replica_states() -> Table {
    table(&[
        ("replica_id", GUID, false),
        ("group_id", GUID, false),
        ("is_local", BIT, false),
        ("role", TINYINT, true),
        ("role_desc", DESC, true),
        ("operational_state", TINYINT, true),
        ("operational_state_desc", DESC, true),
        ("connected_state", TINYINT, true),
        ("connected_state_desc", DESC, true),
        ("recovery_health", TINYINT, true),
        ("recovery_health_desc", DESC, true),
        ("synchronization_health", TINYINT, true),
        ("synchronization_health_desc", DESC, true),
        ("last_connect_error_number", INT, true),
        ("last_connect_error_description", nvarchar(1024), true),
        ("last_connect_error_timestamp", DATETIME, true),
        ("write_lease_remaining_ticks", BIGINT, true),
        (
            "current_configuration_commit_start_time_utc",
            DATETIME,
            true,
        ),
    ])
}
