// Package auth hashes passwords with argon2id and makes random bearer
// tokens, of which only the SHA-256 is ever stored.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: OWASP's minimum (19 MiB, 2 passes, 1 lane).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// hashSlots bounds the password hashes computed at once to half the
// processors: each takes ~30 ms of CPU and 19 MiB, so a burst of sign-ins
// queues here instead of taking every core from the requests that share
// the server (measured under `make loadtest`: 10 sign-ins/s were a third of
// the server's CPU).
var hashSlots = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2))

func idKey(password, salt []byte, t, m uint32, p uint8, n uint32) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	return argon2.IDKey(password, salt, t, m, p, n)
}

// HashPassword returns an encoded argon2id hash with a random salt.
func HashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := idKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var errFormat = errors.New("auth: unknown password hash format")

// CheckPassword reports whether password matches the encoded hash.
func CheckPassword(encoded, password string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errFormat
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false, errFormat
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false, errFormat
	}
	got := idKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHash is checked against when a username is unknown, so that an
// unknown user and a wrong password take the same time.
var dummyHash, _ = HashPassword("not a real password, only for timing")

// BurnTime spends the time of one password check.
func BurnTime(password string) { _, _ = CheckPassword(dummyHash, password) }

// NewToken returns a random bearer token (256 bits, URL-safe).
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// HashToken returns the hex SHA-256 of a token, the only form stored.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// enrollAlphabet is Crockford's base 32 (fiscal.EnrollmentCodeAlphabet).
const enrollAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewEnrollmentCode returns a random one-time enrollment code: 16
// characters of Crockford's base 32 (80 bits from crypto/rand, five bits a
// character, so every character is uniform), without separators.
func NewEnrollmentCode() (string, error) {
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	var acc uint64
	out := make([]byte, 0, 16)
	bits := 0
	for _, x := range b {
		acc = acc<<8 | uint64(x)
		bits += 8
		for bits >= 5 {
			bits -= 5
			out = append(out, enrollAlphabet[(acc>>bits)&31])
		}
	}
	return string(out), nil
}
