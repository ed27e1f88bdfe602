package web

import (
	"reflect"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
)

var (
	openapiOnce sync.Once
	openapiDoc  map[string]any
	paramRe     = regexp.MustCompile(`:([A-Za-z_]+)`)
)

// openapi serves the OpenAPI 3.1 document built from the route table, so it
// cannot drift from the routes: paths, access, request and response schemas
// (by reflection over the Go types and their json and validate tags).
func (s *Server) openapi(c *fiber.Ctx) error {
	openapiOnce.Do(func() { openapiDoc = s.buildOpenAPI() })
	return c.JSON(openapiDoc)
}

func (s *Server) buildOpenAPI() map[string]any {
	paths := map[string]any{}
	for _, r := range s.routes {
		p := paramRe.ReplaceAllString(r.Path, "{$1}")
		item, _ := paths[p].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[p] = item
		}
		op := map[string]any{"summary": r.Summary, "tags": []string{r.Tag}}
		var params []any
		for _, m := range paramRe.FindAllStringSubmatch(r.Path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		if r.Idempotent {
			params = append(params, map[string]any{"name": "Idempotency-Key", "in": "header", "schema": map[string]any{"type": "string", "maxLength": 200},
				"description": "A retry with the same key and body returns the first response; the same key with another body is 409."})
		}
		if params != nil {
			op["parameters"] = params
		}
		switch {
		case r.Access.Public:
			op["security"] = []any{}
			op["x-access"] = "public"
		case len(r.Access.Roles) == 0:
			op["x-access"] = "any signed-in user (a taxpayer only for their own data)"
		default:
			roles := make([]string, len(r.Access.Roles))
			for i, x := range r.Access.Roles {
				roles[i] = string(x)
			}
			op["x-access"] = "roles: " + strings.Join(roles, ", ")
		}
		if r.Body != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(r.Body), 0)}}}
		}
		ok := map[string]any{"description": "OK"}
		if r.Response != nil {
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(r.Response), 0)}}
		}
		status := "200"
		if r.Created {
			status = "201"
		}
		problem := map[string]any{"description": "Problem details", "content": map[string]any{"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}}}
		op["responses"] = map[string]any{status: ok, "4XX": problem, "5XX": problem}
		item[strings.ToLower(r.Method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": "fiscald", "version": "1", "description": "Local taxes of a Romanian municipality: registry, tax engine, cases, payments, certificates, reports. Money is a string in lei with two decimals."},
		"paths":   paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
			"schemas": map[string]any{"Problem": map[string]any{"type": "object", "properties": map[string]any{
				"type": map[string]any{"type": "string"}, "title": map[string]any{"type": "string"}, "status": map[string]any{"type": "integer"},
				"detail": map[string]any{"type": "string"}, "errors": map[string]any{"type": "array", "items": map[string]any{"type": "object",
					"properties": map[string]any{"field": map[string]any{"type": "string"}, "message": map[string]any{"type": "string"}}}}}}},
		},
		"security": []any{map[string]any{"bearer": []any{}}},
	}
}

var timeType = reflect.TypeOf(time.Time{})

func schemaOf(t reflect.Type, depth int) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if depth > 6 {
		return map[string]any{}
	}
	if t == timeType {
		return map[string]any{"type": "string", "format": "date-time"}
	}
	switch t.Name() {
	case "Bani":
		return map[string]any{"type": "string", "pattern": `^-?\d+\.\d{2}$`, "description": "lei with two decimals"}
	case "Date":
		return map[string]any{"type": "string", "format": "date"}
	case "Decimal":
		return map[string]any{"type": "string", "description": "a decimal number"}
	case "Share":
		return map[string]any{"type": "string", "pattern": `^[01]\.\d{4}$`, "description": "an owner's part of a building or plot (\"0.6000\")"}
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Int16, reflect.Uint, reflect.Uint64, reflect.Uint32:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": schemaOf(t.Elem(), depth+1)}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem(), depth+1)}
	case reflect.Struct:
		props := map[string]any{}
		var required []string
		addStructFields(t, props, &required, depth)
		s := map[string]any{"type": "object", "properties": props}
		if len(required) > 0 {
			s["required"] = required
		}
		return s
	}
	return map[string]any{}
}

func addStructFields(t reflect.Type, props map[string]any, required *[]string, depth int) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				addStructFields(ft, props, required, depth)
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		sch := schemaOf(f.Type, depth+1)
		v := f.Tag.Get("validate")
		for _, rule := range strings.Split(v, ",") {
			if rule == "required" {
				*required = append(*required, name)
			}
			if vals, ok := strings.CutPrefix(rule, "oneof="); ok {
				sch["enum"] = strings.Fields(vals)
			}
		}
		props[name] = sch
	}
}
