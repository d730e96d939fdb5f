//! Where a client sends its T-SQL: the local daemon (as sqlcmd would) or an in-process server.

use std::path::PathBuf;
use std::sync::Arc;
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
        match self {
            SqlTarget::InProcess(engine) => {
                let mut session = engine.login("sa", "", None).map_err(|m| format!("{m:?}"))?;
                let mut sink = CollectSink::new();
                session.execute_script(sql, &mut sink, false);
                Ok(sink)
            }
            SqlTarget::Daemon {
                socket,
                user,
                password,
            } => vdi_server::daemon::run_batch(socket, user, password, "vdisim", sql),
        }
    }
}
