//! The real BACKUP/RESTORE jobs: what SQL Server does on its side of a virtual device set,
//! plugged into the session engine through [`crate::engine::jobs::VdiJobs`].

mod backup;
mod faults;
mod messages;
mod restore;
mod session;
mod snapshot;

pub use faults::{
    Crash, FaultPoint, JobFaults, JobTrace, ReadSize, TimedEvent, TraceEvent, kill_this_process,
};
pub use session::{HeadersOnlyEnd, JobOptions, default_buffer_count, volumes_beside};
pub use snapshot::{DEFAULT_MAX_FREEZE, IMAGE_FILE, image_path, present_image};

use crate::engine::jobs::{JobContext, JobResult, VdiJobs};
use crate::engine::sink::OutputSink;
use crate::tsql::{BackupStatement, RestoreStatement};
use crate::vdi::link::ServerConnector;
use std::sync::{Arc, Mutex, PoisonError};

/// BACKUP and RESTORE over virtual device sets found through a connector (shared memory in
/// the daemon).
#[derive(Debug)]
pub struct VdiJobRunner {
    connector: Arc<dyn ServerConnector>,
    options: Mutex<JobOptions>,
    restoring: restore::Restoring,
}

impl VdiJobRunner {
    /// A runner over `connector` with `options`.
    pub fn new(connector: Arc<dyn ServerConnector>, options: JobOptions) -> VdiJobRunner {
        VdiJobRunner {
            connector,
            options: Mutex::new(options),
            restoring: Default::default(),
        }
    }

    /// Replaces the options of the jobs that start from now on (the conformance harness arms
    /// each case's scenario this way; NORECOVERY sequences in progress are kept).
    pub fn arm(&self, options: JobOptions) {
        *self.options.lock().unwrap_or_else(PoisonError::into_inner) = options;
    }

    fn options(&self) -> JobOptions {
        self.options
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// A runner over POSIX shared memory with the default options.
    pub fn shared_memory() -> VdiJobRunner {
        VdiJobRunner::new(
            Arc::new(crate::vdi::shm::ShmServerConnector::from_env()),
            JobOptions::default(),
        )
    }
}

impl VdiJobs for VdiJobRunner {
    fn snapshot_volumes(&self) -> Option<std::path::PathBuf> {
        Some(self.options().volumes)
    }

    fn max_freeze(&self) -> Option<std::time::Duration> {
        Some(self.options().max_freeze)
    }

    fn restoring_databases(&self) -> Vec<String> {
        self.restoring
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(_, pending)| !pending.standby)
            .map(|(name, _)| name.clone())
            .collect()
    }

    fn backup(
        &self,
        ctx: &JobContext<'_>,
        stmt: &BackupStatement,
        sink: &mut dyn OutputSink,
    ) -> JobResult {
        if stmt.options.snapshot {
            return snapshot::backup(
                ctx,
                stmt,
                sink,
                self.connector.clone(),
                &self.options(),
                &self.restoring,
            );
        }
        backup::run(
            ctx,
            stmt,
            sink,
            self.connector.clone(),
            &self.options(),
            &self.restoring,
        )
    }

    fn restore(
        &self,
        ctx: &JobContext<'_>,
        stmt: &RestoreStatement,
        sink: &mut dyn OutputSink,
    ) -> JobResult {
        if stmt.options.snapshot {
            return snapshot::restore(
                ctx,
                stmt,
                sink,
                self.connector.clone(),
                &self.options(),
                &self.restoring,
            );
        }
        restore::run(
            ctx,
            stmt,
            sink,
            self.connector.clone(),
            &self.options(),
            &self.restoring,
        )
    }
}
