//! The handshake and a request driven end to end in memory, as a client would.

use std::time::{Duration, Instant};

use super::*;
use crate::exec::{ExecOutcome, Executor};
use crate::login7::Login7Builder;
use crate::packet::{Deframer, Framer};
use crate::prelogin::encrypt;
use crate::request::{client, proc_id};
use crate::service::{Served, Service, Transmit};
use crate::token::token_type;
use tsql::output::{CancelToken, OutputSink};
use tsql::value::{Column, SqlType, Table, Value};

fn client_prelogin(encryption: u8) -> Vec<u8> {
    // VERSION, ENCRYPTION, TERMINATOR
    let mut p = vec![0x00, 0, 11, 0, 6, 0x01, 0, 17, 0, 1, 0xFF];
    p.extend_from_slice(&[11, 0, 0, 0, 0, 0, encryption]);
    let mut out = Vec::new();
    Framer::new(4096, 0).message(packet_type::PRELOGIN, &p, &mut out);
    out
}

fn login(password: &str, packet_size: u32) -> Vec<u8> {
    let l = Login7Builder {
        tds_version: version::TDS74,
        packet_size,
        username: "sa".into(),
        password: password.into(),
        database: "master".into(),
        features: vec![(feature::UTF8_SUPPORT, vec![])],
        ..Login7Builder::default()
    };
    let mut out = Vec::new();
    Framer::new(4096, 0).message(packet_type::LOGIN7, &l.encode(), &mut out);
    out
}

fn messages(wire: &[u8]) -> Vec<Vec<u8>> {
    let mut d = Deframer::new(32_767, 1 << 24);
    d.handle_bytes(wire).unwrap();
    std::iter::from_fn(|| d.poll_message().map(|m| m.payload)).collect()
}

fn logged_in(packet_size: u32) -> Established {
    let now = Instant::now();
    let mut h = Handshake::new(HandshakeConfig::default(), now);
    h.handle_bytes(&client_prelogin(encrypt::NOT_SUP)).unwrap();
    let mut out = Vec::new();
    assert!(h.poll_transmit(&mut out));
    let response = messages(&out);
    let parsed = crate::prelogin::ClientPrelogin::parse(&response[0]).unwrap();
    assert_eq!(parsed.encryption, Some(encrypt::NOT_SUP));
    assert_eq!(h.poll_event(), None);
    h.handle_bytes(&login("pw", packet_size)).unwrap();
    let Some(HandshakeEvent::Login {
        login,
        drop_tls: false,
    }) = h.poll_event()
    else {
        panic!("no login event");
    };
    assert_eq!(login.password, "pw");
    h.accept_login(&LoginAccepted {
        database: "master".into(),
        spid: 51,
    })
    .unwrap()
}

#[test]
fn login_response_has_what_drivers_wait_for() {
    let mut e = logged_in(8192);
    let mut out = Vec::new();
    assert!(e.responses.poll_transmit(&mut out));
    let payload = &messages(&out)[0];
    for token in [
        token_type::ENVCHANGE,
        token_type::INFO,
        token_type::LOGINACK,
        token_type::FEATUREEXTACK,
        token_type::DONE,
    ] {
        assert!(payload.contains(&token), "token 0x{token:02X} missing");
    }
    let ack = payload
        .iter()
        .position(|&b| b == token_type::LOGINACK)
        .unwrap();
    assert_eq!(&payload[ack + 4..ack + 8], &version::TDS74.to_be_bytes());
    assert_eq!(e.responses.packet_size(), 8192);
}

#[test]
fn encryption_asks_for_tls_and_login_only_drops_it() {
    let mut h = Handshake::new(HandshakeConfig::default(), Instant::now());
    h.handle_bytes(&client_prelogin(encrypt::OFF)).unwrap();
    assert_eq!(h.poll_event(), Some(HandshakeEvent::StartTls));
    assert!(
        h.handle_bytes(&login("x", 4096)).is_err(),
        "clear LOGIN7 during TLS"
    );
    let mut h = Handshake::new(HandshakeConfig::default(), Instant::now());
    h.handle_bytes(&client_prelogin(encrypt::OFF)).unwrap();
    let _ = h.poll_event();
    h.handle_tls_established().unwrap();
    h.handle_bytes(&login("x", 4096)).unwrap();
    assert!(matches!(
        h.poll_event(),
        Some(HandshakeEvent::Login { drop_tls: true, .. })
    ));
}

#[test]
fn wrong_password_gets_18456_then_close() {
    let mut h = Handshake::new(HandshakeConfig::default(), Instant::now());
    h.handle_bytes(&client_prelogin(encrypt::NOT_SUP)).unwrap();
    h.handle_bytes(&login("bad", 4096)).unwrap();
    let _ = h.poll_event();
    h.reject_login(&[tsql::SqlMessage::new(
        18456,
        14,
        1,
        1,
        "Login failed for user 'sa'.",
    )]);
    assert!(matches!(h.poll_event(), Some(HandshakeEvent::Close { .. })));
    let mut out = Vec::new();
    let _ = h.poll_transmit(&mut out);
    let out = messages(&out);
    let payload = out.last().unwrap();
    assert_eq!(payload[0], token_type::ERROR);
    assert_eq!(&payload[3..7], &18456u32.to_le_bytes());
}

#[test]
fn login_timeout_and_garbage() {
    let now = Instant::now();
    let mut h = Handshake::new(
        HandshakeConfig {
            login_timeout: Duration::from_secs(5),
            ..Default::default()
        },
        now,
    );
    assert!(h.handle_timeout(now + Duration::from_secs(4)).is_ok());
    assert_eq!(
        h.handle_timeout(now + Duration::from_secs(5)),
        Err(TdsError::LoginTimeout)
    );
    let mut h = Handshake::new(HandshakeConfig::default(), now);
    let mut sql = Vec::new();
    Framer::new(512, 0).message(packet_type::SQL_BATCH, &client::sql_batch("x"), &mut sql);
    assert!(h.handle_bytes(&sql).is_err());
    assert!(
        h.handle_bytes(&client_prelogin(0)).is_err(),
        "closed stays closed"
    );
}

/// An executor that answers every batch with its own text as a one-row result.
struct Echo;

impl Executor for Echo {
    fn execute_batch(
        &mut self,
        sql: &str,
        sink: &mut dyn OutputSink,
        _: &CancelToken,
    ) -> ExecOutcome {
        let mut t = Table::new(vec![Column::new("sql", SqlType::NVarChar(None), false)]);
        t.push(vec![Value::text(sql)]);
        sink.result_set(t);
        sink.rows_affected(1);
        ExecOutcome::default()
    }

    fn database(&self) -> String {
        "master".into()
    }
}

struct Wire(Vec<u8>);

impl Transmit for Wire {
    fn transmit(&mut self, bytes: &[u8]) -> bool {
        self.0.extend_from_slice(bytes);
        true
    }
}

#[test]
fn sp_executesql_becomes_a_declare_batch_and_small_packets_split_the_response() {
    let mut e = logged_in(512);
    let mut wire = Wire(Vec::new());
    let _ = e.responses.poll_transmit(&mut wire.0);
    wire.0.clear();
    let rpc = client::rpc(
        proc_id::SP_EXECUTESQL,
        &[
            (
                "@stmt",
                SqlType::NVarChar(None),
                Value::text("SELECT @P1 + LEN(@P2)"),
                false,
            ),
            (
                "@params",
                SqlType::NVarChar(Some(4000)),
                Value::text("@P1 int, @P2 nvarchar(600)"),
                false,
            ),
            ("@P1", SqlType::Int, Value::Int(5), false),
            (
                "@P2",
                SqlType::NVarChar(Some(600)),
                Value::text("x".repeat(600)),
                false,
            ),
        ],
    );
    let mut packets = Vec::new();
    Framer::new(512, 0).message(packet_type::RPC, &rpc, &mut packets);
    e.requests.handle_bytes(&packets).unwrap();
    let request = e.requests.poll_request().unwrap().unwrap();
    let served = Service::new().serve(
        &request,
        &mut Echo,
        &mut e.responses,
        &mut wire,
        &CancelToken::new(),
    );
    assert_eq!(served, Served::Complete);
    assert!(wire.0.len() > 1024, "split into several 512-byte packets");
    let payload = &messages(&wire.0)[0];
    let mut expected = Vec::new();
    crate::wire::put_ucs2(
        &mut expected,
        "DECLARE @P1 int = 5, @P2 nvarchar(600) = N'xxx",
    );
    assert!(payload.windows(expected.len()).any(|w| w == expected));
    assert_eq!(payload[payload.len() - 13], token_type::DONEPROC);
    assert!(payload.contains(&token_type::RETURNSTATUS));
}

/// Writes the fuzz target's seed corpus when `VDISIM_WRITE_FUZZ_SEEDS` names a directory
/// (`fuzz/corpus/tds_stream`); otherwise checks the seeds still parse.
#[test]
fn fuzz_seeds() {
    let mut login_stream = client_prelogin(encrypt::NOT_SUP);
    login_stream.extend_from_slice(&login("pw", 4096));
    let mut batch = Vec::new();
    Framer::new(512, 0).message(
        packet_type::SQL_BATCH,
        &client::sql_batch("SELECT @@VERSION"),
        &mut batch,
    );
    let mut rpc = Vec::new();
    let params = [
        (
            "",
            SqlType::NVarChar(None),
            Value::text("SELECT @P1, @P2, @P3"),
        ),
        (
            "",
            SqlType::NVarChar(Some(4000)),
            Value::text("@P1 int, @P2 decimal(10,2), @P3 datetime2(7)"),
        ),
        ("@P1", SqlType::Int, Value::Int(7)),
        (
            "@P2",
            SqlType::Decimal {
                precision: 10,
                scale: 2,
            },
            Value::Decimal(tsql::value::Decimal {
                mantissa: 1234,
                scale: 2,
            }),
        ),
        (
            "@P3",
            SqlType::DateTime2(7),
            Value::DateTime(tsql::value::DateTime {
                days: 738_000,
                ticks: 99,
            }),
        ),
    ];
    let params: Vec<_> = params
        .into_iter()
        .map(|(n, t, v)| (n, t, v, false))
        .collect();
    Framer::new(4096, 0).message(
        packet_type::RPC,
        &client::rpc(proc_id::SP_EXECUTESQL, &params),
        &mut rpc,
    );
    let mut attention = Vec::new();
    Framer::new(4096, 0).message(packet_type::ATTENTION, &[], &mut attention);
    let seeds: Vec<(&str, Vec<u8>)> = vec![
        ("seed-login", [&[0x00][..], &login_stream].concat()),
        (
            "seed-login-batch",
            [&[0x05][..], &login_stream, &batch, &attention].concat(),
        ),
        (
            "seed-login-rpc",
            [&[0x40][..], &login_stream, &rpc].concat(),
        ),
        (
            "seed-requests",
            [&[0xC3][..], &batch, &rpc, &attention].concat(),
        ),
    ];
    if let Some(dir) = std::env::var_os("VDISIM_WRITE_FUZZ_SEEDS") {
        for (name, bytes) in &seeds {
            std::fs::write(std::path::Path::new(&dir).join(name), bytes).unwrap();
        }
    }
    let mut reader = RequestReader::new(4096, 1 << 20);
    reader.handle_bytes(&rpc).unwrap();
    assert!(matches!(
        reader.poll_request(),
        Some(Ok(Request::Rpc { .. }))
    ));
}
