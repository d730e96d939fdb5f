//! A hostile server against the real client library over real shared memory, and hostile
//! index and slot words against the rings.
//!
//! `Input::Region`: the client library (`ClientVirtualDeviceSet` over `ShmConnector`) creates a
//! control region in /dev/shm; a hostile peer opens it (`ControlRegion::open`), does some of
//! what a server does (connect, configure, push commands and close markers, abort) and writes
//! arbitrary values into the header, the device blocks, the ring indices and slots and the
//! buffer region, through the object's file (`pwrite`, no unsafe code here) while the client
//! takes commands with a timeout of 0. Checks: no panic, no call slower than a generous bound,
//! every error is the code its rule documents, a delivered command is in bounds, nothing is
//! delivered after abort, a corrupt region surfaces as VD_E_ABORT.
//!
//! `Input::Rings`: pushes, pops and scribbles on in-memory rings (`LocalRing`): pops return
//! validated items or a `PeerFault`; with no scribble the rings are exact FIFOs.
//!
//! Region names carry the process id and a counter; every iteration removes its objects, and
//! a panic hook removes the current ones before libFuzzer aborts.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use std::collections::VecDeque;
use std::mem::offset_of;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};
use vdi_client::shm::{ShmConnector, set_key};
use vdi_client::{
    ClientOptions, ClientVirtualDevice, ClientVirtualDeviceSet, Command, TimeoutUnit, VdCode,
    VdConfig, VdError,
};
use vdi_proto::{ClientPhase, CmdId, DeviceIndex, Rule, VdcCode};
use vdi_shm::layout::{ControlHeader, DeviceBlock};
use vdi_shm::naming::{RegionKind, region_name};
use vdi_shm::region::{Access, BufferRegion, ControlRegion};
use vdi_shm::ring::{
    COMMAND_WORDS, COMPLETION_WORDS, CommandDesc, CommandLimits, CompletionDesc, Delivered,
    LocalRing, Popped, PushError,
};
use vdi_shm::{WaitConfig, words};

/// A call with timeout 0 that takes longer than this is a hang.
const CALL_BOUND: Duration = Duration::from_secs(2);
const MAX_STEPS: usize = 64;

// ---------------------------------------------------------------------------------------------
// Inputs

#[derive(Arbitrary, Debug)]
enum Input {
    Region(RegionInput),
    Rings(RingsInput),
}

#[derive(Arbitrary, Debug)]
struct RegionInput {
    devices: u8,
    ring_capacity: u8,
    steps: Vec<Step>,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Value {
    Zero,
    One,
    Max,
    Byte(u8),
    Any(u64),
    /// The current value plus a small delta (for indices: just past the capacity, one back …).
    Delta(i16),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum HeaderField {
    Magic,
    LayoutVersion,
    HeaderSize,
    TotalSize,
    DeviceCount,
    RingCapacity,
    CommandDescSize,
    DeviceTableOffset,
    DeviceStride,
    CommandSlotsOffset,
    CompletionSlotsOffset,
    CreatorPid,
    RequestedConfig(u8),
    SetNameLen,
    SetName(u8),
    ServerPid,
    BufferGeneration,
    NegotiatedConfig(u8),
    BufferNameLen,
    BufferSize,
    BufferName(u8),
    SetState,
    StateEvents,
    Abort,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum DeviceField {
    NameLen,
    Name(u8),
    ClientState,
    ServerState,
    CommandEvent,
    CompletionEvent,
    CommandHead,
    CommandTail,
    CompletionHead,
    CompletionTail,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Target {
    Header(HeaderField),
    Device {
        dev: u8,
        field: DeviceField,
    },
    CommandSlot {
        dev: u8,
        slot: u8,
        word: u8,
    },
    CompletionSlot {
        dev: u8,
        slot: u8,
        word: u8,
    },
    /// Any 8-byte-aligned word of the control region.
    Anywhere(u32),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
struct Desc {
    id: u64,
    code: u32,
    flags: u32,
    size: u32,
    reserved: u32,
    position: u64,
    buffer_offset: u64,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Step {
    /// Configure, GetConfiguration and OpenDevice of every device.
    Ready {
        area_kib: u8,
    },
    // ---- the peer, playing server ----
    Connect,
    Configure {
        max_transfer_64k: u8,
        area_kib: u8,
        bad_names: bool,
    },
    PushCommand {
        dev: u8,
        code: u8,
        size: u16,
        offset: u16,
    },
    PushData {
        dev: u8,
        read: bool,
        blocks: u8,
        at: u8,
    },
    PushRaw {
        dev: u8,
        desc: Desc,
    },
    PushClose {
        dev: u8,
    },
    PeerAbort,
    SetBits(u32),
    ServerClosed,
    Poke {
        target: Target,
        value: Value,
    },
    PokeBuffer {
        offset: u32,
        value: u64,
    },
    PopCompletions {
        dev: u8,
    },
    // ---- the client library ----
    GetConfiguration,
    OpenDevice(u8),
    GetCommand(u8),
    Complete {
        pick: u8,
        code: u32,
        bytes: u16,
    },
    ReadData(u8),
    WriteData {
        pick: u8,
        len: u16,
    },
    BufferHandle(u8),
    MapHandle(u32),
    /// `with_data_mut` on one held command, and inside it `with_data` on another (or the same).
    Lease {
        outer: u8,
        inner: u8,
    },
    ClientAbort,
    Close,
}

#[derive(Arbitrary, Debug)]
struct RingsInput {
    capacity: u8,
    limits_area: u32,
    max_transfer: u32,
    ops: Vec<RingOp>,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum RingOp {
    PushCommand(Desc),
    PushValid { size: u16, offset: u16 },
    PopCommand,
    CloseCommands,
    PushCompletion { id: u64, code: u32, bytes: u32 },
    PopCompletion,
    CloseCompletions,
    ScribbleCommandIndices { head: Value, tail: Value },
    ScribbleCompletionIndices { head: Value, tail: Value },
    ScribbleCommandSlot { index: u16, value: u64 },
    ScribbleCompletionSlot { index: u16, value: u64 },
}

// ---------------------------------------------------------------------------------------------
// Clean-up of /dev/shm, also when a check fails

static LIVE: Mutex<Vec<String>> = Mutex::new(Vec::new());
static HOOK: Once = Once::new();
static COUNTER: AtomicU32 = AtomicU32::new(0);

fn shm_path(name: &str) -> String {
    format!("/dev/shm{name}")
}

fn install_cleanup_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Ok(names) = LIVE.try_lock() {
                for name in names.iter() {
                    let _ = std::fs::remove_file(shm_path(name));
                }
            }
            previous(info);
        }));
    });
}

/// Removes the iteration's objects even if the client or the peer forgot one.
struct Cleanup(Vec<String>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for name in &self.0 {
            let _ = std::fs::remove_file(shm_path(name));
        }
        LIVE.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

// ---------------------------------------------------------------------------------------------
// The region scenario

fn check_documented(e: &VdError, what: &str) {
    assert_eq!(
        Some(e.code),
        e.rule.info().code,
        "{what}: {:?} with rule {}",
        e.code,
        e.rule
    );
}

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    assert!(
        took < CALL_BOUND,
        "{what} took {took:?} with a timeout of 0"
    );
    out
}

struct Peer {
    control: ControlRegion,
    file: std::fs::File,
    buffer: Option<BufferRegion>,
    set: String,
    uid: u32,
    next_id: u32,
}

impl Peer {
    fn total(&self) -> u64 {
        self.control.geometry().total_size
    }

    fn offset(&self, target: Target) -> Option<(u64, usize)> {
        let g = self.control.geometry();
        let dev_base = |dev: u8| g.device_offset(u32::from(dev) % g.device_count);
        let h = |o: usize| Some((o as u64, 4));
        let h8 = |o: usize| Some((o as u64, 8));
        match target {
            Target::Header(f) => match f {
                HeaderField::Magic => h8(offset_of!(ControlHeader, magic)),
                HeaderField::LayoutVersion => h(offset_of!(ControlHeader, layout_version)),
                HeaderField::HeaderSize => h(offset_of!(ControlHeader, header_size)),
                HeaderField::TotalSize => h8(offset_of!(ControlHeader, total_size)),
                HeaderField::DeviceCount => h(offset_of!(ControlHeader, device_count)),
                HeaderField::RingCapacity => h(offset_of!(ControlHeader, ring_capacity)),
                HeaderField::CommandDescSize => h(offset_of!(ControlHeader, command_desc_size)),
                HeaderField::DeviceTableOffset => {
                    h8(offset_of!(ControlHeader, device_table_offset))
                }
                HeaderField::DeviceStride => h8(offset_of!(ControlHeader, device_stride)),
                HeaderField::CommandSlotsOffset => {
                    h8(offset_of!(ControlHeader, command_slots_offset))
                }
                HeaderField::CompletionSlotsOffset => {
                    h8(offset_of!(ControlHeader, completion_slots_offset))
                }
                HeaderField::CreatorPid => h(offset_of!(ControlHeader, creator_pid)),
                HeaderField::RequestedConfig(i) => {
                    h(offset_of!(ControlHeader, requested_config) + usize::from(i % 11) * 4)
                }
                HeaderField::SetNameLen => h(offset_of!(ControlHeader, set_name_len)),
                HeaderField::SetName(i) => {
                    h8(offset_of!(ControlHeader, set_name) + usize::from(i % 32) * 8)
                }
                HeaderField::ServerPid => h(offset_of!(ControlHeader, server_pid)),
                HeaderField::BufferGeneration => h(offset_of!(ControlHeader, buffer_generation)),
                HeaderField::NegotiatedConfig(i) => {
                    h(offset_of!(ControlHeader, negotiated_config) + usize::from(i % 11) * 4)
                }
                HeaderField::BufferNameLen => h(offset_of!(ControlHeader, buffer_name_len)),
                HeaderField::BufferSize => h8(offset_of!(ControlHeader, buffer_size)),
                HeaderField::BufferName(i) => {
                    h8(offset_of!(ControlHeader, buffer_name) + usize::from(i % 32) * 8)
                }
                HeaderField::SetState => h(offset_of!(ControlHeader, set_state)),
                HeaderField::StateEvents => h(offset_of!(ControlHeader, state_events)),
                HeaderField::Abort => h(offset_of!(ControlHeader, abort)),
            },
            Target::Device { dev, field } => {
                let base = dev_base(dev);
                let (o, w) = match field {
                    DeviceField::NameLen => (offset_of!(DeviceBlock, name_len), 4),
                    DeviceField::Name(i) => {
                        (offset_of!(DeviceBlock, name) + usize::from(i % 32) * 8, 8)
                    }
                    DeviceField::ClientState => (offset_of!(DeviceBlock, client_state), 4),
                    DeviceField::ServerState => (offset_of!(DeviceBlock, server_state), 4),
                    DeviceField::CommandEvent => (offset_of!(DeviceBlock, command_event), 4),
                    DeviceField::CompletionEvent => (offset_of!(DeviceBlock, completion_event), 4),
                    DeviceField::CommandHead => (offset_of!(DeviceBlock, command_head), 8),
                    DeviceField::CommandTail => (offset_of!(DeviceBlock, command_tail), 8),
                    DeviceField::CompletionHead => (offset_of!(DeviceBlock, completion_head), 8),
                    DeviceField::CompletionTail => (offset_of!(DeviceBlock, completion_tail), 8),
                };
                Some((base + o as u64, w))
            }
            Target::CommandSlot { dev, slot, word } => {
                let i = u64::from(slot) % u64::from(g.ring_capacity) * COMMAND_WORDS as u64
                    + u64::from(word) % COMMAND_WORDS as u64;
                Some((dev_base(dev) + g.command_slots_offset + i * 8, 8))
            }
            Target::CompletionSlot { dev, slot, word } => {
                let i = u64::from(slot) % u64::from(g.ring_capacity) * COMPLETION_WORDS as u64
                    + u64::from(word) % COMPLETION_WORDS as u64;
                Some((dev_base(dev) + g.completion_slots_offset + i * 8, 8))
            }
            Target::Anywhere(o) => {
                let words = self.total() / 8;
                (words > 0).then(|| (u64::from(o) % words * 8, 8))
            }
        }
    }

    fn poke(&self, target: Target, value: Value) {
        let Some((offset, width)) = self.offset(target) else {
            return;
        };
        let mut current = [0u8; 8];
        let _ = self.file.read_at(&mut current[..width], offset);
        let current = u64::from_le_bytes(current);
        let v = match value {
            Value::Zero => 0,
            Value::One => 1,
            Value::Max => u64::MAX,
            Value::Byte(b) => u64::from(b),
            Value::Any(v) => v,
            Value::Delta(d) => current.wrapping_add(d as i64 as u64),
        };
        let _ = self.file.write_at(&v.to_le_bytes()[..width], offset);
    }

    fn device(&self, dev: u8) -> Option<vdi_shm::region::DeviceView<'_>> {
        let n = self.control.geometry().device_count;
        self.control
            .device(DeviceIndex((u32::from(dev) % n) as u16))
    }

    fn set_bits(&self, bits: u32) {
        self.control.set_state().fetch_or(bits, Ordering::SeqCst);
        self.control.state_events().notify_all();
    }

    fn configure(
        &mut self,
        max_transfer_64k: u8,
        area_kib: u8,
        bad_names: bool,
        live: &mut Vec<String>,
    ) {
        let mut cfg = self.control.requested_config();
        let area = (u64::from(area_kib) + 1) * 1024;
        cfg.max_transfer_size = (u32::from(max_transfer_64k % 4) + 1) * 65536;
        cfg.buffer_area_size = area as u32;
        cfg.block_size = 512;
        self.control.set_negotiated_config(&cfg);
        let n = self.control.geometry().device_count;
        for i in 0..n {
            let name = if bad_names {
                "\u{0}".repeat(300)
            } else {
                format!("dev{i}")
            };
            let _ = self.control.set_device_name(DeviceIndex(i as u16), &name);
        }
        if self.buffer.is_none()
            && let Ok(nonce) = vdi_shm::naming::BufferNonce::random()
            && let Ok(b) = BufferRegion::create(self.uid, &self.set, 1, nonce, area, Access::Owner)
        {
            live.push(b.info().name);
            LIVE.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(b.info().name);
            self.buffer = Some(b);
        }
        if let Some(b) = &self.buffer {
            self.control.publish_buffer(&b.info());
        }
        self.set_bits(words::set::CONNECTED | words::set::CONFIGURED);
    }

    fn fresh_id(&mut self) -> CmdId {
        self.next_id += 1;
        CmdId {
            slot: self.next_id,
            generation: 1,
        }
    }
}

struct Client {
    set: ClientVirtualDeviceSet,
    devices: Vec<ClientVirtualDevice>,
    held: Vec<(usize, Command)>,
}

fn run_region(input: RegionInput) {
    install_cleanup_hook();
    let uid = rustix::process::geteuid().as_raw();
    let devices = u32::from(input.devices % 3) + 1;
    let ring_capacity = [4u32, 8, 16][usize::from(input.ring_capacity % 3)];
    let set = format!(
        "fuzz-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let control_name =
        region_name(uid, &set_key(None, &set), RegionKind::Control).expect("a valid set name");
    let mut cleanup = Cleanup(vec![control_name.clone()]);
    LIVE.lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(control_name.clone());

    let options = ClientOptions {
        connector: Arc::new(ShmConnector {
            access: Access::Owner,
            ring_capacity,
        }),
        wait: WaitConfig {
            spin_steps: 0,
            liveness_interval: Duration::from_millis(100),
        },
        timeout_unit: TimeoutUnit::Millis,
    };
    let client = ClientVirtualDeviceSet::with_options(options);
    let mut cfg = VdConfig::with_devices(devices);
    cfg.max_io_depth = 4;
    client.create(&set, &cfg).expect("Create of a fresh set");
    let control = ControlRegion::open(uid, &set, Access::Owner).expect("the peer opens the set");
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(shm_path(&control_name))
        .expect("the peer opens the object's file");
    control.set_server_pid(std::process::id());
    let mut peer = Peer {
        control,
        file,
        buffer: None,
        set: set_key(None, &set),
        uid,
        next_id: 0,
    };
    let mut c = Client {
        set: client,
        devices: Vec::new(),
        held: Vec::new(),
    };
    let mut aborted_seen = false;

    for step in input.steps.into_iter().take(MAX_STEPS) {
        if c.set.phase() == ClientPhase::Abort {
            aborted_seen = true;
        }
        match step {
            Step::Ready { area_kib } => {
                peer.configure(1, area_kib, false, &mut cleanup.0);
                let mut got = VdConfig::default();
                if timed("GetConfiguration", || c.set.get_configuration(0, &mut got)).is_ok() {
                    for i in 0..devices {
                        if let Ok(d) = timed("OpenDevice", || c.set.open_device(&format!("dev{i}")))
                        {
                            c.devices.push(d);
                        }
                    }
                }
            }
            Step::Connect => peer.set_bits(words::set::CONNECTED),
            Step::Configure {
                max_transfer_64k,
                area_kib,
                bad_names,
            } => peer.configure(max_transfer_64k, area_kib, bad_names, &mut cleanup.0),
            Step::PushCommand {
                dev,
                code,
                size,
                offset,
            } => {
                let id = peer.fresh_id();
                let code = VdcCode::from_u32(u32::from(code % 20)).unwrap_or(VdcCode::Write);
                let desc = CommandDesc::new(id, code, u32::from(size), 0, u64::from(offset) * 16);
                if let Some(d) = peer.device(dev)
                    && d.commands().push(&desc).is_ok()
                {
                    d.command_event().unpark();
                }
            }
            Step::PushData {
                dev,
                read,
                blocks,
                at,
            } => {
                let id = peer.fresh_id();
                let code = if read { VdcCode::Read } else { VdcCode::Write };
                let size = u32::from(blocks % 64 + 1) * 512;
                let desc = CommandDesc::new(id, code, size, 0, u64::from(at) * 512);
                if let Some(d) = peer.device(dev)
                    && d.commands().push(&desc).is_ok()
                {
                    d.command_event().unpark();
                }
            }
            Step::PushRaw { dev, desc } => {
                let desc = CommandDesc {
                    id: desc.id,
                    code: desc.code,
                    flags: desc.flags,
                    size: desc.size,
                    reserved: desc.reserved,
                    position: desc.position,
                    buffer_offset: desc.buffer_offset,
                };
                if let Some(d) = peer.device(dev) {
                    let _ = d.commands().push(&desc);
                    d.command_event().unpark();
                }
            }
            Step::PushClose { dev } => {
                if let Some(d) = peer.device(dev) {
                    let _ = d.commands().push(&CommandDesc::close_marker());
                    d.command_event().unpark();
                }
            }
            Step::PeerAbort => {
                peer.control.signal_abort();
            }
            Step::SetBits(bits) => peer.set_bits(bits),
            Step::ServerClosed => peer.set_bits(words::set::SERVER_CLOSED),
            Step::Poke { target, value } => peer.poke(target, value),
            Step::PokeBuffer { offset, value } => {
                if let Some(b) = &peer.buffer {
                    let total = 64 * 1024 + b.data_size();
                    let at = u64::from(offset) % total;
                    if let Ok(f) = std::fs::OpenOptions::new()
                        .write(true)
                        .open(shm_path(&b.info().name))
                    {
                        let _ = f.write_at(&value.to_le_bytes(), at);
                    }
                }
            }
            Step::PopCompletions { dev } => {
                if let Some(d) = peer.device(dev) {
                    for _ in 0..ring_capacity + 1 {
                        match d.completions().pop() {
                            Ok(Popped::Item(_)) => {}
                            _ => break,
                        }
                    }
                }
            }
            Step::GetConfiguration => {
                let mut got = VdConfig::default();
                let r = timed("GetConfiguration", || c.set.get_configuration(0, &mut got));
                match r {
                    Ok(()) => assert_eq!(got.device_count, devices),
                    Err(e) => {
                        check_documented(&e, "GetConfiguration");
                        if aborted_seen {
                            assert_eq!(e.code, VdCode::Abort);
                        }
                        if e.code == VdCode::Abort {
                            assert_eq!(c.set.phase(), ClientPhase::Abort);
                        }
                    }
                }
            }
            Step::OpenDevice(i) => {
                let name = format!("dev{}", u32::from(i) % (devices + 1));
                match timed("OpenDevice", || c.set.open_device(&name)) {
                    Ok(d) => {
                        assert!(!aborted_seen, "OpenDevice succeeded after abort");
                        c.devices.push(d);
                    }
                    Err(e) => check_documented(&e, "OpenDevice"),
                }
            }
            Step::GetCommand(i) => {
                if c.devices.is_empty() {
                    continue;
                }
                let k = usize::from(i) % c.devices.len();
                let before = c.set.phase();
                match timed("GetCommand", || c.devices[k].get_command(0)) {
                    Ok(cmd) => {
                        assert!(!aborted_seen, "a command was delivered after abort");
                        assert_ne!(c.set.phase(), ClientPhase::Abort);
                        check_command(&peer, &cmd);
                        c.held.push((k, cmd));
                    }
                    Err(e) => {
                        check_documented(&e, "GetCommand");
                        if before == ClientPhase::Abort {
                            assert_eq!(e.code, VdCode::Abort, "GetCommand in Abort");
                        }
                        if e.code == VdCode::Abort {
                            // A corrupt region or a peer abort: the set is aborted for good.
                            assert_eq!(c.set.phase(), ClientPhase::Abort);
                        }
                    }
                }
            }
            Step::Complete { pick, code, bytes } => {
                if c.held.is_empty() {
                    continue;
                }
                let (k, cmd) = c.held.remove(usize::from(pick) % c.held.len());
                let r = timed("CompleteCommand", || {
                    c.devices[k].complete_command(&cmd, code, u64::from(bytes), 0)
                });
                if let Err(e) = r {
                    check_documented(&e, "CompleteCommand");
                }
            }
            Step::ReadData(pick) => {
                if let Some((_, cmd)) = c.held.get(usize::from(pick) % c.held.len().max(1)) {
                    let len = if cmd.code().transfers_data() {
                        cmd.size() as usize
                    } else {
                        0
                    };
                    let mut buf = vec![0u8; len.min(1 << 20)];
                    let _ = cmd.read_data(&mut buf);
                }
            }
            Step::WriteData { pick, len } => {
                if let Some((_, cmd)) = c.held.get(usize::from(pick) % c.held.len().max(1)) {
                    let src = vec![0xA5u8; usize::from(len)];
                    let n = cmd.write_data(&src);
                    assert!(n <= cmd.size() as usize);
                }
            }
            Step::BufferHandle(pick) => {
                if let Some((_, cmd)) = c.held.get(usize::from(pick) % c.held.len().max(1))
                    && let Some(address) = cmd.buffer_address()
                {
                    match c.set.get_buffer_handle(address) {
                        Ok(handle) => {
                            if let Ok(back) = c.set.map_buffer_handle(handle) {
                                assert_eq!(back, address, "a handle maps back elsewhere");
                            }
                        }
                        Err(e) => check_documented(&e, "GetBufferHandle"),
                    }
                }
            }
            Step::Lease { outer, inner } => {
                if c.held.is_empty() {
                    continue;
                }
                let n = c.held.len();
                let (a, b) = (usize::from(outer) % n, usize::from(inner) % n);
                let (first, second) = (&c.held[a].1, &c.held[b].1);
                // A buffer as [start, end); zero-length buffers have no address and never
                // overlap anything.
                let data_len = |cmd: &Command| {
                    if cmd.code().transfers_data() {
                        cmd.size() as usize
                    } else {
                        0
                    }
                };
                let range = |cmd: &Command| {
                    let len = data_len(cmd);
                    cmd.buffer_address()
                        .filter(|_| len > 0)
                        .map(|p| (p as usize, p as usize + len))
                };
                let (ra, rb) = (range(first), range(second));
                let got = first.with_data_mut(|outer| {
                    outer.fill(0x5A);
                    (outer.len(), second.with_data(|d| d.len()))
                });
                if let Some((len, inner)) = got {
                    assert_eq!(len, data_len(first), "a lease of the wrong size");
                    let overlap = matches!((ra, rb), (Some(x), Some(y)) if x.0 < y.1 && y.0 < x.1);
                    match inner {
                        Some(l) => {
                            assert!(!overlap, "two leases over the same bytes");
                            assert_eq!(l, data_len(second), "a lease of the wrong size");
                        }
                        None => assert!(
                            overlap || rb.is_none(),
                            "a lease refused over disjoint buffers"
                        ),
                    }
                }
            }
            Step::MapHandle(handle) => {
                if let Err(e) = c.set.map_buffer_handle(handle) {
                    check_documented(&e, "MapBufferHandle");
                }
            }
            Step::ClientAbort => {
                if let Err(e) = c.set.signal_abort() {
                    check_documented(&e, "SignalAbort");
                }
            }
            Step::Close => {
                match timed("Close", || c.set.close()) {
                    Ok(()) => {}
                    Err(e) => check_documented(&e, "Close"),
                }
                aborted_seen = false;
            }
        }
    }
    let _ = timed("Close", || c.set.close());
    drop(c);
    drop(peer);
    drop(cleanup);
}

/// A command the client library hands out lies inside the buffer area it mapped: its whole
/// buffer can be read and written.
fn check_command(peer: &Peer, cmd: &Command) {
    assert!(
        (1..=19).contains(&(cmd.code() as u32)),
        "code {:?}",
        cmd.code()
    );
    if cmd.code().transfers_data() && cmd.size() > 0 {
        let area = peer.buffer.as_ref().map_or(0, BufferRegion::data_size);
        assert!(
            u64::from(cmd.size()) <= area,
            "a buffer larger than the area"
        );
        assert!(
            cmd.buffer_address().is_some(),
            "a delivered buffer has no address"
        );
        let mut data = vec![0u8; cmd.size() as usize];
        assert!(
            cmd.read_data(&mut data),
            "a delivered buffer cannot be read"
        );
        assert_eq!(cmd.write_data(&data), data.len());
    }
}

// ---------------------------------------------------------------------------------------------
// The rings scenario

fn value(v: Value, current: u64) -> u64 {
    match v {
        Value::Zero => 0,
        Value::One => 1,
        Value::Max => u64::MAX,
        Value::Byte(b) => u64::from(b),
        Value::Any(x) => x,
        Value::Delta(d) => current.wrapping_add(d as i64 as u64),
    }
}

/// Two in-memory rings, what an honest consumer must see from them while nobody scribbled,
/// and the indices as the harness believes them (for `Delta` scribbles).
struct Rings {
    capacity: u32,
    limits: CommandLimits,
    commands: LocalRing,
    completions: LocalRing,
    expect_commands: VecDeque<CommandDesc>,
    expect_completions: VecDeque<CompletionDesc>,
    scribbled_commands: bool,
    scribbled_completions: bool,
    commands_closed: bool,
    completions_closed: bool,
    indices: [u64; 4],
    next: u32,
}

impl Rings {
    fn push_command(&mut self, desc: CommandDesc) {
        match self.commands.command_ring().push(&desc) {
            Ok(()) => {
                assert!(
                    !self.commands_closed || self.scribbled_commands,
                    "push after close"
                );
                self.expect_commands.push_back(desc);
                self.indices[1] = self.indices[1].wrapping_add(1);
            }
            Err(PushError::Full) => {
                if !self.scribbled_commands {
                    assert_eq!(self.expect_commands.len(), self.capacity as usize);
                }
            }
            Err(PushError::Closed) => {
                assert!(
                    self.commands_closed || self.scribbled_commands,
                    "closed without close"
                )
            }
            Err(PushError::Fault(_)) => {
                assert!(self.scribbled_commands, "fault without scribble")
            }
            Err(PushError::Stale) => panic!("stale on a plain push"),
        }
    }

    fn pop_command(&mut self) {
        let limits = self.limits;
        match self.commands.command_ring().pop(&limits) {
            Ok(Popped::Item(item)) => {
                self.indices[0] = self.indices[0].wrapping_add(1);
                if let Delivered::Command(c) = item {
                    assert_ne!(c.id.generation, 0);
                    assert!(c.size <= limits.max_transfer);
                    if c.size > 0 {
                        assert!(c.buffer_offset + u64::from(c.size) <= limits.buffer_area);
                    }
                }
                if !self.scribbled_commands {
                    let want = self
                        .expect_commands
                        .pop_front()
                        .expect("popped more than pushed");
                    assert_eq!(want.validate(&limits).ok(), Some(item), "FIFO order");
                }
            }
            Ok(Popped::Empty) => {
                if !self.scribbled_commands {
                    assert!(self.expect_commands.is_empty() && !self.commands_closed);
                }
            }
            Ok(Popped::Closed) => {
                if !self.scribbled_commands {
                    assert!(self.expect_commands.is_empty() && self.commands_closed);
                }
            }
            Err(fault) => {
                if !self.scribbled_commands {
                    // An honest producer's descriptor may still fail validation; its slot is
                    // consumed all the same.
                    let want = self
                        .expect_commands
                        .pop_front()
                        .expect("a fault on an empty ring");
                    assert_eq!(want.validate(&limits).err(), Some(fault));
                    self.indices[0] = self.indices[0].wrapping_add(1);
                }
                let e = fault.to_vd_error(vdi_shm::Side::Client);
                assert_eq!(e.code, VdCode::Abort);
                assert_eq!(e.rule, Rule::ClientBadMessage);
            }
        }
    }

    fn push_completion(&mut self, desc: CompletionDesc) {
        match self.completions.completion_ring().push(&desc) {
            Ok(()) => {
                self.expect_completions.push_back(desc);
                self.indices[3] = self.indices[3].wrapping_add(1);
            }
            Err(PushError::Full | PushError::Closed | PushError::Fault(_)) => {
                if !self.scribbled_completions {
                    assert!(
                        self.completions_closed
                            || self.expect_completions.len() == self.capacity as usize
                    );
                }
            }
            Err(PushError::Stale) => panic!("stale on a plain push"),
        }
    }

    fn pop_completion(&mut self) {
        match self.completions.completion_ring().pop() {
            Ok(Popped::Item(c)) => {
                self.indices[2] = self.indices[2].wrapping_add(1);
                assert_ne!(c.id.generation, 0);
                if !self.scribbled_completions {
                    let want = self
                        .expect_completions
                        .pop_front()
                        .expect("popped more than pushed");
                    assert_eq!(want.validate().ok(), Some(c));
                }
            }
            Ok(Popped::Empty | Popped::Closed) => {
                if !self.scribbled_completions {
                    assert!(self.expect_completions.is_empty());
                }
            }
            Err(fault) => {
                if !self.scribbled_completions {
                    let want = self
                        .expect_completions
                        .pop_front()
                        .expect("a fault on an empty ring");
                    assert_eq!(want.validate().err(), Some(fault));
                    self.indices[2] = self.indices[2].wrapping_add(1);
                }
                let e = fault.to_vd_error(vdi_shm::Side::Server);
                assert_eq!(e.code, VdCode::Protocol);
            }
        }
    }

    fn apply(&mut self, op: RingOp) {
        match op {
            RingOp::PushCommand(d) => self.push_command(CommandDesc {
                id: d.id,
                code: d.code,
                flags: d.flags,
                size: d.size,
                reserved: d.reserved,
                position: d.position,
                buffer_offset: d.buffer_offset,
            }),
            RingOp::PushValid { size, offset } => {
                self.next += 1;
                let id = CmdId {
                    slot: self.next,
                    generation: 1,
                };
                let desc =
                    CommandDesc::new(id, VdcCode::Write, u32::from(size), 0, u64::from(offset));
                self.push_command(desc);
            }
            RingOp::PopCommand => self.pop_command(),
            RingOp::CloseCommands => {
                self.commands.command_ring().close();
                self.commands_closed = true;
            }
            RingOp::PushCompletion { id, code, bytes } => self.push_completion(CompletionDesc {
                id,
                completion_code: code,
                bytes_transferred: bytes,
                position: 0,
            }),
            RingOp::PopCompletion => self.pop_completion(),
            RingOp::CloseCompletions => {
                self.completions.completion_ring().close();
                self.completions_closed = true;
            }
            RingOp::ScribbleCommandIndices { head, tail } => {
                self.indices[0] = value(head, self.indices[0]);
                self.indices[1] = value(tail, self.indices[1]);
                self.commands
                    .scribble_indices(self.indices[0], self.indices[1]);
                self.scribbled_commands = true;
            }
            RingOp::ScribbleCompletionIndices { head, tail } => {
                self.indices[2] = value(head, self.indices[2]);
                self.indices[3] = value(tail, self.indices[3]);
                self.completions
                    .scribble_indices(self.indices[2], self.indices[3]);
                self.scribbled_completions = true;
            }
            RingOp::ScribbleCommandSlot { index, value } => {
                self.commands.scribble_slot_word(usize::from(index), value);
                self.scribbled_commands = true;
            }
            RingOp::ScribbleCompletionSlot { index, value } => {
                self.completions
                    .scribble_slot_word(usize::from(index), value);
                self.scribbled_completions = true;
            }
        }
        // Lengths are either in range or a typed fault, never a panic.
        if let Ok(n) = self.commands.command_ring().len() {
            assert!(n <= self.capacity);
        }
        if let Ok(n) = self.completions.completion_ring().len() {
            assert!(n <= self.capacity);
        }
    }
}

fn run_rings(input: RingsInput) {
    let capacity = 1u32 << (input.capacity % 5);
    let mut rings = Rings {
        capacity,
        limits: CommandLimits {
            buffer_area: u64::from(input.limits_area),
            max_transfer: input.max_transfer,
        },
        commands: LocalRing::commands(capacity),
        completions: LocalRing::completions(capacity),
        expect_commands: VecDeque::new(),
        expect_completions: VecDeque::new(),
        scribbled_commands: false,
        scribbled_completions: false,
        commands_closed: false,
        completions_closed: false,
        indices: [0; 4],
        next: 1,
    };
    for op in input.ops.into_iter().take(256) {
        rings.apply(op);
    }
}

fuzz_target!(|input: Input| {
    match input {
        Input::Region(r) => run_region(r),
        Input::Rings(r) => run_rings(r),
    }
});
