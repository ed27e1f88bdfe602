module fiscald

go 1.26.0

require github.com/shopspring/decimal v1.6.0

require github.com/stripe/stripe-go/v76 v76.25.0
