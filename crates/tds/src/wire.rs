//! Bounds-checked little helpers for reading and writing TDS's primitive encodings.

use crate::error::{Result, TdsError};

/// A cursor over untrusted bytes: every read checks the length first.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], what: &'static str) -> Self {
        Reader { buf, pos: 0, what }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(TdsError::Truncated {
                what: self.what,
                needed: n,
                available: self.remaining(),
            });
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N)?);
        Ok(out)
    }

    pub(crate) fn peek_u8(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    pub(crate) fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u16_le(&mut self) -> Result<u16> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    pub(crate) fn u16_be(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(crate) fn u32_le(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub(crate) fn u64_le(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// `B_VARCHAR`: a byte count of UCS-2 characters, then the characters.
    pub(crate) fn b_varchar(&mut self) -> Result<String> {
        let chars = usize::from(self.u8()?);
        self.ucs2(chars)
    }

    /// `US_VARCHAR`: a u16 count of UCS-2 characters, then the characters.
    pub(crate) fn us_varchar(&mut self) -> Result<String> {
        let chars = usize::from(self.u16_le()?);
        self.ucs2(chars)
    }

    pub(crate) fn ucs2(&mut self, chars: usize) -> Result<String> {
        Ok(ucs2_decode(self.bytes(chars * 2)?))
    }

    pub(crate) fn error(&self, detail: impl Into<String>) -> TdsError {
        TdsError::malformed(self.what, detail)
    }
}

/// UTF-16LE to a string; unpaired surrogates become U+FFFD (SQL Server stores them as is, but
/// nothing downstream needs them).
#[must_use]
pub fn ucs2_decode(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}

pub(crate) fn put_ucs2(out: &mut Vec<u8>, s: &str) {
    for unit in s.encode_utf16() {
        out.extend_from_slice(&unit.to_le_bytes());
    }
}

pub(crate) fn ucs2_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// `B_VARCHAR`, cut to 255 UTF-16 units.
pub(crate) fn put_b_varchar(out: &mut Vec<u8>, s: &str) {
    let units: Vec<u16> = s.encode_utf16().take(255).collect();
    out.push(units.len() as u8);
    for unit in units {
        out.extend_from_slice(&unit.to_le_bytes());
    }
}

/// `US_VARCHAR`, cut to 65535 UTF-16 units.
pub(crate) fn put_us_varchar(out: &mut Vec<u8>, s: &str) {
    let units: Vec<u16> = s.encode_utf16().take(usize::from(u16::MAX)).collect();
    out.extend_from_slice(&(units.len() as u16).to_le_bytes());
    for unit in units {
        out.extend_from_slice(&unit.to_le_bytes());
    }
}

/// Windows-1252, the code page of the server's collation (SQL_Latin1_General_CP1_CI_AS), for
/// the bytes 0x80–0x9F; elsewhere it is Latin-1.
const CP1252_HIGH: [char; 32] = [
    '\u{20AC}', '\u{81}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{02C6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{8D}', '\u{017D}', '\u{8F}',
    '\u{90}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{02DC}', '\u{2122}', '\u{0161}', '\u{203A}', '\u{0153}', '\u{9D}', '\u{017E}', '\u{0178}',
];

#[must_use]
pub fn cp1252_decode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => CP1252_HIGH[usize::from(b - 0x80)],
            _ => char::from(b),
        })
        .collect()
}

/// Characters the code page lacks become `?`, as SQL Server converts them.
#[must_use]
pub fn cp1252_encode(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match u32::from(c) {
            n @ (0..=0x7F | 0xA0..=0xFF) => n as u8,
            _ => CP1252_HIGH
                .iter()
                .position(|&h| h == c)
                .map_or(b'?', |i| 0x80 + i as u8),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_refuses_to_overrun() {
        let mut r = Reader::new(&[1, 2, 3], "test");
        assert_eq!(r.u16_le().unwrap(), 0x0201);
        assert!(matches!(r.u16_le(), Err(TdsError::Truncated { .. })));
        assert_eq!(r.u8().unwrap(), 3);
        assert!(r.is_empty());
    }

    #[test]
    fn ucs2_round_trip() {
        let mut out = Vec::new();
        put_b_varchar(&mut out, "añ€𝄞");
        let mut r = Reader::new(&out, "test");
        assert_eq!(r.b_varchar().unwrap(), "añ€𝄞");
    }

    #[test]
    fn cp1252_round_trip() {
        let s = "café €‚ ok";
        assert_eq!(cp1252_decode(&cp1252_encode(s)), s);
        assert_eq!(cp1252_encode("日"), b"?");
    }
}
