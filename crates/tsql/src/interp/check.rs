//! The compile-time pass over a batch: every variable must be declared, in the text, before
//! it is used (137, 1087), and only once (134). SQL Server checks this for the whole batch
//! before running any of it.

use std::collections::HashSet;

use super::errors;
use crate::ast::*;
use crate::messages::{self, SqlMessage};

/// Checks `statements`; `predeclared` are the names a dynamic batch receives as parameters.
pub(crate) fn declared_variables(
    statements: &[Statement],
    predeclared: &[String],
) -> Result<(), SqlMessage> {
    let mut check = Check {
        declared: predeclared.iter().map(|n| n.to_lowercase()).collect(),
        line: 0,
        labels: HashSet::new(),
        gotos: Vec::new(),
    };
    check.statements(statements)?;
    // 133: a GOTO to a label the batch does not declare.
    match check
        .gotos
        .iter()
        .find(|(_, l)| !check.labels.contains(&l.to_lowercase()))
    {
        Some((line, label)) => Err(errors::label_not_declared(*line, label)),
        None => Ok(()),
    }
}

struct Check {
    declared: HashSet<String>,
    line: u32,
    /// The labels declared (lower-cased), and each GOTO's line and label.
    labels: HashSet<String>,
    gotos: Vec<(u32, String)>,
}

type Checked = Result<(), SqlMessage>;

impl Check {
    fn declare(&mut self, name: &str) -> Checked {
        if !self.declared.insert(name.to_lowercase()) {
            return Err(errors::variable_already_declared(self.line, name));
        }
        Ok(())
    }

    fn use_variable(&self, name: &str) -> Checked {
        if self.declared.contains(&name.to_lowercase()) {
            Ok(())
        } else {
            Err(messages::must_declare_variable(self.line, name))
        }
    }

    fn use_table_variable(&self, name: &ObjectName) -> Checked {
        let n = name.name();
        if name.parts.len() == 1 && n.starts_with('@') && !self.declared.contains(&n.to_lowercase())
        {
            return Err(errors::must_declare_table_variable(self.line, n));
        }
        Ok(())
    }

    fn statements(&mut self, statements: &[Statement]) -> Checked {
        statements.iter().try_for_each(|s| self.statement(s))
    }

    fn statement(&mut self, statement: &Statement) -> Checked {
        self.line = statement.line;
        match &statement.kind {
            StatementKind::Declare(declarations) => {
                for d in declarations {
                    // `DECLARE @a int = @a` is 137: the initial value is checked first.
                    if let Some(init) = &d.initial {
                        self.expr(init)?;
                    }
                    self.declare(&d.name)?;
                }
                Ok(())
            }
            StatementKind::DeclareTable { name, columns } => {
                for c in columns {
                    self.opt(c.default.as_ref())?;
                }
                self.declare(name)
            }
            StatementKind::SetVariable(set) => {
                self.expr(&set.value)?;
                self.use_variable(&set.name)
            }
            StatementKind::SetOption(option) => match &option.value {
                SetOptionValue::Number(e) => self.expr(e),
                _ => Ok(()),
            },
            StatementKind::Select(query) => self.query(query),
            StatementKind::PrintExpr(e) => self.expr(e),
            StatementKind::WaitFor(WaitFor::Delay(e) | WaitFor::Time(e)) => self.expr(e),
            StatementKind::Dbcc(dbcc) => dbcc.args.iter().try_for_each(|e| self.expr(e)),
            StatementKind::If(branch) => {
                self.expr(&branch.condition)?;
                self.statement(&branch.then)?;
                match &branch.otherwise {
                    Some(s) => self.statement(s),
                    None => Ok(()),
                }
            }
            StatementKind::While(w) => {
                self.expr(&w.condition)?;
                self.statement(&w.body)
            }
            StatementKind::Return(e) => self.opt(e.as_ref()),
            StatementKind::Label(label) => {
                if !self.labels.insert(label.to_lowercase()) {
                    return Err(errors::label_already_declared(self.line, label));
                }
                Ok(())
            }
            StatementKind::Goto(label) => {
                self.gotos.push((self.line, label.clone()));
                Ok(())
            }
            StatementKind::Block(body) => self.statements(body),
            StatementKind::TryCatch(tc) => {
                self.statements(&tc.body)?;
                self.statements(&tc.handler)
            }
            StatementKind::Raiserror(r) => {
                self.expr(&r.message)?;
                self.expr(&r.severity)?;
                self.expr(&r.state)?;
                r.args.iter().try_for_each(|e| self.expr(e))
            }
            StatementKind::Throw(t) => match &t.error {
                Some((a, b, c)) => {
                    self.expr(a)?;
                    self.expr(b)?;
                    self.expr(c)
                }
                None => Ok(()),
            },
            StatementKind::Exec(exec) => self.exec(exec),
            StatementKind::BeginTransaction(begin) => {
                self.opt(begin.name.as_ref())?;
                match &begin.mark {
                    Some(Some(e)) => self.expr(e),
                    _ => Ok(()),
                }
            }
            StatementKind::SaveTransaction(e) => self.expr(e),
            StatementKind::Backup(b) => self.slots(&b.variables),
            StatementKind::Restore(r) => self.slots(&r.variables),
            StatementKind::CreateTable(t) => {
                for c in &t.columns {
                    self.opt(c.default.as_ref())?;
                }
                Ok(())
            }
            StatementKind::Insert(insert) => {
                self.use_table_variable(&insert.target)?;
                match &insert.source {
                    InsertSource::Values(rows) => {
                        rows.iter().flatten().try_for_each(|e| self.expr(e))
                    }
                    InsertSource::Query(q) => self.query(q),
                    InsertSource::Exec(exec) => self.exec(exec),
                    InsertSource::DefaultValues => Ok(()),
                }
            }
            StatementKind::Update(update) => {
                self.use_table_variable(&update.target)?;
                for (_, e) in &update.assignments {
                    self.expr(e)?;
                }
                update.from.iter().try_for_each(|t| self.table(t))?;
                self.opt(update.selection.as_ref())
            }
            StatementKind::Delete(delete) => {
                self.use_table_variable(&delete.target)?;
                self.opt(delete.selection.as_ref())
            }
            _ => Ok(()),
        }
    }

    fn slots(&self, slots: &[VariableSlot]) -> Checked {
        slots
            .iter()
            .try_for_each(|s| self.use_variable(&s.variable))
    }

    fn exec(&mut self, exec: &Exec) -> Checked {
        match exec {
            Exec::Procedure {
                return_variable,
                args,
                ..
            } => {
                if let Some(v) = return_variable {
                    self.use_variable(v)?;
                }
                args.iter().try_for_each(|a| self.expr(&a.value))
            }
            Exec::Dynamic(e) => self.expr(e),
        }
    }

    fn opt(&mut self, expr: Option<&Expr>) -> Checked {
        expr.map_or(Ok(()), |e| self.expr(e))
    }

    fn query(&mut self, query: &Query) -> Checked {
        self.body(&query.body)?;
        for item in &query.order_by {
            self.expr(&item.expr)?;
        }
        self.opt(query.offset.as_ref())?;
        self.opt(query.fetch.as_ref())
    }

    fn body(&mut self, body: &QueryBody) -> Checked {
        match body {
            QueryBody::Select(select) => self.select(select),
            QueryBody::SetOperation { left, right, .. } => {
                self.body(left)?;
                self.body(right)
            }
            QueryBody::With { ctes, body } => {
                for cte in ctes {
                    self.query(&cte.query)?;
                }
                self.body(body)
            }
        }
    }

    fn select(&mut self, select: &Select) -> Checked {
        if let Some(top) = &select.top {
            self.expr(&top.count)?;
        }
        for item in &select.items {
            match item {
                SelectItem::Wildcard { .. } => {}
                SelectItem::Expr { expr, .. } => self.expr(expr)?,
                SelectItem::Assign { variable, expr, .. } => {
                    self.expr(expr)?;
                    self.use_variable(variable)?;
                }
            }
        }
        select.from.iter().try_for_each(|t| self.table(t))?;
        self.opt(select.selection.as_ref())?;
        select.group_by.iter().try_for_each(|e| self.expr(e))?;
        self.opt(select.having.as_ref())
    }

    fn table(&mut self, table: &TableRef) -> Checked {
        match table {
            TableRef::Named { name, .. } => self.use_table_variable(name),
            TableRef::Derived { query, .. } => self.query(query),
            TableRef::Function { args, .. } => args.iter().try_for_each(|e| self.expr(e)),
            TableRef::Values { rows, .. } => rows.iter().flatten().try_for_each(|e| self.expr(e)),
            TableRef::Join {
                left, right, on, ..
            } => {
                self.table(left)?;
                self.table(right)?;
                self.opt(on.as_ref())
            }
        }
    }

    fn expr(&mut self, expr: &Expr) -> Checked {
        match expr {
            Expr::Variable(name) => self.use_variable(name),
            Expr::Literal(_) | Expr::SystemVariable(_) | Expr::Column(_) | Expr::DatePart(_) => {
                Ok(())
            }
            Expr::Unary { operand, .. } => self.expr(operand),
            Expr::Binary { left, right, .. } => {
                self.expr(left)?;
                self.expr(right)
            }
            Expr::IsNull { expr, .. } => self.expr(expr),
            Expr::Like {
                expr,
                pattern,
                escape,
                ..
            } => {
                self.expr(expr)?;
                self.expr(pattern)?;
                self.opt(escape.as_deref())
            }
            Expr::Between {
                expr, low, high, ..
            } => {
                self.expr(expr)?;
                self.expr(low)?;
                self.expr(high)
            }
            Expr::InList { expr, list, .. } => {
                self.expr(expr)?;
                list.iter().try_for_each(|e| self.expr(e))
            }
            Expr::InSubquery { expr, query, .. } => {
                self.expr(expr)?;
                self.query(query)
            }
            Expr::Exists(query) | Expr::Subquery(query) => self.query(query),
            Expr::Quantified { left, query, .. } => {
                self.expr(left)?;
                self.query(query)
            }
            Expr::Case {
                operand,
                branches,
                otherwise,
            } => {
                self.opt(operand.as_deref())?;
                for (when, then) in branches {
                    self.expr(when)?;
                    self.expr(then)?;
                }
                self.opt(otherwise.as_deref())
            }
            Expr::Cast { expr, .. } => self.expr(expr),
            Expr::Convert { expr, style, .. } => {
                self.expr(expr)?;
                self.opt(style.as_deref())
            }
            Expr::Function { args, over, .. } => {
                args.iter().try_for_each(|e| self.expr(e))?;
                if let Some(over) = over {
                    over.partition_by.iter().try_for_each(|e| self.expr(e))?;
                    over.order_by.iter().try_for_each(|o| self.expr(&o.expr))?;
                }
                Ok(())
            }
        }
    }
}
