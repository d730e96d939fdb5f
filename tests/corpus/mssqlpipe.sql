-- corpus file: mssqlPipe (backup/restore through stdin/stdout), adzm/mssqlPipe @
-- 109d49044e7ad7414044240d44b0d035ffeed923. ADO over SQLOLEDB, Initial Catalog=master.
-- Statements are lower case, end in a semicolon and use N'' device names (a GUID in the tool,
-- vdisim_corpus_dev0 here). A restore runs two connections at once: FILELISTONLY on a throw-away
-- device set, fed from the first bytes of the input, and the default-paths query.
-- The tool is Windows-only: paths it builds use '\' and SQL Server's Windows default directory.

-- source: adzm/mssqlPipe/mssqlPipe.cpp:982 RunBackup — mssqlPipe backup pubs (always COPY_ONLY)
-- needs: vdi
backup database [pubs] to virtual_device=N'vdisim_corpus_dev0' with copy_only;
GO
-- source: adzm/mssqlPipe/mssqlPipe.cpp:917 RunRestore — mssqlPipe restore filelistonly
-- needs: vdi
-- needs: stream pubs full
restore filelistonly from virtual_device=N'vdisim_corpus_dev0';
GO
-- source: adzm/mssqlPipe/mssqlPipe.cpp:695 RunPrepareRestoreDatabase — default data and log directory: SERVERPROPERTY, else the commonest directory of existing files (CTE, GROUP BY, TOP 1 … ORDER BY COUNT(*))
;with database_info as (
select 
	substring(physical_name, 1, len(physical_name) - charindex('\', reverse(physical_name))) as physical_path
	, case when database_id in (db_id('master'), db_id('msdb'), db_id('tempdb'), db_id('model')) then 1 else 0 end as is_system
	, type
from sys.master_files
)
select 
	coalesce( convert(nvarchar(512), serverproperty('InstanceDefaultDataPath')), (
		select top 1 physical_path from database_info
		where type = 0
		group by physical_path, is_system
		order by is_system, count(*), physical_path
	)) as DefaultData
	, 
	coalesce( convert(nvarchar(512), serverproperty('InstanceDefaultLogPath')), (
		select top 1 physical_path from database_info
		where type = 1
		group by physical_path, is_system
		order by is_system, count(*), physical_path
	)) as DefaultLog
;
GO
-- source: adzm/mssqlPipe/mssqlPipe.cpp:636 RunPrepareRestoreDatabase — file list read from the head of the stream on a second device set (its name is another GUID)
-- needs: vdi
-- needs: stream pubs full
restore filelistonly from virtual_device=N'vdisim_corpus_dev1';
GO
-- source: adzm/mssqlPipe/mssqlPipe.cpp:862 BuildRestoreCommand — mssqlPipe restore pubs: each file moved to <default dir>\<db>_dat.mdf / _log.ldf, "nounload" closing the list
-- needs: vdi
-- needs: stream pubs full
restore database [pubs] from virtual_device=N'vdisim_corpus_dev0' with move N'pubs' to N'C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\DATA\pubs_dat.mdf', move N'pubs_log' to N'C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\DATA\pubs_log.ldf', nounload;
GO
-- source: adzm/mssqlPipe/mssqlPipe.cpp:866 BuildRestoreCommand — mssqlPipe restore pubs with replace
-- needs: vdi
-- needs: stream pubs full
restore database [pubs] from virtual_device=N'vdisim_corpus_dev0' with replace, move N'pubs' to N'C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\DATA\pubs_dat.mdf', move N'pubs_log' to N'C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\DATA\pubs_log.ldf', nounload;
GO
-- source: adzm/mssqlPipe/mssqlPipe.cpp:870 BuildRestoreCommand — mssqlPipe restore AdventureWorks to c:/db/ with replace: a '\' is added after the '/', and every non-'D' file (log and FILESTREAM 'S') goes to _log, _log2, _log3 .ldf
-- needs: vdi
-- needs: stream AdventureWorks full
restore database [AdventureWorks] from virtual_device=N'vdisim_corpus_dev0' with replace, move N'AdventureWorks' to N'c:/db/\AdventureWorks_dat.mdf', move N'AdventureWorks_log' to N'c:/db/\AdventureWorks_log.ldf', move N'AdventureWorks_fs0' to N'c:/db/\AdventureWorks_log2.ldf', move N'AdventureWorks_fs1' to N'c:/db/\AdventureWorks_log3.ldf', nounload;
GO
