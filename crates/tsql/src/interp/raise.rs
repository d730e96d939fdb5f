//! RAISERROR and THROW: the messages a batch raises itself.

use super::errors::{self, ErrorInfo};
use super::statements::{Flow, Outcome, Run};
use crate::ast::*;
use crate::messages::SqlMessage;
use crate::output::OutputSink;
use crate::value::Value;

impl Run<'_> {
    pub(crate) fn raiserror(&mut self, r: &Raiserror, sink: &mut dyn OutputSink) -> Outcome {
        let (message_ty, message_value) = self.evaluate(&r.message)?;
        let severity = self.evaluate_int(&r.severity)?;
        let state = self.evaluate_int(&r.state)?;
        let mut args = Vec::new();
        for a in &r.args {
            args.push(self.evaluate(a)?);
        }
        let with_log = r.options.iter().any(|o| o == "LOG");
        if severity > 18 && !with_log {
            return Err(errors::severity_needs_log(self.line));
        }
        let (number, text) = match message_value {
            Value::Int(n) if !message_ty.is_string() => (
                n,
                format!(
                    "Error {n}, severity {severity}, state {state} was raised, but no message with that error number was found in sys.messages. If error is larger than 50000, make sure the user-defined message is added using sp_addmessage."
                ),
            ),
            other => (
                50000,
                super::procedures::format_message(
                    &crate::resultset::value_text(&other, message_ty),
                    &args,
                ),
            ),
        };
        let number = if (1..=50000).contains(&number) || number > 50000 {
            number
        } else {
            50000
        };
        let level = u8::try_from(severity.clamp(0, 25)).unwrap_or(16);
        let message = SqlMessage::new(
            u32::try_from(number).unwrap_or(50000),
            level,
            u8::try_from(state.clamp(0, 255)).unwrap_or(1),
            self.line,
            text,
        );
        if r.options.iter().any(|o| o == "SETERROR") || level > 10 {
            self.set_error(i32::try_from(number).unwrap_or(50000));
        }
        if level <= 10 {
            sink.message(message);
            return Ok(Flow::Next);
        }
        if self.try_depth > 0 && level <= 19 {
            return Ok(Flow::Throw(ErrorInfo::from(&message)));
        }
        sink.message(message);
        Ok(if level > 16 { Flow::Stop } else { Flow::Next })
    }

    pub(crate) fn throw(&mut self, t: &Throw, sink: &mut dyn OutputSink) -> Outcome {
        let message = match &t.error {
            None => {
                let Some(error) = self.caught.last() else {
                    return Err(errors::rethrow_outside_catch(self.line));
                };
                let mut m = SqlMessage::new(
                    u32::try_from(error.number).unwrap_or(50000),
                    u8::try_from(error.severity).unwrap_or(16),
                    u8::try_from(error.state).unwrap_or(1),
                    u32::try_from(error.line).unwrap_or(self.line),
                    error.message.clone(),
                );
                m.procedure.clone_from(&error.procedure);
                m
            }
            Some((number, text, state)) => {
                let number = self.evaluate_int(number)?;
                if !(50000..=i64::from(i32::MAX)).contains(&number) {
                    return Err(errors::throw_number_out_of_range(self.line, number));
                }
                let text = self.evaluate_text(text)?;
                let state = self.evaluate_int(state)?;
                SqlMessage::new(
                    u32::try_from(number).unwrap_or(50000),
                    16,
                    u8::try_from(state.clamp(0, 255)).unwrap_or(1),
                    self.line,
                    text,
                )
            }
        };
        self.set_error(i32::try_from(message.number).unwrap_or(i32::MAX));
        if self.try_depth > 0 {
            return Ok(Flow::Throw(ErrorInfo::from(&message)));
        }
        // THROW outside TRY ends the batch whatever its severity.
        sink.message(message);
        Ok(Flow::Stop)
    }
}
