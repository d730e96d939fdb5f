//! Single-producer single-consumer descriptor rings.
//!
//! Per device there is a command ring (server → client) and a completion ring
//! (client → server). Indices are free-running `u64` counters (`head` written by the consumer,
//! `tail` by the producer), each on its own cache line. Bit 63 of `tail` is the *closed mark*
//! (crossbeam's disconnect bit): once set, every later `push` fails with
//! [`PushError::Closed`], so "drain on abort" accounts every descriptor exactly once: a push
//! either landed before the mark (and is drained) or failed.
//!
//! Everything read from the peer is validated: `tail - head` within the capacity, codes, flags,
//! ids and buffer ranges. A bad value is a [`PeerFault`], never UB or a panic. A descriptor is
//! copied out of its slot before the slot is released (head advanced); validation runs on the
//! copy.

use crate::error::PeerFault;
use crate::padded::Padded;
use crate::sync::{AtomicU32, AtomicU64, Ordering, SlotCell};
use vdi_proto::{CmdId, VdcCode};

/// Closed mark in the producer index.
const CLOSED: u64 = 1 << 63;
/// Largest ring capacity accepted from a header.
pub const MAX_CAPACITY: u32 = 1024;
/// Default capacity (the brief's default; ≥ the fixed server maxIODepth of 4).
pub const DEFAULT_CAPACITY: u32 = 16;

/// Descriptor flag: this command-ring entry is the server's CloseDevice marker.
pub const CLOSE_MARKER: u32 = 1;
const KNOWN_FLAGS: u32 = CLOSE_MARKER;

/// A command descriptor as stored in the command ring (40 bytes, `#[repr(C)]`).
///
/// In the ring it is five 64-bit words in this field order (little-endian packing of
/// `code|flags` and `size|reserved`), which is also the `#[repr(C)]` layout on x86_64.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct CommandDesc {
    /// `CmdId::to_u64` (0 for the close marker).
    pub id: u64,
    /// `VdcCode` as u32 (0 for the close marker).
    pub code: u32,
    /// [`CLOSE_MARKER`] or 0.
    pub flags: u32,
    /// Bytes of the buffer the command uses.
    pub size: u32,
    /// Always 0.
    pub reserved: u32,
    /// Media position (disk mode, SetPosition).
    pub position: u64,
    /// Offset of the data buffer within the buffer region's data area.
    pub buffer_offset: u64,
}

/// A completion descriptor as stored in the completion ring (24 bytes, `#[repr(C)]`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct CompletionDesc {
    /// The completed command's `CmdId::to_u64`.
    pub id: u64,
    /// Win32 completion code.
    pub completion_code: u32,
    /// Bytes the client transferred.
    pub bytes_transferred: u32,
    /// Position reported back (GetPosition).
    pub position: u64,
}

/// Words per command slot.
pub const COMMAND_WORDS: usize = 5;
/// Words per completion slot.
pub const COMPLETION_WORDS: usize = 3;

#[cfg(not(loom))]
const _: () = {
    assert!(std::mem::size_of::<CommandDesc>() == COMMAND_WORDS * 8);
    assert!(std::mem::size_of::<CompletionDesc>() == COMPLETION_WORDS * 8);
    assert!(std::mem::offset_of!(CommandDesc, position) == 24);
    assert!(std::mem::offset_of!(CompletionDesc, position) == 16);
};

impl CommandDesc {
    /// The close marker that CloseDevice appends after the last command.
    pub fn close_marker() -> CommandDesc {
        CommandDesc {
            flags: CLOSE_MARKER,
            ..CommandDesc::default()
        }
    }

    /// A descriptor for a live command.
    pub fn new(id: CmdId, code: VdcCode, size: u32, position: u64, buffer_offset: u64) -> Self {
        CommandDesc {
            id: id.to_u64(),
            code: code as u32,
            flags: 0,
            size,
            reserved: 0,
            position,
            buffer_offset,
        }
    }

    fn to_words(self) -> [u64; COMMAND_WORDS] {
        [
            self.id,
            u64::from(self.code) | (u64::from(self.flags) << 32),
            u64::from(self.size) | (u64::from(self.reserved) << 32),
            self.position,
            self.buffer_offset,
        ]
    }

    fn from_words(w: &[u64; COMMAND_WORDS]) -> CommandDesc {
        CommandDesc {
            id: w[0],
            code: w[1] as u32,
            flags: (w[1] >> 32) as u32,
            size: w[2] as u32,
            reserved: (w[2] >> 32) as u32,
            position: w[3],
            buffer_offset: w[4],
        }
    }

    /// Validates a descriptor read from the peer.
    pub fn validate(&self, limits: &CommandLimits) -> Result<Delivered, PeerFault> {
        if self.flags & !KNOWN_FLAGS != 0 || self.reserved != 0 {
            return Err(PeerFault::BadFlags(self.flags));
        }
        if self.flags & CLOSE_MARKER != 0 {
            if self.code != 0 {
                return Err(PeerFault::BadCode(self.code));
            }
            return Ok(Delivered::CloseMarker);
        }
        let id = CmdId::from_u64(self.id).ok_or(PeerFault::BadId(self.id))?;
        let code = VdcCode::from_u32(self.code).ok_or(PeerFault::BadCode(self.code))?;
        let bad_buffer = PeerFault::BadBuffer {
            offset: self.buffer_offset,
            size: self.size,
            area: limits.buffer_area,
        };
        if self.size > limits.max_transfer {
            return Err(bad_buffer);
        }
        if self.size > 0 {
            match self.buffer_offset.checked_add(u64::from(self.size)) {
                Some(end) if end <= limits.buffer_area => {}
                _ => return Err(bad_buffer),
            }
        }
        Ok(Delivered::Command(Command {
            id,
            code,
            size: self.size,
            position: self.position,
            buffer_offset: if self.size > 0 { self.buffer_offset } else { 0 },
        }))
    }
}

impl CompletionDesc {
    /// A completion of `id`.
    pub fn new(id: CmdId, completion_code: u32, bytes_transferred: u32, position: u64) -> Self {
        CompletionDesc {
            id: id.to_u64(),
            completion_code,
            bytes_transferred,
            position,
        }
    }

    fn to_words(self) -> [u64; COMPLETION_WORDS] {
        [
            self.id,
            u64::from(self.completion_code) | (u64::from(self.bytes_transferred) << 32),
            self.position,
        ]
    }

    fn from_words(w: &[u64; COMPLETION_WORDS]) -> CompletionDesc {
        CompletionDesc {
            id: w[0],
            completion_code: w[1] as u32,
            bytes_transferred: (w[1] >> 32) as u32,
            position: w[2],
        }
    }

    /// Validates a descriptor read from the peer (the id; codes and byte counts are checked
    /// against the command by the server state machine).
    pub fn validate(&self) -> Result<Completion, PeerFault> {
        let id = CmdId::from_u64(self.id).ok_or(PeerFault::BadId(self.id))?;
        Ok(Completion {
            id,
            completion_code: self.completion_code,
            bytes_transferred: self.bytes_transferred,
            position: self.position,
        })
    }
}

/// Bounds a command must respect (from the negotiated configuration and the buffer region).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandLimits {
    /// Size of the buffer region's data area (0 before the buffer region exists).
    pub buffer_area: u64,
    /// maxTransferSize.
    pub max_transfer: u32,
}

/// A validated command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Command {
    /// Its id (generation ≠ 0).
    pub id: CmdId,
    /// Its code.
    pub code: VdcCode,
    /// Buffer bytes.
    pub size: u32,
    /// Media position.
    pub position: u64,
    /// Buffer offset in the data area (0 when `size == 0`); `buffer_offset + size` is in bounds.
    pub buffer_offset: u64,
}

/// What the command ring delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivered {
    /// A command.
    Command(Command),
    /// The server closed the device; every earlier command has been delivered.
    CloseMarker,
}

/// A validated completion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completion {
    /// The completed command (generation ≠ 0; the server checks it is outstanding).
    pub id: CmdId,
    /// Win32 completion code.
    pub completion_code: u32,
    /// Bytes transferred.
    pub bytes_transferred: u32,
    /// Position.
    pub position: u64,
}

/// Result of a pop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Popped<T> {
    /// An entry.
    Item(T),
    /// Nothing yet.
    Empty,
    /// Nothing, and the ring is closed (nothing will ever arrive).
    Closed,
}

/// Why a push failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    /// The ring is full (the sender exceeded maxIODepth).
    #[error("ring full")]
    Full,
    /// The ring was closed (abort / close); the entry was not delivered.
    #[error("ring closed")]
    Closed,
    /// The handle belongs to an earlier generation; the ring was not touched.
    #[error("stale handle")]
    Stale,
    /// The peer corrupted the indices.
    #[error(transparent)]
    Fault(#[from] PeerFault),
}

/// The index/slot machinery shared by both rings.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RawRing<'a> {
    head: &'a AtomicU64,
    tail: &'a AtomicU64,
    slots: &'a [SlotCell],
    capacity: u32,
    words: usize,
}

impl<'a> RawRing<'a> {
    /// `slots.len()` must be `capacity * words` and `capacity` a power of two (checked by the
    /// region geometry before any view exists).
    pub(crate) fn new(
        head: &'a AtomicU64,
        tail: &'a AtomicU64,
        slots: &'a [SlotCell],
        capacity: u32,
        words: usize,
    ) -> RawRing<'a> {
        debug_assert!(capacity.is_power_of_two());
        debug_assert_eq!(slots.len(), capacity as usize * words);
        RawRing {
            head,
            tail,
            slots,
            capacity,
            words,
        }
    }

    fn slot(&self, index: u64) -> &'a [SlotCell] {
        let i = (index as usize) & (self.capacity as usize - 1);
        // In bounds by construction: i < capacity and slots.len() == capacity * words; `get`
        // keeps a geometry bug from becoming UB (an empty slice reads as zeros).
        self.slots
            .get(i * self.words..(i + 1) * self.words)
            .unwrap_or(&[])
    }

    fn check(&self, head: u64, tail: u64) -> Result<u64, PeerFault> {
        let len = tail.wrapping_sub(head);
        if len > u64::from(self.capacity) {
            return Err(PeerFault::BadIndex {
                head,
                tail,
                capacity: self.capacity,
            });
        }
        Ok(len)
    }

    fn push(&self, words: &[u64]) -> Result<(), PushError> {
        let tail = self.tail.load(Ordering::Acquire);
        if tail & CLOSED != 0 {
            return Err(PushError::Closed);
        }
        let head = self.head.load(Ordering::Acquire);
        if self.check(head, tail)? == u64::from(self.capacity) {
            return Err(PushError::Full);
        }
        for (cell, w) in self.slot(tail).iter().zip(words) {
            cell.store(*w);
        }
        match self.tail.compare_exchange(
            tail,
            tail.wrapping_add(1) & !CLOSED,
            Ordering::Release,
            Ordering::Acquire,
        ) {
            Ok(_) => Ok(()),
            Err(now) if now & CLOSED != 0 => Err(PushError::Closed),
            // Only this producer moves the tail: someone scribbled on it.
            Err(now) => Err(PushError::Fault(PeerFault::BadIndex {
                head,
                tail: now,
                capacity: self.capacity,
            })),
        }
    }

    /// The producer's index with its closed mark: it changes with every push and with close.
    fn pushed(&self) -> u64 {
        self.tail.load(Ordering::Acquire)
    }

    fn pop(&self, out: &mut [u64]) -> Result<Popped<()>, PeerFault> {
        let head = self.head.load(Ordering::Acquire);
        let raw_tail = self.tail.load(Ordering::Acquire);
        let tail = raw_tail & !CLOSED;
        if self.check(head, tail)? == 0 {
            return Ok(if raw_tail & CLOSED != 0 {
                Popped::Closed
            } else {
                Popped::Empty
            });
        }
        for (o, cell) in out.iter_mut().zip(self.slot(head)) {
            *o = cell.load();
        }
        // Copied out: release the slot to the producer.
        self.head.store(head.wrapping_add(1), Ordering::Release);
        Ok(Popped::Item(()))
    }

    /// A deliberately broken pop that releases the slot before copying it out, so the loom
    /// models can show that they catch a read after release.
    #[cfg(loom)]
    fn pop_releasing_early(&self, out: &mut [u64]) -> bool {
        let head = self.head.load(Ordering::Acquire);
        let tail = self.tail.load(Ordering::Acquire) & !CLOSED;
        if tail == head {
            return false;
        }
        self.head.store(head.wrapping_add(1), Ordering::Release);
        for (o, cell) in out.iter_mut().zip(self.slot(head)) {
            *o = cell.load();
        }
        true
    }

    fn close(&self) {
        self.tail.fetch_or(CLOSED, Ordering::SeqCst);
    }

    fn is_closed(&self) -> bool {
        self.tail.load(Ordering::Acquire) & CLOSED != 0
    }

    fn len(&self) -> Result<u32, PeerFault> {
        let head = self.head.load(Ordering::Acquire);
        let tail = self.tail.load(Ordering::Acquire) & !CLOSED;
        self.check(head, tail).map(|l| l as u32)
    }
}

/// The command ring of one device: the server pushes, the client pops.
#[derive(Clone, Copy, Debug)]
pub struct CommandRing<'a>(pub(crate) RawRing<'a>);

impl CommandRing<'_> {
    /// Server: appends a command (or the close marker). The caller then unparks the client.
    pub fn push(&self, desc: &CommandDesc) -> Result<(), PushError> {
        self.0.push(&desc.to_words())
    }

    /// Client: takes the next command, validated against `limits`.
    pub fn pop(&self, limits: &CommandLimits) -> Result<Popped<Delivered>, PeerFault> {
        let mut w = [0u64; COMMAND_WORDS];
        Ok(match self.0.pop(&mut w)? {
            Popped::Item(()) => Popped::Item(CommandDesc::from_words(&w).validate(limits)?),
            Popped::Empty => Popped::Empty,
            Popped::Closed => Popped::Closed,
        })
    }

    /// Marks the ring closed: later pushes fail with [`PushError::Closed`].
    pub fn close(&self) {
        self.0.close()
    }

    /// Broken on purpose (releases the slot before reading it); only for the loom models.
    #[cfg(loom)]
    #[doc(hidden)]
    pub fn pop_releasing_early_for_model(&self) -> Option<CommandDesc> {
        let mut w = [0u64; COMMAND_WORDS];
        self.0
            .pop_releasing_early(&mut w)
            .then(|| CommandDesc::from_words(&w))
    }

    /// Whether the closed mark is set.
    pub fn is_closed(&self) -> bool {
        self.0.is_closed()
    }

    /// A value that changes with every push and with close: one load, no validation, for a
    /// spinning waiter to learn cheaply that a full look is worth it.
    pub fn pushed(&self) -> u64 {
        self.0.pushed()
    }

    /// Entries waiting.
    pub fn len(&self) -> Result<u32, PeerFault> {
        self.0.len()
    }

    /// Whether no entry is waiting.
    pub fn is_empty(&self) -> Result<bool, PeerFault> {
        self.len().map(|l| l == 0)
    }

    /// The capacity.
    pub fn capacity(&self) -> u32 {
        self.0.capacity
    }
}

/// The completion ring of one device: the client pushes, the server pops.
#[derive(Clone, Copy, Debug)]
pub struct CompletionRing<'a>(pub(crate) RawRing<'a>);

impl CompletionRing<'_> {
    /// Client: appends a completion. The caller then unparks the server.
    pub fn push(&self, desc: &CompletionDesc) -> Result<(), PushError> {
        self.0.push(&desc.to_words())
    }

    /// Client: appends a completion only if `epoch` still equals `expected` (the generation of
    /// the command handle). A stale handle returns [`PushError::Stale`] before any slot or
    /// index is touched.
    pub fn push_if_current(
        &self,
        epoch: &AtomicU32,
        expected: u32,
        desc: &CompletionDesc,
    ) -> Result<(), PushError> {
        if epoch.load(Ordering::Acquire) != expected {
            return Err(PushError::Stale);
        }
        self.push(desc)
    }

    /// Server: takes the next completion (id validated).
    pub fn pop(&self) -> Result<Popped<Completion>, PeerFault> {
        let mut w = [0u64; COMPLETION_WORDS];
        Ok(match self.0.pop(&mut w)? {
            Popped::Item(()) => Popped::Item(CompletionDesc::from_words(&w).validate()?),
            Popped::Empty => Popped::Empty,
            Popped::Closed => Popped::Closed,
        })
    }

    /// Server, on abort: closes the ring so that later client pushes fail, then the caller pops
    /// until [`Popped::Closed`]; every command not seen is completed as aborted.
    pub fn close(&self) {
        self.0.close()
    }

    /// Whether the closed mark is set.
    pub fn is_closed(&self) -> bool {
        self.0.is_closed()
    }

    /// Entries waiting.
    pub fn len(&self) -> Result<u32, PeerFault> {
        self.0.len()
    }

    /// Whether no entry is waiting.
    pub fn is_empty(&self) -> Result<bool, PeerFault> {
        self.len().map(|l| l == 0)
    }

    /// The capacity.
    pub fn capacity(&self) -> u32 {
        self.0.capacity
    }
}

/// A heap-backed ring for in-process use: unit tests, loom models, and an in-process set.
#[derive(Debug)]
pub struct LocalRing {
    head: Padded<AtomicU64>,
    tail: Padded<AtomicU64>,
    slots: Box<[SlotCell]>,
    capacity: u32,
    words: usize,
}

impl LocalRing {
    fn with_words(capacity: u32, words: usize) -> LocalRing {
        assert!(
            capacity.is_power_of_two() && capacity <= MAX_CAPACITY,
            "ring capacity must be a power of two ≤ {MAX_CAPACITY}"
        );
        LocalRing {
            head: Padded(AtomicU64::new(0)),
            tail: Padded(AtomicU64::new(0)),
            slots: (0..capacity as usize * words)
                .map(|_| SlotCell::new(0))
                .collect(),
            capacity,
            words,
        }
    }

    /// A command ring of `capacity` (a power of two) entries.
    pub fn commands(capacity: u32) -> LocalRing {
        LocalRing::with_words(capacity, COMMAND_WORDS)
    }

    /// A completion ring of `capacity` (a power of two) entries.
    pub fn completions(capacity: u32) -> LocalRing {
        LocalRing::with_words(capacity, COMPLETION_WORDS)
    }

    fn raw(&self) -> RawRing<'_> {
        RawRing::new(
            &self.head,
            &self.tail,
            &self.slots,
            self.capacity,
            self.words,
        )
    }

    /// The command view (panics if this is a completion ring).
    pub fn command_ring(&self) -> CommandRing<'_> {
        assert_eq!(self.words, COMMAND_WORDS, "not a command ring");
        CommandRing(self.raw())
    }

    /// The completion view (panics if this is a command ring).
    pub fn completion_ring(&self) -> CompletionRing<'_> {
        assert_eq!(self.words, COMPLETION_WORDS, "not a completion ring");
        CompletionRing(self.raw())
    }

    /// Test hook: overwrite the raw indices as a hostile peer would.
    #[doc(hidden)]
    pub fn scribble_indices(&self, head: u64, tail: u64) {
        self.head.store(head, Ordering::SeqCst);
        self.tail.store(tail, Ordering::SeqCst);
    }

    /// Test hook: overwrite a raw slot word as a hostile peer would.
    #[doc(hidden)]
    pub fn scribble_slot_word(&self, index: usize, value: u64) {
        if let Some(cell) = self.slots.get(index) {
            cell.store(value);
        }
    }

    /// Test hook: read a raw slot word.
    #[doc(hidden)]
    pub fn slot_word(&self, index: usize) -> u64 {
        self.slots.get(index).map_or(0, SlotCell::load)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    const LIMITS: CommandLimits = CommandLimits {
        buffer_area: 1 << 20,
        max_transfer: 1 << 16,
    };

    fn id(slot: u32, generation: u32) -> CmdId {
        CmdId { slot, generation }
    }

    #[test]
    fn fifo_full_and_close_marker() {
        let r = LocalRing::commands(4);
        let ring = r.command_ring();
        for i in 0..4 {
            let d = CommandDesc::new(id(i, 1), VdcCode::Write, 512, i.into(), 4096 * u64::from(i));
            ring.push(&d).unwrap();
        }
        assert_eq!(
            ring.push(&CommandDesc::close_marker()),
            Err(PushError::Full)
        );
        for i in 0..4 {
            match ring.pop(&LIMITS).unwrap() {
                Popped::Item(Delivered::Command(c)) => {
                    assert_eq!(c.id, id(i, 1));
                    assert_eq!(c.buffer_offset, 4096 * u64::from(i));
                }
                other => panic!("{other:?}"),
            }
        }
        ring.push(&CommandDesc::close_marker()).unwrap();
        assert_eq!(
            ring.pop(&LIMITS).unwrap(),
            Popped::Item(Delivered::CloseMarker)
        );
        assert_eq!(ring.pop(&LIMITS).unwrap(), Popped::Empty);
        ring.close();
        assert_eq!(ring.pop(&LIMITS).unwrap(), Popped::Closed);
        assert_eq!(
            ring.push(&CommandDesc::close_marker()),
            Err(PushError::Closed)
        );
    }

    #[test]
    fn closed_ring_still_drains() {
        let r = LocalRing::completions(4);
        let ring = r.completion_ring();
        ring.push(&CompletionDesc::new(id(1, 2), 0, 512, 0))
            .unwrap();
        ring.close();
        assert_eq!(
            ring.push(&CompletionDesc::new(id(2, 2), 0, 512, 0)),
            Err(PushError::Closed)
        );
        assert!(matches!(ring.pop().unwrap(), Popped::Item(c) if c.id == id(1, 2)));
        assert_eq!(ring.pop().unwrap(), Popped::Closed);
    }

    #[test]
    fn stale_epoch_does_not_touch_the_ring() {
        let r = LocalRing::completions(2);
        let ring = r.completion_ring();
        let epoch = AtomicU32::new(5);
        assert_eq!(
            ring.push_if_current(&epoch, 4, &CompletionDesc::new(id(1, 1), 0, 0, 0)),
            Err(PushError::Stale)
        );
        assert_eq!(r.slot_word(0), 0);
        assert_eq!(ring.len(), Ok(0));
        ring.push_if_current(&epoch, 5, &CompletionDesc::new(id(1, 1), 0, 0, 0))
            .unwrap();
        assert_eq!(ring.len(), Ok(1));
    }

    #[test]
    fn hostile_indices_are_faults() {
        let r = LocalRing::commands(4);
        let ring = r.command_ring();
        r.scribble_indices(0, 5);
        assert!(matches!(ring.pop(&LIMITS), Err(PeerFault::BadIndex { .. })));
        r.scribble_indices(10, 3);
        assert!(matches!(ring.pop(&LIMITS), Err(PeerFault::BadIndex { .. })));
        assert!(matches!(
            ring.push(&CommandDesc::close_marker()),
            Err(PushError::Fault(PeerFault::BadIndex { .. }))
        ));
        r.scribble_indices(u64::MAX, 1); // wrapped: len 2, fine
        assert!(ring.len().is_ok());
    }

    fn pop_after_writing(words: [u64; COMMAND_WORDS]) -> Result<Popped<Delivered>, PeerFault> {
        let r = LocalRing::commands(2);
        for (i, w) in words.iter().enumerate() {
            r.scribble_slot_word(i, *w);
        }
        r.scribble_indices(0, 1);
        r.command_ring().pop(&LIMITS)
    }

    #[test]
    fn hostile_descriptors_are_faults() {
        let good = CommandDesc::new(id(3, 9), VdcCode::Read, 4096, 0, 8192).to_words();
        assert!(matches!(
            pop_after_writing(good),
            Ok(Popped::Item(Delivered::Command(_)))
        ));
        let mut w = good;
        w[0] = 3; // generation 0
        assert_eq!(pop_after_writing(w), Err(PeerFault::BadId(3)));
        let mut w = good;
        w[1] = 99;
        assert_eq!(pop_after_writing(w), Err(PeerFault::BadCode(99)));
        let mut w = good;
        w[1] = 2 | (0x80 << 32);
        assert_eq!(pop_after_writing(w), Err(PeerFault::BadFlags(0x80)));
        let mut w = good;
        w[4] = (1 << 20) - 100; // offset + size beyond the area
        assert!(matches!(
            pop_after_writing(w),
            Err(PeerFault::BadBuffer { .. })
        ));
        let mut w = good;
        w[4] = u64::MAX - 10; // overflow
        assert!(matches!(
            pop_after_writing(w),
            Err(PeerFault::BadBuffer { .. })
        ));
        let mut w = good;
        w[2] = 1 << 17; // beyond max transfer
        assert!(matches!(
            pop_after_writing(w),
            Err(PeerFault::BadBuffer { .. })
        ));
        let mut w = good;
        w[1] = 7 | (u64::from(CLOSE_MARKER) << 32); // marker with a code
        assert_eq!(pop_after_writing(w), Err(PeerFault::BadCode(7)));
    }

    /// Random garbage in every word a peer can write: typed results only, never a panic, and
    /// every delivered command respects the limits.
    #[test]
    fn random_garbage_never_panics() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Bias towards small values and edge cases now and then.
            match x % 8 {
                0 => 0,
                1 => x % 4,
                2 => u64::MAX - (x % 3),
                3 => 1 << 63 | (x % 5),
                _ => x,
            }
        };
        let (cmds, cpls) = (LocalRing::commands(4), LocalRing::completions(4));
        for _ in 0..50_000 {
            for i in 0..4 * COMMAND_WORDS {
                cmds.scribble_slot_word(i, next());
            }
            for i in 0..4 * COMPLETION_WORDS {
                cpls.scribble_slot_word(i, next());
            }
            cmds.scribble_indices(next(), next());
            cpls.scribble_indices(next(), next());
            if let Ok(Popped::Item(Delivered::Command(c))) = cmds.command_ring().pop(&LIMITS) {
                assert!(c.id.generation != 0);
                assert!(c.size <= LIMITS.max_transfer);
                assert!(c.buffer_offset + u64::from(c.size) <= LIMITS.buffer_area);
            }
            if let Ok(Popped::Item(c)) = cpls.completion_ring().pop() {
                assert!(c.id.generation != 0);
            }
            let _ = cmds.command_ring().push(&CommandDesc::close_marker());
            let _ = cpls
                .completion_ring()
                .push(&CompletionDesc::new(id(1, 1), 0, 0, 0));
            let _ = cmds.command_ring().len();
        }
    }

    #[test]
    fn completion_with_generation_zero_is_a_fault() {
        let r = LocalRing::completions(2);
        r.scribble_slot_word(0, 42);
        r.scribble_indices(0, 1);
        assert_eq!(r.completion_ring().pop(), Err(PeerFault::BadId(42)));
    }
}
