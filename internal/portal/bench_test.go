package portal_test

import (
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/store/storetest"
)

// BenchmarkPortalPages measures the server side of the busiest pages over
// HTTP on loopback (SQLite, one vehicle approved through the workflow): the
// taxpayer's account (statement with late fees and bonus, cases, payments,
// documents), the taxpayer's case page and the officer's queue.
func BenchmarkPortalPages(b *testing.B) {
	clock := fiscal.NewTestClock(inFebruary)
	s := startSite(b, storetest.MustOpen(b, "sqlite", clock), clock)
	ana := s.client()
	ana.register("ana", "2850615350041", "Ana Popescu")
	approveGolf(b, s)
	off := s.client()
	off.login("ioana", staffPassword("ioana"))
	for _, pg := range []struct {
		name string
		c    *client
		path string
	}{{"account", ana, "/account"}, {"case", ana, "/cases/1"}, {"queue", off, "/staff/queue?status=all"}} {
		b.Run(pg.name, func(b *testing.B) {
			for b.Loop() {
				if p := pg.c.get(pg.path); p.Status != 200 {
					b.Fatalf("%s: %d", pg.path, p.Status)
				}
			}
		})
	}
}
