package portal

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/money"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// bucharest is the zone instants are shown in.
var bucharest = func() *time.Location {
	l, err := time.LoadLocation("Europe/Bucharest")
	if err != nil {
		return time.UTC
	}
	return l
}()

// staticPrefix is where the embedded assets are served.
const staticPrefix = "/static/"

// view is what every template receives: the request's language, user,
// municipality, CSRF token and navigation, and the page's own Data.
type view struct {
	Lang      string
	OtherLang string
	LangHref  string
	Title     string
	Path      string
	Actor     *fiscal.Actor
	Muni      *fiscal.Municipality
	CSRF      string
	Flash     string
	Nav       []navItem
	// Data is the page's own data.
	Data any
	// Errors are the translated field errors by input name (a JSON path).
	Errors map[string]string
	// Form holds the submitted values, to fill the form again.
	Form map[string]string
	// Assets are the fingerprinted URLs of the stylesheet and the script.
	CSS, JS string
	// Objects name taxed objects by id (a vehicle's plate) in debt tables.
	Objects map[int64]string
	// Properties name buildings and land by "building/<id>", "land/<id>"
	// (their cadastral number) in debt tables.
	Properties map[string]string
	// Scripts are a page's own extra scripts (the card page's Stripe.js).
	Scripts []string
	// Decisions date the council decisions the page's explanation lines
	// cite ("HCL 123/2026" → its date; see Basis in basis.go).
	Decisions map[string]civil.Date

	sessionToken string
	// labels are the published request types' titles and field labels in
	// the page's language ("casetype.<type>", "data.<field>"), for the pages
	// that show cases.
	labels map[string]string
}

// T translates a catalog key into the page's language; the titles and
// labels of the municipality's published request types come first
// (v.labels, pages_requests.go).
func (v *view) T(key string, args ...any) string {
	if l, ok := v.labels[key]; ok {
		return l
	}
	return translate(v.Lang, key, args...)
}

// Date formats a civil date in the page's language.
func (v *view) Date(d civil.Date) string { return formatDate(v.Lang, d) }

// StepName names a step of a case's route: the shipped steps (review,
// sign) in the page's language, a municipality's steps as their
// definitions name them.
func (v *view) StepName(name string) string {
	if t := translate(v.Lang, "step."+name); t != "step."+name {
		return t
	}
	return name
}

// Money formats an amount in the page's language.
func (v *view) Money(b money.Bani) string { return formatMoney(v.Lang, b) }

// MoneyText formats an amount given as the API's decimal string ("198.00").
func (v *view) MoneyText(s string) string {
	b, err := money.Parse(s)
	if err != nil {
		return s
	}
	return formatMoney(v.Lang, b)
}

// Instant formats an instant as the date and time in Romania.
func (v *view) Instant(t time.Time) string {
	l := t.In(bucharest)
	return formatDate(v.Lang, civil.Of(l)) + ", " + l.Format("15:04")
}

// Civil is the date of an instant in Romania.
func (v *view) Civil(t time.Time) civil.Date { return civil.Of(t.In(bucharest)) }

// EventBody is a timeline line's text in the page's language: documents by
// their title, decisions by their label, then the comment as written.
func (v *view) EventBody(kind, body string) string {
	switch kind {
	case "attachment_added":
		return v.T("doc." + body)
	case "submitted":
		var titles []string
		for _, k := range strings.Fields(body) {
			k, _, _ = strings.Cut(k, ":")
			titles = append(titles, v.T("doc."+k))
		}
		return strings.Join(titles, ", ")
	case "review", "sign":
		decision, comment, _ := strings.Cut(body, " ")
		label := v.T("decision." + kind + "." + decision)
		if strings.HasPrefix(label, "decision.") {
			return body
		}
		if comment != "" {
			return label + " — " + comment
		}
		return label
	case "substitute", "substitute_queue":
		return v.absenceBody(body)
	}
	return body
}

// The timeline lines of an absence (internal/store/substitutions.go), in
// English in the API, in the page's language here.
var (
	absenceMoved    = regexp.MustCompile(`^reassigned to (.+), substitute for (.+) \(absent (\d{4}-\d{2}-\d{2}) – (\d{4}-\d{2}-\d{2})\)$`)
	absenceQueued   = regexp.MustCompile(`^returned to the queue: (.+) is absent \((\d{4}-\d{2}-\d{2}) – (\d{4}-\d{2}-\d{2})\) and their substitute (.+) may not take the step (.+)$`)
	absenceDisabled = regexp.MustCompile(`^returned to the queue: (.+) is absent \((\d{4}-\d{2}-\d{2}) – (\d{4}-\d{2}-\d{2})\) and their substitute (.+) is disabled$`)
)

func (v *view) absenceBody(body string) string {
	date := func(s string) string { d, _ := civil.Parse(s); return v.Date(d) }
	if m := absenceMoved.FindStringSubmatch(body); m != nil {
		return v.T("event.substitute.body", m[1], m[2], date(m[3]), date(m[4]))
	}
	if m := absenceQueued.FindStringSubmatch(body); m != nil {
		return v.T("event.substitute_queue.step", m[1], date(m[2]), date(m[3]), m[4], m[5])
	}
	if m := absenceDisabled.FindStringSubmatch(body); m != nil {
		return v.T("event.substitute_queue.disabled", m[1], date(m[2]), date(m[3]), m[4])
	}
	return body
}

// Object names a taxed object (its plate), or "#id".
func (v *view) Object(id int64) string {
	if s, ok := v.Objects[id]; ok {
		return s
	}
	return "#" + strconv.FormatInt(id, 10)
}

// Property names a building or plot of a debt (its cadastral number), or
// "#id".
func (v *view) Property(taxType string, id int64) string {
	if s, ok := v.Properties[taxType+"/"+strconv.FormatInt(id, 10)]; ok {
		return s
	}
	return "#" + strconv.FormatInt(id, 10)
}

// Size formats a file size.
func (v *view) Size(n int64) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
	case n >= 1<<10:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " B"
}

// Val is the submitted value of a form input ("" when none).
func (v *view) Val(name string) string { return v.Form[name] }

// newView reads the language, the session and the municipality of a request.
func (p *Portal) newView(c *fiber.Ctx, pg page) (*view, error) {
	v := &view{Lang: RO, Path: strings.Clone(c.Path()), CSS: assets.url("portal.css"), JS: assets.url("portal.js")}
	// The language switch is a GET link that sets a cookie: sent twice, it
	// sets the same language, so it needs no one-time id (formonce.go).
	switch q := c.Query("lang"); q {
	case RO, EN:
		v.Lang = q
		p.setCookie(c, langCookie, q, p.deps.Clock.Now().Add(365*24*time.Hour), fiber.CookieSameSiteLaxMode)
	default:
		if ck := c.Cookies(langCookie); ck == EN {
			v.Lang = EN
		}
	}
	v.OtherLang = EN
	if v.Lang == EN {
		v.OtherLang = RO
	}
	q := url.Values{}
	c.Request().URI().QueryArgs().VisitAll(func(k, val []byte) { q.Add(string(k), string(val)) })
	q.Set("lang", v.OtherLang)
	v.LangHref = v.Path + "?" + q.Encode()
	if c.Method() == fiber.MethodPost {
		// After a POST the switch reloads the page, not the submission.
		v.LangHref = v.Path + "?lang=" + v.OtherLang
	}
	actor, token, err := p.sessionActor(c)
	if err != nil {
		return nil, err
	}
	if actor != nil {
		c.SetUserContext(fiscal.WithActor(c.UserContext(), actor))
	}
	v.Actor, v.sessionToken = actor, token
	if p.api != nil {
		m, err := p.api.Municipality(c, "")
		if err == nil {
			v.Muni = m
		} else if fiscal.ErrorCode(err) != fiscal.ENOTFOUND {
			return nil, err
		}
	}
	if v.Muni == nil {
		v.Muni = &fiscal.Municipality{}
	}
	v.CSRF = p.csrfToken(p.csrfSeed(c), token)
	v.Flash = p.takeFlash(c)
	return v, nil
}

// render executes the page template name with data into the layout.
func (p *Portal) render(c *fiber.Ctx, v *view, name string, data any) error {
	t, ok := p.tmpl.pages[name]
	if !ok {
		return fiscal.Internal(fmt.Errorf("no template %q", name), "template")
	}
	v.Data = data
	v.Nav = p.nav(v)
	if v.Title == "" {
		v.Title = v.T(name + ".title")
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return fiscal.Internal(err, "render "+name)
	}
	c.Type("html", "utf-8")
	return c.Send(buf.Bytes())
}

// templates are the parsed page templates, each with the layout and the
// shared components.
type templates struct {
	pages map[string]*template.Template
}

func mustParseTemplates() *templates {
	base := template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/_*.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	t := &templates{pages: map[string]*template.Template{}}
	for _, n := range names {
		file := path.Base(n)
		if strings.HasPrefix(file, "_") {
			continue
		}
		pt := template.Must(template.Must(base.Clone()).ParseFS(templateFS, n))
		t.pages[strings.TrimSuffix(file, ".html")] = pt
	}
	return t
}

// field is the data of the "field" component: one labelled input with its
// hint and its error, tied together by ids for screen readers.
type field struct {
	V            *view
	Name, ID     string
	Label, Hint  string
	Type         string
	Value        string
	Error        string
	Required     bool
	Autocomplete string
	Inputmode    string
	Options      []option
}

type option struct {
	Value, Label string
	Selected     bool
}

// fieldOf builds a component from name, label key and options written as
// "type=number", "auto=username", "hint=key", "mode=numeric", "opts=a,b,c",
// "req".
func fieldOf(v *view, name, labelKey string, opts ...string) field {
	f := field{V: v, Name: name, ID: fieldID(name), Label: v.T(labelKey), Type: "text",
		Value: v.Form[name], Error: v.Errors[name]}
	for _, o := range opts {
		k, val, _ := strings.Cut(o, "=")
		switch k {
		case "type":
			f.Type = val
		case "auto":
			f.Autocomplete = val
		case "hint":
			f.Hint = v.T(val)
		case "mode":
			f.Inputmode = val
		case "req":
			f.Required = true
		case "opts":
			for _, ov := range strings.Split(val, ",") {
				label := ov
				if ov == "" {
					label = v.T("opt.choose")
				} else if tr := v.T("opt." + ov); tr != "opt."+ov {
					label = tr
				}
				f.Options = append(f.Options, option{Value: ov, Label: label, Selected: ov == f.Value})
			}
		}
	}
	return f
}

// fileField is the data of the "file" component: a document's file input.
type fileField struct {
	V *view
	docInput
	Name, ID string
}

func fileOf(v *view, d docInput) fileField {
	name := "doc." + d.Kind
	return fileField{V: v, docInput: d, Name: name, ID: fieldID(name)}
}

// pairOf passes the view and a value to a sub-template.
type pairOf struct {
	V *view
	X any
}

// fieldWithOptions is a select whose options the handler built.
func fieldWithOptions(v *view, name, labelKey string, opts []option) field {
	f := fieldOf(v, name, labelKey)
	f.Options = opts
	return f
}

// fieldValue is a field of one of several forms on a page: key is
// "<form>.<input>" (its id and the key of its value and error), the input's
// name is the part after the dot; the last of rest is the default value,
// the others are fieldOf's options.
func fieldValue(v *view, key, labelKey string, rest ...string) field {
	def := ""
	if len(rest) > 0 {
		def, rest = rest[len(rest)-1], rest[:len(rest)-1]
	}
	if v.Form[key] == "" {
		if v.Form == nil {
			v.Form = map[string]string{}
		}
		v.Form[key] = def
	}
	f := fieldOf(v, key, labelKey, rest...)
	_, f.Name, _ = strings.Cut(key, ".")
	return f
}

var funcs = template.FuncMap{
	"fieldval":  fieldValue,
	"fieldopts": fieldWithOptions,
	"pair":      func(v *view, x any) pairOf { return pairOf{v, x} },
	"file":      fileOf,
	"field":     fieldOf,
	"fid":       fieldID,
	"errid":     func(id string) string { return id + "-error" },
	"join":      strings.Join,
	"deref":     func(d *civil.Date) civil.Date { return *d },
	"deref64":   func(p *int64) int64 { return *p },
	"str": func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	},
}

// fieldID is the id of the input named name ("taxpayer.cnp" → "f-taxpayer-cnp").
func fieldID(name string) string {
	return "f-" + strings.NewReplacer(".", "-", "_", "-").Replace(name)
}

// asset is one embedded static file.
type asset struct {
	body        []byte
	contentType string
	hash        string
}

type assetSet map[string]*asset

// assets are the embedded static files, fingerprinted at start.
var assets = func() assetSet {
	set := assetSet{}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		set[strings.TrimPrefix(p, "static/")] = &asset{body: b, contentType: ct, hash: hex.EncodeToString(sum[:6])}
		return nil
	})
	if err != nil {
		panic(err)
	}
	return set
}()

// url is the fingerprinted URL of an asset (cached for a year).
func (s assetSet) url(name string) string {
	a, ok := s[name]
	if !ok {
		return staticPrefix + name
	}
	return staticPrefix + name + "?v=" + a.hash
}

func (p *Portal) static(c *fiber.Ctx) error {
	a, ok := assets[c.Params("*")]
	if !ok {
		return fiscal.Errorf(fiscal.ENOTFOUND, "no such file")
	}
	c.Set(fiber.HeaderContentType, a.contentType)
	c.Set(fiber.HeaderETag, `"`+a.hash+`"`)
	if c.Query("v") == a.hash {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	}
	if c.Get(fiber.HeaderIfNoneMatch) == `"`+a.hash+`"` {
		return c.SendStatus(fiber.StatusNotModified)
	}
	return c.Send(a.body)
}
