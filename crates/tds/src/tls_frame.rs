//! TDS 7.x wraps the TLS handshake in PRELOGIN packets (MS-TDS 2.2.6.5); once the handshake is
//! over, TLS records travel bare. This adapter sits between the socket and a TLS library while
//! the handshake runs: it strips PRELOGIN headers from what the client sends and wraps what the
//! TLS library wants to send.

use crate::error::{Result, TdsError};
use crate::packet::{Framer, HEADER_LEN, MAX_PACKET_SIZE, PacketHeader, packet_type};

/// The handshake-time framing. Feed it socket bytes with [`PreloginTlsFraming::handle_bytes`],
/// take one PRELOGIN packet's TLS bytes at a time with [`PreloginTlsFraming::next_tls`] (the
/// handshake may end after any packet; what follows it is bare TLS, taken with
/// [`PreloginTlsFraming::into_remaining`]), and wrap TLS output with
/// [`PreloginTlsFraming::wrap`].
#[derive(Debug)]
pub struct PreloginTlsFraming {
    buf: Vec<u8>,
    framer: Framer,
}

impl Default for PreloginTlsFraming {
    fn default() -> Self {
        PreloginTlsFraming {
            buf: Vec::new(),
            framer: Framer::new(crate::packet::DEFAULT_PACKET_SIZE, 0),
        }
    }
}

impl PreloginTlsFraming {
    #[must_use]
    pub fn new() -> Self {
        PreloginTlsFraming::default()
    }

    /// Socket bytes in (kept until taken packet by packet).
    pub fn handle_bytes(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Bytes held that no packet has taken yet.
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The TLS bytes of the next complete PRELOGIN packet; `None` until one is complete.
    /// Anything but a PRELOGIN packet is an error.
    pub fn next_tls(&mut self) -> Result<Option<Vec<u8>>> {
        if self.buf.len() < HEADER_LEN {
            return Ok(None);
        }
        let mut h = [0u8; HEADER_LEN];
        h.copy_from_slice(&self.buf[..HEADER_LEN]);
        let header = PacketHeader::parse(&h);
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
        if self.buf.len() < length {
            return Ok(None);
        }
        let body = self.buf[HEADER_LEN..length].to_vec();
        self.buf.drain(..length);
        Ok(Some(body))
    }

    /// Whether what is buffered starts with a bare TLS record rather than a PRELOGIN packet.
    #[must_use]
    pub fn starts_bare_tls(&self) -> bool {
        matches!(self.buf.as_slice(), [0x14..=0x17, 0x03, ..])
    }

    /// What came after the handshake's last packet: bare TLS records.
    #[must_use]
    pub fn into_remaining(self) -> Vec<u8> {
        self.buf
    }

    /// TLS bytes out, as PRELOGIN packets (each flight is one message).
    pub fn wrap(&mut self, tls: &[u8], out: &mut Vec<u8>) {
        if !tls.is_empty() {
            self.framer.message(packet_type::PRELOGIN, tls, out);
        }
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
        wrapped.extend_from_slice(b"bare");
        let mut b = PreloginTlsFraming::new();
        let mut got = Vec::new();
        for chunk in wrapped.chunks(333) {
            b.handle_bytes(chunk);
            while let Some(tls) = b.next_tls().unwrap() {
                got.extend_from_slice(&tls);
            }
        }
        assert_eq!(got, tls);
        assert_eq!(b.into_remaining(), b"bare");
        let mut other = Vec::new();
        Framer::new(512, 0).message(packet_type::LOGIN7, b"x", &mut other);
        let mut c = PreloginTlsFraming::new();
        c.handle_bytes(&other);
        assert!(c.next_tls().is_err());
    }

    #[test]
    fn detects_tls_first() {
        assert_eq!(starts_with_tls(&[0x16, 0x03, 0x01]), Some(true));
        assert_eq!(starts_with_tls(&[0x12, 0x01]), Some(false));
        assert_eq!(starts_with_tls(&[0x16]), None);
    }
}
