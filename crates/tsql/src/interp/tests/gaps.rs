//! What real backup tools send that vdisim once lacked: table-variable IDENTITY, UPDATE
//! through an alias, STRING_AGG … WITHIN GROUP, FOR XML PATH, GOTO, EXECUTE AS, KILL, the
//! DMFs in FROM and APPLY, msdb's suspect_pages, xp_fileexist and sp_spaceused.

use super::*;

fn texts(ran: &Ran, table: usize) -> Vec<Vec<Value>> {
    ran.tables()[table].rows.clone()
}

#[test]
fn table_variable_identity_numbers_inserted_rows_and_update_through_an_alias() {
    let ran = run("DECLARE @t TABLE (ID int IDENTITY, name nvarchar(128), size bigint, [Order] int DEFAULT 0)
         INSERT INTO @t (name) SELECT name FROM sys.databases WHERE database_id > 4 ORDER BY name
         UPDATE t SET size = (SELECT COUNT(*) FROM sys.master_files WHERE database_id = DB_ID(t.name)) FROM @t t
         SELECT ID, name, size, [Order] FROM @t ORDER BY ID");
    assert_eq!(ran.errors(), Vec::<u32>::new());
    let rows = texts(&ran, 0);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0][0], Value::Int(1));
    assert_eq!(rows[2][0], Value::Int(3));
    assert_eq!(rows[0][1], Value::text("archive"));
    assert_eq!(rows[0][2], Value::Int(2));
    assert_eq!(rows[1][2], Value::Int(4));
    assert_eq!(rows[0][3], Value::Int(0));
}

#[test]
fn string_agg_within_group_orders_the_values() {
    let ran = run("SELECT STRING_AGG(name, ',') WITHIN GROUP (ORDER BY database_id DESC) FROM sys.databases WHERE database_id > 4
         SELECT STRING_AGG(name, ',') WITHIN GROUP (ORDER BY name) FROM sys.databases WHERE database_id > 4");
    assert_eq!(ran.errors(), Vec::<u32>::new());
    assert_eq!(texts(&ran, 0)[0][0], Value::text("staging,archive,pubs"));
    assert_eq!(texts(&ran, 1)[0][0], Value::text("archive,pubs,staging"));
}

#[test]
fn for_xml_path_concatenates_rows() {
    let ran = run("SELECT STUFF((SELECT ', ' + name FROM sys.databases WHERE database_id > 4 ORDER BY name FOR XML PATH('')), 1, 2, '') AS list
         SELECT (SELECT name FROM sys.databases WHERE database_id = 5 FOR XML PATH('db'), ROOT('dbs'))
         SELECT (SELECT '<a&b>' FOR XML PATH(''))
         SELECT ISNULL(STUFF((SELECT ', ' + name FROM sys.databases WHERE database_id > 99 FOR XML PATH('')), 1, 2, ''), '')");
    assert_eq!(ran.errors(), Vec::<u32>::new());
    assert_eq!(texts(&ran, 0)[0][0], Value::text("archive, pubs, staging"));
    assert_eq!(
        texts(&ran, 1)[0][0],
        Value::text("<dbs><db><name>pubs</name></db></dbs>")
    );
    assert_eq!(texts(&ran, 2)[0][0], Value::text("&lt;a&amp;b&gt;"));
    assert_eq!(texts(&ran, 3)[0][0], Value::text(""));
    let top = run("SELECT name FROM sys.databases WHERE database_id = 5 FOR XML PATH");
    assert_eq!(
        top.tables()[0].columns[0].name,
        "XML_F52E2B61-18A1-11d1-B105-00805F49916B"
    );
    assert_eq!(top.scalar(), Value::text("<row><name>pubs</name></row>"));
    // TYPE, read back with .value(): the text, unescaped, as the type asked for.
    let typed = run("SELECT STUFF((SELECT ', ' + name + '&' FROM sys.databases WHERE database_id > 5 ORDER BY name FOR XML PATH(''), TYPE).value('.', 'NVARCHAR(MAX)'), 1, 2, '')
         SELECT (SELECT name FROM sys.databases WHERE database_id = 5 FOR XML PATH('db'), TYPE).value('(./text())[1]', 'varchar(10)')");
    assert_eq!(typed.errors(), Vec::<u32>::new());
    assert_eq!(texts(&typed, 0)[0][0], Value::text("archive&, staging&"));
    assert_eq!(texts(&typed, 1)[0][0], Value::text("pubs"));
    assert_eq!(typed.tables()[1].columns[0].ty, SqlType::VarChar(Some(10)));
    assert!(crate::parse_batch("SELECT (SELECT 1 FOR XML PATH('')).value('.', 'int')", 1).is_err());
}

#[test]
fn goto_jumps_forward_out_of_blocks_and_back() {
    let ran = run("DECLARE @i int = 0
         again:
         SET @i += 1
         IF @i < 3 GOTO again
         WHILE 1 = 1
         BEGIN
           IF @i = 3 BEGIN GOTO done END
           PRINT 'not reached'
         END
         PRINT 'skipped'
         done:
         PRINT CONCAT('done ', @i)");
    assert_eq!(ran.errors(), Vec::<u32>::new());
    assert_eq!(ran.prints(), ["done 3"]);
}

#[test]
fn goto_needs_a_declared_unique_label() {
    let missing = run("PRINT 'runs?'\nGOTO nowhere");
    assert_eq!(missing.errors(), [133]);
    assert!(missing.prints().is_empty());
    let twice = run("a:\nPRINT 1\na:");
    assert_eq!(twice.errors(), [132]);
}

#[test]
fn execute_as_revert_and_kill_go_to_the_host() {
    let ran = run(
        "EXECUTE AS LOGIN = 'sa'; REVERT; KILL 77; EXEC AS USER = 'dbo' WITH NO REVERT; KILL 78 WITH STATUSONLY",
    );
    assert_eq!(ran.errors(), Vec::<u32>::new());
    let kinds: Vec<&StatementKind> = ran.host.executed.iter().map(|s| &s.kind).collect();
    assert_eq!(
        kinds,
        [
            &StatementKind::ExecuteAs {
                login: true,
                name: "sa".into()
            },
            &StatementKind::Revert,
            &StatementKind::Kill {
                session_id: 77,
                status_only: false
            },
            &StatementKind::ExecuteAs {
                login: false,
                name: "dbo".into()
            },
            &StatementKind::Kill {
                session_id: 78,
                status_only: true
            },
        ]
    );
    assert!(crate::parse_batch("KILL", 1).is_err());
    assert!(crate::parse_batch("EXECUTE AS CALLER", 1).is_err());
}

#[test]
fn dynamic_management_functions_in_from_and_apply() {
    let ran = run("SELECT log_since_last_log_backup_mb FROM sys.dm_db_log_stats(DB_ID('pubs'))
         SELECT r.session_id, s.text FROM sys.dm_exec_requests r CROSS APPLY sys.dm_exec_sql_text(r.sql_handle) s
         SELECT COUNT(*) FROM sys.dm_io_virtual_file_stats(NULL, NULL)
         SELECT * FROM sys.dm_nothing(1)");
    assert_eq!(ran.errors(), [208]);
    assert_eq!(texts(&ran, 0)[0][0], Value::Float(2.0));
    assert_eq!(
        texts(&ran, 1),
        [vec![
            Value::Int(52),
            Value::text("BACKUP DATABASE [pubs] TO VIRTUAL_DEVICE = 'vd'")
        ]]
    );
    assert_eq!(texts(&ran, 2)[0][0], Value::Int(16));
}

#[test]
fn delete_from_suspect_pages_removes_nothing_and_other_msdb_tables_refuse() {
    let ran = run(
        "DELETE FROM msdb.dbo.suspect_pages WHERE database_id IN (SELECT dbid FROM master.dbo.sysdatabases WHERE name = N'pubs')",
    );
    assert_eq!(ran.errors(), Vec::<u32>::new());
    assert!(
        ran.sink
            .outputs
            .iter()
            .any(|o| matches!(o, Output::RowsAffected(0)))
    );
    let refused = run("DELETE FROM msdb.dbo.backupset");
    assert_eq!(refused.errors(), [59030]);
}

#[test]
fn xp_fileexist_answers_from_the_servers_files() {
    let ran = run("EXEC master.dbo.xp_fileexist '/var/opt/mssql/backup'
         EXEC xp_fileexist '/var/opt/mssql/data/'
         EXEC xp_fileexist N'/var/opt/mssql/data/pubs_data2.ndf'
         DECLARE @e int
         EXEC master.sys.xp_fileexist '/var/opt/mssql/data/pubs.mdf', @e OUTPUT
         SELECT @e");
    assert_eq!(ran.errors(), Vec::<u32>::new());
    let t = ran.tables();
    assert_eq!(
        t[0].columns
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        [
            "File Exists",
            "File is a Directory",
            "Parent Directory Exists"
        ]
    );
    let flags = |i: usize| t[i].rows[0].clone();
    assert_eq!(flags(0), [Value::Int(0), Value::Int(0), Value::Int(1)]);
    assert_eq!(flags(1), [Value::Int(0), Value::Int(1), Value::Int(1)]);
    assert_eq!(flags(2), [Value::Int(1), Value::Int(0), Value::Int(1)]);
    assert_eq!(t.len(), 4);
    assert_eq!(ran.scalar(), Value::Int(1));
}

#[test]
fn sp_spaceused_for_the_database_and_an_object() {
    let ran = run("USE pubs");
    assert_eq!(ran.errors(), Vec::<u32>::new());
    let state = ran.state;
    let spaced = run_with(state, "EXEC sp_spaceused");
    // The host's session stays in master: master's space.
    let t = spaced.tables();
    assert_eq!(t.len(), 2);
    assert_eq!(
        t[0].columns
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["database_name", "database_size", "unallocated space"]
    );
    assert_eq!(t[0].rows[0][0], Value::text("master"));
    assert_eq!(t[0].rows[0][1], Value::text("16.00 MB"));
    assert_eq!(t[0].rows[0][2], Value::text("4.00 MB"));
    assert_eq!(
        t[1].rows[0],
        [
            Value::text("4096 KB"),
            Value::text("4032 KB"),
            Value::text("64 KB"),
            Value::text("0 KB")
        ]
    );
    let one = run("EXEC sp_spaceused @oneresultset = 1");
    assert_eq!(one.tables().len(), 1);
    assert_eq!(one.tables()[0].columns.len(), 7);
    let object = run("EXEC sp_spaceused 'dbo.nothing'");
    assert_eq!(object.errors(), [15009]);
}
