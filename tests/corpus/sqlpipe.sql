-- corpus file: SqlPipe (backup to stdout), duncansmart/sqlpipe @ 97ab337500e56413e2d9688780822356541649d5.
-- ADO over SQLOLEDB, Initial Catalog=master, a fresh connection per statement. The device set is
-- named with StringFromGUID2 (a braced GUID); vdisim_corpus_dev0 here. The README says restore
-- does not work, and the source shows why: FILELISTONLY is sent before any device set exists,
-- and the MOVE list it builds is only printed, never sent.

-- source: duncansmart/sqlpipe/SqlPipe.cpp:391 wmain — sqlpipe backup pubs
-- needs: vdi
BACKUP DATABASE [pubs] TO VIRTUAL_DEVICE = 'vdisim_corpus_dev0'
GO
-- source: duncansmart/sqlpipe/SqlPipe.cpp:406 wmain — sqlpipe restore pubs_sqlpipe: first a bare CREATE DATABASE (on an existing name the tool stops at Msg 1801)
-- needs: absent pubs_sqlpipe
CREATE DATABASE [pubs_sqlpipe]
GO
-- source: duncansmart/sqlpipe/SqlPipe.cpp:406 wmain — the same for a database that exists
CREATE DATABASE [pubs]
GO
-- source: duncansmart/sqlpipe/SqlPipe.cpp:410 wmain — file list requested while no client has created the device set
-- needs: no-client
RESTORE FILELISTONLY FROM VIRTUAL_DEVICE = 'vdisim_corpus_dev0'
GO
-- source: duncansmart/sqlpipe/SqlPipe.cpp:422 wmain — the restore itself, over the database it just created
-- needs: vdi
-- needs: stream pubs full
RESTORE DATABASE [pubs_sqlpipe] FROM VIRTUAL_DEVICE = 'vdisim_corpus_dev0' WITH REPLACE
GO
