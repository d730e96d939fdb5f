//! Backups are private whatever the umask (issue 21): the reference client's stripe files are
//! 0600 (0640 with `--group`) and a directory it creates for them 0700 (0750), and the files
//! of `vdisim server --data-dir` are 0600 in a 0700 directory, under umask 000 and 022.

mod common;

use common::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn shell(umask: &str, command: &str) -> std::process::Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!("umask {umask}; exec {command}"))
        .output()
        .unwrap()
}

#[test]
fn stripe_files_are_private_under_any_umask() {
    let server = Server::start("media-modes");
    for umask in ["000", "022"] {
        for (group, file_mode, dir_mode) in [(false, 0o600, 0o700), (true, 0o640, 0o750)] {
            let media = server
                .dir
                .join(format!("u{umask}-g{group}"))
                .join("new-dir");
            let out = shell(
                umask,
                &format!(
                    "'{BIN}' backup -S 'unix:{}' -U sa -P '{PW}' --db pubs --devices 2 {} --to '{}'",
                    server.socket.display(),
                    if group { "--group" } else { "" },
                    media.display()
                ),
            );
            assert!(
                out.status.success(),
                "{}{}",
                stdout(&out),
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(mode(&media), dir_mode, "umask {umask}, group {group}");
            let stripes: Vec<_> = fs::read_dir(&media).unwrap().flatten().collect();
            assert_eq!(stripes.len(), 2);
            for stripe in stripes {
                assert_eq!(
                    mode(&stripe.path()),
                    file_mode,
                    "umask {umask}, group {group}: {}",
                    stripe.path().display()
                );
            }
        }
    }
    // A stripe file that existed with a loose mode is made private when overwritten.
    let media = server.dir.join("existing");
    fs::create_dir_all(&media).unwrap();
    let old = media.join("stripe-00.vbak");
    fs::write(&old, b"old").unwrap();
    fs::set_permissions(&old, fs::Permissions::from_mode(0o666)).unwrap();
    fs::set_permissions(&media, fs::Permissions::from_mode(0o755)).unwrap();
    let out = shell(
        "000",
        &format!(
            "'{BIN}' backup -S 'unix:{}' -U sa -P '{PW}' --db pubs --overwrite --to '{}'",
            server.socket.display(),
            media.display()
        ),
    );
    assert!(
        out.status.success(),
        "{}{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&old), 0o600);
    // The user's own directory keeps the mode the user gave it.
    assert_eq!(mode(&media), 0o755);
}

#[test]
fn data_dir_files_are_private_under_any_umask() {
    for umask in ["000", "022"] {
        let dir = temp_dir(&format!("datadir-{umask}"));
        let data = dir.join("new/data");
        let socket = dir.join("s.sock");
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "umask {umask}; exec '{BIN}' server --socket '{}' --no-tds --sa-password '{PW}' --data-dir '{}'",
                socket.display(),
                data.display()
            ))
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            assert!(Instant::now() < deadline, "the server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        let sqlcmd = |q: &str| {
            let out = Command::new(BIN)
                .args(["sqlcmd", "-S"])
                .arg(format!("unix:{}", socket.display()))
                .args(["-U", "sa", "-P", PW, "-b", "-Q", q])
                .output()
                .unwrap();
            assert!(out.status.success(), "{q}: {}", stdout(&out));
        };
        sqlcmd("CREATE DATABASE Private");
        let media = dir.join("media");
        let out = Command::new(BIN)
            .args(["backup", "-S"])
            .arg(format!("unix:{}", socket.display()))
            .args(["-U", "sa", "-P", PW, "--db", "Private", "--to"])
            .arg(&media)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stdout(&out));
        assert_eq!(mode(&data), 0o700, "umask {umask}");
        let files: Vec<_> = fs::read_dir(&data).unwrap().flatten().collect();
        assert!(files.len() >= 3, "{files:?}");
        for file in files {
            assert_eq!(
                mode(&file.path()),
                0o600,
                "umask {umask}: {}",
                file.path().display()
            );
        }
        let _ = child.kill();
        let _ = child.wait();
        let _ = fs::remove_dir_all(&dir);
    }
}
