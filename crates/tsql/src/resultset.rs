//! Result sets and their sqlcmd rendering.

use crate::value::{Column, SqlType, Table, Value};

/// SQL Server's column names for the result sets the fake server returns, so the engine does
/// not spell them itself. Recalled from SQL Server's documentation; the engine may fill only a
/// prefix of the RESTORE lists (clients look columns up by name).
pub mod columns {
    /// `SELECT name FROM sys.databases`
    pub const SYS_DATABASES: &[&str] = &["name"];
    /// `SELECT @@VERSION` / `SELECT @@SERVERNAME`: one unnamed column.
    pub const UNNAMED: &[&str] = &[""];
    /// `RESTORE HEADERONLY`
    pub const HEADERONLY: &[&str] = &[
        "BackupName",
        "BackupDescription",
        "BackupType",
        "ExpirationDate",
        "Compressed",
        "Position",
        "DeviceType",
        "UserName",
        "ServerName",
        "DatabaseName",
        "DatabaseVersion",
        "DatabaseCreationDate",
        "BackupSize",
        "FirstLSN",
        "LastLSN",
        "CheckpointLSN",
        "DatabaseBackupLSN",
        "BackupStartDate",
        "BackupFinishDate",
        "SortOrder",
        "CodePage",
        "UnicodeLocaleId",
        "UnicodeComparisonStyle",
        "CompatibilityLevel",
        "SoftwareVendorId",
        "SoftwareVersionMajor",
        "SoftwareVersionMinor",
        "SoftwareVersionBuild",
        "MachineName",
        "Flags",
        "BindingID",
        "RecoveryForkID",
        "Collation",
        "FamilyGUID",
        "HasBulkLoggedData",
        "IsSnapshot",
        "IsReadOnly",
        "IsSingleUser",
        "HasBackupChecksums",
        "IsDamaged",
        "BeginsLogChain",
        "HasIncompleteMetaData",
        "IsForceOffline",
        "IsCopyOnly",
        "FirstRecoveryForkID",
        "ForkPointLSN",
        "RecoveryModel",
        "DifferentialBaseLSN",
        "DifferentialBaseGUID",
        "BackupTypeDescription",
        "BackupSetGUID",
        "CompressedBackupSize",
    ];
    /// `RESTORE FILELISTONLY`
    pub const FILELISTONLY: &[&str] = &[
        "LogicalName",
        "PhysicalName",
        "Type",
        "FileGroupName",
        "Size",
        "MaxSize",
        "FileId",
        "CreateLSN",
        "DropLSN",
        "UniqueId",
        "ReadOnlyLSN",
        "ReadWriteLSN",
        "BackupSizeInBytes",
        "SourceBlockSize",
        "FileGroupId",
        "LogGroupGUID",
        "DifferentialBaseLSN",
        "DifferentialBaseGUID",
        "IsReadOnly",
        "IsPresent",
        "TDEThumbprint",
    ];
    /// `RESTORE LABELONLY`
    pub const LABELONLY: &[&str] = &[
        "MediaName",
        "MediaSetId",
        "FamilyCount",
        "FamilySequenceNumber",
        "MediaFamilyId",
        "MediaSequenceNumber",
        "MediaLabelPresent",
        "MediaDescription",
        "SoftwareName",
        "SoftwareVendorId",
        "MediaDate",
        "MirrorCount",
        "IsCompressed",
    ];
}

/// A result set: a typed table. Every column carries SQL Server's type, nullability and
/// declared width, which sqlcmd's layout and the TDS encoding both use.
pub type ResultSet = Table;

/// The sqlcmd switches that change how a result set looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderOptions {
    /// Column headers and the dashed line under them; `-h -1` turns them off.
    pub headers: bool,
    /// `-h n`: the headers again before every n-th row after the first, after a blank line;
    /// 0 prints them once.
    pub rows_per_header: usize,
    /// `-W`: no padding, trailing spaces removed.
    pub trim: bool,
    /// `-s`: the column separator, one space by default.
    pub separator: String,
    /// `-y`: the widest a large variable-length column (`varchar(max)`, `nvarchar(max)`,
    /// `varbinary(max)`) is shown; sqlcmd's default is 256, and 0 means unlimited (as wide as
    /// the widest value).
    pub variable_width: usize,
    /// `-Y`: the widest a sized character or binary column (`char(n)`, `varchar(n)`,
    /// `nchar(n)`, `nvarchar(n)`, `binary(n)`, `varbinary(n)`, `sql_variant`) is shown; 0 (the
    /// default) means its declared length.
    pub fixed_width: usize,
    /// `-k`: what happens to control characters (tabs, line breaks) in values.
    pub control_characters: ControlCharacters,
    /// `-w`: lines longer than this many characters wrap onto the next line; 0 never wraps.
    pub screen_width: usize,
}

/// sqlcmd's `-k[1|2]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ControlCharacters {
    /// Values are printed as they are.
    #[default]
    Keep,
    /// `-k` / `-k1`: every control character becomes a space.
    EachToSpace,
    /// `-k2`: every run of control characters becomes one space.
    RunToSpace,
}

impl ControlCharacters {
    fn apply(self, text: String) -> String {
        if self == ControlCharacters::Keep || !text.chars().any(char::is_control) {
            return text;
        }
        let mut out = String::with_capacity(text.len());
        let mut in_run = false;
        for c in text.chars() {
            if !c.is_control() {
                out.push(c);
                in_run = false;
            } else if self == ControlCharacters::EachToSpace || !in_run {
                out.push(' ');
                in_run = true;
            }
        }
        out
    }
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            headers: true,
            rows_per_header: 0,
            trim: false,
            separator: " ".to_owned(),
            variable_width: 256,
            fixed_width: 0,
            control_characters: ControlCharacters::Keep,
            screen_width: 0,
        }
    }
}

impl Table {
    /// A result set of text columns with these names (`nvarchar(4000)`, nullable): for
    /// callers that have only text (the legacy RESTORE …ONLY sets).
    pub fn with_text_columns(names: &[&str]) -> Self {
        Table::new(
            names
                .iter()
                .map(|n| Column::new(*n, SqlType::NVarChar(Some(4000)), true))
                .collect(),
        )
    }

    /// Adds a row of text; missing cells are NULL and extra cells are dropped.
    pub fn push_text_row(&mut self, row: Vec<String>) {
        let mut row: Vec<Value> = row.into_iter().map(Value::String).collect();
        row.resize(self.columns.len(), Value::Null);
        self.rows.push(row);
    }

    /// The cell as sqlcmd shows it.
    #[must_use]
    pub fn cell_text(&self, row: usize, column: usize) -> String {
        let ty = self
            .columns
            .get(column)
            .map_or(SqlType::SqlVariant, |c| c.ty);
        self.rows
            .get(row)
            .and_then(|r| r.get(column))
            .map_or_else(String::new, |v| value_text(v, ty))
    }

    /// The result set as sqlcmd prints it, ending with a newline. The `(n rows affected)`
    /// line that follows is the statement's row count, sent separately (NOCOUNT drops it).
    ///
    /// Without `-W` every column is as wide as the larger of its header and its type's
    /// display width (the declared length for strings, capped by `-y`/`-Y`), values longer
    /// than that are cut, and numbers are right-aligned, as sqlcmd lays them out. With `-W`
    /// cells are trimmed and the dashed line is as long as each header. `-h n` repeats the
    /// headers every n rows, `-k` replaces control characters and `-w` wraps long lines.
    pub fn render_sqlcmd(&self, opts: &RenderOptions) -> String {
        let cells: Vec<Vec<String>> = (0..self.rows.len())
            .map(|r| {
                (0..self.columns.len())
                    .map(|c| opts.control_characters.apply(self.cell_text(r, c)))
                    .collect()
            })
            .collect();
        let widths: Vec<usize> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let width = column_width(c, opts).unwrap_or_else(|| {
                    cells
                        .iter()
                        .map(|row| row[i].chars().count())
                        .max()
                        .unwrap_or(0)
                });
                width.max(c.name.chars().count())
            })
            .collect();
        let right_aligned: Vec<bool> = self.columns.iter().map(|c| c.ty.is_numeric()).collect();
        let row_line = |row: &[String]| -> String {
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(i, cell)| {
                    if opts.trim {
                        return cell.trim_end().to_owned();
                    }
                    let width = widths[i];
                    let cell: String = cell.chars().take(width).collect();
                    let pad = " ".repeat(width.saturating_sub(cell.chars().count()));
                    if right_aligned[i] {
                        format!("{pad}{cell}")
                    } else {
                        format!("{cell}{pad}")
                    }
                })
                .collect();
            cells.join(&opts.separator)
        };
        let mut lines: Vec<String> = Vec::new();
        let header = |lines: &mut Vec<String>| {
            // Headers are left-aligned whatever the column's type.
            let names: Vec<String> = self
                .columns
                .iter()
                .zip(&widths)
                .map(|(c, &w)| {
                    if opts.trim {
                        c.name.clone()
                    } else {
                        format!("{}{}", c.name, " ".repeat(w - c.name.chars().count()))
                    }
                })
                .collect();
            lines.push(names.join(&opts.separator));
            let dashes: Vec<String> = self
                .columns
                .iter()
                .zip(&widths)
                .map(|(c, &w)| "-".repeat(if opts.trim { c.name.chars().count() } else { w }))
                .collect();
            lines.push(dashes.join(&opts.separator));
        };
        if opts.headers {
            header(&mut lines);
        }
        for (r, row) in cells.iter().enumerate() {
            if opts.headers && opts.rows_per_header > 0 && r > 0 && r % opts.rows_per_header == 0 {
                lines.push(String::new());
                header(&mut lines);
            }
            lines.push(row_line(row));
        }
        let mut out = String::new();
        for line in lines {
            push_wrapped(&mut out, &line, opts.screen_width);
        }
        out
    }
}

/// Appends `line` and a newline, broken every `width` characters when `width` is not 0.
fn push_wrapped(out: &mut String, line: &str, width: usize) {
    if width == 0 || line.chars().count() <= width {
        out.push_str(line);
        out.push('\n');
        return;
    }
    let chars: Vec<char> = line.chars().collect();
    for chunk in chars.chunks(width) {
        out.extend(chunk);
        out.push('\n');
    }
}

/// How wide sqlcmd shows a column of this type; `None`: as wide as its widest value (`-y 0`
/// for a `(max)` column).
fn column_width(column: &Column, opts: &RenderOptions) -> Option<usize> {
    let declared = column.ty.display_width();
    match column.ty {
        // sql_variant is shown like a (max) column: its declared 8000 would be absurd.
        SqlType::VarChar(None)
        | SqlType::NVarChar(None)
        | SqlType::VarBinary(None)
        | SqlType::SqlVariant => (opts.variable_width != 0).then_some(opts.variable_width),
        SqlType::Char(_)
        | SqlType::NChar(_)
        | SqlType::VarChar(Some(_))
        | SqlType::NVarChar(Some(_))
        | SqlType::Binary(_)
        | SqlType::VarBinary(Some(_))
            if opts.fixed_width != 0 =>
        {
            Some(declared.min(opts.fixed_width))
        }
        _ => Some(declared),
    }
}

/// A value as sqlcmd prints it.
#[must_use]
pub fn value_text(value: &Value, ty: SqlType) -> String {
    crate::value::format::sqlcmd_text(value, ty)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::SYSNAME;

    fn databases() -> ResultSet {
        let mut rs = Table::new(vec![Column::new("name", SqlType::NVarChar(Some(6)), false)]);
        rs.push(vec!["master".into()]);
        rs.push(vec!["db".into()]);
        rs
    }

    #[test]
    fn padded_to_the_declared_width_with_headers() {
        assert_eq!(
            databases().render_sqlcmd(&RenderOptions::default()),
            "name  \n------\nmaster\ndb    \n"
        );
    }

    #[test]
    fn sysname_columns_are_128_wide_as_sqlcmd_shows_them() {
        let mut rs = Table::new(vec![Column::new("name", SYSNAME, false)]);
        rs.push(vec!["pubs".into()]);
        let text = rs.render_sqlcmd(&RenderOptions::default());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], "-".repeat(128));
        assert_eq!(lines[2].len(), 128);
        assert!(lines[2].starts_with("pubs "));
    }

    #[test]
    fn numbers_are_right_aligned_and_unnamed_columns_blank() {
        let mut rs = Table::new(vec![Column::new("", SqlType::Int, false)]);
        rs.push(vec![Value::Int(1)]);
        assert_eq!(
            rs.render_sqlcmd(&RenderOptions::default()),
            "           \n-----------\n          1\n"
        );
    }

    #[test]
    fn trimmed_without_headers() {
        let opts = RenderOptions {
            headers: false,
            trim: true,
            separator: ",".into(),
            ..RenderOptions::default()
        };
        assert_eq!(databases().render_sqlcmd(&opts), "master\ndb\n");
    }

    #[test]
    fn variable_width_cap_cuts_long_columns() {
        let mut rs = Table::new(vec![Column::new("v", SqlType::NVarChar(None), true)]);
        rs.push(vec!["x".repeat(300).into()]);
        let capped = rs.render_sqlcmd(&RenderOptions::default());
        assert_eq!(capped.lines().nth(2).map(str::len), Some(256));
        let opts = RenderOptions {
            variable_width: 10,
            ..RenderOptions::default()
        };
        assert_eq!(rs.render_sqlcmd(&opts).lines().nth(2), Some("xxxxxxxxxx"));
    }

    #[test]
    fn nulls_print_as_null() {
        let mut rs = Table::new(vec![Column::new("a", SqlType::Int, true)]);
        rs.push(vec![Value::Null]);
        assert!(
            rs.render_sqlcmd(&RenderOptions::default())
                .contains("       NULL\n")
        );
    }

    #[test]
    fn text_rows_fit_the_columns() {
        let mut rs = Table::with_text_columns(&["a", "b"]);
        rs.push_text_row(vec!["1".into()]);
        rs.push_text_row(vec!["1".into(), "2".into(), "3".into()]);
        assert_eq!(
            rs.rows,
            [
                vec![Value::text("1"), Value::Null],
                vec![Value::text("1"), Value::text("2")]
            ]
        );
    }

    #[test]
    fn y_caps_only_max_columns_and_capital_y_the_sized_ones() {
        let mut rs = Table::new(vec![
            Column::new("m", SqlType::VarChar(None), true),
            Column::new("s", SqlType::VarChar(Some(20)), true),
        ]);
        rs.push(vec!["abcdef".into(), "ghijkl".into()]);
        let opts = RenderOptions {
            variable_width: 4,
            ..RenderOptions::default()
        };
        assert_eq!(
            rs.render_sqlcmd(&opts).lines().nth(2),
            Some("abcd ghijkl              ")
        );
        let opts = RenderOptions {
            fixed_width: 3,
            variable_width: 0,
            ..RenderOptions::default()
        };
        // -y 0: the (max) column is as wide as its widest value.
        assert_eq!(rs.render_sqlcmd(&opts).lines().nth(2), Some("abcdef ghi"));
    }

    #[test]
    fn headers_repeat_every_n_rows_after_a_blank_line() {
        let mut rs = Table::new(vec![Column::new("n", SqlType::TinyInt, false)]);
        for i in 1..=5 {
            rs.push(vec![Value::Int(i)]);
        }
        let opts = RenderOptions {
            rows_per_header: 2,
            ..RenderOptions::default()
        };
        assert_eq!(
            rs.render_sqlcmd(&opts),
            "n  \n---\n  1\n  2\n\nn  \n---\n  3\n  4\n\nn  \n---\n  5\n"
        );
    }

    #[test]
    fn control_characters_become_spaces_with_k() {
        let mut rs = Table::new(vec![Column::new("t", SqlType::VarChar(Some(8)), false)]);
        rs.push(vec!["a\t\r\nb".into()]);
        let with = |k| {
            let opts = RenderOptions {
                headers: false,
                trim: true,
                control_characters: k,
                ..RenderOptions::default()
            };
            rs.render_sqlcmd(&opts)
        };
        assert_eq!(with(ControlCharacters::Keep), "a\t\r\nb\n");
        assert_eq!(with(ControlCharacters::EachToSpace), "a   b\n");
        assert_eq!(with(ControlCharacters::RunToSpace), "a b\n");
    }

    #[test]
    fn long_lines_wrap_at_the_screen_width() {
        let mut rs = Table::new(vec![
            Column::new("first", SqlType::Char(6), false),
            Column::new("second", SqlType::Char(6), false),
        ]);
        rs.push(vec!["abcdef".into(), "ghijkl".into()]);
        let opts = RenderOptions {
            screen_width: 9,
            ..RenderOptions::default()
        };
        assert_eq!(
            rs.render_sqlcmd(&opts),
            "first  se\ncond\n------ --\n----\nabcdef gh\nijkl\n"
        );
    }

    #[test]
    fn empty_result() {
        let rs = Table::new(vec![Column::new("name", SqlType::VarChar(Some(2)), false)]);
        assert_eq!(rs.render_sqlcmd(&RenderOptions::default()), "name\n----\n");
    }
}
