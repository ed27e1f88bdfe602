#!/usr/bin/env bash
# Enforces the import rules of ARCHITECTURE.md on non-test code.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
imports=$(go list -f '{{.ImportPath}}{{range .Imports}} {{.}}{{end}}' ./...)

# only PKG may import MODULE_PREFIX (exactly one package per integration)
only() {
  local allowed=$1 prefix=$2
  while read -r pkg deps; do
    for d in $deps; do
      if [[ $d == $prefix* && ! $pkg =~ ^($allowed)$ ]]; then
        echo "depcheck: $pkg imports $d (only $allowed may)"; fail=1
      fi
    done
  done <<<"$imports"
}
only 'fiscald/payments/stripe' 'github.com/stripe/stripe-go'
only 'fiscald/internal/pdf' 'github.com/go-pdf/fpdf'
only 'fiscald/internal/pdf' 'github.com/digitorus/pdf'  # digitorus/pdf and digitorus/pdfsign
only 'fiscald/internal/pdf' 'github.com/digitorus/pkcs7'
only 'fiscald/internal/cades|fiscald/internal/trust' 'github.com/digitorus/timestamp'  # RFC 3161: the demo TSA issues, cades verifies
only 'fiscald/internal/trust|fiscald/internal/pdf' 'golang.org/x/crypto/ocsp'  # the demo responder builds responses; the PAdES checker reads them
only 'fiscald/internal/signing' 'github.com/ThalesGroup/crypto11'
only 'fiscald/internal/pdf' 'github.com/skip2/go-qrcode'
only 'fiscald/internal/store' 'github.com/jackc/pgx'
only 'fiscald/internal/store' 'modernc.org/sqlite'
only 'fiscald/internal/web|fiscald/internal/portal|fiscald/cmd/quotebench' 'github.com/gofiber/'  # quotebench: the bare fiber baseline of the load benchmark
only 'fiscald/reports|fiscald/internal/importer' 'github.com/xuri/excelize'  # reports write workbooks, the importer reads them
only 'fiscald/internal/oidc' 'github.com/coreos/go-oidc'
only 'fiscald/internal/oidc' 'golang.org/x/oauth2'
only 'fiscald/internal/testroeid' 'github.com/zitadel/'

# forbid PKG_REGEX from importing DEP_REGEX (direct imports)
forbid() {
  local pkgre=$1 depre=$2 why=$3 except=${4:-}
  while read -r pkg deps; do
    [[ $pkg =~ $pkgre ]] || continue
    for d in $deps; do
      [[ -n $except && $d =~ $except ]] && continue
      if [[ $d =~ $depre ]]; then echo "depcheck: $pkg imports $d: $why"; fail=1; fi
    done
  done <<<"$imports"
}
forbid '^fiscald/calc(/|$)' '^fiscald/(fiscal|payments|reports|migrations|internal/(store|web|pdf|auth))' 'calc is pure: only small value packages (internal/money, internal/civil)'
forbid '^fiscald/calc(/|$)' '^(database/sql|net/http|os/exec|github.com/jmoiron|github.com/gofiber)' 'calc does no I/O'
forbid '^fiscald/fiscal$' '^fiscald/(internal/(store|web|pdf)|payments|reports|cmd)' 'the domain never imports transport, storage or integrations'
forbid '^fiscald/fiscal$' '^(github.com/|modernc.org/|golang.org/x/)' 'the domain imports only the standard library and value packages' '^github.com/shopspring/decimal$'  # decimal is a value type (areas, shares in the record)
forbid '^fiscald/internal/web$' '^fiscald/internal/store$' 'web talks to the domain through fiscal interfaces'
forbid '^fiscald/internal/portal$' '^fiscald/internal/store$' 'the portal talks to the domain through fiscal interfaces'
forbid '^fiscald/reports$' '^fiscald/(internal/(store|web|portal)|payments|cmd)' 'reports read rows through fiscal.ReportSource; the store owns the SQL'
forbid '^fiscald/internal/store$' '^fiscald/internal/(web|portal)' 'storage does not know HTTP'
forbid '^fiscald/internal/store$' '^fiscald/(documents|internal/pdf)$' 'storage reaches the documents pipeline through fiscal.DocumentProducer'
forbid '^fiscald/documents$' '^fiscald/internal/(store|web|portal)$' 'documents lays out and signs; it does not store rows or speak HTTP'
forbid '^fiscald/assess$' '^fiscald/(internal/(store|web|pdf)|payments|reports|cmd)' 'the annual run drives storage through fiscal.AnnualStore'
forbid '^fiscald/assess$' '^(database/sql|github.com/jmoiron|github.com/jackc|modernc.org)' 'the annual run does no SQL itself'
forbid '^fiscald/internal/importer$' '^fiscald/(internal/(store|web|portal)|payments|reports|cmd)' 'the importer drives storage through fiscal.ImportStore'
forbid '^fiscald/internal/importer$' '^(database/sql|github.com/jmoiron|github.com/jackc|modernc.org)' 'the importer does no SQL itself'
forbid '^fiscald/internal/synth$' '^fiscald/(internal/(store|web|pdf)|payments|reports|cmd)' 'the synthetic city is pure data generation'
forbid '^fiscald/internal/(oidc|testroeid)$' '^fiscald/(internal/(store|web|portal)|payments|reports|cmd)' 'the identity integration talks to the domain through fiscal.IdentityProvider'
forbid '^fiscald/(internal/money|internal/civil)$' '^fiscald/' 'value packages import nothing of the module'

if [[ $fail -ne 0 ]]; then exit 1; fi
echo "depcheck: import rules hold ($(wc -l <<<"$imports") packages)"
