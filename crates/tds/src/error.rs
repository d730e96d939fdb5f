//! What can go wrong with bytes from a client. Every variant ends the connection: TDS has no
//! way to resynchronise a stream after a framing or structural error.

/// A protocol error in what the client sent (or a limit it crossed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TdsError {
    #[error("truncated {what}: {needed} more byte(s) needed, {available} left")]
    Truncated {
        what: &'static str,
        needed: usize,
        available: usize,
    },
    #[error("malformed {what}: {detail}")]
    Malformed { what: &'static str, detail: String },
    #[error("packet length {length} outside {min}..={max}")]
    BadPacketLength {
        length: usize,
        min: usize,
        max: usize,
    },
    #[error("message of more than {limit} bytes")]
    MessageTooLarge { limit: usize },
    #[error("unexpected packet type 0x{packet_type:02X} {during}")]
    UnexpectedPacket {
        packet_type: u8,
        during: &'static str,
    },
    #[error("unsupported: {0}")]
    Unsupported(String),
    #[error("the client took longer than the login timeout")]
    LoginTimeout,
}

impl TdsError {
    pub(crate) fn malformed(what: &'static str, detail: impl Into<String>) -> Self {
        TdsError::Malformed {
            what,
            detail: detail.into(),
        }
    }
}

pub type Result<T, E = TdsError> = std::result::Result<T, E>;
