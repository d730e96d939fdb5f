//! Parser tests by statement family: parse → AST, and the Msg number and line of bad input.

mod backup;
mod ddl;
mod expr;
mod legacy;
mod procedural;
mod query;
mod tools;
mod types;

pub(super) use crate::ast::*;
pub(super) use crate::value::SqlType;
pub(super) use crate::*;

/// The SELECT of a statement that is one plain SELECT.
pub(super) fn select_of(sql: &str) -> Select {
    match one(sql) {
        StatementKind::Select(Query {
            body: QueryBody::Select(select),
            ..
        }) => *select,
        other => panic!("{sql}: not a plain select: {other:?}"),
    }
}

pub(super) fn one(sql: &str) -> StatementKind {
    let mut statements = parse_batch(sql, 1).unwrap_or_else(|e| panic!("{sql}: {e}"));
    assert_eq!(statements.len(), 1, "{sql}");
    statements.remove(0).kind
}

pub(super) fn backup(sql: &str) -> BackupStatement {
    match one(sql) {
        StatementKind::Backup(b) => b,
        other => panic!("not a backup: {other:?}"),
    }
}

pub(super) fn restore(sql: &str) -> RestoreStatement {
    match one(sql) {
        StatementKind::Restore(r) => r,
        other => panic!("not a restore: {other:?}"),
    }
}

pub(super) fn err(sql: &str) -> SqlMessage {
    match parse_batch(sql, 1) {
        Ok(s) => panic!("{sql} parsed: {s:?}"),
        Err(e) => e,
    }
}

pub(super) fn err_number(sql: &str) -> u32 {
    err(sql).number
}
