package pdf

import (
	"fmt"

	qrcode "github.com/skip2/go-qrcode"
)

// QRCodePNG encodes text as a QR code (error correction level M, the
// standard four-module quiet zone included) and returns it as a PNG image.
func QRCodePNG(text string) ([]byte, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	// A negative size is pixels per module: 6 px gives a sharp print at 30 mm.
	png, err := q.PNG(-6)
	if err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	return png, nil
}

// qrBitmap is the QR code of text (level M) as rows of modules, true for
// dark, with the four-module quiet zone.
func qrBitmap(text string) ([][]bool, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	return q.Bitmap(), nil
}
