//! `vdisim backup|restore` as a vendor's engineer meets it: the server found as sqlcmd finds it,
//! one clear line for each thing that can be wrong, media directories that never mix two
//! backups, progress, and a CLI that keeps secrets and exits quietly into `head`.

mod common;

use common::*;
use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// `vdisim VERB ARGS…` with a clean environment: no password and no server from the caller.
fn vdisim(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env_remove("VDISIM_SA_PASSWORD")
        .env_remove("SQLCMDSERVER")
        .env_remove("VDISIM_SERVER");
    command
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `vdisim backup|restore` against `server` found through $VDISIM_SERVER (no -S).
fn client(server: &Server, verb: &str, args: &[&str]) -> Output {
    vdisim(&[verb])
        .args(args)
        .env("VDISIM_SERVER", &server.socket)
        .env("VDISIM_SA_PASSWORD", PW)
        .output()
        .unwrap()
}

#[test]
fn the_server_is_found_as_sqlcmd_finds_it() {
    let server = Server::start("lookup");
    let media = server.dir.join("m1");
    let m = media.to_str().unwrap();
    let out = client(&server, "backup", &["--db", "pubs", "--to", m]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        server.log().contains("login 'sa' (vdisim)"),
        "{}",
        server.log()
    );
    // $SQLCMDSERVER, as sqlcmd reads it, wins over $VDISIM_SERVER.
    let out = vdisim(&["restore", "--db", "pubs", "--replace", "--from", m])
        .env("SQLCMDSERVER", format!("unix:{}", server.socket.display()))
        .env("VDISIM_SERVER", server.dir.join("absent.sock"))
        .env("VDISIM_SA_PASSWORD", PW)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // No server: one line naming the socket and what to do; nothing is written.
    let absent = server.dir.join("absent.sock");
    let out = vdisim(&["backup", "--db", "pubs", "--to"])
        .arg(server.dir.join("never"))
        .env("VDISIM_SERVER", &absent)
        .output()
        .unwrap();
    assert_eq!(code(&out), 1);
    assert_eq!(
        stderr(&out),
        format!(
            "vdisim: no vdisim server is listening at {} (No such file or directory); start one with `vdisim server`, name its socket with -S unix:PATH or $VDISIM_SERVER, or pass --in-process for a private server\n",
            absent.display()
        )
    );
    assert!(!server.dir.join("never").exists());
    // --in-process needs no server at all.
    let out = vdisim(&["backup", "--in-process", "--db", "pubs", "--to"])
        .arg(server.dir.join("private"))
        .env("VDISIM_SERVER", &absent)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_wrong_password_is_one_line_naming_the_login() {
    let server = Server::start("password");
    let out = vdisim(&["backup", "-S", "."])
        .args(["-P", "wrong", "--db", "pubs", "--to"])
        .arg(server.dir.join("m"))
        .env("VDISIM_SERVER", &server.socket)
        .output()
        .unwrap();
    assert_eq!(code(&out), 1);
    assert_eq!(
        stderr(&out),
        format!(
            "vdisim: login failed for user 'sa' at the vdisim server at {}: the password is wrong; pass the server's sa password with -P or $VDISIM_SA_PASSWORD\n",
            server.socket.display()
        )
    );
    assert_eq!(stdout(&out), "");
}

#[test]
fn restore_reads_the_stripe_count_and_refuses_bad_media_in_one_line() {
    let server = Server::start("media");
    let media = server.dir.join("media");
    let m = media.to_str().unwrap();
    let out = client(
        &server,
        "backup",
        &["--db", "pubs", "--devices", "3", "--to", m],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        names(&media),
        ["stripe-00.vbak", "stripe-01.vbak", "stripe-02.vbak"]
    );
    let out = client(
        &server,
        "restore",
        &["--db", "pubs", "--replace", "--from", m],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("over 3 device(s)"),
        "{}",
        stderr(&out)
    );
    let refused = |args: &[&str], expected: String| {
        let out = client(&server, "restore", args);
        assert_eq!(code(&out), 1, "{args:?}");
        assert_eq!(stderr(&out), format!("vdisim: {expected}\n"), "{args:?}");
        assert_eq!(stdout(&out), "", "{args:?}");
    };
    refused(
        &["--db", "pubs", "--replace", "--devices", "2", "--from", m],
        format!(
            "the media directory {m} holds a 3-stripe media set but --devices is 2; leave --devices out (restore reads the count from the media) or pass --devices 3"
        ),
    );
    let missing = server.dir.join("nowhere");
    refused(
        &["--db", "pubs", "--from", missing.to_str().unwrap()],
        format!(
            "the media directory {} cannot be read (No such file or directory); pass the directory a backup wrote (its --to) as --from",
            missing.display()
        ),
    );
    fs::rename(media.join("stripe-01.vbak"), server.dir.join("aside")).unwrap();
    refused(
        &["--db", "pubs", "--replace", "--from", m],
        format!(
            "the media directory {m} is incomplete: it holds 2 of the 3 stripes of its media set (stripe-01.vbak missing); copy the missing stripes back or restore from a whole backup"
        ),
    );
    let empty = server.dir.join("empty");
    fs::create_dir(&empty).unwrap();
    refused(
        &["--db", "pubs", "--from", empty.to_str().unwrap()],
        format!(
            "the media directory {} holds no media set (no stripe-NN.vbak files); pass the directory a backup wrote (its --to) as --from",
            empty.display()
        ),
    );
}

#[test]
fn backup_never_mixes_media_sets_and_a_failure_leaves_nothing() {
    let server = Server::start("overwrite");
    let media = server.dir.join("media");
    let m = media.to_str().unwrap();
    let out = client(
        &server,
        "backup",
        &["--db", "pubs", "--devices", "4", "--to", m],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = client(
        &server,
        "backup",
        &["--db", "pubs", "--devices", "2", "--to", m],
    );
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).starts_with(&format!("vdisim: the media directory {m} is not empty (it holds stripe-00.vbak, stripe-01.vbak, stripe-02.vbak, …); pass --overwrite")),
        "{}",
        stderr(&out)
    );
    // A failed backup with --overwrite leaves the old media set as it was.
    let before = fs::read(media.join("stripe-03.vbak")).unwrap();
    let out = client(
        &server,
        "backup",
        &["--db", "Ghost", "--overwrite", "--to", m],
    );
    assert_eq!(code(&out), 1);
    assert!(stdout(&out).contains("Msg 911"), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("the backup failed: no stripe was written"),
        "{}",
        stderr(&out)
    );
    assert_eq!(names(&media).len(), 4);
    assert_eq!(fs::read(media.join("stripe-03.vbak")).unwrap(), before);
    // The narrower backup replaces all four stripes: no stale stripe is left.
    let out = client(
        &server,
        "backup",
        &["--db", "pubs", "--devices", "2", "--overwrite", "--to", m],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(names(&media), ["stripe-00.vbak", "stripe-01.vbak"]);
    let out = client(
        &server,
        "restore",
        &["--db", "pubs", "--replace", "--from", m],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // A failed backup into a new directory leaves it empty.
    let fresh = server.dir.join("fresh");
    let out = client(
        &server,
        "backup",
        &["--db", "Ghost", "--to", fresh.to_str().unwrap()],
    );
    assert_eq!(code(&out), 1);
    assert!(names(&fresh).is_empty(), "{:?}", names(&fresh));
}

#[test]
fn progress_lines_when_stderr_is_not_a_terminal_and_restore_stats() {
    let server = Server::start_with("progress", &["--database", "Big:192MB"]);
    let media = server.dir.join("media");
    let m = media.to_str().unwrap();
    let out = client(
        &server,
        "backup",
        &[
            "--db",
            "Big",
            "--devices",
            "2",
            "--progress-interval",
            "0.1",
            "--to",
            m,
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("vdisim: backing up Big: "))
        .collect();
    assert!(!lines.is_empty(), "{err}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("% (") && l.contains(" of about ") && l.contains("/s")),
        "{err}"
    );
    // The client's own STATS messages are not printed.
    assert!(
        !stdout(&out).contains("percent processed"),
        "{}",
        stdout(&out)
    );
    // --quiet: neither progress nor the summary.
    let out = client(
        &server,
        "restore",
        &[
            "--db",
            "Big",
            "--replace",
            "--quiet",
            "--progress-interval",
            "0.1",
            "--with",
            "STATS = 25",
            "--from",
            m,
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    // RESTORE … WITH STATS prints its percentages, before the closing messages.
    let text = stdout(&out);
    let percents: Vec<&str> = text
        .lines()
        .filter(|l| l.ends_with("percent processed."))
        .collect();
    assert_eq!(
        percents,
        [
            "25 percent processed.",
            "50 percent processed.",
            "75 percent processed.",
            "100 percent processed."
        ],
        "{text}"
    );
    assert!(
        text.find("100 percent").unwrap() < text.find("RESTORE DATABASE successfully").unwrap()
    );
}

#[test]
fn help_keeps_the_password_and_names_exit_codes_and_an_example() {
    let secret = "Hunter2-very-secret";
    for args in [
        vec!["--help"],
        vec!["backup", "--help"],
        vec!["restore", "--help"],
        vec!["server", "--help"],
        vec!["sqlcmd", "--help"],
        vec!["sqlcmd", "-?"],
    ] {
        let out = vdisim(&args)
            .env("VDISIM_SA_PASSWORD", secret)
            .env("SQLCMDPASSWORD", secret)
            .output()
            .unwrap();
        let text = stdout(&out);
        assert_eq!(code(&out), 0, "{args:?}");
        assert!(!text.contains(secret), "{args:?}: {text}");
        assert!(text.contains("Exit codes"), "{args:?}: {text}");
        assert!(text.contains("Example"), "{args:?}: {text}");
    }
    let out = vdisim(&["backup", "--help"])
        .env("VDISIM_SA_PASSWORD", secret)
        .output()
        .unwrap();
    assert!(
        stdout(&out).contains("VDISIM_SA_PASSWORD: (set)"),
        "{}",
        stdout(&out)
    );
    for sub in ["conform", "replay", "demo", "rules", "bench"] {
        let text = stdout(&vdisim(&[sub, "--help"]).output().unwrap());
        assert!(
            text.contains("Exit codes:") && text.contains("Example:"),
            "{sub}: {text}"
        );
    }
    let out = vdisim(&["--version"]).output().unwrap();
    assert!(
        stdout(&out).contains("emulates Microsoft SQL Server 2022"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_closed_stdout_ends_quietly_with_exit_code_0() {
    for args in [
        vec!["rules"],
        vec!["conform", "--list"],
        vec!["rules", "--json"],
    ] {
        // The reading end is closed before vdisim writes a byte: every write gets EPIPE.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = vdisim(&args)
            .stdout(Stdio::from(writer))
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "{args:?}");
    }
}
