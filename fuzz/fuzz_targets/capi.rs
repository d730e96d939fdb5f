//! Arbitrary call sequences through the C ABI of `libsqlvdi`: the plain C API (`vdisim.h`) and
//! the SDK's C++ classes (Itanium-mangled exports), with NULLs, stale and forged handles,
//! double completes, calls after Close, never-constructed and destroyed C++ objects.
//!
//! A scripted peer (the control region opened as a server would, configured, with commands
//! pushed into the rings) lets the sequences reach GetCommand and CompleteCommand.
//!
//! Checks: no panic anywhere (libFuzzer's hook aborts even on a panic the boundary catches, so
//! VD_E_UNEXPECTED never hides one); every result is 0 or a VD_E_* code; a NULL object or
//! out-pointer gives VD_E_INVALID; a completed, forged or stale command handle, a device after
//! Close and a dead or foreign C++ object give an error; no call with timeout 0 hangs.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sqlvdi::capi::{
    vdisim_device_complete_command, vdisim_device_get_command, vdisim_last_rule,
    vdisim_result_message, vdisim_set_close, vdisim_set_create, vdisim_set_free,
    vdisim_set_get_configuration, vdisim_set_new, vdisim_set_open_device,
    vdisim_set_open_in_secondary, vdisim_set_signal_abort,
};
use sqlvdi::cpp::{
    cvd_complete_command, cvd_get_command, cvds_close, cvds_construct_c1, cvds_create,
    cvds_destroy_d1, cvds_get_configuration, cvds_open_device, cvds_signal_abort,
};
use std::ffi::{CString, c_char};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use vdi_proto::{CmdId, DeviceIndex, VdCode, VdConfig, VdcCode};
use vdi_shm::naming::{RegionKind, region_name};
use vdi_shm::region::{Access, BufferRegion, ControlRegion};
use vdi_shm::ring::CommandDesc;
use vdi_shm::words;

const CALL_BOUND: Duration = Duration::from_secs(2);
const MAX_OPS: usize = 64;
const MAX_SETS: usize = 2;

static COUNTER: AtomicU32 = AtomicU32::new(0);

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Name {
    Own,
    Empty,
    Backslash,
    Long,
    Other,
    Null,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Op {
    /// New + Create + the peer configures + GetConfiguration + OpenDevice of every device.
    Ready {
        devices: u8,
        area_kib: u8,
    },
    New,
    Free(u8),
    Create {
        set: u8,
        name: Name,
        devices: u8,
        null_config: bool,
    },
    GetConfiguration {
        set: u8,
        null_out: bool,
    },
    OpenDevice {
        set: u8,
        device: u8,
        null_name: bool,
        null_out: bool,
    },
    SignalAbort(u8),
    Close(u8),
    OpenInSecondary {
        set: u8,
        name: Name,
    },
    NullObject(u8),
    GetCommand {
        set: u8,
        device: u8,
        null_out: bool,
        null_info: bool,
    },
    Complete {
        set: u8,
        device: u8,
        pick: u8,
        code: u32,
        bytes: u32,
        forge: Option<u64>,
    },
    CompleteAgain {
        set: u8,
        pick: u8,
    },
    ResultMessage {
        code: i32,
        len: u8,
        null: bool,
    },
    LastRule {
        len: u8,
        null: bool,
    },
    // The peer.
    Configure {
        set: u8,
        area_kib: u8,
    },
    Push {
        set: u8,
        device: u8,
        code: u8,
        blocks: u8,
        at: u8,
    },
    PushClose {
        set: u8,
        device: u8,
    },
    PeerAbort(u8),
    // The C++ classes on storage this harness owns.
    CppConstruct,
    CppGarbage(u64),
    CppDestroy(u8),
    CppStale(u8),
    CppCall {
        object: u8,
        call: u8,
        device: u8,
    },
}

struct Peer {
    control: ControlRegion,
    buffer: Option<BufferRegion>,
    next_id: u32,
}

/// A set made by `vdisim_set_new`, with what the harness knows about it.
struct Set {
    ptr: *mut std::ffi::c_void,
    name: String,
    created: bool,
    closed: bool,
    peer: Option<Peer>,
    devices: Vec<*mut std::ffi::c_void>,
    held: Vec<(usize, u64)>,
    done: Vec<(usize, u64)>,
}

struct Harness {
    sets: Vec<Set>,
    /// C++ objects never move, so each lives in its own allocation.
    #[allow(clippy::vec_box)]
    cpp: Vec<Box<u64>>,
    /// Devices opened through C++ set objects, with the handle of the set that owns them
    /// (their memory lives until that set is destroyed).
    cpp_devices: Vec<(u64, *mut std::ffi::c_void)>,
    names: Vec<String>,
}

fn codes_ok(rc: i32, what: &str) {
    assert_ne!(
        rc,
        VdCode::Unexpected.linux_code(),
        "{what}: VD_E_UNEXPECTED (an internal failure crossed the ABI)"
    );
    assert!(
        rc == 0 || VdCode::from_linux_code(rc).is_some(),
        "{what}: {rc} is not a VD_E_* code"
    );
}

fn timed(what: &str, f: impl FnOnce() -> i32) -> i32 {
    let start = Instant::now();
    let rc = f();
    assert!(
        start.elapsed() < CALL_BOUND,
        "{what} took {:?} with a timeout of 0",
        start.elapsed()
    );
    codes_ok(rc, what);
    rc
}

fn invalid() -> i32 {
    VdCode::Invalid.linux_code()
}

fn c_name(kind: Name, own: &str) -> Option<CString> {
    let s = match kind {
        Name::Own => own.to_string(),
        Name::Empty => String::new(),
        Name::Backslash => format!("{own}\\x"),
        Name::Long => "n".repeat(300),
        Name::Other => format!("{own}-other"),
        Name::Null => return None,
    };
    CString::new(s).ok()
}

fn ptr(c: &Option<CString>) -> *const c_char {
    c.as_ref().map_or(std::ptr::null(), |c| c.as_ptr())
}

impl Harness {
    fn set(&mut self, i: u8) -> Option<&mut Set> {
        let n = self.sets.len();
        (n > 0).then(|| &mut self.sets[usize::from(i) % n])
    }

    fn apply(&mut self, op: Op) {
        match op {
            Op::Ready { devices, area_kib } => {
                self.apply(Op::New);
                let set = (self.sets.len().max(1) - 1) as u8;
                self.apply(Op::Create {
                    set,
                    name: Name::Own,
                    devices,
                    null_config: false,
                });
                self.apply(Op::Configure { set, area_kib });
                self.apply(Op::GetConfiguration {
                    set,
                    null_out: false,
                });
                for device in 0..devices % 3 + 1 {
                    self.apply(Op::OpenDevice {
                        set,
                        device,
                        null_name: false,
                        null_out: false,
                    });
                }
            }
            Op::New => {
                if self.sets.len() >= MAX_SETS {
                    return;
                }
                let mut out = std::ptr::null_mut();
                // SAFETY: a valid out-pointer.
                let rc = timed("vdisim_set_new", || unsafe { vdisim_set_new(&mut out) });
                assert_eq!(rc, 0);
                assert!(!out.is_null());
                let name = format!(
                    "capi-{}-{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::Relaxed)
                );
                self.names.push(name.clone());
                self.sets.push(Set {
                    ptr: out.cast(),
                    name,
                    created: false,
                    closed: false,
                    peer: None,
                    devices: Vec::new(),
                    held: Vec::new(),
                    done: Vec::new(),
                });
            }
            Op::Free(i) => {
                if self.sets.is_empty() {
                    return;
                }
                let i = usize::from(i) % self.sets.len();
                let set = self.sets.remove(i);
                drop(set.peer);
                // SAFETY: a set from vdisim_set_new, freed once (removed from the harness).
                unsafe { vdisim_set_free(set.ptr.cast()) };
            }
            Op::Create {
                set,
                name,
                devices,
                null_config,
            } => {
                let Some(s) = self.set(set) else { return };
                let cname = c_name(name, &s.name);
                let mut cfg = VdConfig::with_devices(u32::from(devices % 3) + 1);
                cfg.max_io_depth = 4;
                let cfg_ptr: *const VdConfig = if null_config { std::ptr::null() } else { &cfg };
                // SAFETY: a live set; the name is NULL or a C string; the config NULL or valid.
                let rc = timed("vdisim_set_create", || unsafe {
                    vdisim_set_create(s.ptr.cast(), ptr(&cname), cfg_ptr.cast())
                });
                if cname.is_none() || null_config {
                    assert_eq!(rc, invalid(), "Create with a NULL argument");
                }
                if rc == 0 {
                    assert!(matches!(name, Name::Own | Name::Other));
                    let created_name = cname.map(|c| c.into_string().unwrap_or_default());
                    s.created = true;
                    s.closed = false;
                    s.devices.clear();
                    s.held.clear();
                    s.done.clear();
                    let uid = rustix::process::geteuid().as_raw();
                    let key = created_name.unwrap_or_default();
                    s.peer = ControlRegion::open(uid, &key, Access::Owner)
                        .ok()
                        .map(|control| {
                            control.set_server_pid(std::process::id());
                            Peer {
                                control,
                                buffer: None,
                                next_id: 0,
                            }
                        });
                    if matches!(name, Name::Other) {
                        self.names.push(key);
                    }
                }
            }
            Op::GetConfiguration { set, null_out } => {
                let Some(s) = self.set(set) else { return };
                let mut cfg = VdConfig::default();
                let out: *mut VdConfig = if null_out {
                    std::ptr::null_mut()
                } else {
                    &mut cfg
                };
                // SAFETY: a live set; out NULL or valid.
                let rc = timed("vdisim_set_get_configuration", || unsafe {
                    vdisim_set_get_configuration(s.ptr.cast(), 0, out.cast())
                });
                if null_out {
                    assert_eq!(rc, invalid());
                }
            }
            Op::OpenDevice {
                set,
                device,
                null_name,
                null_out,
            } => {
                let Some(s) = self.set(set) else { return };
                let name = (!null_name).then(|| CString::new(format!("dev{}", device % 4)).ok());
                let name = name.flatten();
                let mut out = std::ptr::null_mut();
                let out_ptr: *mut *mut _ = if null_out {
                    std::ptr::null_mut()
                } else {
                    &mut out
                };
                // SAFETY: a live set; name NULL or a C string; out NULL or valid.
                let rc = timed("vdisim_set_open_device", || unsafe {
                    vdisim_set_open_device(s.ptr.cast(), ptr(&name), out_ptr)
                });
                if null_name || null_out {
                    assert_eq!(rc, invalid());
                }
                if rc == 0 {
                    assert!(!out.is_null());
                    s.devices.push(out.cast());
                }
            }
            Op::SignalAbort(i) => {
                let Some(s) = self.set(i) else { return };
                // SAFETY: a live set.
                timed("vdisim_set_signal_abort", || unsafe {
                    vdisim_set_signal_abort(s.ptr.cast())
                });
            }
            Op::Close(i) => {
                let Some(s) = self.set(i) else { return };
                // SAFETY: a live set.
                let rc = timed("vdisim_set_close", || unsafe {
                    vdisim_set_close(s.ptr.cast())
                });
                if s.created && !s.closed {
                    assert_ne!(rc, VdCode::Protocol.linux_code(), "Close of an open set");
                }
                if s.created {
                    s.closed = true;
                    s.created = false;
                    s.peer = None;
                }
            }
            Op::OpenInSecondary { set, name } => {
                let Some(s) = self.set(set) else { return };
                let cname = c_name(name, &s.name);
                // SAFETY: a live set; the name NULL or a C string.
                let rc = timed("vdisim_set_open_in_secondary", || unsafe {
                    vdisim_set_open_in_secondary(s.ptr.cast(), ptr(&cname))
                });
                if cname.is_none() {
                    assert_eq!(rc, invalid());
                }
                if rc == 0 {
                    // A secondary of another set object: this object is now open too.
                    s.created = true;
                    s.closed = false;
                }
            }
            Op::NullObject(which) => {
                let null = std::ptr::null_mut();
                let mut h = 0u64;
                let mut cfg = VdConfig::default();
                let name = CString::new("x").expect("no NUL");
                // SAFETY: NULL objects are documented to give VD_E_INVALID; the other
                // pointers are valid.
                let rc = unsafe {
                    match which % 8 {
                        0 => {
                            vdisim_set_create(null, name.as_ptr(), (&cfg as *const VdConfig).cast())
                        }
                        1 => vdisim_set_get_configuration(
                            null,
                            0,
                            (&mut cfg as *mut VdConfig).cast(),
                        ),
                        2 => vdisim_set_open_device(null, name.as_ptr(), &mut std::ptr::null_mut()),
                        3 => vdisim_set_signal_abort(null),
                        4 => vdisim_set_close(null),
                        5 => vdisim_set_open_in_secondary(null, name.as_ptr()),
                        6 => vdisim_device_get_command(null, 0, &mut h, std::ptr::null_mut()),
                        _ => vdisim_device_complete_command(null, 1, 0, 0, 0),
                    }
                };
                assert_eq!(rc, invalid(), "a NULL object");
                codes_ok(rc, "NULL object");
                // SAFETY: freeing NULL is documented as fine.
                unsafe { vdisim_set_free(null) };
            }
            Op::GetCommand {
                set,
                device,
                null_out,
                null_info,
            } => {
                let Some(s) = self.set(set) else { return };
                if s.devices.is_empty() {
                    return;
                }
                let d = usize::from(device) % s.devices.len();
                let mut handle = u64::MAX;
                let mut info = [0u8; 24];
                let out: *mut u64 = if null_out {
                    std::ptr::null_mut()
                } else {
                    &mut handle
                };
                let info_ptr: *mut u8 = if null_info {
                    std::ptr::null_mut()
                } else {
                    info.as_mut_ptr()
                };
                // SAFETY: a device of a live set; out and info NULL or valid (24 bytes).
                let rc = timed("vdisim_device_get_command", || unsafe {
                    vdisim_device_get_command(s.devices[d].cast(), 0, out, info_ptr.cast())
                });
                if null_out {
                    assert_eq!(rc, invalid());
                } else if rc == 0 {
                    assert_ne!(handle, 0, "0 is never a command handle");
                    assert!(!s.closed || s.created, "a command after Close");
                    s.held.push((d, handle));
                } else {
                    assert_eq!(handle, 0, "a failed GetCommand leaves 0");
                }
                if s.closed && !s.created {
                    assert_ne!(rc, 0, "GetCommand on a device after Close");
                }
            }
            Op::Complete {
                set,
                device,
                pick,
                code,
                bytes,
                forge,
            } => {
                let Some(s) = self.set(set) else { return };
                if s.devices.is_empty() {
                    return;
                }
                let (d, handle, forged) = match forge {
                    Some(h) => (usize::from(device) % s.devices.len(), h, true),
                    None if !s.held.is_empty() => {
                        let (d, h) = s.held.remove(usize::from(pick) % s.held.len());
                        (d, h, false)
                    }
                    None => return,
                };
                // SAFETY: a device of a live set; any handle value is allowed.
                let rc = timed("vdisim_device_complete_command", || unsafe {
                    vdisim_device_complete_command(
                        s.devices[d].cast(),
                        handle,
                        code,
                        u64::from(bytes),
                        0,
                    )
                });
                if forged && handle == 0 {
                    assert_ne!(rc, 0, "handle 0 completed");
                }
                if s.closed && !s.created {
                    assert_ne!(rc, 0, "CompleteCommand after Close");
                }
                if rc == 0 && !forged {
                    s.done.push((d, handle));
                }
            }
            Op::CompleteAgain { set, pick } => {
                let Some(s) = self.set(set) else { return };
                if s.done.is_empty() {
                    return;
                }
                let (d, handle) = s.done[usize::from(pick) % s.done.len()];
                // SAFETY: a device of a live set; a handle completed before.
                let rc = timed("vdisim_device_complete_command (again)", || unsafe {
                    vdisim_device_complete_command(s.devices[d].cast(), handle, 0, 0, 0)
                });
                assert_ne!(rc, 0, "a command completed twice");
            }
            Op::ResultMessage { code, len, null } => {
                let mut buf = vec![0u8; usize::from(len)];
                let p: *mut c_char = if null {
                    std::ptr::null_mut()
                } else {
                    buf.as_mut_ptr().cast()
                };
                let l = if null { 0 } else { buf.len() };
                // SAFETY: buf is NULL or writable for len bytes.
                let n = unsafe { vdisim_result_message(code, p, l) };
                assert!(n >= 0);
                if l > 0 {
                    assert!(buf.contains(&0), "not NUL-terminated");
                }
            }
            Op::LastRule { len, null } => {
                let mut buf = vec![0u8; usize::from(len)];
                let p: *mut c_char = if null {
                    std::ptr::null_mut()
                } else {
                    buf.as_mut_ptr().cast()
                };
                let l = if null { 0 } else { buf.len() };
                // SAFETY: buf is NULL or writable for len bytes.
                let n = unsafe { vdisim_last_rule(p, l) };
                assert!(n >= 0);
                if l > 0 {
                    assert!(buf.contains(&0), "not NUL-terminated");
                }
            }
            Op::Configure { set, area_kib } => {
                let Some(s) = self.set(set) else { return };
                let Some(peer) = s.peer.as_mut() else { return };
                configure(peer, area_kib);
            }
            Op::Push {
                set,
                device,
                code,
                blocks,
                at,
            } => {
                let Some(s) = self.set(set) else { return };
                let Some(peer) = s.peer.as_mut() else { return };
                let n = peer.control.geometry().device_count;
                peer.next_id += 1;
                let id = CmdId {
                    slot: peer.next_id,
                    generation: 1,
                };
                let code = VdcCode::from_u32(u32::from(code % 20)).unwrap_or(VdcCode::Write);
                let size = if code.transfers_data() {
                    u32::from(blocks % 16) * 512
                } else {
                    0
                };
                let desc = CommandDesc::new(id, code, size, 0, u64::from(at % 64) * 512);
                if let Some(d) = peer
                    .control
                    .device(DeviceIndex((u32::from(device) % n) as u16))
                    && d.commands().push(&desc).is_ok()
                {
                    d.command_event().unpark();
                }
            }
            Op::PushClose { set, device } => {
                let Some(s) = self.set(set) else { return };
                let Some(peer) = s.peer.as_mut() else { return };
                let n = peer.control.geometry().device_count;
                if let Some(d) = peer
                    .control
                    .device(DeviceIndex((u32::from(device) % n) as u16))
                {
                    let _ = d.commands().push(&CommandDesc::close_marker());
                    d.command_event().unpark();
                }
            }
            Op::PeerAbort(i) => {
                if let Some(peer) = self.set(i).and_then(|s| s.peer.as_ref()) {
                    peer.control.signal_abort();
                }
            }
            Op::CppConstruct => {
                if self.cpp.len() >= 4 {
                    return;
                }
                let mut storage = Box::new(0u64);
                let this: *mut u64 = &mut *storage;
                // SAFETY: 8 writable bytes for the object.
                unsafe { cvds_construct_c1(this.cast()) };
                self.cpp.push(storage);
            }
            Op::CppGarbage(value) => {
                if self.cpp.len() >= 4 {
                    return;
                }
                // Storage the library never constructed: every call must refuse it. A handle
                // is `generation << 32 | slot`; generation 0 or a slot past 2^31 never names a
                // live object, so the garbage cannot alias one of this harness's objects.
                let value = if value >> 32 == 0 {
                    value
                } else {
                    value | 0x8000_0000
                };
                self.cpp.push(Box::new(value));
            }
            Op::CppDestroy(i) | Op::CppStale(i) => {
                if self.cpp.is_empty() {
                    return;
                }
                let k = usize::from(i) % self.cpp.len();
                let handle = *self.cpp[k];
                let this: *mut u64 = &mut *self.cpp[k];
                // SAFETY: 8 bytes of object storage; a dead or foreign object is refused.
                unsafe { cvds_destroy_d1(this.cast()) };
                // The set's devices are freed with it.
                self.cpp_devices.retain(|(owner, _)| *owner != handle);
                if matches!(op, Op::CppStale(_)) {
                    // The object keeps its old, now stale, handle.
                    *self.cpp[k] = handle;
                }
            }
            Op::CppCall {
                object,
                call,
                device,
            } => {
                if self.cpp.is_empty() {
                    return;
                }
                let k = usize::from(object) % self.cpp.len();
                let this: *mut u64 = &mut *self.cpp[k];
                let name = CString::new(format!("cpp-{}-{k}", std::process::id())).expect("no NUL");
                let mut cfg = VdConfig::with_devices(1);
                let mut dev = std::ptr::null_mut();
                // SAFETY: `this` is 8 bytes of object storage (live, dead or never
                // constructed: the library must tell); the other pointers are valid.
                let rc = unsafe {
                    match call % 6 {
                        0 => cvds_create(this.cast(), name.as_ptr().cast_mut(), &mut cfg),
                        1 => cvds_get_configuration(this.cast(), 0, &mut cfg),
                        2 => {
                            let dname = CString::new("dev0").expect("no NUL");
                            let rc =
                                cvds_open_device(this.cast(), dname.as_ptr().cast_mut(), &mut dev);
                            if rc == 0 && !dev.is_null() {
                                self.cpp_devices.push((*self.cpp[k], dev.cast()));
                            }
                            rc
                        }
                        3 => cvds_signal_abort(this.cast()),
                        4 => cvds_close(this.cast()),
                        _ => {
                            if self.cpp_devices.is_empty() {
                                0
                            } else {
                                let (_, d) =
                                    self.cpp_devices[usize::from(device) % self.cpp_devices.len()];
                                let mut cmd = std::ptr::null_mut();
                                let rc = cvd_get_command(d.cast(), 0, &mut cmd);
                                codes_ok(rc, "ClientVirtualDevice::GetCommand");
                                if rc == 0 {
                                    cvd_complete_command(d.cast(), cmd, 0, 0, 0)
                                } else {
                                    cvd_complete_command(d.cast(), std::ptr::null_mut(), 0, 0, 0)
                                }
                            }
                        }
                    }
                };
                codes_ok(rc, "C++ call");
                let _ = name;
            }
        }
    }
}

fn configure(peer: &mut Peer, area_kib: u8) {
    let control = &peer.control;
    let uid = rustix::process::geteuid().as_raw();
    let mut cfg = control.requested_config();
    let area = (u64::from(area_kib % 64) + 32) * 1024;
    cfg.max_transfer_size = 65536;
    cfg.buffer_area_size = area as u32;
    cfg.block_size = 512;
    control.set_negotiated_config(&cfg);
    for i in 0..control.geometry().device_count {
        let _ = control.set_device_name(DeviceIndex(i as u16), &format!("dev{i}"));
    }
    if peer.buffer.is_none()
        && let Some(set) = control.set_name()
        && let Ok(nonce) = vdi_shm::naming::BufferNonce::random()
        && let Ok(b) = BufferRegion::create(uid, &set, 1, nonce, area, Access::Owner)
    {
        peer.buffer = Some(b);
    }
    if let Some(b) = &peer.buffer {
        control.publish_buffer(&b.info());
    }
    control.set_state().fetch_or(
        words::set::CONNECTED | words::set::CONFIGURED,
        Ordering::SeqCst,
    );
    control.state_events().notify_all();
}

impl Drop for Harness {
    fn drop(&mut self) {
        for set in self.sets.drain(..) {
            drop(set.peer);
            // SAFETY: a set from vdisim_set_new, freed once.
            unsafe { vdisim_set_free(set.ptr.cast()) };
        }
        for mut storage in self.cpp.drain(..) {
            let this: *mut u64 = &mut *storage;
            // SAFETY: object storage; destroying a dead or foreign object is refused.
            unsafe { cvds_destroy_d1(this.cast()) };
        }
        // Whatever a failed check or a forgotten Close left behind.
        let uid = rustix::process::geteuid().as_raw();
        for name in self.names.drain(..) {
            // A buffer region's name is unguessable now; its owner (the peer, dropped above)
            // removed it. Only a control region can be left by name.
            if let Ok(region) = region_name(uid, &name, RegionKind::Control) {
                let _ = std::fs::remove_file(format!("/dev/shm{region}"));
            }
        }
    }
}

fuzz_target!(|ops: Vec<Op>| {
    let mut h = Harness {
        sets: Vec::new(),
        cpp: Vec::new(),
        cpp_devices: Vec::new(),
        names: Vec::new(),
    };
    for op in ops.into_iter().take(MAX_OPS) {
        h.apply(op);
    }
    drop(h);
    // C++ objects made by the harness use the name cpp-<pid>-<k>.
    let uid = rustix::process::geteuid().as_raw();
    for k in 0..4 {
        if let Ok(region) = region_name(
            uid,
            &format!("cpp-{}-{k}", std::process::id()),
            RegionKind::Control,
        ) {
            let _ = std::fs::remove_file(format!("/dev/shm{region}"));
        }
    }
});
