//! One TDS connection: the handshake (clear, TLS inside PRELOGIN, or TLS first), the login
//! against the engine, then requests until the client leaves. Returns the one line the log
//! gets about how the connection ended.

use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use tds::prelogin::Negotiated;
use tds::server::{Established, Handshake, HandshakeConfig, HandshakeEvent, LoginAccepted};
use tds::service::{Served, Service, Transmit};
use tds::tls_frame::starts_with_tls;
use tds::{ExecOutcome, Executor, Request};

use super::Shared;
use super::channel::Channel;
use super::tls::{prelogin_handshake, strict_handshake};
use crate::engine::{CancelToken, OutputSink, Session};
use crate::tsql::{Batch, SqlMessage};

/// Requests read ahead of the one running (clients send one at a time; this is backpressure).
const READ_AHEAD: usize = 8;

pub(super) fn serve(
    shared: &Arc<Shared>,
    id: u64,
    mut stream: TcpStream,
    peer: SocketAddr,
) -> String {
    let config = &shared.config;
    let _ = stream.set_nodelay(true);
    if stream.set_read_timeout(Some(config.login_timeout)).is_err() {
        return "closed: cannot set a read timeout".into();
    }
    // TDS 8.0 clients start with a TLS ClientHello instead of a PRELOGIN packet.
    let mut first = [0u8; 3];
    let strict = loop {
        match stream.peek(&mut first) {
            Ok(0) => return format!("from {peer}: closed before sending anything"),
            Ok(n) => {
                if let Some(tls) = starts_with_tls(&first[..n]) {
                    break tls;
                }
                if n == first.len() {
                    break false;
                }
            }
            Err(e) => return format!("from {peer}: closed before the handshake: {e}"),
        }
    };
    let mut channel = if strict {
        let Some(identity) = &config.tls else {
            return format!(
                "from {peer}: closed: TLS-first (TDS 8.0 strict) client, but the server has no TLS"
            );
        };
        let mut conn = match rustls::ServerConnection::new(Arc::clone(&identity.strict)) {
            Ok(c) => c,
            Err(e) => return format!("from {peer}: closed: TLS: {e}"),
        };
        if let Err(e) = strict_handshake(&mut stream, &mut conn) {
            return format!("from {peer}: closed: TLS handshake (TDS 8.0 strict) failed: {e}");
        }
        match Channel::tls(&stream, conn, &[]) {
            Ok(c) => c,
            Err(e) => return format!("from {peer}: closed: {e}"),
        }
    } else {
        match Channel::plain(&stream) {
            Ok(c) => c,
            Err(e) => return format!("from {peer}: closed: {e}"),
        }
    };
    let handshake_config = HandshakeConfig {
        server_name: config.engine.server_name().to_owned(),
        encryption: config.encryption(),
        strict,
        max_message: config.max_message,
        login_timeout: config.login_timeout,
        ..HandshakeConfig::default()
    };
    let mut hs = Handshake::new(handshake_config, Instant::now());
    let mut scratch = vec![0u8; 32 * 1024];
    let (session, established, login_desc) = loop {
        let mut out = Vec::new();
        if hs.poll_transmit(&mut out)
            && let Err(e) = channel.send(&out)
        {
            return format!("from {peer}: closed during the handshake: {e}");
        }
        let mut login_result = None;
        while let Some(event) = hs.poll_event() {
            match event {
                HandshakeEvent::StartTls => {
                    let Some(identity) = &config.tls else {
                        return format!("from {peer}: closed: TLS asked for without a certificate");
                    };
                    let mut conn =
                        match rustls::ServerConnection::new(Arc::clone(&identity.prelogin)) {
                            Ok(c) => c,
                            Err(e) => return format!("from {peer}: closed: TLS: {e}"),
                        };
                    let leftover = match prelogin_handshake(&mut stream, &mut conn) {
                        Ok(l) => l,
                        Err(e) => return format!("from {peer}: closed: TLS handshake failed: {e}"),
                    };
                    channel = match Channel::tls(&stream, conn, &leftover) {
                        Ok(c) => c,
                        Err(e) => return format!("from {peer}: closed: TLS: {e}"),
                    };
                    if let Err(e) = hs.handle_tls_established() {
                        return format!("from {peer}: closed: {e}");
                    }
                }
                HandshakeEvent::Login { login, drop_tls } => login_result = Some((login, drop_tls)),
                HandshakeEvent::Close { reason } => {
                    let mut out = Vec::new();
                    if hs.poll_transmit(&mut out) {
                        let _ = channel.send(&out);
                    }
                    return format!("from {peer}: closed: {reason}");
                }
            }
        }
        if let Some((login, drop_tls)) = login_result {
            let tls = match (strict, hs.negotiated(), drop_tls) {
                (true, _, _) => "TLS (TDS 8.0 strict)",
                (false, Negotiated::Full, _) => "TLS",
                (false, _, true) => "TLS for the login only",
                _ => "no TLS",
            };
            let who = format!(
                "from {peer}: user '{}', app '{}', library '{}', host '{}', TDS 0x{:08X}, {tls}",
                login.username,
                login.app_name,
                login.library_name,
                login.hostname,
                login.tds_version
            );
            if drop_tls {
                channel = match channel.into_plain() {
                    Ok(c) => c,
                    Err(e) => return format!("{who}: closed: {e}"),
                };
            }
            let result = if login.sspi {
                Err(vec![SqlMessage::new(
                    18452,
                    14,
                    1,
                    1,
                    "Login failed. The login is from an untrusted domain and cannot be used with Integrated authentication.",
                )])
            } else {
                let database = Some(login.database.as_str()).filter(|d| !d.is_empty());
                config
                    .engine
                    .login(&login.username, &login.password, database)
            };
            match result {
                Ok(session) => {
                    let accepted = LoginAccepted {
                        database: session.database().to_owned(),
                        spid: u16::try_from(50 + session.id() % 32_000).unwrap_or(51),
                    };
                    match hs.accept_login(&accepted) {
                        Ok(established) => break (session, established, who),
                        Err(e) => return format!("{who}: closed: {e}"),
                    }
                }
                Err(messages) => {
                    hs.reject_login(&messages);
                    let mut out = Vec::new();
                    if hs.poll_transmit(&mut out) {
                        let _ = channel.send(&out);
                    }
                    let number = messages.last().map_or(18456, |m| m.number);
                    return format!("{who}: login failed (Msg {number}); closed");
                }
            }
        }
        let received = match channel.recv(&mut scratch) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => {
                return format!(
                    "from {peer}: the client closed the connection during the handshake"
                );
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return format!(
                    "from {peer}: closed: no login within {} s",
                    config.login_timeout.as_secs()
                );
            }
            Err(e) => return format!("from {peer}: closed during the handshake: {e}"),
        };
        if let Err(e) = hs
            .handle_bytes(&received)
            .and_then(|()| hs.handle_timeout(Instant::now()))
        {
            return format!("from {peer}: closed: {e}");
        }
    };
    let _ = stream.set_read_timeout(None);
    shared.log(
        id,
        &format!(
            "{login_desc}: logged in, session {}, database {}",
            session.id(),
            session.database()
        ),
    );
    let channel = Arc::new(channel);
    run_session(id, &channel, session, established)
}

/// What the reading thread hands the running thread.
enum Incoming {
    Request(Request, CancelToken),
    Attention,
    Closed(String),
}

fn run_session(
    id: u64,
    channel: &Arc<Channel>,
    mut session: Session,
    established: Established,
) -> String {
    let Established {
        requests,
        mut responses,
        ..
    } = established;
    let mut out = Vec::new();
    if responses.poll_transmit(&mut out) && channel.send(&out).is_err() {
        return "the client left before the login response".into();
    }
    let attentions = Arc::new(AtomicU64::new(0));
    let (tx, rx) = mpsc::sync_channel(READ_AHEAD);
    let reader = {
        let channel = Arc::clone(channel);
        let attentions = Arc::clone(&attentions);
        std::thread::Builder::new()
            .name(format!("vdisim-tds-{id}-read"))
            .spawn(move || read_requests(&channel, requests, &tx, &attentions))
    };
    let Ok(reader) = reader else {
        return "closed: cannot start the reading thread".into();
    };
    let mut service = Service::new();
    let mut acked = 0u64;
    let mut ending = String::from("disconnected");
    let mut executor = SessionExecutor {
        session: &mut session,
    };
    let mut transmit = ChannelTransmit(channel);
    let mut requests_served = 0u64;
    for incoming in &rx {
        match incoming {
            Incoming::Request(request, cancel) => {
                requests_served += 1;
                let served = service.serve(
                    &request,
                    &mut executor,
                    &mut responses,
                    &mut transmit,
                    &cancel,
                );
                let pending = attentions.load(Ordering::SeqCst) > acked;
                match served {
                    Served::ClientGone => {
                        ending = "the client vanished while a response was being sent".into();
                        break;
                    }
                    Served::Cancelled if !pending => {
                        // No attention: the client went away (or the server is stopping).
                        ending = match rx.recv_timeout(std::time::Duration::from_secs(1)) {
                            Ok(Incoming::Closed(reason)) => {
                                format!("the client vanished while its request ran ({reason})")
                            }
                            _ => "closed: request cancelled by the server stopping".into(),
                        };
                        break;
                    }
                    Served::Complete if !pending => {}
                    Served::Cancelled | Served::Complete => {
                        acked = attentions.load(Ordering::SeqCst);
                        if !acknowledge_attention(&mut responses, channel) {
                            break;
                        }
                    }
                }
            }
            Incoming::Attention => {
                let received = attentions.load(Ordering::SeqCst);
                if received > acked {
                    acked = received;
                    if !acknowledge_attention(&mut responses, channel) {
                        break;
                    }
                }
            }
            Incoming::Closed(reason) => {
                ending = reason;
                break;
            }
        }
    }
    channel.shutdown();
    drop(rx);
    let _ = reader.join();
    format!(
        "{ending} (session {}, {requests_served} request(s))",
        session.id()
    )
}

fn acknowledge_attention(responses: &mut tds::response::ResponseWriter, channel: &Channel) -> bool {
    responses.end_attention();
    let mut out = Vec::new();
    !responses.poll_transmit(&mut out) || channel.send(&out).is_ok()
}

fn read_requests(
    channel: &Channel,
    mut requests: tds::RequestReader,
    tx: &mpsc::SyncSender<Incoming>,
    attentions: &AtomicU64,
) {
    let mut latest = CancelToken::new();
    let mut scratch = vec![0u8; 32 * 1024];
    let reason = 'read: loop {
        let bytes = match channel.recv(&mut scratch) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => break "disconnected".to_owned(),
            Err(e) => break format!("closed: {e}"),
        };
        if let Err(e) = requests.handle_bytes(&bytes) {
            break format!("closed: {e}");
        }
        while let Some(request) = requests.poll_request() {
            let incoming = match request {
                Ok(Request::Attention) => {
                    attentions.fetch_add(1, Ordering::SeqCst);
                    latest.cancel();
                    Incoming::Attention
                }
                Ok(request) => {
                    latest = CancelToken::new();
                    Incoming::Request(request, latest.clone())
                }
                Err(e) => break 'read format!("closed: {e}"),
            };
            if tx.send(incoming).is_err() {
                return;
            }
        }
    };
    // A vanished client cancels what it was running.
    latest.cancel();
    let _ = tx.send(Incoming::Closed(reason));
}

struct ChannelTransmit<'a>(&'a Channel);

impl Transmit for ChannelTransmit<'_> {
    fn transmit(&mut self, bytes: &[u8]) -> bool {
        self.0.send(bytes).is_ok()
    }
}

/// The engine behind the `tds` crate's executor trait.
struct SessionExecutor<'a> {
    session: &'a mut Session,
}

impl Executor for SessionExecutor<'_> {
    fn execute_batch(
        &mut self,
        sql: &str,
        sink: &mut dyn OutputSink,
        cancel: &CancelToken,
    ) -> ExecOutcome {
        let batch = Batch {
            text: sql.to_owned(),
            first_line: 1,
            repeat: 1,
        };
        let outcome = self.session.execute_batch_cancellable(&batch, sink, cancel);
        ExecOutcome {
            error: outcome.error,
            cancelled: outcome.cancelled,
            outputs: Vec::new(),
        }
    }

    fn database(&self) -> String {
        self.session.database().to_owned()
    }
}
