//! The interpreter against a host that records what it is asked to do.

use super::*;
use crate::ast::StatementKind;
use crate::output::{CollectSink, Output};

#[derive(Default)]
struct RecordingHost {
    executed: Vec<Statement>,
    marks: Vec<TransactionMark>,
    procedures: Vec<(String, Vec<ProcArg>)>,
}

impl Host for RecordingHost {
    fn snapshot(&self) -> ServerSnapshot {
        ServerSnapshot::sample()
    }

    fn session(&self) -> SessionContext {
        SessionContext {
            spid: 52,
            login: "sa".into(),
            database: "master".into(),
            host_name: "test".into(),
            program_name: "tests".into(),
        }
    }

    fn now(&self) -> (DateTime, DateTime) {
        let noon = DateTime {
            days: 739_000,
            ticks: 12 * 3600 * 10_000_000,
        };
        (noon, noon)
    }

    fn random_u128(&mut self) -> u128 {
        0x1234_5678_9abc_def0_1234_5678_9abc_def0
    }

    fn execute(&mut self, statement: &Statement, sink: &mut dyn OutputSink, _: &CancelToken) {
        if let StatementKind::Use { database } = &statement.kind
            && database == "nowhere"
        {
            sink.message(crate::messages::database_does_not_exist(
                statement.line,
                database,
            ));
        }
        self.executed.push(statement.clone());
    }

    fn procedure(
        &mut self,
        name: &str,
        args: &[ProcArg],
        _: u32,
        _: &mut dyn OutputSink,
    ) -> Option<()> {
        if name == "sp_delete_backuphistory" {
            self.procedures.push((name.to_owned(), args.to_vec()));
            return Some(());
        }
        None
    }

    fn mark_committed(&mut self, mark: &TransactionMark) {
        self.marks.push(mark.clone());
    }
}

struct Ran {
    sink: CollectSink,
    host: RecordingHost,
    outcome: BatchOutcome,
    state: SessionState,
}

fn run_with(state: SessionState, text: &str) -> Ran {
    let mut state = state;
    let mut host = RecordingHost::default();
    let mut sink = CollectSink::new();
    let outcome = match crate::parse_batch(text, 1) {
        Ok(statements) => run_batch(
            &statements,
            &mut state,
            &mut host,
            &mut sink,
            &CancelToken::new(),
        ),
        Err(m) => panic!("parse failed: {m}"),
    };
    Ran {
        sink,
        host,
        outcome,
        state,
    }
}

fn run(text: &str) -> Ran {
    run_with(SessionState::default(), text)
}

impl Ran {
    fn errors(&self) -> Vec<u32> {
        self.sink.error_numbers()
    }

    fn prints(&self) -> Vec<String> {
        self.sink
            .messages()
            .filter(|m| m.number == 0)
            .map(|m| m.text.clone())
            .collect()
    }

    fn tables(&self) -> Vec<&Table> {
        self.sink
            .outputs
            .iter()
            .filter_map(|o| match o {
                Output::ResultSet(t) => Some(t),
                _ => None,
            })
            .collect()
    }

    /// The single value of the last result set.
    fn scalar(&self) -> Value {
        self.tables().last().expect("a result set").rows[0][0].clone()
    }
}

#[test]
fn select_one_is_a_typed_result_set_with_its_count() {
    let ran = run("SELECT 1");
    let table = ran.tables()[0];
    assert_eq!(table.columns[0].ty, SqlType::Int);
    assert_eq!(table.rows, vec![vec![Value::Int(1)]]);
    assert!(matches!(
        ran.sink.outputs.last(),
        Some(Output::RowsAffected(1))
    ));
}

#[test]
fn nocount_drops_the_row_counts() {
    let ran = run("SET NOCOUNT ON; SELECT 1");
    assert!(
        !ran.sink
            .outputs
            .iter()
            .any(|o| matches!(o, Output::RowsAffected(_)))
    );
    assert!(ran.state.options.nocount);
}

#[test]
fn variables_declare_set_and_compound_assignment() {
    let ran = run("DECLARE @x int = 5; SET @x += 2; SELECT @x * 2");
    assert_eq!(ran.scalar(), Value::Int(14));
    let ran = run("DECLARE @n int; SELECT @n = 41; SELECT @n + 1");
    assert_eq!(ran.scalar(), Value::Int(42));
    assert_eq!(
        ran.tables().len(),
        1,
        "an assigning SELECT returns no result set"
    );
}

#[test]
fn an_undeclared_variable_fails_the_whole_batch_before_it_runs() {
    let ran = run("PRINT 'first'\nSELECT @nope");
    assert_eq!(ran.errors(), vec![137]);
    assert!(ran.prints().is_empty(), "nothing of the batch ran");
    let m = ran.sink.messages().next().unwrap();
    assert_eq!(
        (m.line, m.text.as_str()),
        (2, "Must declare the scalar variable \"@nope\".")
    );
    assert_eq!(run("DECLARE @a int; DECLARE @a int").errors(), vec![134]);
}

#[test]
fn if_while_break_and_continue() {
    let ran = run("DECLARE @i int = 0, @s int = 0
         WHILE @i < 10
         BEGIN
             SET @i += 1
             IF @i = 3 CONTINUE
             IF @i > 5 BREAK
             SET @s += @i
         END
         IF @s = 12 PRINT 'twelve' ELSE PRINT 'other'");
    assert_eq!(ran.prints(), vec!["twelve"]);
}

#[test]
fn try_catch_catches_and_hides_the_error() {
    let ran = run("BEGIN TRY
             SELECT 1/0
             PRINT 'not reached'
         END TRY
         BEGIN CATCH
             SELECT ERROR_NUMBER(), ERROR_LINE()
         END CATCH");
    assert!(ran.errors().is_empty(), "{:?}", ran.errors());
    assert!(ran.prints().is_empty());
    let t = ran.tables();
    assert_eq!(
        t.last().unwrap().rows[0],
        vec![Value::Int(8134), Value::Int(2)]
    );
}

#[test]
fn errors_outside_try_end_the_statement_or_the_batch_as_sql_server_does() {
    // Divide by zero ends the statement; the batch goes on.
    let ran = run("SELECT 1/0\nPRINT 'after'");
    assert_eq!(ran.errors(), vec![8134]);
    assert_eq!(ran.prints(), vec!["after"]);
    // A conversion error ends the batch.
    let ran = run("SELECT CAST('abc' AS int)\nPRINT 'after'");
    assert_eq!(ran.errors(), vec![245]);
    assert!(ran.prints().is_empty());
    // A missing object ends the batch, and its line is the statement's.
    let ran = run("PRINT 'before'\nSELECT * FROM dbo.nothing_here\nPRINT 'after'");
    assert_eq!(ran.errors(), vec![208]);
    assert_eq!(ran.prints(), vec!["before"]);
    assert_eq!(
        ran.sink.messages().find(|m| m.number == 208).unwrap().line,
        2
    );
}

#[test]
fn raiserror_levels_and_substitution() {
    let ran = run(
        "RAISERROR('db %s has %d files', 10, 1, 'pubs', 3)\nRAISERROR('bad', 16, 2)\nPRINT 'on'",
    );
    let messages: Vec<_> = ran.sink.messages().collect();
    assert_eq!(messages[0].text, "db pubs has 3 files");
    assert_eq!(messages[0].level, 10);
    assert_eq!(
        (messages[1].number, messages[1].level, messages[1].state),
        (50000, 16, 2)
    );
    assert_eq!(ran.prints(), vec!["on"]);
    assert!(ran.outcome.error);
}

#[test]
fn throw_ends_the_batch_and_rethrow_keeps_the_number() {
    let ran = run("THROW 50001, 'custom', 1\nPRINT 'after'");
    assert_eq!(ran.errors(), vec![50001]);
    assert!(ran.prints().is_empty());
    let ran = run("BEGIN TRY SELECT 1/0 END TRY BEGIN CATCH THROW END CATCH");
    assert_eq!(ran.errors(), vec![8134]);
    assert_eq!(run("THROW 5, 'low', 1").errors(), vec![35100]);
}

#[test]
fn transactions_count_and_marks_reach_the_host_on_commit() {
    let ran = run("BEGIN TRAN before_upgrade WITH MARK 'schema v2'
         SELECT @@TRANCOUNT
         COMMIT");
    assert_eq!(ran.scalar(), Value::Int(1));
    assert_eq!(ran.host.marks.len(), 1);
    assert_eq!(ran.host.marks[0].name, "before_upgrade");
    assert_eq!(ran.host.marks[0].description.as_deref(), Some("schema v2"));
    assert_eq!(ran.state.transaction_count, 0);
    assert_eq!(run("COMMIT").errors(), vec![3902]);
    assert_eq!(run("ROLLBACK").errors(), vec![3903]);
    let ran = run("BEGIN TRAN m WITH MARK; ROLLBACK");
    assert!(
        ran.host.marks.is_empty(),
        "a rolled-back mark is not logged"
    );
}

#[test]
fn backup_inside_a_transaction_fails_before_the_host_sees_it() {
    let ran = run("BEGIN TRAN\nBACKUP DATABASE pubs TO VIRTUAL_DEVICE = 'd'");
    assert_eq!(ran.errors(), vec![3021, 3013]);
    assert!(ran.host.executed.is_empty());
}

#[test]
fn backup_names_and_devices_from_variables() {
    let ran = run("DECLARE @db sysname = N'pubs', @dev nvarchar(200) = N'set1'
         BACKUP DATABASE @db TO VIRTUAL_DEVICE = @dev WITH STATS = 10");
    assert!(ran.errors().is_empty(), "{:?}", ran.errors());
    let StatementKind::Backup(b) = &ran.host.executed[0].kind else {
        panic!("{:?}", ran.host.executed);
    };
    assert_eq!(
        (b.database.as_str(), b.devices[0].as_str()),
        ("pubs", "set1")
    );
    assert!(b.variables.is_empty());
}

#[test]
fn sp_executesql_binds_parameters_by_position_and_name() {
    let ran = run("EXEC sp_executesql N'SELECT @a + @b', N'@a int, @b int', 40, @b = 2");
    assert_eq!(ran.scalar(), Value::Int(42));
    let ran = run("DECLARE @out int
         EXEC sp_executesql N'SET @r = @a * 2', N'@a int, @r int OUTPUT', @a = 21, @r = @out OUTPUT
         SELECT @out");
    assert_eq!(ran.scalar(), Value::Int(42));
    assert_eq!(run("EXEC sp_executesql 'SELECT 1'").errors(), vec![214]);
    assert_eq!(
        run("EXEC sp_executesql N'SELECT @a', N'@a int'").errors(),
        vec![8178]
    );
    // The dynamic batch does not see the caller's variables.
    assert_eq!(
        run("DECLARE @x int = 1; EXEC sp_executesql N'SELECT @x'").errors(),
        vec![137]
    );
}

#[test]
fn procedures_go_to_the_catalog_then_the_host_then_2812() {
    let ran = run("EXEC msdb.dbo.sp_delete_backuphistory @oldest_date = '2024-01-01'");
    assert!(ran.errors().is_empty());
    assert_eq!(ran.host.procedures[0].0, "sp_delete_backuphistory");
    assert_eq!(run("EXEC dbo.no_such_proc").errors(), vec![2812]);
    let ran = run("EXEC ('SELECT 7')");
    assert_eq!(ran.scalar(), Value::Int(7));
}

#[test]
fn temporary_tables_and_table_variables() {
    let ran = run(
        "CREATE TABLE #t (id int IDENTITY(1,1), name sysname NOT NULL, size int NULL)
         INSERT INTO #t (name, size) VALUES (N'a', 1), (N'b', 2), (N'c', 3)
         UPDATE #t SET size = size * 10 WHERE name = N'b'
         DELETE FROM #t WHERE name = N'a'
         SELECT id, name, size FROM #t ORDER BY id",
    );
    assert!(ran.errors().is_empty(), "{:?}", ran.sink.render("S"));
    let t = ran.tables();
    assert_eq!(
        t.last().unwrap().rows,
        vec![
            vec![Value::Int(2), Value::text("b"), Value::Int(20)],
            vec![Value::Int(3), Value::text("c"), Value::Int(3)]
        ]
    );
    assert!(
        ran.state.temp_tables.contains_key("#t"),
        "temp tables live with the session"
    );
    let ran = run("DECLARE @t TABLE (n int)
         INSERT @t SELECT 5
         SELECT n FROM @t");
    assert_eq!(ran.scalar(), Value::Int(5));
    assert_eq!(run("INSERT #t VALUES (NULL, 1)").errors(), vec![208]);
}

#[test]
fn catalog_views_and_functions_come_from_the_snapshot() {
    let ran = run("SELECT name FROM sys.databases WHERE name = N'master'");
    assert_eq!(ran.scalar(), Value::text("master"));
    let ran = run("SELECT DB_NAME(DB_ID('master'))");
    assert_eq!(ran.scalar(), Value::text("master"));
    let ran = run("SELECT @@SPID, @@TRANCOUNT, @@ERROR");
    assert_eq!(ran.tables()[0].rows[0][1..], [Value::Int(0), Value::Int(0)]);
}

#[test]
fn host_statement_errors_go_to_catch() {
    let ran = run("BEGIN TRY USE nowhere END TRY BEGIN CATCH SELECT ERROR_NUMBER() END CATCH");
    assert!(ran.errors().is_empty());
    assert_eq!(ran.scalar(), Value::Int(911));
}

#[test]
fn a_procedure_named_by_a_variable_runs() {
    let ran = run(
        "DECLARE @sp_executesql nvarchar(max) = N'[master].sys.sp_executesql'
         EXECUTE @sp_executesql @stmt = N'SELECT @n * 2', @params = N'@n int', @n = 21",
    );
    assert!(ran.errors().is_empty(), "{:?}", ran.sink.render("S"));
    assert_eq!(ran.scalar(), Value::Int(42));
}

#[test]
fn error_holds_the_last_statements_error_until_the_next_one() {
    let ran = run("DECLARE @e int
         EXEC dbo.not_there
         SET @e = @@ERROR
         SELECT @e, @@ERROR");
    assert_eq!(
        ran.tables().last().unwrap().rows[0],
        vec![Value::Int(2812), Value::Int(0)]
    );
}

mod gaps;
