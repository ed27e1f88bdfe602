module fiscald

go 1.26.0

require (
	github.com/go-pdf/fpdf v0.9.0
	github.com/shopspring/decimal v1.6.0
	github.com/skip2/go-qrcode v0.0.0-20200617195104-da1b6568686e
)
