//! The server's token stream, read incrementally: a token is decoded as soon as all its bytes
//! are in, whatever the packet boundaries.

use tsql::SqlMessage;
use tsql::value::{Column, Value};

use crate::error::{Result, TdsError};
use crate::token::{Done, DoneKind, token_type};
use crate::types::code;
use crate::types::decode::{TypeInfo, read_type_info, read_value};
use crate::wire::Reader;

/// The most bytes a message from the server may hold back undecoded (one token larger than
/// this, a row of several `(max)` values, ends the connection).
const MAX_PENDING: usize = 256 << 20;

/// One token from the server, as much of it as a client needs.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerToken {
    /// INFO or ERROR (level > 10), with the server name it carries.
    Message {
        message: SqlMessage,
        server: String,
    },
    /// COLMETADATA: the columns of the rows that follow.
    Columns(Vec<Column>),
    /// ROW or NBCROW.
    Row(Vec<Value>),
    /// DONE, DONEPROC or DONEINPROC.
    Done(Done),
    /// LOGINACK: the TDS version the server speaks and its program name.
    LoginAck {
        tds_version: u32,
        program: String,
    },
    /// ENVCHANGE: its type, and the new value as text (database, language, packet size), or
    /// empty for the binary ones.
    EnvChange {
        kind: u8,
        new: String,
    },
    ReturnStatus(i32),
    /// RETURNVALUE: an output parameter.
    ReturnValue {
        name: String,
        value: Value,
    },
    /// FEATUREEXTACK, ORDER, SSPI, SESSIONSTATE …: nothing a sqlcmd needs.
    Other(u8),
}

/// Decodes the token stream of the server's responses. Feed it each packet's body with
/// [`TokenDecoder::handle_payload`], then drain [`TokenDecoder::poll_token`].
#[derive(Debug, Default)]
pub struct TokenDecoder {
    buf: Vec<u8>,
    pos: usize,
    /// The current result set's columns (for ROW and NBCROW).
    columns: Vec<TypeInfo>,
    /// The last packet ended the message: a token cut short there is an error.
    end_of_message: bool,
}

impl TokenDecoder {
    #[must_use]
    pub fn new() -> Self {
        TokenDecoder::default()
    }

    /// A packet's body; `end_of_message` when the packet had EOM.
    pub fn handle_payload(&mut self, body: &[u8], end_of_message: bool) -> Result<()> {
        if self.pos > 0 && self.pos * 2 >= self.buf.len() {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        if self.buf.len() - self.pos + body.len() > MAX_PENDING {
            return Err(TdsError::MessageTooLarge { limit: MAX_PENDING });
        }
        self.buf.extend_from_slice(body);
        self.end_of_message = end_of_message;
        Ok(())
    }

    /// Whether every byte received so far has been decoded.
    #[must_use]
    pub fn is_drained(&self) -> bool {
        self.pos == self.buf.len()
    }

    /// The next complete token, `None` until more bytes arrive. An error is final.
    pub fn poll_token(&mut self) -> Result<Option<ServerToken>> {
        if self.is_drained() {
            return Ok(None);
        }
        let mut r = Reader::new(&self.buf[self.pos..], "server token");
        match read_token(&mut self.columns, &mut r) {
            Ok(token) => {
                self.pos += r.position();
                Ok(Some(token))
            }
            Err(TdsError::Truncated { .. }) if !self.end_of_message => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// One token; `columns` are the current result set's (COLMETADATA replaces them).
fn read_token(columns_now: &mut Vec<TypeInfo>, r: &mut Reader<'_>) -> Result<ServerToken> {
    let token = r.u8()?;
    Ok(match token {
        token_type::INFO | token_type::ERROR => {
            let len = usize::from(r.u16_le()?);
            let mut body = Reader::new(r.bytes(len)?, "INFO/ERROR");
            let number = body.u32_le()?;
            let state = body.u8()?;
            let level = body.u8()?;
            let text = body.us_varchar()?;
            let server = body.b_varchar()?;
            let procedure = body.b_varchar()?;
            let line = body.u32_le()?;
            let mut message = SqlMessage::new(number, level, state, line, text);
            message.procedure = Some(procedure).filter(|p| !p.is_empty());
            ServerToken::Message { message, server }
        }
        token_type::COLMETADATA => {
            let count = r.u16_le()?;
            if count == u16::MAX {
                // NoMetaData: the previous columns stand.
                return Ok(ServerToken::Other(token));
            }
            let mut infos = Vec::with_capacity(usize::from(count.min(4096)));
            let mut columns = Vec::with_capacity(infos.capacity());
            for _ in 0..count {
                let _user_type = r.u32_le()?;
                let flags = r.u16_le()?;
                let info = read_type_info(r)?;
                if matches!(info.code, code::TEXT | code::NTEXT | code::IMAGE) {
                    for _ in 0..r.u8()? {
                        r.us_varchar()?;
                    }
                }
                let name = r.b_varchar()?;
                columns.push(Column::new(name, info.ty, flags & 1 != 0));
                infos.push(info);
            }
            *columns_now = infos;
            ServerToken::Columns(columns)
        }
        token_type::ROW => {
            let mut row = Vec::with_capacity(columns_now.len());
            for info in columns_now.iter() {
                row.push(read_value(r, info)?);
            }
            ServerToken::Row(row)
        }
        token_type::NBCROW => {
            let bitmap = r.bytes(columns_now.len().div_ceil(8))?.to_vec();
            let mut row = Vec::with_capacity(columns_now.len());
            for (i, info) in columns_now.iter().enumerate() {
                if bitmap[i / 8] & (1 << (i % 8)) != 0 {
                    row.push(Value::Null);
                } else {
                    row.push(read_value(r, info)?);
                }
            }
            ServerToken::Row(row)
        }
        token_type::DONE | token_type::DONEPROC | token_type::DONEINPROC => {
            let status = r.u16_le()?;
            let cur_cmd = r.u16_le()?;
            let row_count = r.u64_le()?;
            ServerToken::Done(Done {
                kind: match token {
                    token_type::DONE => DoneKind::Done,
                    token_type::DONEPROC => DoneKind::DoneProc,
                    _ => DoneKind::DoneInProc,
                },
                status,
                cur_cmd,
                row_count,
            })
        }
        token_type::LOGINACK => {
            let len = usize::from(r.u16_le()?);
            let mut body = Reader::new(r.bytes(len)?, "LOGINACK");
            let _interface = body.u8()?;
            let tds_version = u32::from_be_bytes(body.array()?);
            let program = body.b_varchar()?;
            ServerToken::LoginAck {
                tds_version,
                program,
            }
        }
        token_type::ENVCHANGE => {
            let len = usize::from(r.u16_le()?);
            let mut body = Reader::new(r.bytes(len)?, "ENVCHANGE");
            let kind = body.u8()?;
            let new = match kind {
                1..=6 => body.b_varchar()?,
                _ => String::new(),
            };
            ServerToken::EnvChange { kind, new }
        }
        token_type::RETURNSTATUS => ServerToken::ReturnStatus(r.u32_le()? as i32),
        token_type::RETURNVALUE => {
            let _ordinal = r.u16_le()?;
            let name = r.b_varchar()?;
            let _status = r.u8()?;
            let _user_type = r.u32_le()?;
            let _flags = r.u16_le()?;
            let info = read_type_info(r)?;
            let value = read_value(r, &info)?;
            ServerToken::ReturnValue { name, value }
        }
        token_type::FEATUREEXTACK => {
            loop {
                let id = r.u8()?;
                if id == crate::login7::feature::TERMINATOR {
                    break;
                }
                let len = r.u32_le()? as usize;
                r.bytes(len)?;
            }
            ServerToken::Other(token)
        }
        // ORDER, TABNAME, COLINFO, SSPI: a u16 length.
        0xA9 | 0xA4 | 0xA5 | 0xED => {
            let len = usize::from(r.u16_le()?);
            r.bytes(len)?;
            ServerToken::Other(token)
        }
        // SESSIONSTATE, FEDAUTHINFO: a u32 length.
        0xE4 | 0xEE => {
            let len = r.u32_le()? as usize;
            r.bytes(len)?;
            ServerToken::Other(token)
        }
        other => {
            return Err(TdsError::Unsupported(format!("server token 0x{other:02X}")));
        }
    })
}
