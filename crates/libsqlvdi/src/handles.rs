//! Generational handles: what the SDK objects' single pointer member actually holds.
//!
//! A handle is `generation << 32 | slot`. The generation of a slot changes when its entry is
//! removed, so a handle outlives nothing: after removal (or for a zeroed or foreign object)
//! lookup fails and the call returns an error instead of touching freed state.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

#[derive(Debug)]
struct Slot<T> {
    generation: u32,
    value: Option<Arc<T>>,
}

/// Entries named by generational `u64` handles; 0 is never a handle.
#[derive(Debug)]
pub(crate) struct Registry<T> {
    slots: Vec<Slot<T>>,
    free: VecDeque<u32>,
}

impl<T> Registry<T> {
    pub(crate) const fn new() -> Registry<T> {
        Registry {
            slots: Vec::new(),
            free: VecDeque::new(),
        }
    }

    /// Stores `value` and returns its handle.
    pub(crate) fn insert(&mut self, value: Arc<T>) -> u64 {
        let index = match self.free.pop_front() {
            Some(i) => i,
            None => {
                let i = u32::try_from(self.slots.len()).expect("fewer than 2^32 live objects");
                self.slots.push(Slot {
                    generation: 1,
                    value: None,
                });
                i
            }
        };
        let slot = &mut self.slots[index as usize];
        slot.value = Some(value);
        (u64::from(slot.generation) << 32) | u64::from(index)
    }

    fn slot(&self, handle: u64) -> Option<&Slot<T>> {
        let slot = self.slots.get((handle & 0xFFFF_FFFF) as usize)?;
        (slot.generation == (handle >> 32) as u32 && slot.value.is_some()).then_some(slot)
    }

    /// The entry `handle` names, if it is still there.
    pub(crate) fn get(&self, handle: u64) -> Option<Arc<T>> {
        self.slot(handle).and_then(|s| s.value.clone())
    }

    /// Removes the entry; the handle (and every copy of it) is dead from now on.
    pub(crate) fn remove(&mut self, handle: u64) -> Option<Arc<T>> {
        self.slot(handle)?;
        let index = (handle & 0xFFFF_FFFF) as u32;
        let slot = &mut self.slots[index as usize];
        let value = slot.value.take();
        slot.generation = slot.generation.wrapping_add(1).max(1);
        self.free.push_back(index);
        value
    }
}

/// Locks a registry mutex; a panic elsewhere must not poison the whole library.
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removed_and_forged_handles_find_nothing() {
        let mut r = Registry::new();
        let a = r.insert(Arc::new("a"));
        assert_ne!(a, 0);
        assert_eq!(r.get(a).as_deref(), Some(&"a"));
        assert!(r.get(0).is_none());
        assert!(r.get(a + (1 << 32)).is_none());
        assert!(r.remove(a).is_some());
        assert!(r.get(a).is_none());
        assert!(r.remove(a).is_none());
        let b = r.insert(Arc::new("b"));
        assert_eq!(b & 0xFFFF_FFFF, a & 0xFFFF_FFFF, "the slot is reused");
        assert!(r.get(a).is_none(), "but not the old handle");
        assert_eq!(r.get(b).as_deref(), Some(&"b"));
    }
}
