//! The daemon's wire protocol: JSON lines over a Unix domain socket (see `docs/daemon.md`).
//!
//! Every line is one JSON object with exactly one key naming the event. The client sends
//! `login` first, then `batch`es (and `cancel` while one runs); the server answers `login_ok`
//! (or messages, then `login_failed`, then closes), and for each batch streams `message`,
//! `result_set` and `rows_affected` events ending with `batch_done`.

use serde::{Deserialize, Serialize};

use crate::tsql::{ResultSet, SqlMessage};

/// The version in `login_ok`; bumped on incompatible changes.
pub const PROTOCOL_VERSION: u32 = 1;

/// The longest line either side accepts (a batch of 16 MiB is plenty).
pub const MAX_LINE_BYTES: usize = 16 << 20;

fn one() -> u32 {
    1
}

/// Client → server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    Login(LoginRequest),
    Batch(BatchRequest),
    /// Attention: stop the batch running now (or the last one sent). Ignored when idle.
    Cancel {},
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub user: String,
    pub password: String,
    /// The initial database (`sqlcmd -d`); master when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// The client program, for the server log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchRequest {
    pub text: String,
    /// The number messages give the batch's first line: 1 for SQL Server's batch-relative lines.
    #[serde(default = "one")]
    pub first_line: u32,
    /// `GO n`: how many times to run the batch.
    #[serde(default = "one")]
    pub repeat: u32,
}

/// Server → client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Response {
    LoginOk(LoginOk),
    /// After the login's error messages; the server then closes the connection.
    LoginFailed(LoginFailed),
    Message(WireMessage),
    ResultSet(WireResultSet),
    RowsAffected(u64),
    BatchDone(BatchDone),
    /// A request the server could not read; the server then closes the connection.
    ProtocolError(ProtocolError),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginOk {
    /// `@@SERVERNAME`, used in `Msg …, Server X` lines.
    pub server_name: String,
    pub version: String,
    /// The session's current database.
    pub database: String,
    pub protocol: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginFailed {
    /// `@@SERVERNAME`, for the `Msg 18456, …, Server X` line.
    pub server_name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchDone {
    /// Whether any message of the batch had a level above 10.
    pub error: bool,
    /// Whether the batch stopped early (cancel, disconnect, shutdown).
    #[serde(default)]
    pub cancelled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolError {
    pub text: String,
}

/// [`SqlMessage`] on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireMessage {
    pub number: u32,
    pub level: u8,
    pub state: u8,
    pub line: u32,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub procedure: Option<String>,
}

impl From<SqlMessage> for WireMessage {
    fn from(m: SqlMessage) -> Self {
        WireMessage {
            number: m.number,
            level: m.level,
            state: m.state,
            line: m.line,
            text: m.text,
            procedure: m.procedure,
        }
    }
}

impl From<WireMessage> for SqlMessage {
    fn from(m: WireMessage) -> Self {
        let mut message = SqlMessage::new(m.number, m.level, m.state, m.line, m.text);
        message.procedure = m.procedure;
        message
    }
}

/// [`ResultSet`] on the wire: typed columns and values, as the engine made them.
pub type WireResultSet = ResultSet;

/// One event as a JSON line, newline included.
#[must_use]
pub fn encode<T: Serialize>(event: &T) -> Vec<u8> {
    let mut line = serde_json::to_vec(event).expect("protocol types always serialise");
    line.push(b'\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_have_the_documented_shape() {
        let login = Request::Login(LoginRequest {
            user: "sa".into(),
            password: "pw".into(),
            database: None,
            app: None,
        });
        assert_eq!(
            String::from_utf8(encode(&login)).unwrap(),
            "{\"login\":{\"user\":\"sa\",\"password\":\"pw\"}}\n"
        );
        let batch: Request =
            serde_json::from_str(r#"{"batch":{"text":"SELECT @@VERSION"}}"#).unwrap();
        assert_eq!(
            batch,
            Request::Batch(BatchRequest {
                text: "SELECT @@VERSION".into(),
                first_line: 1,
                repeat: 1
            })
        );
        assert_eq!(
            serde_json::from_str::<Request>(r#"{"cancel":{}}"#).unwrap(),
            Request::Cancel {}
        );
        assert!(serde_json::from_str::<Request>(r#"{"drop":{}}"#).is_err());
    }

    #[test]
    fn responses_have_the_documented_shape() {
        let events = [
            Response::RowsAffected(3),
            Response::BatchDone(BatchDone {
                error: true,
                cancelled: false,
            }),
            Response::LoginFailed(LoginFailed {
                server_name: "S".into(),
            }),
            Response::Message(crate::tsql::messages::database_does_not_exist(2, "x").into()),
        ];
        let text: Vec<String> = events
            .iter()
            .map(|e| String::from_utf8(encode(e)).unwrap())
            .collect();
        assert_eq!(
            text,
            [
                "{\"rows_affected\":3}\n",
                "{\"batch_done\":{\"error\":true,\"cancelled\":false}}\n",
                "{\"login_failed\":{\"server_name\":\"S\"}}\n",
                "{\"message\":{\"number\":911,\"level\":16,\"state\":1,\"line\":2,\"text\":\"Database 'x' does not exist. Make sure that the name is entered correctly.\"}}\n",
            ]
        );
    }
}
