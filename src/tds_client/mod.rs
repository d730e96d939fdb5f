//! A blocking TDS client over the sans-IO codec in `crates/tds` (`tds::client`): what
//! `vdisim sqlcmd -S host,port` uses to reach vdisim's TDS port or a real SQL Server. TLS as
//! ODBC Driver 18 does it: inside PRELOGIN packets (TDS 7.4, `Encrypt=optional|mandatory`) or
//! first (TDS 8.0, `Encrypt=strict`, ALPN `tds/8.0`). Results come back through the engine's
//! [`OutputSink`], exactly as the Unix-socket client delivers them, so sqlcmd prints the same.

mod tls;

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use tds::client::{LoginParams, PacketReader, ServerToken, TokenDecoder};
use tds::login7::version;
use tds::packet::{DEFAULT_PACKET_SIZE, Framer, packet_type};
use tds::prelogin::encrypt;
use tds::token::{DoneKind, done_status, env_type};
use vdi_server::engine::OutputSink;
use vdi_server::tsql::SqlMessage;
use vdi_server::tsql::value::Table;

/// Where a TDS server is: `host,port` (`\instance` is sent in PRELOGIN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub instance: String,
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{},{}", self.host, self.port)
    }
}

/// sqlcmd's `-N`: how the connection is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encrypt {
    /// `-N o`, `Encrypt=optional|no`: TLS for the login only, unless the server forces it.
    Optional,
    /// `-N m`, `Encrypt=mandatory|yes` (ODBC Driver 18's and sqlcmd 18's default).
    #[default]
    Mandatory,
    /// `-N s`, `Encrypt=strict`: TDS 8.0, TLS before the first TDS byte.
    Strict,
}

/// How to connect and log in.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub encrypt: Encrypt,
    /// `-C`: TrustServerCertificate=yes.
    pub trust_server_certificate: bool,
    pub packet_size: u32,
    pub user: String,
    pub password: String,
    pub database: String,
    pub app: String,
    /// The login timeout (`-l`); `None` waits for ever.
    pub timeout: Option<Duration>,
}

/// Why a connection did not become a session.
#[derive(Debug)]
pub enum ConnectError {
    /// The server refused the login: its messages (18456, 4060 …).
    Refused {
        server_name: String,
        messages: Vec<SqlMessage>,
    },
    LoginTimeout,
    /// No TCP connection (refused, unreachable, no such host).
    Network(String),
    /// The TLS handshake failed (a certificate not trusted, …).
    Tls(String),
    /// The server does not encrypt but the client requires it.
    EncryptionNotSupported,
    /// The server broke the protocol, or the connection dropped during the login.
    Protocol(String),
}

/// How a batch ended.
#[derive(Debug, Clone, Copy, Default)]
pub struct Finished {
    /// The batch was cancelled by an attention (its deadline passed).
    pub cancelled: bool,
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => &s.sock,
        }
    }

    /// The socket (TLS, if any, is dropped without a close_notify: TDS 7.x's login-only
    /// encryption simply stops using it).
    fn into_tcp(self) -> TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.sock,
        }
    }

    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.write_all(bytes),
            Stream::Tls(s) => {
                s.write_all(bytes)?;
                s.flush()
            }
        }
    }

    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

/// A logged-in TDS session.
pub struct TdsClient {
    stream: Stream,
    framer: Framer,
    packets: PacketReader,
    decoder: TokenDecoder,
    server_name: String,
    scratch: Vec<u8>,
}

impl std::fmt::Debug for TdsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TdsClient")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

impl TdsClient {
    /// Connects, negotiates encryption and logs in.
    pub fn connect(
        endpoint: &Endpoint,
        options: &ConnectOptions,
    ) -> Result<TdsClient, ConnectError> {
        let deadline = options.timeout.map(|t| Instant::now() + t);
        let tcp = open_tcp(endpoint, options.timeout)?;
        let _ = tcp.set_nodelay(true);
        let remaining = || {
            deadline.map(|d| {
                d.saturating_duration_since(Instant::now())
                    .max(Duration::from_millis(1))
            })
        };
        let _ = tcp.set_read_timeout(remaining());
        let _ = tcp.set_write_timeout(remaining());
        let io_error = |e: io::Error| {
            if is_timeout(&e) {
                ConnectError::LoginTimeout
            } else {
                ConnectError::Protocol(e.to_string())
            }
        };
        let strict = options.encrypt == Encrypt::Strict;
        let tls_error = |e: io::Error| {
            if is_timeout(&e) {
                ConnectError::LoginTimeout
            } else {
                ConnectError::Tls(e.to_string())
            }
        };
        let new_tls = || -> Result<rustls::ClientConnection, ConnectError> {
            let config = tls::client_config(options.trust_server_certificate, strict)
                .map_err(ConnectError::Tls)?;
            let name = tls::server_name(&endpoint.host).map_err(ConnectError::Tls)?;
            rustls::ClientConnection::new(config, name)
                .map_err(|e| ConnectError::Tls(e.to_string()))
        };
        let mut client = TdsClient {
            stream: Stream::Plain(tcp),
            framer: Framer::new(DEFAULT_PACKET_SIZE, 0),
            packets: PacketReader::new(),
            decoder: TokenDecoder::new(),
            server_name: endpoint.host.clone(),
            scratch: vec![0u8; 32 * 1024],
        };
        if strict {
            let mut tcp = client.stream.into_tcp();
            let mut conn = new_tls()?;
            tls::strict_handshake(&mut tcp, &mut conn).map_err(tls_error)?;
            client.stream = Stream::Tls(Box::new(rustls::StreamOwned::new(conn, tcp)));
        }
        let asked = match options.encrypt {
            Encrypt::Optional => encrypt::OFF,
            Encrypt::Mandatory | Encrypt::Strict => encrypt::ON,
        };
        let prelogin = tds::client::prelogin(asked, &endpoint.instance, std::process::id());
        client
            .send_message(packet_type::PRELOGIN, &prelogin)
            .map_err(io_error)?;
        let reply = client.read_message().map_err(io_error)?;
        let reply = tds::client::parse_prelogin_reply(&reply)
            .map_err(|e| ConnectError::Protocol(format!("PRELOGIN answer: {e}")))?;
        // What the server answered decides: ON/REQ everything encrypted, OFF the login only.
        let tls = match (strict, asked, reply.encryption) {
            (true, _, _) => None,
            (false, encrypt::ON, encrypt::NOT_SUP) => {
                return Err(ConnectError::EncryptionNotSupported);
            }
            (false, _, encrypt::NOT_SUP) => None,
            (false, encrypt::OFF, encrypt::OFF) => Some(true),
            (false, _, _) => Some(false),
        };
        if let Some(login_only) = tls {
            let mut tcp = client.stream.into_tcp();
            let mut conn = new_tls()?;
            tls::prelogin_handshake(&mut tcp, &mut conn).map_err(tls_error)?;
            client.stream = Stream::Tls(Box::new(rustls::StreamOwned::new(conn, tcp)));
            client.send_login(options, strict).map_err(io_error)?;
            if login_only {
                // TLS for the login only: the server answers in clear text.
                client.stream = Stream::Plain(client.stream.into_tcp());
            }
        } else {
            client.send_login(options, strict).map_err(io_error)?;
        }
        client.read_login_response().map_err(|e| match e {
            LoginError::Io(e) => io_error(e),
            LoginError::Refused(messages) => ConnectError::Refused {
                server_name: client.server_name.clone(),
                messages,
            },
        })?;
        let _ = client.stream.tcp().set_read_timeout(None);
        let _ = client.stream.tcp().set_write_timeout(None);
        Ok(client)
    }

    /// The server's name, as its messages carry it.
    #[must_use]
    pub fn server_name(&self) -> &str {
        &self.server_name
    }

    fn send_login(&mut self, options: &ConnectOptions, strict: bool) -> io::Result<()> {
        let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_default();
        let login = tds::client::login7(&LoginParams {
            tds_version: if strict {
                version::TDS80
            } else {
                version::TDS74
            },
            packet_size: options.packet_size,
            hostname,
            username: options.user.clone(),
            password: options.password.clone(),
            app_name: options.app.clone(),
            server_name: self.server_name.clone(),
            database: options.database.clone(),
        });
        self.send_message(packet_type::LOGIN7, &login)
    }

    fn send_message(&mut self, ty: u8, payload: &[u8]) -> io::Result<()> {
        let mut out = Vec::with_capacity(payload.len() + 64);
        self.framer.message(ty, payload, &mut out);
        self.stream.send(&out)
    }

    /// One whole message (PRELOGIN's answer).
    fn read_message(&mut self) -> io::Result<Vec<u8>> {
        let mut payload = Vec::new();
        loop {
            while let Some(p) = self.packets.poll_packet() {
                payload.extend_from_slice(&p.body);
                if p.end_of_message {
                    return Ok(payload);
                }
            }
            self.receive()?;
        }
    }

    /// Reads what the socket has into the packet reader; end of stream is an error.
    fn receive(&mut self) -> io::Result<()> {
        let n = self.stream.recv(&mut self.scratch)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection",
            ));
        }
        self.packets
            .handle_bytes(&self.scratch[..n])
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))
    }

    /// The next token of the response being read; reads the socket as needed.
    fn next_token(&mut self) -> io::Result<ServerToken> {
        loop {
            match self.decoder.poll_token() {
                Ok(Some(token)) => return Ok(token),
                Ok(None) => {}
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
            }
            match self.packets.poll_packet() {
                Some(p) => self
                    .decoder
                    .handle_payload(&p.body, p.end_of_message)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?,
                None => self.receive()?,
            }
        }
    }

    fn read_login_response(&mut self) -> Result<(), LoginError> {
        let mut acknowledged = false;
        let mut messages = Vec::new();
        let mut named = false;
        loop {
            match self.next_token().map_err(LoginError::Io)? {
                ServerToken::Message { message, server } => {
                    if !named && !server.is_empty() {
                        self.server_name = server;
                        named = true;
                    }
                    messages.push(message);
                }
                ServerToken::LoginAck { .. } => acknowledged = true,
                ServerToken::EnvChange { kind, new } => self.env_change(kind, &new),
                ServerToken::Done(done) if done.status & done_status::MORE == 0 => {
                    return if acknowledged {
                        Ok(())
                    } else {
                        Err(LoginError::Refused(
                            messages.into_iter().filter(SqlMessage::is_error).collect(),
                        ))
                    };
                }
                _ => {}
            }
        }
    }

    fn env_change(&mut self, kind: u8, new: &str) {
        if kind == env_type::PACKET_SIZE
            && let Ok(size) = new.parse::<usize>()
        {
            self.framer.set_packet_size(size);
        }
    }

    /// Runs a batch, handing its messages, result sets and row counts to `sink` as they
    /// arrive. At `deadline` an ATTENTION is sent (after `on_timeout` runs) and the rest of the
    /// response is read and dropped up to the server's DONE(ATTN); the session stays usable.
    pub fn execute(
        &mut self,
        text: &str,
        sink: &mut dyn OutputSink,
        deadline: Option<Instant>,
        on_timeout: &mut dyn FnMut(),
    ) -> io::Result<Finished> {
        let payload = tds::client::sql_batch(text);
        self.send_message(packet_type::SQL_BATCH, &payload)?;
        let mut pending: Option<Table> = None;
        let mut attention_sent = false;
        let mut cancelled = false;
        loop {
            let timeout = if attention_sent {
                None
            } else {
                deadline.map(|d| {
                    d.saturating_duration_since(Instant::now())
                        .max(Duration::from_millis(1))
                })
            };
            let _ = self.stream.tcp().set_read_timeout(timeout);
            let token = match self.next_token() {
                Ok(token) => token,
                Err(e) if is_timeout(&e) && !attention_sent => {
                    on_timeout();
                    self.send_message(packet_type::ATTENTION, &[])?;
                    attention_sent = true;
                    continue;
                }
                Err(e) => {
                    let _ = self.stream.tcp().set_read_timeout(None);
                    return Err(e);
                }
            };
            match token {
                ServerToken::Columns(columns) => {
                    if let Some(table) = pending.take() {
                        sink.result_set(table);
                    }
                    pending = Some(Table::new(columns));
                }
                ServerToken::Row(row) => {
                    if let Some(table) = pending.as_mut() {
                        table.push(row);
                    }
                }
                ServerToken::Message { message, .. } => {
                    if let Some(table) = pending.take() {
                        sink.result_set(table);
                    }
                    if !attention_sent {
                        sink.message(message);
                    }
                }
                ServerToken::EnvChange { kind, new } => self.env_change(kind, &new),
                ServerToken::Done(done) => {
                    if let Some(table) = pending.take()
                        && !attention_sent
                    {
                        sink.result_set(table);
                    }
                    if done.status & done_status::COUNT != 0 && !attention_sent {
                        sink.rows_affected(done.row_count);
                    }
                    if done.status & done_status::ATTN != 0 {
                        cancelled = true;
                    }
                    let last = done.status & done_status::MORE == 0
                        && matches!(done.kind, DoneKind::Done | DoneKind::DoneProc)
                        && self.decoder.is_drained();
                    // After an attention the response ends only with the DONE that has ATTN.
                    if last && (!attention_sent || cancelled) {
                        let _ = self.stream.tcp().set_read_timeout(None);
                        return Ok(Finished { cancelled });
                    }
                }
                _ => {}
            }
        }
    }
}

enum LoginError {
    Io(io::Error),
    Refused(Vec<SqlMessage>),
}

fn open_tcp(endpoint: &Endpoint, timeout: Option<Duration>) -> Result<TcpStream, ConnectError> {
    let host = endpoint.host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<_> = (host, endpoint.port)
        .to_socket_addrs()
        .map_err(|e| ConnectError::Network(format!("{endpoint}: {e}")))?
        .collect();
    let mut last = None;
    for addr in addrs {
        let attempt = match timeout {
            Some(t) => TcpStream::connect_timeout(&addr, t),
            None => TcpStream::connect(addr),
        };
        match attempt {
            Ok(s) => return Ok(s),
            Err(e) if is_timeout(&e) => return Err(ConnectError::LoginTimeout),
            Err(e) => last = Some(e),
        }
    }
    Err(ConnectError::Network(match last {
        Some(e) => format!("{endpoint}: {}", crate::sqlcmd::reason(&e)),
        None => format!("{endpoint}: no address"),
    }))
}
