package fiscal

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCleanFilename(t *testing.T) {
	for in, want := range map[string]string{
		"contract\u202Efdp.exe":               "contractfdp.exe",
		"\u2066a\u2069\u200E\u200F\u061C.pdf": "a.pdf",
		"scan\x00\x07\t1.pdf":                 "scan1.pdf",
		"bad\xffutf8.pdf":                     "bad\uFFFDutf8.pdf",
		"carte de identitate ș.pdf":           "carte de identitate ș.pdf",
	} {
		if got := CleanFilename(in); got != want {
			t.Errorf("CleanFilename(%q) = %q, want %q", in, got, want)
		}
	}
	long := strings.Repeat("ș", 150) // 300 bytes
	got := CleanFilename(long)
	if len(got) > MaxFilenameBytes || !utf8.ValidString(got) || len(got) != 200 {
		t.Errorf("long name cut to %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
	if !HasBidiControl("a\u202Eb") || HasBidiControl("Ștefan Țurcanu") {
		t.Error("HasBidiControl")
	}
}
