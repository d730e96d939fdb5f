//! `sys.types`: SQL Server 2022's system data types (no user-defined ones).

use super::ViewContext;
use crate::catalog::table::*;
use crate::value::{SYSNAME, Table, Value};

/// `(name, system_type_id, user_type_id, max_length, precision, scale, is_nullable)` in
/// system_type_id order; character types also carry the database collation.
const SYSTEM_TYPES: [(&str, i32, i32, i32, i32, i32, bool); 34] = [
    ("image", 34, 34, 16, 0, 0, true),
    ("text", 35, 35, 16, 0, 0, true),
    ("uniqueidentifier", 36, 36, 16, 0, 0, true),
    ("date", 40, 40, 3, 10, 0, true),
    ("time", 41, 41, 5, 16, 7, true),
    ("datetime2", 42, 42, 8, 27, 7, true),
    ("datetimeoffset", 43, 43, 10, 34, 7, true),
    ("tinyint", 48, 48, 1, 3, 0, true),
    ("smallint", 52, 52, 2, 5, 0, true),
    ("int", 56, 56, 4, 10, 0, true),
    ("smalldatetime", 58, 58, 4, 16, 0, true),
    ("real", 59, 59, 4, 24, 0, true),
    ("money", 60, 60, 8, 19, 4, true),
    ("datetime", 61, 61, 8, 23, 3, true),
    ("float", 62, 62, 8, 53, 0, true),
    ("sql_variant", 98, 98, 8016, 0, 0, true),
    ("ntext", 99, 99, 16, 0, 0, true),
    ("bit", 104, 104, 1, 1, 0, true),
    ("decimal", 106, 106, 17, 38, 38, true),
    ("numeric", 108, 108, 17, 38, 38, true),
    ("smallmoney", 122, 122, 4, 10, 4, true),
    ("bigint", 127, 127, 8, 19, 0, true),
    ("hierarchyid", 240, 128, 892, 0, 0, true),
    ("geometry", 240, 129, -1, 0, 0, true),
    ("geography", 240, 130, -1, 0, 0, true),
    ("varbinary", 165, 165, 8000, 0, 0, true),
    ("varchar", 167, 167, 8000, 0, 0, true),
    ("binary", 173, 173, 8000, 0, 0, true),
    ("char", 175, 175, 8000, 0, 0, true),
    ("timestamp", 189, 189, 8, 0, 0, false),
    ("nvarchar", 231, 231, 8000, 0, 0, true),
    ("nchar", 239, 239, 8000, 0, 0, true),
    ("xml", 241, 241, -1, 0, 0, true),
    ("sysname", 231, 256, 256, 0, 0, false),
];

const CHARACTER_TYPES: [&str; 7] = [
    "text", "ntext", "varchar", "char", "nvarchar", "nchar", "sysname",
];

/// `sys.types`.
#[must_use]
pub fn types(c: &ViewContext<'_>) -> Table {
    let mut t = table(&[
        ("name", SYSNAME, false),
        ("system_type_id", TINYINT, false),
        ("user_type_id", INT, false),
        ("schema_id", INT, false),
        ("principal_id", INT, true),
        ("max_length", SMALLINT, false),
        ("precision", TINYINT, false),
        ("scale", TINYINT, false),
        ("collation_name", SYSNAME, true),
        ("is_nullable", BIT, true),
        ("is_user_defined", BIT, false),
        ("is_assembly_type", BIT, false),
        ("default_object_id", INT, false),
        ("rule_object_id", INT, false),
        ("is_table_type", BIT, false),
    ]);
    for (name, system_id, user_id, max_length, precision, scale, nullable) in SYSTEM_TYPES {
        let collation = if CHARACTER_TYPES.contains(&name) {
            text(c.database.collation.clone())
        } else {
            Value::Null
        };
        t.push(vec![
            text(name),
            int(system_id),
            int(user_id),
            int(4),
            Value::Null,
            int(max_length),
            int(precision),
            int(scale),
            collation,
            bit(nullable),
            bit(false),
            // hierarchyid, geometry and geography are CLR types.
            bit(system_id == 240),
            int(0),
            int(0),
            bit(false),
        ]);
    }
    t
}
