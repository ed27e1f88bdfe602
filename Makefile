# fiscald — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
GO ?= go
# Go 1.27.3 from the Go module proxy (the go command fetches it once, ~76 MB):
# Go 1.26.8, this machine's own, has standard-library vulnerabilities
# (`make vulncheck`). Every go command run through make uses it.
export GOTOOLCHAIN := go1.27.3
BIN := bin/fiscald
STRIPE_MOCK_VERSION := v0.203.0
GOVULNCHECK_VERSION := v1.9.0
VULNDB_VERSION := v0.0.0-20261105234957-e22db6528018
VULNDB := $(HOME)/.cache/fiscald/vulndb-$(VULNDB_VERSION)
GOBIN := $(shell $(GO) env GOPATH)/bin
# Debian packages the tests use: poppler-utils (pdftotext, pdfsig, pdfimages
# check the PDFs), libnss3-tools (certutil trusts the demo CA), chromium (the
# portal's browser tests), npm (installs axe-core into tools/ for them),
# softhsm2 and opensc (a PKCS #11 token and pkcs11-tool for test-pkcs11);
# haproxy (the reference deployment, make run-cluster, and its tests),
# postgresql-client (pg_dump/pg_restore for fiscald backup on PostgreSQL,
# psql for make run-cluster), postgresql (initdb/pg_ctl: the fault test
# runs a PostgreSQL of its own to restart and stop).
APT_PACKAGES := poppler-utils libnss3-tools chromium npm softhsm2 opensc haproxy postgresql-client postgresql

.PHONY: run run-cluster loadtest-cluster build test test-pkcs11 test-faults test-sqlite lint vulncheck depcheck deps deps-system deps-go deps-js deps-bench bench bench-quote bench-assess bench-import bench-pinned bench-intake-two loadtest clean

## run: build and start the server on the embedded SQLite database with the demo municipality
run: build
	./$(BIN) serve --migrate --demo

build:
	$(GO) build -o $(BIN) ./cmd/fiscald

## run-cluster: the reference deployment on loopback: HAProxy (deploy/haproxy.cfg) on :8080 in front of
## two `fiscald serve` (:8081, :8082) on one PostgreSQL database (CLUSTER_DB, created if missing)
run-cluster: build deps-system
	scripts/run-cluster.sh

## deps: everything the tests need besides Go modules (Debian packages, stripe-mock, axe-core)
deps: deps-system deps-go deps-js

deps-system:
	@missing=""; \
	command -v pdftotext >/dev/null && command -v pdfsig >/dev/null && command -v pdfimages >/dev/null || missing="$$missing poppler-utils"; \
	command -v certutil >/dev/null || missing="$$missing libnss3-tools"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	command -v softhsm2-util >/dev/null || missing="$$missing softhsm2"; \
	command -v pkcs11-tool >/dev/null || missing="$$missing opensc"; \
	command -v haproxy >/dev/null || missing="$$missing haproxy"; \
	command -v pg_dump >/dev/null && command -v pg_restore >/dev/null && command -v psql >/dev/null || missing="$$missing postgresql-client"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

deps-go:
	@test -x $(GOBIN)/stripe-mock || { echo "installing stripe-mock $(STRIPE_MOCK_VERSION)"; $(GO) install github.com/stripe/stripe-mock@$(STRIPE_MOCK_VERSION); }
	@$(GO) mod download

# axe-core for the browser tests, pinned by tools/package-lock.json.
deps-js:
	@test -f tools/node_modules/axe-core/axe.min.js || { echo "installing axe-core (npm ci in tools/)"; cd tools && npm ci --no-audit --no-fund --silent; }

## test: every test, on SQLite always and on PostgreSQL when FISCAL_TEST_POSTGRES is set
test: deps
	@if [ -n "$$FISCAL_TEST_POSTGRES" ]; then echo "== tests on SQLite and PostgreSQL ($$FISCAL_TEST_POSTGRES)"; \
	 else echo "== tests on SQLite only: FISCAL_TEST_POSTGRES is not set"; fi
	PATH="$(GOBIN):$$PATH" $(GO) test -race -count=1 -timeout 30m ./...
	@$(MAKE) --no-print-directory test-pkcs11
	@if [ -z "$$FISCAL_TEST_POSTGRES" ]; then echo; \
	  echo "NOTE: the PostgreSQL suite did NOT run. Set FISCAL_TEST_POSTGRES=postgres://USER@HOST:5432/DB?sslmode=disable to run it."; fi

## test-pkcs11: the PKCS #11 backend (build tag pkcs11, cgo) on a fresh SoftHSM2 token: keys
## generated on the token, never extractable (pkcs11-tool), steps signed through it; about 10 s
test-pkcs11: deps-system
	CGO_ENABLED=1 $(GO) test -count=1 -tags pkcs11 -run 'TestPKCS11' ./internal/signing/ ./internal/store/

## test-faults: the crash tests (SIGKILL during signing and settlement, restart; kills at chosen
## points inside transactions; the database disk full) and the
## bounded soak test (FISCAL_SOAK_SECONDS per engine, default 35), on SQLite and PostgreSQL
## when FISCAL_TEST_POSTGRES is set; about 3 minutes. See RELIABILITY.md.
test-faults: deps
	FISCAL_TEST_FAULTS=1 PATH="$(GOBIN):$$PATH" $(GO) test -count=1 -timeout 25m -v -run 'TestCrashDuringSigningAndSettlement|TestKillAtFaultPoint|TestDatabaseDiskFull|TestSoak|TestReadinessFollowsDatabase|TestRepliesSurviveKill|TestBackupRestore|TestClusterBehindHAProxy|TestPostgresRestart|TestImportKillAndResume' ./cmd/fiscald/ ./internal/web/ \
	  | grep -E '^(---|ok|FAIL|PASS)|faults_test.go|faultpoint_test.go|diskfull_test.go|readiness_test.go|replay_test.go|backup_test.go|cluster_test.go|pgrestart_test.go|import_test.go|SKIP'; exit $${PIPESTATUS[0]}

## lint: go vet, gofmt, the import rules and govulncheck
lint: depcheck vulncheck
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## vulncheck: govulncheck against the Go vulnerability database of the pinned
## golang.org/x/vulndb module (vuln.go.dev is not reachable from here: the
## database is built from that module's OSV files by its own indexdb command,
## once per version, into $(VULNDB)). Raise VULNDB_VERSION to take newer reports.
vulncheck: $(VULNDB)/index/db.json
	$(GO) run golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION) -db file://$(abspath $(VULNDB)) ./...

$(VULNDB)/index/db.json:
	@echo "building the Go vulnerability database $(VULNDB_VERSION) into $(VULNDB)"
	@src=$$($(GO) mod download -json golang.org/x/vulndb@$(VULNDB_VERSION) | sed -n 's/^\t"Dir": "\(.*\)",$$/\1/p'); \
	  test -n "$$src" || { echo "cannot download golang.org/x/vulndb@$(VULNDB_VERSION)"; exit 1; }; \
	  rm -rf $(VULNDB).tmp && GOFLAGS=-mod=mod $(GO) run golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION) -vulns $$src/data/osv -out $(VULNDB).tmp && \
	  rm -rf $(VULNDB) && mv $(VULNDB).tmp $(VULNDB)

depcheck:
	@scripts/depcheck.sh

## bench: the Go benchmarks (results go in BENCHMARKS.md)
bench: deps bench-quote
	PATH="$(GOBIN):$$PATH" $(GO) test -run=NONE -bench=. -benchmem ./...

## bench-quote: requests/s of POST /api/v1/tax/quote against a bare fiber handler (wrk, loopback);
## fails below 0.5 of the bare handler (cmd/quotebench -min), and so does `make bench`
bench-quote:
	scripts/bench-quote.sh

## bench-assess: seed a million vehicles, time `fiscald assess` (peak RSS with /usr/bin/time -v)
## and the raw write ceiling, on SQLite and (FISCAL_TEST_POSTGRES) PostgreSQL; N=... to resize
bench-assess: deps-bench
	scripts/bench-assess.sh $(or $(N),1000000)

## bench-import: a million vehicles with 400,000 owners as CSV, time `fiscald import` (peak RSS with
## /usr/bin/time -v) beside the raw write ceiling (`fiscald seed`); N=… OWNERS=… for other sizes
bench-import: deps-bench
	scripts/bench-import.sh $(or $(N),1000000) $(or $(OWNERS),400000)

## bench-pinned: issue 15's layout: fiscald and PostgreSQL pinned to CPU 0, wrk on CPU 1 (32 connections,
## 10 s); intakes and officer reviews on a fresh PostgreSQL database: req/s, p99, CPU per request of both,
## commits per request; RUNS=3 DURATION=10s ... (see scripts/bench-pinned.sh); pins the machine's PostgreSQL
bench-pinned: deps-bench build
	scripts/bench-pinned.sh

## bench-intake-two: issue 15's two-process figure: two fiscald serve on one fresh PostgreSQL database,
## each driven by its own wrk at once (intakes); req/s and p99 of each and their sum, then gapless
## numbers, each key once and the audit chain checked; SERVERS=1 puts the same load on one server
bench-intake-two: deps-bench build
	scripts/bench-intake-two.sh

## loadtest: the January-peak mix (quotes, sign-ins, statements, intake, card payments, webhooks)
## against bin/fiscald on loopback while `fiscald assess` runs: per-endpoint req/s and p50/p95/p99;
## LOADTEST_ARGS="-rate 2000 -duration 30s -check ..." (see ./bin/loadtest -h)
loadtest: build deps-go
	$(GO) build -o bin/loadtest ./cmd/loadtest
	PATH="$(GOBIN):$$PATH" ./bin/loadtest -bin $(BIN) $(LOADTEST_ARGS)

## loadtest-cluster: the January mix through HAProxy against two instances on a fresh PostgreSQL
## database (CLUSTER_LOADTEST_DB, dropped and created); LOADTEST_ARGS as for loadtest
CLUSTER_PG ?= postgres://postgres@127.0.0.1:5432
CLUSTER_LOADTEST_DB ?= fiscald_loadtest
loadtest-cluster: build deps-go deps-system
	$(GO) build -o bin/loadtest ./cmd/loadtest
	psql "$(CLUSTER_PG)/postgres" -qc 'DROP DATABASE IF EXISTS $(CLUSTER_LOADTEST_DB) WITH (FORCE)' -c 'CREATE DATABASE $(CLUSTER_LOADTEST_DB)'
	PATH="$(GOBIN):$$PATH" ./bin/loadtest -bin $(BIN) -cluster -db "$(CLUSTER_PG)/$(CLUSTER_LOADTEST_DB)?sslmode=disable" $(LOADTEST_ARGS)

# /usr/bin/time (Debian package time) measures peak memory; wrk loads the
# server (bench-quote, bench-pinned).
deps-bench:
	@test -x /usr/bin/time -a -x /usr/bin/wrk || { SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq time wrk >/dev/null; }

clean:
	rm -rf bin
