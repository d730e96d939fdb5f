//! Content digests, to compare a restored database with the state that was backed up.

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::Xxh3;

use super::Database;
use super::page::{self, FS_CHUNK, PAGE_SIZE};

/// Per-page and per-file digests of a database's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseDigest {
    /// xxh3-64 of (version, bytes) of every page, by page number.
    pub pages: Vec<u64>,
    /// xxh3-64 of every FILESTREAM file, by container then file.
    pub filestream: Vec<Vec<u64>>,
}

/// The first place where two databases differ.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Difference {
    /// Different data file sizes.
    #[error("page counts differ: {left} vs {right}")]
    PageCount {
        /// Pages on the left.
        left: u64,
        /// Pages on the right.
        right: u64,
    },
    /// The first page whose content differs.
    #[error("page {page} differs")]
    Page {
        /// Page number.
        page: u64,
    },
    /// Different numbers of FILESTREAM containers.
    #[error("FILESTREAM container counts differ: {left} vs {right}")]
    ContainerCount {
        /// Containers on the left.
        left: usize,
        /// Containers on the right.
        right: usize,
    },
    /// Different file counts in a container.
    #[error("FILESTREAM container {container} has {left} vs {right} files")]
    FileCount {
        /// Container index.
        container: usize,
        /// Files on the left.
        left: usize,
        /// Files on the right.
        right: usize,
    },
    /// The first FILESTREAM file whose content differs.
    #[error("FILESTREAM container {container} file {file} differs")]
    FsFile {
        /// Container index.
        container: usize,
        /// File index.
        file: usize,
    },
}

impl DatabaseDigest {
    /// Digests `db` (this regenerates every page once).
    #[must_use]
    pub fn of(db: &Database) -> Self {
        let mut buf = vec![0u8; PAGE_SIZE];
        let key = db.content_key();
        let pages = db
            .page_versions()
            .iter()
            .enumerate()
            .map(|(p, &v)| {
                page::fill_page(key, p as u64, v, &mut buf);
                page::page_digest(v, &buf)
            })
            .collect();
        let filestream = db
            .filestream()
            .iter()
            .enumerate()
            .map(|(c, container)| {
                container
                    .files
                    .iter()
                    .enumerate()
                    .map(|(f, file)| {
                        let fkey = page::fs_file_key(key, c as u16, f as u32);
                        let mut h = Xxh3::with_seed(u64::from(file.version) ^ file.size);
                        let mut off = 0u64;
                        let mut chunk = 0u64;
                        while off < file.size {
                            let n = (file.size - off).min(FS_CHUNK as u64) as usize;
                            page::fill_fs_chunk(fkey, file.version, chunk, &mut buf[..n]);
                            h.update(&buf[..n]);
                            off += n as u64;
                            chunk += 1;
                        }
                        h.digest()
                    })
                    .collect()
            })
            .collect();
        DatabaseDigest { pages, filestream }
    }

    /// One number summarising the whole digest.
    #[must_use]
    pub fn combined(&self) -> u64 {
        let mut h = Xxh3::new();
        for d in &self.pages {
            h.update(&d.to_le_bytes());
        }
        for c in &self.filestream {
            h.update(&(c.len() as u64).to_le_bytes());
            for d in c {
                h.update(&d.to_le_bytes());
            }
        }
        h.digest()
    }

    /// The first difference between `self` and `other`, if any.
    #[must_use]
    pub fn first_difference(&self, other: &DatabaseDigest) -> Option<Difference> {
        if self.pages.len() != other.pages.len() {
            return Some(Difference::PageCount {
                left: self.pages.len() as u64,
                right: other.pages.len() as u64,
            });
        }
        if let Some(page) = self
            .pages
            .iter()
            .zip(&other.pages)
            .position(|(a, b)| a != b)
        {
            return Some(Difference::Page { page: page as u64 });
        }
        if self.filestream.len() != other.filestream.len() {
            return Some(Difference::ContainerCount {
                left: self.filestream.len(),
                right: other.filestream.len(),
            });
        }
        for (container, (a, b)) in self.filestream.iter().zip(&other.filestream).enumerate() {
            if a.len() != b.len() {
                return Some(Difference::FileCount {
                    container,
                    left: a.len(),
                    right: b.len(),
                });
            }
            if let Some(file) = a.iter().zip(b).position(|(x, y)| x != y) {
                return Some(Difference::FsFile { container, file });
            }
        }
        None
    }
}
