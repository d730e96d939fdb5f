//! sqlcmd's scripting features against a real daemon, as backup scripts use them: scripting
//! variables, script commands, ends and exit codes, timeouts, output switches, interactive
//! mode, and the osql/isql invocation names. Expected output is sqlcmd's documented behaviour.

mod common;
mod sqlcmd;

use common::*;
use sqlcmd::{Run, stderr};

use std::fs;
use std::time::{Duration, Instant};

#[test]
fn v_and_setvar_substitute_in_every_batch() {
    let server = Server::start("vars");
    let script = server.dir.join("vars.sql");
    fs::write(
        &script,
        "PRINT 'db=$(db) n=$(N)'\nGO\n:setvar n 2\n:setvar Greeting \"hello \"\"you\"\"\"\nPRINT '$(greeting) $(n)'\nGO\nUSE [$(db)]\nGO\n",
    )
    .unwrap();
    let out = Run::sa(&server, &["-v", "db=pubs", "n=1", "-i", "vars.sql"]).output();
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    insta::assert_snapshot!(stdout(&out), @r#"
    db=pubs n=1
    hello "you" 2
    Changed database context to 'pubs'.
    "#);
    // Environment variables are scripting variables too; -v wins over them.
    let out = Run::sa(&server, &["-Q", "PRINT '$(VENDOR_DB) $(db)'", "-v", "db=v"])
        .env("VENDOR_DB", "from-env")
        .env("db", "env")
        .output();
    assert_eq!(stdout(&out), "from-env v\n");
    // -x sends $(name) as it is.
    let out = Run::sa(&server, &["-x", "-Q", "PRINT '$(db)'"]).output();
    assert_eq!(stdout(&out), "$(db)\n");
}

#[test]
fn an_undefined_variable_stops_the_script_with_exit_code_1() {
    let server = Server::start("undef");
    let script = "PRINT 'first'\nGO\nPRINT '$(missing)'\nGO\nPRINT 'never'\n";
    let out = Run::sa(&server, &[]).stdin(script).output();
    assert_eq!(code(&out), 1);
    assert_eq!(
        stdout(&out),
        "first\n'missing' scripting variable not defined.\n"
    );
    // :on error ignore goes on (the line with the undefined variable is dropped).
    let out = Run::sa(&server, &[])
        .stdin(&format!(":on error ignore\n{script}"))
        .output();
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).ends_with("never\n"), "{}", stdout(&out));
}

#[test]
fn sqlcmd_environment_variables_set_the_login_and_the_layout() {
    let server = Server::start("env");
    let out = Run::sqlcmd(&server, &["-Q", "SELECT DB_NAME() AS db, 1 AS n"])
        .env("SQLCMDSERVER", &format!("unix:{}", server.socket.display()))
        .env("SQLCMDUSER", "sa")
        .env("SQLCMDPASSWORD", PW)
        .env("SQLCMDDBNAME", "pubs")
        .env("SQLCMDCOLSEP", "|")
        .env("SQLCMDHEADERS", "-1")
        .env("SQLCMDMAXFIXEDTYPEWIDTH", "6")
        .output();
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert_eq!(stdout(&out), "pubs  |          1\n\n(1 row affected)\n");
    // A bad value is refused before anything runs.
    let out = Run::sa(&server, &["-Q", "PRINT 1"])
        .env("SQLCMDHEADERS", "many")
        .output();
    assert_eq!(code(&out), 1);
    assert_eq!(
        stdout(&out),
        "Sqlcmd: Error: The environment variable: 'SQLCMDHEADERS' has invalid value: 'many'.\n"
    );
    // SQLCMDINI runs first, in the same session; -X turns it (and the environment) off.
    fs::write(
        server.dir.join("init.sql"),
        ":setvar who init\nPRINT 'ini'\nGO\n",
    )
    .unwrap();
    let out = Run::sa(&server, &["-Q", "PRINT '$(who)'"])
        .env("SQLCMDINI", "init.sql")
        .output();
    assert_eq!(stdout(&out), "ini\ninit\n");
    let out = Run::sa(&server, &["-X", "-Q", "PRINT 'no ini'"])
        .env("SQLCMDINI", "init.sql")
        .output();
    assert_eq!(stdout(&out), "no ini\n");
}

#[test]
fn setvar_listvar_and_read_only_variables() {
    let server = Server::start("listvar");
    let out = Run::sa(&server, &["-H", "ws1", "-d", "pubs", "-v", "Zed=1"])
        .stdin(":setvar SQLCMDCOLSEP ,\n:setvar empty \"\"\n:setvar Zed\n:listvar\n:setvar SQLCMDUSER bob\nPRINT 'never'\n")
        .output();
    assert_eq!(code(&out), 1);
    insta::assert_snapshot!(stdout(&out).replace(&server.socket.display().to_string(), "<socket>"));
}

#[test]
fn r_reads_nested_files_relative_to_the_working_directory() {
    let server = Server::start("read");
    let dir = server.dir.join("scripts");
    fs::create_dir_all(dir.join("sub")).unwrap();
    fs::write(
        dir.join("main.sql"),
        "PRINT 'main'\nGO\n:r sub/a.sql\nPRINT 'back in main'\nGO\n",
    )
    .unwrap();
    fs::write(
        dir.join("sub/a.sql"),
        ":setvar from a\n:r sub/b.sql\nPRINT 'a'\n",
    )
    .unwrap();
    fs::write(dir.join("sub/b.sql"), "PRINT 'b from $(from)'\nGO\n").unwrap();
    let out = Run::sa(&server, &["-i", "main.sql"]).dir(&dir).output();
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    // a.sql's PRINT 'a' has no GO: it joins main's next batch.
    assert_eq!(stdout(&out), "main\nb from a\na\nback in main\n");
    let out = Run::sa(&server, &["-Q", ":r nowhere.sql\nPRINT 'never'"])
        .dir(&dir)
        .output();
    assert_eq!(code(&out), 1);
    assert_eq!(
        stdout(&out),
        "Sqlcmd: Error: Error occurred while opening or operating on file nowhere.sql (Reason: No such file or directory).\n"
    );
}

#[test]
fn on_error_exit_stops_the_script_and_ignore_goes_on() {
    let server = Server::start("onerror");
    let script = ":on error exit\nPRINT 'one'\nGO\nSELECT 1/0\nPRINT 'rest of the batch'\nGO\nPRINT 'never'\nGO\n";
    let out = Run::sa(&server, &[]).stdin(script).output();
    assert_eq!(code(&out), 1);
    insta::assert_snapshot!(stdout(&out), @r"
    one
    Msg 8134, Level 16, State 1, Server VDISIM, Line 1
    Divide by zero error encountered.
    rest of the batch
    ");
    // -b with :on error ignore runs everything and exits 0.
    let out = Run::sa(&server, &["-b"])
        .stdin(":on error ignore\nSELECT 1/0\nGO\nPRINT 'still'\n")
        .output();
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).ends_with("still\n"), "{}", stdout(&out));
    // A command sqlcmd does not know is a syntax error that stops the script.
    let script_file = server.dir.join("bad.sql");
    fs::write(&script_file, "PRINT 'x'\n:bogus\nPRINT 'y'\n").unwrap();
    let out = Run::sa(&server, &["-i", "bad.sql"]).output();
    assert_eq!(code(&out), 1);
    assert_eq!(
        stdout(&out),
        "Sqlcmd: Error: Syntax error at line 2 near command ':bogus' in file 'bad.sql'.\n"
    );
}

#[test]
fn exit_quit_and_their_exit_codes() {
    let server = Server::start("exit");
    let run = |script: &str| Run::sa(&server, &[]).stdin(script).output();
    // :exit does not run the cache; :exit() does.
    let out = run("PRINT 'cached'\n:exit\nPRINT 'never'\n");
    assert_eq!((code(&out), stdout(&out)), (0, String::new()));
    let out = run("PRINT 'cached'\n:exit()\n");
    assert_eq!((code(&out), stdout(&out)), (0, "cached\n".to_owned()));
    // :exit(query): the value's low byte.
    let out = run("PRINT 'first'\nEXIT(SELECT 300 AS n)\n");
    assert_eq!(code(&out), 44);
    assert!(stdout(&out).starts_with("first\n"), "{}", stdout(&out));
    let out = run(":exit(SELECT name FROM sys.databases WHERE 1 = 0)\n");
    assert_eq!(code(&out), 155, "no rows: -101");
    let out = run(":exit(SELECT 'abc')\n");
    assert_eq!(code(&out), 154, "not numeric: -102");
    let out = run(":exit(SELECT 1/0)\n");
    assert_eq!(code(&out), 156, "an error: -100");
    let out = Run::sa(&server, &["-Q", "EXIT(SELECT 7)"]).output();
    assert_eq!(code(&out), 7);
    // exit and quit without a colon, as osql scripts write them.
    let out = run("PRINT 'a'\nGO\nquit\nPRINT 'never'\n");
    assert_eq!((code(&out), stdout(&out)), (0, "a\n".to_owned()));
    // RAISERROR with state 127 ends sqlcmd with the message number (low byte).
    let out = Run::sa(
        &server,
        &["-Q", "RAISERROR(50001, 10, 127)\nGO\nPRINT 'never'"],
    )
    .output();
    assert_eq!(code(&out), 50001 % 256);
}

#[test]
fn go_n_custom_terminator_reset_list_and_shell_commands() {
    let server = Server::start("go");
    let out = Run::sa(&server, &[])
        .stdin("PRINT 'x'\nGO 3\nPRINT 'dropped'\n:reset\nPRINT 'kept'\n:list\n!! ls\nGO\n")
        .output();
    assert_eq!(code(&out), 0);
    assert_eq!(
        stdout(&out),
        "x\nx\nx\nPRINT 'kept'\nSqlcmd: Warning: ED and !!<command> commands are disabled: vdisim's sqlcmd runs no editor and no operating system command.\nkept\n"
    );
    let out = Run::sa(&server, &["-c", "run"])
        .stdin("PRINT 'a'\nrun\nPRINT 'GO'\nGO\nrun 2\n")
        .output();
    assert_eq!(
        stdout(&out),
        "a\nMsg 102, Level 15, State 1, Server VDISIM, Line 2\nIncorrect syntax near 'GO'.\nMsg 102, Level 15, State 1, Server VDISIM, Line 2\nIncorrect syntax near 'GO'.\n"
    );
    // A GO inside a string or a block comment does not end the batch.
    let out = Run::sa(&server, &[])
        .stdin("PRINT 'one\nGO\ntwo'\n/*\nGO\n*/\nGO\n")
        .output();
    assert_eq!(stdout(&out), "one\nGO\ntwo\n");
}

#[test]
fn t_cancels_a_long_batch_and_the_session_stays_usable() {
    let server = Server::start("timeout");
    let started = Instant::now();
    let out = Run::sa(&server, &["-t", "1"])
        .stdin(
            "WAITFOR DELAY '00:00:03'\nPRINT 'not after the timeout'\nGO\nPRINT 'still here'\nGO\n",
        )
        .output();
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    assert_eq!(code(&out), 0);
    assert_eq!(stdout(&out), "Timeout expired\nstill here\n");
    // Under -b the timeout is an error.
    let started = Instant::now();
    let out = Run::sa(
        &server,
        &[
            "-b",
            "-t",
            "1",
            "-Q",
            "WAITFOR DELAY '00:00:03'\nGO\nPRINT 'never'",
        ],
    )
    .output();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(
        (code(&out), stdout(&out)),
        (1, "Timeout expired\n".to_owned())
    );
    // :setvar SQLCMDSTATTIMEOUT changes it for the batches after it.
    let started = Instant::now();
    let out = Run::sa(&server, &[])
        .stdin(":setvar SQLCMDSTATTIMEOUT 1\nWAITFOR DELAY '00:00:03'\n")
        .output();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(stdout(&out), "Timeout expired\n");
}

#[test]
fn l_gives_up_on_a_server_that_does_not_answer_the_login() {
    let dir = temp_dir("logintimeout");
    let socket = dir.join("silent.sock");
    // Accepts connections and never answers.
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let started = Instant::now();
    let out = std::process::Command::new(BIN)
        .args(["sqlcmd", "-S"])
        .arg(format!("unix:{}", socket.display()))
        .args(["-U", "sa", "-P", "x", "-l", "1", "-Q", "SELECT 1"])
        .output()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(code(&out), 1);
    assert_eq!(
        stdout(&out),
        "Sqlcmd: Error: vdisim : Login timeout expired.\n"
    );
    drop(listener);
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn output_switches_shape_result_sets() {
    let server = Server::start("layout");
    let query = "SET NOCOUNT ON; SELECT TOP 3 name, database_id AS id, CAST(N'a' + NCHAR(9) + N'b' AS nvarchar(10)) AS t FROM sys.databases ORDER BY database_id";
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["-Q", query]);
        stdout(&Run::sa(&server, &all).output())
    };
    insta::assert_snapshot!(
        "h2_separator_and_Y",
        run(&["-h", "2", "-s", "|", "-Y", "8"])
    );
    insta::assert_snapshot!("W_and_k", run(&["-W", "-k", "-s", ","]));
    insta::assert_snapshot!("w_wraps", run(&["-w", "20", "-Y", "10"]));
    insta::assert_snapshot!("no_headers_y", run(&["-h-1", "-y", "0", "-Y", "6"]));
    // -e echoes the batch; -m hides errors below the level; -R changes nothing here.
    let out = Run::sa(
        &server,
        &["-e", "-R", "-m", "16", "-Q", "PRINT 'p'\nSELECT 1 +"],
    )
    .output();
    assert_eq!(stdout(&out), "PRINT 'p'\nSELECT 1 +\n");
}

#[test]
fn messages_go_where_r_o_out_and_error_say() {
    let server = Server::start("redirect");
    let script = "PRINT 'info'\nSELECT 1/0\nGO\n";
    let out = Run::sa(&server, &["-r0"]).stdin(script).output();
    assert_eq!(stdout(&out), "info\n");
    assert!(stderr(&out).starts_with("Msg 8134"), "{}", stderr(&out));
    let out = Run::sa(&server, &["-r1"]).stdin(script).output();
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).starts_with("info\nMsg 8134"),
        "{}",
        stderr(&out)
    );
    // -o, then :out and :error to files.
    let out = Run::sa(&server, &["-o", "all.txt"])
        .stdin(&format!(
            "{script}:out results.txt\n:error errors.txt\n{script}:out stdout\nPRINT 'back'\n"
        ))
        .output();
    assert_eq!(stdout(&out), "back\n");
    let read = |name: &str| fs::read_to_string(server.dir.join(name)).unwrap();
    assert!(read("all.txt").starts_with("info\nMsg 8134"));
    assert_eq!(read("results.txt"), "info\n");
    assert!(read("errors.txt").starts_with("Msg 8134"));
    // -u writes the output file in UTF-16LE with a byte order mark.
    Run::sa(&server, &["-u", "-o", "u.txt", "-Q", "PRINT 'é'"]).output();
    let bytes = fs::read(server.dir.join("u.txt")).unwrap();
    assert_eq!(bytes, [0xFF, 0xFE, 0xE9, 0x00, 0x0A, 0x00]);
}

#[test]
fn connect_switches_the_session_and_help_lists_the_commands() {
    let server = Server::start("connect");
    let target = format!("unix:{}", server.socket.display());
    let out = Run::sa(&server, &[])
        .stdin(&format!(
            "USE pubs\nGO\n:connect {target} -U sa -P {PW}\nPRINT DB_NAME()\nGO\n:connect {target} -U sa -P wrong\nPRINT 'never'\n"
        ))
        .output();
    assert_eq!(code(&out), 1);
    assert_eq!(
        stdout(&out),
        "Changed database context to 'pubs'.\nmaster\nMsg 18456, Level 14, State 1, Server VDISIM, Line 1\nLogin failed for user 'sa'.\n"
    );
    let out = Run::sa(&server, &["-Q", ":help"]).output();
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn help_and_bad_switches() {
    let server = Server::start("help");
    for args in [["-?"], ["--help"]] {
        let out = Run::sqlcmd(&server, &args).output();
        assert_eq!(code(&out), 0);
        let text = stdout(&out);
        assert!(text.contains("usage: sqlcmd"), "{text}");
        assert!(
            text.contains("Exit codes:") && text.contains("SQLCMDPASSWORD"),
            "{text}"
        );
    }
    let bad = |args: &[&str]| {
        let out = Run::sqlcmd(&server, args).output();
        (code(&out), stdout(&out))
    };
    assert_eq!(
        bad(&["-w", "4"]),
        (
            1,
            "Sqlcmd: '-w 4': value must be greater than 8 and less than 65536.\n".to_owned()
        )
    );
    assert_eq!(
        bad(&["-E"]).1,
        "Sqlcmd: '-E': vdisim supports SQL Server authentication only; use -U and -P (or $SQLCMDUSER and $SQLCMDPASSWORD).\n"
    );
    assert_eq!(bad(&["-S", "db.example.com", "-Q", "x"]).0, 1);
}

#[test]
fn interactive_mode_prompts_on_a_terminal() {
    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
    use std::io::{Read, Write};
    let server = Server::start("tty");
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).unwrap();
    grantpt(&master).unwrap();
    unlockpt(&master).unwrap();
    let name = ptsname(&master, Vec::new()).unwrap();
    let slave = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(name.to_str().unwrap())
        .unwrap();
    let mut child = std::process::Command::new(BIN)
        .args(["sqlcmd", "-S"])
        .arg(format!("unix:{}", server.socket.display()))
        // No -P: sqlcmd asks for the password on the terminal.
        .args(["-U", "sa"])
        .stdin(slave.try_clone().unwrap())
        .stdout(slave.try_clone().unwrap())
        .stderr(slave)
        .spawn()
        .unwrap();
    let mut master = fs::File::from(master);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let reader = {
        let (mut master, seen) = (master.try_clone().unwrap(), seen.clone());
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            // The terminal reports EIO once the child's end is closed.
            while let Ok(n @ 1..) = master.read(&mut chunk) {
                seen.lock().unwrap().extend_from_slice(&chunk[..n]);
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    // The password is typed once the prompt is there (and echo is off).
    while !String::from_utf8_lossy(&seen.lock().unwrap()).contains("Password: ") {
        assert!(Instant::now() < deadline, "no password prompt");
        std::thread::sleep(Duration::from_millis(20));
    }
    master
        .write_all(format!("{PW}\nPRINT 'one'\nPRINT 'two'\nGO\n:setvar x 1\nexit\n").as_bytes())
        .unwrap();
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "sqlcmd did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(master);
    reader.join().unwrap();
    let text = seen.lock().unwrap().clone();
    let text = String::from_utf8_lossy(&text).replace("\r\n", "\n");
    // The terminal echoes the input; the prompts and the output are sqlcmd's.
    let output: String = text
        .lines()
        .filter(|l| !l.contains("PRINT") && !l.contains(":setvar") && *l != "exit" && *l != "GO")
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(text.starts_with("Password: \n"), "{text}");
    assert!(!text.contains(PW), "the password is echoed: {text}");
    assert!(
        text.contains("1> ") && text.contains("2> ") && text.contains("3> "),
        "{text}"
    );
    assert!(output.contains("one\ntwo\n"), "{text}");
    assert!(child.wait().unwrap().success());
}

#[test]
fn osql_and_isql_through_symlinks() {
    let server = Server::start("osql");
    let target = format!("unix:{}", server.socket.display());
    let s = target.as_str();
    // osql numbers script lines unless -n, and wraps at 80 columns.
    let out = Run::tool(&server, "osql", &["-S", s, "-U", "sa", "-P", PW])
        .stdin("PRINT 'a'\nGO\n")
        .output();
    assert_eq!(code(&out), 0);
    assert_eq!(stdout(&out), "1> 2> a\n1> ");
    let out = Run::tool(
        &server,
        "osql",
        &[
            "-S",
            s,
            "-U",
            "sa",
            "-P",
            PW,
            "-n",
            "-h-1",
            "-Q",
            "SELECT @@SERVERNAME",
        ],
    )
    .output();
    let text = stdout(&out);
    assert!(
        text.starts_with(&format!("VDISIM{}\n", " ".repeat(74))),
        "{text}"
    );
    assert!(
        text.lines()
            .nth(1)
            .is_some_and(|l| l.trim().is_empty() && !l.is_empty()),
        "{text}"
    );
    // -b, -d and exit codes as sqlcmd's.
    let out = Run::tool(
        &server,
        "osql",
        &["-S", s, "-U", "sa", "-P", PW, "-d", "pubs", "-b", "-n"],
    )
    .stdin("PRINT DB_NAME()\nGO\nSELECT 1/0\nGO\nPRINT 'never'\nGO\n")
    .output();
    assert_eq!(code(&out), 1);
    assert!(
        stdout(&out).starts_with("pubs\nMsg 8134"),
        "{}",
        stdout(&out)
    );
    // No scripting variables or colon commands in osql.
    let out = Run::tool(
        &server,
        "osql",
        &["-S", s, "-U", "sa", "-P", PW, "-Q", "PRINT '$(x)'"],
    )
    .output();
    assert_eq!(stdout(&out), "$(x)\n");
    let out = Run::tool(&server, "osql", &["-E"]).output();
    assert_eq!(code(&out), 1);
    assert!(stdout(&out).starts_with("osql: '-E'"), "{}", stdout(&out));
    // isql: its own switches (-x is a text size there).
    let out = Run::tool(
        &server,
        "isql",
        &[
            "-S",
            s,
            "-U",
            "sa",
            "-P",
            PW,
            "-x",
            "4096",
            "-Q",
            "EXIT(SELECT 3)",
        ],
    )
    .output();
    assert_eq!(code(&out), 3);
    let out = Run::tool(&server, "isql", &["-?"]).output();
    assert!(stdout(&out).contains("usage: isql"), "{}", stdout(&out));
    // sqlcmd through a symlink, with a -v variable.
    let out = Run::tool(
        &server,
        "sqlcmd",
        &[
            "-S",
            s,
            "-U",
            "sa",
            "-P",
            PW,
            "-v",
            "v=1",
            "-Q",
            "PRINT '$(v)'",
        ],
    )
    .output();
    assert_eq!(stdout(&out), "1\n");
}
