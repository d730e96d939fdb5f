//! The TDS port from Rust: tiberius (a real driver) and hostile raw TCP clients.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use tds::packet::{Framer, packet_type};
use tiberius::{AuthMethod, Client, Config, EncryptionLevel};
use tokio::net::TcpStream as TokioTcp;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn connect(addr: SocketAddr, password: &str) -> tiberius::Result<Client<Compat<TokioTcp>>> {
    let mut config = Config::new();
    config.host("127.0.0.1");
    config.port(addr.port());
    config.authentication(AuthMethod::sql_server("sa", password));
    config.encryption(EncryptionLevel::NotSupported);
    config.trust_cert();
    let tcp = TokioTcp::connect(addr).await?;
    tcp.set_nodelay(true)?;
    Client::connect(config, tcp.compat_write()).await
}

#[test]
fn tiberius_connects_queries_with_parameters_and_gets_error_numbers() {
    let server = Server::start("tiberius");
    let addr = server.tds_addr();
    runtime().block_on(async {
        let mut client = connect(addr, PW).await.unwrap();
        let row = client
            .simple_query("SELECT @@VERSION")
            .await
            .unwrap()
            .into_row()
            .await
            .unwrap()
            .unwrap();
        let version: &str = row.get(0).unwrap();
        assert!(
            version.starts_with("Microsoft SQL Server 2022"),
            "{version}"
        );
        let names: Vec<String> = client
            .simple_query("SELECT name FROM sys.databases")
            .await
            .unwrap()
            .into_first_result()
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<&str, _>(0).unwrap().to_owned())
            .collect();
        assert!(
            names.contains(&"master".to_owned()) && names.contains(&"Extra".to_owned()),
            "{names:?}"
        );
        // A parameterised query is sp_executesql by ProcID 10 with typed parameters.
        let result = match client
            .query("SELECT @P1 + 1, @P2", &[&41i32, &"forty-one"])
            .await
        {
            Ok(stream) => stream.into_row().await.map(|r| r.unwrap()),
            Err(e) => Err(e),
        };
        match result {
            Ok(row) => {
                assert_eq!(row.get::<i32, _>(0), Some(42));
                assert_eq!(row.get::<&str, _>(1), Some("forty-one"));
            }
            // Until the engine runs DECLARE, the parameters reach it as a DECLARE batch.
            Err(tiberius::error::Error::Server(e)) => {
                assert!(e.message().contains("DECLARE"), "{e:?}");
            }
            Err(e) => panic!("{e}"),
        }
        let err = match client
            .simple_query("BACKUP DATABASE nosuchdb TO VIRTUAL_DEVICE = 'x'")
            .await
        {
            Ok(stream) => stream.into_results().await.map(|_| ()),
            Err(e) => Err(e),
        };
        match err {
            Err(tiberius::error::Error::Server(e)) => {
                assert!([911, 3013].contains(&e.code()), "{e:?}")
            }
            other => panic!("expected Msg 911: {other:?}"),
        }
        // The connection is still usable after an error.
        let row = client
            .simple_query("SELECT @@SERVERNAME")
            .await
            .unwrap()
            .into_row()
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.get::<&str, _>(0), Some("VDISIM"));
    });
}

#[test]
fn a_wrong_password_is_18456_and_the_connection_closes() {
    let server = Server::start("tiberius-pw");
    let addr = server.tds_addr();
    runtime().block_on(async {
        match connect(addr, "wrong").await {
            Err(tiberius::error::Error::Server(e)) => assert_eq!(e.code(), 18456, "{e:?}"),
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("logged in with a wrong password"),
        }
    });
    wait_for_log(&server, "login failed (Msg 18456); closed");
}

/// The server logs a connection's end right after closing it: wait for the line.
fn wait_for_log(server: &Server, text: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !server.log().contains(text) {
        assert!(
            std::time::Instant::now() < deadline,
            "{text:?} not logged:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn raw(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let _ = s.write_all(bytes);
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

fn packet(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    Framer::new(4096, 0).message(ty, body, &mut out);
    out
}

/// Garbage, truncated and oversized packets, a LOGIN7 with bad offsets, a failed TLS
/// handshake and a client that vanishes mid-batch each end their own connection with one log
/// line; the daemon and a connection open through all of it carry on.
#[test]
fn hostile_clients_end_only_their_own_connection() {
    let server = Server::start("tds-hostile");
    let addr = server.tds_addr();
    let rt = runtime();
    let mut survivor = rt.block_on(connect(addr, PW)).unwrap();

    raw(addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut oversized = packet(packet_type::PRELOGIN, &[0xFF]);
    oversized[2..4].copy_from_slice(&40_000u16.to_be_bytes());
    raw(addr, &oversized);
    raw(addr, &packet(packet_type::PRELOGIN, &[0xFF])[..5]);
    let mut bad_login = packet(packet_type::PRELOGIN, &[0xFF]);
    let mut login = tds::login7::Login7Builder {
        tds_version: tds::login7::version::TDS74,
        username: "sa".into(),
        ..Default::default()
    }
    .encode();
    login[40..42].copy_from_slice(&u16::MAX.to_le_bytes());
    bad_login.extend_from_slice(&packet(packet_type::LOGIN7, &login));
    raw(addr, &bad_login);
    // PRELOGIN asking for encryption, then garbage where the TLS ClientHello should be.
    {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s.write_all(&packet(
            packet_type::PRELOGIN,
            &[0x01, 0, 6, 0, 1, 0xFF, 0x01],
        ))
        .unwrap();
        let mut response = [0u8; 8];
        s.read_exact(&mut response).unwrap();
        assert_eq!(response[0], packet_type::TABULAR_RESULT);
        let _ = s.write_all(&packet(packet_type::PRELOGIN, b"not a client hello"));
        let _ = s.read_to_end(&mut Vec::new());
    }
    // TLS first (TDS 8.0) with a broken ClientHello.
    raw(addr, &[0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]);
    // A client that logs in, starts a long batch and vanishes.
    rt.block_on(async {
        let mut c = connect(addr, PW).await.unwrap();
        let _ = tokio::time::timeout(
            Duration::from_millis(300),
            c.simple_query("WAITFOR DELAY '00:00:30'"),
        )
        .await;
    });

    let row = rt
        .block_on(async {
            survivor
                .simple_query("SELECT @@SERVERNAME")
                .await
                .unwrap()
                .into_row()
                .await
        })
        .unwrap()
        .unwrap();
    assert_eq!(row.get::<&str, _>(0), Some("VDISIM"));
    wait_for_log(&server, "the client vanished");
    let log = server.log();
    for expected in [
        "packet length 40000",
        "the client closed the connection during the handshake",
        "LOGIN7",
        "TLS handshake failed",
        "TLS handshake (TDS 8.0 strict) failed",
        "the client vanished",
    ] {
        assert!(log.contains(expected), "{expected:?} not logged:\n{log}");
    }
    let endings = log
        .lines()
        .filter(|l| l.contains("tds conn") && (l.contains("closed") || l.contains("disconnected")))
        .count();
    assert!(endings >= 7, "one line per ended connection:\n{log}");
}

/// tiberius has no ATTENTION: an application's timeout drops the query's future and the
/// connection with it. Mid-BACKUP, the server takes the vanished client as a cancel: the job
/// aborts the device set at once (the VDI client, holding its first Write, sees VD_E_ABORT),
/// and the daemon serves the next connection.
#[test]
fn a_tiberius_timeout_mid_backup_aborts_the_device_set() {
    use vdi_client::{ClientVirtualDeviceSet, VdCode, VdConfig};
    let server = Server::start("tiberius-cancel");
    let addr = server.tds_addr();
    let set_name = vdi_client::reference::new_set_name();
    let set = ClientVirtualDeviceSet::new();
    set.create(
        &set_name,
        &VdConfig {
            device_count: 1,
            ..VdConfig::default()
        },
    )
    .unwrap();
    let sql = format!("BACKUP DATABASE Extra TO VIRTUAL_DEVICE = '{set_name}' WITH STATS = 1");
    let statement = std::thread::spawn(move || {
        runtime().block_on(async {
            let mut client = connect(addr, PW).await.unwrap();
            let run = async {
                client
                    .simple_query(sql.as_str())
                    .await?
                    .into_results()
                    .await
            };
            let timed_out = tokio::time::timeout(Duration::from_secs(2), run)
                .await
                .is_err();
            drop(client);
            timed_out
        })
    });
    let mut config = VdConfig::default();
    set.get_configuration(20_000, &mut config).unwrap();
    let device = set.open_device(&set_name).unwrap();
    // Hold the first Write: the statement cannot finish before the driver gives up.
    let first = device.get_command(20_000).unwrap();
    assert!(
        statement.join().unwrap(),
        "the query ended before its timeout"
    );
    // The statement ends (its job aborted the set) while the client still holds the Write.
    wait_for_log(&server, "job BACKUP DATABASE Extra: failed");
    assert!(
        server.log().contains("the client vanished"),
        "{}",
        server.log()
    );
    let completed = device.complete_command(&first, 0, u64::from(first.size()), 0);
    let next = device.get_command(20_000);
    assert!(
        [completed.err(), next.err()]
            .into_iter()
            .flatten()
            .any(|e| e.code == VdCode::Abort),
        "the VDI client did not see VD_E_ABORT\n{}",
        server.log()
    );
    let _ = set.close();
    // The daemon and the engine carry on.
    runtime().block_on(async {
        let mut client = connect(addr, PW).await.unwrap();
        let row = client
            .simple_query("SELECT @@SERVERNAME")
            .await
            .unwrap()
            .into_row()
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.get::<&str, _>(0), Some("VDISIM"));
    });
}

/// A BACKUP served by the reference client while tiberius runs the statement, then a RESTORE
/// the same way. tiberius does not hand INFO tokens to its caller, so the progress lines are
/// checked by the other drivers; here the statements' success and the restored bytes are.
#[test]
fn tiberius_backup_and_restore_with_the_reference_client() {
    use std::sync::Arc;
    use std::sync::atomic::AtomicU64;
    use vdi_client::reference::{self, Direction, ReferenceOptions};
    let server = Server::start("tiberius-backup");
    let addr = server.tds_addr();
    let dir = temp_dir("tiberius-media");
    let run = move |sql: String| {
        runtime().block_on(async {
            let mut client = connect(addr, PW).await.map_err(|e| e.to_string())?;
            client
                .simple_query(sql.as_str())
                .await
                .map_err(|e| e.to_string())?
                .into_results()
                .await
                .map_err(|e| e.to_string())
                .map(|_| ())
        })
    };
    for (direction, sql) in [
        (
            Direction::Backup,
            "BACKUP DATABASE Extra TO VIRTUAL_DEVICE = '{set}' WITH STATS",
        ),
        (
            Direction::Restore,
            "RESTORE DATABASE Extra FROM VIRTUAL_DEVICE = '{set}' WITH REPLACE",
        ),
    ] {
        let set = reference::new_set_name();
        let sql = sql.replace("{set}", &set);
        let (client, result) = reference::run(
            &set,
            direction,
            &dir,
            &ReferenceOptions::default(),
            Arc::new(AtomicU64::new(0)),
            move || run(sql),
        );
        assert_eq!(result, Ok(()), "{direction:?}\n{}", server.log());
        assert!(client.clean(), "{direction:?}: {client:?}");
    }
    for job in ["BACKUP DATABASE Extra", "RESTORE DATABASE Extra"] {
        assert!(
            server.log().contains(&format!("job {job}: succeeded")),
            "{}",
            server.log()
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}
