package pdf

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

func decodeQR(t *testing.T, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("decode QR: %v", err)
	}
	return res.GetText()
}

func TestQRCodePNGDecodes(t *testing.T) {
	const url = "https://fiscal.primariatm.ro/verify/7Q2K-MX4P-9ZRD"
	data, err := QRCodePNG(url)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if got := decodeQR(t, img); got != url {
		t.Fatalf("QR decodes to %q, want %q", got, url)
	}
	// The quiet zone: the outer four modules (6 px each) are white.
	b := img.Bounds()
	for _, p := range []image.Point{{0, 0}, {23, 23}, {b.Max.X - 1, b.Max.Y - 1}, {b.Max.X - 24, 23}} {
		if r, g, bl, _ := img.At(p.X, p.Y).RGBA(); r != 0xffff || g != 0xffff || bl != 0xffff {
			t.Errorf("pixel %v in the quiet zone is not white", p)
		}
	}
}

// TestQRCodeInPDFDecodes rasterises the rendered page with pdftoppm (the
// code is drawn as vector squares) and reads the QR code back.
func TestQRCodeInPDFDecodes(t *testing.T) {
	doc := sampleCertificate()
	pdf, err := Render(doc)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out, code := poppler(t, "pdftoppm", pdf, "-r", "150", "-png", "-f", "1", "-l", "1", "{}", filepath.Join(dir, "page"))
	if code != 0 {
		t.Fatalf("pdftoppm exit %d: %s", code, out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "page-*.png"))
	if len(files) != 1 {
		t.Fatalf("pdftoppm wrote %d images, want 1", len(files))
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if got := decodeQR(t, img); got != doc.VerifyURL {
		t.Fatalf("QR in the PDF decodes to %q, want %q", got, doc.VerifyURL)
	}
}
