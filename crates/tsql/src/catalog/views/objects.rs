//! Objects and schemas of a database (`sys.schemas`, `sys.objects`, `sys.tables`,
//! `INFORMATION_SCHEMA.*`) and the server's `sys.configurations`.
//!
//! A database's objects are its user tables ([`crate::catalog::TableInfo`]); msdb also shows
//! its history tables, which SQL Server ships as user tables.

use super::{Kind, OBJECTS, ViewContext};
use crate::catalog::model::TableInfo;
use crate::catalog::table::*;
use crate::msdb::Msdb;
use crate::value::{Column, SYSNAME, SqlType, Table, Value};

/// The schemas every database has, with their ids (dbo, guest, INFORMATION_SCHEMA, sys and
/// one per fixed database role).
pub const SCHEMAS: [(&str, i32); 13] = [
    ("dbo", 1),
    ("guest", 2),
    ("INFORMATION_SCHEMA", 3),
    ("sys", 4),
    ("db_owner", 16384),
    ("db_accessadmin", 16385),
    ("db_securityadmin", 16386),
    ("db_ddladmin", 16387),
    ("db_backupoperator", 16389),
    ("db_datareader", 16390),
    ("db_datawriter", 16391),
    ("db_denydatareader", 16392),
    ("db_denydatawriter", 16393),
];

fn schema_id(name: &str) -> i32 {
    SCHEMAS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map_or(1, |(_, id)| *id)
}

/// `sys.schemas`.
#[must_use]
pub fn schemas(_c: &ViewContext<'_>) -> Table {
    let mut t = table(&[
        ("name", SYSNAME, false),
        ("schema_id", INT, false),
        ("principal_id", INT, true),
    ]);
    for (name, id) in SCHEMAS {
        // Each schema is owned by the principal of the same id (dbo owns dbo, …).
        t.push(vec![text(name), int(id), int(id)]);
    }
    t
}

/// One object row's shared facts.
struct Object {
    name: String,
    object_id: i32,
    schema: String,
    create_date: crate::value::DateTime,
    is_ms_shipped: bool,
    columns: Vec<Column>,
}

fn objects_of(c: &ViewContext<'_>) -> Vec<Object> {
    let mut out: Vec<Object> = c
        .database
        .tables
        .iter()
        .map(|t: &TableInfo| Object {
            name: t.name.clone(),
            object_id: t.object_id,
            schema: t.schema.clone(),
            create_date: t.create_date,
            is_ms_shipped: false,
            columns: t.columns.clone(),
        })
        .collect();
    if c.database.name.eq_ignore_ascii_case("msdb") {
        let empty = Msdb::default();
        out.extend(
            OBJECTS
                .iter()
                .filter(|o| o.kind == Kind::Msdb)
                .map(|o| Object {
                    name: o.name.to_owned(),
                    object_id: o.object_id,
                    schema: "dbo".to_owned(),
                    create_date: c.database.create_date,
                    is_ms_shipped: true,
                    columns: empty.table(o.name).map(|t| t.columns).unwrap_or_default(),
                }),
        );
    }
    out
}

const OBJECT_COLUMNS: &[Spec] = &[
    ("name", SYSNAME, false),
    ("object_id", INT, false),
    ("principal_id", INT, true),
    ("schema_id", INT, false),
    ("parent_object_id", INT, false),
    ("type", char(2), true),
    ("type_desc", DESC, true),
    ("create_date", DATETIME, false),
    ("modify_date", DATETIME, false),
    ("is_ms_shipped", BIT, false),
    ("is_published", BIT, false),
    ("is_schema_published", BIT, false),
];

fn object_row(o: &Object) -> Vec<Value> {
    vec![
        text(o.name.clone()),
        int(o.object_id),
        Value::Null,
        int(schema_id(&o.schema)),
        int(0),
        text("U "),
        text("USER_TABLE"),
        datetime(o.create_date),
        datetime(o.create_date),
        bit(o.is_ms_shipped),
        bit(false),
        bit(false),
    ]
}

/// `sys.objects`: the database's tables.
#[must_use]
pub fn objects(c: &ViewContext<'_>) -> Table {
    let mut t = table(OBJECT_COLUMNS);
    for o in objects_of(c) {
        t.push(object_row(&o));
    }
    t
}

/// `sys.tables`: sys.objects' columns and the table-specific ones of SQL Server 2022.
#[must_use]
pub fn tables(c: &ViewContext<'_>) -> Table {
    let mut specs = OBJECT_COLUMNS.to_vec();
    specs.extend_from_slice(&[
        ("lob_data_space_id", INT, false),
        ("filestream_data_space_id", INT, true),
        ("max_column_id_used", INT, false),
        ("lock_on_bulk_load", BIT, false),
        ("uses_ansi_nulls", BIT, true),
        ("is_replicated", BIT, true),
        ("has_replication_filter", BIT, true),
        ("is_merge_published", BIT, true),
        ("is_sync_tran_subscribed", BIT, true),
        ("has_unchecked_assembly_data", BIT, false),
        ("text_in_row_limit", INT, true),
        ("large_value_types_out_of_row", BIT, true),
        ("is_tracked_by_cdc", BIT, true),
        ("lock_escalation", TINYINT, true),
        ("lock_escalation_desc", DESC, true),
        ("is_filetable", BIT, true),
        ("is_memory_optimized", BIT, true),
        ("durability", TINYINT, true),
        ("durability_desc", DESC, true),
        ("temporal_type", TINYINT, true),
        ("temporal_type_desc", DESC, true),
        ("history_table_id", INT, true),
        ("is_remote_data_archive_enabled", BIT, true),
        ("is_external", BIT, false),
        ("history_retention_period", INT, true),
        ("history_retention_period_unit", INT, true),
        ("history_retention_period_unit_desc", nvarchar(10), true),
        ("is_node", BIT, true),
        ("is_edge", BIT, true),
        ("data_retention_period", INT, true),
        ("data_retention_period_unit", INT, true),
        ("data_retention_period_unit_desc", nvarchar(10), true),
        ("ledger_type", TINYINT, true),
        ("ledger_type_desc", DESC, true),
        ("ledger_view_id", INT, true),
        ("is_dropped_ledger_table", BIT, true),
    ]);
    let mut t = table(&specs);
    for o in objects_of(c) {
        let mut row = object_row(&o);
        row.extend([
            int(0),
            Value::Null,
            int(o.columns.len() as i64),
            bit(false),
            bit(true),
            bit(false),
            bit(false),
            bit(false),
            bit(false),
            bit(false),
            int(0),
            bit(false),
            bit(false),
            int(0),
            text("TABLE"),
            bit(false),
            bit(false),
            int(0),
            text("SCHEMA_AND_DATA"),
            int(0),
            text("NON_TEMPORAL_TABLE"),
            Value::Null,
            bit(false),
            bit(false),
            int(-1),
            int(-1),
            text("INFINITE"),
            bit(false),
            bit(false),
            int(-1),
            int(-1),
            text("INFINITE"),
            int(0),
            text("NON_LEDGER_TABLE"),
            Value::Null,
            bit(false),
        ]);
        t.push(row);
    }
    t
}

/// `INFORMATION_SCHEMA.SCHEMATA`.
#[must_use]
pub fn information_schema_schemata(c: &ViewContext<'_>) -> Table {
    let mut t = table(&[
        ("CATALOG_NAME", SYSNAME, true),
        ("SCHEMA_NAME", nvarchar(128), false),
        ("SCHEMA_OWNER", nvarchar(128), true),
        ("DEFAULT_CHARACTER_SET_CATALOG", varchar(6), true),
        ("DEFAULT_CHARACTER_SET_SCHEMA", varchar(3), true),
        ("DEFAULT_CHARACTER_SET_NAME", SYSNAME, true),
    ]);
    for (name, id) in SCHEMAS {
        let owner = c
            .database
            .principals
            .by_id(id)
            .map_or(name, |p| p.name.as_str());
        t.push(vec![
            text(c.database.name.clone()),
            text(name),
            text(owner),
            Value::Null,
            Value::Null,
            text("iso_1"),
        ]);
    }
    t
}

/// `INFORMATION_SCHEMA.TABLES`.
#[must_use]
pub fn information_schema_tables(c: &ViewContext<'_>) -> Table {
    let mut t = table(&[
        ("TABLE_CATALOG", nvarchar(128), true),
        ("TABLE_SCHEMA", nvarchar(128), true),
        ("TABLE_NAME", SYSNAME, false),
        ("TABLE_TYPE", varchar(10), true),
    ]);
    for o in objects_of(c) {
        t.push(vec![
            text(c.database.name.clone()),
            text(o.schema),
            text(o.name),
            text("BASE TABLE"),
        ]);
    }
    t
}

/// The INFORMATION_SCHEMA spelling of a type and its length/precision columns:
/// `(DATA_TYPE, CHARACTER_MAXIMUM_LENGTH, CHARACTER_OCTET_LENGTH, NUMERIC_PRECISION,
/// NUMERIC_PRECISION_RADIX, NUMERIC_SCALE, DATETIME_PRECISION)`.
#[allow(clippy::type_complexity)]
fn type_facts(
    ty: SqlType,
) -> (
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
) {
    let base = ty
        .sql_name()
        .split('(')
        .next()
        .unwrap_or_default()
        .to_owned();
    let chars =
        |n: Option<u32>, bytes: i64| n.map_or((-1, -1), |n| (i64::from(n), i64::from(n) * bytes));
    let int_prec = |p: i64| (base.clone(), None, None, Some(p), Some(10), Some(0), None);
    match ty {
        SqlType::TinyInt => int_prec(3),
        SqlType::SmallInt => int_prec(5),
        SqlType::Int => int_prec(10),
        SqlType::BigInt => int_prec(19),
        SqlType::Bit => (base, None, None, None, None, None, None),
        SqlType::Decimal { precision, scale } => (
            "numeric".to_owned(),
            None,
            None,
            Some(i64::from(precision)),
            Some(10),
            Some(i64::from(scale)),
            None,
        ),
        SqlType::Float => (base, None, None, Some(53), Some(2), None, None),
        SqlType::Real => (base, None, None, Some(24), Some(2), None, None),
        SqlType::Money => (base, None, None, Some(19), Some(10), Some(4), None),
        SqlType::Char(n) | SqlType::Binary(n) => (
            base,
            Some(i64::from(n)),
            Some(i64::from(n)),
            None,
            None,
            None,
            None,
        ),
        SqlType::NChar(n) => (
            base,
            Some(i64::from(n)),
            Some(2 * i64::from(n)),
            None,
            None,
            None,
            None,
        ),
        SqlType::VarChar(n) | SqlType::VarBinary(n) => {
            let (c, o) = chars(n, 1);
            (base, Some(c), Some(o), None, None, None, None)
        }
        SqlType::NVarChar(n) => {
            let (c, o) = chars(n, 2);
            (base, Some(c), Some(o), None, None, None, None)
        }
        SqlType::DateTime | SqlType::SmallDateTime => (
            base,
            None,
            None,
            None,
            None,
            None,
            Some(if ty == SqlType::DateTime { 3 } else { 0 }),
        ),
        SqlType::Date => (base, None, None, None, None, None, Some(0)),
        SqlType::Time(s) | SqlType::DateTime2(s) | SqlType::DateTimeOffset(s) => {
            (base, None, None, None, None, None, Some(i64::from(s)))
        }
        SqlType::UniqueIdentifier | SqlType::SqlVariant => {
            (base, None, None, None, None, None, None)
        }
    }
}

/// `INFORMATION_SCHEMA.COLUMNS`.
#[must_use]
pub fn information_schema_columns(c: &ViewContext<'_>) -> Table {
    let mut t = table(&[
        ("TABLE_CATALOG", nvarchar(128), true),
        ("TABLE_SCHEMA", nvarchar(128), true),
        ("TABLE_NAME", nvarchar(128), false),
        ("COLUMN_NAME", nvarchar(128), true),
        ("ORDINAL_POSITION", INT, true),
        ("COLUMN_DEFAULT", nvarchar(4000), true),
        ("IS_NULLABLE", varchar(3), true),
        ("DATA_TYPE", nvarchar(128), true),
        ("CHARACTER_MAXIMUM_LENGTH", INT, true),
        ("CHARACTER_OCTET_LENGTH", INT, true),
        ("NUMERIC_PRECISION", TINYINT, true),
        ("NUMERIC_PRECISION_RADIX", SMALLINT, true),
        ("NUMERIC_SCALE", INT, true),
        ("DATETIME_PRECISION", SMALLINT, true),
        ("CHARACTER_SET_CATALOG", SYSNAME, true),
        ("CHARACTER_SET_SCHEMA", SYSNAME, true),
        ("CHARACTER_SET_NAME", SYSNAME, true),
        ("COLLATION_CATALOG", SYSNAME, true),
        ("COLLATION_SCHEMA", SYSNAME, true),
        ("COLLATION_NAME", SYSNAME, true),
        ("DOMAIN_CATALOG", SYSNAME, true),
        ("DOMAIN_SCHEMA", SYSNAME, true),
        ("DOMAIN_NAME", SYSNAME, true),
    ]);
    for o in objects_of(c) {
        for (i, col) in o.columns.iter().enumerate() {
            let (data_type, max_len, octets, precision, radix, scale, dt_precision) =
                type_facts(col.ty);
            let is_string = col.ty.is_string();
            let charset = if col.ty.is_unicode() {
                "UNICODE"
            } else {
                "iso_1"
            };
            t.push(vec![
                text(c.database.name.clone()),
                text(o.schema.clone()),
                text(o.name.clone()),
                text(col.name.clone()),
                int(i as i64 + 1),
                Value::Null,
                text(if col.nullable { "YES" } else { "NO" }),
                text(data_type),
                opt_int(max_len),
                opt_int(octets),
                opt_int(precision),
                opt_int(radix),
                opt_int(scale),
                opt_int(dt_precision),
                Value::Null,
                Value::Null,
                if is_string {
                    text(charset)
                } else {
                    Value::Null
                },
                Value::Null,
                Value::Null,
                if is_string {
                    text(c.database.collation.clone())
                } else {
                    Value::Null
                },
                Value::Null,
                Value::Null,
                Value::Null,
            ]);
        }
    }
    t
}

/// `sys.configurations`.
#[must_use]
pub fn configurations(c: &ViewContext<'_>) -> Table {
    let mut t = table(&[
        ("configuration_id", INT, false),
        ("name", nvarchar(35), false),
        ("value", SqlType::SqlVariant, true),
        ("minimum", SqlType::SqlVariant, true),
        ("maximum", SqlType::SqlVariant, true),
        ("value_in_use", SqlType::SqlVariant, true),
        ("description", nvarchar(255), false),
        ("is_dynamic", BIT, false),
        ("is_advanced", BIT, false),
    ]);
    for o in &c.snapshot.configurations {
        t.push(vec![
            int(o.configuration_id),
            text(o.name.clone()),
            int(o.value),
            int(o.minimum),
            int(o.maximum),
            int(o.value_in_use),
            text(o.description.clone()),
            bit(o.is_dynamic),
            bit(o.is_advanced),
        ]);
    }
    t
}
