//! The Linux SDK's C++ classes, `ClientVirtualDeviceSet` and `ClientVirtualDevice`, as
//! Itanium-mangled symbols (vdi-facts §3.2).
//!
//! A non-virtual member function is an ordinary function taking `this` first (x86_64 SysV);
//! constructors and destructors return nothing. C1/C2 (complete/base object constructor) and
//! D1/D2 are the same function here, as g++ makes them for classes without virtual bases.
//! Every export runs inside the panic boundary and returns the SDK's `int`: 0 or a VD_E_*
//! code.
//!
//! # Safety (all exports)
//! `this` is an object of the class (for the set: constructed by the constructor below; for a
//! device: returned by `OpenDevice`), and every other pointer is NULL or valid as the SDK's
//! header declares it. NULL, dead or foreign objects give VD_E_INVALID.

use crate::boundary::{guard, guard_void};
use crate::commands::Key;
use crate::ops;
use crate::state::SdkObject;
use std::ffi::{c_char, c_int, c_long, c_uint, c_ulong};
use vdi_proto::{VdConfig, VdcCommand};

// ---- ClientVirtualDeviceSet ----------------------------------------------------------------

/// `ClientVirtualDeviceSet::ClientVirtualDeviceSet()` (C1).
///
/// # Safety
/// See the module's safety contract.
#[unsafe(export_name = "_ZN22ClientVirtualDeviceSetC1Ev")]
pub unsafe extern "C" fn cvds_construct_c1(this: *mut SdkObject) {
    // SAFETY: the caller passes the storage of a ClientVirtualDeviceSet (8 bytes).
    guard_void(|| unsafe { ops::construct_set(this) });
}

/// `ClientVirtualDeviceSet::ClientVirtualDeviceSet()` (C2).
///
/// # Safety
/// See the module's safety contract.
#[unsafe(export_name = "_ZN22ClientVirtualDeviceSetC2Ev")]
pub unsafe extern "C" fn cvds_construct_c2(this: *mut SdkObject) {
    // SAFETY: as for C1.
    guard_void(|| unsafe { ops::construct_set(this) });
}

/// `ClientVirtualDeviceSet::~ClientVirtualDeviceSet()` (D1).
///
/// # Safety
/// See the module's safety contract.
#[unsafe(export_name = "_ZN22ClientVirtualDeviceSetD1Ev")]
pub unsafe extern "C" fn cvds_destroy_d1(this: *mut SdkObject) {
    // SAFETY: the caller passes a ClientVirtualDeviceSet object.
    guard_void(|| unsafe { ops::destroy_set(this) });
}

/// `ClientVirtualDeviceSet::~ClientVirtualDeviceSet()` (D2).
///
/// # Safety
/// See the module's safety contract.
#[unsafe(export_name = "_ZN22ClientVirtualDeviceSetD2Ev")]
pub unsafe extern "C" fn cvds_destroy_d2(this: *mut SdkObject) {
    // SAFETY: as for D1.
    guard_void(|| unsafe { ops::destroy_set(this) });
}

/// `int ClientVirtualDeviceSet::Create(char* name, VDConfig* cfg)`.
///
/// # Safety
/// See the module's safety contract.
#[unsafe(export_name = "_ZN22ClientVirtualDeviceSet6CreateEPcP8VDConfig")]
pub unsafe extern "C" fn cvds_create(
    this: *mut SdkObject,
    name: *mut c_char,
    config: *mut VdConfig,
) -> c_int {
    // SAFETY: the module's contract: SDK object, string and VDConfig pointers.
    guard(|| unsafe { ops::create(this, name, config) })
}

/// `int ClientVirtualDeviceSet::GetConfiguration(time_t timeout, VDConfig* cfg)`.
///
/// # Safety
/// See the module's safety contract.
#[unsafe(export_name = "_ZN22ClientVirtualDeviceSet16GetConfigurationElP8VDConfig")]
pub unsafe extern "C" fn cvds_get_configuration(
    this: *mut SdkObject,
    timeout: c_long,
    config: *mut VdConfig,
) -> c_int {
    // SAFETY: the module's contract.
    guard(|| unsafe { ops::get_configuration(this, timeout, config) })
}

/// `int ClientVirtualDeviceSet::OpenDevice(char* name, ClientVirtualDevice** ppVirtualDevice)`.
///
/// # Safety
/// See the module's safety contract.
#[unsafe(export_name = "_ZN22ClientVirtualDeviceSet10OpenDeviceEPcPP19ClientVirtualDevice")]
pub unsafe extern "C" fn cvds_open_device(
    this: *mut SdkObject,
    name: *mut c_char,
    device: *mut *mut SdkObject,
) -> c_int {
    // SAFETY: the module's contract.
    guard(|| unsafe { ops::open_device(this, name, device) })
}

/// `int ClientVirtualDeviceSet::Close()`.
///
/// # Safety
/// See the module's safety contract.
#[unsafe(export_name = "_ZN22ClientVirtualDeviceSet5CloseEv")]
pub unsafe extern "C" fn cvds_close(this: *mut SdkObject) -> c_int {
    // SAFETY: the module's contract.
    guard(|| unsafe { ops::close(this) })
}

/// `int ClientVirtualDeviceSet::SignalAbort()`.
///
/// # Safety
/// See the module's safety contract.
#[unsafe(export_name = "_ZN22ClientVirtualDeviceSet11SignalAbortEv")]
pub unsafe extern "C" fn cvds_signal_abort(this: *mut SdkObject) -> c_int {
    // SAFETY: the module's contract.
    guard(|| unsafe { ops::signal_abort(this) })
}

/// `int ClientVirtualDeviceSet::OpenInSecondary(char* setName)`.
///
/// # Safety
/// See the module's safety contract.
#[unsafe(export_name = "_ZN22ClientVirtualDeviceSet15OpenInSecondaryEPc")]
pub unsafe extern "C" fn cvds_open_in_secondary(this: *mut SdkObject, name: *mut c_char) -> c_int {
    // SAFETY: the module's contract.
    guard(|| unsafe { ops::open_in_secondary(this, name) })
}

/// `int ClientVirtualDeviceSet::GetBufferHandle(uint8_t* pBuffer, unsigned int* pBufferHandle)`.
///
/// # Safety
/// See the module's safety contract.
#[unsafe(export_name = "_ZN22ClientVirtualDeviceSet15GetBufferHandleEPhPj")]
pub unsafe extern "C" fn cvds_get_buffer_handle(
    this: *mut SdkObject,
    buffer: *mut u8,
    handle: *mut c_uint,
) -> c_int {
    // SAFETY: the module's contract.
    guard(|| unsafe { ops::get_buffer_handle(this, buffer, handle) })
}

/// `int ClientVirtualDeviceSet::MapBufferHandle(int dwBuffer, uint8_t** ppBuffer)`.
///
/// # Safety
/// See the module's safety contract.
#[unsafe(export_name = "_ZN22ClientVirtualDeviceSet15MapBufferHandleEiPPh")]
pub unsafe extern "C" fn cvds_map_buffer_handle(
    this: *mut SdkObject,
    handle: c_int,
    buffer: *mut *mut u8,
) -> c_int {
    // The SDK passes the handle GetBufferHandle produced as an `int`: same bits.
    // SAFETY: the module's contract.
    guard(|| unsafe { ops::map_buffer_handle(this, handle as u32, buffer) })
}

/// `void ClientVirtualDeviceSet::RegisterDeviceClosed()`: in the SDK's header but not in its
/// documentation; nothing to do here (device closure is tracked by the protocol core).
///
/// # Safety
/// See the module's safety contract.
#[unsafe(export_name = "_ZN22ClientVirtualDeviceSet20RegisterDeviceClosedEv")]
pub unsafe extern "C" fn cvds_register_device_closed(_this: *mut SdkObject) {
    guard_void(|| {});
}

// ---- ClientVirtualDevice -------------------------------------------------------------------

/// `ClientVirtualDevice::ClientVirtualDevice()` (C1). Only an application constructs one
/// itself (OpenDevice's objects come from the library); such an object names no device.
///
/// # Safety
/// See the module's safety contract.
#[unsafe(export_name = "_ZN19ClientVirtualDeviceC1Ev")]
pub unsafe extern "C" fn cvd_construct_c1(this: *mut SdkObject) {
    // SAFETY: the caller passes the storage of a ClientVirtualDevice (8 bytes).
    guard_void(|| unsafe { crate::state::set_handle(this, 0) });
}

/// `ClientVirtualDevice::ClientVirtualDevice()` (C2).
///
/// # Safety
/// See the module's safety contract.
#[unsafe(export_name = "_ZN19ClientVirtualDeviceC2Ev")]
pub unsafe extern "C" fn cvd_construct_c2(this: *mut SdkObject) {
    // SAFETY: as for C1.
    guard_void(|| unsafe { crate::state::set_handle(this, 0) });
}

/// `ClientVirtualDevice::~ClientVirtualDevice()` (D1).
///
/// # Safety
/// See the module's safety contract.
#[unsafe(export_name = "_ZN19ClientVirtualDeviceD1Ev")]
pub unsafe extern "C" fn cvd_destroy_d1(this: *mut SdkObject) {
    // SAFETY: the caller passes a ClientVirtualDevice object.
    guard_void(|| unsafe { ops::destroy_device(this) });
}

/// `ClientVirtualDevice::~ClientVirtualDevice()` (D2).
///
/// # Safety
/// See the module's safety contract.
#[unsafe(export_name = "_ZN19ClientVirtualDeviceD2Ev")]
pub unsafe extern "C" fn cvd_destroy_d2(this: *mut SdkObject) {
    // SAFETY: as for D1.
    guard_void(|| unsafe { ops::destroy_device(this) });
}

/// `int ClientVirtualDevice::GetCommand(time_t timeOut, VDC_Command** ppCmd)`.
///
/// # Safety
/// See the module's safety contract.
#[unsafe(export_name = "_ZN19ClientVirtualDevice10GetCommandElPP11VDC_Command")]
pub unsafe extern "C" fn cvd_get_command(
    this: *mut SdkObject,
    timeout: c_long,
    command: *mut *mut VdcCommand,
) -> c_int {
    guard(|| {
        if command.is_null() {
            return Err(crate::boundary::Failure::Invalid);
        }
        // SAFETY: non-NULL out-pointer, by contract writable; a failed call leaves NULL.
        unsafe { command.write_unaligned(std::ptr::null_mut()) };
        // SAFETY: the module's contract.
        let (record, _) = unsafe { ops::get_command(this, timeout) }?;
        // SAFETY: as above.
        unsafe { command.write_unaligned(record) };
        Ok(())
    })
}

/// `int ClientVirtualDevice::CompleteCommand(VDC_Command* pCmd, int completionCode,
/// unsigned long bytesTransferred, int64_t position)`.
///
/// # Safety
/// See the module's safety contract.
#[unsafe(export_name = "_ZN19ClientVirtualDevice15CompleteCommandEP11VDC_Commandiml")]
pub unsafe extern "C" fn cvd_complete_command(
    this: *mut SdkObject,
    command: *mut VdcCommand,
    completion_code: c_int,
    bytes_transferred: c_ulong,
    position: i64,
) -> c_int {
    guard(|| {
        if command.is_null() {
            return Err(crate::boundary::Failure::Invalid);
        }
        // The pointer is only compared with the device's records, never dereferenced.
        let key = Key::Address(command as usize);
        // Win32 completion codes are DWORDs; the SDK passes them as `int`: same bits.
        // SAFETY: the module's contract.
        unsafe {
            ops::complete_command(
                this,
                key,
                completion_code as u32,
                bytes_transferred,
                position as u64,
            )
        }
    })
}
