-- Per-address rate limits shared by every instance of the service on one
-- database (internal/store/ratelimits.go): sign-in attempts per address,
-- registrations, document verification look-ups. rate_counters holds fixed
-- windows: window_start is the window's start in Unix seconds (a multiple of
-- the limit's period), n the attempts counted in it by an upsert-increment.
-- rate_failures holds the sign-in failures of a (username, address) pair and
-- the instant (Unix milliseconds) before which it may not try again. Old
-- windows and forgotten failures are pruned by the store.
CREATE TABLE rate_counters (
    limit_key    TEXT    NOT NULL,
    window_start BIGINT  NOT NULL,
    n            INTEGER NOT NULL,
    PRIMARY KEY (limit_key, window_start)
);
CREATE INDEX rate_counters_window ON rate_counters (window_start);
CREATE TABLE rate_failures (
    limit_key TEXT    NOT NULL PRIMARY KEY,
    n         INTEGER NOT NULL,
    last_at   BIGINT  NOT NULL,
    until_at  BIGINT  NOT NULL
);
CREATE INDEX rate_failures_last ON rate_failures (last_at);
