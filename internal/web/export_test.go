package web

// Check exposes the request validation (validator/v10 tags, then Validate) to tests.
var Check = check
