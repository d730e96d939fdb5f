//! The end of SQL Server 2022's T-SQL snapshot backup: `BACKUP DATABASE … TO VIRTUAL_DEVICE
//! = '…' WITH METADATA_ONLY` (or SNAPSHOT) on a database suspended by `ALTER DATABASE … SET
//! SUSPEND_FOR_SNAPSHOT_BACKUP = ON`. The image was presented at the suspend; the backup writes
//! the metadata (the same frames as a VDI snapshot, with no PrepareToFreeze or VDC_Snapshot:
//! the client took its snapshot before it sent the BACKUP), then thaws the database.

use super::backup::{Snapshotted, Thaw, finish};
use super::io::{self, Failed};
use super::{Prologue, encode_frame};
use crate::engine::jobs::{JobContext, JobResult, fail};
use crate::engine::sink::OutputSink;
use crate::engine::snapshot_sql::{released_suspend_locks, resumed};
use crate::engine::{FreezeKind, Frozen as EngineFrozen};
use crate::jobs::messages as job_messages;
use crate::jobs::session::{DeviceSession, JobOptions, SessionSpec, device_error};
use crate::tsql::messages;
use crate::tsql::{BackupStatement, SqlMessage};
use crate::vdi::link::ServerConnector;
use std::sync::Arc;

pub(super) fn metadata_only(
    ctx: &JobContext<'_>,
    stmt: &BackupStatement,
    sink: &mut dyn OutputSink,
    connector: Arc<dyn ServerConnector>,
    options: &JobOptions,
    suspended: EngineFrozen,
) -> JobResult {
    let line = ctx.line();
    let operation = stmt.operation();
    let terminate = |mut errors: Vec<SqlMessage>| {
        errors.push(messages::terminating_abnormally(line, operation));
        errors
    };
    let database = suspended.database.clone();
    let copy_only =
        stmt.options.copy_only || suspended.kind == (FreezeKind::Suspend { copy_only: true });
    let spec =
        SessionSpec::from_statement(line, &stmt.devices, &stmt.options.transfer, false, options);
    let mut session = match DeviceSession::open(connector, options, &spec, &|| ctx.is_cancelled()) {
        Ok(s) => s,
        Err(errors) => return fail(sink, terminate(errors)),
    };
    let device = stmt.devices[0].clone();
    let image_path = super::image_path(&options.volumes, &database);
    let written = (|| -> Result<super::Frozen, Vec<SqlMessage>> {
        let block = session.config.block_size.max(512) as usize;
        let db = ctx
            .snapshot(&database)
            .ok_or_else(|| vec![messages::database_does_not_exist(line, &database)])?;
        let prologue = Prologue {
            database: database.clone(),
            server: ctx.server_name().to_owned(),
            files: db
                .files()
                .into_iter()
                .map(|f| (f.logical_name, f.physical_name))
                .collect(),
        };
        let frozen = super::freeze_image(ctx, stmt, &database, copy_only, &image_path)?;
        let mut data = encode_frame(1, &serde_json::to_vec(&prologue).unwrap_or_default(), block);
        data.extend(encode_frame(
            2,
            &serde_json::to_vec(&frozen).unwrap_or_default(),
            block,
        ));
        let mut position = 0;
        io::write_all(
            ctx,
            &mut session,
            &mut position,
            &data,
            options.completion_patience,
            None,
        )
        .map_err(|f| match f {
            Failed::Code(code) => vec![device_error(line, &device, false, code)],
            _ => vec![job_messages::stopped(line, ctx.engine().is_shutting_down())],
        })?;
        Ok(frozen)
    })();
    let frozen = match written {
        Ok(f) => f,
        Err(errors) => {
            // The database stays suspended: the DBA's tooling decides (SQL Server keeps it
            // suspended after a failed METADATA_ONLY backup too).
            session.abort();
            return fail(sink, terminate(errors));
        }
    };
    let mut thaw = Thaw::new(ctx.engine(), &database, Some(image_path));
    let held = thaw.thaw();
    sink.message(released_suspend_locks(line, &database, ctx.session_id()));
    sink.message(resumed(
        line,
        &database,
        suspended.session,
        ctx.session_id(),
    ));
    finish(
        ctx,
        stmt,
        sink,
        session,
        options,
        Snapshotted {
            meta: frozen.meta,
            held,
        },
    )
}
