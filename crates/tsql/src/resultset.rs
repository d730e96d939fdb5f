//! Result sets and their sqlcmd rendering.

use serde::Serialize;

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

/// A result set the engine fills: every value already as text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ResultSet {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The sqlcmd switches that change how a result set looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderOptions {
    /// Column headers and the dashed line under them; `-h -1` turns them off.
    pub headers: bool,
    /// `-W`: no padding, trailing spaces removed.
    pub trim: bool,
    /// `-s`: the column separator, one space by default.
    pub separator: String,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            headers: true,
            trim: false,
            separator: " ".to_owned(),
        }
    }
}

impl ResultSet {
    /// A result set with these column names, e.g. [`columns::FILELISTONLY`].
    pub fn with_columns(columns: &[&str]) -> Self {
        Self::new(columns.iter().map(|c| (*c).to_owned()).collect())
    }

    pub fn new(columns: Vec<String>) -> Self {
        ResultSet {
            columns,
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are empty and extra cells are dropped.
    pub fn push_row(&mut self, row: Vec<String>) {
        let mut row = row;
        row.resize(self.columns.len(), String::new());
        self.rows.push(row);
    }

    /// The result set as sqlcmd prints it, ending with a newline.
    ///
    /// Without `-W` every column is padded to its widest value or header (sqlcmd pads to the
    /// declared column width, which a text-only result set does not have). With `-W` the dashed
    /// line is as long as each header.
    pub fn render_sqlcmd(&self, opts: &RenderOptions) -> String {
        let width = |i: usize| -> usize {
            let header = self.columns.get(i).map_or(0, |c| c.chars().count());
            self.rows
                .iter()
                .filter_map(|r| r.get(i))
                .map(|v| v.chars().count())
                .fold(header, usize::max)
        };
        let widths: Vec<usize> = (0..self.columns.len()).map(width).collect();
        let line = |cells: &[String]| -> String {
            let cells: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(cell, &width)| {
                    if opts.trim {
                        cell.trim_end().to_owned()
                    } else {
                        let pad = width.saturating_sub(cell.chars().count());
                        format!("{cell}{}", " ".repeat(pad))
                    }
                })
                .collect();
            cells.join(&opts.separator)
        };
        let mut out = String::new();
        if opts.headers {
            out.push_str(&line(&self.columns));
            out.push('\n');
            let dashes: Vec<String> = self
                .columns
                .iter()
                .zip(&widths)
                .map(|(c, &width)| "-".repeat(if opts.trim { c.chars().count() } else { width }))
                .collect();
            out.push_str(&line(&dashes));
            out.push('\n');
        }
        for row in &self.rows {
            out.push_str(&line(row));
            out.push('\n');
        }
        let n = self.rows.len();
        let noun = if n == 1 { "row" } else { "rows" };
        out.push_str(&format!("\n({n} {noun} affected)\n"));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn databases() -> ResultSet {
        let mut rs = ResultSet::new(vec!["name".into()]);
        rs.push_row(vec!["master".into()]);
        rs.push_row(vec!["db".into()]);
        rs
    }

    #[test]
    fn padded_with_headers() {
        assert_eq!(
            databases().render_sqlcmd(&RenderOptions::default()),
            "name  \n------\nmaster\ndb    \n\n(2 rows affected)\n"
        );
    }

    #[test]
    fn trimmed_without_headers() {
        let opts = RenderOptions {
            headers: false,
            trim: true,
            separator: ",".into(),
        };
        assert_eq!(
            databases().render_sqlcmd(&opts),
            "master\ndb\n\n(2 rows affected)\n"
        );
    }

    #[test]
    fn several_columns_with_separator() {
        let mut rs = ResultSet::new(vec!["LogicalName".into(), "Type".into()]);
        rs.push_row(vec!["db".into(), "D".into()]);
        let opts = RenderOptions {
            headers: true,
            trim: true,
            separator: "|".into(),
        };
        assert_eq!(
            rs.render_sqlcmd(&opts),
            "LogicalName|Type\n-----------|----\ndb|D\n\n(1 row affected)\n"
        );
        assert_eq!(
            rs.render_sqlcmd(&RenderOptions::default()),
            "LogicalName Type\n----------- ----\ndb          D   \n\n(1 row affected)\n"
        );
    }

    #[test]
    fn push_row_fits_the_columns() {
        let mut rs = ResultSet::new(vec!["a".into(), "b".into()]);
        rs.push_row(vec!["1".into()]);
        rs.push_row(vec!["1".into(), "2".into(), "3".into()]);
        assert_eq!(rs.rows, [vec!["1", ""], vec!["1", "2"]]);
    }

    #[test]
    fn unnamed_column_has_a_blank_header() {
        let mut rs = ResultSet::with_columns(columns::UNNAMED);
        rs.push_row(vec!["VDISIM".into()]);
        assert_eq!(
            rs.render_sqlcmd(&RenderOptions::default()),
            "      \n------\nVDISIM\n\n(1 row affected)\n"
        );
    }

    #[test]
    fn empty_result() {
        let rs = ResultSet::new(vec!["name".into()]);
        assert_eq!(
            rs.render_sqlcmd(&RenderOptions::default()),
            "name\n----\n\n(0 rows affected)\n"
        );
    }
}
