package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/go-playground/validator/v10"
	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// maxJSONBody is the size limit of a JSON request body.
const maxJSONBody = 1 << 20

var validate = newValidator()

func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		if name == "" {
			return f.Name
		}
		return name
	})
	// nobidi refuses bidirectional formatting characters in names
	// (fiscal.IsBidiControl): what is shown must be what is stored.
	if err := v.RegisterValidation("nobidi", func(fl validator.FieldLevel) bool {
		return !fiscal.HasBidiControl(fl.Field().String())
	}); err != nil {
		panic(err)
	}
	return v
}

// decode reads a JSON body into dst and validates it: 413 over the limit,
// 400 for malformed JSON, 422 naming each invalid field, and 422 naming the
// first string holding a control character (checkJSONText).
func decode(c *fiber.Ctx, dst any) error {
	if err := decodeJSON(c, dst); err != nil {
		return err
	}
	return check(dst)
}

// decodeJSON is decode without the validation.
func decodeJSON(c *fiber.Ctx, dst any) error {
	body := c.Body()
	if len(body) > maxJSONBody {
		return fiscal.Errorf(fiscal.ETOOLARGE, "the JSON body is over %d bytes", maxJSONBody)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return fiscal.Errorf(fiscal.EMALFORMED, "a JSON body is required")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return fiscal.InvalidField(te.Field, "must be a "+jsonKind(te.Type))
		}
		var fe *fiscal.Error
		if errors.As(err, &fe) {
			return fe
		}
		// A value type refused a well-formed JSON string (a date that does
		// not exist, an amount with three decimals): 422 naming the field.
		if errors.Is(err, civil.ErrInvalid) {
			return fiscal.InvalidField(badValuePath(body), "must be a real date in the form YYYY-MM-DD")
		}
		if errors.Is(err, money.ErrTooLarge) {
			return fiscal.InvalidField(badValuePath(body), "must be at most "+money.Max.String()+" lei (the ledger's limit)")
		}
		if errors.Is(err, money.ErrInvalid) {
			return fiscal.InvalidField(badValuePath(body), "must be a string holding an amount in lei with at most two decimals, e.g. \"198.00\"")
		}
		return &fiscal.Error{Code: fiscal.EMALFORMED, Message: "malformed JSON: " + err.Error(), Err: err}
	}
	if dec.More() {
		return fiscal.Errorf(fiscal.EMALFORMED, "malformed JSON: trailing data after the object")
	}
	return checkJSONText(body)
}

// badValuePath finds the JSON path of the first string value that a value
// type refuses (civil dates, money), for the field error.
func badValuePath(body []byte) string {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	found := ""
	walkJSON(v, "", func(path string, x any, isKey bool) bool {
		if isKey {
			return false
		}
		switch x := x.(type) {
		case string:
			if looksLikeDate(x) {
				if _, err := civil.Parse(x); err != nil {
					found = path
				}
			} else if looksLikeAmount(x) {
				if _, err := money.Parse(x); err != nil {
					found = path
				}
			}
		case float64, json.Number, bool:
			if strings.Contains(path, "amount") || dateField(path) {
				found = path
			}
		}
		return found != ""
	})
	return found
}

// dateField reports whether a JSON path names a date field by the API's
// naming (date, *_on, *_from, *_date), so a number or boolean sent for a
// date is reported on its field.
func dateField(path string) bool {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		path = path[i+1:]
	}
	return path == "date" || strings.HasSuffix(path, "_on") || strings.HasSuffix(path, "_from") || strings.HasSuffix(path, "_date")
}

func looksLikeDate(s string) bool {
	return len(s) >= 8 && len(s) <= 12 && strings.Count(s, "-") == 2 && s[0] >= '0' && s[0] <= '9'
}

func looksLikeAmount(s string) bool {
	return s != "" && strings.Trim(s, "-0123456789.,e ") == ""
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint, reflect.Uint64, reflect.Float64:
		return "number"
	case reflect.Slice:
		return "list"
	case reflect.Struct, reflect.Map:
		return "object"
	}
	if t.Name() == "Bani" {
		return "string holding an amount in lei"
	}
	return t.String()
}

// validator is implemented by inputs with rules that struct tags cannot
// express (check digits, cross-field rules); it runs after the tags pass.
type validatable interface {
	Validate() []fiscal.FieldError
}

// check runs validator/v10 over a struct and turns its errors into field
// errors, then the input's own Validate.
func check(v any) error {
	err := validate.Struct(v)
	if err == nil {
		if vv, ok := v.(validatable); ok {
			if fields := vv.Validate(); len(fields) > 0 {
				return fiscal.Invalid(fields...)
			}
		}
		return nil
	}
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		return fiscal.Internal(err, "validation")
	}
	fields := make([]fiscal.FieldError, 0, len(verrs))
	for _, fe := range verrs {
		ns := fe.Namespace()
		if i := strings.IndexByte(ns, '.'); i >= 0 {
			ns = ns[i+1:]
		}
		fields = append(fields, fiscal.FieldError{Field: ns, Message: message(fe)})
	}
	return fiscal.Invalid(fields...)
}

func message(fe validator.FieldError) string {
	switch fe.Tag() {
	case "required", "required_if", "required_with", "required_without":
		return "is required"
	case "excluded_if", "excluded_with":
		return "must not be given here"
	case "email":
		return "must be a valid e-mail address"
	case "oneof":
		return "must be one of: " + strings.ReplaceAll(fe.Param(), " ", ", ")
	case "min":
		if fe.Kind() == reflect.String || fe.Kind() == reflect.Slice {
			return "must have at least " + fe.Param() + " characters"
		}
		return "must be at least " + fe.Param()
	case "max":
		if fe.Kind() == reflect.String || fe.Kind() == reflect.Slice {
			return "must have at most " + fe.Param() + " characters"
		}
		return "must be at most " + fe.Param()
	case "gt", "gte", "lt", "lte":
		return fmt.Sprintf("must be %s %s", map[string]string{"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[fe.Tag()], fe.Param())
	case "printascii", "excludesall", "alphanum":
		return "contains characters that are not allowed"
	case "nobidi":
		return "must not contain bidirectional formatting characters (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C)"
	case "len":
		return "must have exactly " + fe.Param() + " characters"
	}
	return "is invalid (" + fe.Tag() + ")"
}
