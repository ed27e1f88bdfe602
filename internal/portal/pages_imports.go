package portal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"mime/multipart"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
	"fiscald/internal/importer"
	"fiscald/internal/web"
)

// The administrator's import page (issue 20, "Taking over a running
// municipality"): a CSV or XLSX export of the old system, kind by kind,
// checked as a dry run first and then imported for real. It calls the same
// fiscal.ImportService as POST /api/v1/admin/imports, GET .../imports/:id
// and .../errors.csv; the portal only reads the form and shows the reports.
//
// A dry run's file is kept on the server (Config.ImportDir, named by the
// municipality and the dry run's id, never by anything the browser sends)
// so that "import for real" runs the very file that was checked: the run
// checks the kept file's SHA-256 against the dry run's. A kept file older
// than importKeep, or gone (another instance, a restart with a temporary
// folder), is asked for again, and the file chosen must be the same one
// (same SHA-256).

// importKeep is how long a dry run's file is kept for the real run.
const importKeep = 24 * time.Hour

// importShownErrors is how many rejected rows the report page lists; the
// CSV has them all.
const importShownErrors = 100

// importListed is how many past imports the page lists.
const importListed = 50

func (p *Portal) importPages() []page {
	if p.deps.Imports == nil {
		return nil
	}
	return []page{
		{Method: "GET", Path: "/admin/imports", Access: adminOnly, Nav: "nav.imports", NavOrder: 33, Handler: p.importsPage},
		{Method: "POST", Path: "/admin/imports", Access: adminOnly, Handler: p.startImport},
		{Method: "GET", Path: "/admin/imports/:id", Access: adminOnly, Handler: p.importPage},
		{Method: "GET", Path: "/admin/imports/:id/errors.csv", Access: adminOnly, Handler: p.importErrorsCSV},
		{Method: "POST", Path: "/admin/imports/:id/run", Access: adminOnly, Handler: p.runImport},
	}
}

// importKind is a kind of the form with the columns its file must have.
type importKind struct {
	Name    string
	Columns string
	Checked bool
}

type importsData struct {
	FormID   string
	Kinds    []importKind
	MaxBytes int64
	MaxSize  string
	Imports  []fiscal.ImportSummary
}

// sizeText writes a size limit: whole MiB as "10 MiB", else as view.Size.
func sizeText(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return strconv.FormatInt(n>>20, 10) + " MiB"
	}
	return (&view{}).Size(n)
}

func (p *Portal) importMaxBytes() int64 {
	if p.cfg.ImportMaxBytes > 0 {
		return p.cfg.ImportMaxBytes
	}
	return DefaultImportMaxBytes
}

func (p *Portal) importsPage(c *fiber.Ctx, v *view) error {
	v.Form = map[string]string{"kind": importer.Kinds()[0], "dry_run": "true", "form_id": newFormID()}
	return p.renderImports(c, v, fiber.StatusOK)
}

func (p *Portal) renderImports(c *fiber.Ctx, v *view, status int) error {
	list, err := p.deps.Imports.Imports(c.UserContext(), importListed)
	if err != nil {
		return err
	}
	d := importsData{FormID: v.Form["form_id"], MaxBytes: p.importMaxBytes(), MaxSize: sizeText(p.importMaxBytes()), Imports: list}
	for _, k := range importer.Kinds() {
		d.Kinds = append(d.Kinds, importKind{Name: k, Columns: strings.Join(importer.Columns(k), ", "), Checked: k == v.Form["kind"]})
	}
	return p.render(c.Status(status), v, "imports", d)
}

// startImport checks or imports the uploaded file and shows its report.
func (p *Portal) startImport(c *fiber.Ctx, v *view) error {
	v.Form = formValues(c, "kind", "dry_run")
	v.Form["form_id"] = formID(c)
	dry := v.Form["dry_run"] == "true"
	kind := v.Form["kind"]
	var fields []fiscal.FieldError
	if !contains(importer.Kinds(), kind) {
		fields = append(fields, fiscal.FieldError{Field: "kind", Message: "must be one of " + strings.Join(importer.Kinds(), ", ")})
	}
	fh, ferr := c.FormFile("file")
	var err error
	switch {
	case ferr != nil:
		fields = append(fields, fiscal.FieldError{Field: "file", Message: "is required"})
	case fh.Size == 0:
		fields = append(fields, fiscal.FieldError{Field: "file", Message: "the file is empty"})
	case fh.Size > p.importMaxBytes():
		err = tooLarge()
	}
	if err == nil && len(fields) > 0 {
		err = fiscal.Invalid(fields...)
	}
	var id int64
	if err == nil {
		id, err = p.importOnce(c, v, func(ctx context.Context) (*fiscal.ImportResult, error) {
			return p.importUpload(ctx, kind, fh, dry)
		})
	}
	if err != nil {
		return p.importFailed(c, v, err, func(status int) error { return p.renderImports(c, v, status) })
	}
	return p.importDone(c, id, dry)
}

// importUpload runs the service on an uploaded file and, for a dry run,
// keeps the file for the real run.
func (p *Portal) importUpload(ctx context.Context, kind string, fh *multipart.FileHeader, dry bool) (*fiscal.ImportResult, error) {
	f, err := fh.Open()
	if err != nil {
		return nil, fiscal.Internal(err, "upload")
	}
	defer f.Close()
	res, err := p.deps.Imports.Import(ctx, kind, fiscal.ImportFile{Name: strings.Clone(fh.Filename), Data: f, Size: fh.Size}, dry)
	if err != nil || !dry {
		return res, err
	}
	if a := fiscal.ActorFrom(ctx); a != nil {
		if kerr := p.keepImportFile(a.MunicipalityID, res.ID, f, fh.Size); kerr != nil {
			// The real run then asks for the file again.
			p.log.Warn("portal: the dry run's file was not kept", "import", res.ID, "err", kerr.Error())
		}
	}
	return res, nil
}

// importDone sends the browser to the report.
func (p *Portal) importDone(c *fiber.Ctx, id int64, dry bool) error {
	if dry {
		p.setFlash(c, "imports.checked")
	} else {
		p.setFlash(c, "imports.imported.done")
	}
	return c.Redirect("/admin/imports/"+strconv.FormatInt(id, 10), fiber.StatusSeeOther)
}

// importFailed shows a refused file next to its field (render draws the
// form again with status), or returns another error for the error page.
func (p *Portal) importFailed(c *fiber.Ctx, v *view, err error, render func(status int) error) error {
	fe, ok := formErrors(v.Lang, err)
	if !ok {
		return err
	}
	if m, has := fe["file"]; has {
		fe["file"] = importFileMessage(v.Lang, err, m, p.importMaxBytes())
	}
	v.Errors = fe
	return render(web.HTTPStatus(err))
}

// tooLarge refuses a file over the portal's limit.
func tooLarge() error {
	return &fiscal.Error{Code: fiscal.ETOOLARGE, Message: "the file is too large",
		Fields: []fiscal.FieldError{{Field: "file", Message: "too large"}}}
}

// importOnce runs an import under the form's one-time id (formonce.go):
// the import's first transaction claims it, so a form sent twice (a double
// click, the browser sending it again) runs one import, and the second
// answer leads to its report.
func (p *Portal) importOnce(c *fiber.Ctx, v *view, run func(ctx context.Context) (*fiscal.ImportResult, error)) (int64, error) {
	ctx := c.UserContext()
	claim := p.formClaim(c, v)
	if claim == nil {
		res, err := run(ctx)
		if err != nil {
			return 0, err
		}
		return res.ID, nil
	}
	if done, ok, err := p.formReplay(ctx, claim); ok || err != nil {
		return done, replayedImport(done, err)
	}
	res, err := run(fiscal.WithIdempotencyClaim(ctx, claim))
	if fiscal.ErrorCode(err) == fiscal.ECONFLICT && claim.ID == 0 {
		// Two sendings at once: the other one claimed the id first.
		if done, ok, ferr := p.formReplay(ctx, claim); ok || ferr != nil {
			return done, replayedImport(done, ferr)
		}
	}
	var reply []byte
	switch {
	case err == nil:
		reply = []byte(strconv.FormatInt(res.ID, 10))
	case claim.ID != 0:
		// The import started and then failed: the id is spent; the form
		// comes back with a new one.
		reply = []byte("0")
		v.Form["form_id"] = newFormID()
	default:
		return 0, err
	}
	if ferr := p.deps.Idempotency.FinishIdempotencyKey(context.WithoutCancel(ctx), claim.ID, fiber.StatusSeeOther, "text/plain", reply); ferr != nil {
		p.log.Warn("portal: the import's form was not recorded", "err", ferr.Error())
	}
	if err != nil {
		return 0, err
	}
	return res.ID, nil
}

// replayedImport is the answer to a form sent again: its import's report,
// or, when that import failed, a request to open the page again.
func replayedImport(id int64, err error) error {
	if err == nil && id == 0 {
		return formFailed()
	}
	return err
}

type importReportData struct {
	Summary *fiscal.ImportSummary
	Report  *fiscal.ImportResult
	Errors  []fiscal.ImportError
	// Kept says the dry run's file is still on the server: the real run
	// needs no upload.
	Kept     bool
	FormID   string
	MaxBytes int64
	MaxSize  string
}

func (p *Portal) importPage(c *fiber.Ctx, v *view) error {
	id, err := pathInt(c, "id")
	if err != nil {
		return err
	}
	v.Form = map[string]string{"form_id": newFormID()}
	return p.renderImport(c, v, id, fiber.StatusOK)
}

func (p *Portal) renderImport(c *fiber.Ctx, v *view, id int64, status int) error {
	ctx := c.UserContext()
	sum, err := p.deps.Imports.ImportSummary(ctx, id)
	if err != nil {
		return err
	}
	rep, err := p.deps.Imports.ImportReport(ctx, id)
	if err != nil {
		return err
	}
	d := importReportData{Summary: sum, Report: rep, Errors: rep.Errors, FormID: v.Form["form_id"], MaxBytes: p.importMaxBytes(), MaxSize: sizeText(p.importMaxBytes())}
	if len(d.Errors) > importShownErrors {
		d.Errors = d.Errors[:importShownErrors]
	}
	for i := range d.Errors {
		d.Errors[i].Message = fieldMessage(v.Lang, fiscal.FieldError{Field: d.Errors[i].Field, Message: d.Errors[i].Message})
	}
	if sum.DryRun && sum.FinishedAt != nil {
		if f, err := p.openKeptImport(v.Actor.MunicipalityID, sum); err == nil {
			f.Close()
			d.Kept = true
		}
	}
	v.Title = v.T("import.title", sum.ID)
	return p.render(c.Status(status), v, "import", d)
}

// importErrorsCSV downloads every rejected row of an import (the API's
// errors.csv, from the same service).
func (p *Portal) importErrorsCSV(c *fiber.Ctx, v *view) error {
	id, err := pathInt(c, "id")
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := p.deps.Imports.ImportErrors(c.UserContext(), id, &buf); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	web.SetDownloadHeaders(c, "import-"+strconv.FormatInt(id, 10)+"-errors.csv")
	return c.Send(buf.Bytes())
}

// runImport imports for real the file of a finished dry run: the kept
// file, or the one uploaded again (which must be the same file).
func (p *Portal) runImport(c *fiber.Ctx, v *view) error {
	id, err := pathInt(c, "id")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	sum, err := p.deps.Imports.ImportSummary(ctx, id)
	if err != nil {
		return err
	}
	if !sum.DryRun || sum.FinishedAt == nil {
		return fiscal.Errorf(fiscal.ECONFLICT, "only a finished dry run is imported for real from its report")
	}
	v.Form = map[string]string{"form_id": formID(c)}
	fh, ferr := c.FormFile("file")
	uploaded := ferr == nil && fh.Size > 0
	switch {
	case uploaded && fh.Size > p.importMaxBytes():
		err = tooLarge()
	case uploaded:
		err = sameFile(fh, sum.FileSHA256)
	}
	var newID int64
	if err == nil {
		newID, err = p.importOnce(c, v, func(ctx context.Context) (*fiscal.ImportResult, error) {
			if uploaded {
				return p.importUpload(ctx, sum.Kind, fh, false)
			}
			f, err := p.openKeptImport(v.Actor.MunicipalityID, sum)
			if err != nil {
				return nil, fiscal.InvalidField("file", "the checked file is no longer kept: choose it again")
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				return nil, fiscal.Internal(err, "kept import file")
			}
			return p.deps.Imports.Import(ctx, sum.Kind, fiscal.ImportFile{Name: sum.FileName, Data: f, Size: st.Size()}, false)
		})
	}
	if err != nil {
		return p.importFailed(c, v, err, func(status int) error { return p.renderImport(c, v, id, status) })
	}
	p.dropKeptImport(v.Actor.MunicipalityID, sum.ID)
	return p.importDone(c, newID, false)
}

// sameFile checks that an uploaded file is the dry run's (its SHA-256).
func sameFile(fh *multipart.FileHeader, sha string) error {
	f, err := fh.Open()
	if err != nil {
		return fiscal.Internal(err, "upload")
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fiscal.Internal(err, "upload")
	}
	if hex.EncodeToString(h.Sum(nil)) != sha {
		return fiscal.InvalidField("file", "is not the file of the dry run: choose the same file, or check the new one with a dry run first")
	}
	return nil
}

// Kept files.

var importDirOnce struct {
	sync.Mutex
	dir string
}

// importDir is Config.ImportDir, or a folder of its own under the system's
// temporary folder, made on first use (0700).
func (p *Portal) importDir() (string, error) {
	if p.cfg.ImportDir != "" {
		return p.cfg.ImportDir, os.MkdirAll(p.cfg.ImportDir, 0o700)
	}
	importDirOnce.Lock()
	defer importDirOnce.Unlock()
	if importDirOnce.dir == "" {
		d, err := os.MkdirTemp("", "fiscald-imports-")
		if err != nil {
			return "", err
		}
		importDirOnce.dir = d
	}
	return importDirOnce.dir, nil
}

// keptName is a kept file's name: numbers only, from the server's records.
func keptName(municipalityID, importID int64) string {
	return strconv.FormatInt(municipalityID, 10) + "-" + strconv.FormatInt(importID, 10) + ".upload"
}

// keepImportFile copies a dry run's file into the import folder (written
// to a temporary name, then renamed: a reader never sees half a file), and
// removes the kept files older than importKeep.
func (p *Portal) keepImportFile(municipalityID, importID int64, r io.ReaderAt, size int64) error {
	dir, err := p.importDir()
	if err != nil {
		return err
	}
	p.sweepKeptImports(dir)
	tmp, err := os.CreateTemp(dir, "incoming-*")
	if err != nil {
		return err
	}
	_, err = io.Copy(tmp, io.NewSectionReader(r, 0, size))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, keptName(municipalityID, importID)))
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// openKeptImport opens a finished dry run's kept file when it is still
// within importKeep of the dry run and has the dry run's SHA-256.
func (p *Portal) openKeptImport(municipalityID int64, sum *fiscal.ImportSummary) (*os.File, error) {
	if p.deps.Clock.Now().Sub(sum.StartedAt) > importKeep {
		return nil, fs.ErrNotExist
	}
	dir, err := p.importDir()
	if err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(dir, keptName(municipalityID, sum.ID)))
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil || hex.EncodeToString(h.Sum(nil)) != sum.FileSHA256 {
		f.Close()
		return nil, errors.New("the kept file is not the dry run's")
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func (p *Portal) dropKeptImport(municipalityID, importID int64) {
	if dir, err := p.importDir(); err == nil {
		os.Remove(filepath.Join(dir, keptName(municipalityID, importID)))
	}
}

// sweepKeptImports removes the kept files (and abandoned partial ones)
// older than importKeep. Their age is the file system's (wall clock): this
// is housekeeping of the folder, not a rule of the domain.
func (p *Portal) sweepKeptImports(dir string) {
	es, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range es {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		if time.Since(info.ModTime()) > importKeep {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// Messages.

// importFileRules translate the importer's messages about a whole file.
var importFileRules = []struct {
	re  *regexp.Regexp
	key string
}{
	{regexp.MustCompile(`^the file is empty: a header row is required \((.*)\)$`), "imports.err.no_header"},
	{regexp.MustCompile(`^the file is empty$`), "imports.err.empty"},
	{regexp.MustCompile(`^line (\d+) is not UTF-8`), "imports.err.utf8"},
	{regexp.MustCompile(`^wrong header for (\w+) \((.*)\): the columns are (.*)$`), "imports.err.header"},
	{regexp.MustCompile(`^cell (\S+) of (\S+) holds a formula`), "imports.err.formula"},
	{regexp.MustCompile(`^not a readable XLSX workbook`), "imports.err.xlsx"},
	{regexp.MustCompile(`^the workbook has no worksheet$`), "imports.err.xlsx"},
	{regexp.MustCompile(`^is not the file of the dry run`), "imports.err.not_same"},
	{regexp.MustCompile(`^the checked file is no longer kept`), "imports.err.not_kept"},
	{regexp.MustCompile(`^is required$`), "imports.err.required"},
}

// importFileMessage is the file field's error in lang: too large, not CSV
// or XLSX, a wrong header...; a message it does not know stays as is.
func importFileMessage(lang string, err error, msg string, maxBytes int64) string {
	if fiscal.ErrorCode(err) == fiscal.ETOOLARGE {
		return translate(lang, "imports.err.too_large", sizeText(maxBytes))
	}
	raw := msg
	var de *fiscal.Error
	if errors.As(err, &de) {
		for _, f := range de.Fields {
			if f.Field == "file" {
				raw = f.Message
				break
			}
		}
	}
	for _, r := range importFileRules {
		m := r.re.FindStringSubmatch(raw)
		if m == nil {
			continue
		}
		args := make([]any, len(m)-1)
		for i, a := range m[1:] {
			args[i] = a
		}
		if r.key == "imports.err.header" && lang == RO {
			args[1] = strings.NewReplacer("missing ", "lipsesc ", "unknown ", "necunoscute ", "repeated ", "repetate ").Replace(m[2])
		}
		return translate(lang, r.key, args...)
	}
	return msg
}
