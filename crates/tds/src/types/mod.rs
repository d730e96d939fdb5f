//! SQL Server types on the wire: TYPE_INFO and values for COLMETADATA/ROW/NBCROW/RETURNVALUE
//! ([`encode`]), and the parameters a client sends in an RPC ([`decode`]).

pub mod decode;
pub mod encode;
mod temporal;

/// The server collation, SQL_Latin1_General_CP1_CI_AS: LCID 0x0409, flags IgnoreCase,
/// IgnoreKanaType and IgnoreWidth, sort order 52. Char data in it is Windows-1252.
pub const COLLATION: [u8; 5] = [0x09, 0x04, 0xD0, 0x00, 0x34];

/// The name ENVCHANGE and `SERVERPROPERTY('Collation')` give it.
pub const COLLATION_NAME: &str = "SQL_Latin1_General_CP1_CI_AS";

/// TYPE_INFO codes (MS-TDS 2.2.5.4).
pub mod code {
    pub const NULL: u8 = 0x1F;
    pub const INT1: u8 = 0x30;
    pub const BIT: u8 = 0x32;
    pub const INT2: u8 = 0x34;
    pub const INT4: u8 = 0x38;
    pub const DATETIM4: u8 = 0x3A;
    pub const FLT4: u8 = 0x3B;
    pub const MONEY: u8 = 0x3C;
    pub const DATETIME: u8 = 0x3D;
    pub const FLT8: u8 = 0x3E;
    pub const MONEY4: u8 = 0x7A;
    pub const INT8: u8 = 0x7F;
    pub const GUID: u8 = 0x24;
    pub const INTN: u8 = 0x26;
    pub const BITN: u8 = 0x68;
    pub const DECIMALN: u8 = 0x6A;
    pub const NUMERICN: u8 = 0x6C;
    pub const FLTN: u8 = 0x6D;
    pub const MONEYN: u8 = 0x6E;
    pub const DATETIMN: u8 = 0x6F;
    pub const DATEN: u8 = 0x28;
    pub const TIMEN: u8 = 0x29;
    pub const DATETIME2N: u8 = 0x2A;
    pub const DATETIMEOFFSETN: u8 = 0x2B;
    pub const BIGVARBIN: u8 = 0xA5;
    pub const BIGVARCHR: u8 = 0xA7;
    pub const BIGBINARY: u8 = 0xAD;
    pub const BIGCHAR: u8 = 0xAF;
    pub const NVARCHAR: u8 = 0xE7;
    pub const NCHAR: u8 = 0xEF;
    pub const TEXT: u8 = 0x23;
    pub const IMAGE: u8 = 0x22;
    pub const NTEXT: u8 = 0x63;
    pub const SSVARIANT: u8 = 0x62;
    pub const XML: u8 = 0xF1;
}

/// `(max)` in a USHORTLEN TYPE_INFO: the value is PLP.
pub const MAX_MARKER: u16 = 0xFFFF;
/// A PLP value that is NULL.
pub const PLP_NULL: u64 = u64::MAX;

/// Which TDS version the values are for (dates need 7.3, NBCROW needs 7.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    pub tds_version: u32,
}

impl Dialect {
    #[must_use]
    pub fn has_dates(self) -> bool {
        // 7.3 and 7.4 are 0x73…/0x74…; TDS 8.0 negotiates 7.4 semantics.
        self.tds_version >= crate::login7::version::TDS73A
            || self.tds_version == crate::login7::version::TDS80
    }
}

impl Default for Dialect {
    fn default() -> Self {
        Dialect {
            tds_version: crate::login7::version::TDS74,
        }
    }
}
