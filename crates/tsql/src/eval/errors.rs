//! The messages expression evaluation and queries raise, with SQL Server's numbers, levels and
//! texts ("Database Engine events and errors"). Every message is built at line 0; the
//! interpreter stamps the statement's line with [`SqlMessage::at_line`].

use std::fmt::Display;

use crate::messages::SqlMessage;

fn error(number: u32, text: impl Into<String>) -> SqlMessage {
    SqlMessage::new(number, 16, 1, 0, text)
}

fn compile_error(number: u32, text: impl Into<String>) -> SqlMessage {
    SqlMessage::new(number, 15, 1, 0, text)
}

// ---- conversions -------------------------------------------------------------------------

/// 245
pub fn conversion_failed(from: &str, value: &str, to: &str) -> SqlMessage {
    error(
        245,
        format!("Conversion failed when converting the {from} value '{value}' to data type {to}."),
    )
}

/// 248: a string too large for int.
pub fn string_overflows_int(from: &str, value: &str) -> SqlMessage {
    error(
        248,
        format!("The conversion of the {from} value '{value}' overflowed an int column."),
    )
}

/// 244: a string too large for tinyint (`INT1`) or smallint (`INT2`).
pub fn string_overflows_small_int(from: &str, value: &str, column: &str) -> SqlMessage {
    error(
        244,
        format!(
            "The conversion of the {from} value '{value}' overflowed an {column} column. Use a larger integer column."
        ),
    )
}

/// 8114
pub fn error_converting(from: &str, to: &str) -> SqlMessage {
    error(8114, format!("Error converting data type {from} to {to}."))
}

/// 8115: `what` is `expression`, or the source type (`numeric`, `float`, `varchar` …).
pub fn overflow_converting(what: &str, to: &str) -> SqlMessage {
    error(
        8115,
        format!("Arithmetic overflow error converting {what} to data type {to}."),
    )
}

/// 220: an integer too large for tinyint or smallint.
pub fn overflow_for_type(ty: &str, value: impl Display) -> SqlMessage {
    error(
        220,
        format!("Arithmetic overflow error for data type {ty}, value = {value}."),
    )
}

/// 232: a number too large for a type (`%f`, six decimals).
pub fn overflow_for_type_float(ty: &str, value: f64) -> SqlMessage {
    error(
        232,
        format!("Arithmetic overflow error for type {ty}, value = {value:.6}."),
    )
}

/// 241
pub fn datetime_from_string() -> SqlMessage {
    error(
        241,
        "Conversion failed when converting date and/or time from character string.",
    )
}

/// 295
pub fn smalldatetime_from_string() -> SqlMessage {
    error(
        295,
        "Conversion failed when converting character string to smalldatetime data type.",
    )
}

/// 242
pub fn datetime_out_of_range(from: &str, to: &str) -> SqlMessage {
    error(
        242,
        format!(
            "The conversion of a {from} data type to a {to} data type resulted in an out-of-range value."
        ),
    )
}

/// 8169
pub fn guid_from_string() -> SqlMessage {
    error(
        8169,
        "Conversion failed when converting from a character string to uniqueidentifier.",
    )
}

/// 235
pub fn money_syntax() -> SqlMessage {
    error(
        235,
        "Cannot convert a char value to money. The char value has incorrect syntax.",
    )
}

/// 529
pub fn explicit_conversion_not_allowed(from: &str, to: &str) -> SqlMessage {
    error(
        529,
        format!("Explicit conversion from data type {from} to {to} is not allowed."),
    )
}

/// 257
pub fn implicit_conversion_not_allowed(from: &str, to: &str) -> SqlMessage {
    error(
        257,
        format!(
            "Implicit conversion from data type {from} to {to} is not allowed. Use the CONVERT function to run this query."
        ),
    )
}

/// 206
pub fn operand_type_clash(a: &str, b: &str) -> SqlMessage {
    error(
        206,
        format!("Operand type clash: {a} is incompatible with {b}"),
    )
}

/// 281
pub fn invalid_style_to_string(style: i64, from: &str) -> SqlMessage {
    error(
        281,
        format!(
            "{style} is not a valid style number when converting from {from} to a character string."
        ),
    )
}

/// 9809
pub fn unsupported_style(style: i64, from: &str, to: &str) -> SqlMessage {
    error(
        9809,
        format!("The style {style} is not supported for conversions from {from} to {to}."),
    )
}

// ---- arithmetic and operators -------------------------------------------------------------

/// 8134
pub fn divide_by_zero() -> SqlMessage {
    error(8134, "Divide by zero error encountered.")
}

/// 402
pub fn incompatible_in_operator(a: &str, b: &str, operator: &str) -> SqlMessage {
    error(
        402,
        format!("The data types {a} and {b} are incompatible in the {operator} operator."),
    )
}

/// 8117
pub fn operand_invalid_for_operator(ty: &str, operator: &str) -> SqlMessage {
    error(
        8117,
        format!("Operand data type {ty} is invalid for {operator} operator."),
    )
}

/// 8116
pub fn argument_type_invalid(ty: &str, argument: usize, function: &str) -> SqlMessage {
    error(
        8116,
        format!(
            "Argument data type {ty} is invalid for argument {argument} of {function} function."
        ),
    )
}

/// 506
pub fn invalid_escape(escape: &str) -> SqlMessage {
    error(
        506,
        format!("The invalid escape character \"{escape}\" was specified in a LIKE predicate."),
    )
}

// ---- functions ----------------------------------------------------------------------------

/// 195
pub fn not_builtin_function(name: &str) -> SqlMessage {
    compile_error(
        195,
        format!("'{name}' is not a recognized built-in function name."),
    )
}

/// 4121: a schema-qualified function nobody knows.
pub fn unknown_qualified_function(schema: &str, name: &str) -> SqlMessage {
    error(
        4121,
        format!(
            "Cannot find either column \"{schema}\" or the user-defined function or aggregate \"{schema}.{name}\", or the name is ambiguous."
        ),
    )
}

/// 174
pub fn argument_count(function: &str, count: usize) -> SqlMessage {
    compile_error(
        174,
        format!("The {function} function requires {count} argument(s)."),
    )
}

/// 189
pub fn argument_count_range(function: &str, min: usize, max: usize) -> SqlMessage {
    compile_error(
        189,
        format!("The {function} function requires {min} to {max} arguments."),
    )
}

/// 536
pub fn invalid_length(function: &str) -> SqlMessage {
    error(
        536,
        format!("Invalid length parameter passed to the {function} function."),
    )
}

/// 537
pub fn invalid_length_left_substring() -> SqlMessage {
    error(
        537,
        "Invalid length parameter passed to the LEFT or SUBSTRING function.",
    )
}

/// 535
pub fn datediff_overflow() -> SqlMessage {
    error(
        535,
        "The datediff function resulted in an overflow. The number of dateparts separating two date/time instances is too large. Try to use datediff with a less precise datepart.",
    )
}

/// 517
pub fn dateadd_overflow(ty: &str) -> SqlMessage {
    error(
        517,
        format!("Adding a value to a '{ty}' column caused an overflow."),
    )
}

/// 155: an unknown DATEADD/DATEDIFF/DATEPART part.
pub fn unknown_datepart(part: &str, function: &str) -> SqlMessage {
    compile_error(
        155,
        format!("'{part}' is not a recognized {function} option."),
    )
}

/// 9810
pub fn datepart_not_supported(part: &str, function: &str, ty: &str) -> SqlMessage {
    error(
        9810,
        format!(
            "The datepart {part} is not supported by date function {function} for data type {ty}."
        ),
    )
}

/// 137
pub fn must_declare_variable(name: &str) -> SqlMessage {
    compile_error(137, format!("Must declare the scalar variable \"{name}\"."))
}

/// 10753
pub fn window_function_needs_over(name: &str) -> SqlMessage {
    compile_error(
        10753,
        format!("The function '{name}' must have an OVER clause."),
    )
}

/// 4112
pub fn window_function_needs_order(name: &str) -> SqlMessage {
    compile_error(
        4112,
        format!("The function '{name}' must have an OVER clause with ORDER BY."),
    )
}

/// 4108
pub fn window_function_misplaced() -> SqlMessage {
    compile_error(
        4108,
        "Windowed functions can only appear in the SELECT or ORDER BY clauses.",
    )
}

// ---- names ----------------------------------------------------------------------------------

/// 207
pub fn invalid_column(name: &str) -> SqlMessage {
    error(207, format!("Invalid column name '{name}'."))
}

/// 209
pub fn ambiguous_column(name: &str) -> SqlMessage {
    error(209, format!("Ambiguous column name '{name}'."))
}

/// 4104
pub fn multipart_not_bound(name: &str) -> SqlMessage {
    error(
        4104,
        format!("The multi-part identifier \"{name}\" could not be bound."),
    )
}

/// 1013
pub fn duplicate_exposed_names(a: &str, b: &str) -> SqlMessage {
    error(
        1013,
        format!(
            "The objects \"{a}\" and \"{b}\" in the FROM clause have the same exposed names. Use correlation names to distinguish them."
        ),
    )
}

// ---- queries ---------------------------------------------------------------------------------

/// 512
pub fn subquery_returned_many() -> SqlMessage {
    error(
        512,
        "Subquery returned more than 1 value. This is not permitted when the subquery follows =, !=, <, <= , >, >= or when the subquery is used as an expression.",
    )
}

/// 116
pub fn subquery_many_columns() -> SqlMessage {
    error(
        116,
        "Only one expression can be specified in the select list when the subquery is not introduced with EXISTS.",
    )
}

/// 8120
pub fn not_in_group_by(column: &str) -> SqlMessage {
    error(
        8120,
        format!(
            "Column '{column}' is invalid in the select list because it is not contained in either an aggregate function or the GROUP BY clause."
        ),
    )
}

/// 8121
pub fn not_in_group_by_having(column: &str) -> SqlMessage {
    error(
        8121,
        format!(
            "Column '{column}' is invalid in the HAVING clause because it is not contained in either an aggregate function or the GROUP BY clause."
        ),
    )
}

/// 8127
pub fn not_in_group_by_order(column: &str) -> SqlMessage {
    error(
        8127,
        format!(
            "Column \"{column}\" is invalid in the ORDER BY clause because it is not contained in either an aggregate function or the GROUP BY clause."
        ),
    )
}

/// 147
pub fn aggregate_in_where() -> SqlMessage {
    compile_error(
        147,
        "An aggregate may not appear in the WHERE clause unless it is in a subquery contained in a HAVING clause or a select list, and the column being aggregated is an outer reference.",
    )
}

/// 130
pub fn nested_aggregate() -> SqlMessage {
    error(
        130,
        "Cannot perform an aggregate function on an expression containing an aggregate or a subquery.",
    )
}

/// 144
pub fn aggregate_in_group_by() -> SqlMessage {
    compile_error(
        144,
        "Cannot use an aggregate or a subquery in an expression used for the group by list of a GROUP BY clause.",
    )
}

/// 141
pub fn assignment_with_retrieval() -> SqlMessage {
    compile_error(
        141,
        "A SELECT statement that assigns a value to a variable must not be combined with data-retrieval operations.",
    )
}

/// 104
pub fn order_by_not_in_set_operation() -> SqlMessage {
    compile_error(
        104,
        "ORDER BY items must appear in the select list if the statement contains a UNION, INTERSECT or EXCEPT operator.",
    )
}

/// 145
pub fn order_by_not_in_distinct() -> SqlMessage {
    compile_error(
        145,
        "ORDER BY items must appear in the select list if SELECT DISTINCT is specified.",
    )
}

/// 108
pub fn order_by_position_out_of_range(position: i64) -> SqlMessage {
    compile_error(
        108,
        format!(
            "The ORDER BY position number {position} is out of range of the number of items in the select list."
        ),
    )
}

/// 205
pub fn set_operation_column_count() -> SqlMessage {
    error(
        205,
        "All queries combined using a UNION, INTERSECT or EXCEPT operator must have an equal number of expressions in their target lists.",
    )
}

/// 1014
pub fn negative_top() -> SqlMessage {
    error(
        1014,
        "A TOP N or FETCH rows count value may not be negative.",
    )
}

/// 10742
pub fn negative_offset() -> SqlMessage {
    error(
        10742,
        "The offset specified in a OFFSET clause may not be negative.",
    )
}

/// 10744
pub fn fetch_not_positive() -> SqlMessage {
    error(
        10744,
        "The number of rows provided for a FETCH clause must be greater then zero.",
    )
}

/// 10709
pub fn values_rows_differ() -> SqlMessage {
    error(
        10709,
        "The number of columns for each row in a table value constructor must be the same.",
    )
}

/// 8158 / 8159: a derived table's column list that does not fit.
pub fn column_list_mismatch(alias: &str, more: bool) -> SqlMessage {
    if more {
        error(
            8158,
            format!("'{alias}' has more columns than were specified in the column list."),
        )
    } else {
        error(
            8159,
            format!("'{alias}' has fewer columns than were specified in the column list."),
        )
    }
}

/// 8155
pub fn derived_column_unnamed(position: usize, alias: &str) -> SqlMessage {
    error(
        8155,
        format!("No column name was specified for column {position} of '{alias}'."),
    )
}

/// 10734
pub fn assignment_in_set_operation() -> SqlMessage {
    compile_error(
        10734,
        "Variable assignment is not allowed in a statement containing a top level UNION, INTERSECT or EXCEPT operator.",
    )
}

/// 1033
pub fn order_by_in_subquery() -> SqlMessage {
    compile_error(
        1033,
        "The ORDER BY clause is invalid in views, inline functions, derived tables, subqueries, and common table expressions, unless TOP, OFFSET or FOR XML is also specified.",
    )
}

/// 421 / 306-like: a type that cannot be sorted or compared.
pub fn not_comparable(ty: &str) -> SqlMessage {
    error(
        421,
        format!("The {ty} data type cannot be selected as DISTINCT because it is not comparable."),
    )
}

/// 59050 (ours): a join, APPLY or recursive CTE past vdisim's row limit. SQL Server would
/// spill to tempdb; vdisim holds results in memory and stops instead.
pub fn too_many_rows(limit: usize) -> SqlMessage {
    error(
        59050,
        format!("vdisim does not emulate queries whose intermediate results exceed {limit} rows."),
    )
}
