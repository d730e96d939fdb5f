//! Tables: CREATE TABLE, the columns of `DECLARE @t TABLE`, INSERT, UPDATE, DELETE and
//! TRUNCATE TABLE. Constraints and indexes are accepted and not kept (temporary tables and
//! table variables are what tools use).

use super::types::TypeContext;
use super::{Parsed, Parser};
use crate::ast::{
    BinaryOp, ColumnDefinition, CreateTable, Delete, Expr, Insert, InsertSource, ObjectName,
    StatementKind, Update,
};
use crate::lexer::TokenKind;

impl Parser<'_> {
    /// `name (column, …)` after CREATE TABLE.
    pub(super) fn create_table(&mut self) -> Parsed<StatementKind> {
        let name = self.object_name()?;
        let columns = self.column_definitions()?;
        Ok(StatementKind::CreateTable(CreateTable { name, columns }))
    }

    /// `(column type [NULL|NOT NULL] [IDENTITY[(s, i)]] [DEFAULT x] [PRIMARY KEY] …, …)`
    pub(super) fn column_definitions(&mut self) -> Parsed<Vec<ColumnDefinition>> {
        self.expect_symbol('(')?;
        let mut columns = Vec::new();
        loop {
            if !self.table_constraint()? {
                columns.push(self.column_definition(columns.len() + 1)?);
            }
            if !self.eat_symbol(',') {
                break;
            }
        }
        self.expect_symbol(')')?;
        if columns.is_empty() {
            return Err(self.unexpected());
        }
        Ok(columns)
    }

    /// Reads a table-level constraint or index, if one is next.
    fn table_constraint(&mut self) -> Parsed<bool> {
        if self.eat_word("CONSTRAINT") {
            self.name()?;
        } else if !["PRIMARY", "UNIQUE", "CHECK", "INDEX", "FOREIGN"]
            .iter()
            .any(|w| self.at_word(w))
        {
            return Ok(false);
        }
        if self.eat_words(&["PRIMARY", "KEY"]) || self.eat_word("UNIQUE") {
            self.clustering();
            self.skip_parenthesized()?;
        } else if self.eat_word("CHECK") {
            self.expect_symbol('(')?;
            self.condition()?;
            self.expect_symbol(')')?;
        } else if self.eat_word("INDEX") {
            self.name()?;
            self.clustering();
            self.skip_parenthesized()?;
        } else {
            return Err(self.unexpected());
        }
        Ok(true)
    }

    fn clustering(&mut self) {
        if !self.eat_word("CLUSTERED") {
            self.eat_word("NONCLUSTERED");
        }
    }

    fn column_definition(&mut self, ordinal: usize) -> Parsed<ColumnDefinition> {
        let name = self.name()?;
        let (ty, mut not_null) = self.data_type_nullability(TypeContext::Column(ordinal))?;
        let mut nullable_given = false;
        let mut default = None;
        let mut identity = None;
        loop {
            if self.eat_word("NULL") {
                not_null = false;
                nullable_given = true;
            } else if self.eat_words(&["NOT", "NULL"]) {
                not_null = true;
                nullable_given = true;
            } else if self.eat_word("IDENTITY") {
                let mut seed_increment = (1, 1);
                if self.eat_symbol('(') {
                    seed_increment.0 = self.integer()?;
                    self.expect_symbol(',')?;
                    seed_increment.1 = self.integer()?;
                    self.expect_symbol(')')?;
                }
                identity = Some(seed_increment);
            } else if self.eat_word("DEFAULT") {
                default = Some(self.expr()?);
            } else if self.eat_word("COLLATE") || self.eat_word("CONSTRAINT") {
                self.name()?;
            } else if self.eat_words(&["PRIMARY", "KEY"]) {
                self.clustering();
                if !nullable_given {
                    not_null = true;
                }
            } else if self.eat_word("UNIQUE") {
                self.clustering();
            } else if self.eat_word("CHECK") {
                self.expect_symbol('(')?;
                self.condition()?;
                self.expect_symbol(')')?;
            } else if !self.eat_word("ROWGUIDCOL") {
                break;
            }
        }
        Ok(ColumnDefinition {
            name,
            ty,
            nullable: !(not_null || identity.is_some()),
            default,
            identity,
        })
    }

    /// `INSERT [INTO] target [(cols)] VALUES …|SELECT …|EXEC …|DEFAULT VALUES`
    pub(super) fn insert(&mut self) -> Parsed<StatementKind> {
        self.expect_word("INSERT")?;
        self.eat_word("INTO");
        let target = self.table_name()?;
        self.table_hints()?;
        let columns = if self.at_symbol('(')
            && !self
                .peek_at(1)
                .is_some_and(|t| t.is_word("SELECT") || t.is_word("WITH"))
        {
            self.optional_name_list()?
        } else {
            Vec::new()
        };
        let source = if self.eat_word("VALUES") {
            InsertSource::Values(self.value_rows()?)
        } else if self.eat_words(&["DEFAULT", "VALUES"]) {
            InsertSource::DefaultValues
        } else if self.at_word("EXEC") || self.at_word("EXECUTE") {
            InsertSource::Exec(Box::new(self.exec()?))
        } else if self.at_word("SELECT") || self.at_word("WITH") || self.at_symbol('(') {
            InsertSource::Query(Box::new(self.query()?))
        } else {
            return Err(self.unexpected());
        };
        Ok(StatementKind::Insert(Insert {
            target,
            columns,
            source,
        }))
    }

    /// `UPDATE target SET col = x, @v = x, col += x … [FROM …] [WHERE …]`
    pub(super) fn update(&mut self) -> Parsed<StatementKind> {
        self.expect_word("UPDATE")?;
        let target = self.table_name()?;
        self.table_hints()?;
        self.expect_word("SET")?;
        let mut assignments = Vec::new();
        loop {
            assignments.push(self.assignment()?);
            if !self.eat_symbol(',') {
                break;
            }
        }
        let from = if self.eat_word("FROM") {
            self.table_sources()?
        } else {
            Vec::new()
        };
        let selection = if self.eat_word("WHERE") {
            Some(self.condition()?)
        } else {
            None
        };
        Ok(StatementKind::Update(Update {
            target,
            assignments,
            from,
            selection,
        }))
    }

    /// `col = x`, `t.col = x`, `@v = x`; `col += x` is kept as `col = col + x`.
    fn assignment(&mut self) -> Parsed<(String, Expr)> {
        let column = match self.peek() {
            Some(t) if t.kind == TokenKind::Variable => {
                self.pos += 1;
                ObjectName::new([t.text.clone()])
            }
            _ => self.object_name()?,
        };
        let op = match self.peek() {
            Some(t) if t.is_symbol('=') => None,
            Some(t) => match super::expr::compound_assignment(t) {
                Some(op) => Some(op),
                None => return Err(self.unexpected()),
            },
            None => return Err(self.unexpected()),
        };
        self.pos += 1;
        let value = self.expr()?;
        let value = match op {
            None => value,
            Some(op) => compound(op, &column, value),
        };
        Ok((column.name().to_owned(), value))
    }

    /// `DELETE [FROM] target [WHERE …]`
    pub(super) fn delete(&mut self) -> Parsed<StatementKind> {
        self.expect_word("DELETE")?;
        self.eat_word("FROM");
        let target = self.table_name()?;
        self.table_hints()?;
        let selection = if self.eat_word("WHERE") {
            Some(self.condition()?)
        } else {
            None
        };
        Ok(StatementKind::Delete(Delete { target, selection }))
    }

    /// `TRUNCATE TABLE t`: a DELETE of every row.
    pub(super) fn truncate(&mut self) -> Parsed<StatementKind> {
        self.expect_word("TRUNCATE")?;
        self.expect_word("TABLE")?;
        let target = self.object_name()?;
        Ok(StatementKind::Delete(Delete {
            target,
            selection: None,
        }))
    }
}

fn compound(op: BinaryOp, column: &ObjectName, value: Expr) -> Expr {
    let current = if column.name().starts_with('@') {
        Expr::Variable(column.name().to_owned())
    } else {
        Expr::Column(column.clone())
    };
    Expr::Binary {
        op,
        left: Box::new(current),
        right: Box::new(value),
    }
}
