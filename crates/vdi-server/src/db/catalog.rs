//! The server's databases by name, optionally persisted to a data directory.
//!
//! Persistence stores metadata and page versions as JSON (`<name>.vdb.json`); page content is
//! re-derived, so even the 256 MiB default database takes about 1 MB on disk.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use tsql::catalog::DatabaseInfo;
use tsql::value::DateTime;

use super::{Database, RecoveryModel};

const FILE_SUFFIX: &str = ".vdb.json";
/// Names longer than this are refused (SQL Server's sysname limit).
pub const MAX_NAME_CHARS: usize = 128;

/// The largest database [`Catalog::create`] accepts (16 GiB: 24 MiB of page tables).
pub const MAX_DATABASE_BYTES: u64 = 16 << 30;

/// Errors of catalog operations, with the engine's message numbers.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// Msg 1801.
    #[error("Database '{name}' already exists. Choose a different database name.")]
    AlreadyExists {
        /// The name asked for.
        name: String,
    },
    /// Msg 911.
    #[error("Database '{name}' does not exist. Make sure that the name is entered correctly.")]
    NotFound {
        /// The name asked for.
        name: String,
    },
    /// Msg 3154: RESTORE over an existing database without WITH REPLACE.
    #[error(
        "The backup set holds a backup of a database other than the existing '{name}' database."
    )]
    ExistsWithoutReplace {
        /// The existing database.
        name: String,
    },
    /// Msg 1842 class: a size beyond [`MAX_DATABASE_BYTES`].
    #[error("database '{name}': size {size_bytes} bytes exceeds the emulator's limit")]
    TooLarge {
        /// The name asked for.
        name: String,
        /// The size asked for.
        size_bytes: u64,
    },
    /// Msg 15 class: an unusable name.
    #[error("invalid database name {name:?}")]
    InvalidName {
        /// The name asked for.
        name: String,
    },
    /// Reading or writing the data directory failed.
    #[error("data directory I/O on {path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A persisted database could not be decoded.
    #[error("corrupt catalog file {path}: {reason}")]
    Corrupt {
        /// The file involved.
        path: PathBuf,
        /// The decoder's message.
        reason: String,
    },
}

impl CatalogError {
    /// SQL Server's message number, where there is one.
    #[must_use]
    pub fn msg_number(&self) -> Option<u32> {
        match self {
            CatalogError::AlreadyExists { .. } => Some(1801),
            CatalogError::NotFound { .. } => Some(911),
            CatalogError::ExistsWithoutReplace { .. } => Some(3154),
            CatalogError::InvalidName { .. } => Some(15),
            CatalogError::TooLarge { .. } => Some(1842),
            CatalogError::Io { .. } | CatalogError::Corrupt { .. } => None,
        }
    }
}

/// Named databases (names compare case-insensitively, as in a default SQL Server collation).
#[derive(Debug, Default)]
pub struct Catalog {
    dbs: BTreeMap<String, Database>,
    /// The content of master, model and msdb, made when first backed up. Only BACKUP and
    /// RESTORE see it (the catalog views show the engine's system rows); it is not persisted.
    system: BTreeMap<String, Database>,
    data_dir: Option<PathBuf>,
}

/// The system databases that can be backed up, their sizes and recovery models (SQL
/// Server's defaults: master and msdb SIMPLE, model FULL). tempdb cannot be backed up.
const BACKED_UP_SYSTEM_DATABASES: [(&str, u64, RecoveryModel); 3] = [
    ("master", 4 << 20, RecoveryModel::Simple),
    ("model", 8 << 20, RecoveryModel::Full),
    ("msdb", 16 << 20, RecoveryModel::Simple),
];

fn system_entry(name: &str) -> Option<(&'static str, u64, RecoveryModel)> {
    BACKED_UP_SYSTEM_DATABASES
        .iter()
        .find(|(n, ..)| n.eq_ignore_ascii_case(name))
        .copied()
}

fn key(name: &str) -> String {
    name.to_lowercase()
}

/// The longest encoded name kept whole in a file name (Linux allows 255 bytes in all).
const MAX_ENCODED_NAME: usize = 200;

/// The data-directory file of a database: its (lower-cased) name with every byte other than
/// `[A-Za-z0-9_-]` as `%XX`. A name whose encoding is too long for a file name (128 characters
/// of non-ASCII text need up to 1,536) keeps its first part and adds a hash of the whole, so
/// every legal name has a file. Loading reads the name from the file's content.
fn file_name(name: &str) -> String {
    let mut s = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            s.push(char::from(b));
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    if s.len() > MAX_ENCODED_NAME {
        let hash = xxhash_rust::xxh3::xxh3_128(name.as_bytes());
        s.truncate(MAX_ENCODED_NAME - 34);
        s.push_str(&format!("~{hash:032x}"));
    }
    s.push_str(FILE_SUFFIX);
    s
}

fn check_name(name: &str) -> Result<(), CatalogError> {
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(CatalogError::InvalidName {
            name: name.to_owned(),
        });
    }
    Ok(())
}

impl Catalog {
    /// An empty in-memory catalog.
    #[must_use]
    pub fn new() -> Self {
        Catalog::default()
    }

    /// An in-memory catalog with the default databases: `pubs` (4 MiB, SIMPLE) and
    /// `AdventureWorks` (256 MiB, FULL, two FILESTREAM containers).
    #[must_use]
    pub fn with_defaults() -> Self {
        let mut c = Catalog::new();
        for db in Self::default_databases() {
            c.dbs.insert(key(db.name()), db);
        }
        c.assign_database_ids(crate::engine::datetime_now());
        c
    }

    /// The default databases.
    #[must_use]
    pub fn default_databases() -> Vec<Database> {
        vec![
            Database::new("pubs", 0x7075_6273, 4 << 20, RecoveryModel::Simple, 0),
            Database::new(
                "AdventureWorks",
                0x4144_5657,
                256 << 20,
                RecoveryModel::Full,
                2,
            ),
        ]
    }

    /// Opens a persisted catalog, creating the directory and the default databases if it holds
    /// none.
    pub fn open(data_dir: &Path) -> Result<Self, CatalogError> {
        let io = |source| CatalogError::Io {
            path: data_dir.to_owned(),
            source,
        };
        create_private_dir(data_dir).map_err(io)?;
        let mut c = Catalog {
            dbs: BTreeMap::new(),
            system: BTreeMap::new(),
            data_dir: Some(data_dir.to_owned()),
        };
        for entry in fs::read_dir(data_dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            let is_db = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(FILE_SUFFIX));
            if !is_db {
                continue;
            }
            let text = fs::read_to_string(&path).map_err(|source| CatalogError::Io {
                path: path.clone(),
                source,
            })?;
            let db: Database = serde_json::from_str(&text).map_err(|e| CatalogError::Corrupt {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            db.validate().map_err(|reason| CatalogError::Corrupt {
                path: path.clone(),
                reason: reason.to_owned(),
            })?;
            c.dbs.insert(key(db.name()), db);
        }
        if c.dbs.is_empty() {
            for db in Self::default_databases() {
                c.insert_and_save(db)?;
            }
        }
        c.assign_database_ids(crate::engine::datetime_now());
        Ok(c)
    }

    /// The data directory, if persistent.
    #[must_use]
    pub fn data_dir(&self) -> Option<&Path> {
        self.data_dir.as_deref()
    }

    /// CREATE DATABASE.
    pub fn create(
        &mut self,
        name: &str,
        size_bytes: u64,
        recovery: RecoveryModel,
        filestream_containers: u16,
    ) -> Result<&mut Database, CatalogError> {
        check_name(name)?;
        if size_bytes > MAX_DATABASE_BYTES {
            return Err(CatalogError::TooLarge {
                name: name.to_owned(),
                size_bytes,
            });
        }
        if self.dbs.contains_key(&key(name)) {
            return Err(CatalogError::AlreadyExists {
                name: name.to_owned(),
            });
        }
        let seed = xxhash_rust::xxh3::xxh3_64(name.as_bytes());
        let db = Database::new(name, seed, size_bytes, recovery, filestream_containers);
        self.insert_and_save(db)
    }

    /// DROP DATABASE. (Not named `drop`: through a `MutexGuard` that would resolve to
    /// `Drop::drop`.)
    /// The database stays in the catalog if its file cannot be removed.
    pub fn drop_database(&mut self, name: &str) -> Result<Database, CatalogError> {
        if !self.dbs.contains_key(&key(name)) {
            return Err(CatalogError::NotFound {
                name: name.to_owned(),
            });
        }
        if let Some(dir) = &self.data_dir {
            let path = dir.join(file_name(&key(name)));
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(CatalogError::Io { path, source }),
            }
        }
        Ok(self.dbs.remove(&key(name)).expect("checked above"))
    }

    /// Looks a database up by name.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Database> {
        self.dbs.get(&key(name))
    }

    /// A database BACKUP and RESTORE can work on: a user database, or master, model or msdb
    /// (their content made on first use).
    pub fn backup_target_mut(&mut self, name: &str) -> Option<&mut Database> {
        if let Some((canonical, size, recovery)) = system_entry(name) {
            let seed = xxhash_rust::xxh3::xxh3_64(canonical.as_bytes());
            return Some(
                self.system
                    .entry(canonical.to_owned())
                    .or_insert_with(|| Database::new(canonical, seed, size, recovery, 0)),
            );
        }
        self.dbs.get_mut(&key(name))
    }

    /// [`Catalog::backup_target_mut`] without making anything.
    #[must_use]
    pub fn backup_target(&self, name: &str) -> Option<&Database> {
        match system_entry(name) {
            Some((canonical, ..)) => self.system.get(canonical),
            None => self.dbs.get(&key(name)),
        }
    }

    /// Looks a database up by name, for changes; call [`Catalog::save`] afterwards to persist.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Database> {
        self.dbs.get_mut(&key(name))
    }

    /// All databases, ordered by name.
    pub fn list(&self) -> impl Iterator<Item = &Database> {
        self.dbs.values()
    }

    /// Installs a restored database under its name; an existing database is replaced only with
    /// `replace` (RESTORE ... WITH REPLACE).
    pub fn install_restored(&mut self, db: Database, replace: bool) -> Result<(), CatalogError> {
        check_name(db.name())?;
        if let Some((canonical, ..)) = system_entry(db.name()) {
            let mut db = db;
            db.set_name(canonical);
            self.system.insert(canonical.to_owned(), db);
            return Ok(());
        }
        if !replace && self.dbs.contains_key(&key(db.name())) {
            return Err(CatalogError::ExistsWithoutReplace {
                name: db.name().to_owned(),
            });
        }
        self.insert_and_save(db).map(|_| ())
    }

    /// Writes one database to the data directory (no-op in memory, and for the system
    /// databases).
    pub fn save(&self, name: &str) -> Result<(), CatalogError> {
        if system_entry(name).is_some() {
            return Ok(());
        }
        let db = self.get(name).ok_or_else(|| CatalogError::NotFound {
            name: name.to_owned(),
        })?;
        let Some(dir) = &self.data_dir else {
            return Ok(());
        };
        let path = dir.join(file_name(&key(name)));
        let tmp = path.with_extension("tmp");
        let text = serde_json::to_string(db).map_err(|e| CatalogError::Corrupt {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        write_private(&tmp, text.as_bytes()).map_err(|source| CatalogError::Io {
            path: tmp.clone(),
            source,
        })?;
        fs::rename(&tmp, &path).map_err(|source| CatalogError::Io { path, source })
    }

    /// Gives every database without SQL metadata (a new one, or one from a data directory
    /// written before the metadata existed) its own, with the next free `database_id`.
    pub fn assign_database_ids(&mut self, now: DateTime) {
        let mut next = self.next_database_id();
        for db in self.dbs.values_mut() {
            if !db.has_sql_info() {
                db.set_sql_info(DatabaseInfo::new(next, db.name(), now));
                next += 1;
            }
        }
    }

    /// The id the next new database gets: one past the highest, never a system database's.
    #[must_use]
    pub fn next_database_id(&self) -> i32 {
        self.dbs
            .values()
            .filter(|d| d.has_sql_info())
            .map(|d| d.sql_info().database_id)
            .max()
            .unwrap_or(4)
            .max(4)
            + 1
    }

    fn insert_and_save(&mut self, mut db: Database) -> Result<&mut Database, CatalogError> {
        if !db.has_sql_info() {
            let id = self
                .get(db.name())
                .filter(|d| d.has_sql_info())
                .map_or_else(|| self.next_database_id(), |d| d.sql_info().database_id);
            let info = DatabaseInfo::new(id, db.name(), crate::engine::datetime_now());
            db.set_sql_info(info);
        }
        let k = key(db.name());
        let name = db.name().to_owned();
        let previous = self.dbs.insert(k.clone(), db);
        if let Err(e) = self.save(&name) {
            // DDL is atomic: a database that could not be written is not there either.
            match previous {
                Some(old) => self.dbs.insert(k, old),
                None => self.dbs.remove(&k),
            };
            return Err(e);
        }
        Ok(self.dbs.get_mut(&k).expect("just inserted"))
    }
}

/// Creates the data directory if it is missing, mode 0700 whatever the umask (an existing one
/// keeps its mode: it is the user's).
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
}

/// Writes a database file readable by the server's user only (0600, whatever the umask or the
/// mode of a file left there before).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.set_permissions(fs::Permissions::from_mode(0o600))?;
    file.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "vdisim-catalog-{tag}-{}-{:x}",
            std::process::id(),
            fastrand::u64(..)
        ));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn names_of_128_characters_of_any_kind_persist_and_come_back() {
        let dir = temp_dir("names");
        let names = [
            "a".repeat(MAX_NAME_CHARS),
            "Ü ñ 数据 ".chars().cycle().take(MAX_NAME_CHARS).collect(),
            format!("{}/..{}", "x".repeat(60), "%".repeat(65)),
        ];
        {
            let mut c = Catalog::open(&dir).unwrap();
            for n in &names {
                assert_eq!(n.chars().count(), MAX_NAME_CHARS, "{n}");
                c.create(n, 1 << 20, RecoveryModel::Full, 0).unwrap();
            }
        }
        for entry in fs::read_dir(&dir).unwrap() {
            let file = entry.unwrap().file_name();
            assert!(file.len() <= 255, "{file:?}");
        }
        let mut c = Catalog::open(&dir).unwrap();
        for n in &names {
            assert_eq!(c.get(n).map(Database::name), Some(n.as_str()));
            c.drop_database(n).unwrap();
        }
        assert!(Catalog::open(&dir).unwrap().get(&names[0]).is_none());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn ddl_that_cannot_be_written_leaves_the_catalog_as_it_was() {
        let dir = temp_dir("atomic");
        let mut c = Catalog::open(&dir).unwrap();
        c.create("kept", 1 << 20, RecoveryModel::Full, 0).unwrap();
        // The data directory becomes a file: nothing can be written or removed in it.
        let moved = dir.with_extension("moved");
        fs::rename(&dir, &moved).unwrap();
        fs::write(&dir, b"not a directory").unwrap();
        assert!(c.create("lost", 1 << 20, RecoveryModel::Full, 0).is_err());
        assert!(c.get("lost").is_none());
        fs::remove_file(&dir).unwrap();
        // The database's file becomes a non-empty directory: DROP cannot remove it.
        fs::rename(&moved, &dir).unwrap();
        let file = dir.join(file_name("kept"));
        fs::remove_file(&file).unwrap();
        fs::create_dir_all(file.join("x")).unwrap();
        assert!(c.drop_database("kept").is_err());
        assert!(c.get("kept").is_some());
        fs::remove_dir_all(&dir).unwrap();
    }
}
