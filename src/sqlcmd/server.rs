//! Where `-S` (or `$SQLCMDSERVER`, or nothing) leads: the local daemon's Unix socket.

use std::path::PathBuf;

use vdi_server::daemon::default_socket_path;

/// The socket `-S server` names: `unix:PATH` directly; `.`, `(local)`, `localhost`,
/// `127.0.0.1`, `::1` and this host's name (each with an optional `tcp:`/`np:`/`lpc:`/`admin:`
/// prefix, `,port` and `\INSTANCE`) reach `$VDISIM_SERVER` or the default socket; nothing
/// (`None` or empty) too. Any other host is refused: vdisim's sqlcmd has no TDS client.
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
            "Sqlcmd: Error: vdisim : Server '{server}' is not this machine: vdisim's sqlcmd reaches the local vdisim server over its Unix socket (-S ., -S localhost or -S unix:PATH); TDS endpoints are not supported yet."
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
        assert!(
            refused.contains("TDS endpoints are not supported yet"),
            "{refused}"
        );
    }
}
