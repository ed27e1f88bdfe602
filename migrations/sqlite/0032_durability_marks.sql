-- PostgreSQL only: durability_marks, the rows the durability barrier writes
-- (see migrations/postgres/0032). SQLite commits every transaction durably
-- (synchronous=NORMAL in WAL mode, see RELIABILITY.md) and has no barrier.
SELECT 1;
