//! Serving one request of a logged-in connection: runs it through an [`Executor`] and writes
//! the response, handing packets to a [`Transmit`] as they are ready (so progress messages
//! reach the client while the statement runs).

use tsql::SqlMessage;
use tsql::output::{CancelToken, OutputSink};
use tsql::value::{SqlType, Table, Value};

use crate::exec::Executor;
use crate::procedures::{Invocation, PreparedStatements};
use crate::request::{Request, RpcCall, TransactionRequest, rpc_option};
use crate::response::ResponseWriter;
use crate::token::{self, env_type};
use crate::types::encode::WireColumn;

/// Where finished packets go. `false`: the client is gone (the request is cancelled).
pub trait Transmit {
    fn transmit(&mut self, bytes: &[u8]) -> bool;
}

/// How serving a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    /// The response is complete.
    Complete,
    /// The request was cancelled before its end was written: the caller ends the response
    /// ([`ResponseWriter::end_attention`] after an attention) or closes the connection.
    Cancelled,
    /// A write failed.
    ClientGone,
}

/// Per-connection state kept between requests.
#[derive(Debug)]
pub struct Service {
    prepared: PreparedStatements,
    transaction: Option<u64>,
    next_transaction: u64,
}

impl Default for Service {
    fn default() -> Self {
        Service {
            prepared: PreparedStatements::new(),
            transaction: None,
            next_transaction: 1,
        }
    }
}

impl Service {
    #[must_use]
    pub fn new() -> Self {
        Service::default()
    }

    /// Serves one request (never [`Request::Attention`]: the reading side handles those).
    pub fn serve(
        &mut self,
        request: &Request,
        exec: &mut dyn Executor,
        writer: &mut ResponseWriter,
        transmit: &mut dyn Transmit,
        cancel: &CancelToken,
    ) -> Served {
        let mut sink = TdsSink {
            writer,
            transmit,
            cancel,
            gone: false,
            database_sent: false,
        };
        match request {
            Request::SqlBatch { text, reset } => {
                sink.reset_ack(*reset);
                let before = exec.database();
                exec.execute_batch(text, &mut sink, cancel);
                sink.database_changed(&before, &exec.database());
                sink.finish(cancel, ResponseWriter::end_batch)
            }
            Request::Rpc { calls, reset } => {
                sink.reset_ack(*reset);
                for (i, call) in calls.iter().enumerate() {
                    let more = i + 1 < calls.len();
                    self.call(call, more, exec, &mut sink, cancel);
                    if cancel.is_cancelled() || sink.gone {
                        break;
                    }
                }
                sink.finish(cancel, |_| {})
            }
            Request::Transaction(t) => {
                self.transaction_request(t, &mut sink);
                sink.finish(cancel, ResponseWriter::end_batch)
            }
            Request::Attention => {
                sink.writer.end_attention();
                sink.drain();
                if sink.gone {
                    Served::ClientGone
                } else {
                    Served::Complete
                }
            }
        }
    }

    fn call(
        &mut self,
        call: &RpcCall,
        more: bool,
        exec: &mut dyn Executor,
        sink: &mut TdsSink<'_>,
        cancel: &CancelToken,
    ) {
        sink.writer
            .begin_call(call.options & rpc_option::NO_METADATA != 0);
        let dialect = sink.writer.dialect();
        let mut values = Vec::new();
        let put_int = |values: &mut Vec<u8>, ordinal: u16, name: &str, n: i32| {
            let column = WireColumn::new(SqlType::Int, true, dialect);
            let _ =
                token::put_return_value(values, ordinal, name, &column, &Value::Int(i64::from(n)));
        };
        let status = match self.prepared.invocation(call) {
            Invocation::Execute {
                sql,
                params,
                handle,
            } => {
                if let Some((ordinal, name, h)) = &handle {
                    put_int(&mut values, *ordinal, name, *h);
                }
                let before = exec.database();
                let outcome = exec.execute_parameterized(&sql, &params, sink, cancel);
                sink.database_changed(&before, &exec.database());
                let outputs = params.iter().filter(|p| p.output);
                for (j, p) in outputs.enumerate() {
                    let value = outcome.outputs.get(j).unwrap_or(&p.value);
                    let ordinal = call
                        .params
                        .iter()
                        .position(|c| c.name.eq_ignore_ascii_case(&p.name))
                        .unwrap_or(j);
                    let column = WireColumn::new(p.ty, true, dialect);
                    if token::put_return_value(&mut values, ordinal as u16, &p.name, &column, value)
                        .is_err()
                    {
                        let column = WireColumn::new(p.ty, true, dialect);
                        let _ = token::put_return_value(
                            &mut values,
                            ordinal as u16,
                            &p.name,
                            &column,
                            &Value::Null,
                        );
                    }
                }
                Some(i32::from(outcome.error))
            }
            Invocation::Prepared {
                ordinal,
                name,
                handle,
            } => {
                put_int(&mut values, ordinal, &name, handle);
                Some(0)
            }
            Invocation::Done => Some(0),
            Invocation::Refused { number, text } => {
                let mut m = SqlMessage::new(number, 16, 1, 1, text);
                m.procedure = Some(call.procedure.name());
                sink.message(m);
                None
            }
        };
        if !cancel.is_cancelled() {
            sink.writer.end_call(status, &values, more);
            sink.drain();
        }
    }

    fn transaction_request(&mut self, request: &TransactionRequest, sink: &mut TdsSink<'_>) {
        let mut tokens = Vec::new();
        let begin = |this: &mut Service, tokens: &mut Vec<u8>| {
            let id = this.next_transaction;
            this.next_transaction += 1;
            this.transaction = Some(id);
            token::put_env_bytes(tokens, env_type::BEGIN_TRANSACTION, &id.to_le_bytes(), &[]);
        };
        match request {
            TransactionRequest::Begin => begin(self, &mut tokens),
            TransactionRequest::Commit { begin_new } | TransactionRequest::Rollback { begin_new } => {
                let env = if matches!(request, TransactionRequest::Commit { .. }) {
                    env_type::COMMIT_TRANSACTION
                } else {
                    env_type::ROLLBACK_TRANSACTION
                };
                match self.transaction.take() {
                    Some(id) => token::put_env_bytes(&mut tokens, env, &[], &id.to_le_bytes()),
                    None => {
                        let (number, verb) = if env == env_type::COMMIT_TRANSACTION { (3902, "COMMIT") } else { (3903, "ROLLBACK") };
                        sink.message(SqlMessage::new(
                            number,
                            16,
                            1,
                            1,
                            format!("The {verb} TRANSACTION request has no corresponding BEGIN TRANSACTION."),
                        ));
                    }
                }
                if *begin_new {
                    begin(self, &mut tokens);
                }
            }
            TransactionRequest::Other(kind) => sink.message(SqlMessage::new(
                8509,
                16,
                1,
                1,
                format!("The transaction manager request {kind} (distributed transactions) is not emulated."),
            )),
        }
        sink.writer.raw_tokens(&tokens);
    }
}

/// The engine's output, as tokens.
struct TdsSink<'a> {
    writer: &'a mut ResponseWriter,
    transmit: &'a mut dyn Transmit,
    cancel: &'a CancelToken,
    gone: bool,
    /// An ENVCHANGE for the database went out with message 5701.
    database_sent: bool,
}

impl TdsSink<'_> {
    fn drain(&mut self) {
        let mut buf = Vec::new();
        if self.writer.poll_transmit(&mut buf) && !self.gone && !self.transmit.transmit(&buf) {
            self.gone = true;
            self.cancel.cancel();
        }
    }

    fn reset_ack(&mut self, reset: bool) {
        if reset {
            let mut tokens = Vec::new();
            token::put_env_bytes(&mut tokens, env_type::RESET_CONNECTION_ACK, &[], &[]);
            self.writer.raw_tokens(&tokens);
        }
    }

    fn database_changed(&mut self, before: &str, after: &str) {
        if before != after && !std::mem::take(&mut self.database_sent) {
            self.writer.env_database(after, before);
        }
    }

    fn finish(mut self, cancel: &CancelToken, end: impl FnOnce(&mut ResponseWriter)) -> Served {
        if self.gone {
            return Served::ClientGone;
        }
        if cancel.is_cancelled() {
            self.drain();
            return if self.gone {
                Served::ClientGone
            } else {
                Served::Cancelled
            };
        }
        end(self.writer);
        self.drain();
        if self.gone {
            Served::ClientGone
        } else {
            Served::Complete
        }
    }
}

impl OutputSink for TdsSink<'_> {
    fn message(&mut self, message: SqlMessage) {
        if message.number == 5701
            && let Some(name) = message.text.split('\'').nth(1)
        {
            // SQL Server sends the ENVCHANGE just before "Changed database context to 'x'."
            let mut tokens = Vec::new();
            token::put_env_text(&mut tokens, env_type::DATABASE, name, "");
            self.writer.raw_tokens(&tokens);
            self.database_sent = true;
        }
        self.writer.message(&message);
        self.drain();
    }

    fn result_set(&mut self, result_set: Table) {
        self.writer.result_set(&result_set);
        self.drain();
    }

    fn rows_affected(&mut self, count: u64) {
        self.writer.rows_affected(count);
        self.drain();
    }
}
