//! Whether an expression can be NULL, as SQL Server reports a result column's nullability:
//! constants and NOT NULL columns are not; operators over non-null operands are not; most
//! functions are, except the few that never return NULL (GETDATE, NEWID, COUNT, CONCAT,
//! ISNULL with a non-null replacement …).

use crate::ast::{Expr, Literal};

use super::RowScope;

/// Functions that return a value whatever their arguments.
const NEVER_NULL: &[&str] = &[
    "GETDATE",
    "GETUTCDATE",
    "SYSDATETIME",
    "SYSUTCDATETIME",
    "SYSDATETIMEOFFSET",
    "CURRENT_TIMESTAMP",
    "NEWID",
    "COUNT",
    "COUNT_BIG",
    "ROW_NUMBER",
    "RANK",
    "DENSE_RANK",
    "NTILE",
    "CONCAT",
    "CONCAT_WS",
    "ISNUMERIC",
    "ISDATE",
    "PI",
    "RAND",
    "@@SPID",
];

/// Whether the expression can be NULL in this scope.
#[must_use]
pub fn nullable(expr: &Expr, scope: &RowScope) -> bool {
    match expr {
        Expr::Literal(Literal::Null) => true,
        Expr::Literal(_) => false,
        Expr::Variable(_) | Expr::Subquery(_) | Expr::Quantified { .. } => true,
        Expr::SystemVariable(name) => !matches!(
            name.as_str(),
            "@@SPID" | "@@ROWCOUNT" | "@@ERROR" | "@@TRANCOUNT" | "@@VERSION" | "@@SERVERNAME"
        ),
        Expr::Column(name) => scope
            .resolve(name)
            .ok()
            .and_then(|(depth, i)| scope.level(depth).map(|s| s.columns[i].column.nullable))
            .unwrap_or(true),
        Expr::Unary { operand, .. } => nullable(operand, scope),
        Expr::Binary { left, right, .. } => nullable(left, scope) || nullable(right, scope),
        Expr::IsNull { .. } | Expr::Exists(_) => false,
        Expr::Like {
            expr,
            pattern,
            escape,
            ..
        } => {
            nullable(expr, scope)
                || nullable(pattern, scope)
                || escape.as_deref().is_some_and(|e| nullable(e, scope))
        }
        Expr::Between {
            expr, low, high, ..
        } => nullable(expr, scope) || nullable(low, scope) || nullable(high, scope),
        Expr::InList { expr, list, .. } => {
            nullable(expr, scope) || list.iter().any(|e| nullable(e, scope))
        }
        Expr::InSubquery { .. } => true,
        Expr::Case {
            branches,
            otherwise,
            ..
        } => {
            otherwise.as_deref().is_none_or(|e| nullable(e, scope))
                || branches.iter().any(|(_, then)| nullable(then, scope))
        }
        Expr::Cast { expr, try_, .. } | Expr::Convert { expr, try_, .. } => {
            *try_ || nullable(expr, scope)
        }
        Expr::Function {
            name,
            args,
            over,
            schema,
            ..
        } => {
            let upper = name.to_ascii_uppercase();
            if schema.is_none() && NEVER_NULL.contains(&upper.as_str()) {
                return false;
            }
            if over.is_some() {
                return true;
            }
            match upper.as_str() {
                "ISNULL" => args.iter().all(|a| nullable(a, scope)),
                "COALESCE" => args.iter().all(|a| nullable(a, scope)),
                _ => true,
            }
        }
        Expr::DatePart(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::ObjectName;

    fn func(name: &str, args: Vec<Expr>) -> Expr {
        Expr::Function {
            schema: None,
            name: name.into(),
            args,
            star: false,
            distinct: false,
            over: None,
            within_group: Vec::new(),
        }
    }

    #[test]
    fn rules() {
        let s = RowScope::EMPTY;
        assert!(!nullable(&Expr::integer(1), &s));
        assert!(nullable(&Expr::Literal(Literal::Null), &s));
        assert!(nullable(&Expr::Variable("@v".into()), &s));
        assert!(!nullable(&func("GETDATE", vec![]), &s));
        assert!(nullable(&func("LEN", vec![Expr::integer(1)]), &s));
        assert!(!nullable(
            &func(
                "ISNULL",
                vec![Expr::Variable("@v".into()), Expr::integer(0)]
            ),
            &s
        ));
        assert!(nullable(&Expr::Column(ObjectName::new(["x"])), &s));
        let sum = Expr::Binary {
            op: crate::ast::BinaryOp::Add,
            left: Box::new(Expr::integer(1)),
            right: Box::new(Expr::integer(2)),
        };
        assert!(!nullable(&sum, &s));
    }
}
