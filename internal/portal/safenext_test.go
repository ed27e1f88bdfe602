package portal

import (
	"strings"
	"testing"
)

// TestSafeNext: only a path of this portal survives; every way of naming
// another site (or of hiding one from a naive prefix check) gives "".
func TestSafeNext(t *testing.T) {
	ok := []string{
		"/account",
		"/staff",
		"/cases/12?tab=documents",
		"/staff?status=open&sla_state=at_risk",
		"/cases/%C8%99", // a percent-encoded ș
		"/a/b/../c",
	}
	for _, next := range ok {
		if got := safeNext(next); got != next {
			t.Errorf("safeNext(%q) = %q, want it kept", next, got)
		}
	}
	hostile := []string{
		"",
		"account",
		"https://evil.example",
		"http://evil.example/account",
		"//evil.example",
		"///evil.example",
		"/\t/evil.example",     // the probe's: %2F%09%2Fevil.example
		"/\n/evil.example",     // line feed
		"/\r/evil.example",     // carriage return
		"/\x00/evil.example",   // NUL
		"/\x0b/evil.example",   // vertical tab
		"/\x7f/evil.example",   // DEL
		"/\u0085/evil.example", // next line (C1)
		"/\u00a0/evil.example", // no-break space
		"/\u2028/evil.example", // line separator
		"/\u200b/evil.example", // zero-width space (format)
		"/\u202e/evil.example", // right-to-left override
		"/\ufeff/evil.example", // byte order mark
		"/ /evil.example",      // space
		"/\\evil.example",      // backslash
		"/\\/evil.example",
		"\\/evil.example",
		"\\\\evil.example",
		"/%2Fevil.example", // an encoded slash after the first
		"/%2F%2Fevil.example",
		"/%09/evil.example", // an encoded tab
		"/%5Cevil.example",  // an encoded backslash
		"/%5C%5Cevil.example",
		"/%0d%0aSet-Cookie:x=1", // header injection
		"/%zz",                  // not a valid escape
		"/account#//evil.example",
		"javascript:alert(1)",
		"/javascript:alert(1)%0a",
		"data:text/html,<script>alert(1)</script>",
		" /account",
		"/account\x00",
		"/\xff\xfe",                     // not UTF-8
		"/" + strings.Repeat("a", 3000), // too long
	}
	for _, next := range hostile {
		if got := safeNext(next); got != "" {
			t.Errorf("safeNext(%q) = %q, want \"\"", next, got)
		}
	}
}
