//! Messages of the job runner that SQL Server's catalogue does not cover (numbers 59011+,
//! listed in docs/sql-messages.md).

use crate::db::{BackupError, ChainError};
use crate::stream::StreamError;
use crate::tsql::SqlMessage;
use crate::tsql::messages;

const USER_ERROR: u8 = 16;

/// A BACKUP the database refuses (4208, 4214, 3035) with SQL Server's numbers.
pub fn backup_refused(line: u32, e: &BackupError) -> SqlMessage {
    SqlMessage::new(e.msg_number(), USER_ERROR, 1, line, e.to_string())
}

/// A RESTORE chain error with SQL Server's number (3117, 3136, 3154, 4305, 4326, 4334, 4335,
/// 4338). A backup that does not rebuild the state it recorded is damaged media: 3189, then
/// vdisim's 59013 saying what did not match.
pub fn chain_refused(line: u32, e: &ChainError) -> Vec<SqlMessage> {
    if e.is_damage() {
        return vec![
            messages::backup_set_damaged(line),
            SqlMessage::new(59013, USER_ERROR, 1, line, e.to_string()),
        ];
    }
    vec![SqlMessage::new(
        e.msg_number(),
        USER_ERROR,
        1,
        line,
        e.to_string(),
    )]
}

/// The server side vanished in the middle of a job (a crash injected by the harness).
pub fn crashed(line: u32) -> SqlMessage {
    SqlMessage::new(
        59019,
        USER_ERROR,
        1,
        line,
        "vdisim: the server crashed during the operation (injected fault)".to_string(),
    )
}

/// 6005 (level 10, SQL Server's text): the server is stopping; the job it stopped ends with it,
/// then 3013.
pub fn shutdown_in_progress(line: u32) -> SqlMessage {
    SqlMessage::new(6005, 10, 1, line, "SHUTDOWN is in progress.")
}

/// Why a job stopped before its end: the server's shutdown (6005), or the client's cancel or
/// disconnect (3204).
pub fn stopped(line: u32, shutting_down: bool) -> SqlMessage {
    if shutting_down {
        shutdown_in_progress(line)
    } else {
        messages::operation_aborted(line)
    }
}

/// After 3201: the buffer region's unguessable name was taken by an object this server did not
/// create (decision 54). Nothing was written to it.
pub fn buffer_region_squatted(line: u32, set: &str) -> SqlMessage {
    SqlMessage::new(
        59020,
        USER_ERROR,
        1,
        line,
        format!(
            "The shared-memory buffer region for virtual device set '{set}' already exists and \
             was not created by this server (VD_E_SECURITY, VDI-SRV-CONFIG-009); it was not used \
             and nothing was written to it."
        ),
    )
}

/// After 3201: a VIRTUAL_DEVICE name no client can ever create (empty, longer than 128 bytes
/// for the set, 256 for another device, or holding a backslash or NUL).
pub fn impossible_device_name(line: u32, reason: &str) -> SqlMessage {
    SqlMessage::new(
        59021,
        USER_ERROR,
        1,
        line,
        format!("The virtual device name can never name a virtual device set: {reason}."),
    )
}

/// An internal error of the job runner (a bug: reported, never a panic).
pub fn internal(line: u32, detail: &str) -> SqlMessage {
    SqlMessage::new(
        59011,
        USER_ERROR,
        1,
        line,
        format!("vdisim internal error: {detail}"),
    )
}

/// 3202 for a Write the client completed with ERROR_SUCCESS but fewer bytes than asked.
pub fn short_write(line: u32, device: &str, written: u32, asked: u32) -> SqlMessage {
    SqlMessage::new(
        3202,
        USER_ERROR,
        1,
        line,
        format!(
            "Write on \"{device}\" failed: the client completed the write with {written} of {asked} bytes."
        ),
    )
}

/// The messages for damaged or malformed backup media: SQL Server's number for the kind of
/// damage, then the exact place (device and byte offset) where it was found.
pub fn stream_damage(line: u32, devices: &[String], e: &StreamError) -> Vec<SqlMessage> {
    let device = e
        .stripe()
        .and_then(|s| devices.get(usize::from(s)))
        .map_or(devices[0].as_str(), String::as_str);
    let first = match e {
        StreamError::MissingFamily { family_count, .. } => {
            messages::media_families_missing(line, usize::from(*family_count), devices.len())
        }
        StreamError::WrongFamily { .. }
        | StreamError::DuplicateFamily { .. }
        | StreamError::MediaSetMismatch { .. } => {
            messages::media_family_incorrectly_formed(line, device)
        }
        StreamError::BadMagic { offset: 0, .. } => messages::not_a_backup_set(line, device),
        StreamError::Truncated { .. }
        | StreamError::TrailingData { .. }
        | StreamError::TrailerMismatch { .. } => {
            messages::backup_data_incorrectly_formatted(line, device)
        }
        _ => messages::backup_set_damaged(line),
    };
    let place = match (e.stripe(), e.offset()) {
        (Some(_), Some(offset)) => {
            format!("Damage found on device '{device}' at byte offset {offset}: {e}.")
        }
        _ => format!("Damage found in the backup set: {e}."),
    };
    vec![first, SqlMessage::new(59012, USER_ERROR, 1, line, place)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_families_name_the_media_set_and_the_devices_given() {
        let devices: Vec<String> = vec!["a".into(), "b".into()];
        let e = StreamError::MissingFamily {
            family: 2,
            family_count: 4,
        };
        let first = &stream_damage(1, &devices, &e)[0];
        assert_eq!(first.number, 3132);
        assert_eq!(
            first.text,
            "The media set has 4 media families but only 2 are provided. All members must be provided."
        );
    }
}
