//! The result sets of RESTORE HEADERONLY, FILELISTONLY and LABELONLY: SQL Server 2022's
//! columns, names and types, with values from the media's headers.

use crate::db::{BackupKind, FileKind, RecoveryModel, SqlFile};
use crate::engine::jobs::JobContext;
use crate::stream::StripeHeaders;
use crate::stream::format::{FLAG_CHECKSUM, FLAG_COMPRESSION, LOG_ENTRY_LEN};
use crate::tsql::catalog::snapshot::PRODUCT_VERSION;
use crate::tsql::catalog::table::{
    BIGINT, BIT, DATETIME, GUID, INT, LSN, SIZE, SMALLINT, Spec, TINYINT, char, guid, lsn,
    nvarchar, table, whole,
};
use crate::tsql::value::{DateTime, SqlType, Value};
use crate::tsql::{RestoreKind, ResultSet};

/// The database version SQL Server 2022 writes into its backups.
const DATABASE_VERSION: i64 = 957;
/// Microsoft's software vendor id (0x1200).
const SOFTWARE_VENDOR_ID: i64 = 4608;
/// The device type HEADERONLY shows for `VIRTUAL_DEVICE = 'name'` (a physical virtual device).
const DEVICE_TYPE_VIRTUAL: i64 = 107;
/// The largest size of a data file without a limit (32 TB), in bytes, as FILELISTONLY shows it.
const UNLIMITED_BYTES: i128 = 35_184_372_080_640;

pub const HEADERONLY: &[Spec] = &[
    ("BackupName", nvarchar(128), true),
    ("BackupDescription", nvarchar(255), true),
    ("BackupType", SMALLINT, true),
    ("ExpirationDate", DATETIME, true),
    ("Compressed", BIT, true),
    ("Position", SMALLINT, true),
    ("DeviceType", TINYINT, true),
    ("UserName", nvarchar(128), true),
    ("ServerName", nvarchar(128), true),
    ("DatabaseName", nvarchar(128), true),
    ("DatabaseVersion", INT, true),
    ("DatabaseCreationDate", DATETIME, true),
    ("BackupSize", SIZE, true),
    ("FirstLSN", LSN, true),
    ("LastLSN", LSN, true),
    ("CheckpointLSN", LSN, true),
    ("DatabaseBackupLSN", LSN, true),
    ("BackupStartDate", DATETIME, true),
    ("BackupFinishDate", DATETIME, true),
    ("SortOrder", SMALLINT, true),
    ("CodePage", SMALLINT, true),
    ("UnicodeLocaleId", INT, true),
    ("UnicodeComparisonStyle", INT, true),
    ("CompatibilityLevel", TINYINT, true),
    ("SoftwareVendorId", INT, true),
    ("SoftwareVersionMajor", INT, true),
    ("SoftwareVersionMinor", INT, true),
    ("SoftwareVersionBuild", INT, true),
    ("MachineName", nvarchar(128), true),
    ("Flags", INT, true),
    ("BindingID", GUID, true),
    ("RecoveryForkID", GUID, true),
    ("Collation", nvarchar(128), true),
    ("FamilyGUID", GUID, true),
    ("HasBulkLoggedData", BIT, true),
    ("IsSnapshot", BIT, true),
    ("IsReadOnly", BIT, true),
    ("IsSingleUser", BIT, true),
    ("HasBackupChecksums", BIT, true),
    ("IsDamaged", BIT, true),
    ("BeginsLogChain", BIT, true),
    ("HasIncompleteMetaData", BIT, true),
    ("IsForceOffline", BIT, true),
    ("IsCopyOnly", BIT, true),
    ("FirstRecoveryForkID", GUID, true),
    ("ForkPointLSN", LSN, true),
    ("RecoveryModel", nvarchar(60), true),
    ("DifferentialBaseLSN", LSN, true),
    ("DifferentialBaseGUID", GUID, true),
    ("BackupTypeDescription", nvarchar(60), true),
    ("BackupSetGUID", GUID, true),
    ("CompressedBackupSize", BIGINT, true),
    ("Containment", TINYINT, false),
    ("KeyAlgorithm", nvarchar(32), true),
    ("EncryptorThumbprint", SqlType::VarBinary(Some(20)), true),
    ("EncryptorType", nvarchar(32), true),
    ("LastValidRestoreTime", DATETIME, true),
    ("TimeZone", nvarchar(32), true),
    ("CompressionAlgorithm", nvarchar(32), true),
];

pub const FILELISTONLY: &[Spec] = &[
    ("LogicalName", nvarchar(128), true),
    ("PhysicalName", nvarchar(260), true),
    ("Type", char(1), true),
    ("FileGroupName", nvarchar(128), true),
    ("Size", SIZE, true),
    ("MaxSize", SIZE, true),
    ("FileID", BIGINT, true),
    ("CreateLSN", LSN, true),
    ("DropLSN", LSN, true),
    ("UniqueID", GUID, true),
    ("ReadOnlyLSN", LSN, true),
    ("ReadWriteLSN", LSN, true),
    ("BackupSizeInBytes", BIGINT, true),
    ("SourceBlockSize", INT, true),
    ("FileGroupID", INT, true),
    ("LogGroupGUID", GUID, true),
    ("DifferentialBaseLSN", LSN, true),
    ("DifferentialBaseGUID", GUID, true),
    ("IsReadOnly", BIT, true),
    ("IsPresent", BIT, true),
    ("TDEThumbprint", SqlType::VarBinary(Some(32)), true),
    ("SnapshotURL", nvarchar(360), true),
];

pub const LABELONLY: &[Spec] = &[
    ("MediaName", nvarchar(128), true),
    ("MediaSetId", GUID, true),
    ("FamilyCount", INT, true),
    ("FamilySequenceNumber", INT, true),
    ("MediaFamilyId", GUID, true),
    ("MediaSequenceNumber", INT, true),
    ("MediaLabelPresent", TINYINT, true),
    ("MediaDescription", nvarchar(255), true),
    ("SoftwareName", nvarchar(128), true),
    ("SoftwareVendorId", INT, true),
    ("MediaDate", DATETIME, true),
    ("MirrorCount", INT, true),
    ("IsCompressed", BIT, true),
];

fn text(s: &str) -> Value {
    Value::String(s.to_owned())
}

fn opt_text(s: Option<&str>) -> Value {
    s.filter(|s| !s.is_empty()).map_or(Value::Null, text)
}

fn int(n: i64) -> Value {
    Value::Int(n)
}

fn bit(b: bool) -> Value {
    Value::Bit(b)
}

fn date(d: Option<DateTime>) -> Value {
    d.map_or(Value::Null, |d| {
        Value::DateTime(crate::tsql::value::datetime::round_datetime(d))
    })
}

/// The result set of HEADERONLY, FILELISTONLY or LABELONLY from the first stripe's headers.
pub(super) fn header_result_set(
    kind: RestoreKind,
    h: &StripeHeaders,
    devices: &[String],
    ctx: &JobContext<'_>,
) -> ResultSet {
    match kind {
        RestoreKind::FileListOnly => file_list(h),
        RestoreKind::LabelOnly => label(h),
        _ => header(h, devices, ctx),
    }
}

/// The version parts of `16.0.1000.6`: major, minor, build.
fn software_version() -> (i64, i64, i64) {
    let mut parts = PRODUCT_VERSION.split('.').map(|p| p.parse().unwrap_or(0));
    let mut next = || parts.next().unwrap_or(0);
    (next(), next(), next())
}

/// Bytes of the backup's content: its pages, log records and FILESTREAM data.
fn backup_bytes(h: &StripeHeaders) -> i128 {
    let set = &h.set;
    let log = set.log_record_count * LOG_ENTRY_LEN as u64;
    i128::from(set.page_count * 8192 + log.div_ceil(8192) * 8192 + set.filestream_bytes)
}

fn header(h: &StripeHeaders, _devices: &[String], ctx: &JobContext<'_>) -> ResultSet {
    let set = &h.set;
    let info = &set.info;
    let backup_type = info.backup_type(set.kind);
    let description = match backup_type {
        1 => "Database",
        2 => "Transaction Log",
        4 => "File or filegroup",
        5 => "Database Differential",
        6 => "File Differential",
        7 => "Partial",
        _ => "Partial Differential",
    };
    let checksums = set.flags & FLAG_CHECKSUM != 0;
    let compressed = set.flags & FLAG_COMPRESSION != 0;
    // Flags: 16 checksums, 256 tail-log WITH NORECOVERY, 512 always set by SQL Server 2022,
    // 1024 copy-only (as SQL Server sets them; the bit columns repeat them).
    let flags = 512
        | if checksums { 16 } else { 0 }
        | if info.is_read_only { 4 } else { 0 }
        | if info.is_single_user { 8 } else { 0 }
        | if info.tail { 64 } else { 0 }
        | if info.force_offline { 256 } else { 0 }
        | if info.copy_only { 1024 } else { 0 };
    let (major, minor, build) = software_version();
    let size = backup_bytes(h);
    let recovery = match set.recovery {
        RecoveryModel::Full => "FULL",
        RecoveryModel::Simple => "SIMPLE",
    };
    let server = if info.server_name.is_empty() {
        ctx.server_name().to_owned()
    } else {
        info.server_name.clone()
    };
    let differential = set.kind == BackupKind::Differential;
    let mut rs = table(HEADERONLY);
    rs.rows.push(vec![
        opt_text(Some(&set.backup_name)),
        opt_text(Some(&set.description)),
        int(i64::from(backup_type)),
        date(info.expiration),
        bit(compressed),
        int(1),
        int(DEVICE_TYPE_VIRTUAL),
        opt_text(Some(&info.user_name)),
        text(&server),
        text(&set.database),
        int(DATABASE_VERSION),
        date(info.database_creation_date),
        whole(size),
        whole(i128::from(set.first_lsn)),
        whole(i128::from(set.last_lsn)),
        whole(i128::from(set.checkpoint_lsn)),
        whole(i128::from(info.database_backup_lsn)),
        date(info.start),
        date(info.finish.or(info.start)),
        int(0),
        int(0),
        int(1033),
        int(196_609),
        int(i64::from(info.compatibility_level.max(160))),
        int(SOFTWARE_VENDOR_ID),
        int(major),
        int(minor),
        int(build),
        text(&server),
        int(flags),
        guid(Some(info.database_guid)),
        guid(Some(info.recovery_fork_guid)),
        opt_text(Some(&info.collation)),
        guid(Some(info.family_guid)),
        bit(false),
        bit(false),
        bit(info.is_read_only),
        bit(info.is_single_user),
        bit(checksums),
        bit(false),
        bit(info.begins_log_chain),
        bit(false),
        bit(info.force_offline),
        bit(info.copy_only),
        guid(Some(info.recovery_fork_guid)),
        lsn(None),
        text(recovery),
        if differential {
            whole(i128::from(set.differential_base_lsn))
        } else {
            Value::Null
        },
        if differential {
            guid(info.differential_base_guid)
        } else {
            Value::Null
        },
        text(description),
        guid(Some(info.backup_set_guid)),
        int(i64::try_from(size).unwrap_or(i64::MAX)),
        int(0),
        info.encryption
            .as_deref()
            .map_or(Value::Null, |a| text(&a.to_ascii_lowercase())),
        Value::Null,
        info.encryption
            .as_ref()
            .map_or(Value::Null, |_| text("CERTIFICATE")),
        date(info.last_valid_restore_time),
        text("0"),
        if compressed {
            text("MS_XPRESS")
        } else {
            Value::Null
        },
    ]);
    rs
}

fn file_list(h: &StripeHeaders) -> ResultSet {
    let set = &h.set;
    let info = &set.info;
    let mut rs = table(FILELISTONLY);
    for f in &info.files {
        let letter = match f.kind {
            FileKind::Data => "D",
            FileKind::Log => "L",
            FileKind::Filestream => "S",
        };
        let max_size = match (f.kind, f.max_size_pages) {
            (_, n) if n > 0 => i128::from(n) * 8192,
            (FileKind::Log, _) => 2_199_023_255_552,
            _ => UNLIMITED_BYTES,
        };
        let differential_base = (f.kind != FileKind::Log).then(|| {
            if set.kind == BackupKind::Differential {
                u128::from(set.differential_base_lsn)
            } else {
                u128::from(set.checkpoint_lsn)
            }
        });
        rs.rows.push(vec![
            text(&f.logical_name),
            text(&f.physical_name),
            text(letter),
            f.filegroup.as_deref().map_or(Value::Null, text),
            whole(i128::from(f.size_bytes)),
            whole(max_size),
            int(i64::from(f.file_id)),
            whole(i128::from(f.create_lsn)),
            Value::Null,
            guid(Some(f.unique_id)),
            Value::Null,
            Value::Null,
            int(i64::try_from(present_bytes(f, set.log_record_count)).unwrap_or(i64::MAX)),
            int(4096),
            int(i64::from(f.filegroup_id)),
            Value::Null,
            lsn(differential_base),
            if f.kind == FileKind::Log {
                Value::Null
            } else {
                guid(info.differential_base_guid.or(Some(info.backup_set_guid)))
            },
            bit(f.read_only),
            bit(f.present),
            Value::Null,
            Value::Null,
        ]);
    }
    rs
}

/// The bytes of a file's content in the backup.
fn present_bytes(f: &SqlFile, log_records: u64) -> u64 {
    if !f.present {
        return 0;
    }
    match f.kind {
        FileKind::Data => f.page_count * 8192,
        FileKind::Log => (log_records * LOG_ENTRY_LEN as u64).div_ceil(8192).max(1) * 8192,
        FileKind::Filestream => f.size_bytes,
    }
}

fn label(h: &StripeHeaders) -> ResultSet {
    let media = &h.media;
    let info = &h.set.info;
    let mut family = media.media_set_id;
    family[15] ^= (media.family_index as u8).wrapping_add(1);
    let mut rs = table(LABELONLY);
    rs.rows.push(vec![
        opt_text(info.media_name.as_deref()),
        guid(Some(media.media_set_id)),
        int(i64::from(media.family_count)),
        int(i64::from(media.family_index) + 1),
        guid(Some(family)),
        int(1),
        int(1),
        opt_text(info.media_description.as_deref()),
        text("Microsoft SQL Server"),
        int(SOFTWARE_VENDOR_ID),
        date(info.finish.or(info.start)),
        int(1),
        bit(media.flags & FLAG_COMPRESSION != 0),
    ]);
    rs
}
