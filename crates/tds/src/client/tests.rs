use tsql::SqlMessage;
use tsql::value::{Column, Decimal, SqlType, Table, Value};

use super::*;
use crate::prelogin::encrypt;
use crate::response::ResponseWriter;
use crate::token::{Done, DoneKind, done_status};
use crate::types::Dialect;

fn table() -> Table {
    let mut t = Table::new(vec![
        Column::new("id", SqlType::Int, false),
        Column::new("name", SqlType::NVarChar(Some(128)), true),
        Column::new("big", SqlType::NVarChar(None), true),
        Column::new(
            "amount",
            SqlType::Decimal {
                precision: 10,
                scale: 2,
            },
            true,
        ),
        Column::new("code", SqlType::Char(3), false),
    ]);
    for i in 0..40 {
        t.push(vec![
            Value::Int(i),
            if i % 3 == 0 {
                Value::Null
            } else {
                Value::text(format!("row {i} é"))
            },
            Value::text("x".repeat(700)),
            Value::Decimal(Decimal {
                mantissa: i128::from(i) * 101,
                scale: 2,
            }),
            Value::text("abc"),
        ]);
    }
    t
}

/// Everything the server writes for a batch, decoded byte by byte as a client reads it.
fn decode_all(wire: &[u8], chunk: usize) -> Vec<ServerToken> {
    let mut packets = PacketReader::new();
    let mut decoder = TokenDecoder::new();
    let mut tokens = Vec::new();
    for piece in wire.chunks(chunk) {
        packets.handle_bytes(piece).unwrap();
        while let Some(p) = packets.poll_packet() {
            decoder.handle_payload(&p.body, p.end_of_message).unwrap();
            while let Some(t) = decoder.poll_token().unwrap() {
                tokens.push(t);
            }
        }
    }
    assert!(decoder.is_drained());
    assert!(!packets.in_packet());
    tokens
}

#[test]
fn what_the_server_writes_the_client_reads_back_at_any_cut() {
    let mut w = ResponseWriter::new(512, 51, Dialect::default(), "SRV");
    w.message(&SqlMessage::new(3211, 0, 1, 1, "10 percent processed."));
    w.result_set(&table());
    w.rows_affected(40);
    w.message(&SqlMessage::new(208, 16, 1, 2, "Invalid object name 'x'."));
    w.end_batch();
    let mut wire = Vec::new();
    assert!(w.poll_transmit(&mut wire));
    for chunk in [1, 7, 512, wire.len()] {
        let tokens = decode_all(&wire, chunk);
        let ServerToken::Message { message, server } = &tokens[0] else {
            panic!("{:?}", tokens[0]);
        };
        assert_eq!((message.number, server.as_str()), (3211, "SRV"));
        assert_eq!(tokens[2], ServerToken::Columns(table().columns));
        let rows: Vec<Vec<Value>> = tokens
            .iter()
            .filter_map(|t| match t {
                ServerToken::Row(r) => Some(r.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(rows, table().rows);
        let dones: Vec<&Done> = tokens
            .iter()
            .filter_map(|t| match t {
                ServerToken::Done(d) => Some(d),
                _ => None,
            })
            .collect();
        // The statement before the message (the 3211), the SELECT, the error, the end.
        assert_eq!(dones.len(), 3, "{dones:?}");
        assert_eq!(dones[1].status, done_status::COUNT | done_status::MORE);
        assert_eq!(dones[1].row_count, 40);
        assert_eq!(dones[2].kind, DoneKind::Done);
        assert_eq!(dones[2].status & done_status::MORE, 0);
        assert!(matches!(
            tokens.iter().rev().nth(1),
            Some(ServerToken::Message { message, .. }) if message.number == 208 && message.line == 2
        ));
    }
}

#[test]
fn a_token_cut_at_the_end_of_a_message_is_an_error() {
    let mut d = TokenDecoder::new();
    d.handle_payload(&[0xFD, 0, 0], false).unwrap();
    assert_eq!(d.poll_token().unwrap(), None);
    d.handle_payload(&[0], true).unwrap();
    assert!(d.poll_token().is_err());
    let mut d = TokenDecoder::new();
    d.handle_payload(&[0x42], true).unwrap();
    assert!(d.poll_token().is_err(), "unknown token");
}

#[test]
fn bad_packet_lengths_are_errors() {
    let mut p = PacketReader::new();
    assert!(p.handle_bytes(&[4, 1, 0, 3, 0, 0, 1, 0]).is_err());
    let mut p = PacketReader::new();
    assert!(p.handle_bytes(&[4, 1, 0xFF, 0xFF, 0, 0, 1, 0]).is_err());
}

#[test]
fn prelogin_and_login_are_what_the_server_parses() {
    let ours = crate::prelogin::ClientPrelogin::parse(&prelogin(encrypt::ON, "", 7)).unwrap();
    assert_eq!(ours.encryption, Some(encrypt::ON));
    assert_eq!(ours.thread_id, Some(7));
    assert!(!ours.mars);
    let server = crate::prelogin::ServerPrelogin {
        version: (16, 0, 1000),
        encryption: encrypt::OFF,
        instance_ok: true,
        fed_auth_echo: false,
    };
    let reply = parse_prelogin_reply(&server.encode()).unwrap();
    assert_eq!(reply.encryption, encrypt::OFF);
    assert_eq!(reply.version, Some((16, 0, 1000)));
    let login = crate::login7::Login7::parse(&login7(&LoginParams {
        tds_version: crate::login7::version::TDS74,
        packet_size: 4096,
        username: "sa".into(),
        password: "pw".into(),
        database: "pubs".into(),
        ..LoginParams::default()
    }))
    .unwrap();
    assert_eq!(
        (login.username.as_str(), login.password.as_str()),
        ("sa", "pw")
    );
    assert_eq!(login.database, "pubs");
}
