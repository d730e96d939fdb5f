//! The plain C API of `include/vdisim.h`, for callers that cannot use the SDK's C++ classes.
//!
//! `vdisim_set` is the same object as a `ClientVirtualDeviceSet` (allocated by the library),
//! `vdisim_device` the same as a `ClientVirtualDevice`; commands are named by generational
//! `u64` handles instead of pointers.
//!
//! # Safety (all exports)
//! Pointers are NULL or valid as `vdisim.h` declares them; objects come from this library and
//! are not used after `vdisim_set_free`. NULL objects or out-pointers give VD_E_INVALID.

use crate::boundary::{Failure, guard, guard_void};
use crate::commands::Key;
use crate::ops;
use crate::state::{self, SdkObject};
use std::ffi::{c_char, c_int};
use vdi_proto::{VdConfig, VdcCommand};

/// `vdisim_set_new`: a set in DNE.
///
/// # Safety
/// See the module's safety contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vdisim_set_new(out: *mut *mut SdkObject) -> c_int {
    guard(|| {
        if out.is_null() {
            return Err(Failure::Invalid);
        }
        // SAFETY: non-NULL out-pointer, writable by contract.
        unsafe { out.write_unaligned(std::ptr::null_mut()) };
        let object = state::alloc_object(0)?;
        // SAFETY: our fresh object.
        unsafe { ops::construct_set(object.as_ptr()) };
        // SAFETY: as above.
        unsafe { out.write_unaligned(object.as_ptr()) };
        Ok(())
    })
}

/// `vdisim_set_free`: closes the set if open and frees it with its devices. NULL is fine.
///
/// # Safety
/// See the module's safety contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vdisim_set_free(set: *mut SdkObject) {
    guard_void(|| {
        let Some(object) = std::ptr::NonNull::new(set) else {
            return;
        };
        // SAFETY: by contract a set from vdisim_set_new, freed once.
        unsafe {
            ops::destroy_set(object.as_ptr());
            state::free_object(object);
        }
    });
}

/// `vdisim_set_create`.
///
/// # Safety
/// See the module's safety contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vdisim_set_create(
    set: *mut SdkObject,
    name: *const c_char,
    config: *const VdConfig,
) -> c_int {
    // SAFETY: the module's contract.
    guard(|| unsafe { ops::create(set, name, config) })
}

/// `vdisim_set_get_configuration`.
///
/// # Safety
/// See the module's safety contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vdisim_set_get_configuration(
    set: *mut SdkObject,
    timeout_ms: i64,
    out: *mut VdConfig,
) -> c_int {
    // SAFETY: the module's contract.
    guard(|| unsafe { ops::get_configuration(set, timeout_ms, out) })
}

/// `vdisim_set_open_device`.
///
/// # Safety
/// See the module's safety contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vdisim_set_open_device(
    set: *mut SdkObject,
    name: *const c_char,
    out: *mut *mut SdkObject,
) -> c_int {
    // SAFETY: the module's contract.
    guard(|| unsafe { ops::open_device(set, name, out) })
}

/// `vdisim_set_signal_abort`.
///
/// # Safety
/// See the module's safety contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vdisim_set_signal_abort(set: *mut SdkObject) -> c_int {
    // SAFETY: the module's contract.
    guard(|| unsafe { ops::signal_abort(set) })
}

/// `vdisim_set_close`.
///
/// # Safety
/// See the module's safety contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vdisim_set_close(set: *mut SdkObject) -> c_int {
    // SAFETY: the module's contract.
    guard(|| unsafe { ops::close(set) })
}

/// `vdisim_set_open_in_secondary`.
///
/// # Safety
/// See the module's safety contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vdisim_set_open_in_secondary(
    set: *mut SdkObject,
    name: *const c_char,
) -> c_int {
    // SAFETY: the module's contract.
    guard(|| unsafe { ops::open_in_secondary(set, name) })
}

/// `vdisim_device_get_command`: the command's handle, and its fields if `info` is not NULL.
///
/// # Safety
/// See the module's safety contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vdisim_device_get_command(
    device: *mut SdkObject,
    timeout_ms: i64,
    out: *mut u64,
    info: *mut VdcCommand,
) -> c_int {
    guard(|| {
        if out.is_null() {
            return Err(Failure::Invalid);
        }
        // SAFETY: non-NULL out-pointer, writable by contract; a failed call leaves 0.
        unsafe { out.write_unaligned(0) };
        // SAFETY: the module's contract.
        let (record, handle) = unsafe { ops::get_command(device, timeout_ms) }?;
        if !info.is_null() {
            // SAFETY: `record` is our live record, just written under its table's lock, and
            // `info` is writable by contract.
            unsafe { info.write_unaligned(record.read()) };
        }
        // SAFETY: as above.
        unsafe { out.write_unaligned(handle) };
        Ok(())
    })
}

/// `vdisim_device_complete_command`.
///
/// # Safety
/// See the module's safety contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vdisim_device_complete_command(
    device: *mut SdkObject,
    command: u64,
    completion_code: u32,
    bytes_transferred: u64,
    position: i64,
) -> c_int {
    // SAFETY: the module's contract.
    guard(|| unsafe {
        ops::complete_command(
            device,
            Key::Handle(command),
            completion_code,
            bytes_transferred,
            position as u64,
        )
    })
}

/// `vdisim_result_message`: the code's name, value and meaning, `snprintf`-style.
///
/// # Safety
/// See the module's safety contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vdisim_result_message(code: c_int, buf: *mut c_char, len: usize) -> c_int {
    let mut n = 0;
    guard_void(|| {
        // SAFETY: `buf` is NULL or writable for `len` bytes, by contract.
        n = unsafe { crate::boundary::copy_out(&crate::result_message(code), buf.cast(), len) };
    });
    n
}

/// `vdisim_last_rule`: the rule ID behind this thread's last failed call, `snprintf`-style.
///
/// # Safety
/// See the module's safety contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vdisim_last_rule(buf: *mut c_char, len: usize) -> c_int {
    let mut n = 0;
    guard_void(|| {
        let rule = crate::boundary::last_rule().map_or("", |r| r.id());
        // SAFETY: `buf` is NULL or writable for `len` bytes, by contract.
        n = unsafe { crate::boundary::copy_out(rule, buf.cast(), len) };
    });
    n
}
