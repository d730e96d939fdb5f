//! SELECT over in-memory tables: FROM and joins, WHERE, GROUP BY and aggregates, HAVING,
//! ORDER BY, TOP, DISTINCT and subqueries.
