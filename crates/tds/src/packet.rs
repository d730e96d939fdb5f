//! TDS packets: the 8-byte header, reassembly of a message from its packets (with limits), and
//! cutting a message into packets of the negotiated size.

use std::collections::VecDeque;

use crate::error::{Result, TdsError};

pub const HEADER_LEN: usize = 8;
/// The smallest packet size a client may negotiate.
pub const MIN_PACKET_SIZE: usize = 512;
/// The largest packet size a client may negotiate.
pub const MAX_PACKET_SIZE: usize = 32_767;
/// SQL Server's default, and the size of every packet before LOGIN7 settles it.
pub const DEFAULT_PACKET_SIZE: usize = 4096;
/// The default limit on one reassembled client message (a batch's text, an RPC with its
/// parameters). SQL Server allows 65,536 × the packet size; a test server needs far less.
pub const DEFAULT_MAX_MESSAGE: usize = 16 << 20;

/// Packet types (MS-TDS 2.2.3.1.1).
pub mod packet_type {
    pub const SQL_BATCH: u8 = 0x01;
    pub const PRE_TDS7_LOGIN: u8 = 0x02;
    pub const RPC: u8 = 0x03;
    pub const TABULAR_RESULT: u8 = 0x04;
    pub const ATTENTION: u8 = 0x06;
    pub const BULK_LOAD: u8 = 0x07;
    pub const FED_AUTH_TOKEN: u8 = 0x08;
    pub const TRANSACTION_MANAGER: u8 = 0x0E;
    pub const LOGIN7: u8 = 0x10;
    pub const SSPI: u8 = 0x11;
    pub const PRELOGIN: u8 = 0x12;
}

/// Status bits (MS-TDS 2.2.3.1.2).
pub mod status {
    pub const EOM: u8 = 0x01;
    pub const IGNORE: u8 = 0x02;
    pub const RESET_CONNECTION: u8 = 0x08;
    pub const RESET_CONNECTION_SKIP_TRAN: u8 = 0x10;
}

/// A packet header as it is on the wire (length and SPID big-endian).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketHeader {
    pub packet_type: u8,
    pub status: u8,
    /// Header included.
    pub length: u16,
    pub spid: u16,
    pub packet_id: u8,
    pub window: u8,
}

impl PacketHeader {
    #[must_use]
    pub fn parse(bytes: &[u8; HEADER_LEN]) -> Self {
        PacketHeader {
            packet_type: bytes[0],
            status: bytes[1],
            length: u16::from_be_bytes([bytes[2], bytes[3]]),
            spid: u16::from_be_bytes([bytes[4], bytes[5]]),
            packet_id: bytes[6],
            window: bytes[7],
        }
    }

    pub fn write(&self, out: &mut Vec<u8>) {
        out.push(self.packet_type);
        out.push(self.status);
        out.extend_from_slice(&self.length.to_be_bytes());
        out.extend_from_slice(&self.spid.to_be_bytes());
        out.push(self.packet_id);
        out.push(self.window);
    }
}

/// One reassembled client message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub packet_type: u8,
    pub payload: Vec<u8>,
    /// The first packet asked for a connection reset (sp_reset_connection semantics).
    pub reset_connection: bool,
}

/// Reassembles messages from a byte stream. Memory is bounded: one partial packet (at most
/// the packet size), one partial message (at most `max_message`), and the complete messages
/// not yet taken.
#[derive(Debug)]
pub struct Deframer {
    partial_packet: Vec<u8>,
    message: Option<Message>,
    complete: VecDeque<Message>,
    max_packet: usize,
    max_message: usize,
}

impl Deframer {
    #[must_use]
    pub fn new(max_packet: usize, max_message: usize) -> Self {
        Deframer {
            partial_packet: Vec::new(),
            message: None,
            complete: VecDeque::new(),
            max_packet: max_packet.clamp(MIN_PACKET_SIZE, MAX_PACKET_SIZE),
            max_message,
        }
    }

    /// Packets may be up to this size from now on (after LOGIN7's packet size is agreed).
    pub fn set_max_packet(&mut self, max_packet: usize) {
        self.max_packet = max_packet.clamp(MIN_PACKET_SIZE, MAX_PACKET_SIZE);
    }

    /// Whether a message has started but not ended.
    #[must_use]
    pub fn in_message(&self) -> bool {
        self.message.is_some() || !self.partial_packet.is_empty()
    }

    /// Takes bytes from the client. An error is final: the stream cannot be resynchronised.
    pub fn handle_bytes(&mut self, mut data: &[u8]) -> Result<()> {
        while !data.is_empty() {
            if self.partial_packet.len() < HEADER_LEN {
                let take = (HEADER_LEN - self.partial_packet.len()).min(data.len());
                self.partial_packet.extend_from_slice(&data[..take]);
                data = &data[take..];
                if self.partial_packet.len() < HEADER_LEN {
                    break;
                }
                self.check_header()?;
            }
            let header = self.header();
            let want = usize::from(header.length) - self.partial_packet.len();
            let take = want.min(data.len());
            self.partial_packet.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.partial_packet.len() == usize::from(header.length) {
                self.finish_packet(header)?;
            }
        }
        Ok(())
    }

    /// The next complete message, oldest first.
    #[must_use]
    pub fn poll_message(&mut self) -> Option<Message> {
        self.complete.pop_front()
    }

    fn header(&self) -> PacketHeader {
        let mut h = [0u8; HEADER_LEN];
        h.copy_from_slice(&self.partial_packet[..HEADER_LEN]);
        PacketHeader::parse(&h)
    }

    fn check_header(&self) -> Result<()> {
        let header = self.header();
        let length = usize::from(header.length);
        if !(HEADER_LEN..=self.max_packet).contains(&length) {
            return Err(TdsError::BadPacketLength {
                length,
                min: HEADER_LEN,
                max: self.max_packet,
            });
        }
        if let Some(message) = &self.message
            && message.packet_type != header.packet_type
        {
            return Err(TdsError::malformed(
                "packet",
                format!(
                    "a 0x{:02X} packet in the middle of a 0x{:02X} message",
                    header.packet_type, message.packet_type
                ),
            ));
        }
        Ok(())
    }

    fn finish_packet(&mut self, header: PacketHeader) -> Result<()> {
        let body = &self.partial_packet[HEADER_LEN..];
        let message = self.message.get_or_insert_with(|| Message {
            packet_type: header.packet_type,
            payload: Vec::new(),
            reset_connection: header.status
                & (status::RESET_CONNECTION | status::RESET_CONNECTION_SKIP_TRAN)
                != 0,
        });
        if message.payload.len() + body.len() > self.max_message {
            return Err(TdsError::MessageTooLarge {
                limit: self.max_message,
            });
        }
        message.payload.extend_from_slice(body);
        self.partial_packet.clear();
        if header.status & status::EOM != 0 {
            let message = self.message.take().expect("a message was started above");
            // IGNORE: the client abandoned the message (it is about to send an attention).
            if header.status & status::IGNORE == 0 {
                self.complete.push_back(message);
            }
        }
        Ok(())
    }
}

/// Cuts a message into packets: every packet but the last is exactly `packet_size` long.
#[derive(Debug, Clone)]
pub struct Framer {
    packet_size: usize,
    spid: u16,
    next_id: u8,
}

impl Framer {
    #[must_use]
    pub fn new(packet_size: usize, spid: u16) -> Self {
        Framer {
            packet_size: packet_size.clamp(MIN_PACKET_SIZE, MAX_PACKET_SIZE),
            spid,
            next_id: 1,
        }
    }

    #[must_use]
    pub fn packet_size(&self) -> usize {
        self.packet_size
    }

    pub fn set_packet_size(&mut self, packet_size: usize) {
        self.packet_size = packet_size.clamp(MIN_PACKET_SIZE, MAX_PACKET_SIZE);
    }

    pub fn set_spid(&mut self, spid: u16) {
        self.spid = spid;
    }

    /// The payload a full packet carries.
    #[must_use]
    pub fn body_size(&self) -> usize {
        self.packet_size - HEADER_LEN
    }

    /// Writes `body` (at most [`Framer::body_size`] bytes) as one packet.
    pub fn packet(
        &mut self,
        packet_type: u8,
        body: &[u8],
        end_of_message: bool,
        out: &mut Vec<u8>,
    ) {
        debug_assert!(body.len() <= self.body_size());
        PacketHeader {
            packet_type,
            status: if end_of_message { status::EOM } else { 0 },
            length: (body.len() + HEADER_LEN) as u16,
            spid: self.spid,
            packet_id: self.next_id,
            window: 0,
        }
        .write(out);
        out.extend_from_slice(body);
        self.next_id = if end_of_message {
            1
        } else {
            self.next_id.wrapping_add(1)
        };
    }

    /// Writes a whole message.
    pub fn message(&mut self, packet_type: u8, payload: &[u8], out: &mut Vec<u8>) {
        let size = self.body_size();
        let mut chunks = payload.chunks(size).peekable();
        if chunks.peek().is_none() {
            self.packet(packet_type, &[], true, out);
        }
        while let Some(chunk) = chunks.next() {
            let last = chunks.peek().is_none();
            self.packet(packet_type, chunk, last, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(packet_size: usize, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        Framer::new(packet_size, 0).message(packet_type::SQL_BATCH, payload, &mut out);
        out
    }

    #[test]
    fn split_and_reassemble_at_every_size_and_chunking() {
        let payload: Vec<u8> = (0..20_000u32).map(|i| (i * 7) as u8).collect();
        for size in [512, 513, 4096, 8000, 32_767] {
            let wire = framed(size, &payload);
            assert_eq!(
                wire.len(),
                payload.len() + payload.len().div_ceil(size - 8) * 8
            );
            for chunk in [1, 7, 512, 100_000] {
                let mut d = Deframer::new(size, DEFAULT_MAX_MESSAGE);
                for part in wire.chunks(chunk) {
                    d.handle_bytes(part).unwrap();
                }
                let m = d.poll_message().unwrap();
                assert_eq!(m.payload, payload);
                assert!(d.poll_message().is_none());
                assert!(!d.in_message());
            }
        }
    }

    #[test]
    fn oversized_packets_and_messages_are_refused() {
        let wire = framed(4096, &[0u8; 100]);
        let mut d = Deframer::new(512, 64);
        assert!(matches!(
            d.handle_bytes(&wire),
            Err(TdsError::MessageTooLarge { .. })
        ));
        let mut big = framed(8192, &[0u8; 5000]);
        let mut d = Deframer::new(4096, DEFAULT_MAX_MESSAGE);
        assert!(matches!(
            d.handle_bytes(&big),
            Err(TdsError::BadPacketLength { .. })
        ));
        big[2..4].copy_from_slice(&3u16.to_be_bytes());
        let mut d = Deframer::new(4096, DEFAULT_MAX_MESSAGE);
        assert!(matches!(
            d.handle_bytes(&big),
            Err(TdsError::BadPacketLength { .. })
        ));
    }

    #[test]
    fn ignored_messages_are_dropped_and_types_cannot_mix() {
        let mut out = Vec::new();
        let mut f = Framer::new(512, 0);
        f.packet(packet_type::SQL_BATCH, b"ab", false, &mut out);
        PacketHeader {
            packet_type: packet_type::SQL_BATCH,
            status: status::EOM | status::IGNORE,
            length: 8,
            spid: 0,
            packet_id: 2,
            window: 0,
        }
        .write(&mut out);
        let mut d = Deframer::new(512, 1000);
        d.handle_bytes(&out).unwrap();
        assert!(d.poll_message().is_none());
        let mut mixed = Vec::new();
        f.packet(packet_type::SQL_BATCH, b"ab", false, &mut mixed);
        f.packet(packet_type::RPC, b"cd", true, &mut mixed);
        assert!(Deframer::new(512, 1000).handle_bytes(&mixed).is_err());
    }
}
