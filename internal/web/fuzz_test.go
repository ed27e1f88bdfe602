package web_test

import (
	"strings"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/store/storetest"
)

// FuzzJSONBodies sends arbitrary bodies to every POST route of the table, as
// an admin and anonymously: whatever the bytes, the answer is never a server
// error (5xx other than 503 for an unconfigured provider) and never a panic.
func FuzzJSONBodies(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `null`, `{"username":"ana","password":"x"}`, `{"taxpayer":{"kind":"company","cui":"RO1"}}`,
		`{"amount":"1e9"}`, `{"amount":12}`, `{"municipality":"timisoara","year":2026,"object":{"kind":"vehicle","engine_cc":-1}}`,
		"\xff\xfe", `{"a":` + strings.Repeat("[", 200), `{"data":{"vin":"` + strings.Repeat("A", 5000) + `"}}`,
		// Issue 23: the ledger's limit, a NUL and a bidi override in strings.
		`{"taxpayer_id":1,"amount":"999999999999999.99"}`, `{"name":"a\u0000b","reason":"\u0001","x\u0000":1}`,
		`{"taxpayer":{"kind":"individual","name":"Ion\u202e"}}`} {
		f.Add(s)
	}
	clock := fiscal.NewTestClock(storetest.Epoch)
	db := storetest.MustOpen(f, "sqlite", clock)
	e := newEnv(f, db, clock)
	admin := e.tokens["admin"]
	f.Fuzz(func(t *testing.T, body string) {
		e.t = t
		for _, r := range e.srv.RouteTable() {
			if r.Method != "POST" {
				continue
			}
			path := pathParam.ReplaceAllString(r.Path, "1")
			for _, tok := range []string{"", admin} {
				got := e.do("POST", path, tok, body)
				if got.Status >= 500 && got.Status != 503 {
					t.Fatalf("POST %s with %q: %d %s", r.Path, body, got.Status, got.Raw)
				}
			}
		}
	})
}
