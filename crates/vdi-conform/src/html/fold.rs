//! Commands into items (runs of identical transfers folded into one block, runs of the same
//! failed call into one), and where every item goes: time flows down.

use super::timeline::{
    BREAK_ROW, BREAK_US, Break, Cmd, FOLD_MIN, FOLDED_ROW, Item, Kind, ROW, SAME_ROW_US, Timeline,
    bytes, code_short, completion_name, ms,
};
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use vdi_proto::{VdcCode, win32};

/// The command items, runs of identical transfers on a device folded into one.
pub(super) fn command_items(cmds: &[Cmd], items: &mut Vec<Item>, folded_records: &mut usize) {
    let mut by_device: BTreeMap<usize, Vec<&Cmd>> = BTreeMap::new();
    for c in cmds {
        by_device.entry(c.device).or_default().push(c);
    }
    // Transfers of one kind that all succeeded: the same size for Writes (a backup's stream);
    // any sizes for Reads (RESTORE reads in sizes of its own, seeded random by default).
    let foldable = |a: &Cmd, b: &Cmd| {
        matches!(a.code, VdcCode::Write | VdcCode::Read)
            && a.code == b.code
            && (a.size == b.size || a.code == VdcCode::Read)
            && a.fault.is_none()
            && b.fault.is_none()
            && matches!(a.done, Some((_, 0, _, _)))
            && matches!(b.done, Some((_, 0, _, _)))
    };
    for list in by_device.values() {
        let mut i = 0;
        while i < list.len() {
            let mut j = i + 1;
            while j < list.len() && foldable(list[i], list[j]) {
                j += 1;
            }
            if j - i >= FOLD_MIN {
                items.push(folded(&list[i..j]));
                *folded_records += (j - i - 2) * 4;
            } else {
                for c in &list[i..j] {
                    items.push(single(c));
                }
            }
            i = j;
        }
    }
}

fn single(c: &Cmd) -> Item {
    let end = c.done.as_ref().map_or(c.sent, |d| d.0).max(c.sent);
    let taken = c.taken.as_ref().map(|(t, _)| {
        if end > c.sent {
            ((t.saturating_sub(c.sent)) as f32 / (end - c.sent) as f32).clamp(0.0, 1.0)
        } else {
            0.0
        }
    });
    let (ok, done) = match &c.done {
        Some((_, code, _, _)) => (*code == 0 || win32::is_end_of_data(*code), true),
        None => (false, false),
    };
    let name = c.code.name().trim_start_matches("VDC_");
    let mut label = name.to_string();
    if matches!(c.code, VdcCode::Write | VdcCode::Read) {
        label.push_str(&format!(" {} @{}", bytes(u64::from(c.size)), c.position));
    }
    let mut detail = format!(
        "{} on device {}: size {}, position {}\nsent at {}",
        c.code,
        c.device,
        c.size,
        c.position,
        ms(c.sent)
    );
    match &c.taken {
        Some((t, _)) => detail.push_str(&format!(
            "; taken with GetCommand {} later",
            ms(t.saturating_sub(c.sent))
        )),
        None => detail.push_str("; never taken with GetCommand"),
    }
    match &c.done {
        Some((t, code, n, _)) => {
            let latency = ms(t.saturating_sub(c.sent));
            label.push_str(&format!(" → {}", short_completion(*code)));
            detail.push_str(&format!(
                "; completed {} with {n} byte(s) after {latency}",
                completion_name(*code)
            ));
        }
        None => {
            label.push_str(" → (no completion)");
            detail.push_str("; no completion came back");
        }
    }
    if let Some(f) = &c.fault {
        detail = format!("{f}\n{detail}");
    }
    detail.push('\n');
    detail.push_str(&c.sent_record);
    if let Some((_, r)) = &c.taken {
        detail.push('\n');
        detail.push_str(r);
    }
    if let Some((_, _, _, r)) = &c.done {
        detail.push('\n');
        detail.push_str(r);
    }
    Item {
        lane: c.device + 1,
        start_us: c.sent,
        end_us: end,
        kind: Kind::Command {
            code: c.code,
            ok,
            done,
            taken,
        },
        short: code_short(c.code).to_string(),
        label,
        detail,
        fault: c.fault.is_some(),
        y: 0,
        h: ROW,
    }
}

fn short_completion(code: u32) -> String {
    match code {
        0 => "OK".into(),
        other => completion_name(other)
            .trim_start_matches("ERROR_")
            .to_string(),
    }
}

fn folded(run: &[&Cmd]) -> Item {
    let (first, last) = (run[0], run[run.len() - 1]);
    let mut latencies: Vec<u64> = run
        .iter()
        .filter_map(|c| c.done.as_ref().map(|d| d.0.saturating_sub(c.sent)))
        .collect();
    latencies.sort_unstable();
    let median = latencies.get(latencies.len() / 2).copied().unwrap_or(0);
    let max = latencies.last().copied().unwrap_or(0);
    let total: u64 = run
        .iter()
        .filter_map(|c| c.done.as_ref().map(|d| u64::from(d.2)))
        .sum();
    let name = first.code.name().trim_start_matches("VDC_");
    let end = last.done.as_ref().map_or(last.sent, |d| d.0);
    let smallest = run.iter().map(|c| c.size).min().unwrap_or(0);
    let largest = run.iter().map(|c| c.size).max().unwrap_or(0);
    let sizes = if smallest == largest {
        format!("{} each", bytes(u64::from(smallest)))
    } else {
        format!(
            "{}–{}",
            bytes(u64::from(smallest)),
            bytes(u64::from(largest))
        )
    };
    let mut detail = format!(
        "{} × {} of {sizes} on device {} ({} in all), all ERROR_SUCCESS\nfrom {} to {}; latency median {}, max {}\nfirst and last of the run:",
        run.len(),
        first.code,
        first.device,
        bytes(total),
        ms(first.sent),
        ms(end),
        ms(median),
        ms(max)
    );
    for c in [first, last] {
        detail.push('\n');
        detail.push_str(&c.sent_record);
        if let Some((_, _, _, r)) = &c.done {
            detail.push('\n');
            detail.push_str(r);
        }
    }
    Item {
        lane: first.device + 1,
        start_us: first.sent,
        end_us: end.max(first.sent),
        kind: Kind::Folded {
            code: first.code,
            count: run.len(),
        },
        short: format!("{}×{}", code_short(first.code), run.len()),
        label: format!("{name} × {} ({sizes}), median {}", run.len(), ms(median)),
        detail,
        fault: false,
        y: 0,
        h: FOLDED_ROW,
    }
}

/// Folds runs of the same failed call on a lane (a client polling through timeouts).
pub(super) fn fold_call_errors(mut items: Vec<Item>, folded_records: &mut usize) -> Vec<Item> {
    items.sort_by_key(|i| (i.start_us, i.lane));
    let mut out: Vec<Item> = Vec::with_capacity(items.len());
    let mut last_on_lane: HashMap<usize, usize> = HashMap::new();
    for it in items {
        if it.kind == Kind::CallError
            && let Some(&k) = last_on_lane.get(&it.lane)
            && out[k].kind == Kind::CallError
            && out[k].label.split(" ×").next() == Some(it.label.as_str())
        {
            let prev = &mut out[k];
            let n = prev
                .label
                .rsplit_once(" × ")
                .and_then(|(_, n)| n.parse::<usize>().ok())
                .unwrap_or(1)
                + 1;
            let base = prev
                .label
                .split(" ×")
                .next()
                .unwrap_or_default()
                .to_string();
            prev.label = format!("{base} × {n}");
            prev.end_us = it.end_us;
            *folded_records += 1;
            continue;
        }
        last_on_lane.insert(it.lane, out.len());
        out.push(it);
    }
    out
}

/// Places the items: each below whatever came before it on its lane and below every item
/// that had ended before it began (device items: [`SAME_ROW_US`] before); the set's events
/// below everything that began before them; a pause longer than [`BREAK_US`] becomes a break.
pub(super) fn layout(t: &mut Timeline, mut items: Vec<Item>) {
    items.sort_by_key(|i| (i.start_us, i.lane));
    let lanes = t.devices + 1;
    let mut cursor = vec![0u32; lanes.max(1)];
    // Ended items by end time (a min-heap through Reverse): (end_us, bottom).
    let mut ended: BinaryHeap<std::cmp::Reverse<(u64, u32)>> = BinaryHeap::new();
    let (mut floor, mut bottom) = (0u32, 0u32);
    let mut latest: Option<u64> = None;
    for it in &mut items {
        while let Some(std::cmp::Reverse((end, b))) = ended.peek().copied() {
            if end > it.start_us {
                break;
            }
            ended.pop();
            floor = floor.max(b);
        }
        if let Some(l) = latest
            && it.start_us > l + BREAK_US
        {
            t.breaks.push(Break {
                y: bottom,
                gap_us: it.start_us - l,
            });
            bottom += BREAK_ROW;
            floor = bottom;
        }
        let lane = it.lane.min(lanes - 1);
        // The set's events divide the run: below everything that started before them.
        let y = if lane == 0 {
            bottom
        } else {
            cursor[lane].max(floor)
        };
        it.y = y;
        cursor[lane] = y + it.h;
        bottom = bottom.max(y + it.h);
        let slack = if it.lane == 0 { 0 } else { SAME_ROW_US };
        ended.push(std::cmp::Reverse((it.end_us + slack, y + it.h)));
        latest = Some(latest.map_or(it.end_us, |l| l.max(it.end_us)));
    }
    t.height = bottom;
    t.items = items;
}
