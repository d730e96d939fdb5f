//! What the BACKUP/RESTORE process tests share: statements run through `vdisim sqlcmd` against
//! the daemon while the reference client serves their virtual devices from a media directory.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use super::common::{BIN, PW, Server, stdout};
use vdi_client::reference::{self, ClientRun, Direction, ReferenceOptions};

/// What a statement printed and what the client saw.
pub struct Ran {
    pub text: String,
    pub run: ClientRun,
}

impl Ran {
    /// The `Msg n,` numbers in the output, in order.
    pub fn errors(&self) -> Vec<u32> {
        msg_numbers(&self.text)
    }

    /// Asserts the statement succeeded on both sides.
    pub fn ok(self) -> String {
        assert!(
            self.errors().is_empty() && self.run.clean(),
            "{}\n{:?}",
            self.text,
            self.run
        );
        self.text
    }
}

/// The `Msg n,` numbers in sqlcmd's output.
pub fn msg_numbers(text: &str) -> Vec<u32> {
    text.lines()
        .filter_map(|l| l.strip_prefix("Msg "))
        .filter_map(|l| l.split(',').next()?.parse().ok())
        .collect()
}

/// `sqlcmd -Q text` as sa (no -b: the output shows every message).
pub fn sql(server: &Server, text: &str) -> String {
    stdout(&server.sa(&["-Q", text]))
}

/// The rows of a `-h -1 -W -s "|"` query, split into cells.
pub fn rows(server: &Server, query: &str) -> Vec<Vec<String>> {
    let out = server.sa(&[
        "-h",
        "-1",
        "-W",
        "-s",
        "|",
        "-Q",
        &format!("SET NOCOUNT ON; {query}"),
    ]);
    stdout(&out)
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split('|').map(str::to_owned).collect())
        .collect()
}

/// The digest vdisim's `DBCC VDISIM_DIGEST` reports for a database.
pub fn digest(server: &Server, db: &str) -> String {
    let rows = rows(
        server,
        &format!("DBCC VDISIM_DIGEST('{db}') WITH NO_INFOMSGS"),
    );
    rows.first()
        .and_then(|r| r.get(2))
        .cloned()
        .unwrap_or_else(|| panic!("no digest of {db}: {rows:?}"))
}

/// Runs `template` (with `{devices}` standing for the VIRTUAL_DEVICE list) while the
/// reference client serves `devices` devices from `media`: reading the stripes for a BACKUP,
/// writing them for a RESTORE.
pub fn with_devices(
    server: &Server,
    direction: Direction,
    media: &Path,
    devices: u16,
    template: &str,
) -> Ran {
    with_options(
        server,
        direction,
        media,
        template,
        ReferenceOptions {
            devices,
            ..ReferenceOptions::default()
        },
        &[],
    )
}

/// [`with_devices`] with the client's options and more sqlcmd switches.
pub fn with_options(
    server: &Server,
    direction: Direction,
    media: &Path,
    template: &str,
    options: ReferenceOptions,
    sqlcmd_args: &[&str],
) -> Ran {
    let sqlcmd_args: Vec<String> = sqlcmd_args.iter().map(|a| (*a).to_owned()).collect();
    std::fs::create_dir_all(media).unwrap();
    let set = reference::new_set_name();
    let devices = reference::device_names(&set, options.devices)
        .iter()
        .map(|n| format!("VIRTUAL_DEVICE = N'{n}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let statement = template.replace("{devices}", &devices);
    let socket = server.socket.clone();
    let (run, out) = reference::run(
        &set,
        direction,
        media,
        &options,
        Arc::new(AtomicU64::new(0)),
        move || {
            Command::new(BIN)
                .args(["sqlcmd", "-S", &format!("unix:{}", socket.display())])
                .args(["-U", "sa", "-P", PW])
                .args(&sqlcmd_args)
                .args(["-Q", &statement])
                .output()
                .unwrap()
        },
    );
    Ran {
        text: stdout(&out).replace(&set, "<set>"),
        run,
    }
}

/// `BACKUP … TO {devices}` into `media`.
pub fn backup(server: &Server, media: &Path, devices: u16, template: &str) -> Ran {
    with_devices(server, Direction::Backup, media, devices, template)
}

/// `RESTORE … FROM {devices}` from `media`.
pub fn restore(server: &Server, media: &Path, devices: u16, template: &str) -> Ran {
    with_devices(server, Direction::Restore, media, devices, template)
}

/// Replaces what changes from run to run (dates, times, GUIDs, durations and rates) with
/// placeholders, for snapshots.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut l = line.to_owned();
        l = replace_all(&l, is_datetime_at, 23, "<date>");
        l = replace_all(&l, is_guid_at, 36, "<guid>");
        if let Some(i) = l.find(" pages in ") {
            l = format!("{}{}", &l[..i], " pages in <s> seconds (<rate> MB/sec).");
        }
        out.push_str(&l);
        out.push('\n');
    }
    out
}

fn replace_all(s: &str, at: fn(&[u8], usize) -> bool, len: usize, with: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        if i + len <= b.len() && at(b, i) {
            out.push_str(with);
            i += len;
        } else {
            let ch = s[i..].chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// `yyyy-mm-dd hh:mm:ss.fff`
fn is_datetime_at(b: &[u8], i: usize) -> bool {
    let pattern = b"dddd-dd-dd dd:dd:dd.ddd";
    pattern.iter().enumerate().all(|(k, p)| {
        let c = b[i + k];
        if *p == b'd' {
            c.is_ascii_digit()
        } else {
            c == *p
        }
    })
}

/// `XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX`
fn is_guid_at(b: &[u8], i: usize) -> bool {
    (0..36).all(|k| {
        let c = b[i + k];
        if [8, 13, 18, 23].contains(&k) {
            c == b'-'
        } else {
            c.is_ascii_hexdigit()
        }
    })
}

/// A `-W -s "|"` result set (headers, dashes, rows) as `column: value` lines, one block per
/// row, for snapshots of wide result sets.
pub fn transpose(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('(') && !l.starts_with("Msg "))
        .collect();
    let Some((header, rest)) = lines.split_first() else {
        return text.to_owned();
    };
    let names: Vec<&str> = header.split('|').collect();
    let mut out = String::new();
    for row in rest.iter().skip(1) {
        for (name, value) in names.iter().zip(row.split('|')) {
            out.push_str(&format!("{name}: {value}\n"));
        }
        out.push('\n');
    }
    out
}
