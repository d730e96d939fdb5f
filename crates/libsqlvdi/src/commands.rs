//! The `VDC_Command` records a device hands out, and how completions find them again.
//!
//! GetCommand copies each command into a library-owned record with a stable address and
//! returns that address (C++) or a generational handle (C). CompleteCommand finds the record
//! by comparing addresses or handles with live records, so an unknown pointer is never
//! dereferenced. A completed record keeps the command's handle until it is reused, so a second
//! completion reaches `vdi_client` and gets its verdict (VD_E_INVALID, rule VDI-COMPLETE-002).
//! Freed records are reused oldest first and only once [`QUARANTINE`] others are free: a
//! pointer completed twice in a row is always caught; one kept for much longer can only alias
//! a newer command (the handles of the C API never alias).

use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use vdi_client::Command;
use vdi_proto::{CommandHandle, VdcCommand};

/// How many freed records wait before one is reused.
pub(crate) const QUARANTINE: usize = 64;
const SLOT_BITS: u32 = 16;
const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;
const MAX_SLOTS: usize = 1 << SLOT_BITS;

/// Process-wide, so a handle from one device never names a command of another.
static SERIAL: AtomicU64 = AtomicU64::new(1);

fn next_serial() -> u64 {
    loop {
        let s = SERIAL.fetch_add(1, Ordering::Relaxed) & (u64::MAX >> SLOT_BITS);
        if s != 0 {
            return s;
        }
    }
}

/// The memory a `VDC_Command*` points at.
#[derive(Debug)]
struct Record(UnsafeCell<VdcCommand>);

// SAFETY: the record holds plain data; its `buffer` is only an address (into a mapping kept
// alive by the command's own `Arc`) that Rust never dereferences. The library writes a record
// only under its table's mutex; the application reads it, as the SDK allows.
unsafe impl Send for Record {}

#[derive(Debug)]
struct Slot {
    record: Box<Record>,
    serial: u64,
    live: Option<Command>,
    last: Option<CommandHandle>,
}

/// How a completion names its command.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Key {
    /// The `VDC_Command*` the C++ API handed out.
    Address(usize),
    /// The `vdisim_command` the C API handed out.
    Handle(u64),
}

/// What a key names in one table.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Found {
    /// An outstanding command.
    Live {
        handle: CommandHandle,
        slot: usize,
        serial: u64,
    },
    /// A command that was completed already (its record is not reused yet).
    Retired(CommandHandle),
    /// Nothing of this table.
    Unknown,
}

/// One device's records.
#[derive(Debug, Default)]
pub(crate) struct CommandTable {
    slots: Vec<Slot>,
    free: VecDeque<usize>,
}

impl CommandTable {
    /// Records `cmd`; returns the `VDC_Command*` and the generational handle for it.
    pub(crate) fn insert(&mut self, cmd: Command) -> (*mut VdcCommand, u64) {
        let view = VdcCommand {
            command_code: cmd.code() as i32,
            size: cmd.size() as i32,
            position: cmd.position() as i64,
            buffer: cmd.buffer_address().unwrap_or(std::ptr::null_mut()),
        };
        let index = match self.free.front() {
            Some(&i) if self.free.len() > QUARANTINE || self.slots.len() >= MAX_SLOTS => {
                self.free.pop_front();
                i
            }
            _ => {
                assert!(
                    self.slots.len() < MAX_SLOTS,
                    "too many outstanding commands"
                );
                self.slots.push(Slot {
                    record: Box::new(Record(UnsafeCell::new(view))),
                    serial: 0,
                    live: None,
                    last: None,
                });
                self.slots.len() - 1
            }
        };
        let serial = next_serial();
        let slot = &mut self.slots[index];
        let ptr = slot.record.0.get();
        // SAFETY: `ptr` points into a live Box owned by this table, which we hold mutably;
        // the application may read it, and reading a record it already completed is its bug.
        unsafe { ptr.write(view) };
        slot.serial = serial;
        slot.last = Some(cmd.handle());
        slot.live = Some(cmd);
        (ptr, (serial << SLOT_BITS) | index as u64)
    }

    /// Looks `key` up among this table's records (addresses are compared, never read).
    pub(crate) fn find(&self, key: Key) -> Found {
        let found = match key {
            Key::Address(a) => self
                .slots
                .iter()
                .position(|s| s.record.0.get() as usize == a),
            Key::Handle(h) => {
                let index = (h & SLOT_MASK) as usize;
                self.slots
                    .get(index)
                    .filter(|s| s.serial == h >> SLOT_BITS && s.serial != 0)
                    .map(|_| index)
            }
        };
        let Some(index) = found else {
            return Found::Unknown;
        };
        let slot = &self.slots[index];
        match (&slot.live, slot.last) {
            (Some(cmd), _) => Found::Live {
                handle: cmd.handle(),
                slot: index,
                serial: slot.serial,
            },
            (None, Some(last)) => Found::Retired(last),
            (None, None) => Found::Unknown,
        }
    }

    /// Frees the record of a command that completed (if it still holds that command).
    pub(crate) fn retire(&mut self, slot: usize, serial: u64) {
        if let Some(s) = self.slots.get_mut(slot)
            && s.serial == serial
            && s.live.take().is_some()
        {
            self.free.push_back(slot);
        }
    }

    /// Drops every record (the device is retired; its commands can no longer complete).
    pub(crate) fn clear(&mut self) {
        self.slots.clear();
        self.free.clear();
    }
}
