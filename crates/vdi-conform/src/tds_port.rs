//! The TDS listener of a case's server, so that a client that sends its T-SQL through a driver
//! (`{tds}`, `$VDISIM_TDS`) reaches the same engine as the socket.

use std::sync::{Arc, OnceLock};
use vdi_server::daemon::tds::{TdsConfig, TdsHandle, TdsListener, TlsIdentity};
use vdi_server::engine::Engine;

/// The certificate every case's TDS listener presents (generated once per harness run; a
/// driver-based client trusts it with TrustServerCertificate=yes).
fn tls_identity() -> Option<Arc<TlsIdentity>> {
    static IDENTITY: OnceLock<Option<Arc<TlsIdentity>>> = OnceLock::new();
    IDENTITY
        .get_or_init(|| {
            TlsIdentity::generate(&["localhost".into(), "127.0.0.1".into()])
                .ok()
                .map(Arc::new)
        })
        .clone()
}

/// A TDS listener for `engine` on a free loopback port.
pub(crate) fn start_tds(engine: &Arc<Engine>) -> Result<TdsHandle, String> {
    start_tds_on(engine, std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
}

/// A TDS listener for `engine` on `addr`.
pub(crate) fn start_tds_on(
    engine: &Arc<Engine>,
    addr: std::net::SocketAddr,
) -> Result<TdsHandle, String> {
    TdsListener::start(TdsConfig {
        tls: tls_identity(),
        ..TdsConfig::new(addr, Arc::clone(engine))
    })
    .map_err(|e| format!("cannot start the server's TDS listener: {e}"))
}
