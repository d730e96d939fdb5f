-- corpus file: SQL Server Management Objects (SMO), the library under SSMS, dbatools and
-- many vendors' .NET agents. Statements are the text SMO builds in
-- microsoft/sqlmanagementobjects @ 4e06045e472ab0880597b72d218793d700e3e507, rendered for
-- database pubs and a DeviceType.VirtualDevice device named vdisim_corpus_dev0.
-- SMO's odd spacing ("TO  VIRTUAL_DEVICE", "WITH  FILE = 1,  NOUNLOAD") is kept on purpose.
-- Parameterised SqlCommands are written as the sp_executesql call SqlClient sends.

-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/ConnectionInfo/ServerInformation.cs:109 GetServerInformation — first query on every SMO connection: edition, version, collation, host platform, transport
DECLARE @edition sysname;
SET @edition = cast(SERVERPROPERTY(N'EDITION') as sysname);
SELECT case when @edition = N'SQL Azure' then 2 else 1 end as 'DatabaseEngineType',
SERVERPROPERTY('EngineEdition') AS DatabaseEngineEdition,
SERVERPROPERTY('ProductVersion') AS ProductVersion,
@@MICROSOFTVERSION AS MicrosoftVersion,
case when serverproperty('EngineEdition') = 12 then 1 when serverproperty('EngineEdition') = 11 and @@version like 'Microsoft Azure SQL Data Warehouse%' then 1 else 0 end as IsFabricServer,
convert(sysname, SERVERPROPERTY(N'Collation')) AS Collation;
select host_platform from sys.dm_os_host_info
if @edition = N'SQL Azure' 
  select 'TCP' as ConnectionProtocol
else
  exec ('select CONVERT(nvarchar(40),CONNECTIONPROPERTY(''net_transport'')) as ConnectionProtocol')
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/ConnectionInfo/ConnectionManager.cs:207 — LockTimeout applied to a new connection (ServerConnection.LockTimeout = 10 s)
SET LOCK_TIMEOUT 10000
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/ConnectionInfo/ConnectionManager.cs:478 — contained-authentication probe sent with the initial catalog switch
use [pubs];
if (db_id() = 1)
begin
-- contained auth is 0 when connected to master
select 0
end
else
begin
-- need dynamic sql so that we compile this query only when we know resource db is available
exec('select case when authenticating_database_id = 1 then 0 else 1 end from
sys.dm_exec_sessions where session_id = @@SPID')
end;use [master]; --resetting the context
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/ConnectionInfo/ServerConnection.cs:76 — collation LCID and compare style of a database (SqlCommand with an nvarchar @dbname parameter)
exec sp_executesql N'SELECT COLLATIONPROPERTY((select collation_name from sys.databases where name = ISNULL(@dbname, db_name())), ''LCID''), COLLATIONPROPERTY((select collation_name from sys.databases where name = ISNULL(@dbname, db_name())), ''ComparisonStyle'')',N'@dbname nvarchar(4)',@dbname=N'pubs'
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/ConnectionInfo/ConnectionManager.cs:922 — does the initial catalog exist (parameterised)
exec sp_executesql N'SELECT CASE WHEN db_id(@db_name) IS NULL THEN 0 ELSE 1 END',N'@db_name nvarchar(4)',@db_name=N'pubs'
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/ConnectionInfo/ServerConnection.cs:1707 FixedServerRoles — server-role bitmask of the login
select is_srvrolemember('sysadmin') * 1 +is_srvrolemember('serveradmin') * 2 +is_srvrolemember('setupadmin') * 4 +is_srvrolemember('securityadmin') * 8 +is_srvrolemember('processadmin') * 16 +is_srvrolemember('dbcreator') * 32 +is_srvrolemember('diskadmin') * 64+ is_srvrolemember('bulkadmin') * 128
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/ConnectionInfo/ServerConnection.cs:1814 TrueLogin — login name
select suser_sname()
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/ConnectionInfo/ServerConnection.cs:1846 TrueName — server name
select SERVERPROPERTY(N'servername')
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/ConnectionInfo/ServerConnection.cs:1790 ProcessID — session id
select @@SPID
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/ConnectionInfo/ServerConnection.cs:1653 TransactionDepth — open transactions before a BACKUP
select @@TRANCOUNT
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/SqlEnum/xml/Database.xml:137 — the Enumerator's Server/Database[@Name='pubs'] query for the properties a backup tool reads (RecoveryModel, Status, IsAccessible, LastBackupDate…), assembled from the XML; <msparam> literals go out as sp_executesql parameters
exec sp_executesql N'create table #tempbackup (database_name nvarchar(128), [type] char(1), backup_finish_date datetime)
insert into #tempbackup select database_name, [type], max(backup_finish_date) from msdb..backupset where [type] = ''D'' or [type] = ''L'' or [type] = ''I'' group by database_name, [type]

SELECT
dtb.name AS [Name],
dtb.database_id AS [ID],
CAST(has_dbaccess(dtb.name) AS bit) AS [IsAccessible],
dtb.recovery_model AS [RecoveryModel],
dtb.user_access AS [UserAccess],
dtb.is_read_only AS [ReadOnly],
case
when dtb.collation_name is null then 0x200
else 0
end |
case
when 1 = dtb.is_in_standby then 0x40
else 0
end |
case dtb.state
when 1 then 0x2
when 2 then 0x8
when 3 then 0x4
when 4 then 0x10
when 5 then 0x100
when 6 then 0x20
else 1
end AS [Status],
dtb.compatibility_level AS [CompatibilityLevel],
CAST(( case LOWER(convert( nvarchar(128), DATABASEPROPERTYEX(dtb.name, ''Updateability''))) when ''read_write'' then 1 else 0 end) AS bit) AS [IsUpdateable],
(select backup_finish_date from #tempbackup where type = @_msparam_0 and db_id(database_name) = dtb.database_id) AS [LastBackupDate],
(select backup_finish_date from #tempbackup where type = @_msparam_1 and db_id(database_name) = dtb.database_id) AS [LastDifferentialBackupDate],
(select backup_finish_date from #tempbackup where type = @_msparam_2 and db_id(database_name) = dtb.database_id) AS [LastLogBackupDate]
FROM
master.sys.databases AS dtb
WHERE
(dtb.name=@_msparam_3)

drop table #tempbackup
',N'@_msparam_0 nvarchar(4000),@_msparam_1 nvarchar(4000),@_msparam_2 nvarchar(4000),@_msparam_3 nvarchar(4000)',@_msparam_0=N'D',@_msparam_1=N'I',@_msparam_2=N'L',@_msparam_3=N'pubs'
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo.Extended/Backup.cs:133 Script — full backup with SMO defaults as dbatools sets them (PercentCompleteNotification = 1)
-- needs: vdi
BACKUP DATABASE [pubs] TO  VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH NOFORMAT, NOINIT, NOSKIP, REWIND, NOUNLOAD,  STATS = 1
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo.Extended/Backup.cs:133 Script — the backup SSMS's dialog scripts (BackupSetName, SkipTapeHeader, NoRewind, STATS = 10)
-- needs: vdi
BACKUP DATABASE [pubs] TO  VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH NOFORMAT, NOINIT,  NAME = N'pubs-Full Database Backup', SKIP, NOREWIND, NOUNLOAD,  STATS = 10
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo.Extended/Backup.cs:133 Script — copy-only full with compression, checksum, description and transfer sizes
-- needs: vdi
BACKUP DATABASE [pubs] TO  VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH  BLOCKSIZE = 65536,  BUFFERCOUNT = 16,  MAXTRANSFERSIZE = 1048576,  COPY_ONLY,  DESCRIPTION = N'vdisim corpus copy-only', NOFORMAT, NOINIT, NOSKIP, REWIND, NOUNLOAD, COMPRESSION,  STATS = 10, CHECKSUM
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo.Extended/Backup.cs:133 Script — striped full backup to three virtual devices, FORMAT/INIT/SKIP
-- needs: vdi
BACKUP DATABASE [pubs] TO  VIRTUAL_DEVICE = N'vdisim_corpus_dev0',  VIRTUAL_DEVICE = N'vdisim_corpus_dev1',  VIRTUAL_DEVICE = N'vdisim_corpus_dev2' WITH FORMAT, INIT,  MEDIANAME = N'vdisim_corpus_media', SKIP, REWIND, NOUNLOAD,  STATS = 10
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo.Extended/Backup.cs:239 Script — differential (Incremental = true); note the spaces SMO leaves around DIFFERENTIAL
-- needs: vdi
-- needs: history AdventureWorks
BACKUP DATABASE [AdventureWorks] TO  VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH  DIFFERENTIAL , NOFORMAT, NOINIT, NOSKIP, REWIND, NOUNLOAD,  STATS = 10
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo.Extended/Backup.cs:182 Script — log backup (Action = Log)
-- needs: vdi
-- needs: history AdventureWorks
BACKUP LOG [AdventureWorks] TO  VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH NOFORMAT, NOINIT, NOSKIP, REWIND, NOUNLOAD,  STATS = 10
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo.Extended/Backup.cs:461 Script — tail-log backup that leaves the database RESTORING (NoRecovery = true)
-- needs: vdi
-- needs: history AdventureWorks
BACKUP LOG [AdventureWorks] TO  VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH NOFORMAT, NOINIT, NOSKIP, REWIND, NOUNLOAD,  NORECOVERY ,  STATS = 10
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo.Extended/Backup.cs:150 Script — file and filegroup backup (Action = Files)
-- needs: vdi
BACKUP DATABASE [pubs] FILE = N'pubs',  FILEGROUP = N'PRIMARY' TO  VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH NOFORMAT, NOINIT, NOSKIP, REWIND, NOUNLOAD,  STATS = 10
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo.Extended/BackupRestoreBase.cs:284 GetMaintPlanTSQLForRightReplica — maintenance-plan backup wrapped in the preferred-replica check
-- needs: vdi
-- needs: hadr
DECLARE @preferredReplica int

SET @preferredReplica = (SELECT [master].sys.fn_hadr_backup_is_preferred_replica('pubs'))

IF (@preferredReplica = 1)
BEGIN
    BACKUP DATABASE [pubs] TO  VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH NOFORMAT, NOINIT, NOSKIP, REWIND, NOUNLOAD,  STATS = 10
END
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo/BackupSetCollection.cs:80 GetBackupSetsFromMsdb — backup sets of a database that is offline or unknown to the server (by name, no snapshots)
-- needs: history pubs
SELECT bkps.backup_set_uuid FROM msdb.dbo.backupset bkps WHERE bkps.database_name = N'pubs' and bkps.is_snapshot = 0 ORDER BY bkps.backup_set_id ASC
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo/BackupSetCollection.cs:86 GetBackupSetsFromMsdb — backup sets of an online database, keyed by its database_guid (a string literal compared with a uniqueidentifier column)
-- note: SMO sends the database's real GUID as a literal; this fixed GUID matches nothing, so the answer is an empty set
SELECT bkps.backup_set_uuid FROM msdb.dbo.backupset bkps WHERE bkps.database_guid = N'5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d'  ORDER BY bkps.backup_set_id ASC
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/SqlEnum/xml/backupset.xml via Smo/BackupSet.cs:728 Populate — the Enumerator's Server/BackupSet[@BackupSetUuid=…] query (assembled from the XML; SMO inlines the uuid it read, here bound from msdb)
-- needs: history pubs
DECLARE @uuid uniqueidentifier = (SELECT TOP 1 backup_set_uuid FROM msdb.dbo.backupset WHERE database_name = N'pubs' ORDER BY backup_set_id DESC)
SELECT
bkps.name AS [Name],
bkps.backup_set_id AS [ID],
bkps.backup_set_uuid AS [BackupSetUuid],
bkps.media_set_id AS [MediaSetId],
bkps.position AS [Position],
bkps.description AS [Description],
bkps.user_name AS [UserName],
bkps.software_major_version AS [SoftwareMajorVersion],
bkps.first_lsn AS [FirstLsn],
bkps.last_lsn AS [LastLsn],
bkps.checkpoint_lsn AS [CheckpointLsn],
bkps.database_backup_lsn AS [DatabaseBackupLsn],
bkps.database_creation_date AS [DatabaseCreationDate],
bkps.backup_start_date AS [BackupStartDate],
bkps.backup_finish_date AS [BackupFinishDate],
CASE bkps.type WHEN 'D' THEN 1 WHEN 'I' THEN 2 WHEN 'L' THEN 3 WHEN 'F' THEN 4 WHEN 'G' THEN 5 END AS [BackupSetType],
bkps.compatibility_level AS [CompatibilityLevel],
bkps.backup_size AS [BackupSize],
bkps.database_name AS [DatabaseName],
bkps.server_name AS [ServerName],
bkps.machine_name AS [MachineName],
bkps.is_damaged AS [IsDamaged],
bkps.is_copy_only AS [IsCopyOnly],
bkps.is_snapshot AS [IsSnapShot],
bkps.database_guid AS [DatabaseGuid],
bkps.differential_base_guid AS [DifferentialBaseGuid],
bkps.first_recovery_fork_guid AS [FirstRecoveryForkID],
bkps.last_recovery_fork_guid AS [RecoveryForkID],
bkps.family_guid AS [FamilyGuid],
bkps.fork_point_lsn AS [ForkPointLsn],
bkps.differential_base_lsn AS [DifferentialBaseLsn],
bkps.compressed_backup_size AS [CompressedBackupSize],
bkps.key_algorithm AS [KeyAlgorithm],
bkps.encryptor_thumbprint AS [EncryptorThumbprint],
bkps.encryptor_type AS [EncryptorType]
FROM
msdb.dbo.backupset bkps
WHERE
(bkps.backup_set_uuid=@uuid)
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo/BackupMedia.cs:488 — media set of a backup set (media_set_id read from backupset; 1 is the first media set)
-- needs: history pubs
SELECT bkms.media_uuid, bkms.name, bkms.description, bkms.media_family_count, bkms.mirror_count, bkms.is_compressed, bkms.is_encrypted FROM msdb.dbo.backupmediaset bkms WHERE bkms.media_set_id = 1
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo/BackupMedia.cs:509 — media families (device names and device_type) of that media set
-- needs: history pubs
SELECT bkms.logical_device_name, bkms.physical_device_name, bkms.device_type, family_sequence_number, mirror FROM msdb.dbo.backupmediafamily bkms WHERE bkms.media_set_id = 1 ORDER BY bkms.family_sequence_number, bkms.mirror
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo.Extended/DatabaseRestorePlanner.cs:703 GetLastRestoreDateTime — the restore planner's last restore of the target
SELECT TOP(1) restore_date FROM msdb.dbo.restorehistory WHERE destination_database_name = N'pubs' ORDER BY restore_date DESC
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo.Extended/DatabaseRestorePlanner.cs:759 LogStartTime — last restore before a forked log backup started; the date is a DateTime formatted with the invariant culture (MM/dd/yyyy HH:mm:ss), so it parses only under DATEFORMAT mdy
SELECT TOP(1) restore_date FROM msdb.dbo.restorehistory WHERE destination_database_name = N'pubs' AND restore_date < N'01/15/2026 10:30:00' ORDER BY restore_date DESC
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/SqlEnum/xml/restore_plan.xml + SqlEnum/restoreplan.cs — the Enumerator's Server/RestorePlan[@DatabaseName='pubs'] restore planner, prefixes in SMO's order, SELECT list assembled from the XML properties
-- needs: chain AdventureWorks
-- note: a full batch of temp tables, GOTO labels, WHILE and correlated subqueries over msdb.dbo.backupset
DECLARE @db_name              sysname ,@restore_to_datetime  datetime 
select @db_name = N'AdventureWorks'
select @restore_to_datetime = GETDATE()

        declare @server_name nvarchar(512)
        set @server_name = cast(serverproperty(N'Servername') as nvarchar(512))
      
        DECLARE
        @first_full_backupset_id      INTEGER,
        @first_full_backup_startdate  DATETIME,
        @count_entries					INTEGER,
        @in_restore_plan				BIT,
        @last_backupset_type			CHAR(1),
        @last_backupset_id				INTEGER,
        @last_backupset_family_guid		UNIQUEIDENTIFIER,
        @last_backupset_diff_base_guid	UNIQUEIDENTIFIER,
        @last_backupset_recovery_fork_guid	UNIQUEIDENTIFIER,
        @full_backupset_id				INTEGER,
        @full_backupset_start_date		DATETIME,
        @full_backupset_recovery_fork_guid	UNIQUEIDENTIFIER,


        @loop_var						BIT,
        @loop_backup_set_id				INTEGER,
        @loop_start_date				DATETIME,
        @count_unique_fork_guid INTEGER,

        @t1_backup_set_id				INTEGER,
        @t1_type						CHAR(1),
        @t1_backup_start_date			DATETIME,
        @t1_first_recovery_fork_guid	UNIQUEIDENTIFIER,
        @t1_last_recovery_fork_guid		UNIQUEIDENTIFIER,
        @t1_first_lsn					NUMERIC(25, 0),
        @t1_last_lsn					NUMERIC(25, 0),
        @t1_checkpoint_lsn				NUMERIC(25, 0),
        @t1_database_backup_lsn			NUMERIC(25, 0),
        @t1_fork_point_lsn				NUMERIC(25, 0),
        @t1_backup_set_uuid				UNIQUEIDENTIFIER,
        @t1_database_guid				UNIQUEIDENTIFIER,
        @t1_diff_base_guid				UNIQUEIDENTIFIER,

        @t2_backup_set_id				INTEGER,
        @t2_type						CHAR(1),
        @t2_backup_start_date			DATETIME,
        @t2_first_recovery_fork_guid	UNIQUEIDENTIFIER,
        @t2_last_recovery_fork_guid		UNIQUEIDENTIFIER,
        @t2_first_lsn					NUMERIC(25, 0),
        @t2_last_lsn					NUMERIC(25, 0),
        @t2_checkpoint_lsn				NUMERIC(25, 0),
        @t2_database_backup_lsn			NUMERIC(25, 0),
        @t2_fork_point_lsn				NUMERIC(25, 0),
        @t2_backup_set_uuid				UNIQUEIDENTIFIER,
        @t2_database_guid				UNIQUEIDENTIFIER,
        @t2_diff_base_guid				UNIQUEIDENTIFIER


        CREATE TABLE #backupset(
        backup_set_id					INTEGER				NOT NULL,
        is_in_restore_plan				BIT					NOT NULL,
        backup_start_date				DATETIME			NOT NULL,
        type						    CHAR(1)				NOT NULL,
        database_name				    NVARCHAR(256)		NOT NULL,
        database_guid				    UNIQUEIDENTIFIER	,
        family_guid						UNIQUEIDENTIFIER	,
        first_recovery_fork_guid		UNIQUEIDENTIFIER	,
        last_recovery_fork_guid			UNIQUEIDENTIFIER	,
        first_lsn					    NUMERIC(25, 0)		,
        last_lsn					    NUMERIC(25, 0)		,
        checkpoint_lsn					NUMERIC(25, 0)		,
        database_backup_lsn				NUMERIC(25, 0)		,
        fork_point_lsn					NUMERIC(25, 0)		,
        restore_till_lsn				NUMERIC(25, 0)		,
        backup_set_uuid					UNIQUEIDENTIFIER	,
        differential_base_guid			UNIQUEIDENTIFIER
        )
        /**********************************************************************/
        /* Identify the first                                                 */
        /**********************************************************************/
        SELECT @first_full_backupset_id = backupset_outer.backup_set_id
        ,@first_full_backup_startdate = backupset_outer.backup_start_date
        FROM msdb.dbo.backupset backupset_outer
        WHERE backupset_outer.database_name = @db_name
        AND backupset_outer.server_name = @server_name
        AND backupset_outer.type = 'D' -- Full Database Backup
        AND backupset_outer.backup_start_date = (  SELECT MAX(backupset_inner.backup_start_date)
        FROM msdb.dbo.backupset backupset_inner
        WHERE backupset_inner.database_name = backupset_outer.database_name
        AND backupset_inner.server_name = @server_name
        AND backupset_inner.type = backupset_outer.type
        AND backupset_inner.backup_start_date <= @restore_to_datetime
        AND backupset_inner.is_copy_only = 0 )
        AND backupset_outer.is_copy_only = 0
        /*******************************************************************************************/
        /* Find the first full database backup needed in the restore plan and store its attributes */
        /* in #backupset work table                                                                */
        /*******************************************************************************************/
        INSERT #backupset(
        backup_set_id
        ,is_in_restore_plan
        ,backup_start_date
        ,type
        ,database_name
        ,last_recovery_fork_guid
        )
        SELECT backup_set_id
        ,1                   --  The full database backup is always needed for the restore plan
        ,backup_start_date
        ,type
        ,database_name
        ,last_recovery_fork_guid
        FROM msdb.dbo.backupset
        WHERE msdb.dbo.backupset.backup_set_id = @first_full_backupset_id
        AND msdb.dbo.backupset.server_name = @server_name

        /***************************************************************/
        /* Find the log and differential backups that occurred after   */
        /* the full backup and store them in #backupset work table     */
        /***************************************************************/
        INSERT #backupset(
        backup_set_id
        ,is_in_restore_plan
        ,backup_start_date
        ,type
        ,database_name
        ,last_recovery_fork_guid
        )
        SELECT backup_set_id
        ,0
        ,backup_start_date
        ,type
        ,database_name
        ,last_recovery_fork_guid
        FROM msdb.dbo.backupset
        WHERE msdb.dbo.backupset.database_name = @db_name
        AND msdb.dbo.backupset.server_name = @server_name
        AND msdb.dbo.backupset.type IN ('I', 'L')  -- Differential, Log backups
        AND msdb.dbo.backupset.backup_start_date >= @first_full_backup_startdate

        /**********************************************************************************/
        /* identify and mark the backup logs that need to be included in the restore plan */
        /**********************************************************************************/
        UPDATE #backupset
        SET is_in_restore_plan = 1
        WHERE #backupset.type = 'I'
        AND #backupset.backup_start_date = (SELECT MAX(backupset_inner.backup_start_date)
        FROM #backupset backupset_inner
        WHERE backupset_inner.type = #backupset.type
        AND backupset_inner.backup_start_date <= @restore_to_datetime)

        /**************************************************************************************/
        /* Log backups that occurred after the different are always part of the restore plan. */
        /**************************************************************************************/
        UPDATE #backupset
        SET is_in_restore_plan = 1
        WHERE #backupset.type = 'L'
        AND #backupset.backup_start_date <= @restore_to_datetime
        AND #backupset.backup_start_date >= (SELECT backupset_inner.backup_start_date
        FROM #backupset backupset_inner
        WHERE backupset_inner.type = 'I'
        AND backupset_inner.is_in_restore_plan = 1)

        /**************************************************************************************/
        /* If @restore_to_datetime is greater than the last startdate of the last log backup, */
        /* include the next log backup in the restore plan                                    */
        /**************************************************************************************/
        UPDATE #backupset
        SET is_in_restore_plan = 1
        WHERE #backupset.type = 'L'
        AND #backupset.backup_start_date = (SELECT MIN(backupset_inner.backup_start_date)
        FROM #backupset backupset_inner
        WHERE backupset_inner.type = 'L'
        AND backupset_inner.backup_start_date > @restore_to_datetime
        AND backupset_inner.is_in_restore_plan = 0)

        /**************************************************************************************/
        /* If there are no differential backups, all log backups that occurred after the full */
        /* backup are needed in the restore plan.                                             */
        /**************************************************************************************/
        UPDATE #backupset
        SET is_in_restore_plan = 1
        WHERE #backupset.type = 'L'
        AND #backupset.backup_start_date <= @restore_to_datetime
        AND NOT EXISTS(SELECT *
        FROM #backupset backupset_inner
        WHERE backupset_inner.type = 'I')

      

        /**************************************************************************************/
        /* The above plan is based on backup_start_date which fails in case when the DB is    */
        /* restored to a previous state i.e forked. In which case we need to base it on lsn   */
        /* numbers. This forking condition can be checked by matching the                     */
        /* last_recovery_fork_guid of the backupset if it doesn't match, we need to change    */
        /* the plan.                                                                          */
        /**************************************************************************************/

        SELECT @count_unique_fork_guid = COUNT( DISTINCT last_recovery_fork_guid )
        FROM #backupset

        IF @count_unique_fork_guid > 1
        BEGIN

        DELETE
        FROM #backupset
        /**************************************************************************************/
        /* First we look for a T-Log backup taken after the given point-in-time to get the    */
        /* tail log, that can be used to restore to the exact point-in-time.                  */
        /**************************************************************************************/

        INSERT #backupset(
        backup_set_id,
        is_in_restore_plan,
        backup_start_date,
        type,
        database_name,
        database_guid,
        family_guid,
        first_recovery_fork_guid,
        last_recovery_fork_guid,
        first_lsn,
        last_lsn,
        checkpoint_lsn,
        database_backup_lsn,
        fork_point_lsn,
        backup_set_uuid,
        differential_base_guid
        )
        SELECT TOP(1)
        backup_set_id,
        1,
        backup_start_date,
        type,
        database_name,
        database_guid,
        family_guid,
        first_recovery_fork_guid,
        last_recovery_fork_guid,
        first_lsn,
        last_lsn,
        checkpoint_lsn,
        database_backup_lsn,
        fork_point_lsn,
        backup_set_uuid,
        differential_base_guid

        FROM msdb.dbo.backupset
        WHERE msdb.dbo.backupset.database_name = @db_name
        AND msdb.dbo.backupset.type IN ('D', 'L')
        AND msdb.dbo.backupset.backup_start_date >= @restore_to_datetime
        ORDER BY msdb.dbo.backupset.backup_start_date ASC,
        msdb.dbo.backupset.last_lsn ASC

        SELECT @last_backupset_type = bset.type
        FROM #backupset as bset

        IF @last_backupset_type = 'D' --Full
        BEGIN
        DELETE FROM #backupset
        END

        /**********************************************************************/
        /* If no T-Log backup exits for after the time T, get the last backup */
        /**********************************************************************/

        SELECT @count_entries = COUNT(bset.backup_set_id)
        FROM #backupset as bset

        IF @count_entries < 1
        BEGIN

        INSERT #backupset(
        backup_set_id,
        is_in_restore_plan,
        backup_start_date,
        type,
        database_name,
        database_guid,
        family_guid,
        first_recovery_fork_guid,
        last_recovery_fork_guid,
        first_lsn,
        last_lsn,
        checkpoint_lsn,
        database_backup_lsn,
        fork_point_lsn,
        backup_set_uuid,
        differential_base_guid
        )
        SELECT TOP(1)
        backup_set_id,
        1,
        backup_start_date,
        type,
        database_name,
        database_guid,
        family_guid,
        first_recovery_fork_guid,
        last_recovery_fork_guid,
        first_lsn,
        last_lsn,
        checkpoint_lsn,
        database_backup_lsn,
        fork_point_lsn,
        backup_set_uuid,
        differential_base_guid

        FROM msdb.dbo.backupset
        WHERE msdb.dbo.backupset.database_name = @db_name
        AND msdb.dbo.backupset.backup_start_date <= @restore_to_datetime
        ORDER BY msdb.dbo.backupset.backup_start_date DESC,
        msdb.dbo.backupset.last_lsn DESC

        END

        SELECT @last_backupset_type = bset.type,
        @last_backupset_id = bset.backup_set_id,
        @last_backupset_family_guid = bset.family_guid,
        @last_backupset_diff_base_guid = bset.differential_base_guid,
        @last_backupset_recovery_fork_guid = bset.last_recovery_fork_guid
        FROM #backupset as bset

        /**************************************************************************************/
        /* If the selected backup is Full ('D') return.                                       */
        /**************************************************************************************/

        IF (@last_backupset_type = 'D')
        BEGIN
        GOTO done
        END

        /**************************************************************************************/
        /* If the selected backup is Differential('I'),select the Diff-base backup(Full) also */
        /**************************************************************************************/
        IF (@last_backupset_type = 'I')
        BEGIN

        INSERT #backupset(
        backup_set_id,
        is_in_restore_plan,
        backup_start_date,
        type,
        database_name,
        database_guid,
        family_guid,
        first_recovery_fork_guid,
        last_recovery_fork_guid,
        first_lsn,
        last_lsn,
        checkpoint_lsn,
        database_backup_lsn,
        fork_point_lsn,
        backup_set_uuid,
        differential_base_guid
        )
        SELECT TOP(1)
        backup_set_id,
        1,
        backup_start_date,
        type,
        database_name,
        database_guid,
        family_guid,
        first_recovery_fork_guid,
        last_recovery_fork_guid,
        first_lsn,
        last_lsn,
        checkpoint_lsn,
        database_backup_lsn,
        fork_point_lsn,
        backup_set_uuid,
        differential_base_guid

        FROM msdb.dbo.backupset
        WHERE msdb.dbo.backupset.backup_set_uuid = @last_backupset_diff_base_guid
        AND msdb.dbo.backupset.family_guid = @last_backupset_family_guid

        GOTO done
        END

        SELECT @t1_type = bset.type,
        @t1_backup_set_id = bset.backup_set_id,
        @t1_backup_set_uuid = bset.backup_set_uuid,
        @t1_backup_start_date = bset.backup_start_date,
        @t1_diff_base_guid = bset.differential_base_guid,
        @t1_last_recovery_fork_guid = bset.last_recovery_fork_guid,
        @t1_first_recovery_fork_guid = bset.first_recovery_fork_guid,
        @t1_database_guid = bset.database_guid,
        @t1_first_lsn = bset.first_lsn,
        @t1_last_lsn = bset.last_lsn,
        @t1_checkpoint_lsn = bset.checkpoint_lsn,
        @t1_database_backup_lsn = bset.database_backup_lsn,
        @t1_fork_point_lsn = bset.fork_point_lsn
        FROM #backupset as bset

        SET @loop_backup_set_id = @t1_backup_set_id
        SET @loop_start_date = @t1_backup_start_date

        /**************************************************************************************/
        /* This Loop iterates thru the backup with the same family_guid in reverse order and  */
        /* constructs the T-Log chain, until it finds the compatible Diff or Backup           */
        /**************************************************************************************/
        SET @loop_var = 1
        WHILE ( @loop_var = 1 )
        BEGIN

        SELECT TOP(1)
        @t2_backup_set_id = backup_set_id,
        @t2_backup_set_uuid = backup_set_uuid,
        @t2_backup_start_date =	backup_start_date,
        @t2_type = type,
        @t2_first_recovery_fork_guid = first_recovery_fork_guid,
        @t2_last_recovery_fork_guid= last_recovery_fork_guid,
        @t2_database_guid = database_guid,
        @t2_first_lsn = first_lsn,
        @t2_last_lsn = last_lsn,
        @t2_checkpoint_lsn = checkpoint_lsn,
        @t2_database_backup_lsn = database_backup_lsn,
        @t2_fork_point_lsn= fork_point_lsn,
        @t2_diff_base_guid = differential_base_guid

        FROM msdb.dbo.backupset
        WHERE msdb.dbo.backupset.family_guid = @last_backupset_family_guid
        AND msdb.dbo.backupset.backup_start_date <= @loop_start_date
        AND msdb.dbo.backupset.backup_set_id < @loop_backup_set_id
        ORDER BY msdb.dbo.backupset.backup_start_date DESC,
        msdb.dbo.backupset.last_lsn DESC,
        msdb.dbo.backupset.backup_set_id DESC

        IF( @t2_backup_set_id IS NULL OR @t2_backup_set_id = @loop_backup_set_id)
        BEGIN
        GOTO done
        END

        IF( @t1_fork_point_lsn IS NULL )
        BEGIN

        IF (@t2_type = 'D' AND @t2_database_guid = @t1_database_guid AND @t2_first_lsn = @t1_first_lsn AND  @t2_last_recovery_fork_guid = @t1_first_recovery_fork_guid )
        BEGIN
        GOTO AddFullBackup
        END

        IF (@t2_type = 'I' AND @t2_database_guid = @t1_database_guid AND  @t2_last_recovery_fork_guid = @t1_first_recovery_fork_guid )
        BEGIN
        GOTO AddDiffBackup
        END

        IF (@t2_type = 'L' AND @t2_last_recovery_fork_guid = @t1_first_recovery_fork_guid AND @t2_last_lsn = @t1_first_lsn)
        BEGIN
        INSERT #backupset(
        backup_set_id,
        is_in_restore_plan,
        backup_start_date,
        type,
        database_name,
        database_guid,
        family_guid,
        first_recovery_fork_guid,
        last_recovery_fork_guid,
        first_lsn,
        last_lsn,
        checkpoint_lsn,
        database_backup_lsn,
        fork_point_lsn,
        backup_set_uuid,
        differential_base_guid
        )
        SELECT TOP(1)
        backup_set_id,
        1,
        backup_start_date,
        type,
        database_name,
        database_guid,
        family_guid,
        first_recovery_fork_guid,
        last_recovery_fork_guid,
        first_lsn,
        last_lsn,
        checkpoint_lsn,
        database_backup_lsn,
        fork_point_lsn,
        backup_set_uuid,
        differential_base_guid

        FROM msdb.dbo.backupset
        WHERE msdb.dbo.backupset.backup_set_id = @t2_backup_set_id

        SET	@t1_type = @t2_type
        SET	@t1_backup_set_id = @t2_backup_set_id
        SET	@t1_backup_set_uuid = @t2_backup_set_uuid
        SET	@t1_backup_start_date = @t2_backup_start_date
        SET	@t1_diff_base_guid = @t2_diff_base_guid
        SET	@t1_last_recovery_fork_guid = @t2_last_recovery_fork_guid
        SET	@t1_first_recovery_fork_guid = @t2_first_recovery_fork_guid
        SET	@t1_database_guid = @t2_database_guid
        SET	@t1_first_lsn = @t2_first_lsn
        SET	@t1_last_lsn = @t2_last_lsn
        SET	@t1_checkpoint_lsn = @t2_checkpoint_lsn
        SET	@t1_database_backup_lsn = @t2_database_backup_lsn
        SET	@t1_fork_point_lsn = @t2_fork_point_lsn

        END

        END
        ELSE
        BEGIN

        IF (@t2_type = 'D' AND ((@t2_last_recovery_fork_guid = @t1_first_recovery_fork_guid AND @t2_last_lsn <= @t1_fork_point_lsn)
        OR @t2_last_recovery_fork_guid = @t1_last_recovery_fork_guid AND @t2_last_lsn > @t1_fork_point_lsn AND @t2_last_lsn < @t1_last_lsn))
        BEGIN
        GOTO AddFullBackup
        END

        IF (@t2_type = 'I'
        AND ((@t2_last_recovery_fork_guid = @t1_first_recovery_fork_guid AND @t2_last_lsn <= @t1_fork_point_lsn)
        OR @t2_last_recovery_fork_guid = @t1_last_recovery_fork_guid AND @t2_last_lsn > @t1_fork_point_lsn AND @t2_last_lsn < @t1_last_lsn))
        BEGIN
        GOTO AddDiffBackup
        END

        IF (@t2_type = 'L' AND @t2_last_recovery_fork_guid = @t1_first_recovery_fork_guid AND @t2_last_lsn = @t1_first_lsn)
        BEGIN
        INSERT #backupset(
        backup_set_id,
        is_in_restore_plan,
        backup_start_date,
        type,
        database_name,
        database_guid,
        family_guid,
        first_recovery_fork_guid,
        last_recovery_fork_guid,
        first_lsn,
        last_lsn,
        checkpoint_lsn,
        database_backup_lsn,
        fork_point_lsn,
        backup_set_uuid,
        differential_base_guid
        )
        SELECT TOP(1)
        backup_set_id,
        1,
        backup_start_date,
        type,
        database_name,
        database_guid,
        family_guid,
        first_recovery_fork_guid,
        last_recovery_fork_guid,
        first_lsn,
        last_lsn,
        checkpoint_lsn,
        database_backup_lsn,
        fork_point_lsn,
        backup_set_uuid,
        differential_base_guid

        FROM msdb.dbo.backupset
        WHERE msdb.dbo.backupset.backup_set_id = @t2_backup_set_id

        SET	@t1_type = @t2_type
        SET	@t1_backup_set_id = @t2_backup_set_id
        SET	@t1_backup_set_uuid = @t2_backup_set_uuid
        SET	@t1_backup_start_date = @t2_backup_start_date
        SET	@t1_diff_base_guid = @t2_diff_base_guid
        SET	@t1_last_recovery_fork_guid = @t2_last_recovery_fork_guid
        SET	@t1_first_recovery_fork_guid = @t2_first_recovery_fork_guid
        SET	@t1_database_guid = @t2_database_guid
        SET	@t1_first_lsn = @t2_first_lsn
        SET	@t1_last_lsn = @t2_last_lsn
        SET	@t1_checkpoint_lsn = @t2_checkpoint_lsn
        SET	@t1_database_backup_lsn = @t2_database_backup_lsn
        SET	@t1_fork_point_lsn = @t2_fork_point_lsn

        END
        END

        SET @loop_backup_set_id = @t2_backup_set_id
        SET @loop_start_date = @t2_backup_start_date

        END

        AddFullBackup:
        INSERT #backupset(
        backup_set_id,
        is_in_restore_plan,
        backup_start_date,
        type,
        database_name,
        database_guid,
        family_guid,
        first_recovery_fork_guid,
        last_recovery_fork_guid,
        first_lsn,
        last_lsn,
        checkpoint_lsn,
        database_backup_lsn,
        fork_point_lsn,
        backup_set_uuid,
        differential_base_guid
        )
        SELECT TOP(1)
        backup_set_id,
        1,
        backup_start_date,
        type,
        database_name,
        database_guid,
        family_guid,
        first_recovery_fork_guid,
        last_recovery_fork_guid,
        first_lsn,
        last_lsn,
        checkpoint_lsn,
        database_backup_lsn,
        fork_point_lsn,
        backup_set_uuid,
        differential_base_guid

        FROM msdb.dbo.backupset
        WHERE msdb.dbo.backupset.backup_set_id = @t2_backup_set_id
        GOTO done

        AddDiffBackup:
        INSERT #backupset(
        backup_set_id,
        is_in_restore_plan,
        backup_start_date,
        type,
        database_name,
        database_guid,
        family_guid,
        first_recovery_fork_guid,
        last_recovery_fork_guid,
        first_lsn,
        last_lsn,
        checkpoint_lsn,
        database_backup_lsn,
        fork_point_lsn,
        backup_set_uuid,
        differential_base_guid
        )
        SELECT TOP(1)
        backup_set_id,
        1,
        backup_start_date,
        type,
        database_name,
        database_guid,
        family_guid,
        first_recovery_fork_guid,
        last_recovery_fork_guid,
        first_lsn,
        last_lsn,
        checkpoint_lsn,
        database_backup_lsn,
        fork_point_lsn,
        backup_set_uuid,
        differential_base_guid

        FROM msdb.dbo.backupset
        WHERE msdb.dbo.backupset.backup_set_id = @t2_backup_set_id

        INSERT #backupset(
        backup_set_id,
        is_in_restore_plan,
        backup_start_date,
        type,
        database_name,
        database_guid,
        family_guid,
        first_recovery_fork_guid,
        last_recovery_fork_guid,
        first_lsn,
        last_lsn,
        checkpoint_lsn,
        database_backup_lsn,
        fork_point_lsn,
        backup_set_uuid,
        differential_base_guid
        )
        SELECT TOP(1)
        backup_set_id,
        1,
        backup_start_date,
        type,
        database_name,
        database_guid,
        family_guid,
        first_recovery_fork_guid,
        last_recovery_fork_guid,
        first_lsn,
        last_lsn,
        checkpoint_lsn,
        database_backup_lsn,
        fork_point_lsn,
        backup_set_uuid,
        differential_base_guid

        FROM msdb.dbo.backupset
        WHERE msdb.dbo.backupset.backup_set_uuid = @t2_diff_base_guid
        AND msdb.dbo.backupset.family_guid = @last_backupset_family_guid


        done:

        SELECT @count_entries = COUNT( bset.backup_set_id )
        FROM #backupset AS bset
        WHERE bset.type = 'D'

        /**************************************************************************************/
        /* If the backupset info in the msdb is incomplete then the restore_plan may be       */
        /* broken. In those cases just don't return anything.                                 */
        /**************************************************************************************/

        IF @count_entries < 1
        BEGIN
        DELETE
        FROM #backupset
        END


        END

      
SELECT
bkps.name AS [Name],
bkps.backup_set_id AS [ID],
btmp.is_in_restore_plan AS [IsInRestorePlan],
bkps.backup_set_uuid AS [BackupSetUuid],
bkps.media_set_id AS [MediaSetId],
bkps.position AS [Position],
bkps.first_lsn AS [FirstLsn],
bkps.last_lsn AS [LastLsn],
bkps.checkpoint_lsn AS [CheckpointLsn],
bkps.database_backup_lsn AS [DatabaseBackupLsn],
bkps.backup_start_date AS [BackupStartDate],
bkps.backup_finish_date AS [BackupFinishDate],
bkps.type AS [Type],
bkps.backup_size AS [BackupSize],
bkps.database_name AS [DatabaseName],
bkps.server_name AS [ServerName],
bkps.is_copy_only AS [IsCopyOnly]
FROM
#backupset AS btmp
INNER JOIN msdb.dbo.backupset AS bkps ON bkps.backup_set_id = btmp.backup_set_id

      drop table #backupset
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo.Extended/Restore.cs:574 ReadBackupHeader — RESTORE HEADERONLY as SMO scripts it
-- needs: vdi
-- needs: stream pubs full
RESTORE HEADERONLY FROM  VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH  NOUNLOAD
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo.Extended/Restore.cs:505 ReadFileList — RESTORE FILELISTONLY for the first backup set
-- needs: vdi
-- needs: stream pubs full
RESTORE FILELISTONLY FROM  VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH  NOUNLOAD,  FILE = 1
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo.Extended/Restore.cs:545 ReadMediaHeader — RESTORE LABELONLY
-- needs: vdi
-- needs: stream pubs full
RESTORE LABELONLY FROM  VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH  NOUNLOAD
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo/BackupSet.cs:1218 FileList — file list of a backup set read through msdb's device name
-- needs: vdi
-- needs: stream pubs full
RESTORE FILELISTONLY FROM  VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH FILE = 1
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo.Extended/Restore.cs:419 ScriptVerify — SqlVerify of file 1
-- needs: vdi
-- needs: stream pubs full
RESTORE VERIFYONLY FROM  VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH  FILE = 1,  NOUNLOAD
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo.Extended/Restore.cs:251 SqlVerifyLatest — verify the newest backup of the database, position looked up in msdb
-- needs: vdi
-- needs: stream pubs full
-- needs: history pubs
declare @backupSetId as int
select @backupSetId = position from msdb..backupset where database_name=N'pubs' and backup_set_id=(select max(backup_set_id) from msdb..backupset where database_name=N'pubs' )
if @backupSetId is null begin raiserror(N'Verify failed. Backup information for database ''pubs'' not found.', 16, 1) end
RESTORE VERIFYONLY FROM  VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH  FILE = @backupSetId,  NOUNLOAD
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo.Extended/Restore.cs:326 SqlVerifyLatest(SqlVerifyAction) — as above, restricted to the newest log backup
-- needs: vdi
-- needs: stream AdventureWorks log
-- needs: chain AdventureWorks
declare @backupSetId as int
select @backupSetId = position from msdb..backupset where database_name=N'AdventureWorks' and  type=N'L' and backup_set_id=(select max(backup_set_id) from msdb..backupset where database_name=N'AdventureWorks' and  type=N'L')
if @backupSetId is null begin raiserror(N'Verify failed. Backup information for database ''AdventureWorks'' (type VerifyLog) not found.', 16, 1) end
RESTORE VERIFYONLY FROM  VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH  FILE = @backupSetId,  NOUNLOAD
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo/BackupSet.cs:672 Verify — BackupSet.Verify
-- needs: vdi
-- needs: stream pubs full
RESTORE VERIFYONLY FROM VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH  FILE = 1, NOUNLOAD, NOREWIND
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo/serverbase.cs:2095 KillAllProcesses — sessions holding a lock on the database before a restore
SELECT DISTINCT dtl.request_session_id FROM sys.dm_tran_locks dtl left join sys.dm_exec_sessions des on dtl.request_session_id = des.session_id WHERE dtl.resource_type = 'DATABASE' AND dtl.resource_database_id = db_id(N'pubs') and dtl.request_session_id != @@spid
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo/script_patterns.cs:46 USEMASTER — sent on its own before KillProcess, KillDatabase and KillAllProcesses
USE [master]
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo/serverbase.cs:2057 KillProcess — a session id that is not there (SQL Server answers Msg 6106)
KILL 999
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo/DatabaseBase.cs:6610 ScriptAlterPropBool — Database.UserAccess = Single, Alter(TerminationClause.RollbackTransactionsImmediately); the empty option name leaves two spaces
ALTER DATABASE [pubs] SET  SINGLE_USER WITH ROLLBACK IMMEDIATE
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo.Extended/Restore.cs:699 Script — restore over the existing database from file 1, with REPLACE and STATS
-- needs: vdi
-- needs: stream pubs full
RESTORE DATABASE [pubs] FROM  VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH  FILE = 1,  NOUNLOAD,  REPLACE,  STATS = 5
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo/DatabaseBase.cs:6610 ScriptAlterPropBool — Database.UserAccess = Multiple, Alter()
ALTER DATABASE [pubs] SET  MULTI_USER 
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo.Extended/Restore.cs:699 Script — restore under a new name with RelocateFiles, left RESTORING
-- needs: vdi
-- needs: stream pubs full
-- needs: absent pubs_smo
RESTORE DATABASE [pubs_smo] FROM  VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH  FILE = 1,  MOVE N'pubs' TO N'/var/opt/mssql/data/pubs_smo.mdf',  MOVE N'pubs_log' TO N'/var/opt/mssql/data/pubs_smo_log.ldf',  NORECOVERY,  NOUNLOAD,  STATS = 5
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo.Extended/Restore.cs:733 Script — log restore to a point in time (ToPointInTime), still RESTORING
-- note: the time is fixed, so it lies before backups made when the corpus runs; SQL Server answers that with its STOPAT-too-early error
-- needs: vdi
-- needs: stream AdventureWorks log
-- needs: restoring AdventureWorks
RESTORE LOG [AdventureWorks] FROM  VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH  FILE = 1,  NORECOVERY,  NOUNLOAD,  STATS = 10,  STOPAT = N'2026-01-15T10:30:00'
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo.Extended/Restore.cs:909 Script — log restore stopping at a named mark after a date
-- needs: vdi
-- needs: stream AdventureWorks log
-- needs: restoring AdventureWorks
RESTORE LOG [AdventureWorks] FROM  VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH  FILE = 1,  NOUNLOAD,  STATS = 10,  STOPATMARK = N'vdisim_corpus_mark' AFTER N'2026-01-15T10:00:00'
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo.Extended/Restore.cs:762 Script — SMO's only device-less restore: Action = Log, FileNumber = 0, no devices gives the bare statement, which recovers a RESTORING database
-- needs: restoring pubs_smo
RESTORE LOG [pubs_smo]
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo.Extended/Restore.cs:988 Script — ClearSuspectPageTableAfterRestore, sent after the restore
delete from msdb.dbo.suspect_pages where database_id in (select dbid from master.dbo.sysdatabases where name = N'pubs')
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo/DatabaseBase.cs:6160 ScriptAlterPropBool — Database.RecoveryModel = Full, Alter()
ALTER DATABASE [pubs] SET RECOVERY FULL 
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo/DatabaseBase.cs:6160 ScriptAlterPropBool — back to Simple, Alter(TerminationClause.FailOnOpenTransactions)
ALTER DATABASE [pubs] SET RECOVERY SIMPLE WITH NO_WAIT
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo/serverbase.cs:3222 DeleteBackupHistory(DateTime) — msdb history older than a date (SqlDateString, ISO 8601)
declare @dt datetime select @dt = cast(N'2000-01-01T00:00:00' as datetime) exec msdb.dbo.sp_delete_backuphistory @dt
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo/serverbase.cs:3628 DeleteBackupHistory(string) — all history of one database
EXEC msdb.dbo.sp_delete_database_backuphistory @database_name = N'pubs_smo'
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo/serverbase.cs:2025 KillDatabase — drop a database with users in it
ALTER DATABASE [pubs_smo] SET SINGLE_USER WITH ROLLBACK IMMEDIATE
GO
