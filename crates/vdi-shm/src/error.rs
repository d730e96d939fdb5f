//! Typed errors of the transport and their VD_E_* mapping.

use vdi_proto::{Rule, VdCode, VdError};

/// Which side of the set detected a problem (it decides the rule a fault maps to).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// The backup application (vdi-client).
    Client,
    /// The fake SQL Server (vdi-server).
    Server,
}

/// A value read from the peer's memory that breaks the protocol. The caller aborts the set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum PeerFault {
    /// Ring indices out of range (`tail - head` beyond the capacity, or an index moved back).
    #[error("ring indices out of range: head {head}, tail {tail}, capacity {capacity}")]
    BadIndex {
        /// The consumer index read.
        head: u64,
        /// The producer index read.
        tail: u64,
        /// The ring's capacity.
        capacity: u32,
    },
    /// A command code that is neither a VDC_* code nor the close marker.
    #[error("unknown command code {0}")]
    BadCode(u32),
    /// Unknown descriptor flags.
    #[error("unknown descriptor flags {0:#x}")]
    BadFlags(u32),
    /// A command id with generation 0 (never a live command).
    #[error("invalid command id {0:#x}")]
    BadId(u64),
    /// A buffer range outside the buffer area, or larger than the transfer limit.
    #[error("buffer range {offset}+{size} outside the buffer area of {area} bytes")]
    BadBuffer {
        /// Offset read.
        offset: u64,
        /// Size read.
        size: u32,
        /// Size of the buffer area.
        area: u64,
    },
    /// A word of the region header that the peer changed to an impossible value.
    #[error("corrupted header field {0}")]
    BadHeader(&'static str),
    /// The region the peer named exists but the peer did not make it (another owner, another
    /// creator): it is neither read nor written.
    #[error("the {0} region was not created by the peer")]
    ForeignRegion(&'static str),
}

impl PeerFault {
    /// The error the local caller gets: the client aborts (VD_E_ABORT, VDI-PEER-002); the server
    /// refuses the completion (VD_E_PROTOCOL, VDI-SRV-PEER-002) and aborts the set.
    pub fn to_vd_error(self, detected_by: Side) -> VdError {
        match (self, detected_by) {
            (PeerFault::ForeignRegion(_), Side::Client) => VdError {
                code: VdCode::Abort,
                rule: Rule::ClientForeignRegion,
            },
            (_, Side::Client) => VdError {
                code: VdCode::Abort,
                rule: Rule::ClientBadMessage,
            },
            (_, Side::Server) => VdError {
                code: VdCode::Protocol,
                rule: Rule::SrvBadCompletion,
            },
        }
    }
}

/// Why a region could not be created or opened.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegionError {
    /// The set name cannot be turned into a region name.
    #[error(transparent)]
    Name(#[from] crate::naming::NameError),
    /// A region of that name already exists (a live set of the same name).
    #[error("region {0} already exists")]
    Exists(String),
    /// The set name's control region exists and belongs to another user: it is never touched.
    #[error("region {name} belongs to uid {uid}, not to this user")]
    Foreign {
        /// The region name.
        name: String,
        /// Its owner.
        uid: u32,
    },
    /// The buffer region's (unguessable) name was taken by an object this server did not make:
    /// it is neither mapped nor written.
    #[error(
        "region {name} already exists and was not created by this server (owner uid {}); \
         refusing to use it",
        owner.map_or_else(|| "unknown".to_string(), |u| u.to_string())
    )]
    Squatted {
        /// The region name.
        name: String,
        /// The owner of the object found there.
        owner: Option<u32>,
    },
    /// No region of that name.
    #[error("region {0} does not exist")]
    NotFound(String),
    /// Not ours: another uid, a mode that is too open, or access denied.
    #[error("region {name}: {reason}")]
    Security {
        /// The region name.
        name: String,
        /// What the check found.
        reason: String,
    },
    /// The creator has not published the header yet.
    #[error("region {0} is not initialised yet")]
    NotReady(String),
    /// Not a vdisim region of this kind.
    #[error("region {name}: bad magic {found:#018x}")]
    BadMagic {
        /// The region name.
        name: String,
        /// The magic read.
        found: u64,
    },
    /// A different layout version.
    #[error("region {name}: layout version {found}, expected {expected}")]
    VersionMismatch {
        /// The region name.
        name: String,
        /// The version read.
        found: u32,
        /// Ours.
        expected: u32,
    },
    /// Sizes or geometry disagree with the object or with each other.
    #[error("region {name}: inconsistent geometry ({what})")]
    Geometry {
        /// The region name.
        name: String,
        /// Which check failed.
        what: String,
    },
    /// Bad creation parameters (device count, capacity, sizes).
    #[error("invalid region parameters: {0}")]
    InvalidParams(String),
    /// A system call failed.
    #[error("{op} failed for region {name}: {errno}")]
    Io {
        /// What was attempted.
        op: &'static str,
        /// The region name.
        name: String,
        /// The OS error.
        errno: rustix::io::Errno,
    },
}

impl RegionError {
    /// The VD_E_* code and rule the caller gets.
    ///
    /// Security problems map to VD_E_SECURITY with the "no accessible set" rule
    /// (VDI-SRV-OPEN-002), whose table code is VD_E_INVALID; the code is overridden because
    /// the rule table has no security row.
    pub fn to_vd_error(&self, side: Side) -> VdError {
        match (self, side) {
            (RegionError::Name(e), _) => e.to_vd_error(),
            (RegionError::Exists(_), _) => VdError::new(Rule::CreateNameInUse),
            (RegionError::Foreign { .. }, _) => VdError::new(Rule::CreateNameForeign),
            (RegionError::Squatted { .. }, _) => VdError::new(Rule::SrvBufferSquatted),
            (RegionError::Security { .. }, _) => VdError {
                code: VdCode::Security,
                rule: Rule::SrvOpenNoSet,
            },
            (RegionError::NotFound(_) | RegionError::NotReady(_), Side::Server) => {
                VdError::new(Rule::SrvOpenNoSet)
            }
            (RegionError::InvalidParams(_), Side::Client) => VdError::new(Rule::CreateBadConfig),
            (RegionError::InvalidParams(_), Side::Server) => VdError::new(Rule::SrvEndConfigMemory),
            (_, Side::Server) => VdError::new(Rule::SrvOpenNoSet),
            (_, Side::Client) => VdError::new(Rule::ClientServerGone),
        }
    }
}
