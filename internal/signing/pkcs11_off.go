//go:build !pkcs11

package signing

import (
	"errors"
	"os"
)

// PKCS11FromEnv is the PKCS #11 backend named by FISCAL_PKCS11_MODULE,
// FISCAL_PKCS11_TOKEN and FISCAL_PKCS11_PIN, or nil (the file backend)
// when FISCAL_PKCS11_MODULE is unset. This build has no PKCS #11 support
// (build with -tags pkcs11, which needs cgo).
func PKCS11FromEnv() (Backend, error) {
	if os.Getenv("FISCAL_PKCS11_MODULE") == "" {
		return nil, nil
	}
	return nil, errors.New("FISCAL_PKCS11_MODULE is set but this fiscald was built without PKCS #11 (go build -tags pkcs11)")
}
