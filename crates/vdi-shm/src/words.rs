//! What the client library and the server write into the shared state words.
//!
//! The set-state word is a bit set both sides `fetch_or` into; every change is followed by a
//! `notify_all` of the state event count. Device state words are claimed with a
//! compare-and-swap so that a primary and its secondaries never open the same device twice.

/// Set-state bits.
pub mod set {
    /// The server opened the set (Open).
    pub const CONNECTED: u32 = 1 << 0;
    /// The server finished configuring (EndConfiguration): config, names and buffer region
    /// are published.
    pub const CONFIGURED: u32 = 1 << 1;
    /// The primary client's GetConfiguration returned: secondaries may join.
    pub const CLIENT_CONFIGURED: u32 = 1 << 2;
    /// The server closed the set.
    pub const SERVER_CLOSED: u32 = 1 << 3;
    /// The primary client closed the set.
    pub const CLIENT_CLOSED: u32 = 1 << 4;
    /// Every bit either side may set.
    pub const ALL: u32 = CONNECTED | CONFIGURED | CLIENT_CONFIGURED | SERVER_CLOSED | CLIENT_CLOSED;
}

/// Client device-state word values.
pub mod device {
    /// No client process opened the device yet.
    pub const UNOPENED: u32 = 0;
    /// A client process (primary or secondary) opened it.
    pub const OPENED: u32 = 1;
}
