-- corpus file: Microsoft's VDI samples, microsoft/sql-server-samples @
-- 481085dc95720244a359f1311afd6003e0bcc09c (sample code last changed in 1264508f41100346ea735e7c9e59d8c088760e2d):
-- samples/features/sqlvdi-linux/vdipipesample.cpp (Linux, statement sent through sqlcmd -Q)
-- and the Windows samples in samples/features/sqlvdi (osql -E -b -Q, or ODBC).
-- The samples name the set with a GUID; vdisim_corpus_dev0 here. The multi-stream samples name
-- stream i (i >= 1) by appending i to the set name, so a set called vdisim_corpus_set has
-- devices vdisim_corpus_set, vdisim_corpus_set1, vdisim_corpus_set2.

-- source: microsoft/sql-server-samples/samples/features/sqlvdi-linux/vdipipesample.cpp:239 sendSQL — ./vdipipesample B D pubs sa <password> /tmp/pubs.bak (the trailing space is inside sqlcmd's -Q string)
-- needs: vdi
BACKUP DATABASE pubs TO VIRTUAL_DEVICE='vdisim_corpus_dev0' WITH FORMAT, MAXTRANSFERSIZE=1048576 
GO
-- source: microsoft/sql-server-samples/samples/features/sqlvdi-linux/vdipipesample.cpp:239 sendSQL — B L: log backup of a FULL-model database
-- needs: vdi
-- needs: history AdventureWorks
BACKUP LOG AdventureWorks TO VIRTUAL_DEVICE='vdisim_corpus_dev0' WITH FORMAT, MAXTRANSFERSIZE=1048576 
GO
-- source: microsoft/sql-server-samples/samples/features/sqlvdi-linux/vdipipesample.cpp:239 sendSQL — B L on pubs, which is in SIMPLE recovery: SQL Server refuses the log backup
-- needs: vdi
BACKUP LOG pubs TO VIRTUAL_DEVICE='vdisim_corpus_dev0' WITH FORMAT, MAXTRANSFERSIZE=1048576 
GO
-- source: microsoft/sql-server-samples/samples/features/sqlvdi-linux/vdipipesample.cpp:239 sendSQL — R D: restore with REPLACE
-- needs: vdi
-- needs: stream pubs full
RESTORE DATABASE pubs FROM VIRTUAL_DEVICE='vdisim_corpus_dev0' WITH REPLACE, MAXTRANSFERSIZE=1048576 
GO
-- source: microsoft/sql-server-samples/samples/features/sqlvdi-linux/vdipipesample.cpp:239 sendSQL — R L: a log restore onto a database that is online (no NORECOVERY before it), so SQL Server refuses it
-- needs: vdi
-- needs: stream AdventureWorks log
RESTORE LOG AdventureWorks FROM VIRTUAL_DEVICE='vdisim_corpus_dev0' WITH REPLACE, MAXTRANSFERSIZE=1048576 
GO
-- source: microsoft/sql-server-samples/samples/features/sqlvdi/simple/simple.cpp:241 execSQL — simple B, through osql; database name in upper case
-- needs: vdi
BACKUP DATABASE PUBS TO VIRTUAL_DEVICE='vdisim_corpus_dev0'
GO
-- source: microsoft/sql-server-samples/samples/features/sqlvdi/simple/simple.cpp:241 execSQL — simple R
-- needs: vdi
-- needs: stream pubs full
RESTORE DATABASE PUBS FROM VIRTUAL_DEVICE='vdisim_corpus_dev0'
GO
-- source: microsoft/sql-server-samples/samples/features/sqlvdi/mthread/mthread.cpp:242 execSQL — mthread B 3: one set, three devices, each served by a thread
-- needs: vdi
BACKUP DATABASE PUBS TO VIRTUAL_DEVICE='vdisim_corpus_set', VIRTUAL_DEVICE='vdisim_corpus_set1', VIRTUAL_DEVICE='vdisim_corpus_set2'
GO
-- source: microsoft/sql-server-samples/samples/features/sqlvdi/mprocess/mprocess.cpp:283 execSQL — mprocess R 3: restore from three stripes, each device opened by a secondary process
-- needs: vdi
-- needs: stream pubs full
RESTORE DATABASE PUBS FROM VIRTUAL_DEVICE='vdisim_corpus_set', VIRTUAL_DEVICE='vdisim_corpus_set1', VIRTUAL_DEVICE='vdisim_corpus_set2'
GO
-- source: microsoft/sql-server-samples/samples/features/sqlvdi/snapshot/snapshot.cpp:488 execSQL — snapshot B pubs
-- needs: vdi
-- needs: snapshot
BACKUP DATABASE [pubs] TO VIRTUAL_DEVICE='vdisim_corpus_dev0' WITH SNAPSHOT
GO
-- source: microsoft/sql-server-samples/samples/features/sqlvdi/snapshot/snapshot.cpp:488 execSQL — snapshot R pubs
-- needs: vdi
-- needs: snapshot
-- needs: stream pubs full
RESTORE DATABASE [pubs] FROM VIRTUAL_DEVICE='vdisim_corpus_dev0' WITH SNAPSHOT
GO
-- source: microsoft/sql-server-samples/samples/features/sqlvdi/snapshot/snapshot.cpp:478 execSQL — snapshot R pubs . pubs_snap pubs pubs_log <mdf> <ldf>: mount under a new name with MOVE
-- needs: vdi
-- needs: snapshot
-- needs: stream pubs full
RESTORE DATABASE [pubs_snap] FROM VIRTUAL_DEVICE='vdisim_corpus_dev0' WITH SNAPSHOT, REPLACE, NORECOVERY, MOVE 'pubs' TO '/var/opt/mssql/data/pubs_snap.mdf', MOVE 'pubs_log' TO '/var/opt/mssql/data/pubs_snap_log.ldf'
GO
