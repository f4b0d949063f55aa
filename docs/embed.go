package docs

import _ "embed" // for OpenAPI

// OpenAPI is the OpenAPI 3 document the service publishes at /openapi.json.
// It is generated, like the Swagger 2.0 files beside it: `go generate
// ./api` runs swag, then cmd/openapi3, which writes openapi.json. This file
// is written by hand (swag writes docs.go only).
//
//go:embed openapi.json
var OpenAPI []byte
