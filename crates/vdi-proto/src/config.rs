//! Configuration rules: what a client may ask for and what a server may choose (vdi-facts §5).

use crate::consts::{MAX_DEVICES, MAX_IO_DEPTH, vdf};
use crate::error::{VdError, VdResult};
use crate::layout::VdConfig;
use crate::rules::Rule;
use serde::{Deserialize, Serialize};

/// The media mode a feature mask selects (vdi-facts §5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaMode {
    /// Purely sequential (`VDF_LikePipe`).
    Pipe,
    /// Filemarks, positioning, removable media (`VDF_LikeTape`).
    Tape,
    /// Every Read and Write carries a byte position (`VDF_LikeDisk`).
    Disk,
}

const TAPE_BITS: u32 =
    vdf::FILE_MARKS | vdf::REWIND | vdf::POSITION | vdf::SKIP_BLOCKS | vdf::REVERSE_POSITION;
/// Flags any mode may add.
const OPTIONAL_BITS: u32 = vdf::DISCARD
    | vdf::REQUEST_COMPLETE
    | vdf::SNAPSHOT_PREPARE
    | vdf::ENUM_FROZEN_FILES
    | vdf::VSS_WRITER
    | vdf::LATCH_STATS;
const KNOWN_CLIENT_BITS: u32 = vdf::REMOVABLE | TAPE_BITS | vdf::RANDOM_ACCESS | OPTIONAL_BITS;

/// Largest client alignment or prefix zone we accept (64 KiB, the largest server alignment).
pub const MAX_ALIGNMENT: u32 = 64 * 1024;
/// Smallest and largest BLOCKSIZE.
pub const BLOCK_SIZE_RANGE: (u32, u32) = (512, 64 * 1024);
/// MAXTRANSFERSIZE unit and range.
pub const TRANSFER_UNIT: u32 = 64 * 1024;
/// Largest MAXTRANSFERSIZE (4 MiB).
pub const MAX_TRANSFER_SIZE: u32 = 4 * 1024 * 1024;

/// The mode a client's feature mask selects, or `VD_E_NOTSUPPORTED`.
pub fn media_mode(features: u32) -> VdResult<MediaMode> {
    if features & vdf::SERVER_ONLY != 0 {
        return Err(VdError::new(Rule::CfgServerBits));
    }
    if features & !KNOWN_CLIENT_BITS != 0 {
        return Err(VdError::new(Rule::CfgFeatures));
    }
    let tape = features & TAPE_BITS;
    let disk = features & vdf::RANDOM_ACCESS != 0;
    match (tape, disk) {
        (0, false) => Ok(MediaMode::Pipe),
        (0, true) => Ok(MediaMode::Disk),
        // Tape mode is the whole VDF_LikeTape set; partial sets are undefined behaviour in the
        // specification, so they are refused (docs/decisions.md).
        (t, false) if t == TAPE_BITS && features & vdf::REMOVABLE != 0 => Ok(MediaMode::Tape),
        _ => Err(VdError::new(Rule::CfgFeatures)),
    }
}

/// Checks what a client passes to Create (vdi-facts §5, §5.1).
pub fn validate_client_request(cfg: &VdConfig) -> VdResult<MediaMode> {
    if cfg.device_count == 0 || cfg.device_count > MAX_DEVICES {
        return Err(VdError::new(Rule::CfgDeviceCount));
    }
    let mode = media_mode(cfg.features)?;
    if cfg.alignment != 0 && (!cfg.alignment.is_power_of_two() || cfg.alignment > MAX_ALIGNMENT) {
        return Err(VdError::new(Rule::CfgAlignment));
    }
    if cfg.prefix_zone_size > MAX_ALIGNMENT {
        return Err(VdError::new(Rule::CfgAlignment));
    }
    Ok(mode)
}

/// The direction of the operation the server configures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// BACKUP: the server writes to the media (`VDF_WriteMedia`).
    Backup,
    /// RESTORE: the server reads from the media (`VDF_ReadMedia`).
    Restore,
}

/// The arguments of the server's BeginConfiguration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerChoice {
    /// `VDF_WriteMedia` or `VDF_ReadMedia`.
    pub features: u32,
    /// BLOCKSIZE.
    pub block_size: u32,
    /// Final alignment; 0 means `block_size`.
    pub alignment: u32,
    /// MAXTRANSFERSIZE.
    pub max_transfer_size: u32,
    /// Milliseconds to wait for the primary client (kept for the record).
    pub timeout_ms: u32,
}

impl ServerChoice {
    /// Checks BeginConfiguration's arguments (vdi-facts §3.4).
    pub fn validate(&self) -> VdResult<Direction> {
        let direction = match self.features {
            vdf::WRITE_MEDIA => Direction::Backup,
            vdf::READ_MEDIA => Direction::Restore,
            _ => return Err(VdError::new(Rule::CfgDirection)),
        };
        let (lo, hi) = BLOCK_SIZE_RANGE;
        if !self.block_size.is_power_of_two() || self.block_size < lo || self.block_size > hi {
            return Err(VdError::new(Rule::CfgBlockSize));
        }
        if self.alignment != 0
            && (!self.alignment.is_power_of_two()
                || self.alignment < self.block_size
                || self.alignment > MAX_ALIGNMENT)
        {
            return Err(VdError::new(Rule::CfgServerAlignment));
        }
        if self.max_transfer_size == 0
            || !self.max_transfer_size.is_multiple_of(TRANSFER_UNIT)
            || self.max_transfer_size > MAX_TRANSFER_SIZE
        {
            return Err(VdError::new(Rule::CfgMaxTransfer));
        }
        Ok(direction)
    }

    /// The alignment buffers really get: the largest of the client's, the server's and BLOCKSIZE.
    pub fn effective_alignment(&self, requested: &VdConfig) -> u32 {
        let server = if self.alignment == 0 {
            self.block_size
        } else {
            self.alignment
        };
        server.max(requested.alignment).max(self.block_size)
    }
}

/// The configuration the client's GetConfiguration returns, built from its request and the
/// server's choice.
pub fn negotiated_config(
    requested: &VdConfig,
    choice: &ServerChoice,
    buffer_area_size: u32,
) -> VdConfig {
    let mut features = requested.features | choice.features;
    // VDC_Complete is only ever offered to a client that asked for it (KB3188454).
    if requested.features & vdf::REQUEST_COMPLETE != 0 {
        features |= vdf::COMPLETE_ENABLED;
    }
    VdConfig {
        device_count: requested.device_count,
        features,
        prefix_zone_size: requested.prefix_zone_size,
        alignment: choice.effective_alignment(requested),
        soft_file_mark_block_size: requested.soft_file_mark_block_size,
        eom_warning_size: requested.eom_warning_size,
        server_time_out: requested.server_time_out,
        block_size: choice.block_size,
        max_io_depth: MAX_IO_DEPTH,
        max_transfer_size: choice.max_transfer_size,
        buffer_area_size,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(devices: u32, features: u32) -> VdConfig {
        VdConfig {
            device_count: devices,
            features,
            ..VdConfig::default()
        }
    }

    #[test]
    fn device_count_is_1_to_64() {
        assert_eq!(
            validate_client_request(&cfg(0, 0)).unwrap_err().rule,
            Rule::CfgDeviceCount
        );
        assert_eq!(
            validate_client_request(&cfg(65, 0)).unwrap_err().rule,
            Rule::CfgDeviceCount
        );
        assert_eq!(validate_client_request(&cfg(1, 0)), Ok(MediaMode::Pipe));
        assert_eq!(validate_client_request(&cfg(64, 0)), Ok(MediaMode::Pipe));
    }

    #[test]
    fn modes_follow_the_feature_table() {
        assert_eq!(media_mode(vdf::LIKE_PIPE), Ok(MediaMode::Pipe));
        assert_eq!(media_mode(vdf::REMOVABLE), Ok(MediaMode::Pipe));
        assert_eq!(media_mode(vdf::LIKE_TAPE), Ok(MediaMode::Tape));
        assert_eq!(
            media_mode(vdf::LIKE_DISK | vdf::REMOVABLE),
            Ok(MediaMode::Disk)
        );
        assert_eq!(
            media_mode(vdf::LIKE_TAPE | vdf::DISCARD | vdf::REQUEST_COMPLETE),
            Ok(MediaMode::Tape)
        );
        assert_eq!(
            media_mode(vdf::POSITION).unwrap_err().rule,
            Rule::CfgFeatures
        );
        assert_eq!(
            media_mode(vdf::LIKE_TAPE | vdf::RANDOM_ACCESS)
                .unwrap_err()
                .rule,
            Rule::CfgFeatures
        );
        assert_eq!(media_mode(0x4).unwrap_err().rule, Rule::CfgFeatures);
        assert_eq!(
            media_mode(vdf::WRITE_MEDIA).unwrap_err().rule,
            Rule::CfgServerBits
        );
        assert_eq!(
            media_mode(vdf::COMPLETE_ENABLED).unwrap_err().rule,
            Rule::CfgServerBits
        );
    }

    #[test]
    fn like_tape_is_0x173_and_like_disk_is_random_access() {
        assert_eq!(vdf::LIKE_TAPE, 0x173);
        assert_eq!(vdf::LIKE_DISK, 0x200);
        assert_eq!(vdf::LIKE_PIPE, 0);
    }

    fn choice(block: u32, align: u32, mts: u32) -> ServerChoice {
        ServerChoice {
            features: vdf::WRITE_MEDIA,
            block_size: block,
            alignment: align,
            max_transfer_size: mts,
            timeout_ms: 0,
        }
    }

    #[test]
    fn server_choice_limits() {
        assert_eq!(choice(512, 0, 65536).validate(), Ok(Direction::Backup));
        assert_eq!(
            choice(65536, 65536, 4 << 20).validate(),
            Ok(Direction::Backup)
        );
        assert_eq!(
            choice(256, 0, 65536).validate().unwrap_err().rule,
            Rule::CfgBlockSize
        );
        assert_eq!(
            choice(131072, 0, 65536).validate().unwrap_err().rule,
            Rule::CfgBlockSize
        );
        assert_eq!(
            choice(1000, 0, 65536).validate().unwrap_err().rule,
            Rule::CfgBlockSize
        );
        assert_eq!(
            choice(4096, 512, 65536).validate().unwrap_err().rule,
            Rule::CfgServerAlignment
        );
        assert_eq!(
            choice(4096, 3 << 12, 65536).validate().unwrap_err().rule,
            Rule::CfgServerAlignment
        );
        assert_eq!(
            choice(512, 0, 65536 + 512).validate().unwrap_err().rule,
            Rule::CfgMaxTransfer
        );
        assert_eq!(
            choice(512, 0, 8 << 20).validate().unwrap_err().rule,
            Rule::CfgMaxTransfer
        );
        assert_eq!(
            choice(512, 0, 0).validate().unwrap_err().rule,
            Rule::CfgMaxTransfer
        );
        let both = ServerChoice {
            features: vdf::WRITE_MEDIA | vdf::READ_MEDIA,
            ..choice(512, 0, 65536)
        };
        assert_eq!(both.validate().unwrap_err().rule, Rule::CfgDirection);
    }

    #[test]
    fn complete_enabled_only_when_requested() {
        let c = choice(512, 0, 65536);
        let plain = negotiated_config(&cfg(1, 0), &c, 0);
        assert_eq!(plain.features & vdf::COMPLETE_ENABLED, 0);
        assert_eq!(plain.features & vdf::WRITE_MEDIA, vdf::WRITE_MEDIA);
        assert_eq!(plain.max_io_depth, 4);
        let asked = negotiated_config(&cfg(1, vdf::REQUEST_COMPLETE), &c, 0);
        assert_ne!(asked.features & vdf::COMPLETE_ENABLED, 0);
    }

    #[test]
    fn effective_alignment_is_the_largest_demand() {
        let c = choice(4096, 0, 65536);
        assert_eq!(
            c.effective_alignment(&VdConfig {
                alignment: 512,
                ..cfg(1, 0)
            }),
            4096
        );
        assert_eq!(
            c.effective_alignment(&VdConfig {
                alignment: 16384,
                ..cfg(1, 0)
            }),
            16384
        );
    }
}
