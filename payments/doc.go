// Package payments owns the payment use cases of fiscald: allocating a payment
// over a taxpayer's debts in the order the law sets (CPF art. 165), issuing
// receipts, and reconciling card payments with the provider's payouts.
//
// The package is provider-neutral. The card provider lives in payments/stripe,
// which is the only package in the module that imports stripe-go; everything
// else (this package, the store, the web layer) sees only its neutral types and
// error classes (payments/stripe.ErrNotConfigured, ErrBadSignature,
// ErrProvider, ...).
//
// Amounts are money.Bani (integer bani); nothing here uses floating point.
package payments
