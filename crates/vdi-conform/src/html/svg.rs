//! A laid-out timeline as inline SVG. Every item is a `<g class="ev">` with its kind, lane and
//! time as data attributes and its transcript records in a `<title>` (the tooltip; a click
//! pins it under the drawing). Kinds differ in shape and text as well as colour.

use super::escape;
use super::timeline::{Item, Kind, Timeline, ms};
use std::fmt::Write as _;
use vdi_proto::VdcCode;

const GUTTER: u32 = 76;
const HEADER: u32 = 30;
const SET_W: u32 = 230;
/// About how wide one character of the 11 px labels is.
const CHAR_W: f32 = 6.3;

/// A device lane's width for `devices` lanes: narrower as there are more, so that 64 devices
/// stay on a page that scrolls sideways.
pub fn lane_width(devices: usize) -> u32 {
    match devices {
        0..=4 => 230,
        5..=8 => 160,
        9..=16 => 100,
        _ => 54,
    }
}

fn lane_x(lane: usize, w: u32) -> u32 {
    if lane == 0 {
        GUTTER
    } else {
        GUTTER + SET_W + (lane as u32 - 1) * w
    }
}

/// `text` cut to about `px` pixels of label.
fn fit(text: &str, px: f32) -> String {
    let max = ((px / CHAR_W) as usize).max(1);
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

fn kind_name(kind: &Kind) -> String {
    match kind {
        Kind::Command { code, .. } => code.name().trim_start_matches("VDC_").to_lowercase(),
        Kind::Folded { code, .. } => {
            format!(
                "{}-run",
                code.name().trim_start_matches("VDC_").to_lowercase()
            )
        }
        Kind::Event => "event".into(),
        Kind::CallError => "call-error".into(),
        Kind::Abort => "abort".into(),
        Kind::Fault => "fault".into(),
        Kind::Misuse => "misuse".into(),
    }
}

/// Draws `t`; `run` names it for screen readers and ids.
pub fn render(t: &Timeline, run: usize, title: &str) -> String {
    let lw = lane_width(t.devices);
    let width = lane_x(t.devices + 1, lw) + 8;
    let height = HEADER + t.height + 12;
    let mut s = String::with_capacity(512 + t.items.len() * 600);
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="timeline" id="timeline-{run}" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{}">"#,
        escape(title)
    );
    // Lanes, with their names.
    s.push_str(r#"<g class="lanes">"#);
    for lane in 0..=t.devices {
        let (x, w) = (lane_x(lane, lw), if lane == 0 { SET_W } else { lw });
        let (class, name, full) = if lane == 0 {
            ("lane lane-set", "set".to_string(), "set".to_string())
        } else if lw < 100 {
            (
                "lane lane-device",
                format!("d{}", lane - 1),
                format!("device {}", lane - 1),
            )
        } else {
            (
                "lane lane-device",
                format!("device {}", lane - 1),
                format!("device {}", lane - 1),
            )
        };
        let _ = write!(
            s,
            r#"<g class="{class}" data-lane="{full}"><rect class="lane-bg{}" x="{x}" y="0" width="{w}" height="{height}"/><text class="lane-name" x="{}" y="19">{name}</text></g>"#,
            if lane % 2 == 0 { " even" } else { "" },
            x + w / 2
        );
    }
    s.push_str("</g>");
    // Breaks across the lanes.
    s.push_str(r#"<g class="breaks">"#);
    for b in &t.breaks {
        let y = HEADER + b.y + 16;
        let _ = write!(
            s,
            r#"<g class="break" data-gap-us="{}"><line x1="{GUTTER}" y1="{}" x2="{}" y2="{}"/><text x="{}" y="{y}">⋯ {} later ⋯</text></g>"#,
            b.gap_us,
            y - 4,
            width - 8,
            y - 4,
            GUTTER + 6,
            seconds(b.gap_us)
        );
    }
    s.push_str("</g>");
    // Times down the left, where they do not crowd each other.
    s.push_str(r#"<g class="times">"#);
    let mut by_y: Vec<&Item> = t.items.iter().collect();
    by_y.sort_by_key(|i| i.y);
    let mut last: Option<u32> = None;
    for it in by_y {
        if last.is_some_and(|l| it.y < l + 16) {
            continue;
        }
        last = Some(it.y);
        let _ = write!(
            s,
            r#"<text class="t" x="{}" y="{}">+{}</text>"#,
            GUTTER - 6,
            HEADER + it.y + 15,
            ms(it.start_us.saturating_sub(t.origin_us))
        );
    }
    s.push_str("</g>");
    // Lines across every lane where the run was cut: aborts and faults.
    s.push_str(r#"<g class="rules">"#);
    for it in t
        .items
        .iter()
        .filter(|i| matches!(i.kind, Kind::Abort | Kind::Fault))
    {
        let y = HEADER + it.y + it.h / 2;
        let _ = write!(
            s,
            r#"<line class="rule-{}" x1="{}" y1="{y}" x2="{}" y2="{y}"/>"#,
            kind_name(&it.kind),
            GUTTER + SET_W,
            width - 8
        );
    }
    s.push_str("</g>");
    s.push_str(r#"<g class="events">"#);
    for (n, it) in t.items.iter().enumerate() {
        item(&mut s, it, t, lw, run, n);
    }
    s.push_str("</g></svg>");
    s
}

fn seconds(us: u64) -> String {
    format!("{:.2} s", us as f64 / 1e6)
}

fn item(s: &mut String, it: &Item, t: &Timeline, lw: u32, run: usize, n: usize) {
    let w = if it.lane == 0 { SET_W } else { lw };
    let x0 = lane_x(it.lane, lw) + 3;
    let bw = w - 6;
    let y = HEADER + it.y + 2;
    let h = it.h - 4;
    let mid = y + h / 2;
    let mut class = format!("ev k-{}", kind_name(&it.kind));
    if let Kind::Command { ok, done, .. } = it.kind {
        class.push_str(match (done, ok) {
            (false, _) => " pending",
            (true, true) => " ok",
            (true, false) => " error",
        });
    }
    if it.fault {
        class.push_str(" struck");
    }
    let _ = write!(
        s,
        r#"<g class="{class}" id="ev-{run}-{n}" data-kind="{}" data-lane="{}" data-t-us="{}" data-y="{}" tabindex="0"><title>{}</title>"#,
        kind_name(&it.kind),
        it.lane,
        it.start_us.saturating_sub(t.origin_us),
        it.y,
        escape(&it.detail)
    );
    let narrow = bw < 100;
    let label = if narrow { &it.short } else { &it.label };
    let mut text_x = x0 + 14;
    match &it.kind {
        Kind::Command {
            code,
            ok,
            done,
            taken,
        } => {
            let right = x0 + bw;
            match code {
                // Flush: a tag (pointed right end); Complete: a double border.
                VdcCode::Flush => {
                    let _ = write!(
                        s,
                        r#"<path class="box" d="M{x0} {y}H{}L{right} {mid}L{} {}H{x0}Z"/>"#,
                        right - 8,
                        right - 8,
                        y + h
                    );
                }
                VdcCode::Complete => {
                    let _ = write!(
                        s,
                        r#"<rect class="box" x="{x0}" y="{y}" width="{bw}" height="{h}" rx="3"/><rect class="inner" x="{}" y="{}" width="{}" height="{}" rx="2"/>"#,
                        x0 + 2,
                        y + 2,
                        bw - 4,
                        h - 4
                    );
                }
                _ => {
                    let _ = write!(
                        s,
                        r#"<rect class="box" x="{x0}" y="{y}" width="{bw}" height="{h}" rx="3"/>"#
                    );
                }
            }
            // Sent: a triangle; taken: a dot; done: a square, or a cross for an error.
            let _ = write!(
                s,
                r#"<path class="sent" d="M{} {}L{} {mid}L{} {}Z"/>"#,
                x0 + 2,
                y + 4,
                x0 + 8,
                x0 + 2,
                y + h - 4
            );
            // Taken: a dot on a track along the bottom, from sent (left) to done (right).
            if let Some(f) = taken
                && !narrow
            {
                let (from, to) = (x0 + 10, x0 + bw - 16);
                let ty = y + h - 3;
                let _ = write!(
                    s,
                    r#"<line class="track" x1="{from}" y1="{ty}" x2="{to}" y2="{ty}"/><circle class="taken" cx="{:.1}" cy="{ty}" r="2.2"/>"#,
                    from as f32 + f * (to - from) as f32
                );
            }
            let cx = x0 + bw - 12;
            if !*done {
                let _ = write!(
                    s,
                    r#"<circle class="done none" cx="{}" cy="{mid}" r="3"/>"#,
                    cx + 3
                );
            } else if *ok {
                let _ = write!(
                    s,
                    r#"<rect class="done" x="{cx}" y="{}" width="6" height="6"/>"#,
                    mid - 3
                );
            } else {
                let _ = write!(
                    s,
                    r#"<path class="done cross" d="M{cx} {}l7 7m0 -7l-7 7"/>"#,
                    mid - 3
                );
            }
            text_x = x0 + 11;
        }
        Kind::Folded { .. } => {
            for k in [4u32, 2] {
                let _ = write!(
                    s,
                    r#"<rect class="stack" x="{}" y="{}" width="{}" height="{h}" rx="3"/>"#,
                    x0 + k,
                    y - k / 2,
                    bw - k
                );
            }
            let _ = write!(
                s,
                r#"<rect class="box" x="{x0}" y="{}" width="{}" height="{}" rx="3"/>"#,
                y + 2,
                bw - 4,
                h - 2
            );
            text_x = x0 + 5;
        }
        Kind::Event => {
            let _ = write!(
                s,
                r#"<circle class="mark" cx="{}" cy="{mid}" r="4"/>"#,
                x0 + 6
            );
        }
        Kind::CallError => {
            let _ = write!(
                s,
                r#"<rect class="mark" x="{}" y="{}" width="7" height="7"/>"#,
                x0 + 2,
                mid - 4
            );
        }
        Kind::Abort => {
            // An octagon.
            let (cx, cy, r) = (x0 as f32 + 6.0, mid as f32, 6.0f32);
            let pts: Vec<String> = (0..8)
                .map(|k| {
                    let a = std::f32::consts::PI / 8.0 + k as f32 * std::f32::consts::PI / 4.0;
                    format!("{:.1},{:.1}", cx + r * a.cos(), cy + r * a.sin())
                })
                .collect();
            let _ = write!(s, r#"<polygon class="mark" points="{}"/>"#, pts.join(" "));
        }
        Kind::Fault => {
            // A lightning bolt.
            let _ = write!(
                s,
                r#"<path class="mark" d="M{} {}l-5 8h4l-2 6l6 -9h-4l2 -5z"/>"#,
                x0 + 8,
                mid - 7
            );
        }
        Kind::Misuse => {
            let _ = write!(
                s,
                r#"<path class="mark" d="M{} {}l6 11h-12z"/><text class="bang" x="{}" y="{}">!</text>"#,
                x0 + 6,
                mid - 6,
                x0 + 6,
                mid + 4
            );
        }
    }
    // Commands keep their right end for the completion mark.
    let right_pad = if matches!(it.kind, Kind::Command { .. }) {
        16
    } else {
        2
    };
    let room = (x0 + bw).saturating_sub(text_x + right_pad) as f32;
    let text_y = if matches!(it.kind, Kind::Command { .. }) && !narrow {
        y + 12
    } else {
        mid + 4
    };
    let _ = write!(
        s,
        r#"<text class="label" x="{text_x}" y="{text_y}">{}</text>"#,
        escape(&fit(label, room.max(CHAR_W)))
    );
    s.push_str("</g>");
}
