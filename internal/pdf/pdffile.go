package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"unicode/utf16"
)

// pdfFile is the cross-reference of a PDF with classic xref tables (what
// fpdf writes and what the PAdES updates append): enough to copy and
// extend a few objects in an incremental update. It is not a general PDF
// reader.
type pdfFile struct {
	b         []byte
	offsets   map[int]int // object number → offset of its latest version
	size      int         // the trailer's /Size
	root      int         // the catalog's object number
	info      int         // the /Info dictionary's, 0 when none
	startxref int         // offset of the last xref section
	// sections are the xref sections, newest first.
	sections []xrefSection
}

type xrefSection struct {
	offset  int
	objects []int // objects in use this section defines
}

var (
	reStartxref = regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF\s*$`)
	reSubsect   = regexp.MustCompile(`^(\d+) (\d+)\s*$`)
	reTrailerN  = func(key string) *regexp.Regexp { return regexp.MustCompile(`/` + key + `\s+(\d+)(?:\s+0\s+R)?`) }
	reSize      = reTrailerN("Size")
	reRoot      = reTrailerN("Root")
	reInfo      = reTrailerN("Info")
	rePrev      = reTrailerN("Prev")
)

func parsePDF(b []byte) (*pdfFile, error) {
	tail := b
	if len(tail) > 1024 {
		tail = tail[len(tail)-1024:]
	}
	m := reStartxref.FindSubmatch(tail)
	if m == nil {
		return nil, errors.New("pdf: no startxref at the end")
	}
	start, _ := strconv.Atoi(string(m[1]))
	f := &pdfFile{b: b, offsets: map[int]int{}, startxref: start}
	seen := map[int]bool{}
	for off := start; ; {
		if off <= 0 || off >= len(b) || seen[off] {
			return nil, fmt.Errorf("pdf: bad xref offset %d", off)
		}
		seen[off] = true
		sec, trailer, err := f.readSection(off)
		if err != nil {
			return nil, err
		}
		f.sections = append(f.sections, sec)
		if f.size == 0 {
			f.size = atoiMatch(reSize, trailer)
			f.root = atoiMatch(reRoot, trailer)
			f.info = atoiMatch(reInfo, trailer)
		}
		prev := atoiMatch(rePrev, trailer)
		if prev == 0 {
			break
		}
		off = prev
	}
	if f.root == 0 || f.size == 0 {
		return nil, errors.New("pdf: the trailer lacks /Root or /Size")
	}
	return f, nil
}

func atoiMatch(re *regexp.Regexp, s []byte) int {
	m := re.FindSubmatch(s)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// readSection reads the xref table at off and its trailer dictionary.
func (f *pdfFile) readSection(off int) (xrefSection, []byte, error) {
	sec := xrefSection{offset: off}
	rest := f.b[off:]
	if !bytes.HasPrefix(rest, []byte("xref")) {
		return sec, nil, fmt.Errorf("pdf: no xref table at %d (cross-reference streams are not supported)", off)
	}
	t := bytes.Index(rest, []byte("trailer"))
	if t < 0 {
		return sec, nil, errors.New("pdf: no trailer")
	}
	lines := bytes.Split(bytes.ReplaceAll(rest[4:t], []byte("\r"), []byte("\n")), []byte("\n"))
	obj, left := 0, 0
	for _, l := range lines {
		l = bytes.TrimSpace(l)
		if len(l) == 0 {
			continue
		}
		if left == 0 {
			m := reSubsect.FindSubmatch(l)
			if m == nil {
				return sec, nil, fmt.Errorf("pdf: bad xref subsection %q", l)
			}
			obj, _ = strconv.Atoi(string(m[1]))
			left, _ = strconv.Atoi(string(m[2]))
			continue
		}
		fs := bytes.Fields(l)
		if len(fs) != 3 {
			return sec, nil, fmt.Errorf("pdf: bad xref entry %q", l)
		}
		if string(fs[2]) == "n" {
			o, _ := strconv.Atoi(string(fs[0]))
			if _, ok := f.offsets[obj]; !ok {
				f.offsets[obj] = o
			}
			sec.objects = append(sec.objects, obj)
		}
		obj++
		left--
	}
	end := bytes.Index(rest[t:], []byte("startxref"))
	if end < 0 {
		return sec, nil, errors.New("pdf: no startxref after the trailer")
	}
	return sec, rest[t : t+end], nil
}

// object is the text of object n from "n 0 obj" to "endobj" (its latest version).
func (f *pdfFile) object(n int) ([]byte, error) {
	off, ok := f.offsets[n]
	if !ok || off >= len(f.b) {
		return nil, fmt.Errorf("pdf: object %d not found", n)
	}
	head := fmt.Sprintf("%d 0 obj", n)
	if !bytes.HasPrefix(f.b[off:], []byte(head)) {
		return nil, fmt.Errorf("pdf: object %d is not at its offset", n)
	}
	end := bytes.Index(f.b[off:], []byte("endobj"))
	if end < 0 {
		return nil, fmt.Errorf("pdf: object %d has no endobj", n)
	}
	return f.b[off+len(head) : off+end], nil
}

// dictBody is a dictionary object's content between its outer << and >>.
func dictBody(obj []byte) ([]byte, error) {
	s, e := bytes.Index(obj, []byte("<<")), bytes.LastIndex(obj, []byte(">>"))
	if s < 0 || e < s || bytes.Contains(obj, []byte("stream")) {
		return nil, errors.New("pdf: not a dictionary object")
	}
	return bytes.TrimSpace(obj[s+2 : e]), nil
}

var reRef = func(key string) *regexp.Regexp { return regexp.MustCompile(`/` + key + `\s+(\d+)\s+0\s+R`) }

// firstPage is the object number of the document's first page.
func (f *pdfFile) firstPage() (int, error) {
	cat, err := f.object(f.root)
	if err != nil {
		return 0, err
	}
	pages := atoiMatch(reRef("Pages"), cat)
	if pages == 0 {
		return 0, errors.New("pdf: the catalog has no /Pages")
	}
	po, err := f.object(pages)
	if err != nil {
		return 0, err
	}
	m := regexp.MustCompile(`/Kids\s*\[\s*(\d+)\s+0\s+R`).FindSubmatch(po)
	if m == nil {
		return 0, errors.New("pdf: the page tree has no kids")
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n, nil
}

// pdfUpdate is an incremental update being written after base.
type pdfUpdate struct {
	f    *pdfFile
	objs map[int][]byte
	next int
}

func newPDFUpdate(f *pdfFile) *pdfUpdate {
	return &pdfUpdate{f: f, objs: map[int][]byte{}, next: f.size}
}

// add reserves a new object number for body.
func (u *pdfUpdate) add(body []byte) int {
	n := u.next
	u.next++
	u.objs[n] = body
	return n
}

// write appends the update's objects, its xref table and trailer to the
// base file.
func (u *pdfUpdate) write() []byte {
	var out bytes.Buffer
	out.Grow(len(u.f.b) + 64<<10)
	out.Write(u.f.b)
	if !bytes.HasSuffix(u.f.b, []byte("\n")) {
		out.WriteByte('\n')
	}
	nums := make([]int, 0, len(u.objs))
	for n := range u.objs {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	offs := map[int]int{}
	for _, n := range nums {
		offs[n] = out.Len()
		fmt.Fprintf(&out, "%d 0 obj\n", n)
		out.Write(u.objs[n])
		out.WriteString("\nendobj\n")
	}
	xref := out.Len()
	out.WriteString("xref\n")
	for _, n := range nums {
		fmt.Fprintf(&out, "%d 1\n%010d 00000 n \n", n, offs[n])
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root %d 0 R", u.next, u.f.root)
	if u.f.info != 0 {
		fmt.Fprintf(&out, " /Info %d 0 R", u.f.info)
	}
	fmt.Fprintf(&out, " /Prev %d >>\nstartxref\n%d\n%%%%EOF\n", u.f.startxref, xref)
	return out.Bytes()
}

// textString is s as a PDF text string: UTF-16BE with a byte order mark, hex.
func textString(s string) string {
	var b bytes.Buffer
	b.WriteString("<FEFF")
	for _, r := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", r)
	}
	b.WriteString(">")
	return b.String()
}

// streamObject is a stream holding data.
func streamObject(data []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "<< /Length %d >>\nstream\n", len(data))
	b.Write(data)
	b.WriteString("\nendstream")
	return b.Bytes()
}

// openForUpdate parses a PDF for an incremental update that changes its
// first page and its catalog: the file, the page's object number and the
// bodies of both dictionaries.
func openForUpdate(pdf []byte) (f *pdfFile, page int, pageBody, catBody []byte, err error) {
	if f, err = parsePDF(pdf); err != nil {
		return nil, 0, nil, nil, err
	}
	if page, err = f.firstPage(); err != nil {
		return nil, 0, nil, nil, err
	}
	pageObj, err := f.object(page)
	if err != nil {
		return nil, 0, nil, nil, err
	}
	if pageBody, err = dictBody(pageObj); err != nil {
		return nil, 0, nil, nil, err
	}
	catObj, err := f.object(f.root)
	if err != nil {
		return nil, 0, nil, nil, err
	}
	if catBody, err = dictBody(catObj); err != nil {
		return nil, 0, nil, nil, err
	}
	return f, page, pageBody, catBody, nil
}
