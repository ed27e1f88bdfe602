package web

import (
	"context"
	"io"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
	"fiscald/internal/civil"
)

// reportPrefix is the path of the exports, whose responses may take longer
// to write than the server's WriteTimeout (see New).
const reportPrefix = "/api/v1/reports/"

func (s *Server) reportRoutes() []route {
	acc := Roles(fiscal.RoleAccountant, fiscal.RoleAdmin)
	return []route{
		{Method: "GET", Path: reportPrefix + "collections", Summary: "Collections for a period (?from=&to=) by budget code, day or month (?group=budget_code|day|month): card, cash, refunds, net; ?format=csv|xlsx|pdf", Tag: "reports",
			Access: acc, Handler: s.report("collections")},
		{Method: "GET", Path: reportPrefix + "journal", Summary: "Every movement of money of a period (?from=&to=): payments applied to debts, refunds, credit; ?format=csv|xlsx|pdf", Tag: "reports",
			Access: acc, Handler: s.report("journal")},
		{Method: "GET", Path: reportPrefix + "arrears", Summary: "Arrears as of a date (?as_of=) by taxpayer, tax and budget code, with late-payment surcharges; ?format=csv|xlsx|pdf", Tag: "reports",
			Access: acc, Handler: s.report("arrears")},
		{Method: "GET", Path: reportPrefix + "bonuses", Summary: "Early-payment bonuses granted (and revoked) in a period (?from=&to=); ?format=csv|xlsx|pdf", Tag: "reports",
			Access: acc, Handler: s.report("bonuses")},
		{Method: "GET", Path: reportPrefix + "sla", Summary: "Service level for a period (?from=&to=) by case type: received, closed on time and late, open and breached, median and 90th percentile working days to close; ?format=csv|xlsx|pdf", Tag: "reports",
			Access: acc, Handler: s.report("sla")},
		{Method: "GET", Path: reportPrefix + "reconciliation", Summary: "Card reconciliation differences of a period (?from=&to=): kind, payment, PaymentIntent, processor transactions, our amount, the processor's, fee, difference; ?format=csv|xlsx|pdf", Tag: "reports",
			Access: acc, Handler: s.report("reconciliation")},
	}
}

// report streams an export. The export runs in a goroutine writing into a
// pipe that fasthttp reads as the response body (chunked): memory stays
// flat, and the response starts only once the export has written its first
// bytes, so a refusal before that (a bad parameter, a PDF over its limit)
// is an ordinary problem+json answer. A failure after that aborts the
// transfer (no final chunk: the client sees an incomplete download, never
// a silently short file). When the client goes away, fasthttp's write
// fails and it closes the body, which cancels the export's context and its
// query. The export's context is not the request's (that one ends when the
// handler returns) but carries the same actor, bounded by ExportTimeout.
func (s *Server) report(name string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		rs := s.deps.Reports
		if rs == nil {
			return fiscal.Errorf(fiscal.EUNAVAILABLE, "reports are not available")
		}
		req := fiscal.ReportRequest{Name: name, Format: strings.Clone(c.Query("format")), Group: strings.Clone(c.Query("group"))}
		var fields []fiscal.FieldError
		for _, p := range []struct {
			key string
			dst *civil.Date
		}{{"from", &req.From}, {"to", &req.To}, {"as_of", &req.AsOf}} {
			if q := c.Query(p.key); q != "" {
				d, err := civil.Parse(q)
				if err != nil {
					fields = append(fields, fiscal.FieldError{Field: p.key, Message: "must be a date YYYY-MM-DD"})
				}
				*p.dst = d
			}
		}
		if len(fields) > 0 {
			return fiscal.Invalid(fields...)
		}
		filename, ctype, err := rs.ReportFile(&req)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.UserContext()), s.cfg.ExportTimeout)
		pr, pw := io.Pipe()
		started := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			_, err := rs.ExportReport(ctx, req, &firstWrite{w: pw, started: started})
			if err != nil {
				s.log.Warn("report export stopped", "report", req.Name, "format", req.Format, "err", err)
				pw.CloseWithError(err)
			} else {
				pw.Close()
			}
			done <- err
		}()
		select {
		case <-started:
		case err := <-done:
			if err != nil {
				cancel()
				return err
			}
		}
		c.Set(fiber.HeaderContentType, ctype)
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+filename+`"`)
		c.Set(fiber.HeaderCacheControl, "no-store")
		c.Context().SetBodyStream(&exportBody{pr: pr, cancel: cancel}, -1)
		return nil
	}
}

// firstWrite closes started before the first write reaches w.
type firstWrite struct {
	w       io.Writer
	started chan struct{}
	once    sync.Once
}

func (f *firstWrite) Write(p []byte) (int, error) {
	f.once.Do(func() { close(f.started) })
	return f.w.Write(p)
}

// exportBody is the response body: fasthttp closes it when the response
// is written or the connection failed, which stops the export.
type exportBody struct {
	pr     *io.PipeReader
	cancel context.CancelFunc
}

func (b *exportBody) Read(p []byte) (int, error) { return b.pr.Read(p) }

func (b *exportBody) Close() error {
	b.cancel()
	return b.pr.Close()
}

// StreamReport streams the export name with the request's query parameters
// (from, to, as_of, group, format), as GET /api/v1/reports/{name} does; the
// portal's reports page calls it so that both doors stream the same way.
// The actor must be in c.UserContext().
func (s *Server) StreamReport(c *fiber.Ctx, name string) error { return s.report(name)(c) }
