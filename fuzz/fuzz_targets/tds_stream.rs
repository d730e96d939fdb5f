//! The TDS server side (crate `tds`) on arbitrary byte streams: the handshake (PRELOGIN,
//! LOGIN7), then a logged-in connection's requests (SQL_BATCH, RPC with every parameter type,
//! transaction requests, ATTENTION) run through the service with an executor that echoes what
//! it gets. The first byte picks how the stream is cut into reads and the packet size.
//!
//! Checks: no panic, no hang; an error ends the stream (as it ends the connection); the
//! responses written are well-formed packets.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::time::Instant;
use tds::packet::Deframer;
use tds::server::{Handshake, HandshakeConfig, HandshakeEvent, LoginAccepted, RequestReader};
use tds::{ExecOutcome, Executor, Request, Service, Transmit};
use tsql::output::{CancelToken, OutputSink};
use tsql::value::{Column, SqlType, Table, Value};

struct Echo;

impl Executor for Echo {
    fn execute_batch(
        &mut self,
        sql: &str,
        sink: &mut dyn OutputSink,
        _: &CancelToken,
    ) -> ExecOutcome {
        let mut t = Table::new(vec![Column::new("sql", SqlType::NVarChar(None), true)]);
        t.push(vec![Value::text(sql)]);
        sink.result_set(t);
        sink.message(tsql::SqlMessage::new(
            50_000,
            16,
            1,
            1,
            sql.chars().take(100).collect::<String>(),
        ));
        sink.rows_affected(1);
        ExecOutcome::default()
    }

    fn database(&self) -> String {
        "master".into()
    }
}

/// Checks every response parses back into packets.
struct Check(Deframer);

impl Transmit for Check {
    fn transmit(&mut self, bytes: &[u8]) -> bool {
        self.0
            .handle_bytes(bytes)
            .expect("the server's own packets are well-formed");
        while self.0.poll_message().is_some() {}
        true
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let chunk = 1 + usize::from(mode & 0x3F) * 7;
    let packet_size = [512, 4096, 8000, 32_767][usize::from(mode >> 6)];
    let config = HandshakeConfig {
        max_message: 1 << 16,
        ..HandshakeConfig::default()
    };
    let mut hs = Handshake::new(config, Instant::now());
    let mut logged_in = None;
    let mut offset = 0;
    'handshake: for part in rest.chunks(chunk) {
        offset += part.len();
        if hs.handle_bytes(part).is_err() {
            return;
        }
        let mut out = Vec::new();
        let _ = hs.poll_transmit(&mut out);
        while let Some(event) = hs.poll_event() {
            match event {
                HandshakeEvent::StartTls => {
                    if hs.handle_tls_established().is_err() {
                        return;
                    }
                }
                HandshakeEvent::Login { login, .. } => {
                    assert!(login.username.len() <= 128 * 3);
                    logged_in = Some(login);
                    break 'handshake;
                }
                HandshakeEvent::Close { .. } => return,
            }
        }
    }
    // Whatever follows the login (or the whole input, when it has no login) as requests.
    let (mut reader, mut writer) = match logged_in {
        Some(_) => match hs.accept_login(&LoginAccepted {
            database: "master".into(),
            spid: 51,
        }) {
            Ok(e) => (e.requests, e.responses),
            Err(_) => return,
        },
        None => {
            offset = 0;
            (
                RequestReader::new(packet_size, 1 << 16),
                tds::response::ResponseWriter::new(
                    packet_size,
                    51,
                    tds::types::Dialect::default(),
                    "FUZZ",
                ),
            )
        }
    };
    let mut service = Service::new();
    let mut check = Check(Deframer::new(32_767, 1 << 24));
    for part in rest[offset..].chunks(chunk) {
        if reader.handle_bytes(part).is_err() {
            return;
        }
        while let Some(request) = reader.poll_request() {
            match request {
                Ok(Request::Attention) => {
                    writer.end_attention();
                    let mut out = Vec::new();
                    let _ = writer.poll_transmit(&mut out);
                    check.transmit(&out);
                }
                Ok(request) => {
                    let _ = service.serve(
                        &request,
                        &mut Echo,
                        &mut writer,
                        &mut check,
                        &CancelToken::new(),
                    );
                }
                Err(_) => return,
            }
        }
    }
});
