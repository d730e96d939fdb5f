//! An in-memory [`Environment`] for unit tests: variables, a few tables, a fixed clock.

use crate::ast::ObjectName;
use crate::messages::SqlMessage;
use crate::value::{Column, DateTime, SqlType, Table, Value};

use super::{Environment, Typed};

#[derive(Debug, Default)]
pub(crate) struct TestEnv {
    pub variables: Vec<(String, Typed)>,
    pub tables: Vec<(String, Table)>,
    pub random: u128,
    pub caught: Option<SqlMessage>,
    pub date_first: Option<i64>,
}

impl TestEnv {
    pub fn new() -> Self {
        let mut env = TestEnv::default();
        env.tables.push(("t".into(), sample()));
        env.tables.push(("sys.databases".into(), databases()));
        env.tables.push((
            "empty".into(),
            Table::new(vec![Column::new("x", SqlType::Int, true)]),
        ));
        env
    }

    pub fn declare(&mut self, name: &str, ty: SqlType, value: Value) -> &mut Self {
        self.variables.push((name.to_owned(), (ty, value)));
        self
    }
}

/// t(id int not null, name varchar(10) null, size numeric(10,2) null)
fn sample() -> Table {
    let mut t = Table::new(vec![
        Column::new("id", SqlType::Int, false),
        Column::new("name", SqlType::VarChar(Some(10)), true),
        Column::new("grp", SqlType::Char(1), true),
    ]);
    for (id, name, grp) in [
        (1, Some("alpha"), Some("a")),
        (2, Some("Beta"), Some("b")),
        (3, None, Some("a")),
        (4, Some("delta"), None),
        (5, Some("alpha"), Some("b")),
    ] {
        t.push(vec![
            Value::Int(id),
            Value::opt_text(name),
            Value::opt_text(grp),
        ]);
    }
    t
}

fn databases() -> Table {
    let mut t = Table::new(vec![
        Column::new("name", crate::value::SYSNAME, false),
        Column::new("database_id", SqlType::Int, false),
        Column::new("recovery_model_desc", SqlType::NVarChar(Some(60)), true),
    ]);
    for (name, id, model) in [
        ("master", 1, "SIMPLE"),
        ("tempdb", 2, "SIMPLE"),
        ("model", 3, "FULL"),
        ("msdb", 4, "SIMPLE"),
        ("pubs", 5, "FULL"),
    ] {
        t.push(vec![Value::text(name), Value::Int(id), Value::text(model)]);
    }
    t
}

impl Environment for TestEnv {
    fn variable(&self, name: &str) -> Option<Typed> {
        self.variables
            .iter()
            .rev()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }

    fn system_variable(&self, name: &str) -> Option<Typed> {
        match name {
            "@@SPID" => Some((SqlType::SmallInt, Value::Int(52))),
            "@@VERSION" => Some((
                SqlType::NVarChar(Some(300)),
                Value::text("Microsoft SQL Server 2022"),
            )),
            "@@SCOPE_IDENTITY" => Some((SqlType::Int, Value::Int(7))),
            "@@DATEFIRST" => self.date_first.map(|n| (SqlType::TinyInt, Value::Int(n))),
            _ => None,
        }
    }

    fn server_function(
        &mut self,
        schema: Option<&str>,
        name: &str,
        args: &[Typed],
    ) -> Option<Result<Typed, SqlMessage>> {
        match (schema, name) {
            (None, "DB_ID") => {
                let id = match args.first().map(|a| &a.1) {
                    Some(Value::String(s)) if s.eq_ignore_ascii_case("pubs") => Value::Int(5),
                    _ => Value::Null,
                };
                Some(Ok((SqlType::SmallInt, id)))
            }
            (Some("sys"), "FN_HADR_BACKUP_IS_PREFERRED_REPLICA") => {
                Some(Ok((SqlType::Bit, Value::Bit(true))))
            }
            _ => None,
        }
    }

    fn table(&mut self, name: &ObjectName) -> Result<Table, SqlMessage> {
        let wanted = name
            .parts
            .iter()
            .filter(|p| {
                !p.is_empty() && !p.eq_ignore_ascii_case("dbo") && !p.eq_ignore_ascii_case("master")
            })
            .cloned()
            .collect::<Vec<_>>()
            .join(".");
        self.tables
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(&wanted))
            .map(|(_, t)| t.clone())
            .ok_or_else(|| crate::messages::invalid_object(0, &name.display()))
    }

    fn now(&self) -> DateTime {
        DateTime::from_parts(2024, 5, 1, 10, 30, 0, 1_234_567).unwrap_or(DateTime::from_days(0))
    }

    fn utc_now(&self) -> DateTime {
        DateTime::from_parts(2024, 5, 1, 8, 30, 0, 1_234_567).unwrap_or(DateTime::from_days(0))
    }

    fn random_u128(&mut self) -> u128 {
        self.random = self
            .random
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.random
    }

    fn caught_error(&self) -> Option<SqlMessage> {
        self.caught.clone()
    }
}

/// Parses and runs one SELECT statement.
pub(crate) fn run(env: &mut TestEnv, sql: &str) -> Result<crate::query::QueryResult, SqlMessage> {
    let statements = crate::parse_batch(sql, 1)?;
    match statements.into_iter().next().map(|s| s.kind) {
        Some(crate::ast::StatementKind::Select(q)) => crate::query::run(&q, env),
        other => panic!("not a query: {sql}: {other:?}"),
    }
}

/// `SELECT expr` in a fresh environment: the column's type and the value.
pub(crate) fn scalar(expr: &str) -> Result<Typed, SqlMessage> {
    scalar_in(&mut TestEnv::new(), expr)
}

pub(crate) fn scalar_in(env: &mut TestEnv, expr: &str) -> Result<Typed, SqlMessage> {
    let result = run(env, &format!("SELECT {expr}"))?;
    let ty = result.table.columns[0].ty;
    let value = result.table.rows[0][0].clone();
    Ok((ty, value))
}

/// The value of `SELECT expr` as sqlcmd prints it.
pub(crate) fn shown(expr: &str) -> String {
    match scalar(expr) {
        Ok((ty, v)) => crate::value::format::sqlcmd_text(&v, ty),
        Err(e) => panic!("{expr}: {e}"),
    }
}

/// The message number `SELECT expr` fails with.
pub(crate) fn fails(expr: &str) -> u32 {
    match scalar(expr) {
        Ok(v) => panic!("{expr} gave {v:?}"),
        Err(e) => e.number,
    }
}
