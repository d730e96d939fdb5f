//! SELECT: common table expressions, set operations, the select list, FROM with joins and
//! APPLY, WHERE, GROUP BY, HAVING, ORDER BY, OFFSET/FETCH. Table hints and OPTION (…) are
//! accepted and ignored.

use super::expr::compound_assignment;
use super::{Parsed, Parser};
use crate::ast::{
    CommonTableExpression, Expr, JoinKind, ObjectName, OrderItem, Query, QueryBody, Select,
    SelectItem, SetOperator, TableRef, Top,
};
use crate::lexer::TokenKind;

/// Words that may start a table hint written without WITH: `FROM t (NOLOCK)`.
const TABLE_HINTS: &[&str] = &[
    "NOLOCK",
    "READUNCOMMITTED",
    "READCOMMITTED",
    "READCOMMITTEDLOCK",
    "REPEATABLEREAD",
    "SERIALIZABLE",
    "HOLDLOCK",
    "UPDLOCK",
    "XLOCK",
    "TABLOCK",
    "TABLOCKX",
    "PAGLOCK",
    "ROWLOCK",
    "NOWAIT",
    "READPAST",
    "INDEX",
    "FORCESEEK",
    "FORCESCAN",
    "NOEXPAND",
    "SNAPSHOT",
];

impl Parser<'_> {
    /// `[WITH cte AS (…), …] body [ORDER BY …] [OFFSET … [FETCH …]] [OPTION (…)]`
    pub(super) fn query(&mut self) -> Parsed<Query> {
        self.nested(Self::query_inner)
    }

    fn query_inner(&mut self) -> Parsed<Query> {
        let ctes = if self.eat_word("WITH") {
            self.common_table_expressions()?
        } else {
            Vec::new()
        };
        let mut body = self.query_body()?;
        let order_by = if self.eat_word("ORDER") {
            self.expect_word("BY")?;
            self.order_items()?
        } else {
            Vec::new()
        };
        let (mut offset, mut fetch) = (None, None);
        if self.eat_word("OFFSET") {
            offset = Some(self.expr()?);
            self.rows_word()?;
            if self.eat_word("FETCH") {
                if !self.eat_word("NEXT") {
                    self.expect_word("FIRST")?;
                }
                fetch = Some(self.expr()?);
                self.rows_word()?;
                self.expect_word("ONLY")?;
            }
        }
        let for_xml = if self.eat_words(&["FOR", "XML"]) {
            Some(self.for_xml()?)
        } else {
            None
        };
        if self.eat_word("OPTION") {
            self.skip_parenthesized()?;
        }
        if !ctes.is_empty() {
            body = QueryBody::With {
                ctes,
                body: Box::new(body),
            };
        }
        Ok(Query {
            body,
            order_by,
            offset,
            fetch,
            for_xml,
        })
    }

    /// `PATH[('element')] [, TYPE] [, ROOT[('name')]]` after FOR XML; the other modes (RAW,
    /// AUTO, EXPLICIT) are not emulated and are a syntax error here.
    fn for_xml(&mut self) -> Parsed<crate::ast::ForXml> {
        self.expect_word("PATH")?;
        let mut element = "row".to_owned();
        if self.eat_symbol('(') {
            element = self.string()?;
            self.expect_symbol(')')?;
        }
        let mut xml = crate::ast::ForXml {
            element,
            type_directive: false,
            root: None,
            text_value: false,
        };
        while self.eat_symbol(',') {
            if self.eat_word("TYPE") {
                xml.type_directive = true;
            } else {
                self.expect_word("ROOT")?;
                let mut root = "root".to_owned();
                if self.eat_symbol('(') {
                    root = self.string()?;
                    self.expect_symbol(')')?;
                }
                xml.root = Some(root);
            }
        }
        Ok(xml)
    }

    fn rows_word(&mut self) -> Parsed<()> {
        if self.eat_word("ROWS") || self.eat_word("ROW") {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    /// `name [(col, …)] AS (query) [, …]` (WITH is read).
    fn common_table_expressions(&mut self) -> Parsed<Vec<CommonTableExpression>> {
        let mut ctes = Vec::new();
        loop {
            let name = self.name()?;
            let columns = self.optional_name_list()?;
            self.expect_word("AS")?;
            self.expect_symbol('(')?;
            let query = Box::new(self.query()?);
            self.expect_symbol(')')?;
            ctes.push(CommonTableExpression {
                name,
                columns,
                query,
            });
            if !self.eat_symbol(',') {
                return Ok(ctes);
            }
        }
    }

    /// `[(a, b, …)]`
    pub(super) fn optional_name_list(&mut self) -> Parsed<Vec<String>> {
        let mut names = Vec::new();
        if self.eat_symbol('(') {
            names.push(self.name()?);
            while self.eat_symbol(',') {
                names.push(self.name()?);
            }
            self.expect_symbol(')')?;
        }
        Ok(names)
    }

    /// Skips `( … )` with nested parentheses (OPTION and table hints, which are ignored).
    pub(super) fn skip_parenthesized(&mut self) -> Parsed<()> {
        self.expect_symbol('(')?;
        let mut depth = 1u32;
        while depth > 0 {
            match self.advance() {
                Some(t) if t.is_symbol('(') => depth += 1,
                Some(t) if t.is_symbol(')') => depth -= 1,
                Some(_) => {}
                None => return Err(self.unexpected()),
            }
        }
        Ok(())
    }

    /// UNION [ALL] and EXCEPT, left to right, over INTERSECT terms (which bind tighter).
    fn query_body(&mut self) -> Parsed<QueryBody> {
        let mut left = self.query_term()?;
        loop {
            let op = if self.eat_word("UNION") {
                SetOperator::Union
            } else if self.eat_word("EXCEPT") {
                SetOperator::Except
            } else {
                return Ok(left);
            };
            let all = op == SetOperator::Union && self.eat_word("ALL");
            let right = self.query_term()?;
            left = QueryBody::SetOperation {
                op,
                all,
                left: Box::new(left),
                right: Box::new(right),
            };
        }
    }

    fn query_term(&mut self) -> Parsed<QueryBody> {
        let mut left = self.query_primary()?;
        while self.eat_word("INTERSECT") {
            let right = self.query_primary()?;
            left = QueryBody::SetOperation {
                op: SetOperator::Intersect,
                all: false,
                left: Box::new(left),
                right: Box::new(right),
            };
        }
        Ok(left)
    }

    fn query_primary(&mut self) -> Parsed<QueryBody> {
        if self.eat_symbol('(') {
            // An ORDER BY inside the parentheses only matters with TOP, which the inner
            // SELECT keeps.
            let query = self.query()?;
            self.expect_symbol(')')?;
            return Ok(query.body);
        }
        if !self.at_word("SELECT") {
            return Err(self.unexpected());
        }
        Ok(QueryBody::Select(Box::new(self.select()?)))
    }

    fn select(&mut self) -> Parsed<Select> {
        self.expect_word("SELECT")?;
        let distinct = self.eat_word("DISTINCT");
        if !distinct {
            self.eat_word("ALL");
        }
        let top = if self.eat_word("TOP") {
            Some(self.top()?)
        } else {
            None
        };
        let mut items = vec![self.select_item()?];
        while self.eat_symbol(',') {
            items.push(self.select_item()?);
        }
        let into = if self.eat_word("INTO") {
            Some(self.object_name()?)
        } else {
            None
        };
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
        let group_by = if self.eat_word("GROUP") {
            self.expect_word("BY")?;
            self.expr_list()?
        } else {
            Vec::new()
        };
        let having = if self.eat_word("HAVING") {
            Some(self.condition()?)
        } else {
            None
        };
        Ok(Select {
            distinct,
            top,
            items,
            into,
            from,
            selection,
            group_by,
            having,
        })
    }

    /// `TOP (expr)` or `TOP n`, then `[PERCENT] [WITH TIES]` (TOP is read).
    pub(super) fn top(&mut self) -> Parsed<Top> {
        let count = if self.eat_symbol('(') {
            let count = self.expr()?;
            self.expect_symbol(')')?;
            count
        } else {
            match self.peek().map(|t| &t.kind) {
                Some(TokenKind::Integer | TokenKind::Decimal | TokenKind::Float) => self.expr()?,
                _ => return Err(self.unexpected()),
            }
        };
        let percent = self.eat_word("PERCENT");
        let with_ties = self.eat_words(&["WITH", "TIES"]);
        Ok(Top {
            count,
            percent,
            with_ties,
        })
    }

    fn select_item(&mut self) -> Parsed<SelectItem> {
        if self.eat_symbol('*') {
            return Ok(SelectItem::Wildcard { qualifier: None });
        }
        if let Some(qualifier) = self.qualified_wildcard()? {
            return Ok(SelectItem::Wildcard {
                qualifier: Some(qualifier),
            });
        }
        let Some(token) = self.peek() else {
            return Err(self.unexpected());
        };
        let next = self.peek_at(1);
        if token.kind == TokenKind::Variable
            && let Some(next) = next
        {
            let op = compound_assignment(next);
            if next.is_symbol('=') || op.is_some() {
                self.pos += 2;
                return Ok(SelectItem::Assign {
                    variable: token.text.clone(),
                    op,
                    expr: self.expr()?,
                });
            }
        }
        let alias_first = match &token.kind {
            TokenKind::String { value, .. } => Some(value.clone()),
            _ => token.identifier().map(str::to_owned),
        };
        if let Some(alias) = alias_first
            && next.is_some_and(|t| t.is_symbol('='))
        {
            self.pos += 2;
            return Ok(SelectItem::Expr {
                expr: self.expr()?,
                alias: Some(alias),
            });
        }
        let expr = self.expr()?;
        let alias = self.optional_alias(true)?;
        Ok(SelectItem::Expr { expr, alias })
    }

    /// `t.*`, `dbo.t.*`: the qualifier, if the tokens ahead are one.
    fn qualified_wildcard(&mut self) -> Parsed<Option<ObjectName>> {
        let mut parts = Vec::new();
        let mut ahead = 0;
        loop {
            let Some(part) = self.peek_at(ahead).and_then(|t| t.identifier()) else {
                return Ok(None);
            };
            parts.push(part.to_owned());
            if !self.peek_at(ahead + 1).is_some_and(|t| t.is_symbol('.')) {
                return Ok(None);
            }
            if self.peek_at(ahead + 2).is_some_and(|t| t.is_symbol('*')) {
                self.pos += ahead + 3;
                return Ok(Some(ObjectName { parts }));
            }
            ahead += 2;
        }
    }

    /// `[AS] alias`; a string alias (`'name'`) only where `strings` allows it (select lists).
    fn optional_alias(&mut self, strings: bool) -> Parsed<Option<String>> {
        let explicit = self.eat_word("AS");
        match self.peek() {
            Some(t) if t.identifier().is_some() => Ok(Some(self.name()?)),
            Some(t) if strings => match &t.kind {
                TokenKind::String { value, .. } => {
                    self.pos += 1;
                    Ok(Some(value.clone()))
                }
                _ if explicit => Err(self.unexpected()),
                _ => Ok(None),
            },
            _ if explicit => Err(self.unexpected()),
            _ => Ok(None),
        }
    }

    pub(super) fn order_items(&mut self) -> Parsed<Vec<OrderItem>> {
        let mut items = Vec::new();
        loop {
            let expr = self.expr()?;
            let descending = if self.eat_word("DESC") {
                true
            } else {
                self.eat_word("ASC");
                false
            };
            items.push(OrderItem { expr, descending });
            if !self.eat_symbol(',') {
                return Ok(items);
            }
        }
    }

    // ---- FROM ----------------------------------------------------------------------------

    /// Comma-separated table sources.
    pub(super) fn table_sources(&mut self) -> Parsed<Vec<TableRef>> {
        let mut sources = vec![self.table_source()?];
        while self.eat_symbol(',') {
            sources.push(self.table_source()?);
        }
        Ok(sources)
    }

    /// A table and the joins after it.
    fn table_source(&mut self) -> Parsed<TableRef> {
        let mut left = self.table_primary()?;
        while let Some(kind) = self.join_kind()? {
            left = self.join_rest(left, kind)?;
        }
        Ok(left)
    }

    /// Reads the join keywords, if a join follows.
    fn join_kind(&mut self) -> Parsed<Option<JoinKind>> {
        let kind = if self.eat_word("JOIN") {
            return Ok(Some(JoinKind::Inner));
        } else if self.eat_word("INNER") {
            JoinKind::Inner
        } else if self.eat_word("LEFT") {
            JoinKind::Left
        } else if self.eat_word("RIGHT") {
            JoinKind::Right
        } else if self.eat_word("FULL") {
            JoinKind::Full
        } else if self.eat_word("CROSS") {
            if self.eat_word("APPLY") {
                return Ok(Some(JoinKind::CrossApply));
            }
            JoinKind::Cross
        } else if self.at_word("OUTER") && self.at_word_at(1, "APPLY") {
            self.pos += 2;
            return Ok(Some(JoinKind::OuterApply));
        } else {
            return Ok(None);
        };
        if matches!(kind, JoinKind::Left | JoinKind::Right | JoinKind::Full) {
            self.eat_word("OUTER");
        }
        self.expect_word("JOIN")?;
        Ok(Some(kind))
    }

    fn join_rest(&mut self, left: TableRef, kind: JoinKind) -> Parsed<TableRef> {
        let needs_on = matches!(
            kind,
            JoinKind::Inner | JoinKind::Left | JoinKind::Right | JoinKind::Full
        );
        let right = self.nested(|p| {
            let mut right = p.table_primary()?;
            // `a JOIN b JOIN c ON … ON …`: the inner join binds to b first.
            while needs_on && !p.at_word("ON") {
                let Some(inner) = p.join_kind()? else {
                    break;
                };
                right = p.join_rest(right, inner)?;
            }
            Ok(right)
        })?;
        let on = if needs_on {
            self.expect_word("ON")?;
            Some(self.condition()?)
        } else {
            None
        };
        Ok(TableRef::Join {
            left: Box::new(left),
            right: Box::new(right),
            kind,
            on,
        })
    }

    fn table_primary(&mut self) -> Parsed<TableRef> {
        if self.eat_symbol('(') {
            if self.at_word("SELECT") || self.at_word("WITH") {
                let query = Box::new(self.query()?);
                self.expect_symbol(')')?;
                let alias = self.required_alias()?;
                let columns = self.optional_name_list()?;
                return Ok(TableRef::Derived {
                    query,
                    alias,
                    columns,
                });
            }
            if self.eat_word("VALUES") {
                let rows = self.value_rows()?;
                self.expect_symbol(')')?;
                let alias = self.required_alias()?;
                let columns = self.optional_name_list()?;
                return Ok(TableRef::Values {
                    rows,
                    alias,
                    columns,
                });
            }
            let inner = self.nested(Self::table_source)?;
            self.expect_symbol(')')?;
            return Ok(inner);
        }
        let name = self.table_name()?;
        let legacy_hint = self.at_symbol('(') && TABLE_HINTS.iter().any(|h| self.at_word_at(1, h));
        if self.at_symbol('(') && !legacy_hint && !name.name().starts_with('@') {
            self.pos += 1;
            let args = if self.at_symbol(')') {
                Vec::new()
            } else {
                self.expr_list()?
            };
            self.expect_symbol(')')?;
            let alias = self.optional_alias(false)?;
            return Ok(TableRef::Function { name, args, alias });
        }
        self.table_hints()?;
        let alias = self.optional_alias(false)?;
        self.table_hints()?;
        Ok(TableRef::Named { name, alias })
    }

    fn required_alias(&mut self) -> Parsed<String> {
        match self.optional_alias(false)? {
            Some(alias) => Ok(alias),
            None => Err(self.unexpected()),
        }
    }

    /// `WITH (NOLOCK, …)` or `(NOLOCK)`: read and ignored.
    pub(super) fn table_hints(&mut self) -> Parsed<()> {
        let with = self.at_word("WITH") && self.peek_at(1).is_some_and(|t| t.is_symbol('('));
        if with {
            self.pos += 1;
            return self.skip_parenthesized();
        }
        let legacy = self.at_symbol('(') && TABLE_HINTS.iter().any(|h| self.at_word_at(1, h));
        if legacy {
            return self.skip_parenthesized();
        }
        Ok(())
    }

    /// `(a, b), (c, d)` after VALUES.
    pub(super) fn value_rows(&mut self) -> Parsed<Vec<Vec<Expr>>> {
        let mut rows = Vec::new();
        loop {
            self.expect_symbol('(')?;
            rows.push(self.expr_list()?);
            self.expect_symbol(')')?;
            if !self.eat_symbol(',') {
                return Ok(rows);
            }
        }
    }
}
