package importer

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"fiscald/fiscal"
)

// records reads a file's rows: the header first, then each data row with
// the line it starts on (1 is the header).
type records interface {
	Next() (line int, rec []string, err error) // io.EOF at the end
	Close() error
}

var zipMagic = []byte("PK\x03\x04")

// fileError is the error of a file that cannot be imported at all.
func fileError(format string, args ...any) error {
	return fiscal.InvalidField("file", fmt.Sprintf(format, args...))
}

// Inspect reads the whole file once before any row is written: its SHA-256
// (the key a killed run resumes by) and, for CSV, that every byte is UTF-8
// (a Windows-1250 export is refused as a whole, naming the first bad line);
// for XLSX, that no cell holds a formula. It reports whether the file is XLSX.
func Inspect(r io.ReaderAt, size, maxBytes int64) (sha string, xlsx bool, err error) {
	if maxBytes > 0 && size > maxBytes {
		return "", false, &fiscal.Error{Code: fiscal.ETOOLARGE, Message: fmt.Sprintf("the file has %d bytes; the limit is %d (FISCAL_IMPORT_MAX_BYTES)", size, maxBytes),
			Fields: []fiscal.FieldError{{Field: "file", Message: "too large"}}}
	}
	if size == 0 {
		return "", false, fileError("the file is empty")
	}
	head := make([]byte, 4)
	n, _ := r.ReadAt(head, 0)
	xlsx = bytes.Equal(head[:n], zipMagic)
	h := sha256.New()
	sr := io.NewSectionReader(r, 0, size)
	if xlsx {
		if _, err := io.Copy(h, sr); err != nil {
			return "", true, fiscal.Internal(err, "read the file")
		}
		if err := checkFormulas(r, size); err != nil {
			return "", true, err
		}
		return hex.EncodeToString(h.Sum(nil)), true, nil
	}
	br := bufio.NewReaderSize(io.TeeReader(sr, h), 1<<16)
	line := 1
	var carry []byte
	buf := make([]byte, 1<<16)
	for {
		k, rerr := br.Read(buf)
		chunk := make([]byte, 0, len(carry)+k)
		chunk = append(append(chunk, carry...), buf[:k]...)
		carry = nil
		// Keep an incomplete rune at the end for the next chunk.
		if rerr == nil {
			for i := 1; i <= 3 && i <= len(chunk); i++ {
				if utf8.RuneStart(chunk[len(chunk)-i]) {
					if !utf8.FullRune(chunk[len(chunk)-i:]) {
						carry = append([]byte(nil), chunk[len(chunk)-i:]...)
						chunk = chunk[:len(chunk)-i]
					}
					break
				}
			}
		}
		for len(chunk) > 0 {
			c, w := utf8.DecodeRune(chunk)
			if c == utf8.RuneError && w <= 1 {
				return "", false, fileError("line %d is not UTF-8 (a Windows-1250 or ANSI export?): save the file as \"CSV UTF-8\"", line)
			}
			if c == '\n' {
				line++
			}
			chunk = chunk[w:]
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return "", false, fiscal.Internal(rerr, "read the file")
		}
	}
	if len(carry) > 0 {
		return "", false, fileError("line %d is not UTF-8 (a Windows-1250 or ANSI export?): save the file as \"CSV UTF-8\"", line)
	}
	return hex.EncodeToString(h.Sum(nil)), false, nil
}

// checkFormulas refuses a workbook with a formula in any worksheet cell: the
// old system's values are imported, never a computation Excel would redo.
func checkFormulas(r io.ReaderAt, size int64) error {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return fileError("not a readable XLSX workbook: %v", err)
	}
	for _, f := range zr.File {
		if path.Dir(f.Name) != "xl/worksheets" || !strings.HasSuffix(f.Name, ".xml") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return fileError("not a readable XLSX workbook: %v", err)
		}
		d := xml.NewDecoder(rc)
		cell := ""
		for {
			t, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				rc.Close()
				return fileError("not a readable XLSX workbook: %v", err)
			}
			if se, ok := t.(xml.StartElement); ok {
				switch se.Name.Local {
				case "c":
					for _, a := range se.Attr {
						if a.Name.Local == "r" {
							cell = a.Value
						}
					}
				case "f":
					rc.Close()
					return fileError("cell %s of %s holds a formula: paste the values only (Paste Special → Values) and save again", cell, path.Base(f.Name))
				}
			}
		}
		rc.Close()
	}
	return nil
}

// openRecords opens the rows of a CSV or XLSX file.
func openRecords(r io.ReaderAt, size int64, xlsx bool) (records, error) {
	if xlsx {
		return openXLSX(r, size)
	}
	return openCSV(r, size)
}

type csvRecords struct {
	r *csv.Reader
}

// openCSV reads UTF-8 CSV with or without BOM, comma- or semicolon-separated
// (Romanian Excel writes semicolons): the header line decides.
func openCSV(r io.ReaderAt, size int64) (records, error) {
	br := bufio.NewReaderSize(io.NewSectionReader(r, 0, size), 1<<16)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	first, _ := br.Peek(4096)
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	comma := ','
	if bytes.Count(first, []byte{';'}) > bytes.Count(first, []byte{','}) {
		comma = ';'
	}
	c := csv.NewReader(br)
	c.Comma = comma
	c.FieldsPerRecord = -1 // the column count is checked per row, with its line
	c.ReuseRecord = true
	return &csvRecords{r: c}, nil
}

func (c *csvRecords) Next() (int, []string, error) {
	rec, err := c.r.Read()
	if err == io.EOF {
		return 0, nil, io.EOF
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return pe.StartLine, nil, fileError("line %d: %v", pe.StartLine, pe.Err)
		}
		return 0, nil, fiscal.Internal(err, "read the file")
	}
	line, _ := c.r.FieldPos(0)
	return line, rec, nil
}

func (c *csvRecords) Close() error { return nil }

type xlsxRecords struct {
	f    *excelize.File
	rows *excelize.Rows
	line int
}

// openXLSX streams the first worksheet's rows (excelize Rows).
func openXLSX(r io.ReaderAt, size int64) (records, error) {
	f, err := excelize.OpenReader(io.NewSectionReader(r, 0, size))
	if err != nil {
		return nil, fileError("not a readable XLSX workbook: %v", err)
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		f.Close()
		return nil, fileError("the workbook has no worksheet")
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		f.Close()
		return nil, fileError("worksheet %q: %v", sheets[0], err)
	}
	return &xlsxRecords{f: f, rows: rows}, nil
}

func (x *xlsxRecords) Next() (int, []string, error) {
	for x.rows.Next() {
		x.line++
		rec, err := x.rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return x.line, nil, fileError("row %d: %v", x.line, err)
		}
		return x.line, rec, nil
	}
	if err := x.rows.Error(); err != nil {
		return x.line, nil, fileError("not a readable XLSX workbook: %v", err)
	}
	return 0, nil, io.EOF
}

func (x *xlsxRecords) Close() error {
	x.rows.Close()
	return x.f.Close()
}
