//! sp_spaceused and xp_fileexist: space from the engine's measure of each database
//! ([`SpaceUsage`](crate::catalog::model::SpaceUsage)), and files answered from what the
//! server knows of its own file system (decision 78).

use super::Outcome;
use crate::catalog::args::{ProcArg, bind};
use crate::catalog::functions::FunctionContext;
use crate::catalog::model::{DatabaseInfo, FileType};
use crate::catalog::snapshot::ServerSnapshot;
use crate::catalog::table::*;
use crate::messages::SqlMessage;
use crate::value::{SYSNAME, Table, Value};

/// `varchar(18)`: sp_spaceused's formatted sizes.
const SIZE_TEXT: crate::value::SqlType = varchar(18);

/// `ltrim(str(pages * 8192 / 1048576., 15, 2) + ' MB')`.
fn megabytes(pages: u64) -> Value {
    text(format!("{:.2} MB", pages as f64 * 8192.0 / 1_048_576.0))
}

/// `ltrim(str(pages * 8192 / 1024., 15, 0) + ' KB')`.
fn kilobytes(pages: u64) -> Value {
    text(format!("{} KB", pages * 8))
}

/// The pages of a database's files of one kind.
fn pages_of(db: &DatabaseInfo, kind: FileType) -> u64 {
    db.files
        .iter()
        .filter(|f| f.file_type == kind)
        .map(|f| u64::from(f.size_pages.unsigned_abs()))
        .sum()
}

/// The reserved (whole extents), data and index pages of a database, and the unused ones.
struct Usage {
    reserved: u64,
    data: u64,
    index: u64,
}

fn usage(db: &DatabaseInfo) -> Usage {
    let size = pages_of(db, FileType::Rows);
    let used = db.space.used_data_pages.min(size);
    // Each table's pages come with an index allocation map page; vdisim shows one in
    // sixty-four pages as index.
    let index = used / 64;
    Usage {
        reserved: used.div_ceil(8).saturating_mul(8).min(size),
        data: used - index,
        index,
    }
}

/// The second result set's columns (and the object form's).
const SIZE_COLUMNS: [Spec; 4] = [
    ("reserved", SIZE_TEXT, true),
    ("data", SIZE_TEXT, true),
    ("index_size", SIZE_TEXT, true),
    ("unused", SIZE_TEXT, true),
];

fn size_values(u: &Usage) -> Vec<Value> {
    vec![
        kilobytes(u.reserved),
        kilobytes(u.data),
        kilobytes(u.index),
        kilobytes(u.reserved - u.data - u.index),
    ]
}

/// `sp_spaceused [[@objname =] 'object'] [, @updateusage] [, @mode] [, @oneresultset]
/// [, @include_total_xtp_storage]`: the current database's size and unallocated space,
/// then its reserved, data, index and unused space (one result set with
/// `@oneresultset = 1`); for an object, its rows and space.
pub fn sp_spaceused(args: &[ProcArg], ctx: &FunctionContext<'_>) -> Outcome {
    let bound = bind(
        "sp_spaceused",
        &[
            "@objname",
            "@updateusage",
            "@mode",
            "@oneresultset",
            "@include_total_xtp_storage",
        ],
        args,
    )?;
    let db = ctx
        .snapshot
        .database(ctx.current_database)
        .ok_or_else(|| crate::messages::invalid_object(0, ctx.current_database))?;
    if let Some(object) = bound[0].and_then(ProcArg::text) {
        return object_space(db, &object);
    }
    let one = bound[3]
        .and_then(ProcArg::text)
        .is_some_and(|t| t.trim() == "1");
    let size = pages_of(db, FileType::Rows);
    let log = pages_of(db, FileType::Log);
    let u = usage(db);
    let mut first = vec![
        ("database_name", SYSNAME, true),
        ("database_size", SIZE_TEXT, true),
        ("unallocated space", SIZE_TEXT, true),
    ];
    let mut values = vec![
        text(db.name.clone()),
        megabytes(size + log),
        megabytes(size.saturating_sub(u.reserved)),
    ];
    if one {
        first.extend(SIZE_COLUMNS);
        values.extend(size_values(&u));
        let mut t = table(&first);
        t.push(values);
        return Ok(vec![t]);
    }
    let mut t1 = table(&first);
    t1.push(values);
    let mut t2 = table(&SIZE_COLUMNS);
    t2.push(size_values(&u));
    Ok(vec![t1, t2])
}

/// sp_spaceused for one object: a user table of the database (vdisim keeps no rows in
/// them), or Msg 15009.
fn object_space(db: &DatabaseInfo, object: &str) -> Outcome {
    let name = crate::catalog::functions::split_object_name(object);
    let found = db
        .tables
        .iter()
        .find(|t| t.name.eq_ignore_ascii_case(name.name()));
    let Some(found) = found else {
        return Err(SqlMessage::new(
            15009,
            16,
            1,
            0,
            format!(
                "The object '{object}' does not exist in database '{}' or is invalid for this operation.",
                db.name
            ),
        ));
    };
    let mut columns = vec![("name", SYSNAME, true), ("rows", char(20), true)];
    columns.extend(SIZE_COLUMNS);
    let mut t = table(&columns);
    let mut row = vec![text(found.name.clone()), text(format!("{:<20}", 0))];
    row.extend(size_values(&Usage {
        reserved: 0,
        data: 0,
        index: 0,
    }));
    t.push(row);
    Ok(vec![t])
}

/// The directories a SQL Server on Linux has from its installation.
const SERVER_DIRECTORIES: &[&str] = &[
    "/var/opt/mssql",
    "/var/opt/mssql/data",
    "/var/opt/mssql/log",
];

/// What xp_fileexist reports for a path: whether it is a file, a directory, and whether its
/// parent directory exists. vdisim writes no files of its own: the files that exist are the
/// databases' files (their `physical_name`), and the directories are the server's own and
/// those that hold a database file (decision 78).
#[must_use]
pub fn file_exists(snap: &ServerSnapshot, path: &str) -> (bool, bool, bool) {
    let normal = |p: &str| p.replace('\\', "/").trim_end_matches('/').to_owned();
    let path = normal(path);
    let files: Vec<String> = snap
        .databases
        .iter()
        .flat_map(|d| &d.files)
        .map(|f| normal(&f.physical_name))
        .collect();
    let is_dir = |p: &str| {
        p == "/"
            || SERVER_DIRECTORIES.contains(&p)
            || files
                .iter()
                .any(|f| f.len() > p.len() && f.starts_with(p) && f[p.len()..].starts_with('/'))
    };
    let is_file = files.iter().any(|f| f.eq_ignore_ascii_case(&path));
    let parent = match path.rfind('/') {
        Some(0) => "/",
        Some(i) => &path[..i],
        None => "",
    };
    let dir = !path.is_empty() && is_dir(&path);
    (is_file, dir, !parent.is_empty() && is_dir(parent))
}

/// `xp_fileexist 'path'`'s result set.
#[must_use]
pub fn xp_fileexist_table(snap: &ServerSnapshot, path: &str) -> Table {
    let (file, dir, parent) = file_exists(snap, path);
    let mut t = table(&[
        ("File Exists", INT, false),
        ("File is a Directory", INT, false),
        ("Parent Directory Exists", INT, false),
    ]);
    t.push(vec![int(file), int(dir), int(parent)]);
    t
}
