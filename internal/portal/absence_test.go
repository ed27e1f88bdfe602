package portal

import "testing"

// TestAbsenceEventBody: the timeline lines of an absence, written in English
// by the store, read in the page's language.
func TestAbsenceEventBody(t *testing.T) {
	ro, en := &view{Lang: RO}, &view{Lang: EN}
	for _, tc := range []struct {
		kind, body string
		ro, en     string
	}{
		{"substitute", "reassigned to signer1, substitute for officer1 (absent 2026-05-11 – 2026-05-15)",
			"reatribuită lui signer1, înlocuitor pentru officer1 (absent 11 mai 2026 – 15 mai 2026)",
			"reassigned to signer1, substitute for officer1 (absent 11 May 2026 – 15 May 2026)"},
		{"substitute_queue", "returned to the queue: officer1 is absent (2026-05-11 – 2026-05-15) and their substitute signer1 may not take the step opinions.urbanism",
			"officer1 este absent (11 mai 2026 – 15 mai 2026), iar înlocuitorul signer1 nu poate prelua pasul opinions.urbanism",
			"officer1 is absent (11 May 2026 – 15 May 2026) and their substitute signer1 may not take the step opinions.urbanism"},
		{"substitute_queue", "returned to the queue: officer1 is absent (2026-05-11 – 2026-05-15) and their substitute signer1 is disabled",
			"officer1 este absent (11 mai 2026 – 15 mai 2026), iar contul înlocuitorului signer1 este dezactivat",
			"officer1 is absent (11 May 2026 – 15 May 2026) and their substitute signer1 is disabled"},
		{"substitute", "something else", "something else", "something else"},
	} {
		if got := ro.EventBody(tc.kind, tc.body); got != tc.ro {
			t.Errorf("ro: %q", got)
		}
		if got := en.EventBody(tc.kind, tc.body); got != tc.en {
			t.Errorf("en: %q", got)
		}
	}
	if ro.T("event.substitute") == "event.substitute" || en.T("event.substitute_queue") == "event.substitute_queue" {
		t.Error("event kinds untranslated")
	}
}
