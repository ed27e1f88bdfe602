package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"fiscald/internal/store/storetest"
)

// TestParamsCommand runs `fiscald params draft` and `adopt` on a migrated
// database of each engine: before adoption a 2027 quote names the missing
// parameter; after it, the quote computes and cites the decision.
func TestParamsCommand(t *testing.T) {
	bin := buildBinary(t)
	const quote27 = `{"municipality":"timisoara","year":2027,"object":{"kind":"vehicle","category":"car","engine_cc":1598,"emission_class":"euro6","propulsion":"combustion"}}`
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
			if out, err := run(quote27, "quote"); err == nil || !strings.Contains(out, "vehicle.engine.row1.euro6") {
				t.Fatalf("2027 before: %v\n%s", err, out)
			}
			draft := []string{"params", "draft", "--from", "2026", "--to", "2027", "--inflation", "5.6", "--decision-number", "200/2026", "--decision-date", "2026-12-15"}
			// Bad input is refused, naming the field.
			if out, err := run("", append(draft[:len(draft)-1:len(draft)-1], "2026-12-32")...); err == nil || !strings.Contains(out, "--decision-date") {
				t.Fatalf("bad date: %v\n%s", err, out)
			}
			if out, err := run("", "params", "draft", "--from", "2023", "--to", "2024", "--inflation", "5", "--decision-number", "1/2026", "--decision-date", "2026-12-15"); err == nil || !strings.Contains(out, "from_year") {
				t.Fatalf("no source year: %v\n%s", err, out)
			}
			out, err := run("", append(draft, "--json")...)
			if err != nil {
				t.Fatalf("draft: %v\n%s", err, out)
			}
			var d struct {
				ID     int64  `json:"id"`
				Status string `json:"status"`
				Lines  []struct{ Key, ToValue, Rule string }
			}
			if err := json.Unmarshal([]byte(out), &d); err != nil || d.Status != "draft" || len(d.Lines) != 131 { // 40 Euro-table, electric, tractor, 8 building, 40 + 2 land amounts; 7 council percentages; 32 range bounds (rank I land with buildings, extravilan, registered vehicles)
				t.Fatalf("draft JSON: %v\n%s", err, out)
			}
			if out, err = run("", "params", "show", "--id", strconv.FormatInt(d.ID, 10)); err != nil ||
				!strings.Contains(out, "vehicle.engine.row1.euro6") || !strings.Contains(out, "17.42") || !strings.Contains(out, "indexed") {
				t.Fatalf("show: %v\n%s", err, out)
			}
			if out, err = run("", "params", "adopt", "--id", strconv.FormatInt(d.ID, 10)); err != nil || !strings.Contains(out, ": adopted,") {
				t.Fatalf("adopt: %v\n%s", err, out)
			}
			if out, err = run("", "params", "adopt", "--id", strconv.FormatInt(d.ID, 10)); err == nil {
				t.Fatalf("adopt twice: %s", out)
			}
			// 8 × 17.42 × 1.5 = 209.04 → 209 lei.
			out, err = run(quote27, "quote")
			if err != nil || !strings.Contains(out, `"annual_tax": "209.00"`) && !strings.Contains(out, `"annual_tax":"209.00"`) || !strings.Contains(out, "HCL 200/2026") {
				t.Fatalf("2027 after: %v\n%s", err, out)
			}
		})
	}
}
