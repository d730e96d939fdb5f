-- corpus file: SQL Snap (snapshot backups through VDI), pharmadata/sql-snap @
-- effc3d5c28a2518edf3ab92059cd4140e4dcf65c. It connects with SqlClient (Integrated Security,
-- no initial catalog, so the login's default database) and sends one statement per database,
-- each on its own connection and device set named sqlsnap-<guid>; here vdisim_corpus_dev0/1.
-- All of these use WITH SNAPSHOT (VDF_SnapshotPrepare and the freeze/thaw handshake).

-- source: pharmadata/sql-snap/src/SqlSnap.Core/Operation.cs:62 GetSqlCommand — sqlsnap backup -d pubs
-- needs: vdi
-- needs: snapshot
BACKUP DATABASE [pubs] TO VIRTUAL_DEVICE='vdisim_corpus_dev0' WITH SNAPSHOT
GO
-- source: pharmadata/sql-snap/src/SqlSnap.Core/Operation.cs:172 ExecuteAsync — sqlsnap backup -d pubs,AdventureWorks: the second database's statement, sent at the same time on another connection
-- needs: vdi
-- needs: snapshot
-- needs: concurrent
BACKUP DATABASE [AdventureWorks] TO VIRTUAL_DEVICE='vdisim_corpus_dev1' WITH SNAPSHOT
GO
-- source: pharmadata/sql-snap/src/SqlSnap.Core/Operation.cs:62 GetSqlCommand — sqlsnap restore -d pubs (the snapshot is mounted by the user's command)
-- needs: vdi
-- needs: snapshot
-- needs: stream pubs full
RESTORE DATABASE [pubs] FROM VIRTUAL_DEVICE='vdisim_corpus_dev0' WITH SNAPSHOT
GO
-- source: pharmadata/sql-snap/src/SqlSnap.Core/Operation.cs:67 GetSqlCommand — sqlsnap restore -d pubs --noRecovery, to apply logs afterwards
-- needs: vdi
-- needs: snapshot
-- needs: stream pubs full
RESTORE DATABASE [pubs] FROM VIRTUAL_DEVICE='vdisim_corpus_dev0' WITH SNAPSHOT, NORECOVERY
GO
