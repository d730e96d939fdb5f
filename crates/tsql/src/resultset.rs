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
    /// `-W`: no padding, trailing spaces removed.
    pub trim: bool,
    /// `-s`: the column separator, one space by default.
    pub separator: String,
    /// `-y`: the widest a variable-length column (varchar, nvarchar, varbinary…) is shown;
    /// sqlcmd's default is 256, and 0 means unlimited.
    pub variable_width: usize,
    /// `-Y`: the widest a fixed-length character column (char, nchar) is shown; 0 (the
    /// default) means its declared length.
    pub fixed_width: usize,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            headers: true,
            trim: false,
            separator: " ".to_owned(),
            variable_width: 256,
            fixed_width: 0,
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
    /// display width (the declared length for strings, capped by `-y`/`-Y`), and numbers are
    /// right-aligned, as sqlcmd lays them out. With `-W` cells are trimmed and the dashed
    /// line is as long as each header.
    pub fn render_sqlcmd(&self, opts: &RenderOptions) -> String {
        let widths: Vec<usize> = self
            .columns
            .iter()
            .map(|c| column_width(c, opts).max(c.name.chars().count()))
            .collect();
        let right_aligned: Vec<bool> = self.columns.iter().map(|c| c.ty.is_numeric()).collect();
        let line = |cells: &[String]| -> String {
            let cells: Vec<String> = cells
                .iter()
                .enumerate()
                .map(|(i, cell)| {
                    let width = widths[i];
                    if opts.trim {
                        cell.trim_end().to_owned()
                    } else {
                        let cell: String = cell.chars().take(width).collect();
                        let pad = " ".repeat(width.saturating_sub(cell.chars().count()));
                        if right_aligned[i] {
                            format!("{pad}{cell}")
                        } else {
                            format!("{cell}{pad}")
                        }
                    }
                })
                .collect();
            cells.join(&opts.separator)
        };
        let mut out = String::new();
        if opts.headers {
            let names: Vec<String> = self.columns.iter().map(|c| c.name.clone()).collect();
            // Headers are left-aligned whatever the column's type.
            let header: Vec<String> = names
                .iter()
                .zip(&widths)
                .map(|(n, &w)| {
                    if opts.trim {
                        n.clone()
                    } else {
                        format!("{n}{}", " ".repeat(w.saturating_sub(n.chars().count())))
                    }
                })
                .collect();
            out.push_str(&header.join(&opts.separator));
            out.push('\n');
            let dashes: Vec<String> = self
                .columns
                .iter()
                .zip(&widths)
                .map(|(c, &width)| {
                    "-".repeat(if opts.trim {
                        c.name.chars().count()
                    } else {
                        width
                    })
                })
                .collect();
            out.push_str(&dashes.join(&opts.separator));
            out.push('\n');
        }
        for r in 0..self.rows.len() {
            let cells: Vec<String> = (0..self.columns.len())
                .map(|c| self.cell_text(r, c))
                .collect();
            out.push_str(&line(&cells));
            out.push('\n');
        }
        out
    }
}

/// How wide sqlcmd shows a column of this type.
fn column_width(column: &Column, opts: &RenderOptions) -> usize {
    let declared = column.ty.display_width();
    let cap = |limit: usize| {
        if limit == 0 {
            declared
        } else {
            declared.min(limit)
        }
    };
    match column.ty {
        SqlType::VarChar(_)
        | SqlType::NVarChar(_)
        | SqlType::VarBinary(_)
        | SqlType::SqlVariant => cap(opts.variable_width),
        SqlType::Char(_) | SqlType::NChar(_) | SqlType::Binary(_) => cap(opts.fixed_width),
        _ => declared,
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
    fn empty_result() {
        let rs = Table::new(vec![Column::new("name", SqlType::VarChar(Some(2)), false)]);
        assert_eq!(rs.render_sqlcmd(&RenderOptions::default()), "name\n----\n");
    }
}
