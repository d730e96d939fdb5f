-- corpus file: MSSQL Compressed Backup (msbp.exe, a VDI pipe with compression plug-ins),
-- SQLServerIO/MSSQL-Compressed-Backup @ 485fcd35eb2b2a3dd0fbbc5b53323c65fb22b4a6.
-- It uses SqlClient with Initial Catalog=master; BACKUP/RESTORE name the database through a
-- SqlParameter, so they go out as sp_executesql with @databasename bound (written here as the call
-- SqlClient makes). Device names are GUIDs, one per stripe; vdisim_corpus_dev0/1 here.

-- source: SQLServerIO/MSSQL-Compressed-Backup/MSBackupPipe.Common/SqlThread.cs:427 GetVersion — @@VERSION, whose major version the tool cuts out between the first '-' and the next '.'
SELECT @@version;
GO

-- source: SQLServerIO/MSSQL-Compressed-Backup/MSBackupPipe.Common/SqlThread.cs:122 CalculateEstimatedDatabaseSize — full: size from sp_spaceused's second result set (reserved)
use [pubs]; exec sp_spaceused
GO

-- source: SQLServerIO/MSSQL-Compressed-Backup/MSBackupPipe.Common/SqlThread.cs:52 — the tool's next connection starts in master again (Initial Catalog=master)
USE [master]
GO

-- source: SQLServerIO/MSSQL-Compressed-Backup/MSBackupPipe.Common/SqlThread.cs:151 CalculateEstimatedDatabaseSize — differential: changed extents from DBCC PAGE on each DIFF_MAP page (cursor, INSERT … EXEC sp_executesql, WITH TABLERESULTS)
-- needs: history AdventureWorks
exec sp_executesql N'
                    /* 2005 and 2008 */

                    DECLARE @dbName nvarchar(128);
                    SET @dbName = @dbNameParam;

                    DECLARE dbFiles CURSOR FOR
	                    SELECT file_id, size
	                    FROM master.sys.master_files with(NOLOCK)
	                    WHERE type_desc = ''ROWS''
		                    AND state_desc = ''ONLINE''
		                    AND database_id = DB_ID(@dbName)
                    	
                    DECLARE @result TABLE
                    (
	                    Field varchar(100)
                    )	
                    	
                    DECLARE @file_id int;
                    DECLARE @size int;
                    OPEN dbFiles;

                    FETCH NEXT FROM dbFiles INTO @file_id, @size;

                    WHILE @@FETCH_STATUS = 0
                    BEGIN
	                    DECLARE @extentID int;
	                    SET @extentID = 0;
                    	
	                    WHILE (@extentID < @size)
	                    BEGIN
		                    DECLARE @pageID int;
		                    SET @pageID = @extentID + 6;
                    		
		                    DECLARE @sql nvarchar(1000);
		                    SET @sql = ''DBCC PAGE (@sqlDbName,'' 
			                    + CAST(@file_id as varchar(20)) + '',''
			                    + CAST(@pageID as varchar(20)) + '',''
			                    + ''3) WITH TABLERESULTS, NO_INFOMSGS'';
                    			
		                    DECLARE @tempDbccPage TABLE
		                    (
			                    ParentObject varchar(100),
			                    [Object] varchar(100),
			                    Field varchar(100),
			                    Value varchar(100)
		                    );	
                            DELETE FROM @tempDbccPage;
		                    INSERT INTO @tempDbccPage EXEC sp_executesql @sql, N''@sqlDbName nvarchar(128)'', @sqlDbName = @dbName;
                    		
		                    INSERT INTO @result (Field) 
		                    SELECT Field
		                    FROM @tempDbccPage
		                    WHERE Value = ''    CHANGED''
			                    AND ParentObject LIKE ''DIFF_MAP%'';
                    		
		                    SET @extentID = @extentID + 511232;
	                    END
                    	
	                    FETCH NEXT FROM dbFiles INTO @file_id, @size;

                    END

                    CLOSE dbFiles;
                    DEALLOCATE dbFiles;

                    SELECT Field 
                    from @result;
                    ',N'@dbNameParam nvarchar(128)',@dbNameParam=N'AdventureWorks'
GO

-- source: SQLServerIO/MSSQL-Compressed-Backup/MSBackupPipe.Common/SqlThread.cs:330 CalculateEstimatedDatabaseSize — log: used log space from DBCC SQLPERF(logspace) through INSERT … EXEC
exec sp_executesql N'
                        CREATE TABLE #t
                        (
	                        [Database Name] nvarchar(500),
	                        [Log Size (MB)] nvarchar(100),
	                        [Log Space Used (%)] nvarchar(100),
	                        Status nvarchar(20)
                        );

                        INSERT INTO #t
                        EXEC (''DBCC SQLPERF(logspace)'')

                        select CAST(CAST([Log Size (MB)] as float) * CAST([Log Space Used (%)] AS float) / 100.0 * 1024.0 * 1024.0 AS bigint) AS LogUsed 
                        from #t
                        WHERE [Database Name] = @dbNameParam;
                        ',N'@dbNameParam nvarchar(128)',@dbNameParam=N'AdventureWorks'
GO

-- source: SQLServerIO/MSSQL-Compressed-Backup/MSBackupPipe.StdPlugins/Database/DatabaseSource.cs:370 ConfigureBackupCommand — msbp.exe backup "db(database=pubs)" … : the database is a parameter
-- needs: vdi
exec sp_executesql N'BACKUP DATABASE @databasename TO VIRTUAL_DEVICE=''vdisim_corpus_dev0'';',N'@databasename nvarchar(255)',@databasename=N'pubs'
GO

-- source: SQLServerIO/MSSQL-Compressed-Backup/MSBackupPipe.StdPlugins/Database/DatabaseSource.cs:370 ConfigureBackupCommand — two local(path=…) targets: one device per stripe, with COPY_ONLY, CHECKSUM and transfer options (note BlockSize= and the comma without space)
-- needs: vdi
exec sp_executesql N'BACKUP DATABASE @databasename TO VIRTUAL_DEVICE=''vdisim_corpus_dev0'',VIRTUAL_DEVICE=''vdisim_corpus_dev1'' WITH COPY_ONLY,CHECKSUM,BUFFERCOUNT=20,MAXTRANSFERSIZE=1048576,BlockSize=65536;',N'@databasename nvarchar(255)',@databasename=N'pubs'
GO

-- source: SQLServerIO/MSSQL-Compressed-Backup/MSBackupPipe.StdPlugins/Database/DatabaseSource.cs:332 ConfigureBackupCommand — backuptype=differential
-- needs: vdi
-- needs: history AdventureWorks
exec sp_executesql N'BACKUP DATABASE @databasename TO VIRTUAL_DEVICE=''vdisim_corpus_dev0'' WITH DIFFERENTIAL;',N'@databasename nvarchar(255)',@databasename=N'AdventureWorks'
GO

-- source: SQLServerIO/MSSQL-Compressed-Backup/MSBackupPipe.StdPlugins/Database/DatabaseSource.cs:363 ConfigureBackupCommand — backuptype=log
-- needs: vdi
-- needs: history AdventureWorks
exec sp_executesql N'BACKUP LOG @databasename TO VIRTUAL_DEVICE=''vdisim_corpus_dev0'';',N'@databasename nvarchar(255)',@databasename=N'AdventureWorks'
GO

-- source: SQLServerIO/MSSQL-Compressed-Backup/MSBackupPipe.StdPlugins/Database/DatabaseSource.cs:167 ConfigureBackupCommand — FILE=… : the logical file name is a parameter too
-- needs: vdi
exec sp_executesql N'BACKUP DATABASE @databasename FILE=@file0 TO VIRTUAL_DEVICE=''vdisim_corpus_dev0'';',N'@databasename nvarchar(255),@file0 nvarchar(2000)',@databasename=N'pubs',@file0=N'pubs'
GO

-- source: SQLServerIO/MSSQL-Compressed-Backup/MSBackupPipe.Common/HeaderFileList.cs:92 WriteHeaderFilelist — after the backup: a HEADERONLY and a FILELISTONLY look-alike built from msdb for the device names just used (two result sets; msdb.sys.database_recovery_status, backupfilegroup). On SQL Server 2022 neither version branch adds columns
-- needs: history pubs
SELECT [name]            AS BackupName, 
                   [description]               AS BackupDescription, 
                   CASE 
                     WHEN [type] = 'D' THEN 1 
                     WHEN [type] = 'I' THEN 5 
                     WHEN [type] = 'L' THEN 2 
                     WHEN [type] = 'F' THEN 4 
                     WHEN [type] = 'G' THEN 6 
                     WHEN [type] = 'P' THEN 7 
                     WHEN [type] = 'Q' THEN 8 
                     ELSE NULL 
                   END                         AS BackupType, 
                   expiration_date             AS ExpirationDate, 
                   0                           AS Compressed, 
                   position                    AS Position, 
                   2                           AS DeviceType, 
                   [user_name]                 AS UserName, 
                   [server_name]               AS ServerName, 
                   [database_name]             AS DatabaseName, 
                   database_version            AS DatabaseVersion, 
                   database_creation_date      AS DatabaseCreationDate, 
                   backup_size                 AS BackupSize, 
                   first_lsn                   AS FirstLSN, 
                   last_lsn                    AS LastLSN, 
                   checkpoint_lsn              AS CheckpointLSN, 
                   database_backup_lsn         AS DatabaseBackupLSN, 
                   backup_start_date           AS BackupStartDate, 
                   backup_finish_date          AS BackupFinishDate, 
                   sort_order                  AS SortOrder, 
                   code_page                   AS CodePage, 
                   unicode_locale              AS UnicodeLocaleid, 
                   unicode_compare_style       AS UnicodeComparisionStyle, 
                   compatibility_level         AS CompatibilityLevel, 
                   software_vendor_id          AS SoftwareVendorid, 
                   software_major_version      AS SoftwareVersionMajor, 
                   software_minor_version      AS SoftwareVersionMinor, 
                   software_build_version      AS SoftwareVersionBuild, 
                   machine_name                AS MachineName, 
                   flags                       AS Flags, 
                   drs.database_guid           AS BindingID, 
                   drs.recovery_fork_guid      AS RecoveryForkID, 
                   collation_name              AS Collation, 
                   bs.family_guid              AS FamilyGUID, 
                   has_bulk_logged_data        AS HasBulkLoggedData, 
                   is_snapshot                 AS IsSnapshot, 
                   is_readonly                 AS IsReadonly, 
                   is_single_user              AS IsSingleUser, 
                   has_backup_checksums        AS HasBackupChecksums, 
                   is_damaged                  AS IsDamaged, 
                   begins_log_chain            AS BeginsLogChain, 
                   has_incomplete_metadata     AS HasIncompleteMetaData, 
                   is_force_offline            AS IsForceOffline, 
                   is_copy_only                AS IsCopyOnly, 
                   bs.first_recovery_fork_guid AS FirstRecoveryForkID, 
                   bs.fork_point_lsn           AS ForPointLSN, 
                   recovery_model              AS RecoveryModel, 
                   differential_base_lsn       AS DifferentialBaseLSN, 
                   differential_base_guid      AS DifferentialBaseGUID, 
                   CASE 
                     WHEN [type] = 'D' THEN 'DATABASE' 
                     WHEN [type] = 'I' THEN 'DATABASE DIFFERENTIAL' 
                     WHEN [type] = 'L' THEN 'TRANSACTION LOG' 
                     WHEN [type] = 'F' THEN 'FILE OR FILEGROUP' 
                     WHEN [type] = 'G' THEN 'FILE DIFFERENTIAL PARTIAL' 
                     WHEN [type] = 'P' THEN 'PARTIAL DIFFERENTIAL' 
                     WHEN [type] = 'Q' THEN 'PARTIAL DIFFERENTIAL' 
                     ELSE NULL 
                   END                         AS BackupSetDescription,
                   backup_set_uuid             AS BackupSetGUID
            FROM   msdb.dbo.backupset bs 
            INNER JOIN msdb.sys.database_recovery_status drs 
                    ON bs.family_guid = drs.family_guid 
                    AND 
                    bs.database_guid = drs.database_guid
            where bs.backup_set_id
            in(
	            select 
			            backup_set_id 
		            from 
			            msdb.dbo.backupset 
		            where 
			            media_set_id in 
			            (
			            select 
				            distinct media_set_id 
			            from 
				            msdb.dbo.backupmediafamily 
			            where 
				            physical_device_name in('vdisim_corpus_dev0')
			            )
            );SELECT 
                            bf.logical_name           AS LogicalName,
                            bf.physical_name          AS PhysicalName, 
                            bf.file_type              AS [Type], 
                            bf.[filegroup_name]       AS FileGroupName, 
                            bf.[file_size]            AS Size, 
                            35184372080640            AS MaxSize, 
                            bf.file_number            AS FileID, 
                            bf.create_lsn             AS CreateLSN, 
                            bf.drop_lsn               AS DropLSN, 
                            bf.file_guid              AS UniqueID, 
                            bf.read_only_lsn          AS ReadOnlyLSN, 
                            bf.read_write_lsn         AS ReadWriteLSN, 
                            bf.backup_size            AS BackupSizeInBytes, 
                            bf.source_file_block_size AS SourceBlockSize, 
                            bfg.[filegroup_id]        AS FileGroupID, 
                            NULL                      AS logLogGroupGUID, 
                            bf.differential_base_lsn  AS DifferentialBaseLSN, 
                            bf.differential_base_guid AS DifferentialBaseGUID, 
                            bf.is_readonly            AS IsReadOnly, 
                            bf.is_present             AS IsPresent
                        FROM   
                            msdb.dbo.backupfile bf
                        left outer join
                            msdb.dbo.backupfilegroup bfg
                        on
                            bf.backup_set_id = bfg.backup_set_id 
                        and 
                            bf.filegroup_guid = bf.filegroup_guid
                        where 
	                        bf.backup_set_id in 
	                        (
	                        select 
		                        backup_set_id 
	                        from 
		                        msdb.dbo.backupset 
	                        where 
		                        media_set_id in 
		                        (
		                        select 
			                        distinct media_set_id 
		                        from 
			                        msdb.dbo.backupmediafamily 
		                        where 
				                        physical_device_name in('vdisim_corpus_dev0')
			            )
            );
GO

-- source: SQLServerIO/MSSQL-Compressed-Backup/MSBackupPipe.StdPlugins/Database/DatabaseSource.cs:674 ConfigureRestoreCommand — msbp.exe restore … "db(database=pubs;REPLACE;STATS=10)"
-- needs: vdi
-- needs: stream pubs full
exec sp_executesql N'RESTORE DATABASE @databasename FROM VIRTUAL_DEVICE=''vdisim_corpus_dev0'' WITH REPLACE,STATS=10;',N'@databasename nvarchar(255)',@databasename=N'pubs'
GO

-- source: SQLServerIO/MSSQL-Compressed-Backup/MSBackupPipe.StdPlugins/Database/DatabaseSource.cs:674 ConfigureRestoreCommand — restore to a new name with MOVE='from'TO'to' options and NORECOVERY (the MOVE list is one option that starts with a space)
-- needs: vdi
-- needs: stream pubs full
-- needs: absent pubs_msbp
exec sp_executesql N'RESTORE DATABASE @databasename FROM VIRTUAL_DEVICE=''vdisim_corpus_dev0'' WITH NORECOVERY, MOVE ''pubs'' TO ''/var/opt/mssql/data/pubs_msbp.mdf'', MOVE ''pubs_log'' TO ''/var/opt/mssql/data/pubs_msbp_log.ldf'';',N'@databasename nvarchar(255)',@databasename=N'pubs_msbp'
GO

-- source: SQLServerIO/MSSQL-Compressed-Backup/MSBackupPipe.StdPlugins/Database/DatabaseSource.cs:491 ConfigureRestoreCommand — restoretype=log with STOPAT bound as a datetime parameter
-- needs: vdi
-- needs: stream AdventureWorks log
-- needs: restoring AdventureWorks
exec sp_executesql N'RESTORE LOG @databasename FROM VIRTUAL_DEVICE=''vdisim_corpus_dev0'' WITH NORECOVERY,STOPAT=@stopat;',N'@databasename nvarchar(255),@stopat datetime',@databasename=N'AdventureWorks',@stopat='2026-01-15 10:30:00'
GO

-- source: SQLServerIO/MSSQL-Compressed-Backup/MSBackupPipe.StdPlugins/Database/DatabaseSource.cs:729 ConfigureVerifyCommand — msbp.exe verify: RESTORE VERIFYONLY, with the unused @databasename still declared
-- needs: vdi
-- needs: stream pubs full
exec sp_executesql N'RESTORE VERIFYONLY FROM VIRTUAL_DEVICE=''vdisim_corpus_dev0'' WITH CHECKSUM;',N'@databasename nvarchar(255)',@databasename=N'pubs'
GO
