package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
)

// Text that a person sends is refused at decoding (422 naming the field)
// when it holds a C0 control character other than TAB — and, in bodies,
// where text may span lines, LF and CR — or bytes that are not UTF-8.
// PostgreSQL refuses NUL and invalid UTF-8 in text (an error, so a 500)
// while SQLite stores them: checking here, before any use case runs, gives
// the same answer on both engines, and every route and portal form gets it.

// textProblem says what is wrong with s as field text, or "" when nothing.
func textProblem(s string, multiline bool) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 || c == '\t' || (multiline && (c == '\n' || c == '\r')) {
			continue
		}
		if multiline {
			return "must not contain control characters (other than tab and line breaks)"
		}
		return "must not contain control characters (other than tab)"
	}
	if !utf8.ValidString(s) {
		return "must be valid UTF-8 text"
	}
	return ""
}

// CheckText returns an EINVALID error naming field when value holds a
// control character (LF and CR are allowed when multiline) or is not UTF-8
// (see textProblem); the portal checks its form fields with it.
func CheckText(field, value string, multiline bool) error {
	if msg := textProblem(value, multiline); msg != "" {
		return fiscal.InvalidField(printableName(field), msg)
	}
	return nil
}

// printableName makes a field name taken from the request safe to echo.
func printableName(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '\uFFFD'
		}
		return r
	}, s)
}

// checkParams refuses control characters in the query string (single-line
// text: only TAB allowed) and the path parameters of every route.
func checkParams(c *fiber.Ctx) error {
	var bad error
	c.Request().URI().QueryArgs().VisitAll(func(k, v []byte) {
		if bad == nil {
			if bad = CheckText(string(k), string(k), false); bad == nil {
				bad = CheckText(string(k), string(v), false)
			}
		}
	})
	if bad != nil {
		return bad
	}
	for _, name := range c.Route().Params {
		if err := CheckText(name, c.Params(name), false); err != nil {
			return err
		}
	}
	return c.Next()
}

// checkJSONText finds the first JSON string (key or value) of body that
// holds a control character other than TAB, LF and CR, and names its path.
// Control characters reach a JSON string only as escapes (raw ones are
// malformed JSON), so a body without a backslash is not walked.
func checkJSONText(body []byte) error {
	if bytes.IndexByte(body, '\\') < 0 {
		return nil
	}
	var v any
	if json.Unmarshal(body, &v) != nil {
		return nil // the decoder reports malformed JSON
	}
	var found error
	walkJSON(v, "", func(path string, x any, isKey bool) bool {
		if str, ok := x.(string); ok {
			found = CheckText(path, str, !isKey)
		}
		return found != nil
	})
	return found
}

// walkJSON visits a decoded JSON value in a fixed order (object keys
// sorted), each object key (isKey, its path) before its value, and every
// value that is not an object or array with its path ("a.b[2].c"); it stops
// when visit returns true, and reports whether it stopped.
func walkJSON(v any, path string, visit func(path string, v any, isKey bool) bool) bool {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if visit(p, k, true) || walkJSON(x[k], p, visit) {
				return true
			}
		}
	case []any:
		for i, e := range x {
			if walkJSON(e, fmt.Sprintf("%s[%d]", path, i), visit) {
				return true
			}
		}
	default:
		return visit(path, x, false)
	}
	return false
}
