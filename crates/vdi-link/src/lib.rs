//! Where the client library and the fake sqlservr meet, and nothing else.
//!
//! * [`client`]: what the client set needs from a transport ([`client::ClientLink`],
//!   [`client::Connector`], [`client::BufferMemory`]);
//! * [`server`]: what the server-side set needs ([`server::ServerLink`],
//!   [`server::ServerConnector`], [`server::ServerBuffers`]);
//! * [`inproc`]: both ends of an in-memory transport, for tests in one process;
//! * [`set_key`]: the key a set is known by on either side.
//!
//! Each side's shared-memory link stays with that side (`vdi_client::shm`, `vdi_server::vdi::shm`)
//! and meets the other only through the regions of `vdi_shm`. Keeping these pieces below both
//! crates means `vdi-server` never depends on the client library it is there to test.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod client;
pub mod inproc;
pub mod server;

/// The key a set is known by: its name, qualified by the instance for a named instance.
/// NUL never occurs in either part (both are refused), so the key is unambiguous.
pub fn set_key(instance: Option<&str>, set_name: &str) -> String {
    match instance {
        Some(i) if !i.is_empty() => format!("{i}\0{set_name}"),
        _ => set_name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::set_key;

    #[test]
    fn the_default_instance_is_the_bare_name_and_named_ones_never_collide() {
        assert_eq!(set_key(None, "s"), "s");
        assert_eq!(set_key(Some(""), "s"), "s");
        assert_eq!(set_key(Some("i"), "s"), "i\0s");
        assert_ne!(set_key(Some("a"), "bc"), set_key(Some("ab"), "c"));
    }
}
