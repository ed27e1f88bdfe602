package web

import (
	"encoding/json"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"fiscald/calc"
)

// The tax quote is the busiest public endpoint; encoding its answer through
// encoding/json's reflection cost about as much as computing it. The
// encoder below writes the same bytes as json.Marshal(calc.Result) (field
// order, omitempty on Settlement, HTML-safe string escaping);
// TestQuoteJSONMatchesEncodingJSON compares the two on every field of the
// result, so a field added to calc.Result that this encoder does not write
// fails that test.

var quoteBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// sendQuote answers r as JSON.
func sendQuote(c *fiber.Ctx, r *calc.Result) error {
	bp := quoteBufs.Get().(*[]byte)
	b, ok := appendQuoteJSON((*bp)[:0], r)
	if !ok {
		quoteBufs.Put(bp)
		return c.JSON(r) // an invalid date: encoding/json's error
	}
	c.Response().SetBody(b) // copies
	c.Response().Header.SetContentType(fiber.MIMEApplicationJSON)
	*bp = b
	quoteBufs.Put(bp)
	return nil
}

// appendQuoteJSON appends r as json.Marshal writes it; false when r holds
// a date json.Marshal refuses.
func appendQuoteJSON(b []byte, r *calc.Result) ([]byte, bool) {
	b = append(b, `{"municipality":`...)
	b = appendJSONString(b, r.Municipality)
	b = append(b, `,"year":`...)
	b = strconv.AppendInt(b, int64(r.Year), 10)
	b = append(b, `,"tax_type":`...)
	b = appendJSONString(b, r.TaxType)
	b = append(b, `,"budget_code":`...)
	b = appendJSONString(b, r.BudgetCode)
	b = append(b, `,"annual_tax":`...)
	b = r.AnnualTax.AppendJSON(b)
	b = append(b, `,"installments":`...)
	if r.Installments == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, in := range r.Installments {
			if i > 0 {
				b = append(b, ',')
			}
			if !in.DueDate.IsValid() {
				return b, false
			}
			b = append(b, `{"due_date":`...)
			b = in.DueDate.AppendJSON(b)
			b = append(b, `,"amount":`...)
			b = in.Amount.AppendJSON(b)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"early_payment_bonus":`...)
	b = r.EarlyPaymentBonus.AppendJSON(b)
	if st := r.Settlement; st != nil {
		if !st.PaidOn.IsValid() {
			return b, false
		}
		b = append(b, `,"settlement":{"paid_on":`...)
		b = st.PaidOn.AppendJSON(b)
		b = append(b, `,"principal":`...)
		b = st.Principal.AppendJSON(b)
		b = append(b, `,"bonus":`...)
		b = st.Bonus.AppendJSON(b)
		b = append(b, `,"late_fees":`...)
		b = st.LateFees.AppendJSON(b)
		b = append(b, `,"total":`...)
		b = st.Total.AppendJSON(b)
		b = append(b, '}')
	}
	b = append(b, `,"lines":`...)
	if r.Lines == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, l := range r.Lines {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"label":`...)
			b = appendJSONString(b, l.Label)
			b = append(b, `,"legal_basis":`...)
			b = appendJSONString(b, l.LegalBasis)
			b = append(b, `,"amount":`...)
			b = l.Amount.AppendJSON(b)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}'), true
}

// appendJSONString appends s as a JSON string as encoding/json writes it.
// The labels are plain text (Romanian diacritics included), written as they
// are; a string needing escapes (quotes, control characters, <, >, &,
// U+2028/U+2029, invalid UTF-8) is left to encoding/json.
func appendJSONString(b []byte, s string) []byte {
	ascii := true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return appendJSONStringSlow(b, s)
		case c >= utf8.RuneSelf:
			ascii = false
			if c == 0xE2 && i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xA8 || s[i+2] == 0xA9) {
				return appendJSONStringSlow(b, s) // U+2028, U+2029
			}
		}
	}
	if !ascii && !utf8.ValidString(s) {
		return appendJSONStringSlow(b, s)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendJSONStringSlow(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}
