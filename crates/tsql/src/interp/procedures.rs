//! EXEC: dynamic SQL, `sp_executesql`, the catalog's read-only procedures, and the host's.

use std::collections::HashMap;

use super::errors;
use super::statements::{Flow, Run};
use super::{ProcArg, Variable, lower};
use crate::ast::*;
use crate::messages::SqlMessage;
use crate::output::OutputSink;
use crate::value::{SqlType, Value};

impl Run<'_> {
    /// Runs an EXEC. `_capture` is reserved for INSERT … EXEC's caller (it passes its own sink).
    pub(crate) fn exec(
        &mut self,
        exec: &Exec,
        sink: &mut dyn OutputSink,
        _capture: Option<()>,
    ) -> Result<(), SqlMessage> {
        match exec {
            Exec::Dynamic(e) => {
                let text = self.evaluate_text(e)?;
                self.dynamic_batch(&text, HashMap::new(), sink);
                Ok(())
            }
            Exec::Procedure {
                return_variable,
                procedure,
                args,
            } => {
                // `EXEC @proc …`: the variable holds the procedure's name (Ola Hallengren's
                // `[master].sys.sp_executesql`).
                let resolved;
                let procedure = if procedure.parts.len() == 1 && procedure.name().starts_with('@') {
                    let text = self.evaluate_text(&Expr::Variable(procedure.name().to_owned()))?;
                    resolved = crate::catalog::functions::split_object_name(&text);
                    &resolved
                } else {
                    procedure
                };
                let name = procedure.name().to_lowercase();
                match name.as_str() {
                    "sp_executesql" => self.sp_executesql(args, sink)?,
                    _ => self.call_procedure(procedure, args, sink)?,
                }
                if let Some(v) = return_variable {
                    self.assign(v, SqlType::Int, Value::Int(0))?;
                }
                Ok(())
            }
        }
    }

    fn call_procedure(
        &mut self,
        procedure: &ObjectName,
        args: &[ExecArgument],
        sink: &mut dyn OutputSink,
    ) -> Result<(), SqlMessage> {
        let name = procedure.name().to_lowercase();
        let mut evaluated = Vec::new();
        for a in args {
            let (ty, value) = if a.default {
                (SqlType::Int, Value::Null)
            } else {
                self.evaluate(&a.value)?
            };
            evaluated.push(ProcArg {
                name: a.name.clone(),
                ty,
                value,
            });
        }
        if name == "xp_instance_regread" || name == "xp_regread" {
            return self.registry_read(args, &evaluated);
        }
        if name == "xp_fileexist" {
            return self.file_exist(args, &evaluated, sink);
        }
        let snapshot = self.snapshot().clone();
        let session = self.session_info();
        let context = crate::catalog::FunctionContext::for_session(&snapshot, &session);
        if let Some(result) = crate::catalog::procedures::call(&name, &evaluated, &context) {
            for table in result.map_err(|m| super::stamp(m, self.line))? {
                let n = table.rows.len();
                sink.result_set(table);
                if !self.state.options.nocount {
                    sink.rows_affected(n as u64);
                }
            }
            return Ok(());
        }
        let line = self.line;
        match self.host.procedure(&name, &evaluated, line, sink) {
            Some(()) => Ok(()),
            None => Err(errors::procedure_not_found(line, &procedure.display())),
        }
    }

    /// `xp_instance_regread` / `xp_regread`: tools read the default backup and data
    /// directories; the OUTPUT argument gets the path of a Linux SQL Server's defaults.
    fn registry_read(
        &mut self,
        args: &[ExecArgument],
        evaluated: &[ProcArg],
    ) -> Result<(), SqlMessage> {
        let value_name = evaluated
            .iter()
            .filter_map(|a| match &a.value {
                Value::String(s) => Some(s.to_lowercase()),
                _ => None,
            })
            .nth(2)
            .unwrap_or_default();
        let answer = match value_name.as_str() {
            "backupdirectory" | "defaultdata" | "defaultlog" => Value::text("/var/opt/mssql/data"),
            _ => Value::Null,
        };
        for a in args.iter().filter(|a| a.output) {
            if let Expr::Variable(v) = &a.value {
                self.assign(v, SqlType::NVarChar(Some(4000)), answer.clone())?;
            }
        }
        Ok(())
    }

    /// `xp_fileexist 'path' [, @exists OUTPUT]`: the three flags as a result set, or only
    /// "File Exists" into the OUTPUT variable.
    fn file_exist(
        &mut self,
        args: &[ExecArgument],
        evaluated: &[ProcArg],
        sink: &mut dyn OutputSink,
    ) -> Result<(), SqlMessage> {
        let path = evaluated
            .first()
            .and_then(ProcArg::text)
            .unwrap_or_default();
        let table = crate::catalog::procedures::xp_fileexist_table(self.snapshot(), &path);
        let output = args.iter().skip(1).find(|a| a.output);
        if let Some(ExecArgument {
            value: Expr::Variable(v),
            ..
        }) = output
        {
            let exists = table.rows[0][0].clone();
            return self.assign(v, SqlType::Int, exists);
        }
        sink.result_set(table);
        if !self.state.options.nocount {
            sink.rows_affected(1);
        }
        Ok(())
    }

    /// `sp_executesql @stmt [, @params, @p1 = v1 …]`.
    fn sp_executesql(
        &mut self,
        args: &[ExecArgument],
        sink: &mut dyn OutputSink,
    ) -> Result<(), SqlMessage> {
        let line = self.line;
        let Some(statement_arg) = args.first() else {
            return Err(errors::parameter_not_supplied(
                line,
                "sp_executesql",
                "@statement",
            ));
        };
        let (ty, statement) = self.evaluate(&statement_arg.value)?;
        if !ty.is_unicode() && !statement.is_null() {
            return Err(errors::statement_must_be_unicode(line));
        }
        let statement = match statement {
            Value::String(s) => s,
            _ => String::new(),
        };
        let mut variables = HashMap::new();
        let mut outputs: Vec<(String, String)> = Vec::new();
        if let Some(params_arg) = args.get(1) {
            let (ty, params) = self.evaluate(&params_arg.value)?;
            if !ty.is_unicode() && !params.is_null() {
                return Err(errors::params_must_be_unicode(line));
            }
            let params_text = match params {
                Value::String(s) => s,
                _ => String::new(),
            };
            let declared = parse_parameters(&params_text, line)?;
            let values = &args[2..];
            let positional: Vec<&ExecArgument> =
                values.iter().filter(|a| a.name.is_none()).collect();
            for (i, p) in declared.iter().enumerate() {
                let supplied = values
                    .iter()
                    .find(|a| {
                        a.name
                            .as_deref()
                            .is_some_and(|n| n.eq_ignore_ascii_case(&p.name))
                    })
                    .or_else(|| positional.get(i).copied());
                let value = match supplied {
                    Some(a) if !a.default => {
                        if a.output
                            && let Expr::Variable(outer) = &a.value
                        {
                            outputs.push((p.name.clone(), outer.clone()));
                        }
                        let (ty, v) = self.evaluate(&a.value)?;
                        self.convert(v, ty, p.ty)?
                    }
                    _ => match &p.initial {
                        Some(default) => {
                            let (ty, v) = self.evaluate(default)?;
                            self.convert(v, ty, p.ty)?
                        }
                        None => {
                            return Err(errors::parameterized_query_missing(
                                line,
                                &params_text,
                                &p.name,
                            ));
                        }
                    },
                };
                variables.insert(lower(&p.name), Variable::scalar(p.ty, value));
            }
            if positional.len() > declared.len() {
                return Err(errors::too_many_arguments(line, "sp_executesql"));
            }
        }
        let results = self.dynamic_batch(&statement, variables, sink);
        for (inner, outer) in outputs {
            if let Some(v) = results.get(&lower(&inner)) {
                let (ty, value) = (v.ty, v.value.clone());
                self.assign(&outer, ty, value)?;
            }
        }
        Ok(())
    }

    /// Parses and runs `text` as a batch of its own, sharing the session but not the
    /// caller's variables; returns its variables at the end (for OUTPUT parameters).
    fn dynamic_batch(
        &mut self,
        text: &str,
        variables: HashMap<String, Variable>,
        sink: &mut dyn OutputSink,
    ) -> HashMap<String, Variable> {
        let statements = match crate::parse_batch(text, 1) {
            Ok(statements) => statements,
            Err(message) => {
                sink.message(message);
                return variables;
            }
        };
        let predeclared: Vec<String> = variables.keys().cloned().collect();
        if let Err(message) = super::check::declared_variables(&statements, &predeclared) {
            sink.message(message);
            return variables;
        }
        let outer_line = self.line;
        let (thrown, variables) = {
            let mut inner = Run::new(&mut *self.state, &mut *self.host, self.cancel, variables);
            inner.try_depth = self.try_depth;
            inner.caught = self.caught.clone();
            let mut thrown = None;
            let mut i = 0;
            while let Some(statement) = statements.get(i) {
                i += 1;
                match inner.statement(statement, sink) {
                    Flow::Stop => break,
                    Flow::Throw(error) => {
                        thrown = Some(error);
                        break;
                    }
                    Flow::Goto(label) => {
                        match super::statements::label_index(&statements, &label) {
                            Some(j) => i = j + 1,
                            None => break,
                        }
                    }
                    _ => {}
                }
            }
            (thrown, std::mem::take(&mut inner.variables))
        };
        self.line = outer_line;
        if let Some(error) = thrown {
            self.pending_throw = Some(error);
        }
        variables
    }
}

/// A parameter of `sp_executesql`'s declaration list.
struct Parameter {
    name: String,
    ty: SqlType,
    initial: Option<Expr>,
}

/// `@a int, @b nvarchar(10) = N'x', @c int OUTPUT`: parsed as the DECLARE it resembles,
/// with OUTPUT/OUT markers removed.
fn parse_parameters(text: &str, line: u32) -> Result<Vec<Parameter>, SqlMessage> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let cleaned: Vec<String> = split_top_level(text)
        .into_iter()
        .map(|item| {
            let trimmed = item.trim_end();
            let upper = trimmed.to_ascii_uppercase();
            for marker in [" OUTPUT", " OUT", " READONLY"] {
                if upper.ends_with(marker) {
                    return trimmed[..trimmed.len() - marker.len()].to_owned();
                }
            }
            trimmed.to_owned()
        })
        .collect();
    let statements = crate::parse_batch(&format!("DECLARE {}", cleaned.join(",")), line)
        .map_err(|m| m.at_line(line))?;
    let mut parameters = Vec::new();
    for s in statements {
        if let StatementKind::Declare(declarations) = s.kind {
            parameters.extend(declarations.into_iter().map(|d| Parameter {
                name: d.name,
                ty: d.ty,
                initial: d.initial,
            }));
        }
    }
    Ok(parameters)
}

/// Splits on commas outside parentheses and quotes.
fn split_top_level(text: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let (mut depth, mut quoted) = (0i32, false);
    for c in text.chars() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                items.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    items.push(current);
    items
}

/// RAISERROR's printf-style substitution: `%d %i %u %s %ls %x %X %o %I64d`, with flags,
/// width and precision (`*` takes them from the arguments); `%%` is a percent sign.
pub(crate) fn format_message(template: &str, args: &[(SqlType, Value)]) -> String {
    let mut out = String::new();
    let mut args = args.iter();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            out.push('%');
            continue;
        }
        let mut flags = String::new();
        while let Some(&f) = chars.peek() {
            if "-+0 #".contains(f) {
                flags.push(f);
                chars.next();
            } else {
                break;
            }
        }
        let mut number = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| -> Option<usize> {
            if chars.peek() == Some(&'*') {
                chars.next();
                return match args.next() {
                    Some((_, Value::Int(n))) => usize::try_from(*n).ok(),
                    _ => None,
                };
            }
            let mut digits = String::new();
            while let Some(&d) = chars.peek() {
                if d.is_ascii_digit() {
                    digits.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
            digits.parse().ok()
        };
        let width = number(&mut chars);
        let precision = if chars.peek() == Some(&'.') {
            chars.next();
            number(&mut chars)
        } else {
            None
        };
        // Size prefixes: h, l, I64.
        loop {
            match chars.peek() {
                Some('h' | 'l') => {
                    chars.next();
                }
                Some('I') => {
                    chars.next();
                    chars.next();
                    chars.next();
                }
                _ => break,
            }
        }
        let Some(kind) = chars.next() else {
            break;
        };
        let arg = args.next();
        let mut text = match (kind, arg) {
            (_, None) => "(null)".to_owned(),
            (_, Some((_, Value::Null))) => "(null)".to_owned(),
            ('d' | 'i' | 'u', Some((_, Value::Int(n)))) => {
                if flags.contains('+') && *n >= 0 {
                    format!("+{n}")
                } else {
                    n.to_string()
                }
            }
            ('x', Some((_, Value::Int(n)))) => format!("{n:x}"),
            ('X', Some((_, Value::Int(n)))) => format!("{n:X}"),
            ('o', Some((_, Value::Int(n)))) => format!("{n:o}"),
            ('s', Some((ty, v))) => crate::resultset::value_text(v, *ty),
            (_, Some((ty, v))) => crate::resultset::value_text(v, *ty),
        };
        if let Some(p) = precision
            && kind == 's'
        {
            text = text.chars().take(p).collect();
        }
        if let Some(w) = width {
            let len = text.chars().count();
            if len < w {
                let pad = w - len;
                if flags.contains('-') {
                    text.push_str(&" ".repeat(pad));
                } else if flags.contains('0') && kind != 's' {
                    text = format!("{}{text}", "0".repeat(pad));
                } else {
                    text = format!("{}{text}", " ".repeat(pad));
                }
            }
        }
        out.push_str(&text);
    }
    out
}

#[cfg(test)]
mod format_tests {
    use super::*;

    #[test]
    fn raiserror_substitution() {
        let args = [
            (SqlType::VarChar(Some(4)), Value::text("pubs")),
            (SqlType::Int, Value::Int(42)),
        ];
        assert_eq!(
            format_message("Database %s has %d files (100%%)", &args),
            "Database pubs has 42 files (100%)"
        );
        assert_eq!(format_message("[%5s][%-5d]", &args), "[ pubs][42   ]");
        assert_eq!(format_message("%.2s", &args), "pu");
        assert_eq!(format_message("%s %s %s", &args[..1]), "pubs (null) (null)");
        assert_eq!(
            format_message("%I64d", &[(SqlType::BigInt, Value::Int(7))]),
            "7"
        );
    }

    #[test]
    fn parameter_lists_split_outside_parentheses() {
        assert_eq!(
            split_top_level("@a numeric(25,0), @b nvarchar(10) = N'x,y'"),
            vec!["@a numeric(25,0)", " @b nvarchar(10) = N'x,y'"]
        );
    }
}
