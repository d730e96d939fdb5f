//! sp_helpdb, sp_helpfile, sp_helpfilegroup and sp_databases, with the result sets their
//! documentation gives and the text SQL Server formats into them.

use super::Outcome;
use crate::catalog::args::{ProcArg, bind};
use crate::catalog::civil::short_date;
use crate::catalog::functions::{FunctionContext, call as call_function};
use crate::catalog::model::{DatabaseFile, DatabaseInfo, DatabaseState, FileState, FileType};
use crate::catalog::table::*;
use crate::catalog::views::databases::DATABASE_VERSION;
use crate::catalog::views::dmv::fixed;
use crate::messages::SqlMessage;
use crate::value::{SYSNAME, SqlType, Value};

/// sp_helpdb's `status`: the options DATABASEPROPERTYEX reports, as `Name=value` pairs
/// and bare names for the boolean ones that are on.
fn status_text(db: &DatabaseInfo) -> String {
    let open = matches!(db.state, DatabaseState::Online | DatabaseState::Emergency);
    let mut parts = vec![
        format!("Status={}", db.state.desc()),
        format!(
            "Updateability={}",
            if db.is_read_only {
                "READ_ONLY"
            } else {
                "READ_WRITE"
            }
        ),
        format!("UserAccess={}", db.user_access.desc()),
        format!("Recovery={}", db.recovery_model.desc()),
    ];
    if open {
        parts.push(format!("Version={DATABASE_VERSION}"));
        parts.push(format!("Collation={}", db.collation));
        parts.push("SQLSortOrder=52".to_owned());
        if db.is_in_standby {
            parts.push("IsInStandBy".to_owned());
        }
        if db.is_auto_close_on {
            parts.push("IsAutoClose".to_owned());
        }
        if db.is_auto_shrink_on {
            parts.push("IsAutoShrink".to_owned());
        }
        parts.push("IsAutoCreateStatistics".to_owned());
        parts.push("IsAutoUpdateStatistics".to_owned());
        if !db.is_system() {
            parts.push("IsFullTextEnabled".to_owned());
        }
    }
    parts.join(", ")
}

/// `     16.00 MB`: str(size_mb, 10, 2) + ' MB'.
fn db_size(db: &DatabaseInfo) -> String {
    let pages: u64 = db
        .files
        .iter()
        .map(|f| u64::from(f.size_pages.unsigned_abs()))
        .sum();
    format!("{:>10.2} MB", pages as f64 / 128.0)
}

fn size_kb(pages: i32) -> String {
    format!("{} KB", i64::from(pages) * 8)
}

fn max_size_text(f: &DatabaseFile) -> String {
    if f.max_size_pages == -1 {
        "Unlimited".to_owned()
    } else {
        size_kb(f.max_size_pages)
    }
}

fn growth_text(f: &DatabaseFile) -> String {
    if f.is_percent_growth {
        format!("{}%", f.growth)
    } else {
        size_kb(f.growth)
    }
}

fn usage(f: &DatabaseFile) -> &'static str {
    if f.file_type == FileType::Log {
        "log only"
    } else {
        "data only"
    }
}

fn filegroup_of(db: &DatabaseInfo, f: &DatabaseFile) -> Value {
    db.filegroups
        .iter()
        .find(|g| g.data_space_id == f.data_space_id && f.file_type != FileType::Log)
        .map_or(Value::Null, |g| text(g.name.clone()))
}

/// Msg 15010.
fn no_such_database(name: &str) -> SqlMessage {
    SqlMessage::new(
        15010,
        16,
        1,
        0,
        format!(
            "The database '{name}' does not exist. Supply a valid database name. To see available databases, use sys.databases."
        ),
    )
}

/// Msg 15325: a file or filegroup the current database does not have.
fn not_in_database(kind: &str, name: &str) -> SqlMessage {
    SqlMessage::new(
        15325,
        16,
        1,
        0,
        format!("The current database does not contain a {kind} '{name}'."),
    )
}

/// `sp_helpdb [[@dbname =] 'name']`: one row per database, by name; with a name, that row
/// and its files.
pub fn sp_helpdb(args: &[ProcArg], ctx: &FunctionContext<'_>) -> Outcome {
    let bound = bind("sp_helpdb", &["@dbname"], args)?;
    let name = bound[0].and_then(ProcArg::text);
    let snap = ctx.snapshot;
    let dbs: Vec<&DatabaseInfo> = match &name {
        Some(n) => vec![snap.database(n).ok_or_else(|| no_such_database(n))?],
        None => {
            let mut all: Vec<&DatabaseInfo> = snap.databases.iter().collect();
            all.sort_by_key(|d| d.name.to_ascii_lowercase());
            all
        }
    };
    let mut summary = table(&[
        ("name", SYSNAME, false),
        ("db_size", nvarchar(13), true),
        ("owner", SYSNAME, true),
        ("dbid", SMALLINT, false),
        ("created", nvarchar(11), false),
        ("status", nvarchar(600), true),
        ("compatibility_level", TINYINT, false),
    ]);
    for db in &dbs {
        let owner = snap
            .login(&db.owner_login)
            .map_or(Value::Null, |l| text(l.name.clone()));
        summary.push(vec![
            text(db.name.clone()),
            text(db_size(db)),
            owner,
            int(db.database_id),
            text(short_date(db.create_date)),
            text(status_text(db)),
            int(db.compatibility_level),
        ]);
    }
    let mut sets = vec![summary];
    // The file list needs the database open (SQL Server prints 15622 otherwise).
    if let (Some(_), [db]) = (&name, dbs.as_slice())
        && db.state == DatabaseState::Online
    {
        let mut files = table(&[
            ("name", SqlType::NChar(128), false),
            ("fileid", SMALLINT, false),
            ("filename", SqlType::NChar(260), false),
            ("filegroup", nvarchar(128), true),
            ("size", nvarchar(18), true),
            ("maxsize", nvarchar(18), true),
            ("growth", nvarchar(18), true),
            ("usage", varchar(9), false),
        ]);
        for f in &db.files {
            files.push(vec![
                fixed(&f.name, 128),
                int(f.file_id),
                fixed(&f.physical_name, 260),
                filegroup_of(db, f),
                text(size_kb(f.size_pages)),
                text(max_size_text(f)),
                text(growth_text(f)),
                text(usage(f)),
            ]);
        }
        sets.push(files);
    }
    Ok(sets)
}

fn current<'a>(ctx: &FunctionContext<'a>) -> Result<&'a DatabaseInfo, SqlMessage> {
    ctx.snapshot
        .database(ctx.current_database)
        .ok_or_else(|| no_such_database(ctx.current_database))
}

/// `sp_helpfile [[@filename =] 'name']`: the current database's files.
pub fn sp_helpfile(args: &[ProcArg], ctx: &FunctionContext<'_>) -> Outcome {
    let bound = bind("sp_helpfile", &["@filename"], args)?;
    let db = current(ctx)?;
    let wanted = bound[0].and_then(ProcArg::text);
    if let Some(w) = &wanted
        && db.file_by_name(w).is_none()
    {
        return Err(not_in_database("file", w));
    }
    let mut t = table(&[
        ("name", SYSNAME, false),
        ("fileid", SMALLINT, false),
        ("filename", SqlType::NChar(260), false),
        ("filegroup", SYSNAME, true),
        ("size", nvarchar(15), true),
        ("maxsize", nvarchar(15), true),
        ("growth", nvarchar(15), true),
        ("usage", varchar(9), false),
    ]);
    for f in db.files.iter().filter(|f| {
        wanted
            .as_ref()
            .is_none_or(|w| f.name.eq_ignore_ascii_case(w))
    }) {
        t.push(vec![
            text(f.name.clone()),
            int(f.file_id),
            fixed(&f.physical_name, 260),
            filegroup_of(db, f),
            text(size_kb(f.size_pages)),
            text(max_size_text(f)),
            text(growth_text(f)),
            text(usage(f)),
        ]);
    }
    Ok(vec![t])
}

/// `sp_helpfilegroup [[@filegroupname =] 'name']`: the current database's filegroups; with a
/// name, that filegroup and its files.
pub fn sp_helpfilegroup(args: &[ProcArg], ctx: &FunctionContext<'_>) -> Outcome {
    let bound = bind("sp_helpfilegroup", &["@filegroupname"], args)?;
    let db = current(ctx)?;
    let wanted = bound[0].and_then(ProcArg::text);
    let groups: Vec<_> = match &wanted {
        Some(w) => vec![
            db.filegroup_by_name(w)
                .ok_or_else(|| not_in_database("filegroup", w))?,
        ],
        None => db.filegroups.iter().collect(),
    };
    let mut t = table(&[
        ("groupname", SYSNAME, false),
        ("groupid", SMALLINT, false),
        ("filecount", INT, true),
    ]);
    for g in &groups {
        let count = db
            .files
            .iter()
            .filter(|f| f.data_space_id == g.data_space_id && f.file_type != FileType::Log)
            .count();
        t.push(vec![
            text(g.name.clone()),
            int(g.data_space_id),
            int(count as i64),
        ]);
    }
    let mut sets = vec![t];
    if let (Some(_), [g]) = (&wanted, groups.as_slice()) {
        let mut files = table(&[
            ("file_in_group", SYSNAME, false),
            ("fileid", SMALLINT, false),
            ("filename", SqlType::NChar(260), false),
            ("size", nvarchar(15), true),
            ("maxsize", nvarchar(15), true),
            ("growth", nvarchar(15), true),
        ]);
        for f in db
            .files
            .iter()
            .filter(|f| f.data_space_id == g.data_space_id && f.file_type != FileType::Log)
        {
            files.push(vec![
                text(f.name.clone()),
                int(f.file_id),
                fixed(&f.physical_name, 260),
                text(size_kb(f.size_pages)),
                text(max_size_text(f)),
                text(growth_text(f)),
            ]);
        }
        sets.push(files);
    }
    Ok(sets)
}

/// `sp_databases`: the databases the login can use, by name, with their online files'
/// size in KB.
pub fn sp_databases(args: &[ProcArg], ctx: &FunctionContext<'_>) -> Outcome {
    bind("sp_databases", &[], args)?;
    let mut t = table(&[
        ("DATABASE_NAME", SYSNAME, false),
        ("DATABASE_SIZE", INT, true),
        ("REMARKS", varchar(254), true),
    ]);
    let mut dbs: Vec<&DatabaseInfo> = ctx
        .snapshot
        .databases
        .iter()
        .filter(|db| {
            let access = call_function("HAS_DBACCESS", &[(SYSNAME, text(db.name.clone()))], ctx);
            matches!(access, Some(Ok((_, Value::Int(1)))))
        })
        .collect();
    dbs.sort_by_key(|db| db.name.to_ascii_lowercase());
    for db in dbs {
        let kb: i64 = db
            .files
            .iter()
            .filter(|f| f.state == FileState::Online)
            .map(|f| i64::from(f.size_pages) * 8)
            .sum();
        t.push(vec![text(db.name.clone()), int(kb), Value::Null]);
    }
    Ok(vec![t])
}
