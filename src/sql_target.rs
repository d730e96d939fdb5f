//! Where a client sends its T-SQL: the local daemon (as sqlcmd would) or an in-process server.

use std::path::PathBuf;
use std::sync::Arc;
use vdi_server::daemon::Client;
use vdi_server::daemon::protocol::{BatchRequest, LoginRequest};
use vdi_server::db::Catalog;
use vdi_server::engine::sink::CollectSink;
use vdi_server::engine::{Engine, EngineConfig};
use vdi_server::jobs::VdiJobRunner;

/// A server that runs T-SQL.
#[derive(Clone)]
pub enum SqlTarget {
    /// An engine in this process (its jobs still use real shared memory).
    InProcess(Arc<Engine>),
    /// The daemon behind a socket.
    Daemon {
        socket: PathBuf,
        user: String,
        password: String,
    },
}

impl SqlTarget {
    /// An in-process server with the default databases and real BACKUP/RESTORE jobs.
    pub fn in_process() -> SqlTarget {
        let engine = Engine::new(
            Catalog::with_defaults(),
            EngineConfig {
                jobs: Arc::new(VdiJobRunner::shared_memory()),
                ..EngineConfig::default()
            },
        );
        SqlTarget::InProcess(engine)
    }

    /// The daemon `-S server` names (None: the in-process server).
    pub fn from_args(
        server: Option<&str>,
        user: &str,
        password: &str,
    ) -> Result<SqlTarget, String> {
        match server {
            None => Ok(SqlTarget::in_process()),
            Some(s) => Ok(SqlTarget::Daemon {
                socket: crate::sqlcmd::resolve_server(Some(s))?,
                user: user.to_string(),
                password: password.to_string(),
            }),
        }
    }

    /// Runs a script and collects its output (an unreachable server is an error message).
    pub fn run(&self, sql: &str) -> Result<CollectSink, String> {
        let mut sink = CollectSink::new();
        match self {
            SqlTarget::InProcess(engine) => {
                let mut session = engine.login("sa", "", None).map_err(|m| format!("{m:?}"))?;
                session.execute_script(sql, &mut sink, false);
            }
            SqlTarget::Daemon {
                socket,
                user,
                password,
            } => {
                let login = LoginRequest {
                    user: user.clone(),
                    password: password.clone(),
                    database: None,
                    app: Some("vdisim".into()),
                };
                let mut client = Client::connect(socket, &login)
                    .map_err(|e| format!("cannot reach the server at {}: {e}", socket.display()))?;
                client
                    .execute(
                        &BatchRequest {
                            text: sql.to_string(),
                            first_line: 1,
                            repeat: 1,
                        },
                        &mut sink,
                    )
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(sink)
    }
}
