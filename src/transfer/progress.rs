//! Progress of a backup or restore on stderr: a bar with percent, bytes, rate and ETA on a
//! terminal (indicatif), a plain line every few seconds otherwise, nothing under `--quiet`.
//!
//! The percent comes from the size when it is known (a restore: the stripe files) and from the
//! server's `STATS` messages otherwise (a backup); the bytes from the client's counter.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, HumanDuration, ProgressBar, ProgressStyle};

/// No percent from the server yet.
pub const UNKNOWN_PERCENT: u32 = u32::MAX;

/// What the display reads.
#[derive(Debug, Clone)]
pub struct Meter {
    /// Bytes moved so far (the client's counter).
    pub bytes: Arc<AtomicU64>,
    /// The server's last `N percent processed.`, or [`UNKNOWN_PERCENT`].
    pub percent: Arc<AtomicU32>,
    /// The total, when known before the transfer.
    pub total: Option<u64>,
}

impl Meter {
    pub fn new(total: Option<u64>) -> Meter {
        Meter {
            bytes: Arc::new(AtomicU64::new(0)),
            percent: Arc::new(AtomicU32::new(UNKNOWN_PERCENT)),
            total,
        }
    }

    /// (bytes, percent, total) now; the total is estimated from the percent when unknown.
    fn read(&self) -> (u64, Option<u64>, Option<u64>) {
        let bytes = self.bytes.load(Ordering::Relaxed);
        if let Some(total) = self.total.filter(|&t| t > 0) {
            return (bytes, Some((bytes * 100 / total).min(100)), Some(total));
        }
        match self.percent.load(Ordering::Relaxed) {
            UNKNOWN_PERCENT | 0 => (bytes, None, None),
            p => {
                let p = u64::from(p.min(100));
                (bytes, Some(p), Some(bytes * 100 / p))
            }
        }
    }
}

/// How progress is shown.
#[derive(Debug, Clone, Copy)]
pub struct DisplayOptions {
    pub quiet: bool,
    /// Between plain lines when stderr is not a terminal.
    pub interval: Duration,
}

/// A running display; [`Display::finish`] stops it.
#[derive(Debug)]
pub struct Display {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Display {
    /// Starts showing `meter` under `label` (`backing up pubs`).
    pub fn start(label: String, meter: Meter, options: DisplayOptions) -> Display {
        if options.quiet {
            return Display {
                stop: None,
                thread: None,
            };
        }
        let (stop, stopped) = mpsc::channel();
        let thread = if std::io::stderr().is_terminal() {
            std::thread::spawn(move || bar(&label, &meter, &stopped))
        } else {
            std::thread::spawn(move || lines(&label, &meter, &stopped, options.interval))
        };
        Display {
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn finish(mut self) {
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn bar(label: &str, meter: &Meter, stopped: &mpsc::Receiver<()>) {
    let bar = ProgressBar::new_spinner();
    let spinner = ProgressStyle::with_template("{spinner} {msg} {bytes} ({bytes_per_sec})")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    let full = ProgressStyle::with_template(
        "{spinner} {msg} [{wide_bar}] {percent:>3}% {bytes}/{total_bytes} ({bytes_per_sec}, ETA {eta})",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(spinner);
    bar.set_message(label.to_owned());
    bar.enable_steady_tick(Duration::from_millis(100));
    let mut with_total = false;
    while stopped.recv_timeout(Duration::from_millis(100)) == Err(mpsc::RecvTimeoutError::Timeout) {
        let (bytes, _, total) = meter.read();
        if let Some(total) = total {
            if !with_total {
                bar.set_style(full.clone());
                with_total = true;
            }
            bar.set_length(total.max(bytes));
        }
        bar.set_position(bytes);
    }
    bar.finish_and_clear();
}

fn lines(label: &str, meter: &Meter, stopped: &mpsc::Receiver<()>, interval: Duration) {
    let started = Instant::now();
    while stopped.recv_timeout(interval) == Err(mpsc::RecvTimeoutError::Timeout) {
        let line = plain_line(label, meter, started.elapsed());
        eprintln!("{line}");
    }
}

/// `vdisim: backing up pubs: 45% (1.90 MiB of about 4.20 MiB) at 8.30 MiB/s, about 1 second left`
pub fn plain_line(label: &str, meter: &Meter, elapsed: Duration) -> String {
    let (bytes, percent, total) = meter.read();
    let seconds = elapsed.as_secs_f64().max(1e-3);
    let rate = bytes as f64 / seconds;
    let rate_text = format!("{}/s", HumanBytes(rate as u64));
    match (percent, total) {
        (Some(percent), Some(total)) => {
            let about = if meter.total.is_some() { "" } else { "about " };
            let left = total.saturating_sub(bytes);
            let eta = if rate > 0.0 {
                format!(
                    ", about {} left",
                    HumanDuration(Duration::from_secs_f64(left as f64 / rate))
                )
            } else {
                String::new()
            };
            format!(
                "vdisim: {label}: {percent}% ({} of {about}{}) at {rate_text}{eta}",
                HumanBytes(bytes),
                HumanBytes(total)
            )
        }
        _ => format!("vdisim: {label}: {} at {rate_text}", HumanBytes(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_with_and_without_a_total() {
        let meter = Meter::new(Some(4 << 20));
        meter.bytes.store(1 << 20, Ordering::Relaxed);
        assert_eq!(
            plain_line("restoring pubs", &meter, Duration::from_secs(1)),
            "vdisim: restoring pubs: 25% (1.00 MiB of 4.00 MiB) at 1.00 MiB/s, about 3 seconds left"
        );
        let meter = Meter::new(None);
        meter.bytes.store(1 << 20, Ordering::Relaxed);
        assert_eq!(
            plain_line("backing up pubs", &meter, Duration::from_secs(2)),
            "vdisim: backing up pubs: 1.00 MiB at 512.00 KiB/s"
        );
        meter.percent.store(50, Ordering::Relaxed);
        assert_eq!(
            plain_line("backing up pubs", &meter, Duration::from_secs(2)),
            "vdisim: backing up pubs: 50% (1.00 MiB of about 2.00 MiB) at 512.00 KiB/s, about 2 seconds left"
        );
    }
}
