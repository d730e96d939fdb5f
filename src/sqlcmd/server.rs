//! Where `-S` (or `$SQLCMDSERVER`, or nothing) leads: the local daemon's Unix socket, or a TDS
//! endpoint (`host,port`, `tcp:host[,port]`, or another machine) — vdisim's TDS port or a real
//! SQL Server.

use std::path::PathBuf;

use vdi_server::daemon::default_socket_path;

use crate::tds_client::Endpoint;

/// SQL Server's default TCP port.
const DEFAULT_PORT: u16 = 1433;

/// What `-S` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Address {
    /// The vdisim daemon's own protocol on a Unix socket.
    Unix(PathBuf),
    /// TDS over TCP.
    Tds(Endpoint),
}

/// The server sqlcmd's `-S server` names (decision 70):
/// - nothing, `unix:PATH`, and `.`, `(local)`, `localhost`, `127.0.0.1`, `::1` or this host's
///   name without a port (with an optional `np:`/`lpc:`/`admin:` prefix and `\INSTANCE`): the
///   Unix socket (`$VDISIM_SERVER` or the default);
/// - `host,port`, `tcp:host[,port]`, or any other host: TDS to that host and port (1433 when
///   none is given), as sqlcmd connects.
pub(crate) fn resolve_address(server: Option<&str>) -> Result<Address, String> {
    let server = server.map(str::trim).unwrap_or("");
    if server.is_empty() {
        return Ok(Address::Unix(default_socket_path()));
    }
    if let Some(path) = strip_prefix_ignore_case(server, "unix:") {
        return Ok(Address::Unix(PathBuf::from(path)));
    }
    let mut rest = server;
    let mut tcp = false;
    let mut local_protocol = false;
    for protocol in ["tcp:", "np:", "lpc:", "admin:"] {
        if let Some(r) = strip_prefix_ignore_case(rest, protocol) {
            rest = r;
            tcp |= protocol == "tcp:";
            local_protocol |= protocol != "tcp:";
        }
    }
    let (name, port) = match rest.split_once(',') {
        Some((name, port)) => (name, Some(port.trim())),
        None => (rest, None),
    };
    let (host, instance) = match name.split_once('\\') {
        Some((host, instance)) => (host.trim(), instance.trim()),
        None => (name.trim(), ""),
    };
    if !tcp && port.is_none() && (local_protocol || is_this_machine(host)) {
        return if is_this_machine(host) {
            Ok(Address::Unix(default_socket_path()))
        } else {
            Err(format!(
                "Sqlcmd: Error: vdisim : Server '{server}': named pipes and shared memory reach only this machine; use -S tcp:{host} or -S {host},PORT for TDS."
            ))
        };
    }
    let port = match port {
        None | Some("") => DEFAULT_PORT,
        Some(p) => p.parse::<u16>().ok().filter(|&p| p > 0).ok_or_else(|| {
            format!("Sqlcmd: Error: vdisim : Server '{server}': '{p}' is not a TCP port.")
        })?,
    };
    let host = match host {
        "." | "(local)" | "" => "127.0.0.1",
        h => h,
    };
    Ok(Address::Tds(Endpoint {
        host: host.to_owned(),
        port,
        instance: instance.to_owned(),
    }))
}

/// The socket `-S server` names for the reference client (`vdisim backup|restore`), which
/// speaks only the daemon's own protocol: `unix:PATH` directly; `.`, `(local)`, `localhost`,
/// `127.0.0.1`, `::1` and this host's name (each with an optional `tcp:`/`np:`/`lpc:`/`admin:`
/// prefix, `,port` and `\INSTANCE`) reach `$VDISIM_SERVER` or the default socket; nothing
/// (`None` or empty) too. Any other host is refused.
pub(crate) fn resolve_server(server: Option<&str>) -> Result<PathBuf, String> {
    let server = server.map(str::trim).unwrap_or("");
    if server.is_empty() {
        return Ok(default_socket_path());
    }
    if let Some(path) = strip_prefix_ignore_case(server, "unix:") {
        return Ok(PathBuf::from(path));
    }
    let mut host = server;
    for protocol in ["tcp:", "np:", "lpc:", "admin:"] {
        if let Some(rest) = strip_prefix_ignore_case(host, protocol) {
            host = rest;
        }
    }
    let host = host.split(',').next().unwrap_or("");
    let host = host.split('\\').next().unwrap_or("").trim();
    if is_this_machine(host) {
        Ok(default_socket_path())
    } else {
        Err(format!(
            "Sqlcmd: Error: vdisim : Server '{server}' is not this machine: the reference client reaches the local vdisim server over its Unix socket (-S ., -S localhost or -S unix:PATH)."
        ))
    }
}

fn is_this_machine(host: &str) -> bool {
    let this_host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default();
    [".", "(local)", "localhost", "127.0.0.1", "::1", "[::1]"]
        .iter()
        .any(|l| l.eq_ignore_ascii_case(host))
        || (!this_host.is_empty() && this_host.eq_ignore_ascii_case(host))
}

pub(crate) fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_server_names_reach_the_default_socket() {
        let default = default_socket_path();
        for s in [
            ".",
            "localhost",
            "(local)",
            "localhost,1433",
            "tcp:localhost",
            "TCP:127.0.0.1,1433",
            ".\\SQLEXPRESS",
        ] {
            assert_eq!(resolve_server(Some(s)), Ok(default.clone()), "{s}");
        }
        assert_eq!(
            resolve_server(Some("unix:/tmp/x.sock")),
            Ok(PathBuf::from("/tmp/x.sock"))
        );
        let refused = resolve_server(Some("db.example.com")).unwrap_err();
        assert!(refused.contains("is not this machine"), "{refused}");
    }

    fn tds(host: &str, port: u16, instance: &str) -> Address {
        Address::Tds(Endpoint {
            host: host.into(),
            port,
            instance: instance.into(),
        })
    }

    #[test]
    fn sqlcmd_names_with_a_port_or_tcp_speak_tds() {
        let default = Address::Unix(default_socket_path());
        for s in [
            ".",
            "localhost",
            "(local)",
            "np:localhost",
            ".\\SQLEXPRESS",
            "",
        ] {
            assert_eq!(resolve_address(Some(s)), Ok(default.clone()), "{s}");
        }
        assert_eq!(
            resolve_address(Some("unix:/tmp/x.sock")),
            Ok(Address::Unix(PathBuf::from("/tmp/x.sock")))
        );
        assert_eq!(
            resolve_address(Some("tcp:127.0.0.1,14330")),
            Ok(tds("127.0.0.1", 14330, ""))
        );
        assert_eq!(
            resolve_address(Some("localhost,1433")),
            Ok(tds("localhost", 1433, ""))
        );
        assert_eq!(
            resolve_address(Some("TCP:.")),
            Ok(tds("127.0.0.1", 1433, ""))
        );
        assert_eq!(
            resolve_address(Some("db.example.com\\PROD")),
            Ok(tds("db.example.com", 1433, "PROD"))
        );
        assert!(
            resolve_address(Some("db,notaport"))
                .unwrap_err()
                .contains("not a TCP port")
        );
        assert!(resolve_address(Some("np:db.example.com")).is_err());
    }
}
