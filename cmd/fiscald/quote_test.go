package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"fiscald/internal/store/storetest"
)

// TestQuoteCommand runs `fiscald quote` on a migrated database of each
// engine: the contract's example from stdin and from --file, and the errors.
func TestQuoteCommand(t *testing.T) {
	bin := buildBinary(t)
	const req = `{"municipality":"timisoara","year":2026,"paid_on":"2026-05-10","object":{"kind":"vehicle","category":"car","engine_cc":1598,"emission_class":"euro6","propulsion":"combustion"}}`
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			dir := t.TempDir()
			env := append(os.Environ(), "FISCAL_DB="+storetest.DSN(t, engine), "FISCAL_DATA_DIR="+dir)
			run := func(stdin string, args ...string) (string, error) {
				cmd := exec.Command(bin, args...)
				cmd.Env = env
				cmd.Stdin = strings.NewReader(stdin)
				out, err := cmd.CombinedOutput()
				return string(out), err
			}
			if out, err := run("", "migrate"); err != nil {
				t.Fatalf("migrate: %v\n%s", err, out)
			}
			check := func(out string, err error) {
				t.Helper()
				var r struct {
					AnnualTax  string `json:"annual_tax"`
					Settlement struct {
						LateFees string `json:"late_fees"`
						Total    string `json:"total"`
					} `json:"settlement"`
				}
				if err != nil || json.Unmarshal([]byte(out), &r) != nil || r.AnnualTax != "198.00" || r.Settlement.LateFees != "2.00" || r.Settlement.Total != "200.00" {
					t.Fatalf("quote: %v\n%s", err, out)
				}
			}
			check(run(req, "quote"))
			file := filepath.Join(dir, "req.json")
			os.WriteFile(file, []byte(req), 0o600)
			check(run("", "quote", "--file", file))

			// A value the council chooses within the law's range (art. 470 alin. (2^2)), not entered.
			out, err := run(strings.Replace(req, `"car"`, `"registered"`, 1), "quote")
			if err == nil || !strings.Contains(out, "object.engine_cc") || !strings.Contains(out, "vehicle.registered.small.per_group") {
				t.Fatalf("missing rate: %v\n%s", err, out)
			}
			if out, err = run(strings.Replace(req, "timisoara", "atlantida", 1), "quote"); err == nil || !strings.Contains(out, "municipality") {
				t.Fatalf("unknown municipality: %v\n%s", err, out)
			}
			if out, err = run(`{"year":`, "quote"); err == nil || !strings.Contains(out, "malformed") {
				t.Fatalf("malformed: %v\n%s", err, out)
			}
		})
	}
}
