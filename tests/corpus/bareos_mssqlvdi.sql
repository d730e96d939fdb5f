-- corpus file: Bareos' mssqlvdi file-daemon plugin (VDI over ADO/MSOLEDBSQL) and the sqlcmd
-- statements of its system test, from bareos/bareos @ eda204c31c76ecaf419ecf6279ec5707baaac1ed
-- (plugin last changed in e7b9e5fd92de44705b2a68790f8624f2d1b30eae, test in 26184b56c390a05a19675d9033d7974008ec937b).
-- The plugin names its device set with StringFromGUID2 (a braced GUID); most batches use
-- vdisim_corpus_dev0 instead, one keeps the braced form. Bareos levels map to Full = BACKUP
-- DATABASE, Differential = WITH DIFFERENTIAL, Incremental = BACKUP LOG.
-- The system test's database DBNormalTest and its Windows data directory become
-- /var/opt/mssql/data here.

-- source: bareos/bareos/systemtests/tests/mssqlvdi-plugin/functions.local:43 db_exists — sqlcmd -h -1 -W -Q: does the database exist
SET NOCOUNT ON; SELECT DB_ID('DBNormalTest')
GO
-- source: bareos/bareos/systemtests/tests/mssqlvdi-plugin/sqlfiles/SQL_drop_db.sql:20 — start from a clean state
USE [master]
GO
-- source: bareos/bareos/systemtests/tests/mssqlvdi-plugin/sqlfiles/SQL_drop_db.sql:23
DROP DATABASE IF EXISTS [DBNormalTest]
GO
-- source: bareos/bareos/systemtests/tests/mssqlvdi-plugin/sqlfiles/SQL_db_normal_create.sql:23 — the test database, as SSMS scripts it
-- needs: absent DBNormalTest
CREATE DATABASE [DBNormalTest]
 CONTAINMENT = NONE
 ON  PRIMARY
(
    NAME = N'DBNormalTest',
    FILENAME = N'/var/opt/mssql/data/DBNormalTest.mdf',
    SIZE = 8192KB,
    MAXSIZE = UNLIMITED,
    FILEGROWTH = 65536KB
)
 LOG ON
(
    NAME = N'DBNormalTest_log',
    FILENAME = N'/var/opt/mssql/data/DBNormalTest_log.ldf',
    SIZE = 8192KB,
    MAXSIZE = 2048GB,
    FILEGROWTH = 65536KB
)
 WITH CATALOG_COLLATION = DATABASE_DEFAULT, LEDGER = OFF
GO
-- source: bareos/bareos/systemtests/tests/mssqlvdi-plugin/sqlfiles/SQL_db_normal_create.sql:44 — full-text check right after CREATE DATABASE
IF (1 = FULLTEXTSERVICEPROPERTY('IsFullTextInstalled'))
begin
EXEC [DBNormalTest].[dbo].[sp_fulltext_database] @action = 'enable'
end
GO
-- source: bareos/bareos/systemtests/tests/mssqlvdi-plugin/sqlfiles/SQL_db_normal_create.sql:53
ALTER DATABASE [DBNormalTest] SET ANSI_NULL_DEFAULT OFF
GO
-- source: bareos/bareos/systemtests/tests/mssqlvdi-plugin/sqlfiles/SQL_db_normal_create.sql:113 — a log chain needs the FULL model
ALTER DATABASE [DBNormalTest] SET RECOVERY FULL
GO
-- source: bareos/bareos/systemtests/tests/mssqlvdi-plugin/sqlfiles/SQL_db_normal_create.sql:116
ALTER DATABASE [DBNormalTest] SET MULTI_USER
GO
-- source: bareos/bareos/systemtests/tests/mssqlvdi-plugin/sqlfiles/SQL_db_normal_create.sql:119
ALTER DATABASE [DBNormalTest] SET PAGE_VERIFY CHECKSUM
GO
-- source: bareos/bareos/systemtests/tests/mssqlvdi-plugin/sqlfiles/SQL_db_normal_create.sql:125
ALTER DATABASE [DBNormalTest] SET TARGET_RECOVERY_TIME = 60 SECONDS
GO
-- source: bareos/bareos/systemtests/tests/mssqlvdi-plugin/sqlfiles/SQL_db_normal_create.sql:167
ALTER DATABASE [DBNormalTest] SET READ_WRITE
GO
-- source: bareos/bareos/systemtests/tests/mssqlvdi-plugin/sqlfiles/SQL_grant_sysadmin_role.sql:23 — the plugin's login, made sysadmin (VDI needs it)
IF NOT EXISTS
    (SELECT name
     FROM master.sys.server_principals
     WHERE name = 'bareos')
BEGIN
    CREATE LOGIN [bareos] WITH PASSWORD = N'Sup3rS3crEt24'
    EXEC sp_addsrvrolemember @rolename=N'sysadmin', @loginame=N'bareos'
END
GO
-- source: bareos/bareos/systemtests/tests/mssqlvdi-plugin/sqlfiles/SQL_create_bareos_login_user.sql:24 — a database user for the login
-- needs: login bareos
USE [DBNormalTest]
GO
-- source: bareos/bareos/systemtests/tests/mssqlvdi-plugin/sqlfiles/SQL_create_bareos_login_user.sql:27
-- needs: login bareos
DROP user IF EXISTS bareos ;

CREATE user bareos for login bareos;
GO
-- source: bareos/bareos/core/src/win32/plugins/filed/mssqlvdi-fd.cc:1004 SetAdoConnectString — Initial Catalog=master: the plugin's connection starts in master
USE [master]
GO
-- source: bareos/bareos/core/src/win32/plugins/filed/mssqlvdi-fd.cc:1060 PerformAdoBackup — level Full (DEFAULT_BLOCKSIZE 65536, DEFAULT_BUFFERS 10)
-- needs: vdi
BACKUP DATABASE [pubs] TO VIRTUAL_DEVICE='vdisim_corpus_dev0' WITH BLOCKSIZE=65536, BUFFERCOUNT=10, MAXTRANSFERSIZE=65536
GO
-- source: bareos/bareos/core/src/win32/plugins/filed/mssqlvdi-fd.cc:1060 PerformAdoBackup — level Full with the device-set name as the plugin makes it (StringFromGUID2)
-- needs: vdi
BACKUP DATABASE [DBNormalTest] TO VIRTUAL_DEVICE='{9C7E5A1B-3D2F-4E6A-8B1C-0D2E3F4A5B6C}' WITH BLOCKSIZE=65536, BUFFERCOUNT=10, MAXTRANSFERSIZE=65536
GO
-- source: bareos/bareos/core/src/win32/plugins/filed/mssqlvdi-fd.cc:1053 PerformAdoBackup — level Differential
-- needs: vdi
-- needs: history DBNormalTest
BACKUP DATABASE [DBNormalTest] TO VIRTUAL_DEVICE='vdisim_corpus_dev0' WITH DIFFERENTIAL, BLOCKSIZE=65536, BUFFERCOUNT=10, MAXTRANSFERSIZE=65536
GO
-- source: bareos/bareos/core/src/win32/plugins/filed/mssqlvdi-fd.cc:1046 PerformAdoBackup — level Incremental: a log backup
-- needs: vdi
-- needs: history DBNormalTest
BACKUP LOG [DBNormalTest] TO VIRTUAL_DEVICE='vdisim_corpus_dev0' WITH BLOCKSIZE=65536, BUFFERCOUNT=10, MAXTRANSFERSIZE=65536
GO
-- source: bareos/bareos/core/src/win32/plugins/filed/mssqlvdi-fd.cc:1046 PerformAdoBackup — Incremental of a SIMPLE-model database (pubs): SQL Server refuses BACKUP LOG
-- needs: vdi
BACKUP LOG [pubs] TO VIRTUAL_DEVICE='vdisim_corpus_dev0' WITH BLOCKSIZE=65536, BUFFERCOUNT=10, MAXTRANSFERSIZE=65536
GO
-- source: bareos/bareos/systemtests/tests/mssqlvdi-plugin/sqlfiles/SQL_drop_db.sql:23 — testrunner-04 drops the database before restoring it
DROP DATABASE IF EXISTS [DBNormalTest]
GO
-- source: bareos/bareos/core/src/win32/plugins/filed/mssqlvdi-fd.cc:1099 perform_aDoRestore — restore of the full with pluginoptions norecovery=yes:replace=yes (the system test's options)
-- needs: vdi
-- needs: stream DBNormalTest full
RESTORE DATABASE [DBNormalTest] FROM VIRTUAL_DEVICE='vdisim_corpus_dev0' WITH BLOCKSIZE=65536, BUFFERCOUNT=10, MAXTRANSFERSIZE=65536, NORECOVERY, REPLACE
GO
-- source: bareos/bareos/core/src/win32/plugins/filed/mssqlvdi-fd.cc:1099 perform_aDoRestore — the differential, same options
-- needs: vdi
-- needs: stream DBNormalTest diff
-- needs: restoring DBNormalTest
RESTORE DATABASE [DBNormalTest] FROM VIRTUAL_DEVICE='vdisim_corpus_dev0' WITH BLOCKSIZE=65536, BUFFERCOUNT=10, MAXTRANSFERSIZE=65536, NORECOVERY, REPLACE
GO
-- source: bareos/bareos/core/src/win32/plugins/filed/mssqlvdi-fd.cc:1092 perform_aDoRestore — the incremental (log); the plugin appends REPLACE to log restores too
-- needs: vdi
-- needs: stream DBNormalTest log
-- needs: restoring DBNormalTest
RESTORE LOG [DBNormalTest] FROM VIRTUAL_DEVICE='vdisim_corpus_dev0' WITH BLOCKSIZE=65536, BUFFERCOUNT=10, MAXTRANSFERSIZE=65536, NORECOVERY, REPLACE
GO
-- source: bareos/bareos/core/src/win32/plugins/filed/mssqlvdi-fd.cc:1209 PerformAdoRecover — recoverafterrestore=yes: recovery at the end of the restore job
-- needs: restoring DBNormalTest
RESTORE DATABASE [DBNormalTest] WITH RECOVERY
GO
-- source: bareos/bareos/core/src/win32/plugins/filed/mssqlvdi-fd.cc:1121 perform_aDoRestore — a log restore with stopat= (the value is passed through as given, its colons escaped as \: in the plugin string; norecovery=no gives RECOVERY)
-- needs: vdi
-- needs: stream AdventureWorks log
-- needs: restoring AdventureWorks
RESTORE LOG [AdventureWorks] FROM VIRTUAL_DEVICE='vdisim_corpus_dev0' WITH BLOCKSIZE=65536, BUFFERCOUNT=10, MAXTRANSFERSIZE=65536, RECOVERY, STOPAT = '2026-01-15 10:30:00'
GO
-- source: bareos/bareos/core/src/win32/plugins/filed/mssqlvdi-fd.cc:1109 perform_aDoRestore — stopbeforemark= (a mark set with BEGIN TRAN … WITH MARK)
-- needs: vdi
-- needs: stream AdventureWorks log
-- needs: restoring AdventureWorks
RESTORE LOG [AdventureWorks] FROM VIRTUAL_DEVICE='vdisim_corpus_dev0' WITH BLOCKSIZE=65536, BUFFERCOUNT=10, MAXTRANSFERSIZE=65536, NORECOVERY, STOPBEFOREMARK = 'vdisim_corpus_mark'
GO
-- source: bareos/bareos/core/src/win32/plugins/filed/mssqlvdi-fd.cc:1115 perform_aDoRestore — stopatmark= with the lsn: form SQL Server also accepts
-- needs: vdi
-- needs: stream AdventureWorks log
-- needs: restoring AdventureWorks
RESTORE LOG [AdventureWorks] FROM VIRTUAL_DEVICE='vdisim_corpus_dev0' WITH BLOCKSIZE=65536, BUFFERCOUNT=10, MAXTRANSFERSIZE=65536, RECOVERY, STOPATMARK = 'lsn:15000000040000037'
GO
-- source: bareos/bareos/systemtests/tests/mssqlvdi-plugin/testrunner-05-DBNormal-Restore:56 — the test's check of the restored data (schema tests is not in vdisim's images)
-- needs: restored DBNormalTest
SELECT * FROM DBNormalTest.tests.samples
GO
-- source: bareos/bareos/systemtests/tests/mssqlvdi-plugin/sqlfiles/SQL_drop_db.sql:20 — cleanup
USE [master]
GO
-- source: bareos/bareos/systemtests/tests/mssqlvdi-plugin/sqlfiles/SQL_drop_db.sql:23
DROP DATABASE IF EXISTS [DBNormalTest]
GO
