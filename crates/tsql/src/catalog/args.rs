//! Arguments of the catalog's functions and procedures: binding `EXEC` arguments to
//! parameters, and converting them with SQL Server's CAST rules (`value::convert`).

use crate::messages::SqlMessage;
use crate::value::convert::cast;
use crate::value::{DateTime, SqlType, Value};

/// One evaluated argument of `EXEC proc …`: `@name = value` or positional.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcArg {
    /// With its `@`; `None` for a positional argument.
    pub name: Option<String>,
    pub ty: SqlType,
    pub value: Value,
}

impl ProcArg {
    /// A positional argument.
    pub fn positional(ty: SqlType, value: Value) -> Self {
        ProcArg {
            name: None,
            ty,
            value,
        }
    }

    /// A named argument (`name` with or without its `@`).
    pub fn named(name: &str, ty: SqlType, value: Value) -> Self {
        let name = if name.starts_with('@') {
            name.to_owned()
        } else {
            format!("@{name}")
        };
        ProcArg {
            name: Some(name),
            ty,
            value,
        }
    }

    /// The argument as a name or other text ([`as_text`]).
    #[must_use]
    pub fn text(&self) -> Option<String> {
        as_text(&self.value)
    }
}

/// Binds `args` to a procedure's parameters (names with `@`, in declaration order), as
/// SQL Server does: positional first, then named. Unknown names get Msg 8145; a positional
/// argument after a named one gets Msg 119; too many get Msg 8144.
pub fn bind<'a>(
    procedure: &str,
    params: &[&str],
    args: &'a [ProcArg],
) -> Result<Vec<Option<&'a ProcArg>>, SqlMessage> {
    let mut bound: Vec<Option<&ProcArg>> = vec![None; params.len()];
    let mut seen_named = false;
    for (i, a) in args.iter().enumerate() {
        match &a.name {
            None if seen_named => {
                return Err(SqlMessage::new(
                    119,
                    15,
                    1,
                    0,
                    format!(
                        "Must pass parameter number {} and subsequent parameters as '@name = value'. After the form '@name = value' has been used, all subsequent parameters must be passed in the form '@name = value'.",
                        i + 1
                    ),
                ));
            }
            None => {
                let slot = bound
                    .get_mut(i)
                    .ok_or_else(|| too_many_arguments(procedure))?;
                *slot = Some(a);
            }
            Some(name) => {
                seen_named = true;
                let Some(p) = params.iter().position(|p| p.eq_ignore_ascii_case(name)) else {
                    return Err(SqlMessage::new(
                        8145,
                        16,
                        2,
                        0,
                        format!("{name} is not a parameter for procedure {procedure}."),
                    ));
                };
                bound[p] = Some(a);
            }
        }
    }
    Ok(bound)
}

/// Msg 8144: more arguments than the procedure or function takes.
#[must_use]
pub fn too_many_arguments(procedure: &str) -> SqlMessage {
    SqlMessage::new(
        8144,
        16,
        2,
        0,
        format!("Procedure or function {procedure} has too many arguments specified."),
    )
}

/// Msg 201: a required parameter was not supplied.
#[must_use]
pub fn missing_parameter(procedure: &str, parameter: &str) -> SqlMessage {
    SqlMessage::new(
        201,
        16,
        4,
        0,
        format!(
            "Procedure or function '{procedure}' expects parameter '{parameter}', which was not supplied."
        ),
    )
}

/// Msg 174 (a fixed count) or Msg 189 (a range): a built-in function called with the wrong
/// number of arguments. SQL Server names the function in lower case.
#[must_use]
pub fn wrong_argument_count(function: &str, min: usize, max: usize) -> SqlMessage {
    let function = function.to_ascii_lowercase();
    if min == max {
        SqlMessage::new(
            174,
            15,
            1,
            0,
            format!("The {function} function requires {min} argument(s)."),
        )
    } else {
        SqlMessage::new(
            189,
            15,
            1,
            0,
            format!("The {function} function requires {min} to {max} arguments."),
        )
    }
}

/// The text of a value given where a name is expected (`DB_ID(N'pubs')`, `@dbname`):
/// strings as they are, numbers in their decimal form; `None` for NULL.
#[must_use]
pub fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Bit(b) => Some(if *b { "1" } else { "0" }.to_owned()),
        Value::Decimal(d) => {
            let digits = d.mantissa.unsigned_abs().to_string();
            let sign = if d.mantissa < 0 { "-" } else { "" };
            let scale = usize::from(d.scale);
            if scale == 0 {
                Some(format!("{sign}{digits}"))
            } else {
                let padded = format!("{digits:0>width$}", width = scale + 1);
                let (int, frac) = padded.split_at(padded.len() - scale);
                Some(format!("{sign}{int}.{frac}"))
            }
        }
        Value::Float(f) => Some(f.to_string()),
        Value::Binary(_) | Value::DateTime(_) | Value::Guid(_) => None,
    }
}

/// An integer argument (`DB_NAME(5)`, `DB_NAME('5')`), converted as CAST(… AS int)
/// converts it; `None` for NULL.
pub fn as_int(ty: SqlType, v: &Value) -> Result<Option<i64>, SqlMessage> {
    match cast(v, ty, SqlType::Int)? {
        Value::Int(i) => Ok(Some(i)),
        _ => Ok(None),
    }
}

/// A datetime argument (`@oldest_date = '2024-01-01'`), converted as CAST(… AS datetime)
/// converts it (Msg 241 for text that is no date); `None` for NULL.
pub fn as_datetime(ty: SqlType, v: &Value) -> Result<Option<DateTime>, SqlMessage> {
    match cast(v, ty, SqlType::DateTime)? {
        Value::DateTime(t) => Ok(Some(t)),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_convert_as_cast_does_and_bad_ones_fail_with_241() {
        let vc = SqlType::VarChar(Some(30));
        let t = as_datetime(vc, &Value::text("2024-05-01 10:30:15"))
            .unwrap()
            .unwrap();
        assert_eq!(t, crate::catalog::civil::datetime(2024, 5, 1, 10, 30, 15));
        let t = as_datetime(vc, &Value::text("Apr 15, 2020 12:00 AM"))
            .unwrap()
            .unwrap();
        assert_eq!(t, crate::catalog::civil::datetime(2020, 4, 15, 0, 0, 0));
        assert_eq!(
            as_datetime(vc, &Value::text("yesterday"))
                .unwrap_err()
                .number,
            241
        );
        assert_eq!(as_datetime(vc, &Value::Null).unwrap(), None);
    }

    #[test]
    fn binding_follows_sql_servers_rules() {
        let args = [
            ProcArg::positional(SqlType::Int, Value::Int(1)),
            ProcArg::named("@b", SqlType::Int, Value::Int(2)),
        ];
        let bound = bind("p", &["@a", "@b", "@c"], &args).unwrap();
        assert_eq!(bound, vec![Some(&args[0]), Some(&args[1]), None]);
        let bad = [ProcArg::named("@zz", SqlType::Int, Value::Int(1))];
        assert_eq!(bind("p", &["@a"], &bad).unwrap_err().number, 8145);
        let order = [
            ProcArg::named("@a", SqlType::Int, Value::Int(1)),
            ProcArg::positional(SqlType::Int, Value::Int(2)),
        ];
        assert_eq!(bind("p", &["@a", "@b"], &order).unwrap_err().number, 119);
        let many = [
            ProcArg::positional(SqlType::Int, Value::Int(1)),
            ProcArg::positional(SqlType::Int, Value::Int(2)),
        ];
        assert_eq!(bind("p", &["@a"], &many).unwrap_err().number, 8144);
    }

    #[test]
    fn text_and_int_conversions() {
        assert_eq!(as_text(&Value::Int(5)).as_deref(), Some("5"));
        assert_eq!(
            as_text(&Value::Decimal(crate::value::Decimal {
                mantissa: -1234,
                scale: 3
            }))
            .as_deref(),
            Some("-1.234")
        );
        assert_eq!(
            as_int(SqlType::VarChar(Some(3)), &Value::text(" 7 ")).unwrap(),
            Some(7)
        );
        assert_eq!(
            as_int(SqlType::VarChar(Some(3)), &Value::text("x"))
                .unwrap_err()
                .number,
            245
        );
    }
}
