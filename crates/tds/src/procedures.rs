//! The system procedures drivers call over RPC — sp_executesql, sp_prepare, sp_prepexec,
//! sp_execute, sp_unprepare — and any other procedure called by name, turned into SQL with
//! typed parameters for an [`crate::exec::Executor`].

use std::collections::HashMap;

use tsql::value::{SqlType, Value};

use crate::exec::Parameter;
use crate::request::{Procedure, RpcCall, RpcParam, proc_id};

/// The most statements one connection may keep prepared.
pub const MAX_PREPARED: usize = 10_000;

/// What one RPC call amounts to.
#[derive(Debug, Clone, PartialEq)]
pub enum Invocation {
    /// Run `sql` with these parameters. `handle` is an output handle to return first
    /// (sp_prepexec), as RETURNVALUE of the parameter at `handle.0`.
    Execute {
        sql: String,
        params: Vec<Parameter>,
        handle: Option<(u16, String, i32)>,
    },
    /// sp_prepare: only return the handle.
    Prepared {
        ordinal: u16,
        name: String,
        handle: i32,
    },
    /// sp_unprepare: nothing to return.
    Done,
    /// A call that cannot run: SQL Server's message number and text.
    Refused { number: u32, text: String },
}

/// One prepared statement: its parameter declarations and text.
#[derive(Debug, Clone, PartialEq)]
struct Prepared {
    declarations: String,
    sql: String,
}

/// A connection's prepared statements (handles are per connection, as in SQL Server).
#[derive(Debug, Default)]
pub struct PreparedStatements {
    statements: HashMap<i32, Prepared>,
    next: i32,
}

impl PreparedStatements {
    #[must_use]
    pub fn new() -> Self {
        PreparedStatements {
            statements: HashMap::new(),
            next: 1,
        }
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.statements.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// Interprets one call.
    pub fn invocation(&mut self, call: &RpcCall) -> Invocation {
        let p = &call.params;
        match call.procedure.special_id() {
            Some(proc_id::SP_EXECUTESQL) => {
                let Some(sql) = text(p.first()) else {
                    return refused_param("sp_executesql", "@stmt");
                };
                let declarations = text(p.get(1)).unwrap_or_default();
                execute(sql, &declarations, p.get(2..).unwrap_or_default(), None)
            }
            Some(proc_id::SP_PREPARE) => {
                let (Some(declarations), Some(sql)) = (text(p.get(1)), text(p.get(2))) else {
                    return refused_param("sp_prepare", "@stmt");
                };
                match self.prepare(declarations, sql) {
                    Ok(handle) => Invocation::Prepared {
                        ordinal: 0,
                        name: param_name(p, 0, "@handle"),
                        handle,
                    },
                    Err(refusal) => refusal,
                }
            }
            Some(proc_id::SP_PREPEXEC) => {
                let (Some(declarations), Some(sql)) = (text(p.get(1)), text(p.get(2))) else {
                    return refused_param("sp_prepexec", "@stmt");
                };
                match self.prepare(declarations.clone(), sql.clone()) {
                    Ok(handle) => execute(
                        sql,
                        &declarations,
                        p.get(3..).unwrap_or_default(),
                        Some((0, param_name(p, 0, "@handle"), handle)),
                    ),
                    Err(refusal) => refusal,
                }
            }
            Some(proc_id::SP_EXECUTE) => {
                let Some(handle) = int(p.first()) else {
                    return refused_param("sp_execute", "@handle");
                };
                match self.statements.get(&handle) {
                    Some(prepared) => {
                        let prepared = prepared.clone();
                        execute(
                            prepared.sql,
                            &prepared.declarations,
                            p.get(1..).unwrap_or_default(),
                            None,
                        )
                    }
                    None => Invocation::Refused {
                        number: 8179,
                        text: format!("Could not find prepared statement with handle {handle}."),
                    },
                }
            }
            Some(proc_id::SP_UNPREPARE) => {
                if let Some(handle) = int(p.first()) {
                    self.statements.remove(&handle);
                }
                Invocation::Done
            }
            Some(other) if matches!(call.procedure, Procedure::Id(_)) => Invocation::Refused {
                number: 2812,
                text: format!(
                    "Could not find stored procedure '{}' (server cursors, procedure id {other}, are not emulated).",
                    call.procedure.name()
                ),
            },
            _ => exec_by_name(&call.procedure.name(), p),
        }
    }

    fn prepare(&mut self, declarations: String, sql: String) -> Result<i32, Invocation> {
        if self.statements.len() >= MAX_PREPARED {
            return Err(Invocation::Refused {
                number: 8179,
                text: format!(
                    "Too many prepared statements on this connection (at most {MAX_PREPARED})."
                ),
            });
        }
        let handle = self.next;
        self.next = self.next.checked_add(1).unwrap_or(1);
        self.statements
            .insert(handle, Prepared { declarations, sql });
        Ok(handle)
    }
}

fn text(param: Option<&RpcParam>) -> Option<String> {
    match &param?.value {
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn int(param: Option<&RpcParam>) -> Option<i32> {
    match &param?.value {
        Value::Int(n) => i32::try_from(*n).ok(),
        _ => None,
    }
}

fn param_name(params: &[RpcParam], index: usize, default: &str) -> String {
    params
        .get(index)
        .map(|p| p.name.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

fn refused_param(procedure: &str, param: &str) -> Invocation {
    Invocation::Refused {
        number: 201,
        text: format!(
            "Procedure or function '{procedure}' expects parameter '{param}', which was not supplied."
        ),
    }
}

/// Matches the declared parameters with the values sent (by name, else by position).
fn execute(
    sql: String,
    declarations: &str,
    values: &[RpcParam],
    handle: Option<(u16, String, i32)>,
) -> Invocation {
    let declared = match parse_declarations(declarations) {
        Ok(d) => d,
        Err(text) => return Invocation::Refused { number: 102, text },
    };
    let mut params = Vec::with_capacity(declared.len());
    for (i, (name, declared_type, output)) in declared.into_iter().enumerate() {
        let sent = values
            .iter()
            .find(|v| !v.name.is_empty() && v.name.eq_ignore_ascii_case(&name))
            .or_else(|| {
                values
                    .get(i)
                    .filter(|v| v.name.is_empty() || v.name.starts_with("@P"))
            });
        let (ty, value) = match sent {
            Some(v) if !v.default => (v.ty, v.value.clone()),
            _ => (SqlType::Int, Value::Null),
        };
        params.push(Parameter {
            name,
            declared_type,
            ty,
            value,
            output,
        });
    }
    if values.len() > params.len() {
        return Invocation::Refused {
            number: 8144,
            text: "Procedure or function has too many arguments specified.".into(),
        };
    }
    Invocation::Execute {
        sql,
        params,
        handle,
    }
}

/// `@P1 int, @P2 nvarchar(4000) OUTPUT` → (name, type text, output) triples.
pub fn parse_declarations(text: &str) -> Result<Vec<(String, String, bool)>, String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut current = String::new();
    let mut parts = Vec::new();
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    parts.push(current);
    for part in parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        let (name, rest) = part
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("Incorrect syntax near '{part}'."))?;
        if !name.starts_with('@') || name.len() < 2 {
            return Err(format!("Incorrect syntax near '{name}'."));
        }
        let mut ty = rest.trim().to_owned();
        let mut output = false;
        for suffix in [" output", " out", " readonly"] {
            if ty.to_ascii_lowercase().ends_with(suffix) {
                output = suffix != " readonly";
                ty.truncate(ty.len() - suffix.len());
                ty = ty.trim_end().to_owned();
            }
        }
        if ty.is_empty() || ty.contains([';', '\'', '-', '/']) {
            return Err(format!("Incorrect syntax near '{part}'."));
        }
        out.push((name.to_owned(), ty, output));
    }
    Ok(out)
}

/// Any other procedure by name: `EXEC name @a = value, …` with typed parameters.
fn exec_by_name(name: &str, params: &[RpcParam]) -> Invocation {
    if name.contains([';', '\'', '\n']) || name.trim().is_empty() {
        return Invocation::Refused {
            number: 2812,
            text: format!("Could not find stored procedure '{name}'."),
        };
    }
    let mut sql = format!("EXEC {name}");
    let mut bound = Vec::new();
    for (i, p) in params.iter().enumerate() {
        let local = format!("@__rpc{i}");
        sql.push_str(if i == 0 { " " } else { ", " });
        if !p.name.is_empty() {
            sql.push_str(&format!("{} = ", p.name));
        }
        if p.default {
            sql.push_str("DEFAULT");
            continue;
        }
        sql.push_str(&local);
        if p.output {
            sql.push_str(" OUTPUT");
        }
        bound.push(Parameter {
            name: local,
            declared_type: p.ty.sql_name(),
            ty: p.ty,
            value: p.value.clone(),
            output: p.output,
        });
    }
    Invocation::Execute {
        sql,
        params: bound,
        handle: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::RpcParam;

    fn p(name: &str, ty: SqlType, value: Value) -> RpcParam {
        RpcParam {
            name: name.into(),
            output: false,
            default: false,
            ty,
            value,
        }
    }

    #[test]
    fn declarations() {
        let d = parse_declarations("@P1 int,@P2 decimal(10, 2) OUTPUT, @x nvarchar(max)").unwrap();
        assert_eq!(d[0], ("@P1".into(), "int".into(), false));
        assert_eq!(d[1], ("@P2".into(), "decimal(10, 2)".into(), true));
        assert_eq!(d[2].1, "nvarchar(max)");
        assert!(parse_declarations("@P1 int; DROP DATABASE x").is_err());
        assert!(parse_declarations("P1 int").is_err());
        assert_eq!(parse_declarations("").unwrap(), vec![]);
    }

    #[test]
    fn prepare_execute_unprepare() {
        let mut ps = PreparedStatements::new();
        let nv = SqlType::NVarChar(Some(4000));
        let prepexec = RpcCall {
            procedure: Procedure::Id(proc_id::SP_PREPEXEC),
            options: 0,
            params: vec![
                RpcParam {
                    output: true,
                    ..p("@handle", SqlType::Int, Value::Null)
                },
                p("", nv, Value::text("@P1 int")),
                p("", nv, Value::text("SELECT @P1")),
                p("", SqlType::Int, Value::Int(5)),
            ],
        };
        let Invocation::Execute {
            params,
            handle: Some((0, name, h)),
            ..
        } = ps.invocation(&prepexec)
        else {
            panic!("prepexec");
        };
        assert_eq!(name, "@handle");
        assert_eq!(params[0].value, Value::Int(5));
        let execute = RpcCall {
            procedure: Procedure::Id(proc_id::SP_EXECUTE),
            options: 0,
            params: vec![
                p("", SqlType::Int, Value::Int(i64::from(h))),
                p("", SqlType::Int, Value::Int(6)),
            ],
        };
        let Invocation::Execute { sql, params, .. } = ps.invocation(&execute) else {
            panic!("execute");
        };
        assert_eq!(sql, "SELECT @P1");
        assert_eq!(params[0].value, Value::Int(6));
        let unprepare = RpcCall {
            procedure: Procedure::Id(proc_id::SP_UNPREPARE),
            options: 0,
            params: vec![p("", SqlType::Int, Value::Int(i64::from(h)))],
        };
        assert_eq!(ps.invocation(&unprepare), Invocation::Done);
        assert!(matches!(
            ps.invocation(&execute),
            Invocation::Refused { number: 8179, .. }
        ));
        assert!(ps.is_empty());
    }
}
