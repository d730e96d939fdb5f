//! `vdisim server`'s TDS flags (docs/tds.md) and starting the listener from them.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;

use vdi_server::daemon::tds::{DEFAULT_TDS_ADDR, TdsConfig, TdsHandle, TdsListener, TlsIdentity};
use vdi_server::engine::Engine;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TdsEncryption {
    /// Clients choose: Encrypt=no (TLS for the login only), yes, or strict (TDS 8.0).
    Optional,
    /// SQL Server's Force Encryption: clients that cannot encrypt are refused.
    Required,
    /// No TLS at all (clients asking for encryption are refused).
    Off,
}

#[derive(clap::Args, Debug)]
pub struct TdsArgs {
    /// Listen for TDS (SQL Server's protocol: ODBC, FreeTDS, pytds …) on ADDR:PORT; port 0
    /// picks a free port and logs it.
    #[arg(long = "tds", value_name = "ADDR:PORT", default_value = DEFAULT_TDS_ADDR)]
    addr: String,
    /// Do not listen for TDS (Unix socket only).
    #[arg(long, conflicts_with = "addr")]
    no_tds: bool,
    /// TLS certificate chain (PEM) for TDS [default: a self-signed one generated at start-up].
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Encryption over TDS.
    #[arg(long, value_enum, value_name = "MODE", default_value = "optional")]
    tds_encryption: TdsEncryption,
}

fn resolve(addr: &str) -> Result<SocketAddr, String> {
    addr.to_socket_addrs()
        .map_err(|e| format!("--tds {addr}: {e} (expected ADDR:PORT, e.g. 127.0.0.1:1433)"))?
        .next()
        .ok_or_else(|| format!("--tds {addr}: no address"))
}

/// Starts the TDS listener unless `--no-tds`.
pub fn start(
    args: &TdsArgs,
    max_connections: usize,
    engine: &Arc<Engine>,
    log: &dyn Fn(&str),
) -> Result<Option<TdsHandle>, String> {
    if args.no_tds {
        return Ok(None);
    }
    if max_connections == 0 {
        return Err("--max-connections must be at least 1".into());
    }
    let addr = resolve(&args.addr)?;
    let tls = match (args.tds_encryption, &args.tls_cert, &args.tls_key) {
        (TdsEncryption::Off, _, _) => None,
        (_, Some(cert), Some(key)) => Some(TlsIdentity::from_pem_files(cert, key)),
        _ => Some(TlsIdentity::generate(&[
            "localhost".into(),
            "127.0.0.1".into(),
            engine.server_name().to_owned(),
        ])),
    }
    .transpose()
    .map_err(|e| e.to_string())?;
    if let Some(identity) = &tls {
        log(&format!(
            "TDS TLS certificate ({}), SHA-256 fingerprint {}",
            if identity.generated {
                "self-signed, generated at start-up: clients need TrustServerCertificate=yes"
            } else {
                "from --tls-cert"
            },
            identity.fingerprint
        ));
    }
    let config = TdsConfig {
        tls: tls.map(Arc::new),
        force_encryption: args.tds_encryption == TdsEncryption::Required,
        max_connections,
        ..TdsConfig::new(addr, Arc::clone(engine))
    };
    let handle = TdsListener::start(config).map_err(|e| e.to_string())?;
    // Always printed (tests and scripts read the port chosen for --tds ADDR:0 from here).
    log(&format!("TDS ready on {}", handle.local_addr()));
    Ok(Some(handle))
}
