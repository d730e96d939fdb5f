//! TLS for the TDS client: rustls configurations (a verifying one with the system's CA bundle,
//! or one that trusts any certificate, sqlcmd's `-C`), and the TDS 7.x handshake carried in
//! PRELOGIN packets.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tds::tls_frame::PreloginTlsFraming;

/// The ALPN protocol of TDS 8.0 (strict encryption).
const TDS8_ALPN: &[u8] = b"tds/8.0";

/// Where the system's trusted certificates are (`$SSL_CERT_FILE` first, as OpenSSL does).
const CA_BUNDLES: [&str; 3] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
];

/// A client configuration: `trust_any` is sqlcmd's `-C` (TrustServerCertificate=yes); `strict`
/// offers ALPN `tds/8.0`.
pub(crate) fn client_config(trust_any: bool, strict: bool) -> Result<Arc<ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let mut config = if trust_any {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(TrustAny(provider)))
            .with_no_client_auth()
    } else {
        builder
            .with_root_certificates(system_roots())
            .with_no_client_auth()
    };
    if strict {
        config.alpn_protocols = vec![TDS8_ALPN.to_vec()];
    }
    Ok(Arc::new(config))
}

fn system_roots() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    let from_env = std::env::var("SSL_CERT_FILE").ok();
    let path = from_env
        .iter()
        .map(String::as_str)
        .chain(CA_BUNDLES)
        .find(|p| std::path::Path::new(p).is_file());
    if let Some(path) = path
        && let Ok(certs) = CertificateDer::pem_file_iter(path)
    {
        for cert in certs.flatten() {
            let _ = roots.add(cert);
        }
    }
    roots
}

/// The name the certificate must carry: the host as given (a DNS name or an IP address).
pub(crate) fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(host.to_owned()).map_err(|e| format!("'{host}': {e}"))
}

/// sqlcmd's `-C`: any certificate is accepted (signatures are still checked).
#[derive(Debug)]
struct TrustAny(Arc<CryptoProvider>);

impl ServerCertVerifier for TrustAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The socket as rustls sees it during a TDS 7.x handshake: what it writes goes out in
/// PRELOGIN packets, what it reads is the TLS inside the server's PRELOGIN packets.
struct PreloginWrapped<'a> {
    tcp: &'a mut TcpStream,
    framing: PreloginTlsFraming,
    pending: Vec<u8>,
}

impl Read for PreloginWrapped<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pending.is_empty() {
            match self.framing.next_tls() {
                Ok(Some(tls)) => self.pending = tls,
                Ok(None) => {
                    let mut scratch = [0u8; 16 * 1024];
                    let n = self.tcp.read(&mut scratch)?;
                    if n == 0 {
                        return Ok(0);
                    }
                    self.framing.handle_bytes(&scratch[..n]);
                }
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
            }
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

impl Write for PreloginWrapped<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut out = Vec::new();
        self.framing.wrap(buf, &mut out);
        self.tcp.write_all(&out)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

/// The TDS 7.x handshake: TLS records in PRELOGIN packets until the handshake is over.
pub(crate) fn prelogin_handshake(
    tcp: &mut TcpStream,
    conn: &mut rustls::ClientConnection,
) -> io::Result<()> {
    let mut wrapped = PreloginWrapped {
        tcp,
        framing: PreloginTlsFraming::new(),
        pending: Vec::new(),
    };
    while conn.is_handshaking() {
        let (read, written) = conn.complete_io(&mut wrapped)?;
        if read == 0 && written == 0 && conn.is_handshaking() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection during the TLS handshake",
            ));
        }
    }
    Ok(())
}

/// The TDS 8.0 handshake: TLS first, on the bare socket.
pub(crate) fn strict_handshake(
    tcp: &mut TcpStream,
    conn: &mut rustls::ClientConnection,
) -> io::Result<()> {
    while conn.is_handshaking() {
        let (read, written) = conn.complete_io(tcp)?;
        if read == 0 && written == 0 && conn.is_handshaking() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection during the TLS handshake",
            ));
        }
    }
    Ok(())
}
