//! The SDK's structures, with the exact Linux x86_64 layout (vdi-facts §2).
//!
//! The drop-in `libsqlvdi.so` hands these to vendor code, so their size and field offsets are
//! checked at compile time.

use serde::{Deserialize, Serialize};
use std::mem::{offset_of, size_of};

/// `struct VDConfig`: 11 × `uint32_t`, 44 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(C)]
#[allow(missing_docs)]
pub struct VdConfig {
    pub device_count: u32,
    pub features: u32,
    pub prefix_zone_size: u32,
    pub alignment: u32,
    pub soft_file_mark_block_size: u32,
    pub eom_warning_size: u32,
    pub server_time_out: u32,
    pub block_size: u32,
    pub max_io_depth: u32,
    pub max_transfer_size: u32,
    pub buffer_area_size: u32,
}

/// `struct VDC_Command` as the client sees it: 24 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
#[allow(missing_docs)]
pub struct VdcCommand {
    pub command_code: i32,
    pub size: i32,
    pub position: i64,
    pub buffer: *mut u8,
}

/// `struct VDS_Command` as the server sees it: 56 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
#[allow(missing_docs)]
pub struct VdsCommand {
    pub command_code: i32,
    pub size: i32,
    pub in_position: i64,
    pub out_position: i64,
    pub buffer: *mut u8,
    pub completion_routine: *mut u8,
    pub completion_context: *mut u8,
    pub completion_code: i32,
    pub bytes_transferred: i32,
}

#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(size_of::<VdConfig>() == 44);
    assert!(offset_of!(VdConfig, device_count) == 0);
    assert!(offset_of!(VdConfig, features) == 4);
    assert!(offset_of!(VdConfig, prefix_zone_size) == 8);
    assert!(offset_of!(VdConfig, alignment) == 12);
    assert!(offset_of!(VdConfig, soft_file_mark_block_size) == 16);
    assert!(offset_of!(VdConfig, eom_warning_size) == 20);
    assert!(offset_of!(VdConfig, server_time_out) == 24);
    assert!(offset_of!(VdConfig, block_size) == 28);
    assert!(offset_of!(VdConfig, max_io_depth) == 32);
    assert!(offset_of!(VdConfig, max_transfer_size) == 36);
    assert!(offset_of!(VdConfig, buffer_area_size) == 40);

    assert!(size_of::<VdcCommand>() == 24);
    assert!(offset_of!(VdcCommand, command_code) == 0);
    assert!(offset_of!(VdcCommand, size) == 4);
    assert!(offset_of!(VdcCommand, position) == 8);
    assert!(offset_of!(VdcCommand, buffer) == 16);

    assert!(size_of::<VdsCommand>() == 56);
    assert!(offset_of!(VdsCommand, command_code) == 0);
    assert!(offset_of!(VdsCommand, size) == 4);
    assert!(offset_of!(VdsCommand, in_position) == 8);
    assert!(offset_of!(VdsCommand, out_position) == 16);
    assert!(offset_of!(VdsCommand, buffer) == 24);
    assert!(offset_of!(VdsCommand, completion_routine) == 32);
    assert!(offset_of!(VdsCommand, completion_context) == 40);
    assert!(offset_of!(VdsCommand, completion_code) == 48);
    assert!(offset_of!(VdsCommand, bytes_transferred) == 52);
};

impl VdConfig {
    /// The fields in header order, for transcripts and the C header test.
    pub const FIELD_NAMES: [&'static str; 11] = [
        "deviceCount",
        "features",
        "prefixZoneSize",
        "alignment",
        "softFileMarkBlockSize",
        "EOMWarningSize",
        "serverTimeOut",
        "blockSize",
        "maxIODepth",
        "maxTransferSize",
        "bufferAreaSize",
    ];

    /// A zeroed configuration asking for `device_count` devices, as the samples do.
    pub fn with_devices(device_count: u32) -> VdConfig {
        VdConfig {
            device_count,
            ..VdConfig::default()
        }
    }

    /// The raw 32-bit words in header order (used by the shared-memory header).
    pub fn to_words(&self) -> [u32; 11] {
        [
            self.device_count,
            self.features,
            self.prefix_zone_size,
            self.alignment,
            self.soft_file_mark_block_size,
            self.eom_warning_size,
            self.server_time_out,
            self.block_size,
            self.max_io_depth,
            self.max_transfer_size,
            self.buffer_area_size,
        ]
    }

    /// The inverse of [`VdConfig::to_words`].
    pub fn from_words(w: [u32; 11]) -> VdConfig {
        VdConfig {
            device_count: w[0],
            features: w[1],
            prefix_zone_size: w[2],
            alignment: w[3],
            soft_file_mark_block_size: w[4],
            eom_warning_size: w[5],
            server_time_out: w[6],
            block_size: w[7],
            max_io_depth: w[8],
            max_transfer_size: w[9],
            buffer_area_size: w[10],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vdconfig_is_44_bytes_with_header_field_order() {
        assert_eq!(size_of::<VdConfig>(), 44);
        let cfg = VdConfig::from_words([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        assert_eq!(cfg.device_count, 1);
        assert_eq!(cfg.eom_warning_size, 6);
        assert_eq!(cfg.buffer_area_size, 11);
        assert_eq!(cfg.to_words(), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    }

    #[test]
    fn vdc_command_is_24_bytes() {
        assert_eq!(size_of::<VdcCommand>(), 24);
        assert_eq!(offset_of!(VdcCommand, buffer), 16);
        assert_eq!(std::mem::align_of::<VdcCommand>(), 8);
    }

    #[test]
    fn vds_command_is_56_bytes() {
        assert_eq!(size_of::<VdsCommand>(), 56);
        assert_eq!(offset_of!(VdsCommand, completion_code), 48);
        assert_eq!(offset_of!(VdsCommand, bytes_transferred), 52);
    }
}
