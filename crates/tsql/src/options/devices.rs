//! The devices of a BACKUP or RESTORE, checked when the statement runs (after variables were
//! substituted), in SQL Server's order.

use super::{MAX_DEVICE_NAME_CHARS, MAX_OTHER_DEVICE_NAME_BYTES};
use crate::ast::{DeviceType, OtherDevice};
use crate::messages::{self, SqlMessage};

/// 3206 for a logical device (vdisim has none), 3011 for VIRTUAL_DEVICE mixed with another
/// type, 59007 for DISK, TAPE or URL alone (not emulated), then for the virtual devices: 3044
/// for an empty name, 3057 for one longer than VDI allows (128 bytes for the set's name, 256
/// for the others), and 3201 (operating system error 32) for a name given twice. Names no
/// client can create for other reasons (a backslash, a NUL) are the job's to refuse
/// (decision 57).
pub fn check_devices(
    virtual_devices: &[String],
    other: &[OtherDevice],
    line: u32,
) -> Result<(), SqlMessage> {
    if let Some(logical) = other.iter().find(|d| d.kind == DeviceType::Logical) {
        return Err(messages::backup_device_does_not_exist(line, &logical.name));
    }
    if let Some(first) = other.first() {
        return Err(if virtual_devices.is_empty() {
            messages::device_type_not_supported(line, first.kind.keyword())
        } else {
            messages::devices_of_different_classes(line)
        });
    }
    for (i, name) in virtual_devices.iter().enumerate() {
        if name.is_empty() {
            return Err(messages::zero_length_device_name(line));
        }
        // The set's name is limited as VDI limits it (decision 10), the other devices' names
        // as the device set's layout does (decision 57).
        let max = if i == 0 {
            MAX_DEVICE_NAME_CHARS
        } else {
            MAX_OTHER_DEVICE_NAME_BYTES
        };
        if name.len() > max {
            return Err(messages::device_name_too_long(line, max));
        }
        // Shared-memory names are case-sensitive, so `a` and `A` are two devices.
        if virtual_devices[..i].contains(name) {
            return Err(messages::device_named_twice(line, name));
        }
    }
    Ok(())
}
