//! `RESTORE DATABASE … FROM VIRTUAL_DEVICE = '…' WITH SNAPSHOT` (vdi-facts §8.4): the
//! metadata through VDC_Read, then VDC_MountSnapshot asks the client to present the files it
//! captured. The presented image is checked byte for byte against the metadata, the backup's
//! checkpoint is replayed on it, and the result goes into the restore sequence as a full
//! backup would: REPLACE, MOVE, NORECOVERY, then differentials and logs on top.

use super::io::{self, Failed, Outcome, Stop};
use super::{Frozen, decode_frames, mounted_files_differ, one_device_only, replay};
use crate::engine::jobs::{JobContext, JobResult, check_restore, fail};
use crate::engine::sink::OutputSink;
use crate::jobs::messages as job_messages;
use crate::jobs::restore::{Restoring, restore_image};
use crate::jobs::session::{DeviceSession, JobOptions, SessionSpec, device_error};
use crate::tsql::messages;
use crate::tsql::{RestoreKind, RestoreStatement, SqlMessage};
use crate::vdi::link::ServerConnector;
use std::sync::Arc;
use vdi_proto::{VdcCode, win32};

/// The most metadata a snapshot RESTORE reads before it gives up on the device.
const METADATA_LIMIT: usize = 64 << 20;

pub(crate) fn run(
    ctx: &JobContext<'_>,
    stmt: &RestoreStatement,
    sink: &mut dyn OutputSink,
    connector: Arc<dyn ServerConnector>,
    options: &JobOptions,
    restoring: &Restoring,
) -> JobResult {
    let line = ctx.line();
    let operation = stmt.operation();
    let terminate = |mut errors: Vec<SqlMessage>| {
        errors.push(messages::terminating_abnormally(line, operation));
        errors
    };
    if let Err(errors) = check_restore(ctx, stmt) {
        return fail(sink, errors);
    }
    if stmt.kind != RestoreKind::Database || stmt.devices.len() != 1 {
        return fail(sink, terminate(vec![one_device_only(line)]));
    }
    let target = stmt.database.clone().unwrap_or_default();
    let _guard = match ctx.serialize_operation(&target) {
        Ok(g) => g,
        Err(m) => return fail(sink, terminate(vec![m])),
    };
    let spec =
        SessionSpec::from_statement(line, &stmt.devices, &stmt.options.transfer, true, options);
    let mut session = match DeviceSession::open(connector, options, &spec, &|| ctx.is_cancelled()) {
        Ok(s) => s,
        Err(_) if ctx.engine().is_shutting_down() => {
            return fail(sink, terminate(vec![job_messages::stopped(line, true)]));
        }
        Err(errors) => return fail(sink, terminate(errors)),
    };
    let image = match mount(ctx, stmt, &mut session, options, &target) {
        Ok(image) => image,
        Err(errors) => {
            session.abort();
            return fail(sink, terminate(errors));
        }
    };
    if let Err(e) = session.finish(&[false]) {
        let m = device_error(line, &stmt.devices[0], true, e.code.hresult());
        return fail(sink, terminate(vec![m]));
    }
    ctx.log(&format!(
        "snapshot RESTORE of {} into {target}: image mounted and verified",
        image.meta.database
    ));
    restore_image(ctx, stmt, sink, restoring, image)
}

/// The metadata, VDC_MountSnapshot, and the presented image checked against the metadata.
fn mount(
    ctx: &JobContext<'_>,
    stmt: &RestoreStatement,
    session: &mut DeviceSession,
    options: &JobOptions,
    target: &str,
) -> Result<crate::db::BackupImage, Vec<SqlMessage>> {
    let line = ctx.line();
    let device = stmt.devices[0].as_str();
    let patience = options.completion_patience;
    let failed = |f: Failed| -> Vec<SqlMessage> {
        match f {
            Failed::Stopped(Stop::Cancelled) => {
                vec![job_messages::stopped(line, ctx.engine().is_shutting_down())]
            }
            Failed::Stopped(_) => vec![device_error(line, device, true, 1460)],
            Failed::Code(code) => vec![device_error(line, device, true, code)],
            Failed::Short(..) | Failed::NoBuffer => {
                vec![job_messages::internal(line, "no buffer for the metadata")]
            }
        }
    };
    let block = session.config.block_size.max(512) as usize;
    let data = io::read_to_end(ctx, session, patience, METADATA_LIMIT).map_err(failed)?;
    let not_snapshot = |detail: String| {
        ctx.log(&format!("no snapshot metadata on {device}: {detail}"));
        vec![messages::not_a_backup_set(line, device)]
    };
    let frames = decode_frames(&data, block).map_err(not_snapshot)?;
    let frozen: Frozen = frames
        .iter()
        .find(|(part, _)| *part == 2)
        .ok_or_else(|| "the frozen state (part 2) is missing".to_owned())
        .and_then(|(_, json)| serde_json::from_slice(json).map_err(|e| e.to_string()))
        .map_err(not_snapshot)?;
    match io::control(ctx, session, VdcCode::MountSnapshot, patience, None) {
        Outcome::Done(done) if done.completion_code == win32::ERROR_SUCCESS => {}
        Outcome::Done(done) => return Err(failed(Failed::Code(done.completion_code))),
        Outcome::Stopped(s) => return Err(failed(Failed::Stopped(s))),
    }
    let path = super::image_path(&options.volumes, target);
    let mounted =
        std::fs::read(&path).map_err(|e| vec![super::cannot_open_file(line, &path, &e)])?;
    // The mounted files are consumed: the database now lives in the catalog.
    let _ = std::fs::remove_file(&path);
    replay(&mounted, &frozen).map_err(|detail| {
        vec![
            messages::backup_set_damaged(line),
            mounted_files_differ(line, &frozen.meta.database, &detail),
        ]
    })
}
