//! Batches in the style tools send around a backup (SMO's server and database queries, its
//! restore planner's history join, sp_executesql with bound names, maintenance-script checks):
//! each parses, into the statements expected.

use super::*;

fn statements(sql: &str) -> Vec<Statement> {
    parse_batch(sql, 1).unwrap_or_else(|e| panic!("{e}\n{sql}"))
}

#[test]
fn server_properties_and_edition_checks() {
    let batch = "DECLARE @edition sysname;
SET @edition = cast(SERVERPROPERTY(N'EDITION') as sysname);
SELECT case when @edition = N'SQL Azure' then 2 else 1 end as 'DatabaseEngineType',
SERVERPROPERTY('EngineEdition') AS DatabaseEngineEdition,
SERVERPROPERTY('ProductVersion') AS ProductVersion,
@@MICROSOFTVERSION AS MicrosoftVersion;
select host_platform from sys.dm_os_host_info
if @edition = N'SQL Azure'
  select 'TCP' as ConnectionProtocol
else
  exec ('select CONVERT(nvarchar(40),CONNECTIONPROPERTY(''net_transport'')) as ConnectionProtocol')";
    let s = statements(batch);
    assert_eq!(s.len(), 5);
    assert_eq!(
        s.iter().map(|s| s.line).collect::<Vec<_>>(),
        [1, 2, 3, 7, 8]
    );
}

#[test]
fn database_enumeration() {
    let batch = "SELECT
dtb.name AS [Name],
dtb.database_id AS [ID],
CAST(case when dtb.name in ('master','model','msdb','tempdb') then 1 else dtb.is_distributor end AS bit) AS [IsSystemObject],
CAST(has_dbaccess(dtb.name) AS bit) AS [IsAccessible],
dtb.recovery_model AS [RecoveryModel],
ISNULL(suser_sname(dtb.owner_sid),'') AS [Owner]
FROM
master.sys.databases AS dtb
WHERE
(dtb.name=@_msparam_0)
ORDER BY
[Name] ASC";
    let s = statements(batch);
    let StatementKind::Select(q) = &s[0].kind else {
        panic!()
    };
    let QueryBody::Select(select) = &q.body else {
        panic!()
    };
    assert_eq!(select.items.len(), 6);
    assert_eq!(q.order_by.len(), 1);
}

#[test]
fn sp_executesql_with_bound_names() {
    let s = statements(
        "exec sp_executesql N'SELECT dtb.name AS [Name] FROM master.sys.databases AS dtb WHERE (dtb.name=@_msparam_0)',N'@_msparam_0 nvarchar(4000)',@_msparam_0=N'pubs'",
    );
    let StatementKind::Exec(Exec::Procedure { args, .. }) = &s[0].kind else {
        panic!()
    };
    assert_eq!(args[2].name.as_deref(), Some("@_msparam_0"));
    // The statement inside parses on its own, as sp_executesql will run it.
    let StatementKind::Exec(Exec::Procedure { args, .. }) = &s[0].kind else {
        panic!()
    };
    let Expr::Literal(Literal::String { value, .. }) = &args[0].value else {
        panic!()
    };
    statements(value);
    let s = statements(
        "DECLARE @db sysname = N'pubs', @dev nvarchar(128) = N'vds1';
EXEC sp_executesql N'BACKUP DATABASE @d TO VIRTUAL_DEVICE = @v WITH NAME = N''nightly'', STATS = 10',
  N'@d sysname, @v nvarchar(128)', @d = @db, @v = @dev;",
    );
    assert_eq!(s.len(), 2);
}

#[test]
fn restore_planner_history_join() {
    let batch =
        "SELECT bkps.backup_set_id, bkps.first_lsn, bkps.last_lsn, bkps.database_backup_lsn,
  bkps.type, bkmf.physical_device_name, bkmf.device_type
FROM msdb.dbo.backupset AS bkps
INNER JOIN msdb.dbo.backupmediafamily AS bkmf ON bkmf.media_set_id = bkps.media_set_id
WHERE bkps.database_name = N'pubs'
  AND bkps.backup_finish_date >= (SELECT MAX(backup_finish_date) FROM msdb.dbo.backupset
                                  WHERE database_name = N'pubs' AND type = 'D')
ORDER BY bkps.backup_set_id, bkmf.family_sequence_number";
    let s = statements(batch);
    assert!(matches!(s[0].kind, StatementKind::Select(_)));
    let batch = "SELECT TOP 1 bkps.backup_finish_date FROM msdb.dbo.backupset bkps
WHERE bkps.database_name = @_msparam_0 AND bkps.type IN ('D', 'I') ORDER BY bkps.backup_finish_date DESC";
    statements(batch);
}

#[test]
fn maintenance_script_checks() {
    let batch = "DECLARE @Version numeric(18,10), @ErrorMessage nvarchar(max), @Error int = 0
SELECT @Version = CAST(LEFT(CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(max)),CHARINDEX('.',CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(max))) - 1) + '.' + REPLACE(RIGHT(CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(max)), LEN(CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(max))) - CHARINDEX('.',CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(max)))),'.','') AS numeric(18,10))
IF NOT EXISTS (SELECT * FROM sys.objects objects INNER JOIN sys.schemas schemas ON objects.[schema_id] = schemas.[schema_id] WHERE objects.[type] = 'P' AND schemas.[name] = 'dbo' AND objects.[name] = 'CommandExecute')
BEGIN
  SET @ErrorMessage = 'The stored procedure CommandExecute is missing.'
  RAISERROR('%s',16,1,@ErrorMessage) WITH NOWAIT
  SET @Error = @@ERROR
END
IF @Version >= 14 AND SERVERPROPERTY('EngineEdition') <> 5
BEGIN
  SELECT d.name, d.recovery_model_desc, d.state_desc, d.is_read_only,
         CASE WHEN d.source_database_id IS NOT NULL THEN 1 ELSE 0 END AS IsSnapshot,
         (SELECT MAX(backup_finish_date) FROM msdb.dbo.backupset b WHERE b.database_name = d.name) AS LastBackup,
         DATEDIFF(hh, ISNULL((SELECT MAX(backup_finish_date) FROM msdb.dbo.backupset b WHERE b.database_name = d.name), '19000101'), GETDATE()) AS HoursSince
  FROM sys.databases d WITH (NOLOCK)
  LEFT OUTER JOIN sys.database_recovery_status drs ON d.database_id = drs.database_id
  WHERE d.database_id <> 2 AND DATABASEPROPERTYEX(d.name, 'Status') = 'ONLINE'
  ORDER BY d.name
END";
    let s = statements(batch);
    assert_eq!(s.len(), 4);
}

#[test]
fn progress_polling_and_transaction_marks() {
    statements(
        "SELECT r.session_id, r.command, CONVERT(numeric(6,2), r.percent_complete) AS [Percent Complete],
  CONVERT(varchar(20), DATEADD(ms, r.estimated_completion_time, GETDATE()), 20) AS [ETA]
FROM sys.dm_exec_requests r WHERE r.command IN ('BACKUP DATABASE', 'RESTORE DATABASE', 'BACKUP LOG')",
    );
    let s = statements(
        "BEGIN TRANSACTION BeforeBackup WITH MARK N'before nightly backup';
UPDATE #t SET x = 1;
COMMIT TRANSACTION BeforeBackup;
IF @@TRANCOUNT > 0 ROLLBACK;",
    );
    assert_eq!(s.len(), 4);
}
