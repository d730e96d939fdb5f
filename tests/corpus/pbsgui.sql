-- corpus file: pbsgui (Proxmox Backup Server GUI, SQL Server VDI backups to PBS), sol1/pbsgui @
-- a5e33fe7c3549db38bd41935d27d75822f47ccf1, crates/pbsgui-engine/src/sql. The engine talks to
-- SQL Server with tiberius (TDS over TCP) and sends every statement as a plain SQL batch
-- (simple_query). Rust string continuations are joined, so most queries are one line.
-- Device sets are named pbsgui-<uuid>; vdisim_corpus_dev0 here.

-- source: sol1/pbsgui/crates/pbsgui-engine/src/sql/check.rs:39 — setup check: who am I
SELECT SUSER_SNAME()
GO
-- source: sol1/pbsgui/crates/pbsgui-engine/src/sql/check.rs:45 — setup check: VDI needs sysadmin
SELECT IS_SRVROLEMEMBER('sysadmin')
GO
-- source: sol1/pbsgui/crates/pbsgui-engine/src/sql/check.rs:58 — the fix the check tells an administrator to run when the login is not sysadmin
-- needs: login pbsgui
ALTER SERVER ROLE sysadmin ADD MEMBER [pbsgui];
GO
-- source: sol1/pbsgui/crates/pbsgui-engine/src/sql/probe.rs:18 IDENTITY_SQL — version, edition and topology from SERVERPROPERTY
SELECT CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)), CAST(SERVERPROPERTY('Edition') AS nvarchar(128)), CAST(SERVERPROPERTY('IsClustered') AS int), CAST(SERVERPROPERTY('IsHadrEnabled') AS int), CAST(SERVERPROPERTY('MachineName') AS nvarchar(128)), CAST(ISNULL(SERVERPROPERTY('ComputerNamePhysicalNetBIOS'), SERVERPROPERTY('MachineName')) AS nvarchar(128))
GO
-- source: sol1/pbsgui/crates/pbsgui-engine/src/sql/probe.rs:27 DATABASES_SQL — databases with recovery model, state, AG membership, preferred replica and system flag (unnamed columns)
SELECT d.name, d.recovery_model_desc, d.state_desc, d.log_reuse_wait_desc, CASE WHEN drs.database_id IS NOT NULL THEN 1 ELSE 0 END, CAST(sys.fn_hadr_backup_is_preferred_replica(d.name) AS int), CASE WHEN d.database_id <= 4 THEN 1 ELSE 0 END FROM sys.databases d LEFT JOIN sys.dm_hadr_database_replica_states drs ON drs.database_id = d.database_id AND drs.is_local = 1 WHERE d.database_id <> 2 ORDER BY d.name
GO
-- source: sol1/pbsgui/crates/pbsgui-engine/src/sql/probe.rs:38 AG_DETAILS_SQL — the local replica's availability group and role (best effort)
-- needs: hadr
SELECT TOP 1 ag.name, rs.role_desc FROM sys.availability_groups ag JOIN sys.availability_replicas ar ON ar.group_id = ag.group_id JOIN sys.dm_hadr_availability_replica_states rs ON rs.replica_id = ar.replica_id WHERE rs.is_local = 1
GO
-- source: sol1/pbsgui/crates/pbsgui-engine/src/sql/probe.rs:209 backup_decision — back up here? is this a readable secondary? is the model SIMPLE? (note the column alias "go")
SELECT CAST(CASE WHEN d.replica_id IS NULL THEN 1 WHEN sys.fn_hadr_backup_is_preferred_replica(d.name) = 1 THEN 1 ELSE 0 END AS int) AS go, CAST(CASE WHEN d.replica_id IS NOT NULL AND DATABASEPROPERTYEX(d.name, 'Updateability') = 'READ_ONLY' THEN 1 ELSE 0 END AS int) AS secondary, CAST(CASE WHEN d.recovery_model_desc = 'SIMPLE' THEN 1 ELSE 0 END AS int) AS simple FROM sys.databases d WHERE d.name = N'pubs'
GO
-- source: sol1/pbsgui/crates/pbsgui-engine/src/sql/probe.rs:240 data_size_bytes — allocated data bytes, for the progress bar
SELECT CAST(SUM(CAST(size AS bigint)) * 8192 AS bigint) FROM sys.master_files WHERE database_id = DB_ID(N'pubs') AND type = 0
GO
-- source: sol1/pbsgui/crates/pbsgui-engine/src/sql/vdi.rs:198 backup_statement — full backup (no options at all)
-- needs: vdi
BACKUP DATABASE [pubs] TO VIRTUAL_DEVICE = 'vdisim_corpus_dev0'
GO
-- source: sol1/pbsgui/crates/pbsgui-engine/src/sql/vdi.rs:198 backup_statement — full on a secondary replica, or when asked for: COPY_ONLY
-- needs: vdi
BACKUP DATABASE [pubs] TO VIRTUAL_DEVICE = 'vdisim_corpus_dev0' WITH COPY_ONLY
GO
-- source: sol1/pbsgui/crates/pbsgui-engine/src/sql/vdi.rs:66 query_backup_meta — after the backup: LSNs as varchar and the finish time as a Unix time (DATEDIFF_BIG)
-- needs: history pubs
SELECT TOP 1 CONVERT(varchar(40), first_lsn) AS first_lsn, CONVERT(varchar(40), last_lsn) AS last_lsn, CONVERT(varchar(40), database_backup_lsn) AS db_backup_lsn, [type] AS btype, DATEDIFF_BIG(SECOND, '1970-01-01', backup_finish_date) - (DATEDIFF(MINUTE, GETUTCDATE(), GETDATE()) * 60) AS finish_unix FROM msdb.dbo.backupset WHERE database_name = N'pubs' ORDER BY backup_set_id DESC
GO
-- source: sol1/pbsgui/crates/pbsgui-engine/src/sql/vdi.rs:123 query_db_files — the files at backup time, kept for a relocating restore
SELECT name, physical_name, type_desc FROM sys.master_files WHERE database_id = DB_ID(N'pubs')
GO
-- source: sol1/pbsgui/crates/pbsgui-engine/src/sql/vdi.rs:198 backup_statement — point-in-time job: full of a FULL-model database
-- needs: vdi
BACKUP DATABASE [AdventureWorks] TO VIRTUAL_DEVICE = 'vdisim_corpus_dev0'
GO
-- source: sol1/pbsgui/crates/pbsgui-engine/src/sql/vdi.rs:201 backup_statement — point-in-time job: log backup
-- needs: vdi
-- needs: history AdventureWorks
BACKUP LOG [AdventureWorks] TO VIRTUAL_DEVICE = 'vdisim_corpus_dev0'
GO
-- source: sol1/pbsgui/crates/pbsgui-engine/src/sql/vdi.rs:66 query_backup_meta — the log backup's metadata
-- needs: history AdventureWorks
SELECT TOP 1 CONVERT(varchar(40), first_lsn) AS first_lsn, CONVERT(varchar(40), last_lsn) AS last_lsn, CONVERT(varchar(40), database_backup_lsn) AS db_backup_lsn, [type] AS btype, DATEDIFF_BIG(SECOND, '1970-01-01', backup_finish_date) - (DATEDIFF(MINUTE, GETUTCDATE(), GETDATE()) * 60) AS finish_unix FROM msdb.dbo.backupset WHERE database_name = N'AdventureWorks' ORDER BY backup_set_id DESC
GO
-- source: sol1/pbsgui/crates/pbsgui-engine/src/sql/vdi.rs:819 restore_one — in-place restore
-- needs: vdi
-- needs: stream pubs full
RESTORE DATABASE [pubs] FROM VIRTUAL_DEVICE = 'vdisim_corpus_dev0' WITH REPLACE, RECOVERY
GO
-- source: sol1/pbsgui/crates/pbsgui-engine/src/sql/vdi.rs:1188 backup_filelist — restore under a new name: the file list, read over VDI
-- needs: vdi
-- needs: stream pubs full
RESTORE FILELISTONLY FROM VIRTUAL_DEVICE = 'vdisim_corpus_dev0'
GO
-- source: sol1/pbsgui/crates/pbsgui-engine/src/sql/vdi.rs:1219 default_dirs — where relocated files go
SELECT CAST(SERVERPROPERTY('InstanceDefaultDataPath') AS nvarchar(260)), CAST(SERVERPROPERTY('InstanceDefaultLogPath') AS nvarchar(260))
GO
-- source: sol1/pbsgui/crates/pbsgui-engine/src/sql/vdi.rs:834 restore_one — restore as pubs_pbs: each file moved to <default dir><target>_<original file name>
-- needs: vdi
-- needs: stream pubs full
-- needs: absent pubs_pbs
RESTORE DATABASE [pubs_pbs] FROM VIRTUAL_DEVICE = 'vdisim_corpus_dev0' WITH REPLACE, RECOVERY, MOVE N'pubs' TO N'/var/opt/mssql/data/pubs_pbs_pubs.mdf', MOVE N'pubs_log' TO N'/var/opt/mssql/data/pubs_pbs_pubs_log.ldf'
GO
-- source: sol1/pbsgui/crates/pbsgui-engine/src/sql/vdi.rs:870 restore_chain — the server's UTC offset, to turn the target time into a local STOPAT
SELECT DATEDIFF(MINUTE, GETUTCDATE(), GETDATE())
GO
-- source: sol1/pbsgui/crates/pbsgui-engine/src/sql/vdi.rs:897 restore_chain — the chain's full, in place
-- needs: vdi
-- needs: stream AdventureWorks full
RESTORE DATABASE [AdventureWorks] FROM VIRTUAL_DEVICE = 'vdisim_corpus_dev0' WITH REPLACE, NORECOVERY
GO
-- source: sol1/pbsgui/crates/pbsgui-engine/src/sql/vdi.rs:902 restore_chain — each log with the target time (ISO 8601 with a T, server local time)
-- note: the time is fixed, so it lies before backups made when the corpus runs; SQL Server answers that with its STOPAT-too-early error
-- needs: vdi
-- needs: stream AdventureWorks log
-- needs: restoring AdventureWorks
RESTORE LOG [AdventureWorks] FROM VIRTUAL_DEVICE = 'vdisim_corpus_dev0' WITH STOPAT = N'2026-01-15T10:30:00', NORECOVERY
GO
-- source: sol1/pbsgui/crates/pbsgui-engine/src/sql/vdi.rs:912 restore_chain — online at the recovered point
-- needs: restoring AdventureWorks
RESTORE DATABASE [AdventureWorks] WITH RECOVERY
GO
