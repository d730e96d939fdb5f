//! `vdisim bench --only tds`: the TDS front end measured against a real `vdisim server` child
//! process with tiberius (a real driver): `SELECT 1` round trips beside a raw TCP echo of the
//! same request and response sizes in the same run, then 256 connections at once each running
//! a query loop, with the daemon's RSS and CPU time (docs/tds.md, docs/performance.md).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use tiberius::{AuthMethod, Client, Config, EncryptionLevel};
use tokio::net::TcpStream as TokioTcp;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

const PW: &str = "Bench-pw1";

/// (name, value, unit, ceiling name, ceiling value)
pub type TdsFigure = (&'static str, f64, &'static str, &'static str, f64);

struct Daemon {
    child: Child,
    addr: SocketAddr,
    dir: PathBufGuard,
}

struct PathBufGuard(std::path::PathBuf);

impl Drop for PathBufGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = &self.dir;
    }
}

fn start_daemon(max_connections: usize) -> Result<Daemon, String> {
    let dir = std::env::temp_dir().join(format!("vdisim-bench-tds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .args(["server", "--socket"])
        .arg(dir.join("s.sock"))
        .args([
            "--sa-password",
            PW,
            "--tds",
            "127.0.0.1:0",
            "--tds-encryption",
            "off",
        ])
        .args(["--max-connections", &max_connections.to_string()])
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines
            .next()
            .ok_or("the server exited before listening")?
            .map_err(|e| e.to_string())?;
        if let Some(addr) = line.split("TDS ready on ").nth(1) {
            break addr.trim().parse().map_err(|e| format!("{e}"))?;
        }
    };
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Ok(Daemon {
        child,
        addr,
        dir: PathBufGuard(dir),
    })
}

async fn connect(addr: SocketAddr) -> Result<Client<Compat<TokioTcp>>, String> {
    let mut config = Config::new();
    config.host("127.0.0.1");
    config.port(addr.port());
    config.authentication(AuthMethod::sql_server("sa", PW));
    config.encryption(EncryptionLevel::NotSupported);
    let tcp = TokioTcp::connect(addr).await.map_err(|e| e.to_string())?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    Client::connect(config, tcp.compat_write())
        .await
        .map_err(|e| e.to_string())
}

async fn query(client: &mut Client<Compat<TokioTcp>>, sql: &str) -> Result<(), String> {
    client
        .simple_query(sql)
        .await
        .map_err(|e| e.to_string())?
        .into_results()
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// A blocking echo: reads `request` bytes, answers `response` bytes.
fn echo_round_trips(n: usize, request: usize, response: usize) -> Result<Vec<f64>, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let server = std::thread::spawn(move || -> std::io::Result<()> {
        let (mut s, _) = listener.accept()?;
        s.set_nodelay(true)?;
        let mut req = vec![0u8; request];
        let resp = vec![0u8; response];
        for _ in 0..n {
            s.read_exact(&mut req)?;
            s.write_all(&resp)?;
        }
        Ok(())
    });
    let mut s = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    s.set_nodelay(true).map_err(|e| e.to_string())?;
    let req = vec![0u8; request];
    let mut resp = vec![0u8; response];
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        s.write_all(&req).map_err(|e| e.to_string())?;
        s.read_exact(&mut resp).map_err(|e| e.to_string())?;
        times.push(t.elapsed().as_secs_f64() * 1e6);
    }
    server
        .join()
        .map_err(|_| "echo thread panicked")?
        .map_err(|e| e.to_string())?;
    Ok(times)
}

fn proc_stat(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss_kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: f64 = fields
        .get(11)
        .and_then(|u| u.parse::<f64>().ok())
        .unwrap_or(0.0)
        + fields
            .get(12)
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0);
    (rss_kb / 1024.0, ticks / 100.0)
}

/// The figures; `round_trips` queries for the latency, `connections` for the load.
pub fn measure(round_trips: usize, connections: usize) -> Result<Vec<TdsFigure>, String> {
    let daemon = start_daemon(connections + 8)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let addr = daemon.addr;
    let sql = "SELECT 1";
    let mut tds_times = rt.block_on(async {
        let mut c = connect(addr).await?;
        for _ in 0..100 {
            query(&mut c, sql).await?;
        }
        let mut times = Vec::with_capacity(round_trips);
        for _ in 0..round_trips {
            let t = Instant::now();
            query(&mut c, sql).await?;
            times.push(t.elapsed().as_secs_f64() * 1e6);
        }
        Ok::<_, String>(times)
    })?;
    // The same sizes on the wire: the SQL_BATCH packet and the response tokens.
    let request = 8 + 22 + 2 * sql.len();
    // COLMETADATA (one unnamed NOT NULL int: 11 bytes), ROW (5), DONE (13), the header (8).
    let response = 8 + 11 + 5 + 13;
    let mut echo = echo_round_trips(round_trips, request, response)?;
    tds_times.sort_by(f64::total_cmp);
    echo.sort_by(f64::total_cmp);
    eprintln!(
        "vdisim bench: TDS round trips with `{sql}` ({request} B request, ~{response} B response)"
    );

    let pid = daemon.child.id();
    let (rss_idle, _) = proc_stat(pid);
    let per_connection = 20;
    let (rss_loaded, cpu, wall) = rt.block_on(async {
        let mut clients = Vec::with_capacity(connections);
        for _ in 0..connections {
            clients.push(connect(addr).await?);
        }
        let (_, cpu_before) = proc_stat(pid);
        let started = Instant::now();
        let loops = clients.into_iter().map(|mut c| async move {
            for _ in 0..per_connection {
                query(&mut c, sql).await?;
            }
            Ok::<_, String>(c)
        });
        let mut handles = Vec::new();
        let local = tokio::task::LocalSet::new();
        for l in loops {
            handles.push(local.spawn_local(l));
        }
        let mut open = Vec::new();
        local
            .run_until(async {
                for h in handles {
                    open.push(h.await.map_err(|e| e.to_string())??);
                }
                Ok::<_, String>(())
            })
            .await?;
        let wall = started.elapsed().as_secs_f64();
        let (rss, cpu_after) = proc_stat(pid);
        drop(open);
        Ok::<_, String>((rss, cpu_after - cpu_before, wall))
    })?;
    let queries = (connections * per_connection) as f64;
    Ok(vec![
        (
            "tds_select_rt_median_us",
            percentile(&tds_times, 0.5),
            "us",
            "tcp_echo_rt_median_us",
            percentile(&echo, 0.5),
        ),
        (
            "tds_select_rt_p99_us",
            percentile(&tds_times, 0.99),
            "us",
            "tcp_echo_rt_p99_us",
            percentile(&echo, 0.99),
        ),
        (
            "tcp_echo_rt_median_us",
            percentile(&echo, 0.5),
            "us",
            "",
            0.0,
        ),
        ("tds_daemon_rss_idle_mib", rss_idle, "MiB", "", 0.0),
        (
            "tds_daemon_rss_256conn_mib",
            rss_loaded,
            "MiB",
            "tds_daemon_rss_idle_mib",
            rss_idle,
        ),
        (
            "tds_daemon_cpu_ms_per_query_256conn",
            cpu * 1000.0 / queries,
            "ms",
            "",
            0.0,
        ),
        ("tds_256conn_queries_per_s", queries / wall, "1/s", "", 0.0),
    ])
}
