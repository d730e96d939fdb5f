//! The calls behind both ABIs (the SDK's C++ classes and `vdisim.h`), on raw pointers.
//!
//! Every function checks its pointers for NULL, finds the object's state through its handle,
//! and leaves every protocol decision to `vdi_client`.
//!
//! # Safety (all functions)
//! Each pointer argument is NULL or valid for what its C declaration promises: an SDK object
//! (8 bytes), a NUL-terminated string, a `VDConfig`, or an out-pointer of the given type.

use crate::boundary::{Failure, FfiResult};
use crate::commands::Key;
use crate::state::{self, DeviceCell, SdkObject, SetCell};
use std::ffi::{CStr, c_char};
use std::ptr::NonNull;
use std::sync::Arc;
use vdi_proto::{VdConfig, VdcCommand};

/// The set a set object names.
pub(crate) unsafe fn set_of(this: *const SdkObject) -> Result<Arc<SetCell>, Failure> {
    // SAFETY: forwarded contract: `this` is NULL or an SDK object.
    state::set(unsafe { state::handle_of(this) }?)
}

/// The device a device object names.
pub(crate) unsafe fn device_of(this: *const SdkObject) -> Result<Arc<DeviceCell>, Failure> {
    // SAFETY: forwarded contract: `this` is NULL or an SDK object.
    state::device(unsafe { state::handle_of(this) }?)
}

/// A NUL-terminated UTF-8 string argument.
unsafe fn text<'a>(p: *const c_char) -> Result<&'a str, Failure> {
    if p.is_null() {
        return Err(Failure::Invalid);
    }
    // SAFETY: non-NULL and, by contract, NUL-terminated and alive for the call.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str().map_err(|_| Failure::Invalid)
}

/// Writes through an out-pointer, refusing NULL.
unsafe fn put<T>(out: *mut T, value: T) -> FfiResult {
    if out.is_null() {
        return Err(Failure::Invalid);
    }
    // SAFETY: non-NULL and, by contract, valid for a write of T (maybe unaligned).
    unsafe { out.write_unaligned(value) };
    Ok(())
}

/// Clears an out-pointer if there is one (a failed call returns NULL / 0 in it).
unsafe fn clear<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: as in `put`.
        unsafe { out.write_unaligned(value) };
    }
}

pub(crate) unsafe fn create(
    this: *const SdkObject,
    name: *const c_char,
    config: *const VdConfig,
) -> FfiResult {
    // SAFETY: forwarded contract.
    let set = unsafe { set_of(this) }?;
    // SAFETY: forwarded contract.
    let name = unsafe { text(name) }?;
    if config.is_null() {
        return Err(Failure::Invalid);
    }
    // SAFETY: non-NULL VDConfig, by contract readable (alignment not assumed).
    let config = unsafe { config.read_unaligned() };
    set.create(name, &config)
}

pub(crate) unsafe fn get_configuration(
    this: *const SdkObject,
    timeout: i64,
    out: *mut VdConfig,
) -> FfiResult {
    if out.is_null() {
        return Err(Failure::Invalid);
    }
    // SAFETY: forwarded contract.
    let set = unsafe { set_of(this) }?;
    let mut got = VdConfig::default();
    set.client.get_configuration(timeout, &mut got)?;
    // SAFETY: checked non-NULL above; by contract a writable VDConfig.
    unsafe { put(out, got) }
}

pub(crate) unsafe fn open_device(
    this: *const SdkObject,
    name: *const c_char,
    out: *mut *mut SdkObject,
) -> FfiResult {
    if out.is_null() {
        return Err(Failure::Invalid);
    }
    // SAFETY: non-NULL out-pointer, by contract writable.
    unsafe { clear(out, std::ptr::null_mut()) };
    // SAFETY: forwarded contract.
    let set = unsafe { set_of(this) }?;
    // SAFETY: forwarded contract.
    let name = unsafe { text(name) }?;
    let device: NonNull<SdkObject> = set.open_device(name)?;
    // SAFETY: as above.
    unsafe { put(out, device.as_ptr()) }
}

pub(crate) unsafe fn close(this: *const SdkObject) -> FfiResult {
    // SAFETY: forwarded contract.
    unsafe { set_of(this) }?.client.close()?;
    Ok(())
}

pub(crate) unsafe fn signal_abort(this: *const SdkObject) -> FfiResult {
    // SAFETY: forwarded contract.
    unsafe { set_of(this) }?.client.signal_abort()?;
    Ok(())
}

pub(crate) unsafe fn open_in_secondary(this: *const SdkObject, name: *const c_char) -> FfiResult {
    // SAFETY: forwarded contract.
    let set = unsafe { set_of(this) }?;
    // SAFETY: forwarded contract.
    let name = unsafe { text(name) }?;
    set.client.open_in_secondary(name)?;
    Ok(())
}

pub(crate) unsafe fn get_buffer_handle(
    this: *const SdkObject,
    buffer: *const u8,
    out: *mut u32,
) -> FfiResult {
    if out.is_null() {
        return Err(Failure::Invalid);
    }
    // SAFETY: forwarded contract.
    let set = unsafe { set_of(this) }?;
    // The address is only compared with the buffer area, never read.
    let handle = set.client.get_buffer_handle(buffer)?;
    // SAFETY: checked non-NULL above.
    unsafe { put(out, handle) }
}

pub(crate) unsafe fn map_buffer_handle(
    this: *const SdkObject,
    handle: u32,
    out: *mut *mut u8,
) -> FfiResult {
    if out.is_null() {
        return Err(Failure::Invalid);
    }
    // SAFETY: non-NULL out-pointer.
    unsafe { clear(out, std::ptr::null_mut()) };
    // SAFETY: forwarded contract.
    let set = unsafe { set_of(this) }?;
    let address = set.client.map_buffer_handle(handle)?;
    // SAFETY: checked non-NULL above.
    unsafe { put(out, address) }
}

/// GetCommand: the record's address and the command's handle.
pub(crate) unsafe fn get_command(
    this: *const SdkObject,
    timeout: i64,
) -> Result<(*mut VdcCommand, u64), Failure> {
    // SAFETY: forwarded contract.
    unsafe { device_of(this) }?.get_command(timeout)
}

pub(crate) unsafe fn complete_command(
    this: *const SdkObject,
    key: Key,
    completion_code: u32,
    bytes_transferred: u64,
    position: u64,
) -> FfiResult {
    // SAFETY: forwarded contract.
    unsafe { device_of(this) }?.complete(key, completion_code, bytes_transferred, position)
}

/// A set object's constructor: a fresh set in DNE.
pub(crate) unsafe fn construct_set(this: *mut SdkObject) {
    // SAFETY: forwarded contract. Zero first, so a failed construction leaves a dead handle.
    unsafe { state::set_handle(this, 0) };
    let handle = state::construct_set();
    // SAFETY: forwarded contract.
    unsafe { state::set_handle(this, handle) };
}

/// A set object's destructor: closes the set if open, frees its device objects.
pub(crate) unsafe fn destroy_set(this: *mut SdkObject) {
    // SAFETY: forwarded contract.
    if let Ok(handle) = unsafe { state::handle_of(this) } {
        state::destroy_set(handle);
        // SAFETY: forwarded contract.
        unsafe { state::set_handle(this, 0) };
    }
}

/// A device object's destructor (the application should never run it on ours).
pub(crate) unsafe fn destroy_device(this: *mut SdkObject) {
    // SAFETY: forwarded contract.
    if let Ok(handle) = unsafe { state::handle_of(this) } {
        state::device_destroyed(handle, this as usize);
        // SAFETY: forwarded contract.
        unsafe { state::set_handle(this, 0) };
    }
}
