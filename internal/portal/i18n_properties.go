package portal

// The catalog of buildings and land (the account page's section, the
// declarations' types and documents), merged into messages at start.
var propertiesMessages = map[string]map[string]string{
	RO: {
		"account.properties":                   "Clădirile și terenurile mele",
		"case.tp.properties":                   "Clădirile și terenurile contribuabilului",
		"case.tp.properties.none":              "Contribuabilul nu are clădiri sau terenuri în evidența fiscală.",
		"account.properties.none":              "Nu aveți clădiri sau terenuri în evidența fiscală.",
		"account.property.object":              "Bunul",
		"account.property.address":             "Adresă",
		"account.property.cadastral":           "Nr. cadastral",
		"account.property.share":               "Cota-parte",
		"account.property.coowners":            "Coproprietari",
		"account.property.tax":                 "Impozit %d pe cotă",
		"account.property.taxedfrom":           "Impozitat din %d",
		"account.property.disposed":            "Înstrăinat la %s",
		"account.property.building":            "Clădire %s, %s m²",
		"account.property.land":                "Teren %s, %s, %s m²",
		"account.property.use.residential":     "rezidențială",
		"account.property.use.non_residential": "nerezidențială",
		"account.property.use.mixed":           "cu destinație mixtă",
		"account.property.use.":                "",
		"account.property.loc.intravilan":      "intravilan",
		"account.property.loc.extravilan":      "extravilan",
		"account.property.loc.":                "",
		"account.property.cat.constructions":   "curți construcții",
		"account.property.cat.arable":          "arabil",
		"account.property.cat.pasture":         "pășune",
		"account.property.cat.hayfield":        "fâneață",
		"account.property.cat.vineyard":        "vie",
		"account.property.cat.orchard":         "livadă",
		"account.property.cat.forest":          "pădure",
		"account.property.cat.water":           "teren cu ape",
		"account.property.cat.roads":           "drumuri și căi ferate",
		"account.property.cat.unproductive":    "neproductiv",
		"account.property.cat.beach":           "plajă",
		"account.property.cat.":                "",
		"casetype.building_acquisition":        "Declarare clădire dobândită",
		"casetype.land_acquisition":            "Declarare teren dobândit",
		"casetype.building_disposal":           "Scoatere din evidență a unei clădiri",
		"casetype.land_disposal":               "Scoatere din evidență a unui teren",
		"doc.cadastral_extract":                "Extrasul de carte funciară",
		"doc.cadastral_extract.hint":           "Extrasul de carte funciară pentru informare sau documentația cadastrală.",
	},
	EN: {
		"account.properties":                   "My buildings and land",
		"case.tp.properties":                   "The taxpayer's buildings and land",
		"case.tp.properties.none":              "The taxpayer has no buildings or land in the fiscal record.",
		"account.properties.none":              "You have no buildings or land in the fiscal record.",
		"account.property.object":              "Property",
		"account.property.address":             "Address",
		"account.property.cadastral":           "Cadastral no.",
		"account.property.share":               "Share",
		"account.property.coowners":            "Co-owners",
		"account.property.tax":                 "%d tax on the share",
		"account.property.taxedfrom":           "Taxed from %d",
		"account.property.disposed":            "Disposed of on %s",
		"account.property.building":            "Building, %s, %s m²",
		"account.property.land":                "Land, %s, %s, %s m²",
		"account.property.use.residential":     "residential",
		"account.property.use.non_residential": "non-residential",
		"account.property.use.mixed":           "mixed use",
		"account.property.use.":                "",
		"account.property.loc.intravilan":      "intravilan",
		"account.property.loc.extravilan":      "extravilan",
		"account.property.loc.":                "",
		"account.property.cat.constructions":   "with buildings",
		"account.property.cat.arable":          "arable",
		"account.property.cat.pasture":         "pasture",
		"account.property.cat.hayfield":        "hayfield",
		"account.property.cat.vineyard":        "vineyard",
		"account.property.cat.orchard":         "orchard",
		"account.property.cat.forest":          "forest",
		"account.property.cat.water":           "under water",
		"account.property.cat.roads":           "roads and railways",
		"account.property.cat.unproductive":    "unproductive",
		"account.property.cat.beach":           "beach",
		"account.property.cat.":                "",
		"casetype.building_acquisition":        "Building acquired",
		"casetype.land_acquisition":            "Land acquired",
		"casetype.building_disposal":           "Building disposed of",
		"casetype.land_disposal":               "Land disposed of",
		"doc.cadastral_extract":                "Land book extract",
		"doc.cadastral_extract.hint":           "The land book extract or the cadastral documentation.",
	},
}

func init() {
	for lang, m := range propertiesMessages {
		for k, v := range m {
			if _, dup := messages[lang][k]; dup {
				panic("portal: message key defined twice: " + k)
			}
			messages[lang][k] = v
		}
	}
}
