//! TDS 7.x wraps the TLS handshake in PRELOGIN packets (MS-TDS 2.2.6.5); once the handshake is
//! over, TLS records travel bare. This adapter sits between the socket and a TLS library while
//! the handshake runs: it strips PRELOGIN headers from what the client sends and wraps what the
//! TLS library wants to send.

use crate::error::{Result, TdsError};
use crate::packet::{Framer, HEADER_LEN, MAX_PACKET_SIZE, PacketHeader, packet_type};

/// The handshake-time framing. Feed it socket bytes with [`PreloginTlsFraming::handle_bytes`],
/// read TLS bytes from [`PreloginTlsFraming::take_tls`], and wrap TLS output with
/// [`PreloginTlsFraming::wrap`].
#[derive(Debug)]
pub struct PreloginTlsFraming {
    partial: Vec<u8>,
    tls_in: Vec<u8>,
    framer: Framer,
}

impl Default for PreloginTlsFraming {
    fn default() -> Self {
        PreloginTlsFraming {
            partial: Vec::new(),
            tls_in: Vec::new(),
            framer: Framer::new(crate::packet::DEFAULT_PACKET_SIZE, 0),
        }
    }
}

impl PreloginTlsFraming {
    #[must_use]
    pub fn new() -> Self {
        PreloginTlsFraming::default()
    }

    /// Socket bytes in; PRELOGIN packets' bodies become TLS input. Anything else is an error.
    pub fn handle_bytes(&mut self, mut data: &[u8]) -> Result<()> {
        while !data.is_empty() {
            if self.partial.len() < HEADER_LEN {
                let take = (HEADER_LEN - self.partial.len()).min(data.len());
                self.partial.extend_from_slice(&data[..take]);
                data = &data[take..];
                if self.partial.len() < HEADER_LEN {
                    break;
                }
                let header = self.header();
                if header.packet_type != packet_type::PRELOGIN {
                    return Err(TdsError::UnexpectedPacket {
                        packet_type: header.packet_type,
                        during: "during the TLS handshake",
                    });
                }
                let length = usize::from(header.length);
                if !(HEADER_LEN..=MAX_PACKET_SIZE).contains(&length) {
                    return Err(TdsError::BadPacketLength {
                        length,
                        min: HEADER_LEN,
                        max: MAX_PACKET_SIZE,
                    });
                }
            }
            let length = usize::from(self.header().length);
            let take = (length - self.partial.len()).min(data.len());
            self.partial.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.partial.len() == length {
                self.tls_in.extend_from_slice(&self.partial[HEADER_LEN..]);
                self.partial.clear();
            }
        }
        Ok(())
    }

    /// Whether a packet is half read (the handshake cannot be over then).
    #[must_use]
    pub fn in_packet(&self) -> bool {
        !self.partial.is_empty()
    }

    /// The TLS bytes received so far.
    pub fn take_tls(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.tls_in)
    }

    /// TLS bytes out, as PRELOGIN packets (each flight is one message).
    pub fn wrap(&mut self, tls: &[u8], out: &mut Vec<u8>) {
        if !tls.is_empty() {
            self.framer.message(packet_type::PRELOGIN, tls, out);
        }
    }

    fn header(&self) -> PacketHeader {
        let mut h = [0u8; HEADER_LEN];
        h.copy_from_slice(&self.partial[..HEADER_LEN]);
        PacketHeader::parse(&h)
    }
}

/// Whether the first bytes of a connection are a TLS ClientHello (TDS 8.0 strict: TLS first)
/// rather than a TDS packet. `None`: not enough bytes yet.
#[must_use]
pub fn starts_with_tls(first: &[u8]) -> Option<bool> {
    match first {
        [] => None,
        [0x16] | [0x16, 0x03] => None,
        [0x16, 0x03, ..] => Some(true),
        _ => Some(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_and_unwraps() {
        let tls: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        let mut wrapped = Vec::new();
        let mut a = PreloginTlsFraming::new();
        a.wrap(&tls, &mut wrapped);
        let mut b = PreloginTlsFraming::new();
        for chunk in wrapped.chunks(333) {
            b.handle_bytes(chunk).unwrap();
        }
        assert_eq!(b.take_tls(), tls);
        assert!(!b.in_packet());
        let mut other = Vec::new();
        Framer::new(512, 0).message(packet_type::LOGIN7, b"x", &mut other);
        assert!(PreloginTlsFraming::new().handle_bytes(&other).is_err());
    }

    #[test]
    fn detects_tls_first() {
        assert_eq!(starts_with_tls(&[0x16, 0x03, 0x01]), Some(true));
        assert_eq!(starts_with_tls(&[0x12, 0x01]), Some(false));
        assert_eq!(starts_with_tls(&[0x16]), None);
    }
}
