//! Running `vdisim sqlcmd` (or the binary as `sqlcmd`, `osql`, `isql` through a symlink)
//! against a test daemon with a clean environment, a working directory and standard input.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::common::{BIN, PW, Server};

/// The environment variables sqlcmd reads, removed so the caller's do not leak in.
const SQLCMD_ENV: &[&str] = &[
    "SQLCMDSERVER",
    "SQLCMDUSER",
    "SQLCMDPASSWORD",
    "SQLCMDDBNAME",
    "SQLCMDLOGINTIMEOUT",
    "SQLCMDSTATTIMEOUT",
    "SQLCMDHEADERS",
    "SQLCMDCOLSEP",
    "SQLCMDCOLWIDTH",
    "SQLCMDMAXVARTYPEWIDTH",
    "SQLCMDMAXFIXEDTYPEWIDTH",
    "SQLCMDERRORLEVEL",
    "SQLCMDINI",
    "SQLCMDPACKETSIZE",
    "SQLCMDWORKSTATION",
    "OSQLSERVER",
    "OSQLUSER",
    "OSQLPASSWORD",
];

/// One sqlcmd invocation being prepared.
pub struct Run {
    command: Command,
    stdin: Option<String>,
}

impl Run {
    /// `vdisim sqlcmd ARGS…` reaching `server` through $VDISIM_SERVER (no -S, no login).
    pub fn sqlcmd(server: &Server, args: &[&str]) -> Run {
        let mut command = Command::new(BIN);
        command.arg("sqlcmd").args(args);
        Run::with(command, server)
    }

    /// `vdisim sqlcmd -U sa -P <pw> ARGS…`.
    pub fn sa(server: &Server, args: &[&str]) -> Run {
        let mut all = vec!["-U", "sa", "-P", PW];
        all.extend_from_slice(args);
        Run::sqlcmd(server, &all)
    }

    /// The binary through a symlink named `tool` (sqlcmd, osql, isql) in the server's directory.
    pub fn tool(server: &Server, tool: &str, args: &[&str]) -> Run {
        let link = tool_link(&server.dir, tool);
        let mut command = Command::new(link);
        command.args(args);
        Run::with(command, server)
    }

    fn with(mut command: Command, server: &Server) -> Run {
        for name in SQLCMD_ENV {
            command.env_remove(name);
        }
        command
            .env("VDISIM_SERVER", &server.socket)
            .current_dir(&server.dir);
        Run {
            command,
            stdin: None,
        }
    }

    pub fn env(mut self, name: &str, value: &str) -> Run {
        self.command.env(name, value);
        self
    }

    pub fn dir(mut self, dir: &Path) -> Run {
        self.command.current_dir(dir);
        self
    }

    pub fn stdin(mut self, text: &str) -> Run {
        self.stdin = Some(text.to_owned());
        self
    }

    pub fn output(mut self) -> Output {
        self.command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.command.spawn().unwrap();
        let mut pipe = child.stdin.take().unwrap();
        if let Some(text) = &self.stdin {
            // A script that stops early closes its end; that is not a test failure.
            let _ = pipe.write_all(text.as_bytes());
        }
        drop(pipe);
        child.wait_with_output().unwrap()
    }
}

/// `<dir>/bin/<tool>`, a symlink to the vdisim binary (created once).
pub fn tool_link(dir: &Path, tool: &str) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let link = bin.join(tool);
    if !link.exists() {
        std::os::unix::fs::symlink(BIN, &link).unwrap();
    }
    link
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
