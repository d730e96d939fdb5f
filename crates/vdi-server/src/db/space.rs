//! How much of a database is in use, for the space DMVs, sp_spaceused and
//! DBCC SQLPERF(LOGSPACE) (decision 80).

use super::Database;

impl Database {
    /// The space in use, for the space DMVs and sp_spaceused: every data page, the pages
    /// changed since the differential base, and the log records kept for the next log backup
    /// (64 bytes each).
    #[must_use]
    pub fn space_usage(&self) -> tsql::catalog::SpaceUsage {
        let base = self.differential_base;
        tsql::catalog::SpaceUsage {
            used_data_pages: self.page_count(),
            modified_data_pages: self
                .page_lsns
                .iter()
                .filter(|&&l| base.is_none_or(|b| l > b))
                .count() as u64,
            log_used_bytes: (self.log.len() * 64) as u64,
            end_lsn: Some(u128::from(self.next_lsn.saturating_sub(1))),
        }
    }

    /// How full the log is, for DBCC SQLPERF(LOGSPACE): the records kept for the next log
    /// backup against the log file's size.
    #[must_use]
    pub fn log_space_used_percent(&self) -> f64 {
        let used = self.space_usage().log_used_bytes as f64;
        let size = self.log_file_bytes.max(1) as f64;
        (used / size * 100.0).clamp(0.5, 100.0)
    }
}
