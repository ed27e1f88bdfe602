package portal

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// Languages of the portal. Romanian is the default; English is the switch.
const (
	RO = "ro"
	EN = "en"
)

// messages is the catalog: one map per language, the same keys in each
// (TestCatalogComplete checks). Romanian uses ș and ț with the comma below
// (U+0219, U+021B), never the cedilla forms. A feature adds its keys here, in
// both maps, prefixed by its page name.
var messages = map[string]map[string]string{
	RO: {
		"site.name":         "Impozite și taxe locale",
		"site.skip":         "Salt la conținutul principal",
		"site.nav":          "Navigare principală",
		"site.lang.switch":  "English",
		"site.lang.label":   "Limba",
		"site.footer":       "Direcția Fiscală — serviciu public de impozite și taxe locale.",
		"site.footer.api":   "Descrierea API-ului (OpenAPI)",
		"site.signedin":     "Conectat ca %s",
		"nav.home":          "Acasă",
		"nav.calculator":    "Calculator",
		"nav.account":       "Contul meu",
		"nav.staff":         "Birou",
		"nav.login":         "Autentificare",
		"nav.register":      "Creare cont",
		"nav.logout":        "Ieșire",
		"home.title":        "Impozitele locale, online",
		"home.lead":         "Vedeți ce datorați pentru clădiri, teren și vehicule, declarați un vehicul cumpărat sau vândut, plătiți cu cardul și primiți certificatul fiscal fără drum la ghișeu.",
		"home.calc.title":   "Cât costă mașina mea pe an?",
		"home.calc.text":    "Calculați impozitul anual al unui vehicul sau al unei clădiri, cu termenele de plată și bonificația.",
		"home.calc.link":    "Deschide calculatorul",
		"home.account.text": "Contribuabilii își văd contul, vehiculele și cererile după autentificare.",
		"home.register":     "Creați un cont",
		"home.login":        "Autentificați-vă",
		"home.staff":        "Personalul direcției se autentifică tot aici.",

		"login.title":     "Autentificare",
		"login.username":  "Nume de utilizator",
		"login.password":  "Parola",
		"login.submit":    "Intră în cont",
		"login.failed":    "Numele de utilizator sau parola nu sunt corecte.",
		"login.noaccount": "Nu aveți cont?",

		"register.title":           "Creare cont de contribuabil",
		"register.intro":           "Câmpurile marcate cu * sunt obligatorii.",
		"register.kind":            "Tip de contribuabil",
		"register.kind.individual": "Persoană fizică",
		"register.kind.company":    "Persoană juridică",
		"register.account":         "Date de autentificare",
		"register.identity":        "Date de identificare",
		"register.username":        "Nume de utilizator",
		"register.username.hint":   "Între 3 și 64 de caractere, fără spații.",
		"register.password":        "Parola",
		"register.password.hint":   "Cel puțin 10 caractere.",
		"register.email":           "Adresa de e-mail",
		"register.name":            "Nume și prenume / denumire",
		"register.cnp":             "CNP (persoane fizice)",
		"register.cnp.hint":        "Codul numeric personal, 13 cifre.",
		"register.cui":             "CUI (persoane juridice)",
		"register.cui.hint":        "Codul unic de înregistrare, cu sau fără „RO”.",
		"register.address":         "Adresa de domiciliu / sediul",
		"register.phone":           "Telefon (opțional)",
		"register.submit":          "Creează contul",
		"register.haveaccount":     "Aveți deja cont?",

		"account.title":                "Contul meu",
		"account.created":              "Contul a fost creat. Bine ați venit!",
		"account.taxpayer":             "Date de contribuabil",
		"account.kind":                 "Tip",
		"account.name":                 "Nume",
		"account.cnp":                  "CNP",
		"account.cui":                  "CUI",
		"account.address":              "Adresă",
		"account.email":                "E-mail",
		"account.vehicles":             "Vehicule în evidența fiscală",
		"account.vehicles.none":        "Nu aveți vehicule înregistrate.",
		"account.vehicle.plate":        "Nr. înmatriculare",
		"account.vehicle.vin":          "Serie șasiu (VIN)",
		"account.vehicle.category":     "Categorie",
		"account.vehicle.cc":           "Cilindree (cm³)",
		"account.vehicle.euro":         "Normă de poluare",
		"account.vehicle.acquired":     "Dobândit la",
		"account.vehicle.taxed":        "Impozitat din anul",
		"account.vehicle.status":       "Stare",
		"account.vehicle.active":       "În evidență",
		"account.vehicle.deregistered": "Scos din evidență la %s",

		"staff.title":     "Biroul direcției fiscale",
		"staff.role":      "Rolul dumneavoastră: %s",
		"staff.links":     "Ce puteți face de aici",
		"staff.api":       "Descrierea completă a API-ului (OpenAPI)",
		"role.taxpayer":   "contribuabil",
		"role.officer":    "inspector fiscal",
		"role.signer":     "șef de serviciu (semnatar)",
		"role.accountant": "contabil",
		"role.admin":      "administrator",

		"calc.title":             "Calculator de impozit",
		"calc.intro":             "Estimați impozitul anual după regulile în vigoare în %s. Rezultatul nu este o decizie de impunere.",
		"calc.object":            "Ce doriți să calculați?",
		"calc.kind.vehicle":      "Vehicul",
		"calc.kind.building":     "Clădire",
		"calc.year":              "Anul fiscal",
		"calc.category":          "Categoria vehiculului",
		"calc.engine_cc":         "Capacitatea cilindrică (cm³)",
		"calc.engine_cc.hint":    "Câmpul P.1 din certificatul de înmatriculare.",
		"calc.emission_class":    "Norma de poluare (Euro)",
		"calc.propulsion":        "Propulsie",
		"calc.co2":               "Emisii CO₂ (g/km, doar hibride)",
		"calc.use":               "Destinația clădirii",
		"calc.construction":      "Tipul construcției",
		"calc.construction.hint": "A: beton armat sau cărămidă arsă; B: lemn, piatră, cărămidă nearsă.",
		"calc.utilities":         "Are instalații de apă, canalizare, electricitate și încălzire",
		"calc.usable_area":       "Suprafața utilă (m²)",
		"calc.zone":              "Zona din localitate",
		"calc.year_built":        "Anul construcției",
		"calc.submit":            "Calculează",
		"calc.result":            "Rezultat pentru %d",
		"calc.annual":            "Impozit anual",
		"calc.installments":      "Rate",
		"calc.due":               "Scadență",
		"calc.amount":            "Sumă",
		"calc.bonus":             "Bonificație pentru plata integrală până la %s: %s (plătiți %s).",
		"calc.nobonus":           "Nu se acordă bonificație pentru acest impozit.",
		"calc.lines":             "Cum s-a calculat",
		"calc.line":              "Element",
		"calc.basis":             "Temei legal",
		"calc.lines.lang":        "",

		"opt.car":             "Autoturism",
		"opt.motorcycle":      "Motocicletă, triciclu, cvadriciclu",
		"opt.bus":             "Autobuz, autocar, microbuz",
		"opt.light_goods":     "Alt vehicul cu masa până la 12 t",
		"opt.tractor":         "Tractor înmatriculat",
		"opt.truck":           "Vehicul de marfă de peste 12 t",
		"opt.trailer":         "Remorcă, semiremorcă",
		"opt.boat":            "Mijloc de transport pe apă",
		"opt.non_euro":        "Non-Euro",
		"opt.euro0":           "Euro 0",
		"opt.euro1":           "Euro 1",
		"opt.euro2":           "Euro 2",
		"opt.euro3":           "Euro 3",
		"opt.euro4":           "Euro 4",
		"opt.euro5":           "Euro 5",
		"opt.euro6":           "Euro 6",
		"opt.combustion":      "Motor cu ardere internă",
		"opt.hybrid":          "Hibrid",
		"opt.electric":        "Electric",
		"opt.residential":     "Rezidențială",
		"opt.non_residential": "Nerezidențială",
		"opt.individual":      "Persoană fizică",
		"opt.company":         "Persoană juridică",
		"opt.choose":          "Alegeți…",

		"form.errors":   "Formularul are erori. Corectați câmpurile de mai jos:",
		"form.required": "obligatoriu",
		"form.expired":  "Formularul a expirat sau nu provine de pe acest site. Reîncărcați pagina și încercați din nou.",

		"err.required":     "Completați acest câmp.",
		"err.email":        "Introduceți o adresă de e-mail validă, de forma nume@exemplu.ro.",
		"err.min_chars":    "Introduceți cel puțin %s.",
		"err.max_chars":    "Introduceți cel mult %s.",
		"err.amount_max":   "Introduceți cel mult %s lei (limita stabilită de primărie).",
		"err.ledger_max":   "Introduceți cel mult %s lei.",
		"err.control":      "Conține caractere de control nepermise.",
		"err.bidi":         "Conține caractere de formatare bidirecțională nepermise.",
		"err.chars":        "Conține caractere nepermise (de exemplu spații).",
		"err.number":       "Introduceți un număr.",
		"err.between":      "Introduceți o valoare între %s și %s.",
		"err.positive":     "Introduceți o valoare mai mare decât zero.",
		"err.taken":        "Acest nume de utilizator este deja folosit.",
		"err.registered":   "Există deja un contribuabil înregistrat cu acest cod.",
		"err.cnp":          "CNP invalid: %s.",
		"err.cui":          "CUI invalid: %s.",
		"err.missing_rate": "Nu există o cotă configurată pentru această situație în anul ales; direcția fiscală nu a stabilit-o încă.",
		"err.excluded":     "Nu completați acest câmp pentru tipul ales.",
		"err.oneof":        "Alegeți una dintre variantele din listă.",
		"err.pwd_common":   "Această parolă este printre cele mai folosite și se ghicește ușor; alegeți alta, de exemplu câteva cuvinte fără legătură între ele.",
		"err.pwd_personal": "Parola nu poate conține numele de utilizator, adresa de e-mail, CNP-ul sau CUI-ul.",
		"err.pwd_trivial":  "Parola nu poate fi un singur caracter repetat, un grup repetat sau o secvență simplă (abcdef, 123456, qwerty).",
		"reason.13digits":  "trebuie să aibă 13 cifre",
		"reason.sex":       "prima cifră (sexul și secolul) nu este validă",
		"reason.birth":     "data nașterii nu este validă",
		"reason.county":    "codul județului nu este valid",
		"reason.check":     "cifra de control nu se potrivește",
		"reason.cuidigits": "trebuie să aibă între 2 și 10 cifre",

		"error.title": "Eroare",
		"error.404":   "Pagina nu există.",
		"error.403":   "Nu aveți dreptul să deschideți această pagină.",
		"error.429":   "Prea multe încercări. Așteptați câteva minute și încercați din nou.",
		"error.500":   "A apărut o eroare internă. Încercați din nou mai târziu; dacă persistă, contactați direcția fiscală (cod: %s).",
		"error.503":   "Serviciul nu este disponibil acum.",
		"error.back":  "Înapoi la pagina principală",
	},
	EN: {
		"site.name":         "Local taxes",
		"site.skip":         "Skip to main content",
		"site.nav":          "Main navigation",
		"site.lang.switch":  "Română",
		"site.lang.label":   "Language",
		"site.footer":       "Fiscal Department — public service for local taxes.",
		"site.footer.api":   "API description (OpenAPI)",
		"site.signedin":     "Signed in as %s",
		"nav.home":          "Home",
		"nav.calculator":    "Calculator",
		"nav.account":       "My account",
		"nav.staff":         "Office",
		"nav.login":         "Sign in",
		"nav.register":      "Create an account",
		"nav.logout":        "Sign out",
		"home.title":        "Local taxes, online",
		"home.lead":         "See what you owe for buildings, land and vehicles, declare a vehicle you bought or sold, pay by card and get your fiscal certificate without queuing at the desk.",
		"home.calc.title":   "How much will my car cost per year?",
		"home.calc.text":    "Work out the annual tax of a vehicle or a building, with its due dates and the early-payment bonus.",
		"home.calc.link":    "Open the calculator",
		"home.account.text": "Taxpayers see their account, vehicles and requests after signing in.",
		"home.register":     "Create an account",
		"home.login":        "Sign in",
		"home.staff":        "Department staff sign in here too.",

		"login.title":     "Sign in",
		"login.username":  "Username",
		"login.password":  "Password",
		"login.submit":    "Sign in",
		"login.failed":    "The username or the password is not correct.",
		"login.noaccount": "No account yet?",

		"register.title":           "Create a taxpayer account",
		"register.intro":           "Fields marked * are required.",
		"register.kind":            "Kind of taxpayer",
		"register.kind.individual": "Individual",
		"register.kind.company":    "Company",
		"register.account":         "Sign-in details",
		"register.identity":        "Identification",
		"register.username":        "Username",
		"register.username.hint":   "3 to 64 characters, no spaces.",
		"register.password":        "Password",
		"register.password.hint":   "At least 10 characters.",
		"register.email":           "E-mail address",
		"register.name":            "Full name / company name",
		"register.cnp":             "CNP (individuals)",
		"register.cnp.hint":        "Personal numeric code, 13 digits.",
		"register.cui":             "CUI (companies)",
		"register.cui.hint":        "Fiscal registration code, with or without “RO”.",
		"register.address":         "Home address / registered office",
		"register.phone":           "Phone (optional)",
		"register.submit":          "Create the account",
		"register.haveaccount":     "Already have an account?",

		"account.title":                "My account",
		"account.created":              "Your account has been created. Welcome!",
		"account.taxpayer":             "Taxpayer details",
		"account.kind":                 "Kind",
		"account.name":                 "Name",
		"account.cnp":                  "CNP",
		"account.cui":                  "CUI",
		"account.address":              "Address",
		"account.email":                "E-mail",
		"account.vehicles":             "Vehicles in the fiscal record",
		"account.vehicles.none":        "You have no registered vehicles.",
		"account.vehicle.plate":        "Plate",
		"account.vehicle.vin":          "VIN",
		"account.vehicle.category":     "Category",
		"account.vehicle.cc":           "Engine (cm³)",
		"account.vehicle.euro":         "Emission class",
		"account.vehicle.acquired":     "Acquired on",
		"account.vehicle.taxed":        "Taxed from",
		"account.vehicle.status":       "Status",
		"account.vehicle.active":       "Registered",
		"account.vehicle.deregistered": "Deregistered on %s",

		"staff.title":     "Fiscal department office",
		"staff.role":      "Your role: %s",
		"staff.links":     "What you can do from here",
		"staff.api":       "The full API description (OpenAPI)",
		"role.taxpayer":   "taxpayer",
		"role.officer":    "fiscal officer",
		"role.signer":     "head of service (signer)",
		"role.accountant": "accountant",
		"role.admin":      "administrator",

		"calc.title":             "Tax calculator",
		"calc.intro":             "Estimate the annual tax under the rules in force in %s. The result is not a tax decision.",
		"calc.object":            "What do you want to calculate?",
		"calc.kind.vehicle":      "Vehicle",
		"calc.kind.building":     "Building",
		"calc.year":              "Tax year",
		"calc.category":          "Vehicle category",
		"calc.engine_cc":         "Engine capacity (cm³)",
		"calc.engine_cc.hint":    "Field P.1 of the registration certificate.",
		"calc.emission_class":    "Emission class (Euro)",
		"calc.propulsion":        "Propulsion",
		"calc.co2":               "CO₂ emissions (g/km, hybrids only)",
		"calc.use":               "Use of the building",
		"calc.construction":      "Construction type",
		"calc.construction.hint": "A: reinforced concrete or fired brick; B: wood, stone, unfired brick.",
		"calc.utilities":         "Has water, sewage, electricity and heating",
		"calc.usable_area":       "Usable area (m²)",
		"calc.zone":              "Zone within the locality",
		"calc.year_built":        "Year built",
		"calc.submit":            "Calculate",
		"calc.result":            "Result for %d",
		"calc.annual":            "Annual tax",
		"calc.installments":      "Instalments",
		"calc.due":               "Due date",
		"calc.amount":            "Amount",
		"calc.bonus":             "Bonus for paying in full by %s: %s (you pay %s).",
		"calc.nobonus":           "No bonus applies to this tax.",
		"calc.lines":             "How it was computed",
		"calc.line":              "Item",
		"calc.basis":             "Legal basis",
		"calc.lines.lang":        "The explanation is given in Romanian, the language of the law.",

		"opt.car":             "Car",
		"opt.motorcycle":      "Motorcycle, tricycle, quadricycle",
		"opt.bus":             "Bus, coach, minibus",
		"opt.light_goods":     "Other vehicle up to 12 t",
		"opt.tractor":         "Registered tractor",
		"opt.truck":           "Goods vehicle of 12 t or more",
		"opt.trailer":         "Trailer, semi-trailer",
		"opt.boat":            "Water vehicle",
		"opt.non_euro":        "Non-Euro",
		"opt.euro0":           "Euro 0",
		"opt.euro1":           "Euro 1",
		"opt.euro2":           "Euro 2",
		"opt.euro3":           "Euro 3",
		"opt.euro4":           "Euro 4",
		"opt.euro5":           "Euro 5",
		"opt.euro6":           "Euro 6",
		"opt.combustion":      "Combustion engine",
		"opt.hybrid":          "Hybrid",
		"opt.electric":        "Electric",
		"opt.residential":     "Residential",
		"opt.non_residential": "Non-residential",
		"opt.individual":      "Individual",
		"opt.company":         "Company",
		"opt.choose":          "Choose…",

		"form.errors":   "The form has errors. Please correct the fields below:",
		"form.required": "required",
		"form.expired":  "The form has expired or did not come from this site. Reload the page and try again.",

		"err.required":     "Fill in this field.",
		"err.email":        "Enter a valid e-mail address, like name@example.ro.",
		"err.min_chars":    "Enter at least %s.",
		"err.max_chars":    "Enter at most %s.",
		"err.amount_max":   "Enter at most %s lei (the municipality's limit).",
		"err.ledger_max":   "Enter at most %s lei.",
		"err.control":      "Contains control characters that are not allowed.",
		"err.bidi":         "Contains bidirectional formatting characters that are not allowed.",
		"err.chars":        "Contains characters that are not allowed (spaces, for example).",
		"err.number":       "Enter a number.",
		"err.between":      "Enter a value between %s and %s.",
		"err.positive":     "Enter a value greater than zero.",
		"err.taken":        "This username is already in use.",
		"err.registered":   "A taxpayer with this code is already registered.",
		"err.cnp":          "Invalid CNP: %s.",
		"err.cui":          "Invalid CUI: %s.",
		"err.missing_rate": "No rate is configured for this case in the chosen year; the fiscal department has not set it yet.",
		"err.excluded":     "Leave this field empty for the chosen kind.",
		"err.oneof":        "Choose one of the options in the list.",
		"err.pwd_common":   "This password is among the most used and is easily guessed; choose another, for example a few unrelated words.",
		"err.pwd_personal": "The password must not contain the username, the e-mail address, the CNP or the CUI.",
		"err.pwd_trivial":  "The password must not be one repeated character, a repeated group or a simple sequence (abcdef, 123456, qwerty).",
		"reason.13digits":  "it must have 13 digits",
		"reason.sex":       "the first digit (sex and century) is not valid",
		"reason.birth":     "the date of birth is not valid",
		"reason.county":    "the county code is not valid",
		"reason.check":     "the check digit does not match",
		"reason.cuidigits": "it must have 2 to 10 digits",

		"error.title": "Error",
		"error.404":   "This page does not exist.",
		"error.403":   "You may not open this page.",
		"error.429":   "Too many attempts. Wait a few minutes and try again.",
		"error.500":   "An internal error occurred. Try again later; if it persists, contact the fiscal department (code: %s).",
		"error.503":   "The service is not available right now.",
		"error.back":  "Back to the home page",
	},
}

var monthsRO = [...]string{"ianuarie", "februarie", "martie", "aprilie", "mai", "iunie", "iulie", "august", "septembrie", "octombrie", "noiembrie", "decembrie"}

// translate returns the message of key in lang, formatted with args; a key
// missing from the catalog is returned as is (tests catch it).
func translate(lang, key string, args ...any) string {
	m, ok := messages[lang][key]
	if !ok {
		m, ok = messages[RO][key]
		if !ok {
			return key
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(m, args...)
	}
	return m
}

// formatDate writes a date as "31 martie 2026" or "31 March 2026".
func formatDate(lang string, d civil.Date) string {
	if !d.IsValid() {
		return ""
	}
	if lang == RO {
		return fmt.Sprintf("%d %s %d", d.Day, monthsRO[d.Month-1], d.Year)
	}
	return fmt.Sprintf("%d %s %d", d.Day, time.Month(d.Month).String(), d.Year)
}

// formatMoney writes an amount as "1.151,80 lei" (RO) or "1,151.80 lei" (EN).
func formatMoney(lang string, b money.Bani) string {
	s := b.String() // "-1151.80"
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	sep, dec := ",", "."
	if lang == RO {
		sep, dec = ".", ","
	}
	var out []byte
	for i := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			out = append(out, sep...)
		}
		out = append(out, whole[i])
	}
	r := string(out) + dec + frac + " lei"
	if neg {
		r = "−" + r
	}
	return r
}

// fieldRule recognises the server's validation messages (internal/web's
// validator messages, the identity checks of fiscal, the store's conflicts,
// the engine's input errors) and gives the catalog key and its arguments.
var fieldRules = []struct {
	re  *regexp.Regexp
	key string
}{
	{regexp.MustCompile(`^` + regexp.QuoteMeta(fiscal.PasswordCommon) + `$`), "err.pwd_common"},
	{regexp.MustCompile(`^` + regexp.QuoteMeta(fiscal.PasswordPersonal) + `$`), "err.pwd_personal"},
	{regexp.MustCompile(`^` + regexp.QuoteMeta(fiscal.PasswordTrivial) + `$`), "err.pwd_trivial"},
	{regexp.MustCompile(`^is required`), "err.required"},
	{regexp.MustCompile(`required$`), "err.required"},
	{regexp.MustCompile(`^must be a valid e-mail address$`), "err.email"},
	{regexp.MustCompile(`^must have at least (\d+) characters$`), "err.min_chars"},
	{regexp.MustCompile(`^must have at most (\d+) characters$`), "err.max_chars"},
	{regexp.MustCompile(`^contains characters that are not allowed$`), "err.chars"},
	{regexp.MustCompile(`^must be a number$`), "err.number"},
	{regexp.MustCompile(`^must be at most (\S+) lei \(the municipality's limit`), "err.amount_max"},
	{regexp.MustCompile(`^must be at most (\S+) lei \(the ledger's limit\)$`), "err.ledger_max"},
	{regexp.MustCompile(`^must not contain control characters`), "err.control"},
	{regexp.MustCompile(`^must not contain bidirectional formatting characters`), "err.bidi"},
	{regexp.MustCompile(`^must be between (\S+) and (\S+)$`), "err.between"},
	{regexp.MustCompile(`^must be greater than zero$`), "err.positive"},
	{regexp.MustCompile(`^already taken$`), "err.taken"},
	{regexp.MustCompile(`^already registered$`), "err.registered"},
	{regexp.MustCompile(`^must not be given here$`), "err.excluded"},
	{regexp.MustCompile(`^must be one of`), "err.oneof"},
	{regexp.MustCompile(`^no rate configured`), "err.missing_rate"},
	{regexp.MustCompile(`^must be between (\S+) and (\S+)`), "err.between"},
}

var identityReasons = map[string]string{
	"must have 13 digits":        "reason.13digits",
	"invalid sex/century digit":  "reason.sex",
	"invalid birth date":         "reason.birth",
	"invalid county code":        "reason.county",
	"check digit does not match": "reason.check",
	"must have 2 to 10 digits":   "reason.cuidigits",
}

// fieldMessage translates one of the server's field errors into lang; a
// message it does not know is shown as the server wrote it.
func fieldMessage(lang string, fe fiscal.FieldError) string {
	msg := fe.Message
	for _, id := range []struct{ prefix, key string }{{"invalid CNP: ", "err.cnp"}, {"invalid CUI: ", "err.cui"}} {
		if reason, ok := strings.CutPrefix(msg, id.prefix); ok {
			if k, ok := identityReasons[reason]; ok {
				reason = translate(lang, k)
			}
			return translate(lang, id.key, reason)
		}
	}
	for _, r := range fieldRules {
		if m := r.re.FindStringSubmatch(msg); m != nil {
			args := make([]any, len(m)-1)
			for i, a := range m[1:] {
				args[i] = a
			}
			switch r.key {
			case "err.min_chars", "err.max_chars":
				args[0] = characters(lang, m[1])
			case "err.missing_rate":
				// Which rate is missing, as the engine says it.
				return translate(lang, r.key) + " (" + msg + ")"
			}
			return translate(lang, r.key, args...)
		}
	}
	return msg
}

// characters writes "10 caractere", "64 de caractere" (Romanian puts "de"
// before numbers from 20 whose last two digits are not 01-19) or
// "10 characters".
func characters(lang, n string) string {
	if lang != RO {
		return n + " characters"
	}
	if v, err := strconv.Atoi(n); err == nil && v >= 20 && (v%100 == 0 || v%100 >= 20) {
		return n + " de caractere"
	}
	return n + " caractere"
}

// atoiOr parses a form integer; "" gives def, anything else unparsable -1
// so that the validators report it.
func atoiOr(s string, def int) int {
	s = strings.TrimSpace(s)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}
