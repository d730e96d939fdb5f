//! Numeric constants of the VDI SDK, exactly as the headers define them (vdi-facts §1).

use serde::{Deserialize, Serialize};

/// The VDI facility code used in every VD_E_* HRESULT.
pub const FACILITY_VDI: u32 = 0x77;

/// Builds `MAKE_HRESULT(SEVERITY_ERROR, 0x77, code)`.
pub const fn vd_error(code: u32) -> u32 {
    (1 << 31) | (FACILITY_VDI << 16) | code
}

/// Every VD_E_* code. The discriminant is the low 16 bits of the HRESULT.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u32)]
pub enum VdCode {
    /// The object was not open.
    NotOpen = 2,
    /// The wait ran out of time.
    Timeout = 3,
    /// The set is in the Abort state; only Close is useful.
    Abort = 4,
    /// The security environment could not be created.
    Security = 5,
    /// An invalid parameter was supplied.
    Invalid = 6,
    /// The instance name was not recognised.
    InstanceName = 7,
    /// The requested configuration is invalid or unsupported.
    NotSupported = 9,
    /// Out of memory.
    Memory = 10,
    /// Unexpected internal error.
    Unexpected = 11,
    /// The call is not legal in the current state.
    Protocol = 12,
    /// All devices are open.
    Open = 13,
    /// The object is now closed.
    Close = 14,
    /// The resource is busy.
    Busy = 15,
    /// Server side only; the value is our choice (no header defines it, see docs/decisions.md).
    QueueFull = 0x100,
    /// Server side only; the value is our choice (no header defines it, see docs/decisions.md).
    IoError = 0x101,
}

impl VdCode {
    /// Every code, in header order.
    pub const ALL: [VdCode; 15] = [
        VdCode::NotOpen,
        VdCode::Timeout,
        VdCode::Abort,
        VdCode::Security,
        VdCode::Invalid,
        VdCode::InstanceName,
        VdCode::NotSupported,
        VdCode::Memory,
        VdCode::Unexpected,
        VdCode::Protocol,
        VdCode::Open,
        VdCode::Close,
        VdCode::Busy,
        VdCode::QueueFull,
        VdCode::IoError,
    ];

    /// The HRESULT as Windows declares it (`0x8077xxxx`).
    pub const fn hresult(self) -> u32 {
        vd_error(self as u32)
    }

    /// The same value as the Linux SDK's `int` (a negative number).
    pub const fn linux_code(self) -> i32 {
        self.hresult() as i32
    }

    /// The header name, e.g. `VD_E_TIMEOUT`.
    pub const fn name(self) -> &'static str {
        match self {
            VdCode::NotOpen => "VD_E_NOTOPEN",
            VdCode::Timeout => "VD_E_TIMEOUT",
            VdCode::Abort => "VD_E_ABORT",
            VdCode::Security => "VD_E_SECURITY",
            VdCode::Invalid => "VD_E_INVALID",
            VdCode::InstanceName => "VD_E_INSTANCE_NAME",
            VdCode::NotSupported => "VD_E_NOTSUPPORTED",
            VdCode::Memory => "VD_E_MEMORY",
            VdCode::Unexpected => "VD_E_UNEXPECTED",
            VdCode::Protocol => "VD_E_PROTOCOL",
            VdCode::Open => "VD_E_OPEN",
            VdCode::Close => "VD_E_CLOSE",
            VdCode::Busy => "VD_E_BUSY",
            VdCode::QueueFull => "VD_E_QUEUE_FULL",
            VdCode::IoError => "VD_E_IO_ERROR",
        }
    }

    /// The header comment, paraphrased.
    pub const fn meaning(self) -> &'static str {
        match self {
            VdCode::NotOpen => "the object was not open",
            VdCode::Timeout => "the wait ran out of time",
            VdCode::Abort => "an abort request blocks everything except termination",
            VdCode::Security => "could not create the security environment",
            VdCode::Invalid => "an invalid parameter was supplied",
            VdCode::InstanceName => "the SQL Server instance name was not recognised",
            VdCode::NotSupported => "the requested configuration is invalid",
            VdCode::Memory => "out of memory",
            VdCode::Unexpected => "unexpected internal error",
            VdCode::Protocol => "the call is not legal in the current state",
            VdCode::Open => "all devices are open",
            VdCode::Close => "the object is now closed",
            VdCode::Busy => "the resource is busy",
            VdCode::QueueFull => "the device's command queue is full",
            VdCode::IoError => "the device is in the IO-ERROR state",
        }
    }

    /// Decodes an HRESULT (either view) back into a code.
    pub fn from_hresult(hr: u32) -> Option<VdCode> {
        VdCode::ALL.into_iter().find(|c| c.hresult() == hr)
    }

    /// Decodes the Linux `int` view.
    pub fn from_linux_code(code: i32) -> Option<VdCode> {
        Self::from_hresult(code as u32)
    }
}

impl std::fmt::Display for VdCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (0x{:08X})", self.name(), self.hresult())
    }
}

/// `NOERROR` / `S_OK`.
pub const NOERROR: i32 = 0;

/// Command codes, `enum VDCommands` (vdi-facts §1.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[repr(u32)]
#[allow(missing_docs)]
pub enum VdcCode {
    Read = 1,
    Write = 2,
    ClearError = 3,
    Rewind = 4,
    WriteMark = 5,
    SkipMarks = 6,
    SkipBlocks = 7,
    Load = 8,
    GetPosition = 9,
    SetPosition = 10,
    Discard = 11,
    Flush = 12,
    Snapshot = 13,
    MountSnapshot = 14,
    PrepareToFreeze = 15,
    FileInfoBegin = 16,
    FileInfoEnd = 17,
    GetError = 18,
    Complete = 19,
}

impl VdcCode {
    /// Every command code, 1..=19.
    pub const ALL: [VdcCode; 19] = [
        VdcCode::Read,
        VdcCode::Write,
        VdcCode::ClearError,
        VdcCode::Rewind,
        VdcCode::WriteMark,
        VdcCode::SkipMarks,
        VdcCode::SkipBlocks,
        VdcCode::Load,
        VdcCode::GetPosition,
        VdcCode::SetPosition,
        VdcCode::Discard,
        VdcCode::Flush,
        VdcCode::Snapshot,
        VdcCode::MountSnapshot,
        VdcCode::PrepareToFreeze,
        VdcCode::FileInfoBegin,
        VdcCode::FileInfoEnd,
        VdcCode::GetError,
        VdcCode::Complete,
    ];

    /// Decodes a wire value; `None` for anything outside 1..=19.
    pub fn from_u32(v: u32) -> Option<VdcCode> {
        VdcCode::ALL.get((v as usize).wrapping_sub(1)).copied()
    }

    /// The header name, e.g. `VDC_Write`.
    pub fn name(self) -> &'static str {
        match self {
            VdcCode::Read => "VDC_Read",
            VdcCode::Write => "VDC_Write",
            VdcCode::ClearError => "VDC_ClearError",
            VdcCode::Rewind => "VDC_Rewind",
            VdcCode::WriteMark => "VDC_WriteMark",
            VdcCode::SkipMarks => "VDC_SkipMarks",
            VdcCode::SkipBlocks => "VDC_SkipBlocks",
            VdcCode::Load => "VDC_Load",
            VdcCode::GetPosition => "VDC_GetPosition",
            VdcCode::SetPosition => "VDC_SetPosition",
            VdcCode::Discard => "VDC_Discard",
            VdcCode::Flush => "VDC_Flush",
            VdcCode::Snapshot => "VDC_Snapshot",
            VdcCode::MountSnapshot => "VDC_MountSnapshot",
            VdcCode::PrepareToFreeze => "VDC_PrepareToFreeze",
            VdcCode::FileInfoBegin => "VDC_FileInfoBegin",
            VdcCode::FileInfoEnd => "VDC_FileInfoEnd",
            VdcCode::GetError => "VDC_GetError",
            VdcCode::Complete => "VDC_Complete",
        }
    }

    /// Read and Write move data through the command's buffer.
    pub fn transfers_data(self) -> bool {
        matches!(self, VdcCode::Read | VdcCode::Write)
    }
}

impl std::fmt::Display for VdcCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Feature flags, `enum VDFeatures` (vdi-facts §1.3).
pub mod vdf {
    #![allow(missing_docs)]
    pub const REMOVABLE: u32 = 0x1;
    pub const REWIND: u32 = 0x2;
    pub const POSITION: u32 = 0x10;
    pub const SKIP_BLOCKS: u32 = 0x20;
    pub const REVERSE_POSITION: u32 = 0x40;
    pub const DISCARD: u32 = 0x80;
    pub const FILE_MARKS: u32 = 0x100;
    pub const RANDOM_ACCESS: u32 = 0x200;
    pub const SNAPSHOT_PREPARE: u32 = 0x400;
    pub const ENUM_FROZEN_FILES: u32 = 0x800;
    pub const VSS_WRITER: u32 = 0x1000;
    pub const REQUEST_COMPLETE: u32 = 0x2000;
    pub const WRITE_MEDIA: u32 = 0x10000;
    pub const READ_MEDIA: u32 = 0x20000;
    pub const COMPLETE_ENABLED: u32 = 0x40000;
    pub const LATCH_STATS: u32 = 0x8000_0000;
    pub const LIKE_PIPE: u32 = 0;
    pub const LIKE_TAPE: u32 =
        FILE_MARKS | REMOVABLE | REWIND | POSITION | SKIP_BLOCKS | REVERSE_POSITION;
    pub const LIKE_DISK: u32 = RANDOM_ACCESS;
    /// Bits only the server may set in the returned configuration.
    pub const SERVER_ONLY: u32 = WRITE_MEDIA | READ_MEDIA | COMPLETE_ENABLED;
}

/// `enum VDWhence`, the origin of a SetPosition under VDF_RandomAccess.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[repr(u32)]
#[allow(missing_docs)]
pub enum VdWhence {
    Beginning = 0,
    Current = 1,
    End = 2,
}

/// Win32 completion codes a client passes to CompleteCommand (vdi-facts §1.2).
pub mod win32 {
    #![allow(missing_docs)]
    pub const ERROR_SUCCESS: u32 = 0;
    pub const ERROR_INVALID_HANDLE: u32 = 6;
    pub const ERROR_ARENA_TRASHED: u32 = 7;
    pub const ERROR_BAD_ENVIRONMENT: u32 = 10;
    pub const ERROR_HANDLE_EOF: u32 = 38;
    pub const ERROR_HANDLE_DISK_FULL: u32 = 39;
    pub const ERROR_NOT_SUPPORTED: u32 = 50;
    pub const ERROR_DISK_FULL: u32 = 112;
    pub const ERROR_OPERATION_ABORTED: u32 = 995;
    pub const ERROR_END_OF_MEDIA: u32 = 1100;
    pub const ERROR_FILEMARK_DETECTED: u32 = 1101;
    pub const ERROR_NO_DATA_DETECTED: u32 = 1104;
    pub const ERROR_IO_DEVICE: u32 = 1117;
    pub const ERROR_EOM_OVERFLOW: u32 = 1129;
    pub const ERROR_NO_SYSTEM_RESOURCES: u32 = 1450;

    /// The name of a known code, for transcripts and messages.
    pub fn name(code: u32) -> Option<&'static str> {
        Some(match code {
            ERROR_SUCCESS => "ERROR_SUCCESS",
            ERROR_INVALID_HANDLE => "ERROR_INVALID_HANDLE",
            ERROR_ARENA_TRASHED => "ERROR_ARENA_TRASHED",
            ERROR_BAD_ENVIRONMENT => "ERROR_BAD_ENVIRONMENT",
            ERROR_HANDLE_EOF => "ERROR_HANDLE_EOF",
            ERROR_HANDLE_DISK_FULL => "ERROR_HANDLE_DISK_FULL",
            ERROR_NOT_SUPPORTED => "ERROR_NOT_SUPPORTED",
            ERROR_DISK_FULL => "ERROR_DISK_FULL",
            ERROR_OPERATION_ABORTED => "ERROR_OPERATION_ABORTED",
            ERROR_END_OF_MEDIA => "ERROR_END_OF_MEDIA",
            ERROR_FILEMARK_DETECTED => "ERROR_FILEMARK_DETECTED",
            ERROR_NO_DATA_DETECTED => "ERROR_NO_DATA_DETECTED",
            ERROR_IO_DEVICE => "ERROR_IO_DEVICE",
            ERROR_EOM_OVERFLOW => "ERROR_EOM_OVERFLOW",
            ERROR_NO_SYSTEM_RESOURCES => "ERROR_NO_SYSTEM_RESOURCES",
            _ => return None,
        })
    }

    /// The end-of-data codes that end a Read stream normally (vdi-facts §6).
    pub fn is_end_of_data(code: u32) -> bool {
        matches!(
            code,
            ERROR_HANDLE_EOF | ERROR_NO_DATA_DETECTED | ERROR_FILEMARK_DETECTED
        )
    }
}

/// `INFINITE` on Windows; on Linux any negative timeout also waits for ever.
pub const INFINITE: u32 = 0xFFFF_FFFF;
/// The fixed value servers report in `maxIODepth` (vdi-facts §5).
pub const MAX_IO_DEPTH: u32 = 4;
/// Largest device count (vdi-facts §5).
pub const MAX_DEVICES: u32 = 64;
