//! Transcripts: every call, command, completion, state change and rule hit as an event with a
//! logical sequence number and the caller's time, serialisable to JSON lines.
//!
//! The JSON format is stable (`TRANSCRIPT_VERSION`); later tools replay it.

use crate::consts::{VdCode, VdcCode};
use crate::ids::CmdId;
use crate::rules::Rule;
use crate::time::Tick;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Version of the JSON-lines format.
pub const TRANSCRIPT_VERSION: u32 = 1;

/// Which state machine produced an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The client set (the backup application's side).
    Client,
    /// The server set (SQL Server's side).
    Server,
}

/// The API method a call event records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum Method {
    Create,
    CreateEx,
    GetConfiguration,
    OpenDevice,
    GetCommand,
    CompleteCommand,
    SignalAbort,
    Close,
    OpenInSecondary,
    GetBufferHandle,
    MapBufferHandle,
    Open,
    ServerGetConfiguration,
    BeginConfiguration,
    RequestBuffers,
    EndConfiguration,
    ServerOpenDevice,
    SendCommand,
    CloseDevice,
    ServerSignalAbort,
    ServerClose,
}

/// NOERROR or a VD_E_* code, written as its header name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CallResult(pub Option<VdCode>);

impl CallResult {
    /// The header name (`NOERROR`, `VD_E_OPEN`, …).
    pub fn name(self) -> &'static str {
        self.0.map_or("NOERROR", VdCode::name)
    }
}

impl Serialize for CallResult {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for CallResult {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        if name == "NOERROR" {
            return Ok(CallResult(None));
        }
        VdCode::ALL
            .into_iter()
            .find(|c| c.name() == name)
            .map(|c| CallResult(Some(c)))
            .ok_or_else(|| serde::de::Error::custom(format!("unknown result {name}")))
    }
}

impl<'de> Deserialize<'de> for Rule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let id = String::deserialize(d)?;
        Rule::from_id(&id).ok_or_else(|| serde::de::Error::custom(format!("unknown rule {id}")))
    }
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// An API call and what it returned.
    Call {
        /// The method.
        method: Method,
        /// The device, for device calls.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        device: Option<u16>,
        /// The command, for command calls.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        command: Option<CmdId>,
        /// NOERROR or the code returned.
        result: CallResult,
        /// The rule that decided the result.
        rule: Rule,
    },
    /// The set (or a device, when `device` is set) changed state.
    State {
        /// The device, for a device state change.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        device: Option<u16>,
        /// The old state.
        from: String,
        /// The new state.
        to: String,
    },
    /// A command: sent (server side) or handed to the application (client side).
    Command {
        /// The device.
        device: u16,
        /// The command id.
        id: CmdId,
        /// The command code.
        code: VdcCode,
        /// The size field.
        size: u32,
        /// The position field.
        position: u64,
    },
    /// A completion: recorded by the client or seen by the server.
    Completion {
        /// The device.
        device: u16,
        /// The command id.
        id: CmdId,
        /// The command code.
        code: VdcCode,
        /// The Win32 completion code.
        completion: u32,
        /// Bytes transferred.
        bytes: u32,
    },
    /// A rule was hit outside a call's result (a swallowed command, a peer fault, a misuse notice).
    Rule {
        /// The rule.
        rule: Rule,
        /// The device, when the rule concerns one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        device: Option<u16>,
    },
}

/// One transcript line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Logical sequence number, strictly increasing within one recorder.
    pub seq: u64,
    /// The caller's time when the event happened, in microseconds.
    pub t_us: u64,
    /// Client or server.
    pub side: Side,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

impl Event {
    /// The event as one JSON line (without the newline).
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).expect("transcript events always serialise")
    }

    /// A compact human form, used by snapshots and the demo.
    pub fn summary(&self) -> String {
        let side = match self.side {
            Side::Client => "C",
            Side::Server => "S",
        };
        let body = match &self.kind {
            EventKind::Call {
                method,
                device,
                command,
                result,
                rule,
            } => {
                let dev = device.map(|d| format!(" dev{d}")).unwrap_or_default();
                let cmd = command.map(|c| format!(" cmd{c}")).unwrap_or_default();
                format!("{method:?}{dev}{cmd} -> {} [{rule}]", result.name())
            }
            EventKind::State { device, from, to } => match device {
                Some(d) => format!("dev{d} {from} -> {to}"),
                None => format!("set {from} -> {to}"),
            },
            EventKind::Command {
                device,
                id,
                code,
                size,
                position,
            } => {
                format!("cmd dev{device} {id} {code} size={size} pos={position}")
            }
            EventKind::Completion {
                device,
                id,
                code,
                completion,
                bytes,
            } => {
                let name = crate::consts::win32::name(*completion).unwrap_or("?");
                format!("done dev{device} {id} {code} {name} bytes={bytes}")
            }
            EventKind::Rule { rule, device } => {
                let dev = device.map(|d| format!(" dev{d}")).unwrap_or_default();
                format!("rule {rule}{dev}: {}", rule.info().summary)
            }
        };
        format!("{side} {body}")
    }
}

/// Parses a JSON-lines transcript.
pub fn parse_json_lines(text: &str) -> Result<Vec<Event>, serde_json::Error> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect()
}

/// Collects events for one side; disabled recorders keep nothing (the hot path stays cheap).
#[derive(Debug)]
pub struct Recorder {
    side: Side,
    enabled: bool,
    next_seq: u64,
    events: std::collections::VecDeque<Event>,
    rule_hits: Vec<Rule>,
}

impl Recorder {
    /// A recorder for `side`.
    pub fn new(side: Side, enabled: bool) -> Recorder {
        Recorder {
            side,
            enabled,
            next_seq: 0,
            events: Default::default(),
            rule_hits: Vec::new(),
        }
    }

    /// Turns event recording on or off (rule hits of misuse kind are always kept).
    pub fn set_enabled(&mut self, enabled: bool) {
        self.enabled = enabled;
    }

    /// Records an event at `now`.
    ///
    /// Inlined so that, with recording off (no transcript), a call that hits an outcome rule
    /// costs one branch: the event is never built.
    #[inline]
    pub fn record(&mut self, now: Tick, kind: EventKind) {
        let misuse = match &kind {
            EventKind::Call { rule, .. } | EventKind::Rule { rule, .. } => {
                rule.info().kind != crate::rules::RuleKind::Outcome
            }
            _ => false,
        };
        if self.enabled || misuse {
            self.keep(now, kind, misuse);
        }
    }

    fn keep(&mut self, now: Tick, kind: EventKind, misuse: bool) {
        if misuse && let EventKind::Call { rule, .. } | EventKind::Rule { rule, .. } = &kind {
            self.rule_hits.push(*rule);
        }
        if self.enabled {
            let seq = self.next_seq;
            self.next_seq += 1;
            self.events.push_back(Event {
                seq,
                t_us: now.0,
                side: self.side,
                kind,
            });
        }
    }

    /// Records an API call with NOERROR and `ok_rule`, or the error's code and rule.
    #[inline]
    pub fn call<T>(
        &mut self,
        now: Tick,
        method: Method,
        device: Option<u16>,
        command: Option<CmdId>,
        result: &Result<T, crate::error::VdError>,
        ok_rule: Rule,
    ) {
        let (code, rule) = match result {
            Ok(_) => (None, ok_rule),
            Err(e) => (Some(e.code), e.rule),
        };
        let result = CallResult(code);
        self.record(
            now,
            EventKind::Call {
                method,
                device,
                command,
                result,
                rule,
            },
        );
    }

    /// Records a state change of the set (`device` None) or of a device.
    pub fn state(
        &mut self,
        now: Tick,
        device: Option<u16>,
        from: impl std::fmt::Debug,
        to: impl std::fmt::Debug,
    ) {
        if !self.enabled {
            return; // State events carry no rule: nothing to keep, so nothing to format.
        }
        self.record(
            now,
            EventKind::State {
                device,
                from: format!("{from:?}"),
                to: format!("{to:?}"),
            },
        );
    }

    /// The next recorded event, oldest first.
    pub fn pop(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Every misuse or peer-fault rule hit so far, in order.
    pub fn rule_hits(&self) -> &[Rule] {
        &self.rule_hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_through_json_lines() {
        let events = vec![
            Event {
                seq: 0,
                t_us: 5,
                side: Side::Client,
                kind: EventKind::Call {
                    method: Method::Close,
                    device: None,
                    command: None,
                    result: CallResult(Some(VdCode::Open)),
                    rule: Rule::CloseDevicesOpen,
                },
            },
            Event {
                seq: 1,
                t_us: 9,
                side: Side::Server,
                kind: EventKind::Command {
                    device: 2,
                    id: CmdId {
                        slot: 1,
                        generation: 3,
                    },
                    code: VdcCode::Write,
                    size: 65536,
                    position: 0,
                },
            },
        ];
        let text: String = events.iter().map(|e| e.to_json_line() + "\n").collect();
        assert!(text.contains(r#""result":"VD_E_OPEN""#), "{text}");
        assert!(text.contains(r#""rule":"VDI-CLOSE-003""#), "{text}");
        assert_eq!(parse_json_lines(&text).unwrap(), events);
    }

    #[test]
    fn disabled_recorder_keeps_misuse_hits_only() {
        let mut r = Recorder::new(Side::Client, false);
        r.record(
            Tick(1),
            EventKind::Call {
                method: Method::Close,
                device: None,
                command: None,
                result: CallResult(Some(VdCode::Protocol)),
                rule: Rule::CloseNotOpen,
            },
        );
        r.record(
            Tick(2),
            EventKind::Rule {
                rule: Rule::CloseOk,
                device: None,
            },
        );
        assert!(r.pop().is_none());
        assert_eq!(r.rule_hits(), &[Rule::CloseNotOpen]);
    }
}
