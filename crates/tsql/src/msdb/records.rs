//! What BACKUP and RESTORE tell msdb: one record per operation.

use serde::{Deserialize, Serialize};

use crate::catalog::model::{
    DatabaseFile, DatabaseInfo, FileState, FileType, Filegroup, FilegroupType, Guid, Lsn,
    RecoveryModel, derived_guid,
};
use crate::value::DateTime;

/// `backupset.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BackupType {
    /// `D`
    Database,
    /// `I`
    Differential,
    /// `L`
    Log,
    /// `F`: file or filegroup.
    File,
    /// `G`: differential file.
    DifferentialFile,
    /// `P`: partial (READ_WRITE_FILEGROUPS).
    Partial,
    /// `Q`: differential partial.
    DifferentialPartial,
}

impl BackupType {
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            BackupType::Database => "D",
            BackupType::Differential => "I",
            BackupType::Log => "L",
            BackupType::File => "F",
            BackupType::DifferentialFile => "G",
            BackupType::Partial => "P",
            BackupType::DifferentialPartial => "Q",
        }
    }

    /// The inverse of [`BackupType::code`] (case-insensitive).
    #[must_use]
    pub fn from_code(code: &str) -> Option<Self> {
        Some(match code.to_ascii_uppercase().as_str() {
            "D" => BackupType::Database,
            "I" => BackupType::Differential,
            "L" => BackupType::Log,
            "F" => BackupType::File,
            "G" => BackupType::DifferentialFile,
            "P" => BackupType::Partial,
            "Q" => BackupType::DifferentialPartial,
            _ => return None,
        })
    }

    #[must_use]
    pub fn is_differential(self) -> bool {
        matches!(
            self,
            BackupType::Differential
                | BackupType::DifferentialFile
                | BackupType::DifferentialPartial
        )
    }
}

/// `restorehistory.restore_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RestoreType {
    /// `D`
    Database,
    /// `F`
    File,
    /// `G`
    Filegroup,
    /// `I`
    Differential,
    /// `L`
    Log,
    /// `V`: RESTORE VERIFYONLY … WITH LOADHISTORY.
    VerifyOnly,
}

impl RestoreType {
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            RestoreType::Database => "D",
            RestoreType::File => "F",
            RestoreType::Filegroup => "G",
            RestoreType::Differential => "I",
            RestoreType::Log => "L",
            RestoreType::VerifyOnly => "V",
        }
    }
}

/// The media a backup was written to (`backupmediaset` and its `backupmediafamily` rows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaRecord {
    pub media_uuid: Guid,
    /// MEDIANAME.
    pub name: Option<String>,
    /// MEDIADESCRIPTION.
    pub description: Option<String>,
    /// One VIRTUAL_DEVICE name per family (stripe), in family order.
    pub devices: Vec<String>,
    /// 7 (virtual device) for everything vdisim writes.
    pub device_type: u8,
    /// BLOCKSIZE.
    pub physical_block_size: i32,
    pub is_compressed: bool,
    pub is_encrypted: bool,
    pub is_password_protected: bool,
    /// `Microsoft SQL Server`.
    pub software_name: String,
}

impl MediaRecord {
    /// Virtual-device media over these device names.
    #[must_use]
    pub fn virtual_devices(media_uuid: Guid, devices: &[&str]) -> Self {
        MediaRecord {
            media_uuid,
            name: None,
            description: None,
            devices: devices.iter().map(|d| (*d).to_owned()).collect(),
            device_type: 7,
            physical_block_size: 512,
            is_compressed: false,
            is_encrypted: false,
            is_password_protected: false,
            software_name: "Microsoft SQL Server".to_owned(),
        }
    }
}

/// One database file as a backup saw it (`backupfile`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupFileRecord {
    /// `file_number`: the file's `file_id`.
    pub file_id: i32,
    pub logical_name: String,
    pub physical_name: String,
    pub file_type: FileType,
    /// NULL for log files.
    pub filegroup_name: Option<String>,
    pub filegroup_guid: Option<Guid>,
    pub file_guid: Guid,
    pub state: FileState,
    /// Bytes.
    pub file_size: u64,
    /// Bytes of this file in the backup (0 when not present).
    pub backup_size: u64,
    pub backed_up_page_count: u64,
    pub create_lsn: Lsn,
    pub read_only_lsn: Option<Lsn>,
    pub read_write_lsn: Option<Lsn>,
    pub differential_base_lsn: Option<Lsn>,
    pub differential_base_guid: Option<Guid>,
    pub is_readonly: bool,
    /// Whether the file's contents are in the backup set (all files are listed).
    pub is_present: bool,
}

impl BackupFileRecord {
    /// The file as it is in the catalog, present in the backup with all its pages.
    #[must_use]
    pub fn from_file(file: &DatabaseFile, filegroup: Option<&Filegroup>) -> Self {
        let bytes = file.size_bytes();
        BackupFileRecord {
            file_id: file.file_id,
            logical_name: file.name.clone(),
            physical_name: file.physical_name.clone(),
            file_type: file.file_type,
            filegroup_name: filegroup.map(|g| g.name.clone()),
            filegroup_guid: filegroup.and_then(|g| g.filegroup_guid),
            file_guid: file.file_guid,
            state: file.state,
            file_size: bytes,
            backup_size: bytes,
            backed_up_page_count: bytes / 8192,
            create_lsn: file.create_lsn.unwrap_or(0),
            read_only_lsn: None,
            read_write_lsn: None,
            differential_base_lsn: file.differential_base_lsn,
            differential_base_guid: file.differential_base_guid,
            is_readonly: file.is_read_only,
            is_present: true,
        }
    }
}

/// One filegroup as a backup saw it (`backupfilegroup`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupFilegroupRecord {
    pub name: String,
    pub filegroup_id: i32,
    pub filegroup_guid: Option<Guid>,
    pub filegroup_type: FilegroupType,
    pub is_default: bool,
    pub is_readonly: bool,
}

impl From<&Filegroup> for BackupFilegroupRecord {
    fn from(g: &Filegroup) -> Self {
        BackupFilegroupRecord {
            name: g.name.clone(),
            filegroup_id: g.data_space_id,
            filegroup_guid: g.filegroup_guid,
            filegroup_type: g.filegroup_type,
            is_default: g.is_default,
            is_readonly: g.is_read_only,
        }
    }
}

/// A completed backup, as BACKUP reports it to msdb.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupRecord {
    pub backup_set_uuid: Guid,
    pub database_name: String,
    pub database_guid: Guid,
    pub family_guid: Guid,
    pub first_recovery_fork_guid: Guid,
    pub last_recovery_fork_guid: Guid,
    pub fork_point_lsn: Option<Lsn>,
    pub backup_type: BackupType,
    pub first_lsn: Lsn,
    pub last_lsn: Lsn,
    pub checkpoint_lsn: Lsn,
    pub database_backup_lsn: Lsn,
    /// Differentials only.
    pub differential_base_lsn: Option<Lsn>,
    pub differential_base_guid: Option<Guid>,
    pub database_creation_date: DateTime,
    pub backup_start_date: DateTime,
    pub backup_finish_date: DateTime,
    /// EXPIREDATE / RETAINDAYS.
    pub expiration_date: Option<DateTime>,
    /// Log backups: the latest point in time it can restore to (SQL Server 2022).
    pub last_valid_restore_time: Option<DateTime>,
    pub is_copy_only: bool,
    /// Bytes.
    pub backup_size: u64,
    /// Bytes on the media (equal to `backup_size` when not compressed).
    pub compressed_backup_size: u64,
    /// The backup set's number on its media (RESTORE … FILE = n).
    pub position: i32,
    /// NAME.
    pub name: Option<String>,
    /// DESCRIPTION.
    pub description: Option<String>,
    pub media: MediaRecord,
    /// The login (or database user) that ran BACKUP.
    pub user_name: String,
    pub server_name: String,
    pub machine_name: String,
    pub recovery_model: RecoveryModel,
    pub compatibility_level: u8,
    pub collation_name: String,
    pub has_bulk_logged_data: bool,
    pub is_snapshot: bool,
    pub is_readonly: bool,
    pub is_single_user: bool,
    pub has_backup_checksums: bool,
    pub is_damaged: bool,
    pub begins_log_chain: bool,
    pub has_incomplete_metadata: bool,
    /// A tail-log backup WITH NORECOVERY.
    pub is_force_offline: bool,
    /// `MS_XPRESS` when compressed.
    pub compression_algorithm: Option<String>,
    /// ENCRYPTION's algorithm (`aes_256` …) and encryptor type (`CERTIFICATE` …).
    #[serde(default)]
    pub key_algorithm: Option<String>,
    #[serde(default)]
    pub encryptor_type: Option<String>,
    pub files: Vec<BackupFileRecord>,
    pub filegroups: Vec<BackupFilegroupRecord>,
}

impl BackupRecord {
    /// A backup of `db` as the catalog describes it, over virtual devices: its GUIDs,
    /// recovery model, collation, files (all present) and filegroups, position 1, `sa`, LSNs
    /// 0 and sizes equal to the data files' (the caller sets what it knows better).
    #[must_use]
    pub fn for_database(
        db: &DatabaseInfo,
        backup_type: BackupType,
        devices: &[&str],
        start: DateTime,
        finish: DateTime,
    ) -> Self {
        let salt = (i64::from(start.days) as u64) << 40 ^ start.ticks;
        let files: Vec<BackupFileRecord> = db
            .files
            .iter()
            .map(|f| {
                let fg = db
                    .filegroups
                    .iter()
                    .find(|g| g.data_space_id == f.data_space_id);
                let mut rec = BackupFileRecord::from_file(f, fg);
                if backup_type == BackupType::Log {
                    rec.is_present = f.file_type == FileType::Log;
                }
                rec
            })
            .collect();
        let size: u64 = files
            .iter()
            .filter(|f| f.is_present)
            .map(|f| f.backup_size)
            .sum();
        BackupRecord {
            backup_set_uuid: derived_guid(&db.name, salt ^ 0xB5),
            database_name: db.name.clone(),
            database_guid: db.database_guid,
            family_guid: db.family_guid,
            first_recovery_fork_guid: db.recovery_fork_guid,
            last_recovery_fork_guid: db.recovery_fork_guid,
            fork_point_lsn: None,
            backup_type,
            first_lsn: 0,
            last_lsn: 0,
            checkpoint_lsn: 0,
            database_backup_lsn: 0,
            differential_base_lsn: None,
            differential_base_guid: None,
            database_creation_date: db.create_date,
            backup_start_date: start,
            backup_finish_date: finish,
            expiration_date: None,
            last_valid_restore_time: None,
            is_copy_only: false,
            backup_size: size,
            compressed_backup_size: size,
            position: 1,
            name: None,
            description: None,
            media: MediaRecord::virtual_devices(derived_guid(&db.name, salt ^ 0x3E), devices),
            user_name: "sa".to_owned(),
            server_name: String::new(),
            machine_name: String::new(),
            recovery_model: db.recovery_model,
            compatibility_level: db.compatibility_level,
            collation_name: db.collation.clone(),
            has_bulk_logged_data: false,
            is_snapshot: false,
            is_readonly: db.is_read_only,
            is_single_user: db.user_access == crate::catalog::model::UserAccess::SingleUser,
            has_backup_checksums: false,
            is_damaged: false,
            begins_log_chain: false,
            has_incomplete_metadata: false,
            is_force_offline: false,
            compression_algorithm: None,
            key_algorithm: None,
            encryptor_type: None,
            files,
            filegroups: db
                .filegroups
                .iter()
                .map(BackupFilegroupRecord::from)
                .collect(),
        }
    }

    /// backupset.flags: the bit columns in their documented order (1 = bulk-logged data,
    /// 2 = snapshot, 4 = read-only, 8 = single user, 16 = checksums, 32 = damaged, 64 =
    /// begins log chain, 128 = incomplete metadata, 256 = force offline, 512 = copy-only).
    #[must_use]
    pub fn flags(&self) -> i32 {
        [
            self.has_bulk_logged_data,
            self.is_snapshot,
            self.is_readonly,
            self.is_single_user,
            self.has_backup_checksums,
            self.is_damaged,
            self.begins_log_chain,
            self.has_incomplete_metadata,
            self.is_force_offline,
            self.is_copy_only,
        ]
        .iter()
        .enumerate()
        .filter(|(_, set)| **set)
        .map(|(i, _)| 1 << i)
        .sum()
    }
}

/// One file a restore wrote (`restorefile`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreFileRecord {
    pub file_number: i32,
    /// Where it was restored to (after MOVE).
    pub destination_physical_name: String,
}

/// A completed restore, as RESTORE reports it to msdb.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreRecord {
    pub restore_date: DateTime,
    pub destination_database_name: String,
    pub user_name: String,
    /// The restored backup set's id in this msdb (RESTORE first records the backup set
    /// when the history has none for it, as SQL Server does).
    pub backup_set_id: i32,
    pub restore_type: RestoreType,
    pub replace: bool,
    /// RECOVERY (true) or NORECOVERY/STANDBY (false).
    pub recovery: bool,
    pub restart: bool,
    pub stop_at: Option<DateTime>,
    pub device_count: u8,
    pub stop_at_mark_name: Option<String>,
    /// STOPBEFOREMARK (true) or STOPATMARK (false); `None` without a mark.
    pub stop_before: Option<bool>,
    pub files: Vec<RestoreFileRecord>,
    /// Filegroup names restored.
    pub filegroups: Vec<String>,
}

impl RestoreRecord {
    /// A restore of backup set `backup_set_id` into `destination` with RECOVERY, no REPLACE,
    /// by `sa`, from one device, with no files listed (the caller adds them).
    #[must_use]
    pub fn new(
        destination: &str,
        backup_set_id: i32,
        restore_type: RestoreType,
        restore_date: DateTime,
    ) -> Self {
        RestoreRecord {
            restore_date,
            destination_database_name: destination.to_owned(),
            user_name: "sa".to_owned(),
            backup_set_id,
            restore_type,
            replace: false,
            recovery: true,
            restart: false,
            stop_at: None,
            device_count: 1,
            stop_at_mark_name: None,
            stop_before: None,
            files: Vec::new(),
            filegroups: Vec::new(),
        }
    }
}
