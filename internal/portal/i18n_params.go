package portal

import "regexp"

// The catalog of the parameter coverage, council decision and draft pages
// (pages_params.go), merged into messages at start like casesMessages.
var paramsMessages = map[string]map[string]string{
	RO: {
		"paramnav.label": "Pagini despre parametrii fiscali",

		"coverage.title":           "Acoperirea parametrilor",
		"coverage.intro":           "Fiecare valoare de care calculul are nevoie într-un an, pe tipuri de bunuri: cea din lege (națională), cea hotărâtă de consiliul local sau lipsa ei. O valoare lipsă blochează calculul obiectelor care au nevoie de ea; introduceți-o cu hotărârea consiliului.",
		"coverage.summary":         "În %d: %d valori configurate, %d lipsă.",
		"coverage.kind.general":    "Generale",
		"coverage.kind.vehicle":    "Mijloace de transport",
		"coverage.kind.building":   "Clădiri",
		"coverage.kind.land":       "Terenuri",
		"coverage.status":          "Stare",
		"coverage.status.national": "din lege (națională)",
		"coverage.status.council":  "hotărâtă de consiliul local",
		"coverage.status.missing":  "lipsă",
		"coverage.range":           "Intervalul legii",
		"coverage.enter":           "Introduceți valoarea",
		"coverage.decision":        "HCL %s din %s",

		"decisions.title":     "Hotărârile consiliului local",
		"decisions.intro":     "Valorile pe care legea le lasă consiliului local (în intervalul ei, sau fără valoare națională: camioane, remorci, ambarcațiuni), fiecare cu hotărârea care le-a adoptat.",
		"decisions.inforce":   "Hotărâri cu valori în vigoare în %d",
		"decisions.none":      "Nicio hotărâre introdusă pentru acest an.",
		"decisions.new":       "Introduceți o hotărâre",
		"decisions.new.intro": "Toate valorile hotărârii deodată: se salvează toate sau niciuna. O valoare în afara intervalului legii este refuzată.",
		"decisions.row":       "Valoarea %d",
		"decisions.submit":    "Salvează hotărârea",
		"decisions.added":     "Hotărârea a fost salvată; valorile ei se aplică imediat.",

		"drafts.title":          "Parametrii anului următor",
		"drafts.intro":          "Valorile anului următor calculate din cele ale acestui an după art. 491 din Codul fiscal: sumele indexate cu rata inflației, sumele pentru camioane după cursul euro, sumele exceptate de lege păstrate. Verificați diferențele, corectați o linie dacă e nevoie și adoptați proiectul sub hotărârea consiliului.",
		"drafts.list":           "Proiecte",
		"drafts.none":           "Niciun proiect încă.",
		"drafts.item":           "%d din %d (inflație %s %%)",
		"drafts.status.draft":   "proiect",
		"drafts.status.adopted": "adoptat",
		"drafts.new":            "Proiect nou",
		"drafts.from_year":      "Din anul",
		"drafts.to_year":        "Pentru anul",
		"drafts.inflation":      "Rata inflației (%)",
		"drafts.inflation.hint": "Publicată de Ministerul Finanțelor, de exemplu 5,6.",
		"drafts.eur":            "Cursul euro (lei)",
		"drafts.eur.hint":       "Cursul BNR din prima zi lucrătoare a lunii octombrie, pentru camioane și autotrenuri; fără el, sumele lor rămân neschimbate.",
		"drafts.decision.hint":  "Hotărârea consiliului care va adopta valorile, de exemplu 123/2026.",
		"drafts.submit":         "Calculează proiectul",
		"drafts.created":        "Proiectul a fost calculat. Verificați diferențele.",
		"drafts.corrected":      "Linia a fost corectată.",
		"drafts.adopted":        "Proiectul a fost adoptat; valorile se aplică de la 1 ianuarie.",
		"draft.title":           "Parametrii anului %d, din %d",
		"draft.status":          "Stare",
		"draft.diff":            "Diferențe %d – %d",
		"draft.diff.intro":      "Fiecare parametru cu valoarea de acum, cea propusă, diferența, regula aplicată și temeiul legal. Liniile schimbate sunt îngroșate.",
		"draft.difference":      "Diferența",
		"draft.rule":            "Regula",
		"draft.rule.indexed":    "indexată cu inflația",
		"draft.rule.excluded":   "exceptată de la indexare",
		"draft.rule.euro_rate":  "după cursul euro",
		"draft.rule.unchanged":  "neschimbată",
		"draft.correct":         "Corectați o linie",
		"draft.correct.intro":   "Valoarea nouă trebuie să rămână în intervalul legii, indexat la fel. Limitele intervalelor urmează valorile lor și nu se corectează.",
		"draft.to_value":        "Valoarea nouă",
		"draft.correct.submit":  "Corectează",
		"draft.adopt":           "Adoptare",
		"draft.adopt.intro":     "Toate valorile proiectului se aplică de la 1 ianuarie %d, sub HCL %s.",
		"draft.adopt.submit":    "Adoptă proiectul",
		"draft.adopted":         "Proiect adoptat: valorile se aplică de la 1 ianuarie %d.",
		"err.draft_closed":      "Proiectul a fost deja adoptat și nu se mai poate schimba.",
		"err.draft_adopt":       "Proiectul nu a putut fi adoptat: %s",
		"err.outside_range":     "%s este în afara intervalului %s din %s pentru %s: introduceți o valoare între %s și %s.",
		"err.outside_draft":     "%s este în afara intervalului %s din %s pentru %s.",
		"err.year":              "Introduceți un an între 2000 și 2100.",
	},
	EN: {
		"paramnav.label": "Tax parameter pages",

		"coverage.title":           "Parameter coverage",
		"coverage.intro":           "Every value the engine needs in a year, by kind of object: the law's (national), the local council's, or none. A missing value stops the computation of the objects that need it; enter it with the council's decision.",
		"coverage.summary":         "In %d: %d values configured, %d missing.",
		"coverage.kind.general":    "General",
		"coverage.kind.vehicle":    "Vehicles",
		"coverage.kind.building":   "Buildings",
		"coverage.kind.land":       "Land",
		"coverage.status":          "Status",
		"coverage.status.national": "the law's (national)",
		"coverage.status.council":  "set by the local council",
		"coverage.status.missing":  "missing",
		"coverage.range":           "The law's range",
		"coverage.enter":           "Enter the value",
		"coverage.decision":        "HCL %s of %s",

		"decisions.title":     "Local council decisions",
		"decisions.intro":     "The values the law leaves to the local council (inside its range, or with no national figure: trucks, trailers, boats), each with the decision that adopted it.",
		"decisions.inforce":   "Decisions with values in force in %d",
		"decisions.none":      "No decision entered for this year.",
		"decisions.new":       "Enter a decision",
		"decisions.new.intro": "All of the decision's values at once: all are saved or none. A value outside the law's range is refused.",
		"decisions.row":       "Value %d",
		"decisions.submit":    "Save the decision",
		"decisions.added":     "The decision was saved; its values apply at once.",

		"drafts.title":          "Next year's parameters",
		"drafts.intro":          "Next year's values computed from this year's by art. 491 of the Fiscal Code: amounts indexed by the inflation rate, truck amounts by the euro rate, amounts the law excluded kept. Check the differences, correct a line if needed and adopt the draft under the council's decision.",
		"drafts.list":           "Drafts",
		"drafts.none":           "No draft yet.",
		"drafts.item":           "%d from %d (inflation %s %%)",
		"drafts.status.draft":   "draft",
		"drafts.status.adopted": "adopted",
		"drafts.new":            "New draft",
		"drafts.from_year":      "From year",
		"drafts.to_year":        "For year",
		"drafts.inflation":      "Inflation rate (%)",
		"drafts.inflation.hint": "As published by the Ministry of Finance, e.g. 5.6.",
		"drafts.eur":            "Euro rate (lei)",
		"drafts.eur.hint":       "The NBR rate of the first working day of October, for trucks and road trains; without it their amounts stay unchanged.",
		"drafts.decision.hint":  "The council decision that will adopt the values, e.g. 123/2026.",
		"drafts.submit":         "Compute the draft",
		"drafts.created":        "The draft was computed. Check the differences.",
		"drafts.corrected":      "The line was corrected.",
		"drafts.adopted":        "The draft was adopted; its values apply from 1 January.",
		"draft.title":           "Parameters of %d, from %d",
		"draft.status":          "Status",
		"draft.diff":            "Differences %d – %d",
		"draft.diff.intro":      "Each parameter with its current value, the proposed one, the difference, the rule applied and the legal basis. Changed lines are in bold.",
		"draft.difference":      "Difference",
		"draft.rule":            "Rule",
		"draft.rule.indexed":    "indexed by inflation",
		"draft.rule.excluded":   "excluded from indexation",
		"draft.rule.euro_rate":  "by the euro rate",
		"draft.rule.unchanged":  "unchanged",
		"draft.correct":         "Correct a line",
		"draft.correct.intro":   "The new value must stay inside the law's range, indexed alike. The bounds of ranges follow their values and cannot be corrected.",
		"draft.to_value":        "New value",
		"draft.correct.submit":  "Correct",
		"draft.adopt":           "Adoption",
		"draft.adopt.intro":     "Every value of the draft applies from 1 January %d, under HCL %s.",
		"draft.adopt.submit":    "Adopt the draft",
		"draft.adopted":         "Draft adopted: its values apply from 1 January %d.",
		"err.draft_closed":      "The draft was already adopted and can no longer change.",
		"err.draft_adopt":       "The draft could not be adopted: %s",
		"err.outside_range":     "%s is outside the range %s of %s for %s: enter a value from %s to %s.",
		"err.outside_draft":     "%s is outside the range %s of %s for %s.",
		"err.year":              "Enter a year from 2000 to 2100.",
	},
}

// paramsFieldRules translate the parameter pages' server messages (calc.CheckRange's
// and the draft's range refusals); tried before the general rules.
var paramsFieldRules = []struct {
	re  *regexp.Regexp
	key string
}{
	{regexp.MustCompile(`^(\S+) is outside the range (\S+) of (.+) for (\d+): enter a value from (\S+) to (\S+)$`), "err.outside_range"},
	{regexp.MustCompile(`^(\S+) is outside the range (\S+) of (.+) for (\d+)$`), "err.outside_draft"},
	{regexp.MustCompile(`^must be a year from 2000 to 2100$`), "err.year"},
}

func init() {
	for lang, m := range paramsMessages {
		for k, v := range m {
			if _, dup := messages[lang][k]; dup {
				panic("portal: message key defined twice: " + k)
			}
			messages[lang][k] = v
		}
	}
	fieldRules = append(paramsFieldRules, fieldRules...)
}
