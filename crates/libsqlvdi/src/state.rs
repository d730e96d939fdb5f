//! The Rust state behind the SDK objects: sets, their devices, and the process-wide registries
//! that the objects' handles name.

use crate::boundary::{Failure, FfiResult};
use crate::commands::{CommandTable, Found, Key};
use crate::handles::{Registry, lock};
use std::ptr::NonNull;
use std::sync::{Arc, Mutex, RwLock, Weak};
use vdi_client::{ClientVirtualDevice, ClientVirtualDeviceSet, VdConfig};
use vdi_proto::{ClientPhase, Rule, VdError, VdcCommand};

/// The memory layout of both SDK classes: one 8-byte member, the SDK's private `CVDS* cvds`
/// (or `CVD* cvd`). The library keeps a generational handle in it, never a pointer.
#[repr(C)]
#[derive(Debug)]
pub struct SdkObject {
    handle: u64,
}

static SETS: Mutex<Registry<SetCell>> = Mutex::new(Registry::new());
static DEVICES: Mutex<Registry<DeviceCell>> = Mutex::new(Registry::new());

/// Reads the handle stored in an SDK object.
///
/// # Safety
/// `this` must be NULL or point to 8 readable bytes (an SDK object).
pub(crate) unsafe fn handle_of(this: *const SdkObject) -> Result<u64, Failure> {
    if this.is_null() {
        return Err(Failure::Invalid);
    }
    // SAFETY: non-NULL, and the caller guarantees it is an SDK object (8 readable bytes);
    // read_unaligned because we do not control where the application placed it.
    Ok(unsafe { this.cast::<u64>().read_unaligned() })
}

/// Stores `handle` in an SDK object.
///
/// # Safety
/// `this` must be NULL or point to 8 writable bytes (an SDK object).
pub(crate) unsafe fn set_handle(this: *mut SdkObject, handle: u64) {
    if !this.is_null() {
        // SAFETY: non-NULL, and the caller guarantees 8 writable bytes.
        unsafe { this.cast::<u64>().write_unaligned(handle) };
    }
}

/// Allocates an SDK object with `malloc`, so that an application that `delete`s a device
/// object (which it should not) frees it with a compatible allocator.
pub(crate) fn alloc_object(handle: u64) -> Result<NonNull<SdkObject>, Failure> {
    // SAFETY: malloc with a non-zero size has no preconditions; NULL is handled below.
    let raw = unsafe { libc::malloc(std::mem::size_of::<SdkObject>()) }.cast::<SdkObject>();
    let object = NonNull::new(raw).ok_or(Failure::Memory)?;
    // SAFETY: a fresh allocation of the object's size, aligned by malloc for any scalar type.
    unsafe { object.as_ptr().write(SdkObject { handle }) };
    Ok(object)
}

/// Frees an object from [`alloc_object`].
///
/// # Safety
/// `object` came from [`alloc_object`] and is not used afterwards.
pub(crate) unsafe fn free_object(object: NonNull<SdkObject>) {
    // SAFETY: allocated by libc::malloc in alloc_object; the caller gives up the pointer.
    unsafe { libc::free(object.as_ptr().cast()) };
}

/// A new set in DNE; returns its handle.
pub(crate) fn construct_set() -> u64 {
    let cell = Arc::new(SetCell {
        client: ClientVirtualDeviceSet::new(),
        devices: Mutex::new(Vec::new()),
    });
    lock(&SETS).insert(cell)
}

/// Destroys a set: closes it if still open and frees every device object it handed out.
/// Unknown handles (destroyed already, never constructed) are ignored.
pub(crate) fn destroy_set(handle: u64) {
    let Some(cell) = lock(&SETS).remove(handle) else {
        return;
    };
    if cell.client.phase() != ClientPhase::Dne {
        let _ = cell.client.close();
    }
    let entries = std::mem::take(&mut *lock(&cell.devices));
    {
        let mut devices = lock(&DEVICES);
        for e in &entries {
            devices.remove(e.handle);
        }
    }
    for e in entries {
        e.cell.retire();
        if !e.deleted_by_caller {
            // SAFETY: the set owned this object; its handle is dead, so no call can reach it
            // through the library any more, and the application was told not to use it.
            unsafe { free_object(e.object.0) };
        }
    }
}

/// The set a handle names.
pub(crate) fn set(handle: u64) -> Result<Arc<SetCell>, Failure> {
    lock(&SETS).get(handle).ok_or(Failure::Invalid)
}

/// The device a handle names.
pub(crate) fn device(handle: u64) -> Result<Arc<DeviceCell>, Failure> {
    lock(&DEVICES).get(handle).ok_or(Failure::Invalid)
}

/// The application called a device object's destructor: if the object is one of ours, its
/// memory is about to be freed by the application, so the set must not free it again.
pub(crate) fn device_destroyed(handle: u64, object: usize) {
    let Ok(cell) = device(handle) else {
        return;
    };
    if cell.object != object {
        return;
    }
    if let Some(set) = cell.set.upgrade() {
        for e in lock(&set.devices).iter_mut() {
            if e.handle == handle {
                e.deleted_by_caller = true;
            }
        }
    }
}

/// A device object the set owns.
#[derive(Debug)]
struct ObjectPtr(NonNull<SdkObject>);

// SAFETY: the pointer is an allocation owned by the set; it is only freed (under the set's
// mutex, after its handle died) and never dereferenced by Rust otherwise.
unsafe impl Send for ObjectPtr {}

#[derive(Debug)]
struct DeviceEntry {
    handle: u64,
    object: ObjectPtr,
    cell: Arc<DeviceCell>,
    deleted_by_caller: bool,
}

/// One set object's state.
#[derive(Debug)]
pub(crate) struct SetCell {
    pub(crate) client: ClientVirtualDeviceSet,
    /// Every device object handed out since construction (they outlive Close).
    devices: Mutex<Vec<DeviceEntry>>,
}

impl SetCell {
    /// `Create`. Device objects of earlier Create cycles are retired on success: their calls
    /// keep returning VD_E_PROTOCOL, but their shared-memory mappings are released.
    pub(crate) fn create(&self, name: &str, config: &VdConfig) -> FfiResult {
        self.client.create(name, config)?;
        for e in lock(&self.devices).iter() {
            e.cell.retire();
        }
        Ok(())
    }

    /// `OpenDevice`: a library-owned device object.
    pub(crate) fn open_device(self: &Arc<Self>, name: &str) -> Result<NonNull<SdkObject>, Failure> {
        let object = alloc_object(0)?;
        let client = match self.client.open_device(name) {
            Ok(d) => d,
            Err(e) => {
                // SAFETY: allocated just above and never handed out.
                unsafe { free_object(object) };
                return Err(e.into());
            }
        };
        let cell = Arc::new(DeviceCell {
            set: Arc::downgrade(self),
            object: object.as_ptr() as usize,
            client: RwLock::new(Some(Arc::new(client))),
            commands: Mutex::new(CommandTable::default()),
        });
        let handle = lock(&DEVICES).insert(cell.clone());
        // SAFETY: `object` is our fresh allocation.
        unsafe { set_handle(object.as_ptr(), handle) };
        lock(&self.devices).push(DeviceEntry {
            handle,
            object: ObjectPtr(object),
            cell,
            deleted_by_caller: false,
        });
        Ok(object)
    }

    fn device_cells(&self) -> Vec<Arc<DeviceCell>> {
        lock(&self.devices).iter().map(|e| e.cell.clone()).collect()
    }
}

/// A command found for a completion: its handle, and the record to free if it completes
/// (`None` as the cell means the completing device's own table).
type Located = (
    vdi_proto::CommandHandle,
    Option<(Option<Arc<DeviceCell>>, usize, u64)>,
);

/// One device object's state.
#[derive(Debug)]
pub(crate) struct DeviceCell {
    set: Weak<SetCell>,
    /// The address of its SDK object.
    object: usize,
    /// None once retired (a later Create on the set, or the set destroyed).
    client: RwLock<Option<Arc<ClientVirtualDevice>>>,
    commands: Mutex<CommandTable>,
}

impl DeviceCell {
    fn client(&self) -> Result<Arc<ClientVirtualDevice>, Failure> {
        let client = self.client.read().unwrap_or_else(|p| p.into_inner());
        // A retired device is a device handle from before Close: what vdi_client says of it.
        client
            .clone()
            .ok_or(Failure::Vd(VdError::new(Rule::StaleDevice)))
    }

    fn retire(&self) {
        *self.client.write().unwrap_or_else(|p| p.into_inner()) = None;
        lock(&self.commands).clear();
    }

    /// `GetCommand`: the record's address and the command's handle.
    pub(crate) fn get_command(&self, timeout: i64) -> Result<(*mut VdcCommand, u64), Failure> {
        let client = self.client()?;
        let cmd = client.get_command(timeout)?;
        Ok(lock(&self.commands).insert(cmd))
    }

    /// `CompleteCommand` of the command `key` names, found among the set's live records.
    pub(crate) fn complete(
        &self,
        key: Key,
        completion_code: u32,
        bytes_transferred: u64,
        position: u64,
    ) -> FfiResult {
        let client = self.client()?;
        let found = lock(&self.commands).find(key);
        let (handle, owner) = match found {
            Found::Live {
                handle,
                slot,
                serial,
            } => (handle, Some((None, slot, serial))),
            Found::Retired(handle) => (handle, None),
            // Another device's command: vdi_client decides what that is (VDI-COMPLETE-003).
            Found::Unknown => match self.find_elsewhere(key) {
                Some(found) => found,
                None => return Err(Failure::Invalid),
            },
        };
        client.complete_handle(handle, completion_code, bytes_transferred, position)?;
        if let Some((other, slot, serial)) = owner {
            let table = other
                .as_ref()
                .map_or(&self.commands, |o: &Arc<DeviceCell>| &o.commands);
            lock(table).retire(slot, serial);
        }
        Ok(())
    }

    fn find_elsewhere(&self, key: Key) -> Option<Located> {
        let set = self.set.upgrade()?;
        for cell in set.device_cells() {
            if std::ptr::eq(Arc::as_ptr(&cell), self) {
                continue;
            }
            let found = lock(&cell.commands).find(key);
            match found {
                Found::Live {
                    handle,
                    slot,
                    serial,
                } => return Some((handle, Some((Some(cell), slot, serial)))),
                Found::Retired(handle) => return Some((handle, None)),
                Found::Unknown => {}
            }
        }
        None
    }
}
