//! Region names: `/vdisim.<uid>.<encoded set name>.ctl` and `.../buf<generation>`.
//!
//! Real VDI allows every character but backslash in a set name. The name is percent-encoded
//! byte by byte: only `[A-Za-z0-9_{}-]` pass through, everything else (including `.`, `/`,
//! `%` and NUL) becomes `%XX`. The encoding is injective, so distinct set names never share a
//! region, and no `/`, `..` or NUL can reach the file system.

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
    /// The buffer region of the given generation (server-created).
    Buffer(u32),
}

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

/// The shm name (with the leading `/`) of a set's region for user `uid`.
pub fn region_name(uid: u32, set_name: &str, kind: RegionKind) -> Result<String, NameError> {
    validate_set_name(set_name)?;
    let encoded = encode_set_name(set_name);
    let name = match kind {
        RegionKind::Control => format!("/{PREFIX}{uid}.{encoded}.ctl"),
        RegionKind::Buffer(generation) => format!("/{PREFIX}{uid}.{encoded}.buf{generation}"),
    };
    if name.len() - 1 > MAX_REGION_NAME_BYTES {
        return Err(NameError::TooLong(set_name.len()));
    }
    Ok(name)
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
        let b = region_name(0, "x", RegionKind::Buffer(3)).unwrap();
        assert_eq!(b, "/vdisim.0.x.buf3");
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
        // The longest plain name fits.
        let max = "y".repeat(MAX_SET_NAME_BYTES);
        assert!(region_name(u32::MAX, &max, RegionKind::Buffer(u32::MAX)).is_ok());
    }
}
