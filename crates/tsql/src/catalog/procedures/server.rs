//! sp_who, sp_who2, sp_helpsrvrolemember and xp_msver.

use super::Outcome;
use crate::catalog::args::{ProcArg, bind};
use crate::catalog::civil::{TICKS_PER_SECOND, civil_from_days};
use crate::catalog::functions::FunctionContext;
use crate::catalog::principals::{FIXED_SERVER_ROLES, fixed_server_role};
use crate::catalog::sessions::SessionInfo;
use crate::catalog::table::*;
use crate::catalog::views::dmv::{fixed, process_status_and_command, request_of};
use crate::messages::SqlMessage;
use crate::value::{DateTime, SYSNAME, SqlType, Value};

/// Which sessions sp_who and sp_who2 list for their argument: all, one session id,
/// `ACTIVE` (not idle), or one login's.
fn selected<'a>(
    procedure: &str,
    args: &[ProcArg],
    ctx: &FunctionContext<'a>,
) -> Result<Vec<&'a SessionInfo>, SqlMessage> {
    let bound = bind(procedure, &["@loginame"], args)?;
    let snap = ctx.snapshot;
    let all = snap.sessions.iter();
    let Some(filter) = bound[0].and_then(ProcArg::text) else {
        return Ok(all.collect());
    };
    if let Ok(spid) = filter.trim().parse::<i64>() {
        return Ok(all.filter(|s| i64::from(s.session_id) == spid).collect());
    }
    if filter.eq_ignore_ascii_case("active") {
        return Ok(all.filter(|s| request_of(snap, s).is_some()).collect());
    }
    if snap.login(&filter).is_none() {
        return Err(SqlMessage::new(
            15007,
            16,
            1,
            0,
            format!("'{filter}' is not a valid login or you do not have permission."),
        ));
    }
    Ok(all
        .filter(|s| s.login_name.eq_ignore_ascii_case(&filter))
        .collect())
}

fn blocked_by(ctx: &FunctionContext<'_>, s: &SessionInfo) -> i16 {
    request_of(ctx.snapshot, s)
        .and_then(|r| r.blocking_session_id)
        .unwrap_or(0)
}

/// `sp_who [[@loginame =] 'login' | session_id | 'ACTIVE']`.
pub fn sp_who(args: &[ProcArg], ctx: &FunctionContext<'_>) -> Outcome {
    let sessions = selected("sp_who", args, ctx)?;
    let mut t = table(&[
        ("spid", SMALLINT, false),
        ("ecid", SMALLINT, false),
        ("status", SqlType::NChar(30), false),
        ("loginame", SqlType::NChar(128), true),
        ("hostname", SqlType::NChar(128), false),
        ("blk", char(5), true),
        ("dbname", SqlType::NChar(128), true),
        ("cmd", SqlType::NChar(16), false),
        ("request_id", INT, false),
    ]);
    for s in sessions {
        let (status, cmd) = process_status_and_command(ctx.snapshot, s);
        t.push(vec![
            int(s.session_id),
            int(0),
            fixed(&status, 30),
            fixed(&s.login_name, 128),
            fixed(&s.host_name, 128),
            // convert(char(5), blocked): left-aligned.
            text(format!("{:<5}", blocked_by(ctx, s))),
            fixed(&s.database, 128),
            fixed(&cmd, 16),
            int(0),
        ]);
    }
    Ok(vec![t])
}

/// `MM/DD hh:mm:ss`, sp_who2's LastBatch.
fn last_batch(t: DateTime) -> String {
    let (_, m, d) = civil_from_days(t.days);
    let secs = t.ticks / TICKS_PER_SECOND;
    format!(
        "{m:02}/{d:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// `sp_who2 [[@loginame =] 'login' | session_id | 'ACTIVE']` (undocumented; the shape SQL
/// Server 2022 returns, with SPID twice).
pub fn sp_who2(args: &[ProcArg], ctx: &FunctionContext<'_>) -> Outcome {
    let sessions = selected("sp_who2", args, ctx)?;
    let mut t = table(&[
        ("SPID", char(5), false),
        ("Status", nvarchar(30), false),
        ("Login", nvarchar(128), false),
        ("HostName", nvarchar(128), false),
        ("BlkBy", char(5), false),
        ("DBName", nvarchar(128), true),
        ("Command", nvarchar(16), false),
        ("CPUTime", varchar(10), false),
        ("DiskIO", varchar(10), false),
        ("LastBatch", varchar(14), false),
        ("ProgramName", nvarchar(128), false),
        ("SPID", char(5), false),
        ("REQUESTID", INT, false),
    ]);
    for s in sessions {
        let (status, cmd) = process_status_and_command(ctx.snapshot, s);
        let status = if status == "sleeping" {
            status
        } else {
            status.to_ascii_uppercase()
        };
        let blk = blocked_by(ctx, s);
        let spid = format!("{:<5}", s.session_id);
        let host = if s.host_name.is_empty() {
            "  .".to_owned()
        } else {
            s.host_name.clone()
        };
        t.push(vec![
            text(spid.clone()),
            text(status),
            text(s.login_name.clone()),
            text(host),
            text(if blk == 0 {
                "  .  ".to_owned()
            } else {
                format!("{blk:<5}")
            }),
            text(s.database.clone()),
            text(cmd),
            text("0"),
            text("0"),
            text(last_batch(s.last_request_start_time)),
            text(s.program_name.clone()),
            text(spid),
            int(0),
        ]);
    }
    Ok(vec![t])
}

/// `sp_helpsrvrolemember [[@srvrolename =] 'role']`: members of the fixed server roles.
pub fn sp_helpsrvrolemember(args: &[ProcArg], ctx: &FunctionContext<'_>) -> Outcome {
    let bound = bind("sp_helpsrvrolemember", &["@srvrolename"], args)?;
    let wanted = match bound[0].and_then(ProcArg::text) {
        Some(r) => match fixed_server_role(&r).filter(|(n, _)| *n != "public") {
            Some((name, _)) => Some(name),
            None => {
                return Err(SqlMessage::new(
                    15412,
                    11,
                    1,
                    0,
                    format!("'{r}' is not a known fixed role."),
                ));
            }
        },
        None => None,
    };
    let mut t = table(&[
        ("ServerRole", SYSNAME, false),
        ("MemberName", SYSNAME, false),
        ("MemberSID", SID, true),
    ]);
    for (role, _) in FIXED_SERVER_ROLES.iter().filter(|(n, _)| *n != "public") {
        if wanted.is_some_and(|w| w != *role) {
            continue;
        }
        for l in ctx
            .snapshot
            .logins
            .iter()
            .filter(|l| l.server_roles.iter().any(|r| r.eq_ignore_ascii_case(role)))
        {
            t.push(vec![text(*role), text(l.name.clone()), binary(&l.sid)]);
        }
    }
    Ok(vec![t])
}

/// `xp_msver [optname]`: the version facts, one row per option (or the one asked for).
pub fn xp_msver(args: &[ProcArg], ctx: &FunctionContext<'_>) -> Outcome {
    let bound = bind("xp_msver", &["@optname"], args)?;
    let wanted = bound[0].and_then(ProcArg::text);
    let s = &ctx.snapshot.server;
    let [major, minor, build, revision] = s.version_parts();
    let mask = if s.cpu_count >= 64 {
        u64::MAX
    } else {
        (1u64 << s.cpu_count.max(0)) - 1
    };
    let rows: Vec<(&str, Option<i64>, Option<String>)> = vec![
        ("ProductName", None, Some("Microsoft SQL Server".to_owned())),
        (
            "ProductVersion",
            Some(i64::from(major) << 16 | i64::from(minor)),
            Some(s.product_version.clone()),
        ),
        (
            "Language",
            Some(1033),
            Some("English (United States)".to_owned()),
        ),
        ("Platform", None, Some("Linux".to_owned())),
        ("Comments", None, Some("SQL".to_owned())),
        (
            "CompanyName",
            None,
            Some("Microsoft Corporation".to_owned()),
        ),
        (
            "FileDescription",
            None,
            Some("SQL Server Windows NT - 64 Bit".to_owned()),
        ),
        (
            "FileVersion",
            None,
            Some(format!(
                "2022.{:04}.{build:04}.{revision:02} ((SQL22_RTM).221008-0558)",
                major * 10 + minor
            )),
        ),
        ("InternalName", None, Some("SQLSERVR".to_owned())),
        (
            "LegalCopyright",
            None,
            Some("Microsoft Corp. All rights reserved.".to_owned()),
        ),
        (
            "LegalTrademarks",
            None,
            Some(
                "Microsoft SQL Server is a registered trademark of Microsoft Corporation. "
                    .to_owned(),
            ),
        ),
        ("OriginalFilename", None, Some("SQLSERVR.EXE".to_owned())),
        ("PrivateBuild", None, None),
        (
            "SpecialBuild",
            Some(i64::from(build) << 16 | i64::from(revision)),
            None,
        ),
        (
            "WindowsVersion",
            Some(9600 << 16 | 3 << 8 | 6),
            Some("6.3 (9600)".to_owned()),
        ),
        (
            "ProcessorCount",
            Some(i64::from(s.cpu_count)),
            Some(s.cpu_count.to_string()),
        ),
        ("ProcessorActiveMask", None, Some(format!("{mask:016x}"))),
        ("ProcessorType", Some(8664), Some("NA".to_owned())),
        (
            "PhysicalMemory",
            Some(s.physical_memory_mb),
            Some(format!(
                "{} ({})",
                s.physical_memory_mb,
                s.physical_memory_mb << 20
            )),
        ),
        ("Product ID", None, None),
    ];
    let mut t = table(&[
        ("Index", INT, false),
        ("Name", SYSNAME, false),
        ("Internal_Value", INT, true),
        ("Character_Value", nvarchar(255), true),
    ]);
    for (i, (name, internal, character)) in rows.into_iter().enumerate() {
        if wanted
            .as_ref()
            .is_some_and(|w| !w.eq_ignore_ascii_case(name))
        {
            continue;
        }
        let internal = internal.map(|v| i32::try_from(v).unwrap_or(i32::MAX));
        t.push(vec![
            int(i as i64 + 1),
            text(name),
            opt_int(internal),
            Value::opt_text(character),
        ]);
    }
    Ok(vec![t])
}
