-- corpus file: dbatools, the PowerShell module (v2.8.3), taken from
-- dataplat/dbatools @ ad86b331bfaff1b6dae2e1bf1f43229b89c96f3a.
-- dbatools builds most queries as PowerShell strings; they are written here as they come out
-- for database pubs (AdventureWorks where a log chain is needed) on a SQL Server 2022 target
-- (VersionMajor 16), indentation and blank lines from empty filters included.
-- BACKUP and RESTORE go through SMO (see smo.sql); the ones here carry dbatools' own settings.
-- ComputerName, InstanceName and SqlInstance literals stand for what the SMO Server object reports.

-- source: dataplat/dbatools/public/Connect-DbaInstance.ps1:1152 — the query that opens every new dbatools connection
SELECT 'dbatools is opening a new connection'
GO
-- source: dataplat/dbatools/public/Get-DbaDefaultPath.ps1:81 — default data path when the SMO Server has none
SELECT SERVERPROPERTY('InstanceDefaultDataPath') AS Data
GO
-- source: dataplat/dbatools/public/Get-DbaDefaultPath.ps1:95 — default log path
SELECT SERVERPROPERTY('InstanceDefaultLogPath') AS Log
GO
-- source: dataplat/dbatools/public/Backup-DbaDatabase.ps1:417 — does the backup target exist (path check before the backup)
EXEC master.dbo.xp_fileexist '/var/opt/mssql/backup'
GO
-- source: dataplat/dbatools/public/Get-DbaLastBackup.ps1:151 — databases this replica should not back up (-ExcludeReplica)
-- needs: hadr
SELECT DB_NAME(database_id) AS DatabaseName FROM sys.databases WHERE sys.fn_hadr_backup_is_preferred_replica(DB_NAME(database_id)) = 0
GO
-- source: dataplat/dbatools/public/Get-DbaDbState.ps1:103 — access, status and updateability of every database
SELECT
Name   = name,
Access = user_access_desc,
Status = state_desc,
RW     = CASE WHEN is_read_only = 0 THEN 'READ_WRITE' ELSE 'READ_ONLY' END
FROM sys.databases
GO
-- source: dataplat/dbatools/public/Get-DbaDbState.ps1:112 — the same through DATABASEPROPERTYEX (the SQL 2000 form)
SELECT
Name   = name,
Access = DATABASEPROPERTYEX(name, 'UserAccess'),
Status = DATABASEPROPERTYEX(name, 'Status'),
RW     = DATABASEPROPERTYEX(name, 'Updateability')
FROM sys.databases
GO
-- source: dataplat/dbatools/public/Get-DbaDbFile.ps1:211 — compatibility level, to pick the file query's version
SELECT compatibility_level FROM sys.databases WHERE name = 'pubs'
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo/DatabaseBase.cs:2091 ExecuteWithResults — dbatools' $server.Query($sql, 'pubs') runs through SMO, which sends USE first
USE [pubs]
GO
-- source: dataplat/dbatools/public/Get-DbaDbFile.ps1:136 — files, filegroups, I/O stats and volume space of the current database (compatibility >= 110 form)
SELECT
            fg.name AS FileGroupName,
            df.file_id AS 'ID',
            df.Type,
            df.type_desc AS TypeDescription,
            df.name AS LogicalName,
            mf.physical_name AS PhysicalName,
            df.state_desc AS State,
            df.max_size AS MaxSize,
            CASE mf.is_percent_growth WHEN 1 THEN df.growth ELSE df.Growth*8 END AS Growth,
            COALESCE(FILEPROPERTY(df.name, 'spaceused'), 0) AS UsedSpace,
            df.size AS Size,
            COALESCE(vfs.size_on_disk_bytes, 0) AS size_on_disk_bytes,
            CASE df.state_desc WHEN 'OFFLINE' THEN 'True' ELSE 'False' END AS IsOffline,
            CASE mf.is_read_only WHEN 1 THEN 'True' WHEN 0 THEN 'False' END AS IsReadOnly,
            CASE mf.is_media_read_only WHEN 1 THEN 'True' WHEN 0 THEN 'False' END AS IsReadOnlyMedia,
            CASE mf.is_sparse WHEN 1 THEN 'True' WHEN 0 THEN 'False' END AS IsSparse,
            CASE mf.is_percent_growth WHEN 1 THEN 'Percent' WHEN 0 THEN 'kb' END AS GrowthType,
            COALESCE(vfs.num_of_writes, 0) AS NumberOfDiskWrites,
            COALESCE(vfs.num_of_reads, 0) AS NumberOfDiskReads,
            COALESCE(vfs.num_of_bytes_read, 0) AS BytesReadFromDisk,
            COALESCE(vfs.num_of_bytes_written, 0) AS BytesWrittenToDisk,
            fg.data_space_id AS FileGroupDataSpaceId,
            fg.Type AS FileGroupType,
            fg.type_desc AS FileGroupTypeDescription,
            CASE fg.is_default WHEN 1 THEN 'True' WHEN 0 THEN 'False' END AS FileGroupDefault,
            fg.is_read_only AS FileGroupReadOnly
,vs.available_bytes AS 'VolumeFreeSpace'
FROM sys.database_files df
            LEFT OUTER JOIN  sys.filegroups fg ON df.data_space_id=fg.data_space_id
            LEFT JOIN sys.dm_io_virtual_file_stats(DB_ID(),NULL) vfs ON df.file_id=vfs.file_id
            INNER JOIN sys.master_files mf ON df.file_id = mf.file_id
            AND mf.database_id = DB_ID()
CROSS APPLY sys.dm_os_volume_stats(DB_ID(),df.file_id) vs
GO
-- source: microsoft/sqlmanagementobjects/src/Microsoft/SqlServer/Management/Smo/script_patterns.cs:46 USEMASTER — back to master, as the next SMO call on the server does
USE [master]
GO
-- source: dataplat/dbatools/public/Backup-DbaDatabase.ps1:994 (SMO Backup.Script) — Backup-DbaDatabase -Database pubs: dbatools' defaults, PercentCompleteNotification = 1
-- needs: vdi
BACKUP DATABASE [pubs] TO  VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH NOFORMAT, NOINIT, NOSKIP, REWIND, NOUNLOAD,  STATS = 1
GO
-- source: dataplat/dbatools/public/Backup-DbaDatabase.ps1:994 (SMO Backup.Script) — -CopyOnly -CompressBackup -Checksum -Description, with -MaxTransferSize/-BufferCount/-BlockSize
-- needs: vdi
BACKUP DATABASE [pubs] TO  VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH  BLOCKSIZE = 65536,  BUFFERCOUNT = 32,  MAXTRANSFERSIZE = 4194304,  COPY_ONLY,  DESCRIPTION = N'dbatools corpus backup', NOFORMAT, NOINIT, NOSKIP, REWIND, NOUNLOAD, COMPRESSION,  STATS = 1, CHECKSUM
GO
-- source: dataplat/dbatools/public/Backup-DbaDatabase.ps1:994 (SMO Backup.Script) — -FileCount 3 -WithFormat -Initialize: three stripes
-- needs: vdi
BACKUP DATABASE [pubs] TO  VIRTUAL_DEVICE = N'vdisim_corpus_dev0',  VIRTUAL_DEVICE = N'vdisim_corpus_dev1',  VIRTUAL_DEVICE = N'vdisim_corpus_dev2' WITH FORMAT, INIT, SKIP, REWIND, NOUNLOAD,  STATS = 1
GO
-- source: dataplat/dbatools/public/Backup-DbaDatabase.ps1:994 (SMO Backup.Script) — full of the FULL-recovery database, the base of the chain below
-- needs: vdi
BACKUP DATABASE [AdventureWorks] TO  VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH NOFORMAT, NOINIT, NOSKIP, REWIND, NOUNLOAD,  STATS = 1
GO
-- source: dataplat/dbatools/public/Backup-DbaDatabase.ps1:794 (SMO Backup.Script) — -Type Differential
-- needs: vdi
-- needs: history AdventureWorks
BACKUP DATABASE [AdventureWorks] TO  VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH  DIFFERENTIAL , NOFORMAT, NOINIT, NOSKIP, REWIND, NOUNLOAD,  STATS = 1
GO
-- source: dataplat/dbatools/public/Backup-DbaDatabase.ps1:801 (SMO Backup.Script) — -Type Log
-- needs: vdi
-- needs: history AdventureWorks
BACKUP LOG [AdventureWorks] TO  VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH NOFORMAT, NOINIT, NOSKIP, REWIND, NOUNLOAD,  STATS = 1
GO
-- source: dataplat/dbatools/public/Get-DbaEstimatedCompletionTime.ps1:120 — progress of running BACKUP/RESTORE requests in pubs (polled from another session while one runs)
-- needs: concurrent
SELECT
                DB_NAME(r.database_id) AS [Database],
                USER_NAME(r.user_id) AS [Login],
                Command,
                start_time AS StartTime,
                percent_complete AS PercentComplete,

                  RIGHT('00000' + CAST(((DATEDIFF(s,start_time,GETDATE()))/3600) AS VARCHAR),
                                CASE
                                    WHEN LEN(((DATEDIFF(s,start_time,GETDATE()))/3600)) < 2 THEN 2
                                    ELSE LEN(((DATEDIFF(s,start_time,GETDATE()))/3600))
                                 END)  + ':'
                + RIGHT('00' + CAST((DATEDIFF(s,start_time,GETDATE())%3600)/60 AS VARCHAR), 2) + ':'
                + RIGHT('00' + CAST((DATEDIFF(s,start_time,GETDATE())%60) AS VARCHAR), 2) AS RunningTime,

                  RIGHT('00000' + CAST((estimated_completion_time/3600000) AS VARCHAR),
                        CASE
                                    WHEN LEN((estimated_completion_time/3600000)) < 2 THEN 2
                                    ELSE LEN((estimated_completion_time/3600000))
                         END)  + ':'
                + RIGHT('00' + CAST((estimated_completion_time %3600000)/60000 AS VARCHAR), 2) + ':'
                + RIGHT('00' + CAST((estimated_completion_time %60000)/1000 AS VARCHAR), 2) AS EstimatedTimeToGo,
                DATEADD(SECOND,estimated_completion_time/1000, GETDATE()) AS EstimatedCompletionTime,
                s.Text
             FROM sys.dm_exec_requests r
            CROSS APPLY sys.dm_exec_sql_text(r.sql_handle) s
            WHERE r.estimated_completion_time > 0 AND DB_NAME(r.database_id) in ('pubs')
GO
-- source: dataplat/dbatools/public/Get-DbaDbBackupHistory.ps1:461 — recovery-fork check that precedes -LastFull/-LastDiff/-LastLog
-- needs: history pubs
SELECT
                                database_name,
                                MIN(database_backup_lsn) AS 'FirstLsn',
                                MAX(database_backup_lsn) AS 'FinalLsn',
                                MIN(backup_start_date) AS 'MinDate',
                                MAX(backup_finish_date) AS 'MaxDate',
                                last_recovery_fork_guid 'RecFork',
                                COUNT(1) AS 'backupcount'
                            FROM msdb.dbo.backupset
                            WHERE database_name='pubs'
                            AND backupset.backup_finish_date >= CONVERT(datetime,'1970-01-01T00:00:00',126)
                            
                            GROUP BY database_name, last_recovery_fork_guid
GO
-- source: dataplat/dbatools/public/Get-DbaDbBackupHistory.ps1:514 — Get-DbaDbBackupHistory -Database pubs -LastFull: RANK() over the newest full of the last database_guid and recovery fork
-- needs: history pubs
SELECT
                        a.BackupSetRank,
                        a.Server,
                        '' AS AvailabilityGroupName,
                        a.[Database],
                        a.DatabaseId,
                        a.Username,
                        a.Start,
                        a.[End],
                        a.Duration,
                        a.[Path],
                        a.Type,
                        a.TotalSize,
                        a.CompressedBackupSize,
                        a.MediaSetId,
                        a.BackupSetID,
                        a.Software,
                        a.position,
                        a.first_lsn,
                        a.database_backup_lsn,
                        a.checkpoint_lsn,
                        a.last_lsn,
                        a.first_lsn AS 'FirstLSN',
                        a.database_backup_lsn AS 'DatabaseBackupLsn',
                        a.checkpoint_lsn AS 'CheckpointLsn',
                        a.last_lsn AS 'LastLsn',
                        a.software_major_version,
                        a.DeviceType,
                        a.is_copy_only,
                        a.last_recovery_fork_guid,
                        a.recovery_model,
                        a.EncryptorThumbprint,
                        a.EncryptorType,
                        a.KeyAlgorithm
                    FROM (
                        SELECT
                        RANK() OVER (ORDER BY backupset.last_lsn DESC, backupset.backup_finish_date DESC) AS 'BackupSetRank',
                        backupset.database_name AS [Database],
                        (SELECT database_id FROM sys.databases WHERE name = backupset.database_name) AS DatabaseId,
                        backupset.user_name AS Username,
                        backupset.backup_start_date AS Start,
                        backupset.server_name AS [Server],
                        backupset.backup_finish_date AS [End],
                        DATEDIFF(SECOND, backupset.backup_start_date, backupset.backup_finish_date) AS Duration,
                        mediafamily.physical_device_name AS Path,
                        
                backupset.backup_size AS TotalSize,
                backupset.compressed_backup_size as CompressedBackupSize,
                encryptor_thumbprint as EncryptorThumbprint,
                encryptor_type as EncryptorType,
                key_algorithm AS KeyAlgorithm,
                        CASE backupset.type
                        WHEN 'L' THEN 'Log'
                        WHEN 'D' THEN 'Full'
                        WHEN 'F' THEN 'File'
                        WHEN 'I' THEN 'Differential'
                        WHEN 'G' THEN 'Differential File'
                        WHEN 'P' THEN 'Partial Full'
                        WHEN 'Q' THEN 'Partial Differential'
                        ELSE NULL
                        END AS Type,
                        backupset.media_set_id AS MediaSetId,
                        mediafamily.media_family_id AS mediafamilyid,
                        backupset.backup_set_id AS BackupSetID,
                        CASE mediafamily.device_type
                        WHEN 2 THEN 'Disk'
                        WHEN 102 THEN 'Permanent Disk Device'
                        WHEN 5 THEN 'Tape'
                        WHEN 105 THEN 'Permanent Tape Device'
                        WHEN 6 THEN 'Pipe'
                        WHEN 106 THEN 'Permanent Pipe Device'
                        WHEN 7 THEN 'Virtual Device'
                        WHEN 9 THEN 'URL'
                        ELSE 'Unknown'
                        END AS DeviceType,
                        backupset.position,
                        backupset.first_lsn,
                        backupset.database_backup_lsn,
                        backupset.checkpoint_lsn,
                        backupset.last_lsn,
                        backupset.software_major_version,
                        mediaset.software_name AS Software,
                        backupset.is_copy_only,
                        backupset.last_recovery_fork_guid,
                        backupset.recovery_model
                        FROM msdb..backupmediafamily AS mediafamily
                        JOIN msdb..backupmediaset AS mediaset ON mediafamily.media_set_id = mediaset.media_set_id
                        JOIN msdb..backupset AS backupset ON backupset.media_set_id = mediaset.media_set_id
                        JOIN (
                            SELECT TOP 1 database_name, database_guid, last_recovery_fork_guid
                            FROM msdb..backupset
                            WHERE database_name = 'pubs'
                            ORDER BY backup_finish_date DESC
                            ) AS last_guids ON last_guids.database_name = backupset.database_name AND last_guids.database_guid = backupset.database_guid AND last_guids.last_recovery_fork_guid = backupset.last_recovery_fork_guid
                    WHERE (type = 'D' OR type = 'P')
                     AND is_copy_only='0' 
                    
                    AND backupset.backup_finish_date >= CONVERT(datetime,'1970-01-01T00:00:00',126)
                    
                     AND mediafamily.mirror='0' 
                    ) AS a
                    WHERE a.BackupSetRank = 1
                    ORDER BY a.Type;
                    
GO
-- source: dataplat/dbatools/public/Get-DbaDbBackupHistory.ps1:514 — -LastDiff -IncludeCopyOnly -DeviceType 'Virtual Device' on the chain database (types I and Q, device_type filter)
-- needs: chain AdventureWorks
SELECT
                        a.BackupSetRank,
                        a.Server,
                        '' AS AvailabilityGroupName,
                        a.[Database],
                        a.DatabaseId,
                        a.Username,
                        a.Start,
                        a.[End],
                        a.Duration,
                        a.[Path],
                        a.Type,
                        a.TotalSize,
                        a.CompressedBackupSize,
                        a.MediaSetId,
                        a.BackupSetID,
                        a.Software,
                        a.position,
                        a.first_lsn,
                        a.database_backup_lsn,
                        a.checkpoint_lsn,
                        a.last_lsn,
                        a.first_lsn AS 'FirstLSN',
                        a.database_backup_lsn AS 'DatabaseBackupLsn',
                        a.checkpoint_lsn AS 'CheckpointLsn',
                        a.last_lsn AS 'LastLsn',
                        a.software_major_version,
                        a.DeviceType,
                        a.is_copy_only,
                        a.last_recovery_fork_guid,
                        a.recovery_model,
                        a.EncryptorThumbprint,
                        a.EncryptorType,
                        a.KeyAlgorithm
                    FROM (
                        SELECT
                        RANK() OVER (ORDER BY backupset.last_lsn DESC, backupset.backup_finish_date DESC) AS 'BackupSetRank',
                        backupset.database_name AS [Database],
                        (SELECT database_id FROM sys.databases WHERE name = backupset.database_name) AS DatabaseId,
                        backupset.user_name AS Username,
                        backupset.backup_start_date AS Start,
                        backupset.server_name AS [Server],
                        backupset.backup_finish_date AS [End],
                        DATEDIFF(SECOND, backupset.backup_start_date, backupset.backup_finish_date) AS Duration,
                        mediafamily.physical_device_name AS Path,
                        
                backupset.backup_size AS TotalSize,
                backupset.compressed_backup_size as CompressedBackupSize,
                encryptor_thumbprint as EncryptorThumbprint,
                encryptor_type as EncryptorType,
                key_algorithm AS KeyAlgorithm,
                        CASE backupset.type
                        WHEN 'L' THEN 'Log'
                        WHEN 'D' THEN 'Full'
                        WHEN 'F' THEN 'File'
                        WHEN 'I' THEN 'Differential'
                        WHEN 'G' THEN 'Differential File'
                        WHEN 'P' THEN 'Partial Full'
                        WHEN 'Q' THEN 'Partial Differential'
                        ELSE NULL
                        END AS Type,
                        backupset.media_set_id AS MediaSetId,
                        mediafamily.media_family_id AS mediafamilyid,
                        backupset.backup_set_id AS BackupSetID,
                        CASE mediafamily.device_type
                        WHEN 2 THEN 'Disk'
                        WHEN 102 THEN 'Permanent Disk Device'
                        WHEN 5 THEN 'Tape'
                        WHEN 105 THEN 'Permanent Tape Device'
                        WHEN 6 THEN 'Pipe'
                        WHEN 106 THEN 'Permanent Pipe Device'
                        WHEN 7 THEN 'Virtual Device'
                        WHEN 9 THEN 'URL'
                        ELSE 'Unknown'
                        END AS DeviceType,
                        backupset.position,
                        backupset.first_lsn,
                        backupset.database_backup_lsn,
                        backupset.checkpoint_lsn,
                        backupset.last_lsn,
                        backupset.software_major_version,
                        mediaset.software_name AS Software,
                        backupset.is_copy_only,
                        backupset.last_recovery_fork_guid,
                        backupset.recovery_model
                        FROM msdb..backupmediafamily AS mediafamily
                        JOIN msdb..backupmediaset AS mediaset ON mediafamily.media_set_id = mediaset.media_set_id
                        JOIN msdb..backupset AS backupset ON backupset.media_set_id = mediaset.media_set_id
                        JOIN (
                            SELECT TOP 1 database_name, database_guid, last_recovery_fork_guid
                            FROM msdb..backupset
                            WHERE database_name = 'AdventureWorks'
                            ORDER BY backup_finish_date DESC
                            ) AS last_guids ON last_guids.database_name = backupset.database_name AND last_guids.database_guid = backupset.database_guid AND last_guids.last_recovery_fork_guid = backupset.last_recovery_fork_guid
                    WHERE (type = 'I' OR type = 'Q')
                    
                    AND mediafamily.device_type IN ('7')
                    AND backupset.backup_finish_date >= CONVERT(datetime,'1970-01-01T00:00:00',126)
                    
                     AND mediafamily.mirror='0' 
                    ) AS a
                    WHERE a.BackupSetRank = 1
                    ORDER BY a.Type;
                    
GO
-- source: dataplat/dbatools/public/Get-DbaDbBackupHistory.ps1:619 — history without -Last*: every non-copy-only backup of the database, newest LSN first
-- needs: history pubs
SELECT
                        '' AS AvailabilityGroupName,
                        backupset.database_name AS [Database],
                        (SELECT database_id FROM sys.databases WHERE name = backupset.database_name) AS DatabaseId,
                        backupset.user_name AS Username,
                        backupset.server_name AS [server],
                        backupset.backup_start_date AS [Start],
                        backupset.backup_finish_date AS [End],
                        DATEDIFF(SECOND, backupset.backup_start_date, backupset.backup_finish_date) AS Duration,
                        mediafamily.physical_device_name AS Path,
                        
                backupset.backup_size AS TotalSize,
                backupset.compressed_backup_size as CompressedBackupSize,
                encryptor_thumbprint as EncryptorThumbprint,
                encryptor_type as EncryptorType,
                key_algorithm AS KeyAlgorithm,
                        CASE backupset.type
                            WHEN 'L' THEN 'Log'
                            WHEN 'D' THEN 'Full'
                            WHEN 'F' THEN 'File'
                            WHEN 'I' THEN 'Differential'
                            WHEN 'G' THEN 'Differential File'
                            WHEN 'P' THEN 'Partial Full'
                            WHEN 'Q' THEN 'Partial Differential'
                            ELSE NULL
                        END AS Type,
                        backupset.media_set_id AS MediaSetId,
                        mediafamily.media_family_id AS MediaFamilyId,
                        backupset.backup_set_id AS BackupSetId,
                        CASE mediafamily.device_type
                            WHEN 2 THEN 'Disk'
                            WHEN 102 THEN 'Permanent Disk Device'
                            WHEN 5 THEN 'Tape'
                            WHEN 105 THEN 'Permanent Tape Device'
                            WHEN 6 THEN 'Pipe'
                            WHEN 106 THEN 'Permanent Pipe Device'
                            WHEN 7 THEN 'Virtual Device'
                            WHEN 9 THEN 'URL'
                            ELSE 'Unknown'
                        END AS DeviceType,
                        backupset.position,
                        backupset.first_lsn,
                        backupset.database_backup_lsn,
                        backupset.checkpoint_lsn,
                        backupset.last_lsn,
                        backupset.first_lsn AS 'FirstLSN',
                        backupset.database_backup_lsn AS 'DatabaseBackupLsn',
                        backupset.checkpoint_lsn AS 'CheckpointLsn',
                        backupset.last_lsn AS 'LastLsn',
                        backupset.software_major_version,
                        mediaset.software_name AS Software,
                        backupset.is_copy_only,
                        backupset.last_recovery_fork_guid,
                        backupset.recovery_model  FROM msdb..backupmediafamily mediafamily
                INNER JOIN msdb..backupmediaset mediaset ON mediafamily.media_set_id = mediaset.media_set_id
                INNER JOIN msdb..backupset backupset ON backupset.media_set_id = mediaset.media_set_id  WHERE  database_name IN ('pubs') AND is_copy_only='0' AND mediafamily.mirror='0' AND backupset.backup_finish_date >= CONVERT(datetime,'1970-01-01T00:00:00',126) ORDER BY backupset.last_lsn DESC
GO
-- source: dataplat/dbatools/public/Get-DbaDbBackupHistory.ps1:432 — -Last: the log backups after the chain's start LSN (-LastLsn, inlined as a number by the tool)
-- needs: chain AdventureWorks
-- corpus: the tool inlines the full backup's first_lsn; it is read into @LastLsn here so the filter matches vdisim's LSNs
DECLARE @LastLsn numeric(25,0) = (SELECT TOP 1 first_lsn FROM msdb.dbo.backupset WHERE database_name = N'AdventureWorks' AND type = 'D' ORDER BY backup_set_id DESC)
SELECT
                        '' AS AvailabilityGroupName,
                        backupset.database_name AS [Database],
                        (SELECT database_id FROM sys.databases WHERE name = backupset.database_name) AS DatabaseId,
                        backupset.user_name AS Username,
                        backupset.server_name AS [server],
                        backupset.backup_start_date AS [Start],
                        backupset.backup_finish_date AS [End],
                        DATEDIFF(SECOND, backupset.backup_start_date, backupset.backup_finish_date) AS Duration,
                        mediafamily.physical_device_name AS Path,
                        
                backupset.backup_size AS TotalSize,
                backupset.compressed_backup_size as CompressedBackupSize,
                encryptor_thumbprint as EncryptorThumbprint,
                encryptor_type as EncryptorType,
                key_algorithm AS KeyAlgorithm,
                        CASE backupset.type
                            WHEN 'L' THEN 'Log'
                            WHEN 'D' THEN 'Full'
                            WHEN 'F' THEN 'File'
                            WHEN 'I' THEN 'Differential'
                            WHEN 'G' THEN 'Differential File'
                            WHEN 'P' THEN 'Partial Full'
                            WHEN 'Q' THEN 'Partial Differential'
                            ELSE NULL
                        END AS Type,
                        backupset.media_set_id AS MediaSetId,
                        mediafamily.media_family_id AS MediaFamilyId,
                        backupset.backup_set_id AS BackupSetId,
                        CASE mediafamily.device_type
                            WHEN 2 THEN 'Disk'
                            WHEN 102 THEN 'Permanent Disk Device'
                            WHEN 5 THEN 'Tape'
                            WHEN 105 THEN 'Permanent Tape Device'
                            WHEN 6 THEN 'Pipe'
                            WHEN 106 THEN 'Permanent Pipe Device'
                            WHEN 7 THEN 'Virtual Device'
                            WHEN 9 THEN 'URL'
                            ELSE 'Unknown'
                        END AS DeviceType,
                        backupset.position,
                        backupset.first_lsn,
                        backupset.database_backup_lsn,
                        backupset.checkpoint_lsn,
                        backupset.last_lsn,
                        backupset.first_lsn AS 'FirstLSN',
                        backupset.database_backup_lsn AS 'DatabaseBackupLsn',
                        backupset.checkpoint_lsn AS 'CheckpointLsn',
                        backupset.last_lsn AS 'LastLsn',
                        backupset.software_major_version,
                        mediaset.software_name AS Software,
                        backupset.is_copy_only,
                        backupset.last_recovery_fork_guid,
                        backupset.recovery_model  FROM msdb..backupmediafamily mediafamily
                INNER JOIN msdb..backupmediaset mediaset ON mediafamily.media_set_id = mediaset.media_set_id
                INNER JOIN msdb..backupset backupset ON backupset.media_set_id = mediaset.media_set_id  WHERE  database_name IN ('AdventureWorks') AND is_copy_only='0' AND mediafamily.mirror='0' AND backupset.backup_finish_date >= CONVERT(datetime,'1970-01-01T00:00:00',126) AND backupset.last_lsn > @LastLsn ORDER BY backupset.last_lsn DESC
GO
-- source: dataplat/dbatools/public/Get-DbaDbBackupHistory.ps1:741 — file list of the backup sets found, through a temp table of their ids (backup_set_id 1 = the first backup)
-- needs: history pubs
CREATE TABLE #BackupSetIds ( backup_set_id INT ); INSERT INTO #BackupSetIds( backup_set_id ) VALUES (1);INSERT INTO #BackupSetIds( backup_set_id ) VALUES (2); SELECT bf.backup_set_id, file_type AS FileType, logical_name AS LogicalName, physical_name AS PhysicalName
                    FROM msdb..backupfile bf
                    JOIN #BackupSetIds bs
                        ON bs.backup_set_id = bf.backup_set_id
                    WHERE [state] <> 8;
                    DROP TABLE #BackupSetIds;
GO
-- source: dataplat/dbatools/public/Invoke-DbaAdvancedRestore.ps1:333 — Restore-DbaDatabase -WithReplace over an existing database: throw users out first (run in master)
ALTER DATABASE pubs SET OFFLINE WITH ROLLBACK IMMEDIATE; ALTER DATABASE pubs SET RESTRICTED_USER; ALTER DATABASE pubs SET ONLINE WITH ROLLBACK IMMEDIATE
GO
-- source: dataplat/dbatools/public/Invoke-DbaAdvancedRestore.ps1:515 (SMO Restore.Script) — Restore-DbaDatabase -WithReplace of the full backup, position 1
-- needs: vdi
-- needs: stream pubs full
RESTORE DATABASE [pubs] FROM  VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH  FILE = 1,  NOUNLOAD,  REPLACE
GO
-- source: dataplat/dbatools/public/Invoke-DbaAdvancedRestore.ps1:515 (SMO Restore.Script) — Restore-DbaDatabase -DatabaseName pubs_dbatools -DestinationDataDirectory /var/opt/mssql/data -NoRecovery: a MOVE for each file, left RESTORING
-- needs: vdi
-- needs: stream pubs full
-- needs: absent pubs_dbatools
RESTORE DATABASE [pubs_dbatools] FROM  VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH  FILE = 1,  MOVE N'pubs' TO N'/var/opt/mssql/data/pubs_dbatools.mdf',  MOVE N'pubs_log' TO N'/var/opt/mssql/data/pubs_dbatools_log.ldf',  NORECOVERY,  NOUNLOAD
GO
-- source: dataplat/dbatools/public/Restore-DbaDatabase.ps1:790 — Restore-DbaDatabase -Recover: bring the restoring database online
-- needs: restoring pubs_dbatools
RESTORE DATABASE [pubs_dbatools] WITH RECOVERY
GO
-- source: dataplat/dbatools/public/Invoke-DbaAdvancedRestore.ps1:465 (SMO Restore.Script) — -KeepCDC: dbatools appends " , KEEP_CDC" to SMO's script
-- needs: vdi
-- needs: stream pubs full
RESTORE DATABASE [pubs] FROM  VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH  FILE = 1,  NOUNLOAD,  REPLACE , KEEP_CDC
GO
-- source: dataplat/dbatools/public/Invoke-DbaAdvancedRestore.ps1:515 (SMO Restore.Script) — -ExecuteAs sa: the restore runs under EXECUTE AS LOGIN
-- needs: vdi
-- needs: stream pubs full
EXECUTE AS LOGIN='sa'; RESTORE DATABASE [pubs] FROM  VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH  FILE = 1,  NOUNLOAD,  REPLACE
GO
-- source: dataplat/dbatools/public/Invoke-DbaAdvancedRestore.ps1:363 (SMO Restore.Script) — Restore-DbaDatabase -WithReplace of a full+diff+log chain: every backup but the last gets NORECOVERY; this is the full
-- needs: vdi
-- needs: stream AdventureWorks full
RESTORE DATABASE [AdventureWorks] FROM  VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH  FILE = 1,  NORECOVERY,  NOUNLOAD,  REPLACE
GO
-- source: dataplat/dbatools/public/Invoke-DbaAdvancedRestore.ps1:363 (SMO Restore.Script) — the chain's differential, NORECOVERY (SMO repeats REPLACE on database restores)
-- needs: vdi
-- needs: stream AdventureWorks diff
-- needs: restoring AdventureWorks
RESTORE DATABASE [AdventureWorks] FROM  VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH  FILE = 1,  NORECOVERY,  NOUNLOAD,  REPLACE
GO
-- source: dataplat/dbatools/public/Invoke-DbaAdvancedRestore.ps1:389 (SMO Restore.Script) — the chain's last log, with recovery; the default -RestoreTime (a year ahead) leaves out STOPAT
-- needs: vdi
-- needs: stream AdventureWorks log
-- needs: restoring AdventureWorks
RESTORE LOG [AdventureWorks] FROM  VIRTUAL_DEVICE = N'vdisim_corpus_dev0' WITH  FILE = 1,  NOUNLOAD
GO
-- source: dataplat/dbatools/public/Get-DbaDbRestoreHistory.ps1:156 — Get-DbaDbRestoreHistory -Database pubs,AdventureWorks: restorehistory joined to backupset, device and file lists built with STUFF(... FOR XML PATH(''))
SELECT
                    'SQLHOST' AS [ComputerName],
                    'MSSQLSERVER' AS [InstanceName],
                    'SQLHOST' AS [SqlInstance],
                     rsh.destination_database_name AS [Database],
                     --rsh.restore_history_id as RestoreHistoryID,
                     rsh.user_name AS [Username],
                     CASE
                         WHEN rsh.restore_type = 'D' THEN 'Database'
                         WHEN rsh.restore_type = 'F' THEN 'File'
                         WHEN rsh.restore_type = 'G' THEN 'Filegroup'
                         WHEN rsh.restore_type = 'I' THEN 'Differential'
                         WHEN rsh.restore_type = 'L' THEN 'Log'
                         WHEN rsh.restore_type = 'V' THEN 'Verifyonly'
                         WHEN rsh.restore_type = 'R' THEN 'Revert'
                         ELSE rsh.restore_type
                     END AS [RestoreType],
                     rsh.restore_date AS [Date],
                     ISNULL(STUFF((SELECT ', ' + bmf.physical_device_name
                                    FROM msdb.dbo.backupmediafamily bmf
                                   WHERE bmf.media_set_id = bs.media_set_id
                                 FOR XML PATH('')), 1, 2, ''), '') AS [From],
                     ISNULL(STUFF((SELECT ', ' + rf.destination_phys_name
                                    FROM msdb.dbo.restorefile rf
                                   WHERE rsh.restore_history_id = rf.restore_history_id
                                 FOR XML PATH('')), 1, 2, ''), '') AS [To],
                    bs.first_lsn,
                    bs.last_lsn,
                    bs.checkpoint_lsn,
                    bs.database_backup_lsn,
                    bs.backup_start_date,
                    bs.backup_start_date AS BackupStartDate,
                    bs.backup_finish_date,
                    bs.backup_finish_date AS BackupFinishDate,
                    rsh.stop_at AS StopAt,
                    COALESCE(rsh.stop_at, bs.backup_start_date) AS LastRestorePoint
                      FROM msdb.dbo.restorehistory rsh
                    INNER JOIN msdb.dbo.backupset bs ON rsh.backup_set_id = bs.backup_set_id  WHERE  destination_database_name in ('pubs','AdventureWorks')
GO
-- source: dataplat/dbatools/public/Get-DbaDbRestoreHistory.ps1:218 — -Last -RestoreType Log -Force: SELECT * with the newest restore per database
SELECT 'SQLHOST' AS [ComputerName],
                    'MSSQLSERVER' AS [InstanceName],
                    'SQLHOST' AS [SqlInstance], *   FROM msdb.dbo.restorehistory rsh
                    INNER JOIN msdb.dbo.backupset bs ON rsh.backup_set_id = bs.backup_set_id  WHERE  rsh.restore_history_id IN
                        (SELECT MAX(restore_history_id) FROM msdb.dbo.restorehistory
                        GROUP BY destination_database_name
                        ) and rsh.restore_type =
                                        (CASE
                                            WHEN 'Log' = 'Database'        THEN 'D'
                                            WHEN 'Log' = 'File'            THEN 'F'
                                            WHEN 'Log' = 'Filegroup'       THEN 'G'
                                            WHEN 'Log' = 'Differential'    THEN 'I'
                                            WHEN 'Log' = 'Log'             THEN 'L'
                                            WHEN 'Log' = 'Verifyonly'      THEN 'V'
                                            WHEN 'Log' = 'Revert'          THEN 'R'
                                            ELSE 'D'
                                        END)
GO
-- source: dataplat/dbatools/public/Get-DbaProcess.ps1:156 — sessions with their transport and last SQL, used by Stop-DbaProcess before a restore
SELECT DATEDIFF(MINUTE, s.last_request_end_time, GETDATE()) AS MinutesAsleep,
                s.session_id AS spid,
                s.host_process_id AS HostProcessId,
                t.text AS Query,
                s.login_time AS LoginTime,
                s.client_version AS ClientVersion,
                s.last_request_start_time AS LastRequestStartTime,
                s.last_request_end_time AS LastRequestEndTime,
                c.net_transport AS NetTransport,
                c.encrypt_option AS EncryptOption,
                c.auth_scheme AS AuthScheme,
                c.net_packet_size AS NetPacketSize,
                c.client_net_address AS ClientNetAddress,
                e.name AS EndpointName,
                e.is_admin_endpoint AS IsDac
            FROM sys.dm_exec_connections c
            JOIN sys.dm_exec_sessions s
                ON c.session_id = s.session_id
            JOIN sys.endpoints e
                ON c.endpoint_id = e.endpoint_id
            OUTER APPLY sys.dm_exec_sql_text(c.most_recent_sql_handle) t
GO
-- source: dataplat/dbatools/public/Set-DbaDbState.ps1:399 Edit-DatabaseState — Set-DbaDbState -SingleUser -Force
ALTER DATABASE [pubs] SET SINGLE_USER WITH ROLLBACK IMMEDIATE
GO
-- source: dataplat/dbatools/public/Set-DbaDbState.ps1:427 Edit-DatabaseState — Set-DbaDbState -MultiUser
ALTER DATABASE [pubs] SET MULTI_USER WITH NO_WAIT
GO
-- source: dataplat/dbatools/public/Set-DbaDbState.ps1:413 Edit-DatabaseState — Set-DbaDbState -RestrictedUser
ALTER DATABASE [pubs] SET RESTRICTED_USER WITH NO_WAIT
GO
-- source: dataplat/dbatools/public/Set-DbaDbState.ps1:325 Edit-DatabaseState — Set-DbaDbState -ReadOnly -Force
ALTER DATABASE [pubs] SET READ_ONLY WITH ROLLBACK IMMEDIATE
GO
-- source: dataplat/dbatools/public/Set-DbaDbState.ps1:340 Edit-DatabaseState — Set-DbaDbState -ReadWrite
ALTER DATABASE [pubs] SET READ_WRITE WITH NO_WAIT
GO
-- source: dataplat/dbatools/public/Set-DbaDbState.ps1:370 Edit-DatabaseState — Set-DbaDbState -Offline -Force
ALTER DATABASE [pubs] SET OFFLINE WITH ROLLBACK IMMEDIATE
GO
-- source: dataplat/dbatools/public/Set-DbaDbState.ps1:355 Edit-DatabaseState — Set-DbaDbState -Online
ALTER DATABASE [pubs] SET ONLINE WITH NO_WAIT
GO
-- source: dataplat/dbatools/private/functions/Start-DbccCheck.ps1:35 — Test-DbaLastBackup's integrity check of the restored copy
-- needs: restored pubs_dbatools
DBCC CHECKDB ([pubs_dbatools])
GO
-- source: dataplat/dbatools/private/functions/Start-DbccCheck.ps1:33 — the same with -MaxDop
-- needs: restored pubs_dbatools
DBCC CHECKDB ([pubs_dbatools]) WITH MAXDOP = 2
GO
-- source: dataplat/dbatools/public/Remove-DbaDbBackupRestoreHistory.ps1:117 (SMO Server.DeleteBackupHistory(DateTime)) — -KeepDays 30
declare @dt datetime select @dt = cast(N'2000-01-01T00:00:00' as datetime) exec msdb.dbo.sp_delete_backuphistory @dt
GO
-- source: dataplat/dbatools/public/Remove-DbaDbBackupRestoreHistory.ps1:133 (SMO Database.DropBackupHistory) — -Database pubs_dbatools
EXEC msdb.dbo.sp_delete_database_backuphistory @database_name = N'pubs_dbatools'
GO
