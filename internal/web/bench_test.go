package web_test

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
	"fiscald/internal/web"
)

// BenchmarkQuoteHandler runs the whole fiber stack of POST /api/v1/tax/quote in process.
func BenchmarkQuoteHandler(b *testing.B) {
	db := storetest.MustOpen(b, "sqlite", fiscal.NewTestClock(storetest.Epoch))
	storetest.Municipality(b, db, "timisoara")
	srv := web.New(web.Config{DefaultMunicipality: "timisoara", PublicRateLimit: 1 << 30, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		web.StoreDeps(db))
	var _ *store.DB = db
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/api/v1/tax/quote", strings.NewReader(contractQuote))
		req.Header.Set("Content-Type", "application/json")
		res, err := srv.App().Test(req, -1)
		if err != nil || res.StatusCode != 200 {
			b.Fatal(err, res.StatusCode)
		}
		io.Copy(io.Discard, res.Body)
	}
}
