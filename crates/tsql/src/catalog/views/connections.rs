//! Connections, their SQL text and locks: `sys.dm_exec_connections`, `sys.endpoints`,
//! `sys.dm_tran_locks` and the function `sys.dm_exec_sql_text(handle)`.
//!
//! A session's `sql_handle` (in `sys.dm_exec_requests`, and `most_recent_sql_handle` in
//! `sys.dm_exec_connections`) names the batch it runs or ran last; `sys.dm_exec_sql_text`
//! gives that batch's text back.

use crate::catalog::model::derived_guid;
use crate::catalog::sessions::SessionInfo;
use crate::catalog::snapshot::ServerSnapshot;
use crate::catalog::table::*;
use crate::value::{SYSNAME, SqlType, Table, Value};

/// The TDS version vdisim's sessions report (7.4), as `protocol_version` holds it.
const TDS_7_4: i64 = 0x7400_0004;
/// `sys.endpoints`' id of "TSQL Default TCP", every session's endpoint.
const TCP_ENDPOINT: i64 = 4;

/// The handle of a session's batch: 20 bytes, `0x02` (an ad hoc batch), the session id, and
/// a tail derived from it.
#[must_use]
pub fn sql_handle(session_id: i16) -> Vec<u8> {
    let mut h = vec![0x02, 0, 0, 0];
    h.extend_from_slice(&session_id.to_be_bytes());
    h.extend_from_slice(&derived_guid("sql_handle", u64::from(session_id.unsigned_abs()))[..14]);
    h
}

/// A session's handle as a value, or NULL when it has run nothing.
#[must_use]
pub fn sql_handle_value(s: &SessionInfo) -> Value {
    if s.sql_text.is_some() {
        Value::Binary(sql_handle(s.session_id))
    } else {
        Value::Null
    }
}

/// `sys.dm_exec_sql_text(sql_handle)`: the batch's text, no row for NULL or an unknown
/// handle.
#[must_use]
pub fn dm_exec_sql_text(snap: &ServerSnapshot, handle: Option<&[u8]>) -> Table {
    let mut t = table(&[
        ("dbid", SMALLINT, true),
        ("objectid", INT, true),
        ("number", SMALLINT, true),
        ("encrypted", BIT, false),
        ("text", SqlType::NVarChar(None), true),
    ]);
    let session = handle.and_then(|h| {
        snap.sessions
            .iter()
            .find(|s| s.sql_text.is_some() && sql_handle(s.session_id) == h)
    });
    if let Some(s) = session {
        let dbid = snap
            .database(&s.database)
            .map_or(Value::Null, |d| int(d.database_id));
        t.push(vec![
            dbid,
            Value::Null,
            Value::Null,
            bit(false),
            Value::opt_text(s.sql_text.clone()),
        ]);
    }
    t
}

/// `sys.dm_exec_connections`: one row per user session, all over TCP with SQL
/// authentication and no encryption.
#[must_use]
pub fn dm_exec_connections(snap: &ServerSnapshot) -> Table {
    let mut t = table(&[
        ("session_id", INT, true),
        ("most_recent_session_id", INT, true),
        ("connect_time", DATETIME, false),
        ("net_transport", nvarchar(40), false),
        ("protocol_type", nvarchar(40), true),
        ("protocol_version", INT, true),
        ("endpoint_id", INT, true),
        ("encrypt_option", nvarchar(40), false),
        ("auth_scheme", nvarchar(40), false),
        ("node_affinity", SMALLINT, false),
        ("num_reads", INT, true),
        ("num_writes", INT, true),
        ("last_read", DATETIME, true),
        ("last_write", DATETIME, true),
        ("net_packet_size", INT, true),
        ("client_net_address", varchar(48), true),
        ("client_tcp_port", INT, true),
        ("local_net_address", varchar(48), true),
        ("local_tcp_port", INT, true),
        ("connection_id", GUID, false),
        ("parent_connection_id", GUID, true),
        ("most_recent_sql_handle", SqlType::VarBinary(Some(64)), true),
    ]);
    for s in snap.sessions.iter().filter(|s| s.is_user_process) {
        let last = s.last_request_end_time.unwrap_or(s.last_request_start_time);
        t.push(vec![
            int(s.session_id),
            int(s.session_id),
            datetime(s.login_time),
            text("TCP"),
            text("TSQL"),
            int(TDS_7_4),
            int(TCP_ENDPOINT),
            text("FALSE"),
            text("SQL"),
            int(0),
            int(0),
            int(0),
            datetime(last),
            datetime(last),
            int(4096),
            text("127.0.0.1"),
            Value::Null,
            text("127.0.0.1"),
            int(1433),
            guid(Some(connection_id(s.session_id))),
            Value::Null,
            sql_handle_value(s),
        ]);
    }
    t
}

/// The `connection_id` of a session, the same in `sys.dm_exec_requests`.
#[must_use]
pub fn connection_id(session_id: i16) -> crate::catalog::model::Guid {
    derived_guid("connection", u64::from(session_id.unsigned_abs()))
}

/// `sys.endpoints`: SQL Server's five system endpoints.
#[must_use]
pub fn endpoints() -> Table {
    let mut t = table(&[
        ("name", SYSNAME, false),
        ("endpoint_id", INT, false),
        ("principal_id", INT, true),
        ("protocol", TINYINT, false),
        ("protocol_desc", DESC, true),
        ("type", TINYINT, false),
        ("type_desc", DESC, true),
        ("state", TINYINT, true),
        ("state_desc", DESC, true),
        ("is_admin_endpoint", BIT, false),
    ]);
    let rows: [(&str, i64, i64, &str, bool); 5] = [
        ("Dedicated Admin Connection", 1, 2, "TCP", true),
        ("TSQL Local Machine", 2, 4, "SHARED_MEMORY", false),
        ("TSQL Named Pipes", 3, 3, "NAMED_PIPES", false),
        ("TSQL Default TCP", 4, 2, "TCP", false),
        ("TSQL Default VIA", 5, 5, "VIA", false),
    ];
    for (name, id, protocol, protocol_desc, admin) in rows {
        t.push(vec![
            text(name),
            int(id),
            int(1),
            int(protocol),
            text(protocol_desc),
            int(2),
            text("TSQL"),
            int(0),
            text("STARTED"),
            bit(admin),
        ]);
    }
    t
}

/// `sys.dm_tran_locks`: the shared DATABASE lock every user session holds on its current
/// database (vdisim takes no finer locks).
#[must_use]
pub fn dm_tran_locks(snap: &ServerSnapshot) -> Table {
    let mut t = table(&[
        ("resource_type", DESC, false),
        ("resource_subtype", DESC, false),
        ("resource_database_id", INT, false),
        ("resource_description", nvarchar(256), false),
        ("resource_associated_entity_id", BIGINT, true),
        ("resource_lock_partition", INT, true),
        ("request_mode", DESC, false),
        ("request_type", DESC, false),
        ("request_status", DESC, false),
        ("request_reference_count", SMALLINT, false),
        ("request_lifetime", INT, false),
        ("request_session_id", INT, false),
        ("request_exec_context_id", INT, false),
        ("request_request_id", INT, false),
        ("request_owner_type", DESC, false),
        ("request_owner_id", BIGINT, true),
        ("request_owner_guid", GUID, true),
        ("request_owner_lockspace_id", nvarchar(32), false),
        ("lock_owner_address", SqlType::VarBinary(Some(8)), false),
    ]);
    for s in snap.sessions.iter().filter(|s| s.is_user_process) {
        let Some(db) = snap.database(&s.database) else {
            continue;
        };
        t.push(vec![
            text("DATABASE"),
            text(""),
            int(db.database_id),
            text(""),
            int(0),
            int(0),
            text("S"),
            text("LOCK"),
            text("GRANT"),
            int(1),
            int(0),
            int(s.session_id),
            int(0),
            int(0),
            text("SHARED_TRANSACTION_WORKSPACE"),
            int(0),
            guid(Some([0; 16])),
            text(format!("0x{:016X}:1:1", s.session_id)),
            binary(&i64::from(s.session_id).to_be_bytes()),
        ]);
    }
    t
}
