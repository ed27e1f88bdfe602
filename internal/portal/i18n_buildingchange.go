package portal

// The messages of a building's change (the form, its type and documents),
// merged into messages at start.
var buildingChangeMessages = map[string]map[string]string{
	RO: {
		"declare_building_change.title":   "Modificarea unei clădiri",
		"declare.change.intro":            "Declarați extinderea clădirii sau schimbarea destinației ei în 30 de zile. Impozitul se calculează pe noile date de la 1 ianuarie al anului următor, pentru fiecare coproprietar.",
		"declare.change.extension":        "Extindere: noua suprafață a întregii clădiri",
		"declare.change.area.hint":        "Completați suprafața utilă sau pe cea construită, după extindere.",
		"declare.change.use":              "Schimbarea destinației",
		"declare.change.parts.hint":       "Pentru destinația mixtă, suprafața utilă a fiecărei părți.",
		"declare.change.effective.hint":   "Data procesului-verbal de recepție sau a finalizării lucrărilor.",
		"data.change":                     "Ce s-a schimbat",
		"opt.extension":                   "Extindere",
		"opt.change_of_use":               "Schimbarea destinației",
		"opt.mixed":                       "Mixtă",
		"data.parts.residential":          "Partea rezidențială: suprafața utilă (m²)",
		"data.parts.non_residential":      "Partea nerezidențială: suprafața utilă (m²)",
		"data.effective_on":               "Data modificării",
		"data.change_document":            "Documentul care o dovedește",
		"opt.proces_verbal_receptie":      "Procesul-verbal de recepție",
		"opt.building_permit":             "Autorizația de construire",
		"doc.building_permit":             "Autorizația de construire",
		"doc.building_permit.hint":        "Necesară dacă ați ales-o mai sus.",
		"doc.proces_verbal_receptie":      "Procesul-verbal de recepție",
		"doc.proces_verbal_receptie.hint": "Necesar dacă l-ați ales mai sus.",
		"casetype.building_change":        "Modificarea unei clădiri",
		"account.property.change":         "Declar o modificare",
	},
	EN: {
		"declare_building_change.title":   "A change of a building",
		"declare.change.intro":            "Declare an extension of the building or a change of its use within 30 days. The tax is computed on the new data from 1 January of the next year, for every co-owner.",
		"declare.change.extension":        "Extension: the new area of the whole building",
		"declare.change.area.hint":        "Give the usable or the built area after the extension.",
		"declare.change.use":              "Change of use",
		"declare.change.parts.hint":       "For a mixed use, the usable area of each part.",
		"declare.change.effective.hint":   "The date of the acceptance report or of the end of the works.",
		"data.change":                     "What changed",
		"opt.extension":                   "Extension",
		"opt.change_of_use":               "Change of use",
		"opt.mixed":                       "Mixed",
		"data.parts.residential":          "Residential part: usable area (m²)",
		"data.parts.non_residential":      "Non-residential part: usable area (m²)",
		"data.effective_on":               "Date of the change",
		"data.change_document":            "The document proving it",
		"opt.proces_verbal_receptie":      "The acceptance report (proces-verbal de recepție)",
		"opt.building_permit":             "The building permit",
		"doc.building_permit":             "Building permit",
		"doc.building_permit.hint":        "Needed if you chose it above.",
		"doc.proces_verbal_receptie":      "Acceptance report (proces-verbal de recepție)",
		"doc.proces_verbal_receptie.hint": "Needed if you chose it above.",
		"casetype.building_change":        "Change of a building",
		"account.property.change":         "Declare a change",
	},
}

func init() {
	for lang, m := range buildingChangeMessages {
		for k, v := range m {
			if _, dup := messages[lang][k]; dup {
				panic("portal: message key defined twice: " + k)
			}
			messages[lang][k] = v
		}
	}
}
