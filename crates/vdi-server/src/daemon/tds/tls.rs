//! TLS for the TDS front end: the server's certificate (generated at start-up or read from PEM
//! files), rustls configurations for TDS 7.x and TDS 8.0 (ALPN `tds/8.0`), and the TDS 7.x
//! handshake carried inside PRELOGIN packets.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tds::tls_frame::PreloginTlsFraming;

/// The ALPN protocol of TDS 8.0 (strict encryption).
pub const TDS8_ALPN: &[u8] = b"tds/8.0";

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot generate a certificate: {0}")]
    Generate(String),
    #[error("{path}: {detail}")]
    Pem { path: String, detail: String },
    #[error("the certificate and key do not make a TLS configuration: {0}")]
    Config(String),
}

/// The server's certificate and key, with the rustls configurations made from them.
pub struct TlsIdentity {
    /// SHA-256 of the leaf certificate, `AB:CD:…`.
    pub fingerprint: String,
    /// Whether the certificate was generated at start-up (self-signed).
    pub generated: bool,
    /// TDS 7.x (TLS inside PRELOGIN): no ALPN, no session tickets.
    pub(super) prelogin: Arc<ServerConfig>,
    /// TDS 8.0 (TLS first): ALPN `tds/8.0`.
    pub(super) strict: Arc<ServerConfig>,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity")
            .field("fingerprint", &self.fingerprint)
            .field("generated", &self.generated)
            .finish_non_exhaustive()
    }
}

impl TlsIdentity {
    /// A self-signed certificate for `names` (e.g. `localhost`, `127.0.0.1`, the host name).
    pub fn generate(names: &[String]) -> Result<TlsIdentity, TlsError> {
        let certified = rcgen::generate_simple_self_signed(names.to_vec())
            .map_err(|e| TlsError::Generate(e.to_string()))?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            certified.signing_key.serialize_der(),
        ));
        TlsIdentity::new(vec![certified.cert.der().clone()], key, true)
    }

    /// A certificate chain and private key from PEM files (`--tls-cert`, `--tls-key`).
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<TlsIdentity, TlsError> {
        let pem_error = |path: &Path, detail: String| TlsError::Pem {
            path: path.display().to_string(),
            detail,
        };
        let chain = CertificateDer::pem_file_iter(cert)
            .map_err(|e| pem_error(cert, e.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| pem_error(cert, e.to_string()))?;
        if chain.is_empty() {
            return Err(pem_error(cert, "no CERTIFICATE in the file".into()));
        }
        let key_der =
            PrivateKeyDer::from_pem_file(key).map_err(|e| pem_error(key, e.to_string()))?;
        TlsIdentity::new(chain, key_der, false)
    }

    fn new(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        generated: bool,
    ) -> Result<TlsIdentity, TlsError> {
        let fingerprint = fingerprint(&chain[0]);
        let config = |alpn: bool| -> Result<Arc<ServerConfig>, TlsError> {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            // SQL Server speaks TLS 1.3 only under TDS 8.0; inside PRELOGIN it is TLS 1.2.
            let versions: &[&rustls::SupportedProtocolVersion] = if alpn {
                rustls::DEFAULT_VERSIONS
            } else {
                &[&rustls::version::TLS12]
            };
            let mut config = ServerConfig::builder_with_provider(provider)
                .with_protocol_versions(versions)
                .map_err(|e| TlsError::Config(e.to_string()))?
                .with_no_client_auth()
                .with_single_cert(chain.clone(), key.clone_key())
                .map_err(|e| TlsError::Config(e.to_string()))?;
            // A ticket sent after the handshake would arrive bare while a TDS 7.x client still
            // expects PRELOGIN framing; SQL Server sends none either.
            config.send_tls13_tickets = 0;
            if alpn {
                config.alpn_protocols = vec![TDS8_ALPN.to_vec()];
            }
            Ok(Arc::new(config))
        };
        Ok(TlsIdentity {
            fingerprint,
            generated,
            prelogin: config(false)?,
            strict: config(true)?,
        })
    }
}

/// SHA-256 of a certificate, as `AB:CD:…`.
#[must_use]
pub fn fingerprint(der: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn tls_io_error(e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("TLS: {e}"))
}

/// Feeds TLS bytes into the connection and processes them.
pub(super) fn feed(conn: &mut rustls::ServerConnection, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        conn.read_tls(&mut bytes)?;
        conn.process_new_packets().map_err(tls_io_error)?;
    }
    Ok(())
}

/// Everything rustls wants to send.
pub(super) fn drain(conn: &mut rustls::ServerConnection) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut out)?;
    }
    Ok(out)
}

/// The TDS 7.x handshake: TLS records travel in PRELOGIN packets until the handshake is over.
/// Returns the bytes read after the handshake's last packet (bare TLS: the LOGIN7).
pub(super) fn prelogin_handshake(
    stream: &mut TcpStream,
    conn: &mut rustls::ServerConnection,
) -> io::Result<Vec<u8>> {
    let mut framing = PreloginTlsFraming::new();
    let mut scratch = vec![0u8; 16 * 1024];
    loop {
        while conn.is_handshaking() {
            if framing.starts_bare_tls() {
                // The client left PRELOGIN framing before our last flight: the rest is bare.
                let bare = std::mem::take(&mut framing).into_remaining();
                feed(conn, &bare)?;
                let out = drain(conn)?;
                stream.write_all(&out)?;
                while conn.is_handshaking() {
                    conn.complete_io(stream)?;
                }
                return Ok(Vec::new());
            }
            let Some(tls) = framing
                .next_tls()
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?
            else {
                break;
            };
            if let Err(e) = feed(conn, &tls) {
                // Let the client see the alert before the connection closes.
                let mut wrapped = Vec::new();
                framing.wrap(&drain(conn).unwrap_or_default(), &mut wrapped);
                let _ = stream.write_all(&wrapped);
                return Err(e);
            }
        }
        let out = drain(conn)?;
        if !out.is_empty() {
            let mut wrapped = Vec::new();
            framing.wrap(&out, &mut wrapped);
            stream.write_all(&wrapped)?;
        }
        if !conn.is_handshaking() {
            return Ok(framing.into_remaining());
        }
        if framing.buffered() > 64 * 1024 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "TLS handshake: more than 64 KiB without completing a packet",
            ));
        }
        let n = stream.read(&mut scratch)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the client closed the connection during the TLS handshake",
            ));
        }
        framing.handle_bytes(&scratch[..n]);
    }
}

/// The TDS 8.0 handshake: TLS on the bare socket, first thing.
pub(super) fn strict_handshake(
    stream: &mut TcpStream,
    conn: &mut rustls::ServerConnection,
) -> io::Result<()> {
    while conn.is_handshaking() {
        conn.complete_io(stream)?;
    }
    if conn.alpn_protocol() != Some(TDS8_ALPN) {
        // ODBC 18 and SqlClient offer tds/8.0; a client that offers nothing is let through.
        if conn.alpn_protocol().is_some() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "TLS: the client's ALPN is not tds/8.0",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_identity_has_a_sha256_fingerprint() {
        let id = TlsIdentity::generate(&["localhost".into()]).unwrap();
        assert_eq!(id.fingerprint.len(), 32 * 3 - 1);
        assert!(id.generated);
        assert_eq!(id.strict.alpn_protocols, vec![TDS8_ALPN.to_vec()]);
    }

    #[test]
    fn missing_pem_files_are_clear_errors() {
        let e = TlsIdentity::from_pem_files(Path::new("/nonexistent/c.pem"), Path::new("/k"))
            .unwrap_err();
        assert!(e.to_string().contains("/nonexistent/c.pem"), "{e}");
    }
}
