-- corpus file: what client drivers send on their own, before a tool's first statement:
-- tedious (Node.js, tediousjs/tedious @ a99826d30bad0a70396d67fa3a3d5e7705e29fae) and FreeTDS
-- (db-lib, ODBC and the TDS layer under pymssql and PHP, FreeTDS/freetds @ 7cce67e1ffd112c9daa2abd44672d37db660820d).
-- SqlClient, go-mssqldb/go-sqlcmd and tiberius send no SQL of their own at login (session options
-- travel in the LOGIN7 record); SMO's connection-time queries are in smo.sql.

-- source: tediousjs/tedious/src/connection.ts:2576 getInitialSql — sent as one SQL batch right after login, with tedious' default options
set ansi_nulls on
set ansi_null_dflt_on on
set ansi_padding on
set ansi_warnings on
set arithabort on
set concat_null_yields_null on
set datefirst 7
set dateformat mdy
set implicit_transactions off
set language us_english
set numeric_roundabort off
set quoted_identifier on
set textsize 2147483647
set transaction isolation level read committed
set xact_abort off
GO
-- source: tediousjs/tedious/src/connection.ts:2576 getInitialSql — with abortTransactionOnError, enableCursorCloseOnCommit, connectionIsolationLevel SNAPSHOT and dateFormat dmy set by the application
set ansi_nulls on
set ansi_null_dflt_on on
set ansi_padding on
set ansi_warnings on
set arithabort on
set concat_null_yields_null on
set cursor_close_on_commit on
set datefirst 7
set dateformat dmy
set implicit_transactions off
set language us_english
set numeric_roundabort off
set quoted_identifier on
set textsize 2147483647
set transaction isolation level snapshot
set xact_abort on
GO
-- source: tediousjs/tedious/src/connection.ts:3308 reset — Connection.reset() (used by pools) sends the initial SQL again, flagged to reset the session; default options
set ansi_nulls on
set ansi_null_dflt_on on
set ansi_padding on
set ansi_warnings on
set arithabort on
set concat_null_yields_null on
set datefirst 7
set dateformat mdy
set implicit_transactions off
set language us_english
set numeric_roundabort off
set quoted_identifier on
set textsize 2147483647
set transaction isolation level read committed
set xact_abort off
GO
-- source: FreeTDS/freetds/src/tds/login.c:437 tds_setup_connection — after login, with "text size = 64512" (freetds.conf's sample value) and a database in the connection settings; one batch
SET TEXTSIZE 64512
USE [pubs]
GO
-- source: FreeTDS/freetds/src/odbc/odbc.c:242 change_database — SQLSetConnectAttr(SQL_ATTR_CURRENT_CATALOG)
USE [master]
GO
-- source: FreeTDS/freetds/src/odbc/odbc.c:306 change_txn — SQLSetConnectAttr(SQL_ATTR_TXN_ISOLATION, SQL_TXN_READ_COMMITTED)
SET TRANSACTION ISOLATION LEVEL READ COMMITTED
GO
-- source: FreeTDS/freetds/src/odbc/odbc.c:306 change_txn — SQL_TXN_SERIALIZABLE
SET TRANSACTION ISOLATION LEVEL SERIALIZABLE
GO
-- source: FreeTDS/freetds/src/odbc/odbc.c:306 change_txn — back to READ COMMITTED
SET TRANSACTION ISOLATION LEVEL READ COMMITTED
GO
-- source: FreeTDS/freetds/src/dblib/dblib.c:4576 dbsetopt — options set with dbsetopt (DBNOCOUNT, DBQUOTEDIDENT, DBTEXTSIZE, DBDATEFORMAT) go out as one batch before the next query
set nocount on
set quoted_identifier on
set textsize 2147483647
set dateformat mdy
GO
-- source: FreeTDS/freetds/src/dblib/dblib.c:6194 dbclropt — dbclropt(DBNOCOUNT)
set nocount off
GO
-- source: FreeTDS/freetds/src/tds/query.c:3483 tds_submit_optioncmd — ct_options() on TDS 7+: one SET per option
SET ANSI_NULLS ON
GO
-- source: FreeTDS/freetds/src/tds/query.c:3513 tds_submit_optioncmd — CS_OPT_DATEFIRST
SET DATEFIRST 7
GO
-- source: FreeTDS/freetds/src/tds/query.c:3524 tds_submit_optioncmd — CS_OPT_DATEFORMAT
SET DATEFORMAT mdy
GO
-- source: FreeTDS/freetds/src/tds/query.c:3498 tds_submit_optioncmd — CS_OPT_CHAINXACTS off
SET IMPLICIT_TRANSACTIONS OFF
GO
