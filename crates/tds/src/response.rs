//! The server's side of one response: tokens in the order SQL Server sends them, cut into
//! packets as they fill, flushed early when a message must reach the client now (BACKUP
//! progress).
//!
//! Statement boundaries are inferred from the engine's output: a result set or a rows-affected
//! count ends the statement before it. The DONE of the last statement is held back until the
//! next token shows whether more follows (DONE_MORE) or the response ends (the final DONE), so
//! a one-statement batch is `COLMETADATA ROW… DONE(COUNT)` as from SQL Server.

use tsql::SqlMessage;
use tsql::value::Table;

use crate::packet::{Framer, packet_type};
use crate::token::{self, Done, DoneKind, done_status};
use crate::types::Dialect;

/// `CurCmd` of a SELECT's DONE.
const CUR_CMD_SELECT: u16 = 0xC1;

/// Writes one response at a time; reused for the connection's life.
#[derive(Debug)]
pub struct ResponseWriter {
    framer: Framer,
    dialect: Dialect,
    server_name: String,
    /// Token bytes not yet cut into packets.
    body: Vec<u8>,
    /// Packets ready to send.
    out: Vec<u8>,
    pending_done: Option<Done>,
    /// Tokens (messages) written since the last DONE.
    unterminated: bool,
    error_since_done: bool,
    /// Inside an RPC: statement DONEs are DONEINPROC.
    in_proc: bool,
    /// The client asked for no metadata (RPC fNoMetaData).
    no_metadata: bool,
}

impl ResponseWriter {
    #[must_use]
    pub fn new(packet_size: usize, spid: u16, dialect: Dialect, server_name: &str) -> Self {
        ResponseWriter {
            framer: Framer::new(packet_size, spid),
            dialect,
            server_name: server_name.to_owned(),
            body: Vec::new(),
            out: Vec::new(),
            pending_done: None,
            unterminated: false,
            error_since_done: false,
            in_proc: false,
            no_metadata: false,
        }
    }

    #[must_use]
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    #[must_use]
    pub fn packet_size(&self) -> usize {
        self.framer.packet_size()
    }

    pub fn set_packet_size(&mut self, size: usize) {
        self.framer.set_packet_size(size);
    }

    /// Starts the part of a response that belongs to one RPC call (DONEINPROC for statements).
    pub fn begin_call(&mut self, no_metadata: bool) {
        self.in_proc = true;
        self.no_metadata = no_metadata;
    }

    fn statement_done_kind(&self) -> DoneKind {
        if self.in_proc {
            DoneKind::DoneInProc
        } else {
            DoneKind::Done
        }
    }

    /// Writes the held-back DONE, if any, as "more follows".
    fn release_pending(&mut self) {
        if let Some(mut done) = self.pending_done.take() {
            done.status |= done_status::MORE;
            done.put(&mut self.body);
        }
    }

    /// Closes a statement that produced messages but no DONE yet.
    fn close_unterminated(&mut self) {
        if self.unterminated {
            let status = done_status::MORE | self.take_error_bit();
            Done {
                kind: self.statement_done_kind(),
                status,
                cur_cmd: 0,
                row_count: 0,
            }
            .put(&mut self.body);
            self.unterminated = false;
        }
    }

    fn take_error_bit(&mut self) -> u16 {
        if std::mem::take(&mut self.error_since_done) {
            done_status::ERROR
        } else {
            0
        }
    }

    /// INFO or ERROR; flushed at once so the client sees it while the statement runs.
    pub fn message(&mut self, m: &SqlMessage) {
        self.release_pending();
        token::put_message(
            &mut self.body,
            m.number,
            m.state,
            m.level,
            &m.text,
            &self.server_name,
            m.procedure.as_deref().unwrap_or(""),
            m.line,
        );
        self.unterminated = true;
        self.error_since_done |= m.is_error();
        self.flush();
    }

    /// A result set: COLMETADATA and its rows. A value that cannot be encoded ends the result
    /// early with an error message for the client.
    pub fn result_set(&mut self, table: &Table) {
        self.release_pending();
        self.close_unterminated();
        let metadata = if self.no_metadata {
            None
        } else {
            Some(&table.columns[..])
        };
        let wire = token::put_col_metadata(&mut self.body, metadata, self.dialect);
        let wire = if wire.is_empty() {
            // NoMetaData: the client knows the columns; encode with ours all the same.
            let mut scratch = Vec::new();
            token::put_col_metadata(&mut scratch, Some(&table.columns), self.dialect)
        } else {
            wire
        };
        for row in &table.rows {
            let mark = self.body.len();
            if let Err(text) = token::put_row(&mut self.body, &wire, row, self.dialect) {
                self.body.truncate(mark);
                self.unterminated = true;
                self.message(&SqlMessage::new(
                    50_000,
                    16,
                    1,
                    1,
                    format!("vdisim cannot send this value over TDS: {text}"),
                ));
                break;
            }
            self.cut_full_packets();
        }
        self.unterminated = true;
        self.cut_full_packets();
    }

    /// A statement's row count: ends the statement.
    pub fn rows_affected(&mut self, count: u64) {
        self.release_pending();
        let status = done_status::COUNT | self.take_error_bit();
        self.pending_done = Some(Done {
            kind: self.statement_done_kind(),
            status,
            cur_cmd: CUR_CMD_SELECT,
            row_count: count,
        });
        self.unterminated = false;
    }

    /// ENVCHANGE for a new current database.
    pub fn env_database(&mut self, new: &str, old: &str) {
        self.release_pending();
        token::put_env_text(&mut self.body, token::env_type::DATABASE, new, old);
        self.unterminated = true;
    }

    /// Any other token written as is (ENVCHANGE, LOGINACK, FEATUREEXTACK …).
    pub fn raw_tokens(&mut self, bytes: &[u8]) {
        self.release_pending();
        self.body.extend_from_slice(bytes);
        self.cut_full_packets();
    }

    /// Ends an RPC call: RETURNSTATUS, the RETURNVALUEs (already encoded), DONEPROC.
    pub fn end_call(&mut self, return_status: Option<i32>, return_values: &[u8], more: bool) {
        self.release_pending();
        self.unterminated = false;
        if let Some(status) = return_status {
            token::put_return_status(&mut self.body, status);
        }
        self.body.extend_from_slice(return_values);
        let status = self.take_error_bit() | if more { done_status::MORE } else { 0 };
        Done {
            kind: DoneKind::DoneProc,
            status,
            cur_cmd: 0,
            row_count: 0,
        }
        .put(&mut self.body);
        self.in_proc = false;
        self.no_metadata = false;
        if !more {
            self.end_message();
        }
    }

    /// Ends a batch's response with its final DONE.
    pub fn end_batch(&mut self) {
        match self.pending_done.take() {
            Some(done) if !self.unterminated => done.put(&mut self.body),
            pending => {
                if let Some(mut done) = pending {
                    done.status |= done_status::MORE;
                    done.put(&mut self.body);
                }
                let status = self.take_error_bit();
                Done {
                    kind: DoneKind::Done,
                    status,
                    cur_cmd: 0,
                    row_count: 0,
                }
                .put(&mut self.body);
            }
        }
        self.reset_statement_state();
        self.end_message();
    }

    /// Ends a response cut short by an attention: DONE with ATTN, as the client waits for.
    pub fn end_attention(&mut self) {
        self.release_pending();
        Done {
            kind: DoneKind::Done,
            status: done_status::ATTN,
            cur_cmd: 0,
            row_count: 0,
        }
        .put(&mut self.body);
        self.reset_statement_state();
        self.end_message();
    }

    fn reset_statement_state(&mut self) {
        self.unterminated = false;
        self.error_since_done = false;
        self.in_proc = false;
        self.no_metadata = false;
    }

    /// Sends what is written so far without ending the message (a packet without EOM).
    pub fn flush(&mut self) {
        self.cut_full_packets();
        if !self.body.is_empty() {
            let body = std::mem::take(&mut self.body);
            self.framer
                .packet(packet_type::TABULAR_RESULT, &body, false, &mut self.out);
        }
    }

    fn end_message(&mut self) {
        self.cut_full_packets();
        let body = std::mem::take(&mut self.body);
        self.framer
            .packet(packet_type::TABULAR_RESULT, &body, true, &mut self.out);
    }

    /// Keeps at least one byte back: the last packet must carry EOM.
    fn cut_full_packets(&mut self) {
        let size = self.framer.body_size();
        if self.body.len() <= size {
            return;
        }
        let full = (self.body.len() - 1) / size * size;
        for chunk in self.body[..full].chunks(size) {
            self.framer
                .packet(packet_type::TABULAR_RESULT, chunk, false, &mut self.out);
        }
        self.body.drain(..full);
    }

    /// Packets ready to go out; `true` if any were appended to `buf`.
    #[must_use]
    pub fn poll_transmit(&mut self, buf: &mut Vec<u8>) -> bool {
        if self.out.is_empty() {
            return false;
        }
        buf.append(&mut self.out);
        true
    }

    /// Bytes waiting in [`ResponseWriter::poll_transmit`] (a large row can make this grow).
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.out.len() + self.body.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::Deframer;
    use crate::token::token_type;
    use tsql::value::{Column, SqlType, Value};

    fn payload(w: &mut ResponseWriter) -> Vec<u8> {
        let mut wire = Vec::new();
        let _ = w.poll_transmit(&mut wire);
        let mut d = Deframer::new(32_767, 1 << 24);
        d.handle_bytes(&wire).unwrap();
        let mut all = Vec::new();
        while let Some(m) = d.poll_message() {
            all.extend_from_slice(&m.payload);
        }
        all
    }

    fn table() -> Table {
        let mut t = Table::new(vec![Column::new("", SqlType::Int, false)]);
        t.push(vec![Value::Int(1)]);
        t
    }

    #[test]
    fn one_select_ends_with_a_final_counted_done() {
        let mut w = ResponseWriter::new(4096, 51, Dialect::default(), "S");
        w.result_set(&table());
        w.rows_affected(1);
        w.end_batch();
        let p = payload(&mut w);
        let done = &p[p.len() - 13..];
        assert_eq!(done[0], token_type::DONE);
        assert_eq!(u16::from_le_bytes([done[1], done[2]]), done_status::COUNT);
        assert_eq!(done[5], 1);
        assert_eq!(p.iter().filter(|&&b| b == token_type::DONE).count(), 1);
    }

    #[test]
    fn an_error_then_a_select_are_two_statements() {
        let mut w = ResponseWriter::new(4096, 51, Dialect::default(), "S");
        w.message(&SqlMessage::new(208, 16, 1, 1, "Invalid object name 'x'."));
        w.result_set(&table());
        w.rows_affected(1);
        w.end_batch();
        let p = payload(&mut w);
        let first_done = p.iter().position(|&b| b == token_type::DONE).unwrap();
        let status = u16::from_le_bytes([p[first_done + 1], p[first_done + 2]]);
        assert_eq!(status, done_status::MORE | done_status::ERROR);
        assert_eq!(p[first_done + 13], token_type::COLMETADATA);
    }

    #[test]
    fn messages_are_flushed_before_the_response_ends() {
        let mut w = ResponseWriter::new(512, 51, Dialect::default(), "S");
        w.message(&SqlMessage::new(3211, 0, 1, 1, "10 percent processed."));
        let mut wire = Vec::new();
        assert!(w.poll_transmit(&mut wire));
        assert_eq!(wire[1], 0, "not the end of the message");
        let mut big = Table::new(vec![Column::new("x", SqlType::NVarChar(Some(4000)), true)]);
        for _ in 0..10 {
            big.push(vec![Value::text("y".repeat(300))]);
        }
        w.result_set(&big);
        w.end_attention();
        let mut rest = Vec::new();
        let _ = w.poll_transmit(&mut rest);
        let mut d = Deframer::new(512, 1 << 20);
        wire.extend_from_slice(&rest);
        d.handle_bytes(&wire).unwrap();
        let m = d.poll_message().unwrap();
        let done = &m.payload[m.payload.len() - 13..];
        assert_eq!(u16::from_le_bytes([done[1], done[2]]), done_status::ATTN);
    }
}
