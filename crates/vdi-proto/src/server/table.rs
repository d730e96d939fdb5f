//! The server's table of outstanding commands, addressed by generational ids.

use super::SendRequest;
use crate::ids::{CmdId, DeviceIndex};

#[derive(Debug)]
struct Slot {
    generation: u32,
    live: Option<(DeviceIndex, SendRequest)>,
}

/// Outstanding commands. A slot's generation advances on every reuse, so an old id never
/// matches a new command.
#[derive(Debug, Default)]
pub(crate) struct CommandTable {
    slots: Vec<Slot>,
    free: Vec<u32>,
}

impl CommandTable {
    pub(crate) fn insert(&mut self, device: DeviceIndex, request: SendRequest) -> CmdId {
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    live: None,
                });
                (self.slots.len() - 1) as u32
            }
        };
        let entry = &mut self.slots[slot as usize];
        entry.generation = entry.generation.wrapping_add(1).max(1);
        entry.live = Some((device, request));
        CmdId {
            slot,
            generation: entry.generation,
        }
    }

    pub(crate) fn get(&self, id: CmdId) -> Option<(DeviceIndex, SendRequest)> {
        let entry = self.slots.get(id.slot as usize)?;
        (entry.generation == id.generation)
            .then_some(entry.live)
            .flatten()
    }

    pub(crate) fn remove(&mut self, id: CmdId) -> Option<(DeviceIndex, SendRequest)> {
        let entry = self.slots.get_mut(id.slot as usize)?;
        if entry.generation != id.generation {
            return None;
        }
        let live = entry.live.take()?;
        self.free.push(id.slot);
        Some(live)
    }

    /// Removes every live command, oldest slot first.
    pub(crate) fn drain(&mut self) -> Vec<(CmdId, DeviceIndex, SendRequest)> {
        let mut out = Vec::new();
        for (slot, entry) in self.slots.iter_mut().enumerate() {
            if let Some((device, request)) = entry.live.take() {
                out.push((
                    CmdId {
                        slot: slot as u32,
                        generation: entry.generation,
                    },
                    device,
                    request,
                ));
                self.free.push(slot as u32);
            }
        }
        out
    }
}
