-- corpus file: Ola Hallengren's SQL Server Maintenance Solution (version 2026-08-17 22:22:29),
-- olahallengren/sql-server-maintenance-solution @ be63a5e57887b4b2bd388621dfd7acb5ef6a6564.
-- The solution is a set of stored procedures; vdisim will not have them installed, so the
-- procedures' own statements are lifted out here one by one, with the variables they use
-- declared at the top of each batch (values as the procedure computes them for database pubs).
-- Ola's backup targets are DISK and URL; [Type] = N'VIRTUAL_DEVICE' stands in for them.
-- A final "-- corpus:" SELECT shows what a batch assigned, where the procedure only keeps it in variables.

-- source: olahallengren/sql-server-maintenance-solution/MaintenanceSolution.sql:14 — the installer's first batch: sysadmin / Amazon RDS check and a #Config temp table
USE [master] -- Specify the database in which the objects will be created.
SET NOCOUNT ON

DECLARE @CreateJobs nvarchar(max)          = 'Y'         -- Specify whether jobs should be created.
DECLARE @BackupDirectory nvarchar(max)     = NULL        -- Specify the backup root directory. If no directory is specified, the default backup directory is used.
DECLARE @BackupURL nvarchar(max)           = NULL        -- Specify the backup root URL.
DECLARE @CleanupTime int                   = NULL        -- Time in hours, after which backup files are deleted. If no time is specified, then no backup files are deleted.
DECLARE @OutputFileDirectory nvarchar(max) = NULL        -- Specify the output file directory. If no directory is specified, then the SQL Server error log directory is used.
DECLARE @LogToTable nvarchar(max)          = 'Y'         -- Log commands to a table.

DECLARE @ErrorMessage nvarchar(max)

IF IS_SRVROLEMEMBER('sysadmin') = 0 AND NOT (EXISTS (SELECT * FROM sys.databases WHERE [name] = 'rdsadmin') AND SUSER_SNAME(0x01) = 'rdsa')
BEGIN
  SET @ErrorMessage = 'You need to be a member of the SysAdmin server role to install the SQL Server Maintenance Solution.'
  RAISERROR(@ErrorMessage,16,1) WITH NOWAIT
END

IF @BackupDirectory IS NOT NULL AND @BackupURL IS NOT NULL
BEGIN
  SET @ErrorMessage = 'Only one of the variables @BackupDirectory and @BackupURL can be set.'
  RAISERROR(@ErrorMessage,16,1) WITH NOWAIT
END

IF @BackupURL IS NOT NULL AND @CleanupTime IS NOT NULL
BEGIN
  SET @ErrorMessage = 'The variable @CleanupTime is not supported with backup to URL.'
  RAISERROR(@ErrorMessage,16,1) WITH NOWAIT
END

IF OBJECT_ID('tempdb..#Config') IS NOT NULL DROP TABLE #Config

CREATE TABLE #Config ([Name] nvarchar(max),
                      [Value] nvarchar(max))

INSERT INTO #Config ([Name], [Value]) VALUES('CreateJobs', @CreateJobs)
INSERT INTO #Config ([Name], [Value]) VALUES('BackupDirectory', @BackupDirectory)
INSERT INTO #Config ([Name], [Value]) VALUES('BackupURL', @BackupURL)
INSERT INTO #Config ([Name], [Value]) VALUES('CleanupTime', @CleanupTime)
INSERT INTO #Config ([Name], [Value]) VALUES('OutputFileDirectory', @OutputFileDirectory)
INSERT INTO #Config ([Name], [Value]) VALUES('LogToTable', @LogToTable)
INSERT INTO #Config ([Name], [Value]) VALUES('DatabaseName', DB_NAME())
GO
-- source: olahallengren/sql-server-maintenance-solution/MaintenanceSolution.sql:75 — SET options the installer sends before each CREATE/ALTER PROCEDURE
SET ANSI_NULLS ON
GO
-- source: olahallengren/sql-server-maintenance-solution/MaintenanceSolution.sql:77
SET QUOTED_IDENTIFIER ON
GO
-- source: olahallengren/sql-server-maintenance-solution/MaintenanceSolution.sql:404 — is DatabaseBackup installed (the installer creates a stub through dbo.sp_executesql when it is not)
IF NOT EXISTS (SELECT * FROM sys.objects WHERE object_id = OBJECT_ID(N'[dbo].[DatabaseBackup]') AND type in (N'P', N'PC'))
BEGIN
EXEC dbo.sp_executesql @statement = N'CREATE PROCEDURE [dbo].[DatabaseBackup] AS'
END
GO
-- source: olahallengren/sql-server-maintenance-solution/MaintenanceSolution.sql:10343 — step of the Agent job "DatabaseBackup - USER_DATABASES - FULL" (lines joined by CR LF); without the procedure installed this is Msg 2812
EXECUTE [dbo].[DatabaseBackup]
@Databases = 'USER_DATABASES',
@Directory = NULL,
@BackupType = 'FULL',
@Verify = 'Y',
@CleanupTime = NULL,
@Checksum = 'Y',
@LogToTable = 'Y'
GO
-- source: olahallengren/sql-server-maintenance-solution/DatabaseBackup.sql:100 — server facts read at the start of every run, and the version arithmetic on ProductVersion (PARSENAME)
SET NOCOUNT ON

DECLARE @StartTime datetime2 = SYSDATETIME()
DECLARE @IsSysadmin bit = IS_SRVROLEMEMBER('sysadmin')
DECLARE @HostPlatform nvarchar(max)
DECLARE @ContainedAvailabilityGroupID uniqueidentifier
DECLARE @CurrentCommand nvarchar(max)

DECLARE @ProductVersion nvarchar(max) = CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(max))
DECLARE @ProductMajorVersion nvarchar(max) = CAST(SERVERPROPERTY('ProductMajorVersion') AS nvarchar(max))
DECLARE @ProductMinorVersion nvarchar(max) = CAST(SERVERPROPERTY('ProductMinorVersion') AS nvarchar(max))
DECLARE @ProductUpdateType nvarchar(max) = CAST(SERVERPROPERTY('ProductUpdateType') AS nvarchar(max))
DECLARE @EngineEdition int = CAST(SERVERPROPERTY('EngineEdition') AS int)
DECLARE @EditionID bigint = CAST(SERVERPROPERTY('EditionID') AS bigint)
DECLARE @Edition nvarchar(max) = CAST(SERVERPROPERTY('Edition') AS nvarchar(max))
DECLARE @IsHadrEnabled bit = CAST(SERVERPROPERTY('IsHadrEnabled') AS bit)
DECLARE @IsClustered bit = CAST(SERVERPROPERTY('IsClustered') AS bit)
DECLARE @ServerName nvarchar(max) = CAST(SERVERPROPERTY('ServerName') AS nvarchar(max))
DECLARE @InstanceName nvarchar(max) = CAST(SERVERPROPERTY('InstanceName') AS nvarchar(max))
DECLARE @MachineName nvarchar(max) = CAST(SERVERPROPERTY('MachineName') AS nvarchar(max))
DECLARE @InstanceDefaultBackupPath nvarchar(max) = CAST(SERVERPROPERTY('InstanceDefaultBackupPath') AS nvarchar(max))

DECLARE @Version numeric(18,10) = CAST(PARSENAME(@ProductVersion,4) + '.' + PARSENAME(@ProductVersion,3) + PARSENAME(@ProductVersion,2) AS numeric(18,10))

IF @EngineEdition = 8 AND @ProductVersion = '12.0.2000.8' AND @ProductUpdateType = 'CU'
BEGIN
  SET @Version = 16.01000
END

SELECT @HostPlatform = host_platform
FROM sys.dm_os_host_info

IF @Version >= 16 AND @EngineEdition NOT IN(5, 8)
BEGIN
  SET @CurrentCommand = 'SELECT @ParamContainedAvailabilityGroupID = contained_availability_group_id FROM sys.dm_exec_sessions WHERE session_id = @@SPID'

  EXECUTE sp_executesql @stmt = @CurrentCommand, @params = N'@ParamContainedAvailabilityGroupID uniqueidentifier OUTPUT', @ParamContainedAvailabilityGroupID = @ContainedAvailabilityGroupID OUTPUT
END

DECLARE @AmazonRDS bit = CASE WHEN @EngineEdition IN (5, 8) THEN 0 WHEN EXISTS (SELECT * FROM sys.databases WHERE [name] = 'rdsadmin') AND SUSER_SNAME(0x01) = 'rdsa' THEN 1 ELSE 0 END

-- corpus: show what the procedure read
SELECT @ProductVersion AS ProductVersion, @ProductMajorVersion AS ProductMajorVersion, @Version AS [Version], @EngineEdition AS EngineEdition, @Edition AS Edition, @IsHadrEnabled AS IsHadrEnabled, @IsClustered AS IsClustered, @HostPlatform AS HostPlatform, @IsSysadmin AS IsSysadmin, @AmazonRDS AS AmazonRDS, @ContainedAvailabilityGroupID AS ContainedAvailabilityGroupID
GO
-- source: olahallengren/sql-server-maintenance-solution/DatabaseBackup.sql:419 — the run's header, printed with RAISERROR … WITH NOWAIT
DECLARE @StartMessage nvarchar(max)
DECLARE @ServerName nvarchar(max) = CAST(SERVERPROPERTY('ServerName') AS nvarchar(max))
DECLARE @ProductVersion nvarchar(max) = CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(max))
DECLARE @Edition nvarchar(max) = CAST(SERVERPROPERTY('Edition') AS nvarchar(max))
DECLARE @IsSysadmin bit = IS_SRVROLEMEMBER('sysadmin')
DECLARE @EmptyLine nvarchar(max) = CHAR(9)

SET @StartMessage = 'Server: ' + @ServerName
RAISERROR('%s',10,1,@StartMessage) WITH NOWAIT

SET @StartMessage = 'Version: ' + @ProductVersion
RAISERROR('%s',10,1,@StartMessage) WITH NOWAIT

SET @StartMessage = 'Edition: ' + @Edition
RAISERROR('%s',10,1,@StartMessage) WITH NOWAIT

SET @StartMessage = 'Is sysadmin: ' + CASE WHEN @IsSysadmin = 1 THEN 'Yes' WHEN @IsSysadmin = 0 THEN 'No' ELSE 'N/A' END
RAISERROR('%s',10,1,@StartMessage) WITH NOWAIT

SET @StartMessage = 'Database: ' + QUOTENAME(DB_NAME())
RAISERROR('%s',10,1,@StartMessage) WITH NOWAIT

SET @StartMessage = 'Source: https://ola.hallengren.com'
RAISERROR('%s',10,1,@StartMessage) WITH NOWAIT
RAISERROR(@EmptyLine,10,1) WITH NOWAIT
GO
-- source: olahallengren/sql-server-maintenance-solution/DatabaseBackup.sql:506 — core requirements: are CommandExecute and CommandLog installed
SELECT CASE WHEN EXISTS (SELECT * FROM sys.objects objects INNER JOIN sys.schemas schemas ON objects.[schema_id] = schemas.[schema_id] WHERE objects.[type] = 'P' AND schemas.[name] = 'dbo' AND objects.[name] = 'CommandExecute') THEN 1 ELSE 0 END AS CommandExecuteInstalled,
       CASE WHEN EXISTS (SELECT * FROM sys.objects objects INNER JOIN sys.schemas schemas ON objects.[schema_id] = schemas.[schema_id] WHERE objects.[type] = 'U' AND schemas.[name] = 'dbo' AND objects.[name] = 'CommandLog') THEN 1 ELSE 0 END AS CommandLogInstalled
GO
-- source: olahallengren/sql-server-maintenance-solution/DatabaseBackup.sql:620 — the candidate databases, names made file-system safe, system/user type
DECLARE @tmpDatabases TABLE (ID int IDENTITY,
                             DatabaseName nvarchar(128),
                             DatabaseNameFS nvarchar(128),
                             DatabaseType nvarchar(1),
                             AvailabilityGroup bit,
                             StartPosition int,
                             DatabaseSize bigint,
                             LogSizeSinceLastLogBackup float,
                             [Order] int DEFAULT 0,
                             Selected bit DEFAULT 0,
                             Completed bit DEFAULT 0,
                             PRIMARY KEY (Selected, Completed, [Order], ID))

INSERT INTO @tmpDatabases (DatabaseName, DatabaseNameFS, DatabaseType, AvailabilityGroup)
SELECT [name] AS DatabaseName,
       RTRIM(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE([name],'\',''),'/',''),':',''),'*',''),'?',''),'"',''),'<',''),'>',''),'|','')) AS DatabaseNameFS,
       CASE WHEN name IN('master','msdb','model') OR is_distributor = 1 THEN 'S' ELSE 'U' END AS DatabaseType,
       NULL AS AvailabilityGroup
FROM sys.databases
WHERE [name] <> 'tempdb'
AND source_database_id IS NULL
ORDER BY [name] ASC

UPDATE tmpDatabases
SET DatabaseSize = (SELECT SUM(CAST(size AS bigint)) FROM sys.master_files WHERE [type] = 0 AND database_id = DB_ID(tmpDatabases.DatabaseName))
FROM @tmpDatabases tmpDatabases

-- corpus: show the list
SELECT DatabaseName, DatabaseNameFS, DatabaseType, DatabaseSize FROM @tmpDatabases ORDER BY ID
GO
-- source: olahallengren/sql-server-maintenance-solution/DatabaseBackup.sql:609 — availability groups and their databases (run when IsHadrEnabled = 1)
-- needs: hadr
SELECT name AS AvailabilityGroupName
FROM sys.availability_groups

SELECT databases.name,
       availability_groups.name
FROM sys.databases databases
INNER JOIN sys.availability_replicas availability_replicas ON databases.replica_id = availability_replicas.replica_id
INNER JOIN sys.availability_groups availability_groups ON availability_replicas.group_id = availability_groups.group_id
GO
-- source: olahallengren/sql-server-maintenance-solution/DatabaseBackup.sql:1243 — backup checksum / compression defaults from sys.configurations when @Checksum and @Compress are not given
DECLARE @Checksum nvarchar(max)
DECLARE @Compress nvarchar(max)
DECLARE @CompressionAlgorithm nvarchar(max)
DECLARE @BackupSoftware nvarchar(max) = NULL

SELECT @Checksum = CASE WHEN EXISTS(SELECT * FROM sys.configurations WHERE name = 'backup checksum default' AND value_in_use = 1) THEN 'Y'
                        WHEN NOT EXISTS(SELECT * FROM sys.configurations WHERE name = 'backup checksum default' AND value_in_use = 1) THEN 'N' END

SELECT @Compress = CASE WHEN @BackupSoftware IS NULL AND EXISTS(SELECT * FROM sys.configurations WHERE name = 'backup compression default' AND value_in_use = 1) THEN 'Y'
                        WHEN @BackupSoftware IS NULL AND NOT EXISTS(SELECT * FROM sys.configurations WHERE name = 'backup compression default' AND value_in_use = 1) THEN 'N' END

SELECT @CompressionAlgorithm = CASE WHEN @BackupSoftware IS NULL AND EXISTS(SELECT * FROM sys.configurations WHERE name = 'backup compression algorithm' AND value_in_use IN (0, 1)) THEN 'MS_XPRESS'
                                    WHEN @BackupSoftware IS NULL AND EXISTS(SELECT * FROM sys.configurations WHERE name = 'backup compression algorithm' AND value_in_use = 2) THEN 'QAT_DEFLATE'
                                    WHEN @BackupSoftware IS NULL AND EXISTS(SELECT * FROM sys.configurations WHERE name = 'backup compression algorithm' AND value_in_use = 3) THEN 'ZSTD' END

-- corpus: show the defaults
SELECT @Checksum AS [Checksum], @Compress AS [Compress], @CompressionAlgorithm AS CompressionAlgorithm
GO
-- source: olahallengren/sql-server-maintenance-solution/DatabaseBackup.sql:3018 — state of the current database; the subquery names the outer table as sys.databases.database_id
DECLARE @CurrentDatabaseName nvarchar(max) = N'pubs'
DECLARE @CurrentUserAccess nvarchar(max)
DECLARE @CurrentIsReadOnly bit
DECLARE @CurrentDatabaseState nvarchar(max)
DECLARE @CurrentInStandby bit
DECLARE @CurrentRecoveryModel nvarchar(max)
DECLARE @CurrentIsEncrypted bit
DECLARE @CurrentDatabaseSize bigint

SELECT @CurrentUserAccess = user_access_desc,
       @CurrentIsReadOnly = is_read_only,
       @CurrentDatabaseState = state_desc,
       @CurrentInStandby = is_in_standby,
       @CurrentRecoveryModel = recovery_model_desc,
       @CurrentIsEncrypted = is_encrypted,
       @CurrentDatabaseSize = (SELECT SUM(CAST(size AS bigint)) FROM sys.master_files WHERE [type] = 0 AND database_id = sys.databases.database_id)
FROM sys.databases
WHERE [name] = @CurrentDatabaseName

-- corpus: show the state
SELECT @CurrentUserAccess AS UserAccess, @CurrentIsReadOnly AS IsReadOnly, @CurrentDatabaseState AS DatabaseState, @CurrentInStandby AS InStandby, @CurrentRecoveryModel AS RecoveryModel, @CurrentIsEncrypted AS IsEncrypted, @CurrentDatabaseSize AS DatabaseSize
GO
-- source: olahallengren/sql-server-maintenance-solution/DatabaseBackup.sql:3030 — the per-database messages
DECLARE @CurrentDatabaseName nvarchar(max) = N'pubs'
DECLARE @DatabaseMessage nvarchar(max)
DECLARE @CurrentInStandby bit = 0
DECLARE @CurrentIsReadOnly bit = 0
DECLARE @CurrentUserAccess nvarchar(max) = (SELECT user_access_desc FROM sys.databases WHERE [name] = @CurrentDatabaseName)
DECLARE @CurrentRecoveryModel nvarchar(max) = (SELECT recovery_model_desc FROM sys.databases WHERE [name] = @CurrentDatabaseName)

SET @DatabaseMessage = 'Database: ' + QUOTENAME(@CurrentDatabaseName)
RAISERROR('%s',10,1,@DatabaseMessage) WITH NOWAIT

SET @DatabaseMessage = 'Standby: ' + CASE WHEN @CurrentInStandby = 1 THEN 'Yes' ELSE 'No' END
RAISERROR('%s',10,1,@DatabaseMessage) WITH NOWAIT

SET @DatabaseMessage =  'Updateability: ' + CASE WHEN @CurrentIsReadOnly = 1 THEN 'READ_ONLY' WHEN  @CurrentIsReadOnly = 0 THEN 'READ_WRITE' END
RAISERROR('%s',10,1,@DatabaseMessage) WITH NOWAIT

SET @DatabaseMessage =  'User access: ' + @CurrentUserAccess
RAISERROR('%s',10,1,@DatabaseMessage) WITH NOWAIT

SET @DatabaseMessage = 'Recovery model: ' + @CurrentRecoveryModel
RAISERROR('%s',10,1,@DatabaseMessage) WITH NOWAIT
GO
-- source: olahallengren/sql-server-maintenance-solution/DatabaseBackup.sql:3052 — availability-group role of the database's replica (run when IsHadrEnabled = 1)
-- needs: hadr
DECLARE @CurrentDatabaseName nvarchar(max) = N'pubs'
DECLARE @CurrentAvailabilityGroupReplicaID uniqueidentifier
DECLARE @CurrentAvailabilityGroupID uniqueidentifier
DECLARE @CurrentSecondaryRoleAllowConnections nvarchar(max)
DECLARE @CurrentAvailabilityGroupRole nvarchar(max)
DECLARE @CurrentAvailabilityGroupDatabaseReplicaSynchronizationState nvarchar(max)
DECLARE @CurrentAvailabilityGroupDatabaseReplicaSynchronizationHealth nvarchar(max)
DECLARE @CurrentAvailabilityGroup nvarchar(max)
DECLARE @CurrentAvailabilityGroupBackupPreference nvarchar(max)

SELECT @CurrentAvailabilityGroupReplicaID = databases.replica_id
FROM sys.databases databases
INNER JOIN sys.availability_replicas availability_replicas ON databases.replica_id = availability_replicas.replica_id
WHERE databases.[name] = @CurrentDatabaseName

SELECT @CurrentAvailabilityGroupID = group_id
FROM sys.availability_replicas
WHERE replica_id = @CurrentAvailabilityGroupReplicaID

SELECT @CurrentSecondaryRoleAllowConnections = secondary_role_allow_connections_desc
FROM sys.availability_replicas
WHERE replica_id = @CurrentAvailabilityGroupReplicaID

SELECT @CurrentAvailabilityGroupRole = role_desc
FROM sys.dm_hadr_availability_replica_states
WHERE replica_id = @CurrentAvailabilityGroupReplicaID

SELECT @CurrentAvailabilityGroupDatabaseReplicaSynchronizationState = synchronization_state_desc,
       @CurrentAvailabilityGroupDatabaseReplicaSynchronizationHealth = synchronization_health_desc
FROM sys.dm_hadr_database_replica_states
WHERE replica_id = @CurrentAvailabilityGroupReplicaID
AND database_id = DB_ID(@CurrentDatabaseName)

SELECT @CurrentAvailabilityGroup = [name],
       @CurrentAvailabilityGroupBackupPreference = UPPER(automated_backup_preference_desc)
FROM sys.availability_groups
WHERE group_id = @CurrentAvailabilityGroupID

-- corpus: show the AG facts (all NULL outside an availability group)
SELECT @CurrentAvailabilityGroup AS AvailabilityGroup, @CurrentAvailabilityGroupRole AS AvailabilityGroupRole, @CurrentAvailabilityGroupBackupPreference AS BackupPreference
GO
-- source: olahallengren/sql-server-maintenance-solution/DatabaseBackup.sql:3103 — is this the preferred backup replica
-- needs: hadr
DECLARE @CurrentDatabaseName nvarchar(max) = N'pubs'
DECLARE @CurrentIsPreferredBackupReplica bit

SELECT @CurrentIsPreferredBackupReplica = sys.fn_hadr_backup_is_preferred_replica(@CurrentDatabaseName)

-- corpus: show the answer
SELECT @CurrentIsPreferredBackupReplica AS IsPreferredBackupReplica
GO
-- source: olahallengren/sql-server-maintenance-solution/DatabaseBackup.sql:3125 — differential base of the primary data file and the last log backup LSN
-- needs: history AdventureWorks
DECLARE @CurrentDatabaseName nvarchar(max) = N'AdventureWorks'
DECLARE @CurrentDatabaseState nvarchar(max) = 'ONLINE'
DECLARE @CurrentInStandby bit = 0
DECLARE @CurrentDifferentialBaseLSN numeric(25,0)
DECLARE @CurrentLogLSN numeric(25,0)

SELECT @CurrentDifferentialBaseLSN = differential_base_lsn
FROM sys.master_files
WHERE database_id = DB_ID(@CurrentDatabaseName)
AND [type] = 0
AND [file_id] = 1

IF @CurrentDatabaseState = 'ONLINE' AND NOT (@CurrentInStandby = 1)
BEGIN
  SELECT @CurrentLogLSN = last_log_backup_lsn
  FROM sys.database_recovery_status
  WHERE database_id = DB_ID(@CurrentDatabaseName)
END

-- corpus: show the LSNs
SELECT @CurrentDifferentialBaseLSN AS DifferentialBaseLSN, @CurrentLogLSN AS LogLSN
GO
-- source: olahallengren/sql-server-maintenance-solution/DatabaseBackup.sql:3143 — is a BACKUP DATABASE already running on this database (SQL Server 2022 CU10 and later)
DECLARE @CurrentDatabaseName nvarchar(max) = N'pubs'
DECLARE @BackupInProgress bit

SET @BackupInProgress = CASE WHEN EXISTS(SELECT * FROM sys.dm_exec_requests WHERE database_id = DB_ID(@CurrentDatabaseName) AND command = 'BACKUP DATABASE') THEN 1 ELSE 0 END

-- corpus: show the answer
SELECT @BackupInProgress AS BackupInProgress
GO
-- source: olahallengren/sql-server-maintenance-solution/DatabaseBackup.sql:3154 — allocated and modified extents, through the database's own sp_executesql named in a variable (@ChangeBackupType / @MinModificationLevel)
DECLARE @CurrentDatabaseName nvarchar(max) = N'pubs'
DECLARE @CurrentDatabase_sp_executesql nvarchar(max) = QUOTENAME(@CurrentDatabaseName) + '.sys.sp_executesql'
DECLARE @CurrentCommand nvarchar(max)
DECLARE @CurrentAllocatedExtentPageCount bigint
DECLARE @CurrentModifiedExtentPageCount bigint

SET @CurrentCommand = 'SELECT @ParamAllocatedExtentPageCount = SUM(allocated_extent_page_count), @ParamModifiedExtentPageCount = SUM(modified_extent_page_count) FROM sys.dm_db_file_space_usage'

EXECUTE @CurrentDatabase_sp_executesql @stmt = @CurrentCommand, @params = N'@ParamAllocatedExtentPageCount bigint OUTPUT, @ParamModifiedExtentPageCount bigint OUTPUT', @ParamAllocatedExtentPageCount = @CurrentAllocatedExtentPageCount OUTPUT, @ParamModifiedExtentPageCount = @CurrentModifiedExtentPageCount OUTPUT

-- corpus: show the counts
SELECT @CurrentAllocatedExtentPageCount AS AllocatedExtentPageCount, @CurrentModifiedExtentPageCount AS ModifiedExtentPageCount
GO
-- source: olahallengren/sql-server-maintenance-solution/DatabaseBackup.sql:3171 — last log backup time and log generated since, from a table-valued DMF
DECLARE @CurrentDatabaseName nvarchar(max) = N'AdventureWorks'
DECLARE @CurrentLastLogBackup datetime2
DECLARE @CurrentLogSizeSinceLastLogBackup float

SELECT @CurrentLastLogBackup = NULLIF(log_backup_time,'1900-01-01'),
       @CurrentLogSizeSinceLastLogBackup = log_since_last_log_backup_mb
FROM sys.dm_db_log_stats (DB_ID(@CurrentDatabaseName))

-- corpus: show the values
SELECT @CurrentLastLogBackup AS LastLogBackup, @CurrentLogSizeSinceLastLogBackup AS LogSizeSinceLastLogBackup
GO
-- source: olahallengren/sql-server-maintenance-solution/DatabaseBackup.sql:3179 — before a DIFF: was the differential base a snapshot backup
-- needs: history AdventureWorks
DECLARE @CurrentDatabaseName nvarchar(max) = N'AdventureWorks'
DECLARE @CurrentDifferentialBaseLSN numeric(25,0) = (SELECT differential_base_lsn FROM sys.master_files WHERE database_id = DB_ID(@CurrentDatabaseName) AND [type] = 0 AND [file_id] = 1)
DECLARE @CurrentDifferentialBaseIsSnapshot bit

SELECT @CurrentDifferentialBaseIsSnapshot = is_snapshot
FROM msdb.dbo.backupset
WHERE [database_name] = @CurrentDatabaseName
AND [type] = 'D'
AND checkpoint_lsn = @CurrentDifferentialBaseLSN

-- corpus: show the answer
SELECT @CurrentDifferentialBaseIsSnapshot AS DifferentialBaseIsSnapshot
GO
-- source: olahallengren/sql-server-maintenance-solution/DatabaseBackup.sql:3224 — mirroring and log-shipping role of the database
DECLARE @CurrentDatabaseName nvarchar(max) = N'pubs'
DECLARE @CurrentDatabaseMirroringRole nvarchar(max)
DECLARE @CurrentLogShippingRole nvarchar(max)

SELECT @CurrentDatabaseMirroringRole = UPPER(mirroring_role_desc)
FROM sys.database_mirroring database_mirroring
INNER JOIN sys.databases databases ON database_mirroring.database_id = databases.database_id
WHERE databases.[name] = @CurrentDatabaseName

IF EXISTS (SELECT * FROM msdb.dbo.log_shipping_primary_databases WHERE primary_database = @CurrentDatabaseName)
BEGIN
  SET @CurrentLogShippingRole = 'PRIMARY'
END
ELSE
IF EXISTS (SELECT * FROM msdb.dbo.log_shipping_secondary_databases WHERE secondary_database = @CurrentDatabaseName)
BEGIN
  SET @CurrentLogShippingRole = 'SECONDARY'
END

-- corpus: show the roles
SELECT @CurrentDatabaseMirroringRole AS DatabaseMirroringRole, @CurrentLogShippingRole AS LogShippingRole
GO
-- source: olahallengren/sql-server-maintenance-solution/DatabaseBackup.sql:3376 — before a LOG backup with @CleanupTime: start of the newest full/diff (or older log) in msdb
-- needs: history AdventureWorks
DECLARE @CurrentDatabaseName nvarchar(max) = N'AdventureWorks'
DECLARE @CurrentDifferentialBaseLSN numeric(25,0) = (SELECT differential_base_lsn FROM sys.master_files WHERE database_id = DB_ID(@CurrentDatabaseName) AND [type] = 0 AND [file_id] = 1)
DECLARE @CurrentLatestBackup datetime2

SELECT @CurrentLatestBackup = MAX(backup_start_date)
FROM msdb.dbo.backupset
WHERE ([type] IN('D','I')
OR ([type] = 'L' AND last_lsn < @CurrentDifferentialBaseLSN))
AND is_damaged = 0
AND [database_name] = @CurrentDatabaseName

-- corpus: show the date's presence (the date itself varies)
SELECT CASE WHEN @CurrentLatestBackup IS NULL THEN 0 ELSE 1 END AS HasLatestBackup
GO
-- source: olahallengren/sql-server-maintenance-solution/DatabaseBackup.sql:4094 — how the BACKUP command is built: TO list with STRING_AGG … WITHIN GROUP, then the WITH options
-- corpus: Ola declares [Type] nvarchar(4) (DISK/URL); widened here so that VIRTUAL_DEVICE fits
DECLARE @CurrentDatabaseName nvarchar(max) = N'pubs'
DECLARE @CurrentBackupType nvarchar(max) = 'FULL'
DECLARE @Checksum nvarchar(max) = 'Y'
DECLARE @Compress nvarchar(max) = 'N'
DECLARE @CurrentCommand nvarchar(max)
DECLARE @CurrentFiles TABLE ([Type] nvarchar(14),
                             FilePath nvarchar(max),
                             Mirror bit)

INSERT INTO @CurrentFiles ([Type], FilePath, Mirror) VALUES ('VIRTUAL_DEVICE', N'vdisim_corpus_dev1', 0)
INSERT INTO @CurrentFiles ([Type], FilePath, Mirror) VALUES ('VIRTUAL_DEVICE', N'vdisim_corpus_dev0', 0)

SELECT @CurrentCommand = CASE
WHEN @CurrentBackupType IN('DIFF','FULL') THEN 'BACKUP DATABASE ' + QUOTENAME(@CurrentDatabaseName)
WHEN @CurrentBackupType = 'LOG' THEN 'BACKUP LOG ' + QUOTENAME(@CurrentDatabaseName)
END

SET @CurrentCommand += ' TO'

SELECT @CurrentCommand += ' ' + STRING_AGG([Type] + ' = N''' + REPLACE(FilePath, '''', '''''') + '''', ', ')
                                WITHIN GROUP (ORDER BY FilePath ASC)
FROM @CurrentFiles
WHERE Mirror = 0

SET @CurrentCommand += ' WITH '
IF @Checksum = 'Y' SET @CurrentCommand += 'CHECKSUM'
IF @Checksum = 'N' SET @CurrentCommand += 'NO_CHECKSUM'

SET @CurrentCommand += CASE WHEN @Compress = 'Y' THEN ', COMPRESSION' ELSE ', NO_COMPRESSION' END

-- corpus: show the command the procedure would pass to CommandExecute
SELECT @CurrentCommand AS Command
GO
-- source: olahallengren/sql-server-maintenance-solution/CommandExecute.sql:17 — CommandExecute running a built BACKUP in [master]: log lines, EXECUTE of a procedure named in a variable, outcome and duration
-- needs: vdi
DECLARE @DatabaseContext nvarchar(max) = N'master'
DECLARE @Command nvarchar(max) = N'BACKUP DATABASE [pubs] TO VIRTUAL_DEVICE = N''vdisim_corpus_dev0'' WITH CHECKSUM, NO_COMPRESSION'
DECLARE @sp_executesql nvarchar(max) = QUOTENAME(@DatabaseContext) + '.sys.sp_executesql'
DECLARE @StartMessage nvarchar(max)
DECLARE @EndMessage nvarchar(max)
DECLARE @StartTime datetime2
DECLARE @EndTime datetime2
DECLARE @Error int = 0
DECLARE @ReturnCode int = 0
DECLARE @EmptyLine nvarchar(max) = CHAR(9)

SET @StartTime = SYSDATETIME()

SET @StartMessage = 'Database context: ' + QUOTENAME(@DatabaseContext)
RAISERROR('%s',10,1,@StartMessage) WITH NOWAIT

SET @StartMessage = 'Command: ' + @Command
RAISERROR('%s',10,1,@StartMessage) WITH NOWAIT

EXECUTE @sp_executesql @stmt = @Command
SET @Error = @@ERROR
SET @ReturnCode = @Error

SET @EndTime = SYSDATETIME()

SET @EndMessage = 'Outcome: ' + CASE WHEN @Error = 0 THEN 'Succeeded' ELSE 'Failed' END
RAISERROR('%s',10,1,@EndMessage) WITH NOWAIT

SET @EndMessage = 'Duration: ' + CASE WHEN (DATEDIFF(SECOND,@StartTime,@EndTime) / (24 * 3600)) > 0 THEN CAST((DATEDIFF(SECOND,@StartTime,@EndTime) / (24 * 3600)) AS nvarchar(max)) + '.' ELSE '' END + CONVERT(nvarchar(max),DATEADD(SECOND,DATEDIFF(SECOND,@StartTime,@EndTime),'1900-01-01'),108)
RAISERROR('%s',10,1,@EndMessage) WITH NOWAIT

RAISERROR(@EmptyLine,10,1) WITH NOWAIT
GO
-- source: olahallengren/sql-server-maintenance-solution/CommandExecute.sql:244 — @Mode = 2 (TRY/CATCH) running a command that fails: the error is re-raised as text with ERROR_NUMBER()/ERROR_MESSAGE()
-- needs: vdi
DECLARE @sp_executesql nvarchar(max) = QUOTENAME(N'master') + '.sys.sp_executesql'
DECLARE @Command nvarchar(max) = N'BACKUP LOG [pubs] TO VIRTUAL_DEVICE = N''vdisim_corpus_dev0'' WITH CHECKSUM, NO_COMPRESSION'
DECLARE @Error int = 0
DECLARE @ErrorMessage nvarchar(max)
DECLARE @ErrorMessageOriginal nvarchar(max)
DECLARE @Severity int
DECLARE @LockMessageSeverity int = 16
DECLARE @ReturnCode int = 0

BEGIN TRY
  EXECUTE @sp_executesql @stmt = @Command
END TRY
BEGIN CATCH
  SET @Error = ERROR_NUMBER()
  SET @ErrorMessageOriginal = ERROR_MESSAGE()

  SET @ErrorMessage = 'Msg ' + CAST(ERROR_NUMBER() AS nvarchar(max)) + ', ' + ISNULL(ERROR_MESSAGE(),'')
  SET @Severity = CASE WHEN ERROR_NUMBER() IN(1205, 1222, 5245) THEN @LockMessageSeverity ELSE ERROR_SEVERITY() END
  RAISERROR('%s',@Severity,1,@ErrorMessage) WITH NOWAIT

  IF NOT (ERROR_NUMBER() IN(1205, 1222, 5245) AND @LockMessageSeverity = 10)
  BEGIN
    SET @ReturnCode = ERROR_NUMBER()
  END
END CATCH

-- corpus: show the return code CommandExecute would return
SELECT @ReturnCode AS ReturnCode
GO
-- source: olahallengren/sql-server-maintenance-solution/DatabaseBackup.sql:4110 — FULL with the job's @Checksum = 'Y' and the default (no compression)
-- needs: vdi
BACKUP DATABASE [pubs] TO VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH CHECKSUM, NO_COMPRESSION
GO
-- source: olahallengren/sql-server-maintenance-solution/DatabaseBackup.sql:4393 — @Verify = 'Y': the backup just written, verified with CHECKSUM
-- needs: vdi
-- needs: stream pubs full
RESTORE VERIFYONLY FROM VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH CHECKSUM
GO
-- source: olahallengren/sql-server-maintenance-solution/DatabaseBackup.sql:4094 — FULL, two files (@NumberOfFiles = 2), @Compress = 'Y' (on SQL Server 2022 the default algorithm is spelled out), buffers and STATS
-- needs: vdi
BACKUP DATABASE [AdventureWorks] TO VIRTUAL_DEVICE = N'vdisim_corpus_dev0', VIRTUAL_DEVICE = N'vdisim_corpus_dev1' WITH CHECKSUM, COMPRESSION (ALGORITHM = MS_XPRESS), BUFFERCOUNT = 50, MAXTRANSFERSIZE = 4194304, STATS = 10
GO
-- source: olahallengren/sql-server-maintenance-solution/DatabaseBackup.sql:4094 — @BackupType = 'DIFF' with @Description and @BackupSetName
-- needs: vdi
-- needs: history AdventureWorks
BACKUP DATABASE [AdventureWorks] TO VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH CHECKSUM, NO_COMPRESSION, DIFFERENTIAL, DESCRIPTION = N'Nightly differential', NAME = N'AdventureWorks DIFF'
GO
-- source: olahallengren/sql-server-maintenance-solution/DatabaseBackup.sql:4097 — @BackupType = 'LOG'
-- needs: vdi
-- needs: history AdventureWorks
BACKUP LOG [AdventureWorks] TO VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH CHECKSUM, NO_COMPRESSION
GO
-- source: olahallengren/sql-server-maintenance-solution/DatabaseBackup.sql:4133 — @CopyOnly = 'Y', @Init = 'Y', @Format = 'Y', @BlockSize, @BufferCount, @MaxTransferSize, @RetainDays
-- needs: vdi
BACKUP DATABASE [pubs] TO VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH CHECKSUM, NO_COMPRESSION, COPY_ONLY, INIT, FORMAT, BLOCKSIZE = 65536, BUFFERCOUNT = 20, MAXTRANSFERSIZE = 2097152, RETAINDAYS = 7
GO
-- source: olahallengren/sql-server-maintenance-solution/DatabaseBackup.sql:4115 — @Compress = 'Y' with @CompressionAlgorithm = 'ZSTD' and @CompressionLevel (SQL Server 2025 syntax)
-- needs: vdi
BACKUP DATABASE [pubs] TO VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH CHECKSUM, COMPRESSION (ALGORITHM = ZSTD, LEVEL = LOW)
GO
-- source: olahallengren/sql-server-maintenance-solution/DatabaseBackup.sql:4134 — @NoRecovery = 'Y' on a LOG backup (tail of the log, database left RESTORING)
-- needs: vdi
-- needs: history AdventureWorks
BACKUP LOG [AdventureWorks] TO VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH CHECKSUM, NO_COMPRESSION, NORECOVERY
GO
-- source: olahallengren/sql-server-maintenance-solution/DatabaseBackup.sql:4145 — @ExpireDate (CONVERT style 21)
-- needs: vdi
BACKUP DATABASE [pubs] TO VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH CHECKSUM, NO_COMPRESSION, EXPIREDATE = '2030-01-01 00:00:00.0000000'
GO
-- source: olahallengren/sql-server-maintenance-solution/DatabaseIntegrityCheck.sql:1592 — the integrity check after a restore, with @LockTimeout = 60 and @NoInformationalMessages = 'Y'
SET LOCK_TIMEOUT 60000; DBCC CHECKDB ([pubs]) WITH ALL_ERRORMSGS, NO_INFOMSGS
GO
-- source: olahallengren/sql-server-maintenance-solution/DatabaseIntegrityCheck.sql:1594 — @DataPurity = 'Y', @PhysicalOnly left 'N', @MaxDOP = 2
DBCC CHECKDB ([pubs]) WITH ALL_ERRORMSGS, DATA_PURITY, MAXDOP = 2
GO
-- source: olahallengren/sql-server-maintenance-solution/MaintenanceSolution.sql:10368 — step of the Agent job "sp_delete_backuphistory", run in msdb (lines joined by CR LF)
USE [msdb]
GO
-- source: olahallengren/sql-server-maintenance-solution/MaintenanceSolution.sql:10368 — the step itself
DECLARE @CleanupDate datetime
SET @CleanupDate = DATEADD(dd,-30,GETDATE())
EXECUTE dbo.sp_delete_backuphistory @oldest_date = @CleanupDate
GO
-- source: olahallengren/sql-server-maintenance-solution/MaintenanceSolution.sql:10368 — the Agent job's next step starts in master again
USE [master]
GO
