package fiscal

import (
	"strings"
	"unicode/utf8"
)

// IsBidiControl reports whether r is a bidirectional formatting character
// (embeddings and overrides U+202A-U+202E, isolates U+2066-U+2069, the marks
// U+200E, U+200F and U+061C). In a name they make the text shown differ
// from the text stored ("Ion\u202Efdp.exe" shows as "Ionexe.pdf"): names
// refuse them (the web's "nobidi" rule), file names lose them
// (CleanFilename).
func IsBidiControl(r rune) bool {
	switch {
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x200E, r == 0x200F, r == 0x061C:
		return true
	}
	return false
}

// HasBidiControl reports whether s holds a bidirectional formatting character.
func HasBidiControl(s string) bool { return strings.IndexFunc(s, IsBidiControl) >= 0 }

// MaxFilenameBytes bounds a stored file name.
const MaxFilenameBytes = 200

// CleanFilename is an uploaded file's name as it is stored and shown:
// without bidirectional formatting and control characters (neutralised,
// not refused: the name is only a label), invalid UTF-8 replaced, cut to
// MaxFilenameBytes on a character boundary.
func CleanFilename(name string) string {
	name = strings.ToValidUTF8(name, "\uFFFD")
	name = strings.Map(func(r rune) rune {
		if IsBidiControl(r) || r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	for len(name) > MaxFilenameBytes {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return name
}
