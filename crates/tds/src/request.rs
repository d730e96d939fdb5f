//! What a logged-in client asks for: SQL_BATCH, RPC, transaction manager requests, ATTENTION.

use tsql::value::{SqlType, Value};

use crate::error::{Result, TdsError};
use crate::packet::{Message, packet_type};
use crate::types::decode::{read_type_info, read_value};
use crate::wire::Reader;

/// The most RPC parameters SQL Server takes (2100), and calls in one RPC request.
const MAX_PARAMS: usize = 2100;
const MAX_CALLS: usize = 1000;

/// A client request.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    SqlBatch { text: String, reset: bool },
    Rpc { calls: Vec<RpcCall>, reset: bool },
    Transaction(TransactionRequest),
    Attention,
}

/// A stored procedure call: by well-known id (sp_executesql is 10) or by name.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcCall {
    pub procedure: Procedure,
    pub options: u16,
    pub params: Vec<RpcParam>,
}

/// RPC OptionFlags.
pub mod rpc_option {
    pub const WITH_RECOMPILE: u16 = 0x01;
    pub const NO_METADATA: u16 = 0x02;
    pub const REUSE_METADATA: u16 = 0x04;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Procedure {
    Id(u16),
    Name(String),
}

/// The special procedures' ids (MS-TDS 2.2.6.6).
pub mod proc_id {
    pub const SP_CURSOROPEN: u16 = 2;
    pub const SP_EXECUTESQL: u16 = 10;
    pub const SP_PREPARE: u16 = 11;
    pub const SP_EXECUTE: u16 = 12;
    pub const SP_PREPEXEC: u16 = 13;
    pub const SP_UNPREPARE: u16 = 15;
}

impl Procedure {
    /// The id of a special procedure, whether called by id or by its name.
    #[must_use]
    pub fn special_id(&self) -> Option<u16> {
        match self {
            Procedure::Id(id) => Some(*id),
            Procedure::Name(name) => {
                let bare = name
                    .rsplit('.')
                    .next()
                    .unwrap_or(name)
                    .trim_matches(['[', ']']);
                [
                    ("sp_executesql", proc_id::SP_EXECUTESQL),
                    ("sp_prepare", proc_id::SP_PREPARE),
                    ("sp_execute", proc_id::SP_EXECUTE),
                    ("sp_prepexec", proc_id::SP_PREPEXEC),
                    ("sp_unprepare", proc_id::SP_UNPREPARE),
                ]
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(bare))
                .map(|(_, id)| *id)
            }
        }
    }

    #[must_use]
    pub fn name(&self) -> String {
        match self {
            Procedure::Name(n) => n.clone(),
            Procedure::Id(id) => match *id {
                proc_id::SP_EXECUTESQL => "sp_executesql".into(),
                proc_id::SP_PREPARE => "sp_prepare".into(),
                proc_id::SP_EXECUTE => "sp_execute".into(),
                proc_id::SP_PREPEXEC => "sp_prepexec".into(),
                proc_id::SP_UNPREPARE => "sp_unprepare".into(),
                other => format!("procedure id {other}"),
            },
        }
    }
}

/// One parameter as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcParam {
    /// With its `@`, or empty for a positional parameter.
    pub name: String,
    pub output: bool,
    /// fDefaultValue: use the procedure's default.
    pub default: bool,
    pub ty: SqlType,
    pub value: Value,
}

/// A transaction manager request (MS-TDS 2.2.6.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransactionRequest {
    Begin,
    Commit { begin_new: bool },
    Rollback { begin_new: bool },
    Other(u16),
}

/// Reads a reassembled message from a logged-in client.
pub fn parse_request(message: &Message) -> Result<Request> {
    let reset = message.reset_connection;
    match message.packet_type {
        packet_type::SQL_BATCH => {
            let mut r = Reader::new(&message.payload, "SQL_BATCH");
            skip_all_headers(&mut r)?;
            if !r.remaining().is_multiple_of(2) {
                return Err(r.error("the batch text has an odd number of bytes"));
            }
            let text = r.ucs2(r.remaining() / 2)?;
            Ok(Request::SqlBatch { text, reset })
        }
        packet_type::RPC => Ok(Request::Rpc {
            calls: parse_rpc(&message.payload)?,
            reset,
        }),
        packet_type::TRANSACTION_MANAGER => {
            parse_transaction(&message.payload).map(Request::Transaction)
        }
        packet_type::ATTENTION => Ok(Request::Attention),
        other => Err(TdsError::UnexpectedPacket {
            packet_type: other,
            during: "after login",
        }),
    }
}

/// ALL_HEADERS (TDS 7.2+): a total length, then headers; their content is not needed.
fn skip_all_headers(r: &mut Reader<'_>) -> Result<()> {
    let start = r.position();
    let Some(first) = peek_u32(r) else {
        return Ok(());
    };
    let total = first as usize;
    // A batch from a pre-7.2 client starts with its text: two UCS-2 characters cannot form a
    // plausible ALL_HEADERS length (at least 22 bytes with one header).
    if total < 4 || total > r.remaining() {
        return Err(r.error(format!(
            "ALL_HEADERS length {total} with {} bytes",
            r.remaining()
        )));
    }
    let mut headers = Reader::new(r.bytes(total)?, "ALL_HEADERS");
    headers.u32_le()?;
    while !headers.is_empty() {
        let len = headers.u32_le()? as usize;
        if len < 6 {
            return Err(headers.error(format!("a header of {len} bytes")));
        }
        headers.bytes(len - 4)?;
    }
    debug_assert_eq!(r.position() - start, total);
    Ok(())
}

fn peek_u32(r: &Reader<'_>) -> Option<u32> {
    let mut probe = r.clone();
    probe.u32_le().ok()
}

fn parse_rpc(payload: &[u8]) -> Result<Vec<RpcCall>> {
    let mut r = Reader::new(payload, "RPC");
    skip_all_headers(&mut r)?;
    let mut calls = Vec::new();
    loop {
        let name_len = r.u16_le()?;
        let procedure = if name_len == 0xFFFF {
            Procedure::Id(r.u16_le()?)
        } else {
            if name_len == 0 || name_len > 1046 {
                return Err(r.error(format!("procedure name of {name_len} characters")));
            }
            Procedure::Name(r.ucs2(usize::from(name_len))?)
        };
        let options = r.u16_le()?;
        let mut params = Vec::new();
        while let Some(next) = r.peek_u8() {
            // 0xFF separates calls (TDS 7.2+); 0xFE is NoExec. A name cannot be that long.
            if matches!(next, 0xFF | 0xFE) {
                break;
            }
            if params.len() == MAX_PARAMS {
                return Err(r.error("more than 2100 parameters"));
            }
            let name = r.b_varchar()?;
            let status = r.u8()?;
            if status & 0x08 != 0 {
                return Err(TdsError::Unsupported(
                    "encrypted parameters (Always Encrypted)".into(),
                ));
            }
            let info = read_type_info(&mut r)?;
            let value = read_value(&mut r, &info)?;
            params.push(RpcParam {
                name,
                output: status & 0x01 != 0,
                default: status & 0x02 != 0,
                ty: info.ty,
                value,
            });
        }
        calls.push(RpcCall {
            procedure,
            options,
            params,
        });
        match r.peek_u8() {
            None => return Ok(calls),
            Some(_) => {
                r.u8()?;
                if r.is_empty() {
                    return Ok(calls);
                }
                if calls.len() == MAX_CALLS {
                    return Err(r.error("more than 1000 calls in one request"));
                }
            }
        }
    }
}

fn parse_transaction(payload: &[u8]) -> Result<TransactionRequest> {
    let mut r = Reader::new(payload, "transaction manager request");
    skip_all_headers(&mut r)?;
    let kind = r.u16_le()?;
    let begin_new = |r: &mut Reader<'_>| -> Result<bool> {
        if r.is_empty() {
            return Ok(false);
        }
        let _name = r.b_varchar()?;
        Ok(r.u8().unwrap_or(0) & 0x01 != 0)
    };
    Ok(match kind {
        5 => TransactionRequest::Begin,
        7 => TransactionRequest::Commit {
            begin_new: begin_new(&mut r)?,
        },
        8 => TransactionRequest::Rollback {
            begin_new: begin_new(&mut r)?,
        },
        other => TransactionRequest::Other(other),
    })
}

/// Test and fuzz helpers: requests as a client writes them.
pub mod client {
    use crate::types::Dialect;
    use crate::types::encode::WireColumn;
    use crate::wire::{put_b_varchar, put_ucs2};
    use tsql::value::{SqlType, Value};

    /// ALL_HEADERS with one transaction descriptor header (what every 7.2+ client sends).
    pub fn all_headers(out: &mut Vec<u8>) {
        out.extend_from_slice(&22u32.to_le_bytes());
        out.extend_from_slice(&18u32.to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&1u32.to_le_bytes());
    }

    #[must_use]
    pub fn sql_batch(text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        all_headers(&mut out);
        put_ucs2(&mut out, text);
        out
    }

    /// An RPC by id with `(name, type, value, output)` parameters.
    #[must_use]
    pub fn rpc(proc_id: u16, params: &[(&str, SqlType, Value, bool)]) -> Vec<u8> {
        let mut out = Vec::new();
        all_headers(&mut out);
        out.extend_from_slice(&0xFFFFu16.to_le_bytes());
        out.extend_from_slice(&proc_id.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        for (name, ty, value, output) in params {
            put_b_varchar(&mut out, name);
            out.push(u8::from(*output));
            let c = WireColumn::new(*ty, true, Dialect::default());
            c.put_type_info(&mut out);
            c.put_value(value, &mut out)
                .expect("test values fit their types");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(packet_type: u8, payload: Vec<u8>) -> Message {
        Message {
            packet_type,
            payload,
            reset_connection: false,
        }
    }

    #[test]
    fn batch_and_rpc() {
        let m = message(packet_type::SQL_BATCH, client::sql_batch("SELECT 1"));
        assert_eq!(
            parse_request(&m).unwrap(),
            Request::SqlBatch {
                text: "SELECT 1".into(),
                reset: false
            }
        );
        let payload = client::rpc(
            proc_id::SP_EXECUTESQL,
            &[
                (
                    "",
                    SqlType::NVarChar(None),
                    Value::text("SELECT @P1"),
                    false,
                ),
                (
                    "",
                    SqlType::NVarChar(Some(4000)),
                    Value::text("@P1 int"),
                    false,
                ),
                ("@P1", SqlType::Int, Value::Int(42), false),
            ],
        );
        let Request::Rpc { calls, .. } =
            parse_request(&message(packet_type::RPC, payload)).unwrap()
        else {
            panic!("not an RPC");
        };
        assert_eq!(calls.len(), 1);
        assert_eq!(
            calls[0].procedure.special_id(),
            Some(proc_id::SP_EXECUTESQL)
        );
        assert_eq!(calls[0].params[2].value, Value::Int(42));
        assert_eq!(calls[0].params[2].name, "@P1");
    }

    #[test]
    fn truncations_are_errors() {
        let payload = client::rpc(
            proc_id::SP_EXECUTESQL,
            &[("", SqlType::NVarChar(Some(10)), Value::text("x"), false)],
        );
        for cut in 0..payload.len() {
            let _ = parse_request(&message(packet_type::RPC, payload[..cut].to_vec()));
        }
        let mut bad = client::sql_batch("x");
        bad[0] = 0xFF;
        assert!(parse_request(&message(packet_type::SQL_BATCH, bad)).is_err());
        assert!(parse_request(&message(packet_type::LOGIN7, vec![])).is_err());
        assert_eq!(
            Procedure::Name("[sys].[sp_prepexec]".into()).special_id(),
            Some(proc_id::SP_PREPEXEC)
        );
    }
}
