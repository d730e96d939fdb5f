//! Region names: `/vdisim.<uid>.<encoded set name>.ctl` and `.../buf.<32 hex digits>`.
//!
//! Real VDI allows every character but backslash in a set name. The name is percent-encoded
//! byte by byte: only `[A-Za-z0-9_{}-]` pass through, everything else (including `.`, `/`,
//! `%` and NUL) becomes `%XX`. The encoding is injective, so distinct set names never share a
//! region, and no `/`, `..` or NUL can reach the file system.
//!
//! The control region's name must be predictable: the server finds it from the set name. The
//! buffer region's name ends in a [`BufferNonce`], 128 random bits the server draws and
//! publishes in the control region (0600), so no other user can predict it and take the name
//! first (decision 54).

use vdi_proto::{Rule, VdError};

/// Longest set name accepted, in UTF-8 bytes (the header stores it in [`NAME_FIELD_BYTES`]).
pub const MAX_SET_NAME_BYTES: usize = 200;
/// Size of a name field in the shared header (set name, device names, buffer region name).
pub const NAME_FIELD_BYTES: usize = 256;
/// Linux NAME_MAX for an entry of /dev/shm.
pub const MAX_REGION_NAME_BYTES: usize = 255;
/// Prefix of every region of this crate (used by `cleanup_stale`).
pub const PREFIX: &str = "vdisim.";

/// Which region of a set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegionKind {
    /// The control region (client-created: header, device table, rings).
    Control,
    /// The buffer region with this unguessable suffix (server-created).
    Buffer(BufferNonce),
}

/// The random part of a buffer region's name.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct BufferNonce(pub [u8; 16]);

impl std::fmt::Debug for BufferNonce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BufferNonce({})", self.to_hex())
    }
}

impl BufferNonce {
    /// 128 bits from the kernel's random source.
    pub fn random() -> std::io::Result<BufferNonce> {
        let mut bytes = [0u8; 16];
        let mut filled = 0;
        while filled < bytes.len() {
            match rustix::rand::getrandom(
                &mut bytes[filled..],
                rustix::rand::GetRandomFlags::empty(),
            ) {
                Ok(n) => filled += n,
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(BufferNonce(bytes))
    }

    /// 32 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The inverse of [`BufferNonce::to_hex`] (exactly 32 lower-case hex digits).
    pub fn from_hex(hex: &str) -> Option<BufferNonce> {
        let digits = hex.as_bytes();
        if digits.len() != 32
            || !digits
                .iter()
                .all(|d| d.is_ascii_digit() || (b'a'..=b'f').contains(d))
        {
            return None;
        }
        let mut bytes = [0u8; 16];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks(2)) {
            *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
        }
        Some(BufferNonce(bytes))
    }
}

/// The suffix of a buffer region's name before its nonce.
const BUFFER_TAG: &str = ".buf.";
/// The longest region suffix after the encoded set name: the buffer's `.buf.<32 hex>`.
const LONGEST_SUFFIX: usize = BUFFER_TAG.len() + 32;

/// Why a set name is refused (VD_E_INVALID, VDI-CREATE-004).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum NameError {
    /// The empty string.
    #[error("the set name is empty")]
    Empty,
    /// Contains a backslash.
    #[error("the set name contains a backslash")]
    Backslash,
    /// Too long, raw or once encoded.
    #[error("the set name is too long ({0} bytes)")]
    TooLong(usize),
}

impl NameError {
    /// VD_E_INVALID with rule VDI-CREATE-004.
    pub fn to_vd_error(self) -> VdError {
        VdError::new(Rule::CreateBadName)
    }
}

/// Checks a set name against the rules of real VDI plus our length limit.
pub fn validate_set_name(set_name: &str) -> Result<(), NameError> {
    if set_name.is_empty() {
        return Err(NameError::Empty);
    }
    if set_name.contains('\\') {
        return Err(NameError::Backslash);
    }
    if set_name.len() > MAX_SET_NAME_BYTES {
        return Err(NameError::TooLong(set_name.len()));
    }
    Ok(())
}

fn is_plain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'{' | b'}' | b'-')
}

/// Percent-encodes a set name (see the module docs).
pub fn encode_set_name(set_name: &str) -> String {
    let mut out = String::with_capacity(set_name.len());
    for &b in set_name.as_bytes() {
        if is_plain(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `/vdisim.<uid>.<encoded set name>.`: what every region name of the set starts with.
pub fn set_prefix(uid: u32, set_name: &str) -> Result<String, NameError> {
    validate_set_name(set_name)?;
    let prefix = format!("/{PREFIX}{uid}.{}.", encode_set_name(set_name));
    // Every region of the set must fit NAME_MAX, the buffer's (the longest) included, so that a
    // name Create accepts never fails later at EndConfiguration.
    if prefix.len() - 1 + LONGEST_SUFFIX - 1 > MAX_REGION_NAME_BYTES {
        return Err(NameError::TooLong(set_name.len()));
    }
    Ok(prefix)
}

/// The shm name (with the leading `/`) of a set's region for user `uid`.
pub fn region_name(uid: u32, set_name: &str, kind: RegionKind) -> Result<String, NameError> {
    let prefix = set_prefix(uid, set_name)?;
    Ok(match kind {
        RegionKind::Control => format!("{prefix}ctl"),
        RegionKind::Buffer(nonce) => format!(
            "{}{BUFFER_TAG}{}",
            &prefix[..prefix.len() - 1],
            nonce.to_hex()
        ),
    })
}

/// The nonce of `name` if it is a buffer region name of `set_name` for `uid` (what a client
/// accepts from the control header: never the name of anything but this set's buffer).
pub fn parse_buffer_name(uid: u32, set_name: &str, name: &str) -> Option<BufferNonce> {
    let prefix = set_prefix(uid, set_name).ok()?;
    let tail = name.strip_prefix(&prefix[..prefix.len() - 1])?;
    BufferNonce::from_hex(tail.strip_prefix(BUFFER_TAG)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vdi_proto::VdCode;

    #[test]
    fn guid_names_pass_through() {
        let n = region_name(
            1000,
            "{6F9619FF-8B86-D011-B42D-00C04FC964FF}",
            RegionKind::Control,
        )
        .unwrap();
        assert_eq!(n, "/vdisim.1000.{6F9619FF-8B86-D011-B42D-00C04FC964FF}.ctl");
        let nonce = BufferNonce([0xab; 16]);
        let b = region_name(0, "x", RegionKind::Buffer(nonce)).unwrap();
        assert_eq!(b, format!("/vdisim.0.x.buf.{}", "ab".repeat(16)));
        assert_eq!(parse_buffer_name(0, "x", &b), Some(nonce));
        assert_eq!(parse_buffer_name(1, "x", &b), None);
        assert_eq!(parse_buffer_name(0, "y", &b), None);
        assert_eq!(parse_buffer_name(0, "x", &b[..b.len() - 1]), None);
        assert_eq!(parse_buffer_name(0, "x", "/vdisim.0.x.ctl"), None);
        assert_eq!(set_prefix(0, "x").unwrap(), "/vdisim.0.x.");
    }

    #[test]
    fn hostile_names_are_encoded() {
        for name in [
            "../../etc/passwd",
            "a/b",
            "..",
            "nul\0byte",
            "100%",
            "sp ace",
            "é",
        ] {
            let n = region_name(0, name, RegionKind::Control).unwrap();
            let body = &n[1..];
            assert!(!body.contains('/'), "{n}");
            assert!(!body.contains('\0'), "{n}");
            assert!(!body.contains(".."), "{n}");
        }
        assert_eq!(encode_set_name("a.b/%"), "a%2Eb%2F%25");
        assert_ne!(encode_set_name("a%2E"), encode_set_name("a."));
    }

    #[test]
    fn bad_names_are_invalid() {
        assert_eq!(
            region_name(0, "", RegionKind::Control),
            Err(NameError::Empty)
        );
        assert_eq!(
            region_name(0, "a\\b", RegionKind::Control),
            Err(NameError::Backslash)
        );
        let long = "x".repeat(MAX_SET_NAME_BYTES + 1);
        assert!(matches!(
            region_name(0, &long, RegionKind::Control),
            Err(NameError::TooLong(_))
        ));
        // Short enough raw, too long once encoded.
        let wide = "/".repeat(MAX_SET_NAME_BYTES);
        assert!(matches!(
            region_name(0, &wide, RegionKind::Control),
            Err(NameError::TooLong(_))
        ));
        let e = NameError::Empty.to_vd_error();
        assert_eq!(e.code, VdCode::Invalid);
        assert_eq!(e.rule, Rule::CreateBadName);
        // The longest plain name fits, buffer nonce and all.
        let max = "y".repeat(MAX_SET_NAME_BYTES);
        let nonce = BufferNonce([0xff; 16]);
        let longest = region_name(u32::MAX, &max, RegionKind::Buffer(nonce)).unwrap();
        assert!(
            longest.len() - 1 <= MAX_REGION_NAME_BYTES,
            "{}",
            longest.len()
        );
    }

    #[test]
    fn nonces_are_random_and_round_trip() {
        let a = BufferNonce::random().unwrap();
        let b = BufferNonce::random().unwrap();
        assert_ne!(a, b);
        assert_eq!(BufferNonce::from_hex(&a.to_hex()), Some(a));
        assert_eq!(BufferNonce::from_hex(&a.to_hex().to_uppercase()), None);
        assert_eq!(BufferNonce::from_hex("00"), None);
    }
}
