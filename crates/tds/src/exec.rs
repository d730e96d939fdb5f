//! Where T-SQL runs: the small trait between the TDS front end and the engine.
//!
//! [`Executor::execute_batch`] runs text. [`Executor::execute_parameterized`] runs text with
//! typed parameters (sp_executesql, sp_prepexec, sp_execute, a procedure called by name); its
//! default turns them into a batch that DECLAREs each parameter with its value, which any
//! engine that runs DECLARE can take. An engine that binds typed values itself overrides it
//! (and can then also return output parameters).

use tsql::output::{CancelToken, OutputSink};
use tsql::value::{DateTime, Decimal, SqlType, Value};

/// One parameter, declared and bound.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    /// With its `@`.
    pub name: String,
    /// As declared in `@params` (e.g. `nvarchar(4000)`, `decimal(10, 2)`).
    pub declared_type: String,
    /// The type the client sent the value as.
    pub ty: SqlType,
    pub value: Value,
    pub output: bool,
}

/// How a request ended.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExecOutcome {
    /// Any error (level > 10) was sent.
    pub error: bool,
    /// The batch stopped because it was cancelled.
    pub cancelled: bool,
    /// Values of the output parameters, in declaration order; empty when the executor cannot
    /// give them (the inputs are returned then).
    pub outputs: Vec<Value>,
}

/// Runs T-SQL for one connection.
pub trait Executor {
    fn execute_batch(
        &mut self,
        sql: &str,
        sink: &mut dyn OutputSink,
        cancel: &CancelToken,
    ) -> ExecOutcome;

    fn execute_parameterized(
        &mut self,
        sql: &str,
        params: &[Parameter],
        sink: &mut dyn OutputSink,
        cancel: &CancelToken,
    ) -> ExecOutcome {
        match declare_batch(sql, params) {
            Ok(batch) => self.execute_batch(&batch, sink, cancel),
            Err(text) => {
                sink.message(tsql::SqlMessage::new(8023, 16, 1, 1, text));
                ExecOutcome {
                    error: true,
                    ..ExecOutcome::default()
                }
            }
        }
    }

    /// The current database (after USE), for ENVCHANGE.
    fn database(&self) -> String;
}

/// `DECLARE @P1 int = 5, @P2 nvarchar(10) = N'x'; <sql>` — on the statement's first line, so
/// line numbers in messages stay those of `sql`.
pub fn declare_batch(sql: &str, params: &[Parameter]) -> Result<String, String> {
    if params.is_empty() {
        return Ok(sql.to_owned());
    }
    let mut out = String::from("DECLARE ");
    for (i, p) in params.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&format!(
            "{} {} = {}",
            p.name,
            p.declared_type,
            literal(&p.value, &p.declared_type)?
        ));
    }
    out.push_str("; ");
    out.push_str(sql);
    Ok(out)
}

/// A T-SQL literal of a value, in a form the declared type converts from.
pub fn literal(value: &Value, declared_type: &str) -> Result<String, String> {
    Ok(match value {
        Value::Null => "NULL".into(),
        Value::Bit(b) => u8::from(*b).to_string(),
        Value::Int(n) => n.to_string(),
        Value::Decimal(d) => decimal_text(*d),
        Value::Float(f) if f.is_finite() => format!("{f:e}"),
        Value::Float(_) => return Err("The incoming tabular data stream (TDS) remote procedure call (RPC) protocol stream is incorrect. A floating point value is not finite.".into()),
        Value::String(s) => format!("N'{}'", s.replace('\'', "''")),
        Value::Binary(b) => {
            let mut s = String::from("0x");
            for byte in b {
                s.push_str(&format!("{byte:02X}"));
            }
            s
        }
        Value::Guid(_) => format!("'{}'", tsql::value::format::sqlcmd_text(value, SqlType::UniqueIdentifier)),
        Value::DateTime(dt) => format!("'{}'", datetime_text(*dt, declared_type)),
    })
}

fn decimal_text(d: Decimal) -> String {
    let digits = d.mantissa.unsigned_abs().to_string();
    let scale = usize::from(d.scale);
    let sign = if d.mantissa < 0 { "-" } else { "" };
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{sign}{int}.{frac}")
}

/// ISO 8601 text each temporal type converts from without loss or error.
fn datetime_text(dt: DateTime, declared_type: &str) -> String {
    let t = declared_type.trim().to_ascii_lowercase();
    let date = format!("{:04}-{:02}-{:02}", dt.year(), dt.month(), dt.day());
    let time = format!("{:02}:{:02}:{:02}", dt.hour(), dt.minute(), dt.second());
    let fraction = dt.fraction();
    if t.starts_with("date") && !t.starts_with("datetime") {
        date
    } else if t.starts_with("time") {
        format!("{time}.{fraction:07}")
    } else if t.starts_with("smalldatetime") {
        format!("{date}T{time}")
    } else if t == "datetime" {
        format!("{date}T{time}.{:03}", fraction / 10_000)
    } else {
        format!("{date}T{time}.{fraction:07}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(name: &str, declared: &str, value: Value) -> Parameter {
        Parameter {
            name: name.into(),
            declared_type: declared.into(),
            ty: SqlType::Int,
            value,
            output: false,
        }
    }

    #[test]
    fn declare_batches() {
        let params = [
            param("@P1", "int", Value::Int(-4)),
            param("@P2", "nvarchar(10)", Value::text("it's")),
            param(
                "@P3",
                "decimal(5,2)",
                Value::Decimal(Decimal {
                    mantissa: -5,
                    scale: 2,
                }),
            ),
            param("@P4", "varbinary(max)", Value::Binary(vec![0xAB, 1])),
            param(
                "@P5",
                "datetime",
                Value::DateTime(DateTime {
                    days: 738_000,
                    ticks: 1_234_567,
                }),
            ),
            param("@P6", "float", Value::Float(0.1)),
            param("@P7", "int", Value::Null),
        ];
        assert_eq!(
            declare_batch("SELECT @P1", &params).unwrap(),
            "DECLARE @P1 int = -4, @P2 nvarchar(10) = N'it''s', @P3 decimal(5,2) = -0.05, \
             @P4 varbinary(max) = 0xAB01, @P5 datetime = '2021-07-30T00:00:00.123', \
             @P6 float = 1e-1, @P7 int = NULL; SELECT @P1"
        );
        assert_eq!(declare_batch("SELECT 1", &[]).unwrap(), "SELECT 1");
    }
}
