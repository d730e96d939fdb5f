//! Writes a set's transcript as JSON lines (`VDISIM_TRANSCRIPT=path`).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use vdi_proto::Event;

/// An append-only JSON-lines file.
#[derive(Debug)]
pub(crate) struct TranscriptFile {
    path: PathBuf,
    out: BufWriter<File>,
}

impl TranscriptFile {
    pub(crate) fn open(path: &Path) -> std::io::Result<TranscriptFile> {
        let file = File::options().create(true).append(true).open(path)?;
        Ok(TranscriptFile {
            path: path.to_owned(),
            out: BufWriter::new(file),
        })
    }

    /// The file named by `VDISIM_TRANSCRIPT`, if set and writable.
    pub(crate) fn from_env() -> Option<TranscriptFile> {
        let path = std::env::var_os("VDISIM_TRANSCRIPT")?;
        match TranscriptFile::open(Path::new(&path)) {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!(
                    "vdisim: cannot write transcript {}: {e}",
                    Path::new(&path).display()
                );
                None
            }
        }
    }

    pub(crate) fn write(&mut self, event: &Event) {
        // A transcript that cannot be written must not break the backup; report once at flush.
        let _ = writeln!(self.out, "{}", event.to_json_line());
    }

    pub(crate) fn flush(&mut self) {
        if let Err(e) = self.out.flush() {
            eprintln!(
                "vdisim: cannot write transcript {}: {e}",
                self.path.display()
            );
        }
    }
}
