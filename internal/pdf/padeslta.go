package pdf

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"fiscald/internal/cades"
)

// AddDocTimestamp makes a B-LT document B-LTA: an incremental update with
// a document timestamp (/Type /DocTimeStamp, /SubFilter /ETSI.RFC3161)
// whose RFC 3161 token covers the whole file, DSS included, so that the
// evidence stays verifiable after the signer's and the TSA's certificates
// expire (renewed by a further timestamp before this one's TSA expires).
func AddDocTimestamp(pdf []byte, tsa cades.Timestamper) ([]byte, error) {
	f, page, pageBody, catBody, err := openForUpdate(pdf)
	if err != nil {
		return nil, err
	}
	if !bytes.Contains(catBody, []byte("/DSS")) {
		return nil, errors.New("pades: a document timestamp goes after the DSS (B-LT first)")
	}
	u := newPDFUpdate(f)
	ts := u.add([]byte(fmt.Sprintf("<< /Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161\n/ByteRange [0 %s %s %s]\n/Contents <%s> >>",
		brPlaceholder, brPlaceholder, brPlaceholder, bytes.Repeat([]byte("0"), 2*contentsSize))))
	widget := u.add([]byte(fmt.Sprintf("<< /Type /Annot /Subtype /Widget /FT /Sig /T %s /V %d 0 R /F 132 /Rect [0 0 0 0] /P %d 0 R >>",
		textString("Marcaj temporal"), ts, page)))
	ref := fmt.Sprintf("%d 0 R ", widget)
	var ok bool
	if pageBody, ok = insertAfter(pageBody, "/Annots [", ref); !ok {
		return nil, errors.New("pades: the page has no /Annots array (not signed here?)")
	}
	// The timestamp's field goes last: verifiers list the signature first.
	if i := bytes.Index(catBody, []byte("/Fields [")); i < 0 {
		return nil, errors.New("pades: the catalog has no /AcroForm /Fields (not signed here?)")
	} else if j := bytes.IndexByte(catBody[i:], ']'); j < 0 {
		return nil, errors.New("pades: unterminated /Fields")
	} else {
		catBody = append(append(append([]byte{}, catBody[:i+j]...), " "+strings.TrimSpace(ref)...), catBody[i+j:]...)
	}
	u.objs[page] = []byte("<<" + string(pageBody) + "\n>>")
	u.objs[f.root] = []byte("<<" + string(catBody) + "\n>>")
	out := u.write()
	lt, gt, err := frameContents(out)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	h.Write(out[:lt])
	h.Write(out[gt+1:])
	token, err := tsa.Timestamp(h.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("pades: document timestamp: %w", err)
	}
	if len(token) > contentsSize {
		return nil, errors.New("pades: the token does not fit")
	}
	hex.Encode(out[lt+1:], token)
	return out, nil
}

func insertAfter(body []byte, marker, text string) ([]byte, bool) {
	i := bytes.Index(body, []byte(marker))
	if i < 0 {
		return body, false
	}
	j := i + len(marker)
	return append(append(append([]byte{}, body[:j]...), text...), body[j:]...), true
}

// frameContents writes the /ByteRange of the last placeholder in out and
// returns the offsets of its /Contents' < and >.
func frameContents(out []byte) (lt, gt int, err error) {
	at := bytes.LastIndex(out, []byte("/ByteRange [0 "+brPlaceholder))
	if at < 0 {
		return 0, 0, errors.New("pades: placeholder lost")
	}
	c := bytes.Index(out[at:], []byte("/Contents <"))
	if c < 0 {
		return 0, 0, errors.New("pades: placeholder lost")
	}
	lt = at + c + len("/Contents ")
	gt = lt + 1 + 2*contentsSize
	if gt >= len(out) || out[gt] != '>' {
		return 0, 0, errors.New("pades: placeholder size")
	}
	copy(out[at:], fmt.Sprintf("/ByteRange [0 %010d %010d %010d]", lt, gt+1, len(out)-gt-1))
	return lt, gt, nil
}

var reDocTS = regexp.MustCompile(`/Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161\s*/ByteRange\s*\[\s*0\s+(\d+)\s+(\d+)\s+(\d+)\s*\]`)

// checkDocTimestamp checks the B-LTA update of pdf, which starts at
// from: a document timestamp covering the whole file with a valid token,
// its widget, and the page and catalog changed only to reference it.
func checkDocTimestamp(pdf []byte, from int, check func(token, digest []byte) error) error {
	m := reDocTS.FindSubmatchIndex(pdf)
	if m == nil || m[0] < from {
		return errors.New("an update after the DSS that is not a document timestamp")
	}
	a, _ := strconv.Atoi(string(pdf[m[2]:m[3]]))
	b, _ := strconv.Atoi(string(pdf[m[4]:m[5]]))
	c, _ := strconv.Atoi(string(pdf[m[6]:m[7]]))
	if a <= from || b <= a+1 || b+c != len(pdf) || pdf[a] != '<' || pdf[b-1] != '>' {
		return errors.New("the document timestamp does not cover the whole file")
	}
	token := make([]byte, hex.DecodedLen(b-1-a-1))
	if _, err := hex.Decode(token, pdf[a+1:b-1]); err != nil {
		return errors.New("the document timestamp's /Contents is not hex")
	}
	h := sha256.New()
	h.Write(pdf[:a])
	h.Write(pdf[b:])
	if err := check(trimDER(token), h.Sum(nil)); err != nil {
		return fmt.Errorf("document timestamp: %w", err)
	}
	f, err := parsePDF(pdf)
	if err != nil {
		return err
	}
	before, err := parsePDF(pdf[:from])
	if err != nil {
		return err
	}
	if len(f.sections) != len(before.sections)+1 {
		return errors.New("more than one update after the DSS")
	}
	page, err := before.firstPage()
	if err != nil {
		return err
	}
	var tsNum, widget int
	for _, n := range f.sections[0].objects {
		obj, err := f.object(n)
		if err != nil {
			return err
		}
		switch {
		case n == page || n == f.root:
		case bytes.Contains(obj, []byte("/Type /DocTimeStamp")):
			tsNum = n
		case bytes.Contains(obj, []byte("/Subtype /Widget")):
			widget = n
		default:
			return fmt.Errorf("the document timestamp's update changes object %d", n)
		}
	}
	if tsNum == 0 || widget == 0 {
		return errors.New("the document timestamp's update lacks its field")
	}
	ref := squash([]byte(fmt.Sprintf("%d 0 R", widget)))
	for _, n := range []int{page, f.root} {
		newObj, _ := f.object(n)
		oldObj, _ := before.object(n)
		nb, err1 := dictBody(newObj)
		ob, err2 := dictBody(oldObj)
		if err1 != nil || err2 != nil || !onlyAdds(squash(nb), squash(ob), ref) {
			return fmt.Errorf("the document timestamp's update changes object %d beyond referencing it", n)
		}
	}
	return nil
}

// onlyAdds says removing one occurrence of ref from changed gives orig.
func onlyAdds(changed, orig, ref []byte) bool {
	for i := 0; ; {
		k := bytes.Index(changed[i:], ref)
		if k < 0 {
			return false
		}
		at := i + k
		if bytes.Equal(append(append([]byte{}, changed[:at]...), changed[at+len(ref):]...), orig) {
			return true
		}
		i = at + 1
	}
}

func squash(b []byte) []byte { return bytes.Join(bytes.Fields(b), nil) }
