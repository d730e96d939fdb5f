//! PRELOGIN (MS-TDS 2.2.6.5): the client's options, the server's answer, and the encryption
//! each side ends up with.

use crate::error::{Result, TdsError};
use crate::wire::Reader;

mod option {
    pub(super) const VERSION: u8 = 0x00;
    pub(super) const ENCRYPTION: u8 = 0x01;
    pub(super) const INSTOPT: u8 = 0x02;
    pub(super) const THREADID: u8 = 0x03;
    pub(super) const MARS: u8 = 0x04;
    pub(super) const TRACEID: u8 = 0x05;
    pub(super) const FEDAUTHREQUIRED: u8 = 0x06;
    pub(super) const NONCEOPT: u8 = 0x07;
    pub(super) const TERMINATOR: u8 = 0xFF;
}

/// `B_FENCRYPTION` values.
pub mod encrypt {
    pub const OFF: u8 = 0x00;
    pub const ON: u8 = 0x01;
    pub const NOT_SUP: u8 = 0x02;
    pub const REQ: u8 = 0x03;
    pub const CLIENT_CERT: u8 = 0x80;
}

/// What the client's PRELOGIN said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientPrelogin {
    pub version: Option<[u8; 6]>,
    /// The encryption byte without the client-certificate bit.
    pub encryption: Option<u8>,
    pub instance: Option<String>,
    pub thread_id: Option<u32>,
    pub mars: bool,
    pub fed_auth_required: bool,
}

impl ClientPrelogin {
    pub fn parse(payload: &[u8]) -> Result<Self> {
        let mut table = Reader::new(payload, "PRELOGIN");
        let mut out = ClientPrelogin::default();
        loop {
            let token = table.u8()?;
            if token == option::TERMINATOR {
                break;
            }
            let offset = usize::from(table.u16_be()?);
            let length = usize::from(table.u16_be()?);
            let data = payload.get(offset..offset + length).ok_or_else(|| {
                TdsError::malformed(
                    "PRELOGIN",
                    format!(
                        "option 0x{token:02X} at {offset}+{length} is outside the {} bytes",
                        payload.len()
                    ),
                )
            })?;
            match token {
                option::VERSION if length >= 6 => {
                    out.version = Some(data[..6].try_into().expect("length checked"));
                }
                option::ENCRYPTION if length >= 1 => {
                    out.encryption = Some(data[0] & !encrypt::CLIENT_CERT)
                }
                option::INSTOPT => {
                    let name = data.split(|&b| b == 0).next().unwrap_or_default();
                    out.instance = Some(String::from_utf8_lossy(name).into_owned());
                }
                option::THREADID if length >= 4 => {
                    out.thread_id =
                        Some(u32::from_be_bytes(data[..4].try_into().expect("checked")));
                }
                option::MARS if length >= 1 => out.mars = data[0] != 0,
                option::FEDAUTHREQUIRED if length >= 1 => out.fed_auth_required = data[0] != 0,
                option::TRACEID | option::NONCEOPT => {}
                // Unknown options are skipped, as SQL Server does.
                _ => {}
            }
        }
        Ok(out)
    }
}

/// How the server treats encryption in TDS 7.x (SQL Server's "Force Encryption" setting and
/// whether it has a certificate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EncryptionPolicy {
    /// No certificate: every client is answered ENCRYPT_NOT_SUP.
    Unavailable,
    /// A certificate, not forced: the client chooses (login-only when it says OFF).
    #[default]
    Optional,
    /// Force Encryption: the whole connection is encrypted, clients that cannot are refused.
    Required,
}

/// What TLS a TDS 7.x connection ends up with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Negotiated {
    /// No TLS at all.
    None,
    /// TLS for the LOGIN7 packet only, then clear text (client said OFF).
    LoginOnly,
    /// TLS for the rest of the connection.
    Full,
    /// The client cannot encrypt and the server requires it: answer, then close.
    Refuse,
}

/// The server's encryption byte and what follows from it.
#[must_use]
pub fn negotiate(policy: EncryptionPolicy, client: Option<u8>) -> (u8, Negotiated) {
    let client = client.unwrap_or(encrypt::NOT_SUP);
    match (policy, client) {
        (EncryptionPolicy::Unavailable, _) => (encrypt::NOT_SUP, Negotiated::None),
        (EncryptionPolicy::Optional, encrypt::NOT_SUP) => (encrypt::NOT_SUP, Negotiated::None),
        (EncryptionPolicy::Optional, encrypt::OFF) => (encrypt::OFF, Negotiated::LoginOnly),
        (EncryptionPolicy::Optional, _) => (encrypt::ON, Negotiated::Full),
        (EncryptionPolicy::Required, encrypt::NOT_SUP) => (encrypt::REQ, Negotiated::Refuse),
        (EncryptionPolicy::Required, encrypt::ON) => (encrypt::ON, Negotiated::Full),
        (EncryptionPolicy::Required, _) => (encrypt::REQ, Negotiated::Full),
    }
}

/// The server's PRELOGIN response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerPrelogin {
    /// major, minor, build (e.g. 16, 0, 1000).
    pub version: (u8, u8, u16),
    pub encryption: u8,
    /// Whether the client's instance name matched (INSTOPT 0) or not (1).
    pub instance_ok: bool,
    /// Echo FEDAUTHREQUIRED when the client sent it.
    pub fed_auth_echo: bool,
}

impl ServerPrelogin {
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let (major, minor, build) = self.version;
        let mut options: Vec<(u8, Vec<u8>)> = vec![
            (option::VERSION, {
                let mut v = vec![major, minor];
                v.extend_from_slice(&build.to_be_bytes());
                v.extend_from_slice(&[0, 0]);
                v
            }),
            (option::ENCRYPTION, vec![self.encryption]),
            (option::INSTOPT, vec![u8::from(!self.instance_ok)]),
            (option::THREADID, Vec::new()),
            (option::MARS, vec![0]),
        ];
        if self.fed_auth_echo {
            options.push((option::FEDAUTHREQUIRED, vec![0]));
        }
        let table_len = options.len() * 5 + 1;
        let mut out = Vec::new();
        let mut data = Vec::new();
        for (token, value) in &options {
            out.push(*token);
            out.extend_from_slice(&((table_len + data.len()) as u16).to_be_bytes());
            out.extend_from_slice(&(value.len() as u16).to_be_bytes());
            data.extend_from_slice(value);
        }
        out.push(option::TERMINATOR);
        out.extend_from_slice(&data);
        out
    }
}

/// Whether a client instance name addresses this (default) instance.
#[must_use]
pub fn instance_matches(requested: Option<&str>, server_name: &str) -> bool {
    match requested.map(str::trim) {
        None | Some("") => true,
        Some(name) => {
            name.eq_ignore_ascii_case("MSSQLSERVER") || name.eq_ignore_ascii_case(server_name)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_parses_back() {
        let response = ServerPrelogin {
            version: (16, 0, 1000),
            encryption: encrypt::ON,
            instance_ok: true,
            fed_auth_echo: false,
        }
        .encode();
        let parsed = ClientPrelogin::parse(&response).unwrap();
        assert_eq!(parsed.version, Some([16, 0, 0x03, 0xE8, 0, 0]));
        assert_eq!(parsed.encryption, Some(encrypt::ON));
        assert_eq!(parsed.instance.as_deref(), Some(""));
        assert!(!parsed.mars);
    }

    #[test]
    fn bad_offsets_are_errors() {
        assert!(ClientPrelogin::parse(&[0x00, 0x00, 0x10, 0x00, 0x06, 0xFF]).is_err());
        assert!(ClientPrelogin::parse(&[0x00, 0x00]).is_err());
        assert!(ClientPrelogin::parse(&[]).is_err());
        assert!(ClientPrelogin::parse(&[0xFF]).is_ok());
    }

    #[test]
    fn negotiation_table() {
        use EncryptionPolicy::*;
        assert_eq!(
            negotiate(Optional, Some(encrypt::OFF)),
            (encrypt::OFF, Negotiated::LoginOnly)
        );
        assert_eq!(
            negotiate(Optional, Some(encrypt::ON)),
            (encrypt::ON, Negotiated::Full)
        );
        assert_eq!(
            negotiate(Optional, None),
            (encrypt::NOT_SUP, Negotiated::None)
        );
        assert_eq!(
            negotiate(Required, Some(encrypt::OFF)),
            (encrypt::REQ, Negotiated::Full)
        );
        assert_eq!(
            negotiate(Required, Some(encrypt::NOT_SUP)).1,
            Negotiated::Refuse
        );
        assert_eq!(
            negotiate(Unavailable, Some(encrypt::ON)),
            (encrypt::NOT_SUP, Negotiated::None)
        );
    }
}
