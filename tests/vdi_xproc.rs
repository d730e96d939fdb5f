//! Real processes on both sides of a set: a killed client, a killed server, and a secondary
//! client process serving one device and mapping buffer handles across processes.
//!
//! The test binary re-executes itself with `VDI_XPROC_ROLE` set to play the other process.

mod pair;

use pair::*;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use vdi_client::{ClientVirtualDeviceSet, VdCode, VdConfig, VdcCode, win32};

const ROLE: &str = "VDI_XPROC_ROLE";
const NAME: &str = "VDI_XPROC_NAME";

/// Runs the role this process was started for, if any, and exits.
fn play_role_if_child() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    let name = std::env::var(NAME).expect("a set name");
    match role.as_str() {
        "slow-client" => slow_client(&name),
        "server" => {
            run_server(&name, ServerScript::backup(1, 256 << 20));
        }
        "secondary" => secondary(&name),
        other => panic!("unknown role {other}"),
    }
    std::process::exit(0);
}

fn spawn(test: &str, role: &str, name: &str, piped: bool) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", test, "--nocapture", "--test-threads", "1"])
        .env(ROLE, role)
        .env(NAME, name);
    if piped {
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
    }
    cmd.spawn().unwrap()
}

fn slow_client(name: &str) {
    let set = ClientVirtualDeviceSet::new();
    set.create(name, &VdConfig::with_devices(1)).unwrap();
    let mut cfg = VdConfig::default();
    set.get_configuration(20_000, &mut cfg).unwrap();
    let dev = set.open_device(name).unwrap();
    loop {
        let cmd = dev.get_command(-1).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        dev.complete_command(&cmd, win32::ERROR_SUCCESS, u64::from(cmd.size()), 0)
            .unwrap();
    }
}

fn secondary(name: &str) {
    let set = ClientVirtualDeviceSet::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while let Err(e) = set.open_in_secondary(name) {
        assert!(Instant::now() < deadline, "never joined: {e}");
        std::thread::sleep(Duration::from_millis(10));
    }
    let dev = set.open_device(&device_names(name, 2)[1]).unwrap();
    let mut cfg = VdConfig::default();
    set.get_configuration(-1, &mut cfg).unwrap();
    let mut stdout = std::io::stdout();
    writeln!(stdout, "OPENED").unwrap();
    stdout.flush().unwrap();
    let mut stdin = BufReader::new(std::io::stdin());
    let mut stored = Vec::new();
    let mut first = true;
    loop {
        let cmd = match dev.get_command(20_000) {
            Ok(cmd) => cmd,
            Err(e) => {
                assert_eq!(e.code, VdCode::Close, "{e}");
                break;
            }
        };
        let mut bytes = 0;
        if cmd.code() == VdcCode::Write {
            let mut buf = vec![0; cmd.size() as usize];
            assert!(cmd.read_data(&mut buf));
            if first {
                // Hand the buffer to the primary by handle, and wait until it has looked.
                let handle = set
                    .get_buffer_handle(cmd.buffer_address().unwrap())
                    .unwrap();
                writeln!(stdout, "HANDLE {handle} {} {}", buf.len(), checksum(&buf)).unwrap();
                stdout.flush().unwrap();
                let mut line = String::new();
                stdin.read_line(&mut line).unwrap();
                first = false;
            }
            bytes = buf.len() as u64;
            stored.extend_from_slice(&buf);
        }
        dev.complete_command(&cmd, win32::ERROR_SUCCESS, bytes, 0)
            .unwrap();
    }
    set.close().unwrap();
    writeln!(stdout, "DONE {} {}", stored.len(), checksum(&stored)).unwrap();
}

/// The next line of the child's output that starts with `tag` (libtest prints its own lines too).
fn tagged_line(out: &mut impl BufRead, tag: &str) -> String {
    loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "the child ended before {tag}"
        );
        // libtest may print its own text on the same line before ours.
        if let Some(at) = line.find(tag) {
            return line[at..].to_string();
        }
    }
}

fn checksum(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn regions_of(name: &str) -> Vec<String> {
    let encoded = vdi_shm::naming::encode_set_name(name);
    std::fs::read_dir("/dev/shm")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|f| f.contains(&encoded))
        .collect()
}

#[test]
fn sigkill_of_the_client_aborts_the_server_within_2_seconds() {
    play_role_if_child();
    let name = unique("killed-client");
    let mut child = spawn(
        "sigkill_of_the_client_aborts_the_server_within_2_seconds",
        "slow-client",
        &name,
        false,
    );
    let server = {
        let name = name.clone();
        std::thread::spawn(move || {
            wait_for_set(&name);
            run_server(
                &name,
                ServerScript {
                    patience: Duration::from_secs(30),
                    ..ServerScript::backup(1, 256 << 20)
                },
            )
        })
    };
    std::thread::sleep(Duration::from_millis(500));
    child.kill().unwrap();
    let killed = Instant::now();
    child.wait().unwrap();
    let report = server.join().unwrap();
    let detected = killed.elapsed();
    assert!(report.aborted, "the server did not abort");
    assert!(
        detected < Duration::from_secs(2),
        "detected after {detected:?}"
    );
    eprintln!("client death detected by the server after {detected:?}");
    assert!(
        regions_of(&name).is_empty(),
        "left behind: {:?}",
        regions_of(&name)
    );
}

#[test]
fn sigkill_of_the_server_is_vd_e_abort_in_get_command_within_2_seconds() {
    play_role_if_child();
    let name = unique("killed-server");
    let set = ClientVirtualDeviceSet::new();
    set.create(&name, &VdConfig::with_devices(1)).unwrap();
    let mut server = spawn(
        "sigkill_of_the_server_is_vd_e_abort_in_get_command_within_2_seconds",
        "server",
        &name,
        false,
    );
    let mut cfg = VdConfig::default();
    set.get_configuration(20_000, &mut cfg).unwrap();
    let dev = set.open_device(&name).unwrap();
    for _ in 0..5 {
        let cmd = dev.get_command(10_000).unwrap();
        dev.complete_command(&cmd, win32::ERROR_SUCCESS, u64::from(cmd.size()), 0)
            .unwrap();
    }
    // Stop taking commands, kill the server, then wait for ever in GetCommand.
    let held = dev.get_command(10_000).unwrap();
    server.kill().unwrap();
    let killed = Instant::now();
    server.wait().unwrap();
    let mut ending = None;
    for _ in 0..100 {
        match dev.get_command(-1) {
            Ok(_) => continue, // commands already queued before the kill
            Err(e) => {
                ending = Some(e);
                break;
            }
        }
    }
    let detected = killed.elapsed();
    assert_eq!(ending.map(|e| e.code), Some(VdCode::Abort));
    assert!(
        detected < Duration::from_secs(2),
        "detected after {detected:?}"
    );
    eprintln!("server death detected by GetCommand after {detected:?}");
    assert_eq!(
        dev.complete_command(&held, 0, 0, 0).unwrap_err().code,
        VdCode::Abort
    );
    set.close().unwrap();
    assert!(
        regions_of(&name).is_empty(),
        "left behind: {:?}",
        regions_of(&name)
    );
}

#[test]
fn a_secondary_process_serves_a_device_and_buffer_handles_map_across_processes() {
    play_role_if_child();
    let name = unique("secondary");
    let bytes = 2 << 20;
    let primary = ClientVirtualDeviceSet::new();
    primary.create(&name, &VdConfig::with_devices(2)).unwrap();
    let server = {
        let name = name.clone();
        std::thread::spawn(move || run_server(&name, ServerScript::backup(2, bytes)))
    };
    let mut cfg = VdConfig::default();
    primary.get_configuration(20_000, &mut cfg).unwrap();
    let mut child = spawn(
        "a_secondary_process_serves_a_device_and_buffer_handles_map_across_processes",
        "secondary",
        &name,
        true,
    );
    let dev0 = primary.open_device(&name).unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    tagged_line(&mut out, "OPENED");
    // Device 1 belongs to the secondary process now.
    let err = primary.open_device(&device_names(&name, 2)[1]).unwrap_err();
    assert_eq!(
        (err.code, err.rule),
        (VdCode::Protocol, vdi_proto::Rule::OpenAlreadyOpen)
    );
    let serving = std::thread::spawn(move || serve_device(&dev0, None));
    let mut line = tagged_line(&mut out, "HANDLE");
    let parts: Vec<&str> = line.split_whitespace().collect();
    let handle: u32 = parts[1].parse().unwrap();
    let len: usize = parts[2].parse().unwrap();
    let mut seen = vec![0; len];
    primary.read_buffer_by_handle(handle, &mut seen).unwrap();
    assert_eq!(
        checksum(&seen).to_string(),
        parts[3],
        "the primary sees the secondary's buffer"
    );
    assert_eq!(
        primary
            .read_buffer_by_handle(handle ^ 0x0100_0000, &mut seen)
            .unwrap_err()
            .code,
        VdCode::Invalid
    );
    writeln!(child.stdin.as_mut().unwrap(), "ok").unwrap();
    line = tagged_line(&mut out, "DONE");
    let (stripe0, ..) = serving.join().unwrap();
    assert!(child.wait().unwrap().success());
    let parts: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(parts[0], "DONE", "{line}");
    assert_eq!(parts[1], bytes.to_string());
    assert_eq!(parts[2], checksum(&expected_stripe(1, bytes)).to_string());
    assert!(stripe0 == expected_stripe(0, bytes));
    primary.close().unwrap();
    let report = server.join().unwrap();
    assert!(
        report.codes.iter().all(|c| *c == win32::ERROR_SUCCESS),
        "{:?}",
        report.codes
    );
}
