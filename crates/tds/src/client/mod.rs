//! The client side of TDS, sans-IO: what `vdisim sqlcmd -S host,port` sends (PRELOGIN, LOGIN7,
//! SQL_BATCH, ATTENTION) and how it reads the server's answer as it arrives, packet by packet
//! ([`PacketReader`]) and token by token ([`TokenDecoder`]), so BACKUP's progress messages are
//! seen while the statement runs. No sockets, no TLS library: the caller brings those.

mod tokens;

pub use tokens::{ServerToken, TokenDecoder};

use crate::error::{Result, TdsError};
use crate::login7::Login7Builder;
use crate::packet::{HEADER_LEN, MAX_PACKET_SIZE, PacketHeader, status};
use crate::prelogin::ClientPrelogin;

/// The client's PRELOGIN: version, the encryption it asks for, the instance (empty for the
/// default one), its thread id, MARS off.
#[must_use]
pub fn prelogin(encryption: u8, instance: &str, thread_id: u32) -> Vec<u8> {
    let mut instance_bytes = instance.as_bytes().to_vec();
    instance_bytes.push(0);
    let options: [(u8, Vec<u8>); 5] = [
        // vdisim's own version, as a driver sends its own: 0.1.0.0, sub-build 0.
        (0x00, vec![0, 1, 0, 0, 0, 0]),
        (0x01, vec![encryption]),
        (0x02, instance_bytes),
        (0x03, thread_id.to_be_bytes().to_vec()),
        (0x04, vec![0]),
    ];
    let table_len = options.len() * 5 + 1;
    let mut out = Vec::new();
    let mut data = Vec::new();
    for (token, value) in &options {
        out.push(*token);
        out.extend_from_slice(&((table_len + data.len()) as u16).to_be_bytes());
        out.extend_from_slice(&(value.len() as u16).to_be_bytes());
        data.extend_from_slice(value);
    }
    out.push(0xFF);
    out.extend_from_slice(&data);
    out
}

/// What the server's PRELOGIN answer says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreloginReply {
    /// `B_FENCRYPTION` ([`crate::prelogin::encrypt`]).
    pub encryption: u8,
    /// The server's version: major, minor, build.
    pub version: Option<(u8, u8, u16)>,
}

/// Reads the server's PRELOGIN answer (the same option table a client sends).
pub fn parse_prelogin_reply(payload: &[u8]) -> Result<PreloginReply> {
    let parsed = ClientPrelogin::parse(payload)?;
    let encryption = parsed
        .encryption
        .ok_or_else(|| TdsError::malformed("PRELOGIN answer", "no ENCRYPTION option"))?;
    Ok(PreloginReply {
        encryption,
        version: parsed
            .version
            .map(|v| (v[0], v[1], u16::from_be_bytes([v[2], v[3]]))),
    })
}

/// Who logs in, and how.
#[derive(Debug, Clone, Default)]
pub struct LoginParams {
    pub tds_version: u32,
    pub packet_size: u32,
    pub hostname: String,
    pub username: String,
    pub password: String,
    pub app_name: String,
    pub server_name: String,
    pub database: String,
}

/// A LOGIN7 payload with SQL Server authentication.
#[must_use]
pub fn login7(params: &LoginParams) -> Vec<u8> {
    Login7Builder {
        tds_version: params.tds_version,
        packet_size: params.packet_size,
        hostname: params.hostname.clone(),
        username: params.username.clone(),
        password: params.password.clone(),
        app_name: params.app_name.clone(),
        server_name: params.server_name.clone(),
        library_name: "vdisim".to_owned(),
        database: params.database.clone(),
        features: Vec::new(),
    }
    .encode()
}

/// A SQL_BATCH payload: ALL_HEADERS (transaction descriptor) and the text in UTF-16.
#[must_use]
pub fn sql_batch(text: &str) -> Vec<u8> {
    crate::request::client::sql_batch(text)
}

/// One packet from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    pub packet_type: u8,
    pub end_of_message: bool,
    pub body: Vec<u8>,
}

/// Cuts the server's byte stream into packets. Holds at most one partial packet.
#[derive(Debug, Default)]
pub struct PacketReader {
    partial: Vec<u8>,
    ready: std::collections::VecDeque<Packet>,
}

impl PacketReader {
    #[must_use]
    pub fn new() -> Self {
        PacketReader::default()
    }

    /// Takes bytes from the server. An error is final.
    pub fn handle_bytes(&mut self, mut data: &[u8]) -> Result<()> {
        while !data.is_empty() {
            if self.partial.len() < HEADER_LEN {
                let take = (HEADER_LEN - self.partial.len()).min(data.len());
                self.partial.extend_from_slice(&data[..take]);
                data = &data[take..];
                if self.partial.len() < HEADER_LEN {
                    break;
                }
            }
            let header = self.header();
            let length = usize::from(header.length);
            if !(HEADER_LEN..=MAX_PACKET_SIZE).contains(&length) {
                return Err(TdsError::BadPacketLength {
                    length,
                    min: HEADER_LEN,
                    max: MAX_PACKET_SIZE,
                });
            }
            let take = (length - self.partial.len()).min(data.len());
            self.partial.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.partial.len() == length {
                self.ready.push_back(Packet {
                    packet_type: header.packet_type,
                    end_of_message: header.status & status::EOM != 0,
                    body: self.partial[HEADER_LEN..].to_vec(),
                });
                self.partial.clear();
            }
        }
        Ok(())
    }

    /// The next complete packet.
    #[must_use]
    pub fn poll_packet(&mut self) -> Option<Packet> {
        self.ready.pop_front()
    }

    /// Whether a packet has started but not ended.
    #[must_use]
    pub fn in_packet(&self) -> bool {
        !self.partial.is_empty()
    }

    fn header(&self) -> PacketHeader {
        let mut h = [0u8; HEADER_LEN];
        h.copy_from_slice(&self.partial[..HEADER_LEN]);
        PacketHeader::parse(&h)
    }
}

#[cfg(test)]
mod tests;
