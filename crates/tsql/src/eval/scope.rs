//! What an expression can see: the columns of the row being evaluated, the rows of enclosing
//! queries (correlated subqueries), and values computed beforehand for aggregate and window
//! function calls.

use crate::ast::{Expr, ObjectName};
use crate::messages::SqlMessage;
use crate::value::{Column, Value};

use super::{Typed, errors};

/// A column visible to expressions, with the exposed name of the table it comes from: the
/// alias, or the object name as written in FROM (`sys.databases`, `msdb..backupset`).
#[derive(Debug, Clone, PartialEq)]
pub struct SourceColumn {
    /// The table's exposed name, in parts; empty when the column has no table.
    pub table: Vec<String>,
    pub column: Column,
}

impl SourceColumn {
    pub fn new(table: &[String], column: Column) -> Self {
        SourceColumn {
            table: table.to_vec(),
            column,
        }
    }

    /// `t.col` as SQL Server names the column in messages (8120).
    #[must_use]
    pub fn display(&self) -> String {
        if self.table.is_empty() {
            self.column.name.clone()
        } else {
            format!("{}.{}", self.table.join("."), self.column.name)
        }
    }

    /// Whether a qualifier as written (`d`, `sys.databases`, `master..databases`) names this
    /// column's table: the parts both have agree from the right, empty parts matching any.
    #[must_use]
    pub fn matches_qualifier(&self, qualifier: &[String]) -> bool {
        if qualifier.is_empty() || self.table.is_empty() || qualifier.len() > self.table.len() + 1 {
            return false;
        }
        let last_matches = qualifier
            .last()
            .zip(self.table.last())
            .is_some_and(|(q, t)| q.eq_ignore_ascii_case(t));
        last_matches
            && qualifier
                .iter()
                .rev()
                .zip(self.table.iter().rev())
                .all(|(q, t)| q.is_empty() || t.is_empty() || q.eq_ignore_ascii_case(t))
    }
}

/// A value computed before the row is evaluated, keyed by the address of the expression node it
/// replaces (an aggregate or window function call). The AST outlives the query, so the address
/// is stable for its duration.
pub type Computed = (usize, Typed);

/// The address key of an expression node.
#[must_use]
pub fn node_key(expr: &Expr) -> usize {
    std::ptr::from_ref(expr) as usize
}

/// The row an expression is evaluated against, and the rows of the queries around it.
#[derive(Debug, Clone, Copy)]
pub struct RowScope<'a> {
    pub columns: &'a [SourceColumn],
    /// One value per column; shorter (typically empty) when only types are wanted.
    pub row: &'a [Value],
    pub computed: &'a [Computed],
    pub outer: Option<&'a RowScope<'a>>,
}

impl<'a> RowScope<'a> {
    /// No columns at all (`SELECT 1`, `SET @v = …`).
    pub const EMPTY: RowScope<'static> = RowScope {
        columns: &[],
        row: &[],
        computed: &[],
        outer: None,
    };

    #[must_use]
    pub fn new(columns: &'a [SourceColumn], row: &'a [Value]) -> Self {
        RowScope {
            columns,
            row,
            computed: &[],
            outer: None,
        }
    }

    #[must_use]
    pub fn with_outer(mut self, outer: Option<&'a RowScope<'a>>) -> Self {
        self.outer = outer;
        self
    }

    #[must_use]
    pub fn with_computed(mut self, computed: &'a [Computed]) -> Self {
        self.computed = computed;
        self
    }

    /// The precomputed value of an aggregate or window call, here or in an enclosing query.
    #[must_use]
    pub fn computed_value(&self, expr: &Expr) -> Option<&'a Typed> {
        let key = node_key(expr);
        let mut scope = Some(self);
        while let Some(s) = scope {
            if let Some((_, v)) = s.computed.iter().find(|(k, _)| *k == key) {
                return Some(v);
            }
            scope = s.outer;
        }
        None
    }

    /// Finds a column by name with SQL Server's rules and errors: 209 when two tables of the
    /// same query have it, 207 when no query has it, 4104 when its qualifier names no table.
    /// Returns how many scopes out it was found (0 = this row) and its index there.
    pub fn resolve(&self, name: &ObjectName) -> Result<(usize, usize), SqlMessage> {
        let column = name.name();
        let qualifier = &name.parts[..name.parts.len().saturating_sub(1)];
        let mut scope = Some(self);
        let mut depth = 0;
        while let Some(s) = scope {
            let mut found = None;
            let mut table_seen = false;
            for (i, c) in s.columns.iter().enumerate() {
                let table_ok = qualifier.is_empty() || c.matches_qualifier(qualifier);
                table_seen |= table_ok && !qualifier.is_empty();
                if table_ok && c.column.name.eq_ignore_ascii_case(column) {
                    if found.is_some() {
                        return Err(errors::ambiguous_column(&name.display()));
                    }
                    found = Some(i);
                }
            }
            if let Some(i) = found {
                return Ok((depth, i));
            }
            if table_seen {
                return Err(errors::invalid_column(column));
            }
            scope = s.outer;
            depth += 1;
        }
        Err(if qualifier.is_empty() {
            errors::invalid_column(column)
        } else {
            errors::multipart_not_bound(&name.display())
        })
    }

    /// The scope `depth` levels out.
    #[must_use]
    pub fn level(&self, depth: usize) -> Option<&RowScope<'a>> {
        let mut scope = self;
        for _ in 0..depth {
            scope = scope.outer?;
        }
        Some(scope)
    }

    /// A column's type, nullability and current value (NULL when only types are wanted).
    pub fn column(&self, name: &ObjectName) -> Result<(&'a Column, Value), SqlMessage> {
        let (depth, i) = self.resolve(name)?;
        let scope = self
            .level(depth)
            .ok_or_else(|| errors::invalid_column(name.name()))?;
        let value = scope.row.get(i).cloned().unwrap_or(Value::Null);
        Ok((&scope.columns[i].column, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::SqlType;

    fn cols() -> Vec<SourceColumn> {
        let t = |parts: &[&str]| parts.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        vec![
            SourceColumn::new(
                &t(&["sys", "databases"]),
                Column::new("name", SqlType::Int, false),
            ),
            SourceColumn::new(
                &t(&["sys", "databases"]),
                Column::new("state", SqlType::Int, false),
            ),
            SourceColumn::new(&t(&["f"]), Column::new("name", SqlType::Int, false)),
            SourceColumn::new(&t(&["f"]), Column::new("size", SqlType::Int, false)),
        ]
    }

    fn resolve(name: &[&str]) -> Result<(usize, usize), u32> {
        let c = cols();
        let scope = RowScope::new(&c, &[]);
        scope
            .resolve(&ObjectName::new(name.iter().copied()))
            .map_err(|e| e.number)
    }

    #[test]
    fn resolution() {
        assert_eq!(resolve(&["STATE"]), Ok((0, 1)));
        assert_eq!(resolve(&["size"]), Ok((0, 3)));
        assert_eq!(resolve(&["name"]), Err(209));
        assert_eq!(resolve(&["f", "name"]), Ok((0, 2)));
        assert_eq!(resolve(&["databases", "name"]), Ok((0, 0)));
        assert_eq!(resolve(&["sys", "databases", "name"]), Ok((0, 0)));
        assert_eq!(resolve(&["master", "sys", "databases", "name"]), Ok((0, 0)));
        assert_eq!(resolve(&["f", "nope"]), Err(207));
        assert_eq!(resolve(&["nope"]), Err(207));
        assert_eq!(resolve(&["g", "name"]), Err(4104));
    }

    #[test]
    fn outer_scopes() {
        let outer_cols = cols();
        let outer = RowScope::new(&outer_cols, &[]);
        let inner_cols = vec![SourceColumn::new(
            &["x".to_owned()],
            Column::new("size", SqlType::Int, false),
        )];
        let inner = RowScope::new(&inner_cols, &[]).with_outer(Some(&outer));
        assert_eq!(inner.resolve(&ObjectName::new(["size"])).unwrap(), (0, 0));
        assert_eq!(
            inner.resolve(&ObjectName::new(["f", "size"])).unwrap(),
            (1, 3)
        );
        assert_eq!(inner.resolve(&ObjectName::new(["state"])).unwrap(), (1, 1));
    }
}
