package reports_test

import (
	"slices"
	"strings"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
	"fiscald/reports"
)

// excluded are the ledger columns the journal leaves out on purpose, with
// the reason. A column added to these tables later must be either shown
// (a Column's Sources) or listed here: TestJournalCoversLedger fails until
// someone decides.
var excluded = map[string]string{
	"payments.municipality_id":        "one municipality per export, named in the title block",
	"payments.chosen_debts":           "the taxpayer's selection; what was paid is in the lines",
	"payments.failure_code":           "only succeeded payments move money",
	"payments.failure_message":        "only succeeded payments move money",
	"payments.created_by":             "a user id; the audit log names the officer",
	"payments.created_at":             "the record's instant; the accounting date is paid_on / the line's day",
	"payments.updated_at":             "the record's instant",
	"payments.version":                "optimistic lock",
	"payments.claim_id":               "the Idempotency-Key claim of the request that started it (retries)",
	"refunds.claim_id":                "the Idempotency-Key claim of the request that started it (retries)",
	"allocations.municipality_id":     "one municipality per export",
	"allocations.created_at":          "the record's instant; the accounting date is effective_on",
	"credit_entries.municipality_id":  "one municipality per export",
	"credit_entries.created_at":       "the record's instant; the accounting date is effective_on",
	"debts.municipality_id":           "one municipality per export",
	"debts.created_at":                "the record's instant; the debt's date is due_date",
	"debts.cancelled_at":              "a register fact (superseded assessment), not a movement of money",
	"debts.version":                   "optimistic lock",
	"debts.replaces_debt_id":          "a register link (a recomputation replaced the debt); the money moved is in the allocation lines",
	"credit_entries.credit_refund_id": "a link to the bank-transfer request; the credit movement itself is a journal line",
}

// TestJournalCoversLedger compares the columns of payments, allocations,
// credit_entries and debts in the migrated schema with the journal's
// declared column mapping plus the exclusions above.
func TestJournalCoversLedger(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, _ *fiscal.TestClock) {
		shown := map[string]bool{}
		for _, c := range reports.JournalColumns {
			for _, s := range c.Sources {
				shown[s] = true
			}
		}
		for _, table := range []string{"payments", "allocations", "credit_entries", "debts"} {
			var cols []string
			q := `SELECT name FROM pragma_table_info(?)`
			if db.Dialect() == "postgres" {
				q = `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1`
			}
			if err := db.SQL().Select(&cols, q, table); err != nil {
				t.Fatal(err)
			}
			if len(cols) == 0 {
				t.Fatalf("no columns for %s", table)
			}
			for _, c := range cols {
				name := table + "." + c
				if !shown[name] && excluded[name] == "" {
					t.Errorf("%s is neither in the journal (reports.JournalColumns Sources) nor in the excluded list", name)
				}
				if shown[name] && excluded[name] != "" {
					t.Errorf("%s is both shown and excluded", name)
				}
			}
			for name := range shown {
				if strings.HasPrefix(name, table+".") && !slices.Contains(cols, strings.TrimPrefix(name, table+".")) {
					t.Errorf("the journal maps %s, which is not a column", name)
				}
			}
			for name := range excluded {
				if strings.HasPrefix(name, table+".") && !slices.Contains(cols, strings.TrimPrefix(name, table+".")) {
					t.Errorf("excluded %s is not a column any more", name)
				}
			}
		}
	})
}
