//! Small helpers that build typed tables: column lists from `(name, type, nullable)` specs and
//! values of the catalog's recurring types.

use super::model::{Guid, Lsn};
use crate::value::{Column, DateTime, Decimal, SqlType, Table, Value};

/// `numeric(25,0)`: every LSN column.
pub const LSN: SqlType = SqlType::Decimal {
    precision: 25,
    scale: 0,
};
/// `numeric(20,0)`: msdb's byte counts.
pub const SIZE: SqlType = SqlType::Decimal {
    precision: 20,
    scale: 0,
};
/// `numeric(10,0)`: msdb's file numbers and page counts.
pub const NUM10: SqlType = SqlType::Decimal {
    precision: 10,
    scale: 0,
};
/// `nvarchar(60)`: every `*_desc` column.
pub const DESC: SqlType = SqlType::NVarChar(Some(60));
pub const BIT: SqlType = SqlType::Bit;
pub const TINYINT: SqlType = SqlType::TinyInt;
pub const SMALLINT: SqlType = SqlType::SmallInt;
pub const INT: SqlType = SqlType::Int;
pub const BIGINT: SqlType = SqlType::BigInt;
pub const DATETIME: SqlType = SqlType::DateTime;
pub const GUID: SqlType = SqlType::UniqueIdentifier;
pub const SID: SqlType = SqlType::VarBinary(Some(85));

/// `nvarchar(n)`.
#[must_use]
pub const fn nvarchar(n: u32) -> SqlType {
    SqlType::NVarChar(Some(n))
}

/// `varchar(n)`.
#[must_use]
pub const fn varchar(n: u32) -> SqlType {
    SqlType::VarChar(Some(n))
}

/// `char(n)`.
#[must_use]
pub const fn char(n: u32) -> SqlType {
    SqlType::Char(n)
}

/// A column spec: name, type, nullable.
pub type Spec = (&'static str, SqlType, bool);

/// An empty table with these columns.
#[must_use]
pub fn table(specs: &[Spec]) -> Table {
    Table::new(
        specs
            .iter()
            .map(|&(name, ty, nullable)| Column::new(name, ty, nullable))
            .collect(),
    )
}

/// A numeric(p,0) value.
#[must_use]
pub fn whole(n: i128) -> Value {
    Value::Decimal(Decimal {
        mantissa: n,
        scale: 0,
    })
}

/// An LSN, or NULL.
#[must_use]
pub fn lsn(l: Option<Lsn>) -> Value {
    l.map_or(Value::Null, |l| {
        whole(i128::try_from(l).unwrap_or(i128::MAX))
    })
}

/// A GUID, or NULL.
#[must_use]
pub fn guid(g: Option<Guid>) -> Value {
    g.map_or(Value::Null, Value::Guid)
}

#[must_use]
pub fn datetime(t: DateTime) -> Value {
    Value::DateTime(t)
}

/// A date, or NULL.
#[must_use]
pub fn opt_datetime(t: Option<DateTime>) -> Value {
    t.map_or(Value::Null, Value::DateTime)
}

#[must_use]
pub fn binary(b: &[u8]) -> Value {
    Value::Binary(b.to_vec())
}

/// An integer, or NULL.
#[must_use]
pub fn opt_int<T: Into<i64>>(v: Option<T>) -> Value {
    v.map_or(Value::Null, |v| Value::Int(v.into()))
}

/// A bit from a bool.
#[must_use]
pub fn bit(b: bool) -> Value {
    Value::Bit(b)
}

/// An integer.
#[must_use]
pub fn int(v: impl Into<i64>) -> Value {
    Value::Int(v.into())
}

/// Text.
#[must_use]
pub fn text(s: impl Into<String>) -> Value {
    Value::String(s.into())
}

#[cfg(test)]
pub(crate) mod check {
    //! Checks that a table's values fit its declared columns, for every view's tests.

    use crate::value::{SqlType, Table, Value};

    /// Panics, naming the column, if a value does not fit its column's type or nullability.
    pub fn assert_typed(table: &Table) {
        for (r, row) in table.rows.iter().enumerate() {
            assert_eq!(row.len(), table.columns.len(), "row {r} width");
            for (col, v) in table.columns.iter().zip(row) {
                let ok = match (col.ty, v) {
                    (_, Value::Null) => col.nullable,
                    (SqlType::SqlVariant, _) => true,
                    (SqlType::Bit, Value::Bit(_)) => true,
                    (SqlType::TinyInt, Value::Int(i)) => (0..=255).contains(i),
                    (SqlType::SmallInt, Value::Int(i)) => i16::try_from(*i).is_ok(),
                    (SqlType::Int, Value::Int(i)) => i32::try_from(*i).is_ok(),
                    (SqlType::BigInt, Value::Int(_)) => true,
                    (SqlType::Decimal { precision, scale }, Value::Decimal(d)) => {
                        d.scale == scale
                            && d.mantissa.unsigned_abs().to_string().len() <= usize::from(precision)
                    }
                    (SqlType::Float | SqlType::Real, Value::Float(_)) => true,
                    (SqlType::Char(n) | SqlType::NChar(n), Value::String(s)) => {
                        s.chars().count() <= n as usize
                    }
                    (SqlType::VarChar(n) | SqlType::NVarChar(n), Value::String(s)) => {
                        n.is_none_or(|n| s.chars().count() <= n as usize)
                    }
                    (SqlType::Binary(n), Value::Binary(b)) => b.len() <= n as usize,
                    (SqlType::VarBinary(n), Value::Binary(b)) => {
                        n.is_none_or(|n| b.len() <= n as usize)
                    }
                    (ty, Value::DateTime(_)) => ty.is_datetime(),
                    (SqlType::UniqueIdentifier, Value::Guid(_)) => true,
                    _ => false,
                };
                assert!(
                    ok,
                    "row {r}, column {} ({}): {v:?} does not fit",
                    col.name,
                    col.ty.sql_name()
                );
            }
        }
    }

    /// The column names, in order.
    pub fn names(table: &Table) -> Vec<&str> {
        table.columns.iter().map(|c| c.name.as_str()).collect()
    }

    /// The value of `column` in row `row`.
    pub fn cell<'a>(table: &'a Table, row: usize, column: &str) -> &'a Value {
        let i = table
            .column_index(column)
            .unwrap_or_else(|| panic!("no column {column}"));
        &table.rows[row][i]
    }
}
