package portal

// The catalog of the sign-in with the national identity provider, merged
// into messages at start (same keys in both languages).
var oidcMessages = map[string]map[string]string{
	RO: {
		"oidc.button":           "Intră cu ROeID",
		"oidc.or":               "sau cu numele de utilizator și parola:",
		"oidc.hint":             "Cu ROeID, identitatea dumneavoastră este verificată și vedeți datoriile și plățile din evidența fiscală.",
		"oidc.failed.title":     "Autentificarea cu ROeID nu a reușit",
		"oidc.failed.nosession": "Nu sunteți autentificat. Nicio sesiune nu a fost deschisă.",
		"oidc.check":            "Verificarea care nu a trecut: %s.",
		"oidc.retry":            "Încercați din nou cu ROeID",
		"oidc.password":         "Autentificare cu parolă",
		"oidc.err.provider":     "Furnizorul de identitate a refuzat autentificarea (%s).",
		"oidc.err.incomplete":   "Răspunsul furnizorului de identitate este incomplet.",
		"oidc.err.browser":      "Autentificarea a fost începută în alt browser sau a expirat. Începeți-o din nou de aici.",
		"oidc.err.state":        "Această autentificare a fost deja folosită sau a expirat. Începeți-o din nou.",
		"oidc.err.token":        "Răspunsul furnizorului de identitate nu a putut fi verificat.",
		"oidc.err.nocnp":        "Furnizorul de identitate nu a transmis codul numeric personal (CNP).",
		"oidc.err.badcnp":       "Codul numeric personal (CNP) transmis de furnizorul de identitate nu este valid.",
		"oidc.err.unavailable":  "Furnizorul de identitate nu răspunde acum. Încercați mai târziu.",
		"oidc.err.disabled":     "Contul dumneavoastră este dezactivat. Contactați direcția fiscală.",
		"oidc.err.conflict":     "Datele furnizorului de identitate nu corespund contului existent. Contactați direcția fiscală.",
		"account.notverified":   "Contul dumneavoastră nu este verificat pentru evidența fiscală: puteți depune cereri și le vedeți aici, dar datoriile, plățile și documentele se văd după autentificarea cu ROeID sau înrolarea cu un cod primit de la direcția fiscală.",
	},
	EN: {
		"oidc.button":           "Sign in with ROeID",
		"oidc.or":               "or with your username and password:",
		"oidc.hint":             "With ROeID your identity is verified and you see the debts and payments of your fiscal record.",
		"oidc.failed.title":     "Signing in with ROeID failed",
		"oidc.failed.nosession": "You are not signed in. No session was opened.",
		"oidc.check":            "The check that failed: %s.",
		"oidc.retry":            "Try again with ROeID",
		"oidc.password":         "Sign in with a password",
		"oidc.err.provider":     "The identity provider refused the sign-in (%s).",
		"oidc.err.incomplete":   "The identity provider's answer is incomplete.",
		"oidc.err.browser":      "The sign-in was started in another browser or has expired. Start it again from here.",
		"oidc.err.state":        "This sign-in was used already or has expired. Start it again.",
		"oidc.err.token":        "The identity provider's answer could not be verified.",
		"oidc.err.nocnp":        "The identity provider did not send the personal numeric code (CNP).",
		"oidc.err.badcnp":       "The personal numeric code (CNP) the identity provider sent is not valid.",
		"oidc.err.unavailable":  "The identity provider does not answer right now. Try again later.",
		"oidc.err.disabled":     "Your account is disabled. Contact the fiscal department.",
		"oidc.err.conflict":     "The identity provider's data do not match the existing account. Contact the fiscal department.",
		"account.notverified":   "Your account is not verified for the fiscal record: you may file requests and see them here, but the debts, payments and documents are shown after signing in with ROeID or enrolling with a code from the fiscal department.",
	},
}

func init() {
	for lang, m := range oidcMessages {
		for k, v := range m {
			if _, dup := messages[lang][k]; dup {
				panic("portal: message key defined twice: " + k)
			}
			messages[lang][k] = v
		}
	}
}
