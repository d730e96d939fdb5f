//! The server's tokens (MS-TDS 2.2.7), written into a token stream.

use tsql::value::{Column, Value};

use crate::types::Dialect;
use crate::types::encode::WireColumn;
use crate::wire::{put_b_varchar, put_us_varchar, ucs2_len};

pub mod token_type {
    pub const RETURNSTATUS: u8 = 0x79;
    pub const COLMETADATA: u8 = 0x81;
    pub const ERROR: u8 = 0xAA;
    pub const INFO: u8 = 0xAB;
    pub const RETURNVALUE: u8 = 0xAC;
    pub const LOGINACK: u8 = 0xAD;
    pub const FEATUREEXTACK: u8 = 0xAE;
    pub const ROW: u8 = 0xD1;
    pub const NBCROW: u8 = 0xD2;
    pub const ENVCHANGE: u8 = 0xE3;
    pub const DONE: u8 = 0xFD;
    pub const DONEPROC: u8 = 0xFE;
    pub const DONEINPROC: u8 = 0xFF;
}

/// DONE status bits.
pub mod done_status {
    pub const FINAL: u16 = 0x0000;
    pub const MORE: u16 = 0x0001;
    pub const ERROR: u16 = 0x0002;
    pub const INXACT: u16 = 0x0004;
    pub const COUNT: u16 = 0x0010;
    pub const ATTN: u16 = 0x0020;
    pub const SRVERROR: u16 = 0x0100;
}

/// ENVCHANGE types.
pub mod env_type {
    pub const DATABASE: u8 = 1;
    pub const LANGUAGE: u8 = 2;
    pub const PACKET_SIZE: u8 = 4;
    pub const SQL_COLLATION: u8 = 7;
    pub const BEGIN_TRANSACTION: u8 = 8;
    pub const COMMIT_TRANSACTION: u8 = 9;
    pub const ROLLBACK_TRANSACTION: u8 = 10;
    pub const RESET_CONNECTION_ACK: u8 = 18;
}

/// Which DONE token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoneKind {
    Done,
    DoneProc,
    DoneInProc,
}

/// A DONE, DONEPROC or DONEINPROC token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Done {
    pub kind: DoneKind,
    pub status: u16,
    pub cur_cmd: u16,
    pub row_count: u64,
}

impl Done {
    pub fn put(&self, out: &mut Vec<u8>) {
        out.push(match self.kind {
            DoneKind::Done => token_type::DONE,
            DoneKind::DoneProc => token_type::DONEPROC,
            DoneKind::DoneInProc => token_type::DONEINPROC,
        });
        out.extend_from_slice(&self.status.to_le_bytes());
        out.extend_from_slice(&self.cur_cmd.to_le_bytes());
        out.extend_from_slice(&self.row_count.to_le_bytes());
    }
}

/// Writes a token whose body starts with its u16 length.
fn with_u16_length(out: &mut Vec<u8>, token: u8, body: impl FnOnce(&mut Vec<u8>)) {
    out.push(token);
    let at = out.len();
    out.extend_from_slice(&[0, 0]);
    body(out);
    let len = (out.len() - at - 2).min(usize::from(u16::MAX)) as u16;
    out[at..at + 2].copy_from_slice(&len.to_le_bytes());
}

/// INFO or ERROR (level > 10).
#[allow(clippy::too_many_arguments)]
pub fn put_message(
    out: &mut Vec<u8>,
    number: u32,
    state: u8,
    level: u8,
    text: &str,
    server: &str,
    procedure: &str,
    line: u32,
) {
    let token = if level > 10 {
        token_type::ERROR
    } else {
        token_type::INFO
    };
    // The u16 length cannot hold more: cut the text (SQL Server's messages are ≤ 2047 chars).
    let text: String = text.chars().take(4000).collect();
    with_u16_length(out, token, |out| {
        out.extend_from_slice(&number.to_le_bytes());
        out.push(state);
        out.push(level);
        put_us_varchar(out, &text);
        put_b_varchar(out, server);
        put_b_varchar(out, procedure);
        out.extend_from_slice(&line.to_le_bytes());
    });
}

/// LOGINACK: SQL_TSQL, the TDS version (big-endian here), "Microsoft SQL Server", the version.
pub fn put_login_ack(out: &mut Vec<u8>, tds_version: u32, version: (u8, u8, u16)) {
    with_u16_length(out, token_type::LOGINACK, |out| {
        out.push(1);
        out.extend_from_slice(&tds_version.to_be_bytes());
        put_b_varchar(out, "Microsoft SQL Server");
        out.push(version.0);
        out.push(version.1);
        out.extend_from_slice(&version.2.to_be_bytes());
    });
}

/// ENVCHANGE with B_VARCHAR new and old values (database, language, packet size).
pub fn put_env_text(out: &mut Vec<u8>, env: u8, new: &str, old: &str) {
    with_u16_length(out, token_type::ENVCHANGE, |out| {
        out.push(env);
        put_b_varchar(out, new);
        put_b_varchar(out, old);
    });
}

/// ENVCHANGE with B_VARBYTE values (collation, transactions).
pub fn put_env_bytes(out: &mut Vec<u8>, env: u8, new: &[u8], old: &[u8]) {
    with_u16_length(out, token_type::ENVCHANGE, |out| {
        out.push(env);
        out.push(new.len() as u8);
        out.extend_from_slice(new);
        out.push(old.len() as u8);
        out.extend_from_slice(old);
    });
}

/// FEATUREEXTACK with (feature id, data) pairs.
pub fn put_feature_ext_ack(out: &mut Vec<u8>, features: &[(u8, Vec<u8>)]) {
    out.push(token_type::FEATUREEXTACK);
    for (id, data) in features {
        out.push(*id);
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(data);
    }
    out.push(crate::login7::feature::TERMINATOR);
}

pub fn put_return_status(out: &mut Vec<u8>, status: i32) {
    out.push(token_type::RETURNSTATUS);
    out.extend_from_slice(&status.to_le_bytes());
}

/// RETURNVALUE of an output parameter.
pub fn put_return_value(
    out: &mut Vec<u8>,
    ordinal: u16,
    name: &str,
    column: &WireColumn,
    value: &Value,
) -> Result<(), String> {
    out.push(token_type::RETURNVALUE);
    out.extend_from_slice(&ordinal.to_le_bytes());
    put_b_varchar(out, name);
    out.push(0x01);
    column.put_metadata(out);
    column.put_value(value, out)
}

/// COLMETADATA; `None` for NoMetaData (0xFFFF), which a client asks for with fNoMetaData.
pub fn put_col_metadata(
    out: &mut Vec<u8>,
    columns: Option<&[Column]>,
    dialect: Dialect,
) -> Vec<WireColumn> {
    out.push(token_type::COLMETADATA);
    let Some(columns) = columns else {
        out.extend_from_slice(&u16::MAX.to_le_bytes());
        return Vec::new();
    };
    out.extend_from_slice(&(columns.len().min(4096) as u16).to_le_bytes());
    columns
        .iter()
        .take(4096)
        .map(|c| {
            let wire = WireColumn::new(c.ty, c.nullable, dialect);
            wire.put_metadata(out);
            let name: String = c.name.chars().take(128).collect();
            debug_assert!(ucs2_len(&name) <= 255);
            put_b_varchar(out, &name);
            wire
        })
        .collect()
}

/// One row: NBCROW when it has NULLs and the client speaks 7.3+, ROW otherwise.
pub fn put_row(
    out: &mut Vec<u8>,
    columns: &[WireColumn],
    row: &[Value],
    dialect: Dialect,
) -> Result<(), String> {
    if row.len() != columns.len() {
        return Err(format!(
            "a row of {} values for {} columns",
            row.len(),
            columns.len()
        ));
    }
    let has_null = row.iter().any(Value::is_null);
    if has_null && dialect.has_dates() {
        out.push(token_type::NBCROW);
        let mut bitmap = vec![0u8; columns.len().div_ceil(8)];
        for (i, v) in row.iter().enumerate() {
            if v.is_null() {
                bitmap[i / 8] |= 1 << (i % 8);
            }
        }
        out.extend_from_slice(&bitmap);
        for (column, value) in columns.iter().zip(row) {
            if !value.is_null() {
                column.put_value(value, out)?;
            } else if column.is_fixed() {
                return Err(format!(
                    "NULL in the NOT NULL {} column",
                    column.ty.sql_name()
                ));
            }
        }
    } else {
        out.push(token_type::ROW);
        for (column, value) in columns.iter().zip(row) {
            column.put_value(value, out)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_token_layout() {
        let mut out = Vec::new();
        put_message(&mut out, 18456, 1, 14, "x", "S", "", 1);
        assert_eq!(out[0], token_type::ERROR);
        let len = u16::from_le_bytes([out[1], out[2]]) as usize;
        assert_eq!(len, out.len() - 3);
        assert_eq!(&out[3..7], &18456u32.to_le_bytes());
        assert_eq!(out[7..9], [1, 14]);
    }

    #[test]
    fn nbcrow_marks_nulls() {
        use tsql::value::SqlType;
        let cols = [
            Column::new("a", SqlType::Int, true),
            Column::new("b", SqlType::Int, true),
        ];
        let mut out = Vec::new();
        let wire = put_col_metadata(&mut out, Some(&cols), Dialect::default());
        let mut row = Vec::new();
        put_row(
            &mut row,
            &wire,
            &[Value::Null, Value::Int(1)],
            Dialect::default(),
        )
        .unwrap();
        assert_eq!(row, vec![token_type::NBCROW, 0b01, 4, 1, 0, 0, 0]);
        assert!(put_row(&mut row, &wire, &[Value::Null], Dialect::default()).is_err());
    }
}
