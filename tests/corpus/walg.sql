-- corpus file: WAL-G for SQL Server, wal-g/wal-g @ 43fb039f6ed24a8063a9a69c212f6742066942a6
-- (internal/databases/sqlserver). WAL-G runs a local blob-storage proxy and backs up TO URL =
-- 'https://<proxy>/basebackups_005/<backup>/<db>/blob_NNN', one URL per 100 GB blob; each URL
-- becomes a VIRTUAL_DEVICE here (vdisim_corpus_dev0, dev1…), the WITH options kept.
-- It uses go-mssqldb: plain batches through ExecContext/QueryContext, and sp_executesql when a
-- named parameter is bound (nvarchar(n) sized to the value). The tool runs on Windows, so the
-- MOVE targets it joins with filepath.Join use ''.

-- source: wal-g/wal-g/internal/databases/sqlserver/sqlserver.go:138 listDatabases — backup-push --all-databases: which databases exist
SELECT name FROM sys.databases WHERE name != 'tempdb'
GO

-- source: wal-g/wal-g/internal/databases/sqlserver/sqlserver.go:166 estimateDBSize — size estimate (used log + allocated extents) to choose the blob count; switches database and back inside the batch

		USE [pubs]; 
		SELECT (SELECT SUM(used_log_space_in_bytes) FROM sys.dm_db_log_space_usage) 
			 + (SELECT SUM(allocated_extent_page_count)*8*1024 FROM sys.dm_db_file_space_usage)
		USE master;
	
GO

-- source: wal-g/wal-g/internal/databases/sqlserver/backup_push_handler.go:79 backupSingleDatabase — full backup, one blob, WAL-G's MAXTRANSFERSIZE and COMPRESSION (builtin compression on)
-- needs: vdi
BACKUP DATABASE [pubs] TO VIRTUAL_DEVICE = 'vdisim_corpus_dev0' WITH FORMAT, MAXTRANSFERSIZE=4194304, COMPRESSION
GO

-- source: wal-g/wal-g/internal/databases/sqlserver/backup_push_handler.go:79 backupSingleDatabase — a database big enough for two blobs, compression off
-- needs: vdi
BACKUP DATABASE [AdventureWorks] TO VIRTUAL_DEVICE = 'vdisim_corpus_dev0', VIRTUAL_DEVICE = 'vdisim_corpus_dev1' WITH FORMAT, MAXTRANSFERSIZE=4194304
GO

-- source: wal-g/wal-g/internal/databases/sqlserver/sqlserver.go:176 estimateLogSize — log-push: log generated since the last backup

		USE [AdventureWorks]; 
		SELECT SUM(log_space_in_bytes_since_last_backup) FROM sys.dm_db_log_space_usage; 
		USE master;
	
GO

-- source: wal-g/wal-g/internal/databases/sqlserver/log_push_handler.go:50 backupSingleLog — log backup
-- needs: vdi
-- needs: history AdventureWorks
BACKUP LOG [AdventureWorks] TO VIRTUAL_DEVICE = 'vdisim_corpus_dev0' WITH FORMAT, MAXTRANSFERSIZE=4194304, COMPRESSION
GO

-- source: wal-g/wal-g/internal/databases/sqlserver/sqlserver.go:504 GetBackupProperties — backup metadata read back from the blob (also used to order log restores)
-- needs: vdi
-- needs: stream pubs full
RESTORE HEADERONLY FROM VIRTUAL_DEVICE = 'vdisim_corpus_dev0'
GO

-- source: wal-g/wal-g/internal/databases/sqlserver/sqlserver.go:187 listDatabaseFiles — backup-restore: the files in the backup
-- needs: vdi
-- needs: stream pubs full
RESTORE FILELISTONLY FROM VIRTUAL_DEVICE = 'vdisim_corpus_dev0'
GO

-- source: wal-g/wal-g/internal/databases/sqlserver/sqlserver.go:610 GetDefaultDataLogDirs — where the files go
SELECT serverproperty('InstanceDefaultDataPath'), serverproperty('InstanceDefaultLogPath')
GO

-- source: wal-g/wal-g/internal/databases/sqlserver/backup_restore_handler.go:72 restoreSingleDatabase — restore with REPLACE, NORECOVERY and a MOVE per file (data <db>.mdf, log <db>_log.ldf in the default directories)
-- needs: vdi
-- needs: stream pubs full
RESTORE DATABASE [pubs] FROM VIRTUAL_DEVICE = 'vdisim_corpus_dev0' WITH REPLACE, NORECOVERY, MOVE 'pubs' TO 'C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\DATA\pubs.mdf', MOVE 'pubs_log' TO 'C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\DATA\pubs_log.ldf'
GO

-- source: wal-g/wal-g/internal/databases/sqlserver/backup_restore_handler.go:72 restoreSingleDatabase — backup-restore --from pubs --databases pubs_walg --no-recovery: under another name, left RESTORING
-- needs: vdi
-- needs: stream pubs full
-- needs: absent pubs_walg
RESTORE DATABASE [pubs_walg] FROM VIRTUAL_DEVICE = 'vdisim_corpus_dev0' WITH REPLACE, NORECOVERY, MOVE 'pubs' TO 'C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\DATA\pubs_walg.mdf', MOVE 'pubs_log' TO 'C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\DATA\pubs_walg_log.ldf'
GO

-- source: wal-g/wal-g/internal/databases/sqlserver/sqlserver.go:577 GetDBRestoreLSN — log-restore: how far the restoring database has got (a named parameter, so sp_executesql)
-- needs: restoring pubs_walg
exec sp_executesql N'SELECT MAX(redo_start_lsn) 
        FROM sys.master_files
        WHERE database_id=DB_ID(@dbname) ',N'@dbname nvarchar(9)',@dbname=N'pubs_walg'
GO

-- source: wal-g/wal-g/internal/databases/sqlserver/backup_restore_handler.go:98 recoverSingleDatabase — the end of a restore without --no-recovery
-- needs: restoring pubs_walg
RESTORE DATABASE [pubs_walg] WITH RECOVERY
GO

-- source: wal-g/wal-g/internal/databases/sqlserver/log_restore_handler.go:141 restoreSingleLog — log-restore --until on the FULL-model database (STOPAT in Go's "Jan 02, 2006 03:04:05 PM" layout)
-- needs: vdi
-- needs: stream AdventureWorks log
-- needs: restoring AdventureWorks
-- note: WAL-G cannot restore AdventureWorks' full itself: buildPhysicalFileMove stops at its FILESTREAM ('S') files, so the RESTORING state comes from the runner
RESTORE LOG [AdventureWorks] FROM VIRTUAL_DEVICE = 'vdisim_corpus_dev0' WITH NORECOVERY, STOPAT = 'Jan 15, 2026 10:30:00 AM'
GO

-- source: wal-g/wal-g/internal/databases/sqlserver/log_restore_handler.go:138 restoreSingleLog — a log without --until
-- needs: vdi
-- needs: stream AdventureWorks log
-- needs: restoring AdventureWorks
RESTORE LOG [AdventureWorks] FROM VIRTUAL_DEVICE = 'vdisim_corpus_dev0' WITH NORECOVERY
GO

-- source: wal-g/wal-g/internal/databases/sqlserver/backup_restore_handler.go:98 recoverSingleDatabase — recovery after the logs
-- needs: restoring AdventureWorks
RESTORE DATABASE [AdventureWorks] WITH RECOVERY
GO
