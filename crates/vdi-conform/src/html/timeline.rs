//! The timeline of one client run, before it is drawn: a lane for the set and one per device,
//! the items on them (commands with their GetCommand and completion, folded runs of identical
//! transfers, state changes, aborts, closes, misuse, the faults the harness injected) on the
//! server's clock, and where each goes on the page (time flows down).

use super::fold;
use crate::transcript::RunLog;
use std::collections::{BTreeMap, HashMap, VecDeque};
use vdi_proto::transcript::{Event, EventKind, Side};
use vdi_proto::{RuleKind, VdcCode, win32};
use vdi_server::jobs::{Crash, TimedEvent, TraceEvent};

/// Runs of at least this many like transfers on a device are drawn as one block.
pub const FOLD_MIN: usize = 3;
/// A pause longer than this between items is drawn as a break.
pub const BREAK_US: u64 = 150_000;
/// Items on different device lanes this close in time may share rows (the set's events
/// always start a new row below everything before them).
pub const SAME_ROW_US: u64 = 1_000;

/// Height of a one-line item, a folded block and a break, in pixels.
pub const ROW: u32 = 24;
pub const FOLDED_ROW: u32 = 36;
pub const BREAK_ROW: u32 = 24;

/// What an item is (the drawing's shape and colour follow from it).
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// A command on a device: sent, taken with GetCommand (`taken` as a fraction of the way
    /// from sent to done), completed (`ok`: ERROR_SUCCESS or the end of the data).
    Command {
        code: VdcCode,
        ok: bool,
        done: bool,
        taken: Option<f32>,
    },
    /// `count` identical transfers, folded.
    Folded { code: VdcCode, count: usize },
    /// A state change, Open, the configuration, a device opened, a CloseDevice.
    Event,
    /// A client call that returned an error (a timeout, VD_E_CLOSE, …).
    CallError,
    /// An abort, a close of the set, or a dead peer.
    Abort,
    /// A fault the harness injected, where it struck.
    Fault,
    /// A misuse of the API (its rule).
    Misuse,
}

/// One thing drawn.
#[derive(Clone, Debug)]
pub struct Item {
    /// 0: the set; d + 1: device d.
    pub lane: usize,
    pub start_us: u64,
    pub end_us: u64,
    pub kind: Kind,
    /// The text in the drawing.
    pub label: String,
    /// A short label for narrow lanes.
    pub short: String,
    /// The tooltip: what happened, then the transcript records.
    pub detail: String,
    /// The harness injected a fault into this command.
    pub fault: bool,
    pub y: u32,
    pub h: u32,
}

/// A gap in time, drawn as a break across the lanes.
#[derive(Clone, Debug)]
pub struct Break {
    pub y: u32,
    pub gap_us: u64,
}

/// The laid-out timeline of one run.
#[derive(Clone, Debug, Default)]
pub struct Timeline {
    pub devices: usize,
    pub items: Vec<Item>,
    pub breaks: Vec<Break>,
    pub height: u32,
    /// The first server event, the origin of the times shown.
    pub origin_us: u64,
    /// Transcript records behind folded blocks and left out of the tooltips.
    pub folded_records: usize,
}

pub(super) fn record(e: &TimedEvent) -> String {
    serde_json::to_string(e).unwrap_or_default()
}

/// Bytes, short: `512 B`, `56.5 KiB`, `4 MiB`.
pub fn bytes(n: u64) -> String {
    if n < 1024 {
        format!("{n} B")
    } else if n < 1 << 20 {
        trim(format!("{:.1}", n as f64 / 1024.0)) + " KiB"
    } else {
        trim(format!("{:.1}", n as f64 / (1u64 << 20) as f64)) + " MiB"
    }
}

fn trim(s: String) -> String {
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// Microseconds as milliseconds, `12.345 ms`, or seconds from 1 s on, `1.2345 s`.
pub fn ms(us: u64) -> String {
    if us < 1_000_000 {
        format!("{:.3} ms", us as f64 / 1000.0)
    } else {
        format!("{:.4} s", us as f64 / 1e6)
    }
}

pub(super) fn code_short(code: VdcCode) -> &'static str {
    match code {
        VdcCode::Write => "W",
        VdcCode::Read => "R",
        VdcCode::Flush => "F",
        VdcCode::Complete => "C",
        VdcCode::ClearError => "CE",
        _ => "?",
    }
}

pub(super) fn completion_name(code: u32) -> String {
    win32::name(code).map_or_else(|| code.to_string(), str::to_string)
}

/// One command as both sides saw it.
pub(super) struct Cmd {
    pub(super) device: usize,
    pub(super) code: VdcCode,
    pub(super) size: u32,
    pub(super) position: u64,
    pub(super) sent: u64,
    pub(super) sent_record: String,
    pub(super) taken: Option<(u64, String)>,
    pub(super) done: Option<(u64, u32, u32, String)>,
    pub(super) fault: Option<String>,
}

/// The offset that puts the client's clock on the server's: the smallest one under which no
/// command is taken before it was sent, kept at or below every bound a completion gives (a
/// completion is received after the client made it).
fn clock_offset(log: &RunLog) -> i64 {
    let mut sent: BTreeMap<u16, VecDeque<u64>> = BTreeMap::new();
    let mut received: BTreeMap<u16, VecDeque<u64>> = BTreeMap::new();
    for e in &log.server {
        match &e.event {
            TraceEvent::Command { device, .. } => {
                sent.entry(*device).or_default().push_back(e.t_us)
            }
            TraceEvent::Completion { device, .. } => {
                received.entry(*device).or_default().push_back(e.t_us)
            }
            _ => {}
        }
    }
    let (mut lower, mut upper): (Option<i64>, Option<i64>) = (None, None);
    for e in log.client.iter().filter(|e| e.side == Side::Client) {
        match &e.kind {
            EventKind::Command { device, .. } => {
                if let Some(t) = sent.get_mut(device).and_then(VecDeque::pop_front) {
                    let bound = t as i64 - e.t_us as i64;
                    lower = Some(lower.map_or(bound, |l| l.max(bound)));
                }
            }
            EventKind::Completion { device, .. } => {
                if let Some(t) = received.get_mut(device).and_then(VecDeque::pop_front) {
                    let bound = t as i64 - e.t_us as i64;
                    upper = Some(upper.map_or(bound, |u| u.min(bound)));
                }
            }
            _ => {}
        }
    }
    match (lower, upper) {
        (Some(l), Some(u)) => l.min(u),
        (Some(l), None) => l,
        (None, Some(u)) => u,
        // No command: Create comes just before the server opens the set.
        (None, None) => {
            let opened = log
                .server
                .iter()
                .find(|e| matches!(e.event, TraceEvent::Opened { .. }))
                .map_or(0, |e| e.t_us as i64);
            opened - log.client.first().map_or(0, |e| e.t_us as i64)
        }
    }
}

/// A one-row item at `t` on `lane`.
fn item(lane: usize, t: u64, kind: Kind, label: String, short: &str, detail: String) -> Item {
    Item {
        lane,
        start_us: t,
        end_us: t,
        kind,
        short: short.to_string(),
        label,
        detail,
        fault: false,
        y: 0,
        h: ROW,
    }
}

/// Builds and lays out the timeline of `log`.
pub fn build(log: &RunLog) -> Timeline {
    let mut items: Vec<Item> = Vec::new();
    let mut cmds: Vec<Cmd> = Vec::new();
    let devices = server_items(log, &mut cmds, &mut items);
    client_items(log, clock_offset(log), &mut cmds, &mut items);
    mark_faults(log, &mut cmds, &mut items);
    let mut folded_records = 0;
    fold::command_items(&cmds, &mut items, &mut folded_records);
    let items = fold::fold_call_errors(items, &mut folded_records);
    let mut timeline = Timeline {
        devices,
        origin_us: log.server.first().map_or(0, |e| e.t_us),
        folded_records,
        ..Timeline::default()
    };
    fold::layout(&mut timeline, items);
    timeline
}

/// The server's events: commands (with their completions) into `cmds`, the rest as items.
/// Returns the number of devices.
fn server_items(log: &RunLog, cmds: &mut Vec<Cmd>, items: &mut Vec<Item>) -> usize {
    let mut devices = log
        .server
        .iter()
        .find_map(|e| match e.event {
            TraceEvent::Opened { devices, .. } => Some(devices as usize),
            _ => None,
        })
        .unwrap_or(0);
    let mut open: HashMap<usize, Vec<usize>> = HashMap::new();
    for e in &log.server {
        let rec = record(e);
        match &e.event {
            TraceEvent::Command {
                device,
                code,
                size,
                position,
                ..
            } => {
                let d = usize::from(*device);
                devices = devices.max(d + 1);
                open.entry(d).or_default().push(cmds.len());
                cmds.push(Cmd {
                    device: d,
                    code: *code,
                    size: *size,
                    position: *position,
                    sent: e.t_us,
                    sent_record: rec,
                    taken: None,
                    done: None,
                    fault: None,
                });
            }
            TraceEvent::Completion {
                device,
                code,
                completion,
                bytes,
            } => {
                let d = usize::from(*device);
                let waiting = open.entry(d).or_default();
                let k = waiting
                    .iter()
                    .position(|&i| cmds[i].code == *code)
                    .or((!waiting.is_empty()).then_some(0));
                if let Some(k) = k {
                    let i = waiting.remove(k);
                    cmds[i].done = Some((e.t_us, *completion, *bytes, rec));
                }
            }
            TraceEvent::Opened {
                devices: n,
                features,
                prefix_zone_size,
                alignment,
                ..
            } => items.push(item(
                0,
                e.t_us,
                Kind::Event,
                format!("Open: {n} device(s), features 0x{features:x}"),
                "Open",
                format!(
                    "The server opened the client's set: {n} device(s), features 0x{features:x}, prefixZoneSize {prefix_zone_size}, alignment {alignment}\n{rec}"
                ),
            )),
            TraceEvent::Configured {
                features,
                block_size,
                max_transfer_size,
                ..
            } => items.push(item(
                0,
                e.t_us,
                Kind::Event,
                format!(
                    "Configured: block {}, transfer {}",
                    bytes(u64::from(*block_size)),
                    bytes(u64::from(*max_transfer_size))
                ),
                "Config",
                format!(
                    "EndConfiguration: features 0x{features:x}{}\n{rec}",
                    if features & vdi_proto::vdf::COMPLETE_ENABLED != 0 {
                        " (VDF_CompleteEnabled)"
                    } else {
                        ""
                    }
                ),
            )),
            TraceEvent::DeviceOpened { device } => items.push(item(
                usize::from(*device) + 1,
                e.t_us,
                Kind::Event,
                "device opened".into(),
                "open",
                rec,
            )),
            TraceEvent::CloseDevice { device } => {
                let d = usize::from(*device);
                devices = devices.max(d + 1);
                let early = log.faults.close_devices_early;
                let mut it = item(
                    d + 1,
                    e.t_us,
                    Kind::Event,
                    "CloseDevice".into(),
                    "CloseDev",
                    format!(
                        "The server closed device {d}{}\n{rec}",
                        if early {
                            " (fault: right after its last command, before the completion)"
                        } else {
                            ""
                        }
                    ),
                );
                it.fault = early;
                items.push(it);
            }
            TraceEvent::ServerAbort => items.push(item(
                0,
                e.t_us,
                Kind::Abort,
                "SignalAbort (server)".into(),
                "Abort",
                format!("The server signalled abort\n{rec}"),
            )),
            TraceEvent::ServerClosed => items.push(item(
                0,
                e.t_us,
                Kind::Event,
                "Close (server)".into(),
                "Close",
                format!("The server closed the set\n{rec}"),
            )),
            TraceEvent::ClientAbort => items.push(item(
                0,
                e.t_us,
                Kind::Abort,
                "SignalAbort (client)".into(),
                "Abort",
                format!("The client signalled abort\n{rec}"),
            )),
            TraceEvent::ClientClosed => items.push(item(
                0,
                e.t_us,
                Kind::Event,
                "Close (client)".into(),
                "Close",
                format!("The client closed its set\n{rec}"),
            )),
            TraceEvent::PeerFault { detail } => items.push(item(
                0,
                e.t_us,
                Kind::Abort,
                "peer fault".into(),
                "fault",
                format!("The client broke the protocol or died: {detail}\n{rec}"),
            )),
            TraceEvent::BufferTouched { .. } => {}
        }
    }
    devices
}

/// The client's side: when it took each command, the set's state changes, failed calls and
/// misuse, on the server's clock (`offset` added).
fn client_items(log: &RunLog, offset: i64, cmds: &mut [Cmd], items: &mut Vec<Item>) {
    let at = |e: &Event| (e.t_us as i64 + offset).max(0) as u64;
    let mut by_device: HashMap<usize, VecDeque<usize>> = HashMap::new();
    for (i, c) in cmds.iter().enumerate() {
        by_device.entry(c.device).or_default().push_back(i);
    }
    for e in log.client.iter().filter(|e| e.side == Side::Client) {
        let t = at(e);
        let rec = e.to_json_line();
        match &e.kind {
            EventKind::Command { device, code, .. } => {
                let d = usize::from(*device);
                if let Some(&i) = by_device.get(&d).and_then(VecDeque::front)
                    && cmds[i].code == *code
                {
                    by_device.get_mut(&d).map(VecDeque::pop_front);
                    cmds[i].taken = Some((t, rec));
                }
            }
            // The set's state changes; of a device's, only its opening (its close shows as
            // GetCommand's VD_E_CLOSE).
            EventKind::State { device, from, to } if device.is_none() || to == "Open" => {
                let lane = device.map_or(0, |d| usize::from(d) + 1);
                let label = if device.is_some() {
                    "OpenDevice".to_string()
                } else {
                    format!("{from} → {to}")
                };
                items.push(item(
                    lane,
                    t,
                    Kind::Event,
                    label,
                    if device.is_some() { "open" } else { "state" },
                    format!(
                        "{} state: {from} → {to}\n{rec}",
                        device.map_or("The set's".to_string(), |d| format!("Device {d}'s"))
                    ),
                ));
            }
            EventKind::State { .. } => {}
            EventKind::Call {
                method,
                device,
                result,
                rule,
                ..
            } => {
                let lane = device.map_or(0, |d| usize::from(d) + 1);
                let misuse = rule.info().kind == RuleKind::Misuse;
                if misuse {
                    items.push(item(
                        lane,
                        t,
                        Kind::Misuse,
                        format!("{rule}: {method:?} → {}", result.name()),
                        "misuse",
                        format!(
                            "{method:?} → {} [{rule}]: {}\n{rec}",
                            result.name(),
                            rule.info().summary
                        ),
                    ));
                } else if result.0.is_some() {
                    items.push(item(
                        lane,
                        t,
                        Kind::CallError,
                        format!("{method:?} → {}", result.name()),
                        result.name().trim_start_matches("VD_E_"),
                        format!(
                            "{method:?} → {} [{rule}]: {}\n{rec}",
                            result.name(),
                            rule.info().summary
                        ),
                    ));
                }
            }
            EventKind::Rule { rule, device } => {
                if rule.info().kind == RuleKind::Misuse {
                    let lane = device.map_or(0, |d| usize::from(d) + 1);
                    items.push(item(
                        lane,
                        t,
                        Kind::Misuse,
                        format!("{rule}"),
                        "misuse",
                        format!("{rule}: {}\n{rec}", rule.info().summary),
                    ));
                }
            }
            EventKind::Completion { .. } => {}
        }
    }
}

/// Marks where the harness's faults struck: on the command they hit, or as a marker on the
/// set's lane.
fn mark_faults(log: &RunLog, cmds: &mut [Cmd], items: &mut Vec<Item>) {
    let f = &log.faults;
    let marker = |t: u64, label: String, detail: String| Item {
        lane: 0,
        start_us: t,
        end_us: t,
        kind: Kind::Fault,
        short: "fault".into(),
        label,
        detail,
        fault: true,
        y: 0,
        h: ROW,
    };
    let time_of = |pred: &dyn Fn(&TraceEvent) -> bool| {
        log.server.iter().find(|e| pred(&e.event)).map(|e| e.t_us)
    };
    if !f.delay_before_configuration.is_zero()
        && let Some(t) = time_of(&|e| matches!(e, TraceEvent::Opened { .. }))
    {
        let d = f.delay_before_configuration.as_secs_f64();
        items.push(marker(
            t,
            format!("fault: configuration {d:.1} s late"),
            format!("The harness delays the configuration by {d:.1} s: GetConfiguration times out meanwhile"),
        ));
    }
    if f.refuse_complete
        && let Some(t) = time_of(&|e| matches!(e, TraceEvent::Configured { .. }))
    {
        items.push(marker(
            t,
            "fault: VDC_Complete withheld".into(),
            "The harness grants no VDC_Complete although the client asked (an older server)".into(),
        ));
    }
    if let Some((after, d)) = f.pause
        && let Some(c) = cmds.get((after as usize).saturating_sub(1))
    {
        let d = d.as_secs_f64();
        items.push(marker(
            c.sent,
            format!("fault: no command for {d:.1} s"),
            format!("The harness sends nothing for {d:.1} s after command {after}: GetCommand times out meanwhile"),
        ));
    }
    if let Some(point) = f.abort_at {
        let what = match f.crash {
            Crash::No => "server abort",
            Crash::Emulated => "server crash (emulated)",
            Crash::KillProcess => "server killed (SIGKILL)",
            Crash::Cancel => "statement cancelled (ATTENTION)",
        };
        let t = if f.crash == Crash::KillProcess {
            log.server.last().map(|e| e.t_us)
        } else {
            time_of(&|e| *e == TraceEvent::ServerAbort)
        };
        if let Some(t) = t {
            let point = crate::explain::point_text(point);
            items.push(marker(
                t,
                format!("fault: {what}"),
                format!("The harness's {what}, {point}"),
            ));
        }
    }
    if let Some((_, code)) = f.inject
        && let Some(c) = cmds.iter_mut().find(|c| c.code == code)
    {
        c.fault = Some(format!("fault: the harness sent {code} unasked"));
    }
    if let Some(n) = f.corrupt_read
        && let Some(c) = cmds
            .iter_mut()
            .filter(|c| c.code == VdcCode::Read && matches!(c.done, Some((_, 0, _, _))))
            .nth((n as usize).saturating_sub(1))
    {
        c.fault = Some(format!(
            "fault: a byte of Read {n}'s data flipped (damaged media)"
        ));
    }
}
