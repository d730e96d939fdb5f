//! LOGIN7 (MS-TDS 2.2.6.4), read with a bounds check on every offset and length.

use crate::error::{Result, TdsError};
use crate::wire::{Reader, ucs2_decode};

/// The fixed part of LOGIN7 in TDS 7.2 and later.
const FIXED_LEN: usize = 94;
/// The largest LOGIN7 SQL Server accepts.
pub const MAX_LOGIN7_LEN: usize = 128 * 1024;
/// The longest name (host, user, password, app, server, language, database), in characters.
const MAX_NAME_CHARS: usize = 128;

/// TDS versions as LOGIN7 and LOGINACK carry them.
pub mod version {
    pub const TDS71: u32 = 0x7100_0001;
    pub const TDS72: u32 = 0x7209_0002;
    pub const TDS73A: u32 = 0x730A_0003;
    pub const TDS73B: u32 = 0x730B_0003;
    pub const TDS74: u32 = 0x7400_0004;
    /// What a TDS 8.0 (strict) client sends.
    pub const TDS80: u32 = 0x0800_0000;
}

/// Feature IDs of FeatureExt (MS-TDS 2.2.6.4).
pub mod feature {
    pub const SESSION_RECOVERY: u8 = 0x01;
    pub const FED_AUTH: u8 = 0x02;
    pub const COLUMN_ENCRYPTION: u8 = 0x04;
    pub const GLOBAL_TRANSACTIONS: u8 = 0x05;
    pub const AZURE_SQL_SUPPORT: u8 = 0x08;
    pub const DATA_CLASSIFICATION: u8 = 0x09;
    pub const UTF8_SUPPORT: u8 = 0x0A;
    pub const AZURE_SQL_DNS_CACHING: u8 = 0x0B;
    pub const TERMINATOR: u8 = 0xFF;
}

/// A LOGIN7 request, decoded.
#[derive(Clone, PartialEq, Eq)]
pub struct Login7 {
    pub tds_version: u32,
    pub packet_size: u32,
    pub client_pid: u32,
    pub option_flags1: u8,
    pub option_flags2: u8,
    pub type_flags: u8,
    pub option_flags3: u8,
    pub hostname: String,
    pub username: String,
    pub password: String,
    pub app_name: String,
    pub server_name: String,
    pub library_name: String,
    pub language: String,
    pub database: String,
    /// Integrated authentication (SSPI) was asked for.
    pub sspi: bool,
    /// (feature id, data) of each FeatureExt entry, in order.
    pub features: Vec<(u8, Vec<u8>)>,
}

impl std::fmt::Debug for Login7 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login7")
            .field("tds_version", &format_args!("0x{:08X}", self.tds_version))
            .field("packet_size", &self.packet_size)
            .field("hostname", &self.hostname)
            .field("username", &self.username)
            .field("password", &"…")
            .field("app_name", &self.app_name)
            .field("library_name", &self.library_name)
            .field("database", &self.database)
            .field("sspi", &self.sspi)
            .field(
                "features",
                &self.features.iter().map(|f| f.0).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// OptionFlags2's fIntSecurity.
const INTEGRATED_SECURITY: u8 = 0x80;
/// OptionFlags3's fExtension.
const EXTENSION: u8 = 0x10;

impl Login7 {
    pub fn parse(payload: &[u8]) -> Result<Self> {
        if payload.len() > MAX_LOGIN7_LEN {
            return Err(TdsError::MessageTooLarge {
                limit: MAX_LOGIN7_LEN,
            });
        }
        let mut r = Reader::new(payload, "LOGIN7");
        let length = r.u32_le()? as usize;
        if length < FIXED_LEN || length > payload.len() {
            return Err(r.error(format!(
                "length field {length} but {} bytes received (at least {FIXED_LEN})",
                payload.len()
            )));
        }
        let body = &payload[..length];
        let tds_version = r.u32_le()?;
        let packet_size = r.u32_le()?;
        let _client_prog_ver = r.u32_le()?;
        let client_pid = r.u32_le()?;
        let _connection_id = r.u32_le()?;
        let option_flags1 = r.u8()?;
        let option_flags2 = r.u8()?;
        let type_flags = r.u8()?;
        let option_flags3 = r.u8()?;
        let _time_zone = r.u32_le()?;
        let _lcid = r.u32_le()?;
        let field = |r: &mut Reader<'_>, name: &'static str| -> Result<String> {
            let offset = usize::from(r.u16_le()?);
            let chars = usize::from(r.u16_le()?);
            if chars > MAX_NAME_CHARS {
                return Err(TdsError::malformed(
                    "LOGIN7",
                    format!("{name} is {chars} characters long (at most {MAX_NAME_CHARS})"),
                ));
            }
            slice(body, offset, chars * 2, name).map(ucs2_decode)
        };
        let hostname = field(&mut r, "HostName")?;
        let username = field(&mut r, "UserName")?;
        let password_offset = usize::from(r.u16_le()?);
        let password_chars = usize::from(r.u16_le()?);
        if password_chars > MAX_NAME_CHARS {
            return Err(r.error("the password is longer than 128 characters"));
        }
        let password_bytes = slice(body, password_offset, password_chars * 2, "Password")?;
        let password = ucs2_decode(&deobfuscate(password_bytes));
        let app_name = field(&mut r, "AppName")?;
        let server_name = field(&mut r, "ServerName")?;
        let extension_offset = usize::from(r.u16_le()?);
        let extension_len = usize::from(r.u16_le()?);
        let library_name = field(&mut r, "CltIntName")?;
        let language = field(&mut r, "Language")?;
        let database = field(&mut r, "Database")?;
        let _client_id: [u8; 6] = r.array()?;
        let sspi_offset = usize::from(r.u16_le()?);
        let sspi_len = usize::from(r.u16_le()?);
        slice(body, sspi_offset, sspi_len, "SSPI")?;
        let _attach_db = field(&mut r, "AtchDBFile");
        let _change_password = field(&mut r, "ChangePassword");
        let sspi_long = r.u32_le().unwrap_or(0);
        let features = if option_flags3 & EXTENSION != 0 && extension_len > 0 {
            let pointer = slice(body, extension_offset, extension_len, "Extension")?;
            if pointer.len() < 4 {
                return Err(TdsError::malformed(
                    "LOGIN7",
                    "the FeatureExt pointer is shorter than 4 bytes",
                ));
            }
            let at = u32::from_le_bytes(pointer[..4].try_into().expect("checked")) as usize;
            if at < FIXED_LEN || at > body.len() {
                return Err(TdsError::malformed(
                    "LOGIN7",
                    format!("FeatureExt at {at}, outside the message"),
                ));
            }
            parse_features(&body[at..])?
        } else {
            Vec::new()
        };
        Ok(Login7 {
            tds_version,
            packet_size,
            client_pid,
            option_flags1,
            option_flags2,
            type_flags,
            option_flags3,
            hostname,
            username,
            password,
            app_name,
            server_name,
            library_name,
            language,
            database,
            sspi: option_flags2 & INTEGRATED_SECURITY != 0 || sspi_len > 0 || sspi_long > 0,
            features,
        })
    }

    /// Whether the client sent this FeatureExt.
    #[must_use]
    pub fn has_feature(&self, id: u8) -> bool {
        self.features.iter().any(|(f, _)| *f == id)
    }
}

fn slice<'a>(body: &'a [u8], offset: usize, len: usize, name: &'static str) -> Result<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if offset < FIXED_LEN.min(body.len()) && offset != 0 {
        return Err(TdsError::malformed(
            "LOGIN7",
            format!("{name} at offset {offset}, inside the fixed header"),
        ));
    }
    body.get(offset..offset.saturating_add(len)).ok_or_else(|| {
        TdsError::malformed(
            "LOGIN7",
            format!(
                "{name} at {offset}+{len} is outside the {} bytes",
                body.len()
            ),
        )
    })
}

fn parse_features(data: &[u8]) -> Result<Vec<(u8, Vec<u8>)>> {
    const MAX_FEATURES: usize = 64;
    let mut r = Reader::new(data, "LOGIN7 FeatureExt");
    let mut out = Vec::new();
    loop {
        let id = r.u8()?;
        if id == feature::TERMINATOR {
            return Ok(out);
        }
        let len = r.u32_le()? as usize;
        let value = r.bytes(len)?.to_vec();
        if out.len() == MAX_FEATURES {
            return Err(r.error("more than 64 features"));
        }
        out.push((id, value));
    }
}

/// Passwords travel with each byte's nibbles swapped and XORed with 0xA5.
#[must_use]
pub fn deobfuscate(bytes: &[u8]) -> Vec<u8> {
    bytes.iter().map(|b| (b ^ 0xA5).rotate_left(4)).collect()
}

/// The inverse of [`deobfuscate`], for test clients.
#[must_use]
pub fn obfuscate(bytes: &[u8]) -> Vec<u8> {
    bytes.iter().map(|b| b.rotate_left(4) ^ 0xA5).collect()
}

/// A LOGIN7 message as a client would send it (for tests and the fuzz corpus).
#[derive(Debug, Clone, Default)]
pub struct Login7Builder {
    pub tds_version: u32,
    pub packet_size: u32,
    pub hostname: String,
    pub username: String,
    pub password: String,
    pub app_name: String,
    pub server_name: String,
    pub library_name: String,
    pub database: String,
    pub features: Vec<(u8, Vec<u8>)>,
}

impl Login7Builder {
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let fields: [(&str, bool); 9] = [
            (&self.hostname, false),
            (&self.username, false),
            (&self.password, true),
            (&self.app_name, false),
            (&self.server_name, false),
            ("", false), // extension, filled below
            (&self.library_name, false),
            ("", false), // language
            (&self.database, false),
        ];
        let mut data = Vec::new();
        let mut table = Vec::new();
        let mut extension_slot = 0;
        for (i, (text, secret)) in fields.iter().enumerate() {
            let offset = FIXED_LEN + data.len();
            if i == 5 {
                extension_slot = table.len();
                table.extend_from_slice(&[0, 0, 0, 0]);
                continue;
            }
            let mut bytes = Vec::new();
            crate::wire::put_ucs2(&mut bytes, text);
            if *secret {
                bytes = obfuscate(&bytes);
            }
            table.extend_from_slice(&(offset as u16).to_le_bytes());
            table.extend_from_slice(&((bytes.len() / 2) as u16).to_le_bytes());
            data.extend_from_slice(&bytes);
        }
        table.extend_from_slice(&[0; 6]); // client id
        for _ in 0..3 {
            table.extend_from_slice(&((FIXED_LEN + data.len()) as u16).to_le_bytes());
            table.extend_from_slice(&[0, 0]); // SSPI, attach file, change password
        }
        table.extend_from_slice(&[0; 4]); // cbSSPILong
        let mut flags3 = 0;
        if !self.features.is_empty() {
            flags3 |= EXTENSION;
            let pointer_at = FIXED_LEN + data.len();
            let features_at = pointer_at + 4;
            table[extension_slot..extension_slot + 2]
                .copy_from_slice(&(pointer_at as u16).to_le_bytes());
            table[extension_slot + 2..extension_slot + 4].copy_from_slice(&4u16.to_le_bytes());
            data.extend_from_slice(&(features_at as u32).to_le_bytes());
            for (id, value) in &self.features {
                data.push(*id);
                data.extend_from_slice(&(value.len() as u32).to_le_bytes());
                data.extend_from_slice(value);
            }
            data.push(feature::TERMINATOR);
        }
        let mut out = Vec::new();
        out.extend_from_slice(&((FIXED_LEN + data.len()) as u32).to_le_bytes());
        out.extend_from_slice(&self.tds_version.to_le_bytes());
        out.extend_from_slice(&self.packet_size.to_le_bytes());
        out.extend_from_slice(&[0; 12]); // prog version, pid, connection id
        out.extend_from_slice(&[0xE0, 0x03, 0, flags3]);
        out.extend_from_slice(&[0; 8]); // time zone, lcid
        out.extend_from_slice(&table);
        debug_assert_eq!(out.len(), FIXED_LEN);
        out.extend_from_slice(&data);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Login7Builder {
        Login7Builder {
            tds_version: version::TDS74,
            packet_size: 8000,
            hostname: "host".into(),
            username: "sa".into(),
            password: "Pässw0rd!".into(),
            app_name: "test".into(),
            server_name: "127.0.0.1".into(),
            library_name: "vdisim-test".into(),
            database: "sales".into(),
            features: vec![
                (feature::UTF8_SUPPORT, vec![]),
                (feature::SESSION_RECOVERY, vec![1, 2]),
            ],
        }
    }

    #[test]
    fn round_trip() {
        let login = Login7::parse(&sample().encode()).unwrap();
        assert_eq!(login.tds_version, version::TDS74);
        assert_eq!(login.packet_size, 8000);
        assert_eq!(login.username, "sa");
        assert_eq!(login.password, "Pässw0rd!");
        assert_eq!(login.database, "sales");
        assert_eq!(login.library_name, "vdisim-test");
        assert!(login.has_feature(feature::UTF8_SUPPORT));
        assert_eq!(login.features[1], (feature::SESSION_RECOVERY, vec![1, 2]));
        assert!(!login.sspi);
        assert!(!format!("{login:?}").contains("Pässw0rd"));
    }

    #[test]
    fn every_truncation_and_every_corrupted_offset_is_an_error_not_a_panic() {
        let good = sample().encode();
        for cut in 0..good.len() {
            let _ = Login7::parse(&good[..cut]);
        }
        for at in 0..good.len() {
            for value in [0x00, 0x5E, 0x7F, 0xFF] {
                let mut bad = good.clone();
                bad[at] = value;
                let _ = Login7::parse(&bad);
            }
        }
        let mut bad = good.clone();
        bad[36..38].copy_from_slice(&u16::MAX.to_le_bytes()); // HostName offset
        assert!(Login7::parse(&bad).is_err());
        let mut bad = good;
        bad[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Login7::parse(&bad).is_err());
    }
}
