//! The connection before and at login, as per-state types (rustls style): each state takes the
//! bytes it expects and moves on, or fails; nothing here touches a socket or reads a clock.
//!
//! ```text
//!  Handshake ──PRELOGIN──▶ (StartTls ─▶ TLS in PRELOGIN packets ─▶ handle_tls_established)
//!            ──LOGIN7───▶ Login event ─▶ accept_login ─▶ Established { RequestReader, ResponseWriter }
//!                                      └▶ reject_login ─▶ Close event
//! ```
//! TDS 8.0 (strict) runs TLS before the first byte: the I/O layer does the handshake, then
//! feeds the plaintext here as usual ([`HandshakeConfig::strict`]); no StartTls is asked for.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use tsql::SqlMessage;

use crate::error::{Result, TdsError};
use crate::login7::{Login7, feature, version};
use crate::packet::{
    DEFAULT_MAX_MESSAGE, DEFAULT_PACKET_SIZE, Deframer, Framer, MAX_PACKET_SIZE, MIN_PACKET_SIZE,
    packet_type,
};
use crate::prelogin::{
    ClientPrelogin, EncryptionPolicy, Negotiated, ServerPrelogin, instance_matches, negotiate,
};
use crate::request::{Request, parse_request};
use crate::response::ResponseWriter;
use crate::token::{self, env_type};
use crate::types::{COLLATION, Dialect};

/// Settings for new connections.
#[derive(Debug, Clone)]
pub struct HandshakeConfig {
    pub server_name: String,
    /// (major, minor, build) in PRELOGIN and LOGINACK.
    pub version: (u8, u8, u16),
    pub encryption: EncryptionPolicy,
    /// TLS came first (TDS 8.0): PRELOGIN's encryption byte is not negotiated.
    pub strict: bool,
    pub max_message: usize,
    pub login_timeout: Duration,
}

impl Default for HandshakeConfig {
    fn default() -> Self {
        HandshakeConfig {
            server_name: "VDISIM".into(),
            version: (16, 0, 1000),
            encryption: EncryptionPolicy::Optional,
            strict: false,
            max_message: DEFAULT_MAX_MESSAGE,
            login_timeout: Duration::from_secs(30),
        }
    }
}

/// What the I/O layer must do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeEvent {
    /// Send what [`Handshake::poll_transmit`] has, then run the TLS handshake inside PRELOGIN
    /// packets ([`crate::tls_frame::PreloginTlsFraming`]) and call
    /// [`Handshake::handle_tls_established`].
    StartTls,
    /// Check the credentials, then [`Handshake::accept_login`] or [`Handshake::reject_login`].
    /// With `drop_tls`, TLS covered the LOGIN7 only: everything after it is clear text.
    Login { login: Box<Login7>, drop_tls: bool },
    /// Send what is left, then close.
    Close { reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    ExpectPrelogin,
    TlsHandshake,
    ExpectLogin,
    Authenticating,
    Closed,
}

/// A connection from its first byte to its login.
#[derive(Debug)]
pub struct Handshake {
    config: HandshakeConfig,
    state: State,
    deframer: Deframer,
    framer: Framer,
    out: Vec<u8>,
    events: VecDeque<HandshakeEvent>,
    deadline: Instant,
    negotiated: Negotiated,
    login: Option<Login7>,
}

/// What the host decided about a login it accepted.
#[derive(Debug, Clone)]
pub struct LoginAccepted {
    pub database: String,
    /// The session id in packet headers (SQL Server's SPID, ≥ 51 for user sessions).
    pub spid: u16,
}

/// A logged-in connection, split for a reading thread and a writing one.
#[derive(Debug)]
pub struct Established {
    pub requests: RequestReader,
    pub responses: ResponseWriter,
    pub login: Login7,
    pub tds_version: u32,
}

impl Handshake {
    #[must_use]
    pub fn new(config: HandshakeConfig, now: Instant) -> Self {
        Handshake {
            deframer: Deframer::new(DEFAULT_PACKET_SIZE, crate::login7::MAX_LOGIN7_LEN),
            framer: Framer::new(DEFAULT_PACKET_SIZE, 0),
            deadline: now + config.login_timeout,
            config,
            state: State::ExpectPrelogin,
            out: Vec::new(),
            events: VecDeque::new(),
            negotiated: Negotiated::None,
            login: None,
        }
    }

    /// When the login must be complete; see [`Handshake::handle_timeout`].
    #[must_use]
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    pub fn handle_timeout(&mut self, now: Instant) -> Result<()> {
        if now >= self.deadline && self.state != State::Authenticating {
            self.state = State::Closed;
            return Err(TdsError::LoginTimeout);
        }
        Ok(())
    }

    /// Clear-text TDS bytes from the client (decrypted by the I/O layer under TLS).
    pub fn handle_bytes(&mut self, data: &[u8]) -> Result<()> {
        match self.state {
            State::ExpectPrelogin | State::ExpectLogin => {}
            State::TlsHandshake => {
                return Err(TdsError::malformed(
                    "handshake",
                    "TDS bytes while TLS is being set up",
                ));
            }
            State::Authenticating => {
                return Err(TdsError::malformed(
                    "handshake",
                    "bytes after LOGIN7 before its answer",
                ));
            }
            State::Closed => return Err(TdsError::malformed("handshake", "bytes after close")),
        }
        let result = self
            .deframer
            .handle_bytes(data)
            .and_then(|()| self.process());
        if result.is_err() {
            self.state = State::Closed;
        }
        result
    }

    fn process(&mut self) -> Result<()> {
        while let Some(message) = self.deframer.poll_message() {
            match (self.state, message.packet_type) {
                (State::ExpectPrelogin, packet_type::PRELOGIN) => {
                    self.prelogin(&message.payload)?
                }
                (State::ExpectLogin, packet_type::LOGIN7) => {
                    let login = Login7::parse(&message.payload)?;
                    self.state = State::Authenticating;
                    self.events.push_back(HandshakeEvent::Login {
                        login: Box::new(login.clone()),
                        drop_tls: self.negotiated == Negotiated::LoginOnly,
                    });
                    self.login = Some(login);
                }
                (State::ExpectPrelogin, packet_type::LOGIN7) => {
                    // A client may skip PRELOGIN (TDS 7.0 style): no encryption then.
                    let login = Login7::parse(&message.payload)?;
                    self.state = State::Authenticating;
                    self.events.push_back(HandshakeEvent::Login {
                        login: Box::new(login.clone()),
                        drop_tls: false,
                    });
                    self.login = Some(login);
                }
                (_, packet_type::PRE_TDS7_LOGIN) => {
                    return Err(TdsError::Unsupported("TDS 4.2/5.0 logins".into()));
                }
                (_, other) => {
                    return Err(TdsError::UnexpectedPacket {
                        packet_type: other,
                        during: "before login",
                    });
                }
            }
        }
        Ok(())
    }

    fn prelogin(&mut self, payload: &[u8]) -> Result<()> {
        let client = ClientPrelogin::parse(payload)?;
        let (encryption, negotiated) = if self.config.strict {
            // TLS is already up; echo what the client said.
            (
                client.encryption.unwrap_or(crate::prelogin::encrypt::ON),
                Negotiated::None,
            )
        } else {
            negotiate(self.config.encryption, client.encryption)
        };
        let response = ServerPrelogin {
            version: self.config.version,
            encryption,
            instance_ok: instance_matches(client.instance.as_deref(), &self.config.server_name),
            fed_auth_echo: client.fed_auth_required,
        };
        self.framer.message(
            packet_type::TABULAR_RESULT,
            &response.encode(),
            &mut self.out,
        );
        self.negotiated = negotiated;
        match negotiated {
            Negotiated::None => self.state = State::ExpectLogin,
            Negotiated::LoginOnly | Negotiated::Full => {
                self.state = State::TlsHandshake;
                self.events.push_back(HandshakeEvent::StartTls);
            }
            Negotiated::Refuse => {
                self.state = State::Closed;
                self.events.push_back(HandshakeEvent::Close {
                    reason: "the client cannot encrypt and the server requires encryption".into(),
                });
            }
        }
        Ok(())
    }

    /// The TLS handshake inside PRELOGIN finished; LOGIN7 comes next (encrypted).
    pub fn handle_tls_established(&mut self) -> Result<()> {
        if self.state != State::TlsHandshake {
            return Err(TdsError::malformed(
                "handshake",
                "TLS established without a PRELOGIN asking for it",
            ));
        }
        self.state = State::ExpectLogin;
        Ok(())
    }

    /// What TLS the client and server agreed on in PRELOGIN.
    #[must_use]
    pub fn negotiated(&self) -> Negotiated {
        self.negotiated
    }

    #[must_use]
    pub fn poll_event(&mut self) -> Option<HandshakeEvent> {
        self.events.pop_front()
    }

    #[must_use]
    pub fn poll_transmit(&mut self, buf: &mut Vec<u8>) -> bool {
        if self.out.is_empty() {
            return false;
        }
        buf.append(&mut self.out);
        true
    }

    /// Refuses the login: the messages (18456 …) then DONE(ERROR); the connection closes.
    pub fn reject_login(&mut self, messages: &[SqlMessage]) {
        let mut body = Vec::new();
        for m in messages {
            token::put_message(
                &mut body,
                m.number,
                m.state,
                m.level,
                &m.text,
                &self.config.server_name,
                "",
                m.line,
            );
        }
        token::Done {
            kind: token::DoneKind::Done,
            status: token::done_status::ERROR,
            cur_cmd: 0,
            row_count: 0,
        }
        .put(&mut body);
        self.framer
            .message(packet_type::TABULAR_RESULT, &body, &mut self.out);
        self.state = State::Closed;
        self.events.push_back(HandshakeEvent::Close {
            reason: "login failed".into(),
        });
    }

    /// Accepts the login: the login response (ENVCHANGEs, INFOs, LOGINACK, FEATUREEXTACK,
    /// DONE) is written into the returned writer, ready to transmit.
    pub fn accept_login(self, accepted: &LoginAccepted) -> Result<Established> {
        let login = match (self.state, self.login) {
            (State::Authenticating, Some(login)) => login,
            _ => {
                return Err(TdsError::malformed(
                    "handshake",
                    "accept_login without a LOGIN7",
                ));
            }
        };
        let tds_version = match login.tds_version {
            v if v >= version::TDS74 || v == version::TDS80 => version::TDS74,
            v if v >= version::TDS73B => version::TDS73B,
            v if v >= version::TDS73A => version::TDS73A,
            v if v >= version::TDS72 => version::TDS72,
            v if v >= version::TDS71 => version::TDS71,
            other => return Err(TdsError::Unsupported(format!("TDS version 0x{other:08X}"))),
        };
        let packet_size = match login.packet_size as usize {
            0 => DEFAULT_PACKET_SIZE,
            n => n.clamp(MIN_PACKET_SIZE, MAX_PACKET_SIZE),
        };
        let dialect = Dialect { tds_version };
        let mut writer = ResponseWriter::new(
            DEFAULT_PACKET_SIZE,
            accepted.spid,
            dialect,
            &self.config.server_name,
        );
        let mut tokens = Vec::new();
        token::put_env_text(
            &mut tokens,
            env_type::DATABASE,
            &accepted.database,
            "master",
        );
        writer.raw_tokens(&tokens);
        writer.message(&tsql::SqlMessage::new(
            5701,
            0,
            2,
            0,
            format!("Changed database context to '{}'.", accepted.database),
        ));
        tokens.clear();
        token::put_env_bytes(&mut tokens, env_type::SQL_COLLATION, &COLLATION, &[]);
        token::put_env_text(&mut tokens, env_type::LANGUAGE, "us_english", "");
        writer.raw_tokens(&tokens);
        writer.message(&tsql::SqlMessage::new(
            5703,
            0,
            1,
            0,
            "Changed language setting to us_english.",
        ));
        tokens.clear();
        token::put_login_ack(&mut tokens, tds_version, self.config.version);
        token::put_env_text(
            &mut tokens,
            env_type::PACKET_SIZE,
            &packet_size.to_string(),
            &DEFAULT_PACKET_SIZE.to_string(),
        );
        if !login.features.is_empty() {
            token::put_feature_ext_ack(&mut tokens, &acknowledged_features(&login));
        }
        writer.raw_tokens(&tokens);
        // The INFO messages above are not errors: the DONE is plain.
        writer.end_batch();
        writer.set_packet_size(packet_size);
        let mut deframer = Deframer::new(packet_size, self.config.max_message);
        deframer.set_max_packet(packet_size);
        Ok(Established {
            requests: RequestReader { deframer },
            responses: writer,
            login,
            tds_version,
        })
    }
}

/// The features SQL Server 2022 acknowledges without promising anything it does not do:
/// UTF-8 support (the data itself stays in the server's collation), and global transactions
/// and data classification as "off". Session recovery and column encryption get no
/// acknowledgement, which tells the client they are unavailable.
fn acknowledged_features(login: &Login7) -> Vec<(u8, Vec<u8>)> {
    let mut acks = Vec::new();
    for (id, _) in &login.features {
        match *id {
            feature::UTF8_SUPPORT => acks.push((*id, vec![0x01])),
            feature::GLOBAL_TRANSACTIONS => acks.push((*id, vec![0x00])),
            feature::DATA_CLASSIFICATION => acks.push((*id, vec![0x01, 0x00])),
            _ => {}
        }
    }
    acks
}

/// Requests from a logged-in client (for the thread that reads the socket).
#[derive(Debug)]
pub struct RequestReader {
    deframer: Deframer,
}

impl RequestReader {
    /// A reader for a connection that is already logged in (tests, fuzzing).
    #[must_use]
    pub fn new(packet_size: usize, max_message: usize) -> Self {
        RequestReader {
            deframer: Deframer::new(packet_size, max_message),
        }
    }

    pub fn handle_bytes(&mut self, data: &[u8]) -> Result<()> {
        self.deframer.handle_bytes(data)
    }

    /// The next request, or the error that ends the connection.
    #[must_use]
    pub fn poll_request(&mut self) -> Option<Result<Request>> {
        self.deframer.poll_message().map(|m| parse_request(&m))
    }
}

#[cfg(test)]
mod tests;
