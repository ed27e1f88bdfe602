-- PostgreSQL only: audit_append, a function that chains a transaction's
-- audit entries in one statement (see migrations/postgres/0028). SQLite has
-- one writer at a time and chains them from Go (internal/store/audit.go).
SELECT 1;
