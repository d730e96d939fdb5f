//! Temporary tables (`#t`) and table variables (`@t`): what tools keep their working rows in.
//! Permanent user tables are not emulated.

use super::errors;
use super::statements::{Flow, Outcome, Run};
use super::{Variable, lower};
use crate::ast::*;
use crate::messages::SqlMessage;
use crate::output::{CollectSink, Output, OutputSink};
use crate::value::{Column, SqlType, Table, Value};

/// A row UPDATE or DELETE found (by index) and the values computed for it.
type RowMatch = (usize, Vec<(SqlType, Value)>);

/// A column that numbers the rows while UPDATE and DELETE find theirs.
const ROW_ID: &str = "__vdisim_row_id";

/// A `#name` table of the session, or a table variable's definition.
#[derive(Debug, Clone, PartialEq)]
pub struct TempTable {
    pub name: String,
    pub definitions: Vec<ColumnDefinition>,
    pub rows: Table,
    pub(crate) next_identity: Option<i64>,
}

impl TempTable {
    #[must_use]
    pub fn new(name: &str, definitions: &[ColumnDefinition]) -> Self {
        let columns = definitions
            .iter()
            .map(|d| Column::new(d.name.clone(), d.ty, d.nullable))
            .collect();
        TempTable {
            name: name.to_owned(),
            definitions: definitions.to_vec(),
            rows: Table::new(columns),
            next_identity: definitions.iter().find_map(|d| d.identity.map(|(s, _)| s)),
        }
    }

    /// A table for `SELECT … INTO #t`, shaped like the query's result.
    fn from_result(name: &str, table: Table) -> Self {
        let definitions = table
            .columns
            .iter()
            .map(|c| ColumnDefinition {
                name: c.name.clone(),
                ty: c.ty,
                nullable: c.nullable,
                default: None,
                identity: None,
            })
            .collect();
        TempTable {
            name: name.to_owned(),
            definitions,
            rows: table,
            next_identity: None,
        }
    }
}

fn is_temp(name: &ObjectName) -> bool {
    name.parts.len() == 1 && name.name().starts_with('#')
}

fn is_table_variable(name: &ObjectName) -> bool {
    name.parts.len() == 1 && name.name().starts_with('@')
}

impl Run<'_> {
    /// The rows of a temporary table or table variable, if `name` is one.
    pub(crate) fn local_table(&self, name: &ObjectName) -> Option<Table> {
        if is_temp(name) {
            return self
                .state
                .temp_tables
                .get(&lower(name.name()))
                .map(|t| t.rows.clone());
        }
        if is_table_variable(name) {
            return self
                .variables
                .get(&lower(name.name()))
                .and_then(|v| v.table.clone());
        }
        None
    }

    fn definitions_of(&self, name: &ObjectName) -> Option<Vec<ColumnDefinition>> {
        if is_temp(name) {
            return self
                .state
                .temp_tables
                .get(&lower(name.name()))
                .map(|t| t.definitions.clone());
        }
        let v = self.variables.get(&lower(name.name()))?;
        v.table.as_ref()?;
        Some(v.definitions.clone())
    }

    fn store(&mut self, name: &ObjectName, rows: Table) {
        if is_temp(name) {
            if let Some(t) = self.state.temp_tables.get_mut(&lower(name.name())) {
                t.rows = rows;
            }
        } else if let Some(v) = self.variables.get_mut(&lower(name.name())) {
            v.table = Some(rows);
        }
    }

    /// `SELECT … INTO #t`.
    pub(crate) fn select_into(
        &mut self,
        name: &ObjectName,
        table: Table,
    ) -> Result<(), SqlMessage> {
        if !is_temp(name) {
            return Err(errors::permanent_table_not_emulated(
                self.line,
                &name.display(),
            ));
        }
        let key = lower(name.name());
        if self.state.temp_tables.contains_key(&key) {
            return Err(errors::object_exists(self.line, name.name()));
        }
        self.state
            .temp_tables
            .insert(key, TempTable::from_result(name.name(), table));
        Ok(())
    }

    pub(crate) fn table_statement(
        &mut self,
        statement: &Statement,
        sink: &mut dyn OutputSink,
    ) -> Outcome {
        let line = self.line;
        let count = match &statement.kind {
            StatementKind::CreateTable(create) => {
                if !is_temp(&create.name) {
                    return Err(errors::permanent_table_not_emulated(
                        line,
                        &create.name.display(),
                    ));
                }
                let key = lower(create.name.name());
                if self.state.temp_tables.contains_key(&key) {
                    return Err(errors::object_exists(line, create.name.name()));
                }
                self.state
                    .temp_tables
                    .insert(key, TempTable::new(create.name.name(), &create.columns));
                return Ok(Flow::Next);
            }
            StatementKind::DropTable { if_exists, names } => {
                for name in names {
                    let removed = is_temp(name)
                        && self.state.temp_tables.remove(&lower(name.name())).is_some();
                    if !removed && !if_exists {
                        return Err(errors::cannot_drop_table(line, &name.display()));
                    }
                }
                return Ok(Flow::Next);
            }
            StatementKind::Insert(insert) => self.insert(insert, sink)?,
            StatementKind::Update(update) => self.update(update)?,
            StatementKind::Delete(delete) => self.delete(delete)?,
            _ => return Ok(Flow::Next),
        };
        self.state.row_count = i64::try_from(count).unwrap_or(i64::MAX);
        if !self.state.options.nocount {
            sink.rows_affected(count as u64);
        }
        Ok(Flow::Next)
    }

    fn target(&self, name: &ObjectName) -> Result<(Vec<ColumnDefinition>, Table), SqlMessage> {
        if !is_temp(name) && !is_table_variable(name) {
            return Err(errors::permanent_table_not_emulated(
                self.line,
                &name.display(),
            ));
        }
        match (self.definitions_of(name), self.local_table(name)) {
            (Some(d), Some(t)) => Ok((d, t)),
            _ if is_table_variable(name) => {
                Err(errors::must_declare_table_variable(self.line, name.name()))
            }
            _ => Err(errors::invalid_object(self.line, name.name())),
        }
    }

    fn insert(&mut self, insert: &Insert, sink: &mut dyn OutputSink) -> Result<usize, SqlMessage> {
        let (definitions, mut table) = self.target(&insert.target)?;
        // Which table column each supplied value goes to.
        let targets: Vec<usize> = if insert.columns.is_empty() {
            (0..definitions.len())
                .filter(|&i| definitions[i].identity.is_none())
                .collect()
        } else {
            let mut targets = Vec::new();
            for c in &insert.columns {
                let i = table
                    .column_index(c)
                    .ok_or_else(|| crate::messages::invalid_column(self.line, c))?;
                targets.push(i);
            }
            targets
        };
        let rows: Vec<Vec<(SqlType, Value)>> = match &insert.source {
            InsertSource::Values(rows) => {
                let mut out = Vec::new();
                for row in rows {
                    let mut values = Vec::new();
                    for e in row {
                        values.push(self.evaluate(e)?);
                    }
                    out.push(values);
                }
                out
            }
            InsertSource::Query(query) => {
                let result = self.run_query(query)?;
                typed_rows(&result)
            }
            InsertSource::Exec(exec) => {
                let mut capture = CollectSink::new();
                self.exec(exec, &mut capture, None)?;
                let mut first = None;
                for output in capture.outputs {
                    match output {
                        Output::ResultSet(rs) if first.is_none() => first = Some(rs),
                        Output::Message(m) => sink.message(m),
                        _ => {}
                    }
                }
                first.as_ref().map(typed_rows).unwrap_or_default()
            }
            InsertSource::DefaultValues => vec![Vec::new()],
        };
        let mut new_rows = Vec::new();
        for values in rows {
            if !matches!(insert.source, InsertSource::DefaultValues)
                && values.len() != targets.len()
            {
                return Err(errors::insert_column_count(self.line));
            }
            let mut row = vec![Value::Null; definitions.len()];
            for (i, d) in definitions.iter().enumerate() {
                if let Some(default) = &d.default {
                    let (ty, v) = self.evaluate(default)?;
                    row[i] = self.convert(v, ty, d.ty)?;
                }
            }
            for (&i, (ty, v)) in targets.iter().zip(values) {
                row[i] = self.convert(v, ty, definitions[i].ty)?;
            }
            for (i, d) in definitions.iter().enumerate() {
                if let Some((_, step)) = d.identity {
                    let next = self.next_identity(&insert.target, step);
                    row[i] = Value::Int(next);
                    self.state.identity = Some(next);
                }
                if row[i].is_null() && !d.nullable {
                    return Err(errors::null_not_allowed(
                        self.line,
                        &d.name,
                        insert.target.name(),
                    ));
                }
            }
            new_rows.push(row);
        }
        let count = new_rows.len();
        table.rows.extend(new_rows);
        self.store(&insert.target, table);
        Ok(count)
    }

    fn next_identity(&mut self, name: &ObjectName, step: i64) -> i64 {
        if let Some(t) = self.state.temp_tables.get_mut(&lower(name.name())) {
            let value = t.next_identity.unwrap_or(1);
            t.next_identity = Some(value + step);
            return value;
        }
        if let Some(v) = self.variables.get_mut(&lower(name.name())) {
            let value = v.next_identity.unwrap_or(1);
            v.next_identity = Some(value + step);
            return value;
        }
        1
    }

    /// The rows (by index) that `selection` keeps, and for each the values of `extra`.
    fn matching_rows(
        &mut self,
        target: &ObjectName,
        table: &Table,
        from: &[TableRef],
        selection: Option<&Expr>,
        extra: &[Expr],
    ) -> Result<Vec<RowMatch>, SqlMessage> {
        // The table, numbered, stands in under its own name while a query finds the rows.
        let mut numbered = table.clone();
        numbered
            .columns
            .push(Column::new(ROW_ID, SqlType::BigInt, false));
        for (i, row) in numbered.rows.iter_mut().enumerate() {
            row.push(Value::Int(i as i64));
        }
        let mut items = vec![SelectItem::Expr {
            expr: Expr::Column(ObjectName::new([ROW_ID])),
            alias: None,
        }];
        items.extend(extra.iter().map(|e| SelectItem::Expr {
            expr: e.clone(),
            alias: None,
        }));
        let mut sources = vec![TableRef::Named {
            name: target.clone(),
            alias: None,
        }];
        sources.extend(from.iter().cloned());
        let query = Query {
            body: QueryBody::Select(Box::new(Select {
                distinct: false,
                top: None,
                items,
                into: None,
                from: sources,
                selection: selection.cloned(),
                group_by: Vec::new(),
                having: None,
            })),
            order_by: Vec::new(),
            offset: None,
            fetch: None,
            for_xml: None,
        };
        self.shadow_tables.push((target.clone(), numbered));
        let result = self.run_query(&query);
        self.shadow_tables.pop();
        let result = result?;
        let mut out = Vec::new();
        for (r, row) in result.rows.iter().enumerate() {
            let Some(Value::Int(index)) = row.first() else {
                continue;
            };
            let values = (1..row.len())
                .map(|c| (result.columns[c].ty, result.rows[r][c].clone()))
                .collect();
            out.push((usize::try_from(*index).unwrap_or(usize::MAX), values));
        }
        Ok(out)
    }

    fn update(&mut self, update: &Update) -> Result<usize, SqlMessage> {
        let (target, from) = aliased_target(&update.target, &update.from);
        let (definitions, mut table) = self.target(&target)?;
        let mut columns = Vec::new();
        for (name, _) in &update.assignments {
            columns.push(
                table
                    .column_index(name)
                    .ok_or_else(|| crate::messages::invalid_column(self.line, name))?,
            );
        }
        let values: Vec<Expr> = update.assignments.iter().map(|(_, e)| e.clone()).collect();
        let matches = self.matching_rows(
            &update.target,
            &table,
            &from,
            update.selection.as_ref(),
            &values,
        )?;
        let mut seen = std::collections::HashSet::new();
        for (index, new_values) in matches {
            if !seen.insert(index) || index >= table.rows.len() {
                continue;
            }
            for (&c, (ty, v)) in columns.iter().zip(new_values) {
                let v = self.convert(v, ty, definitions[c].ty)?;
                table.rows[index][c] = v;
            }
        }
        let count = seen.len();
        self.store(&target, table);
        Ok(count)
    }

    fn delete(&mut self, delete: &Delete) -> Result<usize, SqlMessage> {
        if self.is_deletable_empty(&delete.target) {
            return Ok(0);
        }
        let (_, mut table) = self.target(&delete.target)?;
        let doomed: std::collections::HashSet<usize> = self
            .matching_rows(&delete.target, &table, &[], delete.selection.as_ref(), &[])?
            .into_iter()
            .map(|(i, _)| i)
            .collect();
        let before = table.rows.len();
        let mut index = 0;
        table.rows.retain(|_| {
            let keep = !doomed.contains(&index);
            index += 1;
            keep
        });
        let count = before - table.rows.len();
        self.store(&delete.target, table);
        Ok(count)
    }
}

/// `UPDATE alias … FROM #t alias`: the table the alias names, and the FROM list without it
/// (the table stands in under the alias's name while the rows are found).
fn aliased_target(target: &ObjectName, from: &[TableRef]) -> (ObjectName, Vec<TableRef>) {
    if target.parts.len() == 1 && !is_temp(target) && !is_table_variable(target) {
        let aliased = from.iter().position(|t| {
            matches!(t, TableRef::Named { alias: Some(a), .. } if a.eq_ignore_ascii_case(target.name()))
        });
        if let Some(i) = aliased
            && let TableRef::Named { name, .. } = &from[i]
        {
            let mut rest = from.to_vec();
            rest.remove(i);
            return (name.clone(), rest);
        }
    }
    (target.clone(), from.to_vec())
}

fn typed_rows(table: &Table) -> Vec<Vec<(SqlType, Value)>> {
    table
        .rows
        .iter()
        .map(|row| {
            row.iter()
                .zip(&table.columns)
                .map(|(v, c)| (c.ty, v.clone()))
                .collect()
        })
        .collect()
}

impl Variable {
    pub(crate) fn is_table(&self) -> bool {
        self.table.is_some()
    }
}
