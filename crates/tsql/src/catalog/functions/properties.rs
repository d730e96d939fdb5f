//! SERVERPROPERTY, DATABASEPROPERTYEX and the server's @@ variables.

use super::{FunctionContext, Typed, nvarchar_value};
use crate::catalog::civil;
use crate::catalog::model::DatabaseState;
use crate::catalog::views::databases::DATABASE_VERSION;
use crate::value::{SqlType, Value};

/// `SERVERPROPERTY(property)`: the property's value with its sql_variant base type; NULL
/// (as sql_variant) for a property SQL Server 2022 does not have or that is not set.
#[must_use]
pub fn server_property(property: &str, ctx: &FunctionContext<'_>) -> Typed {
    let s = &ctx.snapshot.server;
    let [major, minor, build, _] = s.version_parts();
    let int = |v: i64| (SqlType::Int, Value::Int(v));
    let flag = |b: bool| (SqlType::Int, Value::Int(i64::from(b)));
    let tiny = |v: i64| (SqlType::TinyInt, Value::Int(v));
    match property.to_ascii_lowercase().as_str() {
        "productversion" => nvarchar_value(&s.product_version),
        "productmajorversion" => nvarchar_value(&major.to_string()),
        "productminorversion" => nvarchar_value(&minor.to_string()),
        "productbuild" => nvarchar_value(&build.to_string()),
        "productlevel" => nvarchar_value(&s.product_level),
        "productupdatelevel" => s
            .product_update_level
            .as_deref()
            .map_or_else(null_variant, nvarchar_value),
        "resourceversion" => nvarchar_value(&format!("{major}.{minor:02}.{build}")),
        "resourcelastupdatedatetime" => (
            SqlType::DateTime,
            Value::DateTime(civil::datetime(2022, 10, 8, 5, 58, 25)),
        ),
        "edition" => nvarchar_value(&s.edition),
        "editionid" => (SqlType::BigInt, Value::Int(s.edition_id)),
        "engineedition" => int(i64::from(s.engine_edition)),
        "machinename" | "computernamephysicalnetbios" => nvarchar_value(&s.machine_name),
        "servername" => nvarchar_value(&s.server_name()),
        "instancename" => s
            .instance_name
            .as_deref()
            .map_or_else(null_variant, nvarchar_value),
        "collation" => nvarchar_value(&s.collation),
        "collationid" => int(872_468_488),
        "comparisonstyle" => int(196_609),
        "lcid" => int(1033),
        "sqlcharset" => tiny(1),
        "sqlcharsetname" => nvarchar_value("iso_1"),
        "sqlsortorder" => tiny(52),
        "sqlsortordername" => nvarchar_value("nocase_iso"),
        "isclustered" => flag(s.is_clustered),
        "ishadrenabled" => flag(s.is_hadr_enabled),
        // 1 = the Always On manager started; NULL where Always On is off.
        "hadrmanagerstatus" => {
            if s.is_hadr_enabled {
                int(1)
            } else {
                null_variant()
            }
        }
        "isintegratedsecurityonly" => flag(s.is_integrated_security_only),
        "issingleuser" => flag(s.is_single_user),
        "isfulltextinstalled" => flag(s.is_full_text_installed),
        "islocaldb"
        | "ispolybaseinstalled"
        | "isadvancedanalyticsinstalled"
        | "isbigdatacluster"
        | "isexternalauthenticationonly"
        | "istempdbmetadatamemoryoptimized"
        | "isexternalgovernanceenabled"
        | "filestreamconfiguredlevel"
        | "filestreameffectivelevel" => int(0),
        "isxtpsupported" => int(1),
        "processid" => int(i64::from(s.process_id)),
        "buildclrversion" => nvarchar_value("v4.0.30319"),
        "licensetype" => nvarchar_value("DISABLED"),
        "filestreamsharename" => nvarchar_value(&s.service_name),
        "instancedefaultdatapath" => nvarchar_value(&s.default_data_path),
        "instancedefaultlogpath" => nvarchar_value(&s.default_log_path),
        "instancedefaultbackuppath" => nvarchar_value(&s.default_backup_path),
        "pathseparator" => nvarchar_value("/"),
        _ => null_variant(),
    }
}

/// NULL typed as sql_variant.
#[must_use]
pub fn null_variant() -> Typed {
    (SqlType::SqlVariant, Value::Null)
}

/// `DATABASEPROPERTYEX(database, property)`; NULL for an unknown database or property, and
/// for properties that need the database open when it is not.
#[must_use]
pub fn database_property(database: &str, property: &str, ctx: &FunctionContext<'_>) -> Typed {
    let Some(db) = ctx.snapshot.database(database) else {
        return null_variant();
    };
    let open = matches!(db.state, DatabaseState::Online | DatabaseState::Emergency);
    let flag = |b: bool| (SqlType::Int, Value::Int(i64::from(b)));
    match property.to_ascii_lowercase().as_str() {
        "recovery" => nvarchar_value(db.recovery_model.desc()),
        "status" => nvarchar_value(db.state.desc()),
        "updateability" => nvarchar_value(if db.is_read_only {
            "READ_ONLY"
        } else {
            "READ_WRITE"
        }),
        "useraccess" => nvarchar_value(db.user_access.desc()),
        "isinstandby" => flag(db.is_in_standby),
        "collation" if open => nvarchar_value(&db.collation),
        "version" if open => (SqlType::Int, Value::Int(i64::from(DATABASE_VERSION))),
        "isautoclose" => flag(db.is_auto_close_on),
        "isautoshrink" => flag(db.is_auto_shrink_on),
        "isautocreatestatistics" | "isautoupdatestatistics" | "isxtpsupported" => flag(true),
        "isfulltextenabled" => flag(!db.is_system()),
        "isansinulldefault"
        | "isansinullsenabled"
        | "isansipaddingenabled"
        | "isansiwarningsenabled"
        | "isarithmeticabortenabled"
        | "isautocreatestatisticsincremental"
        | "isautoupdatestatisticsasync"
        | "isclone"
        | "isclosecursorsoncommitenabled"
        | "islocalcursorsdefault"
        | "ismemoryoptimizedelevatetosnapshotenabled"
        | "ismergepublished"
        | "isnullconcat"
        | "isnumericroundabortenabled"
        | "isparameterizationforced"
        | "isquotedidentifiersenabled"
        | "ispublished"
        | "isrecursivetriggersenabled"
        | "issubscribed"
        | "issyncwithbackup"
        | "istornpagedetectionenabled"
        | "isverifiedclone"
        | "isdbchaining" => flag(false),
        "comparisonstyle" => (SqlType::Int, Value::Int(196_609)),
        "lcid" => (SqlType::Int, Value::Int(1033)),
        "sqlsortorder" => (SqlType::TinyInt, Value::Int(52)),
        "lastgoodcheckdbtime" => (
            SqlType::DateTime,
            Value::DateTime(civil::datetime(1900, 1, 1, 0, 0, 0)),
        ),
        _ => null_variant(),
    }
}

/// The server-level `@@` variables (without the `@@`, any case); `None` for the ones the
/// interpreter owns (@@ERROR, @@ROWCOUNT, @@TRANCOUNT, @@FETCH_STATUS, …) and unknown ones.
#[must_use]
pub fn system_variable(name: &str, ctx: &FunctionContext<'_>) -> Option<Typed> {
    let s = &ctx.snapshot.server;
    let name = name.trim_start_matches('@').to_ascii_uppercase();
    let int = |v: i64| (SqlType::Int, Value::Int(v));
    Some(match name.as_str() {
        "VERSION" => (
            SqlType::NVarChar(Some(300)),
            Value::String(s.version_text.clone()),
        ),
        "SERVERNAME" => nvarchar_value(&s.server_name()),
        "SERVICENAME" => nvarchar_value(&s.service_name),
        "SPID" => (SqlType::SmallInt, Value::Int(i64::from(ctx.session_id))),
        "LANGUAGE" => nvarchar_value("us_english"),
        "LANGID" => (SqlType::SmallInt, Value::Int(0)),
        "MAX_CONNECTIONS" => int(i64::from(s.max_connections)),
        "MICROSOFTVERSION" => int(i64::from(s.microsoft_version())),
        "MAX_PRECISION" => (SqlType::TinyInt, Value::Int(38)),
        "DATEFIRST" => (SqlType::TinyInt, Value::Int(7)),
        "LOCK_TIMEOUT" => int(-1),
        "TEXTSIZE" => int(4096),
        "REMSERVER" => (SqlType::NVarChar(Some(128)), Value::Null),
        "TIMETICKS" => int(31_250),
        "DBTS" => {
            // Grows with the history, so it moves as a rowversion would.
            let ts = 2000
                + ctx.snapshot.msdb.backup_sets.len() as u64
                + ctx.snapshot.msdb.restores.len() as u64;
            (
                SqlType::VarBinary(Some(8)),
                Value::Binary(ts.to_be_bytes().to_vec()),
            )
        }
        "CONNECTIONS" => int(ctx.snapshot.sessions.len() as i64),
        "CPU_BUSY" | "IDLE" | "IO_BUSY" | "PACK_RECEIVED" | "PACK_SENT" | "PACKET_ERRORS"
        | "TOTAL_READ" | "TOTAL_WRITE" | "TOTAL_ERRORS" => int(0),
        _ => return None,
    })
}
