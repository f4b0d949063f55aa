// Command openapi3 writes the OpenAPI 3 document the service publishes
// (docs/openapi.json): it converts swag's Swagger 2.0 output and adds what
// Swagger 2.0 cannot say, taking who may call each route from the endpoint
// table (see internal/apidoc). `go generate ./api` runs it after swag:
//
//	go run ../cmd/openapi3 -in ../docs/swagger.json -src . -out ../docs/openapi.json
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/alliance-project/alliance/api"
	"github.com/alliance-project/alliance/internal/apidoc"
)

func main() {
	in := flag.String("in", "docs/swagger.json", "swag's Swagger 2.0 document")
	src := flag.String("src", "api", "directory of the Go package that declares the wire types")
	out := flag.String("out", "docs/openapi.json", "where to write the OpenAPI 3 document")
	flag.Parse()
	if err := generate(*in, *src, *out); err != nil {
		fmt.Fprintln(os.Stderr, "openapi3:", err)
		os.Exit(1)
	}
}

func generate(in, src, out string) error {
	swagger2, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	types, err := apidoc.WireTypes(src)
	if err != nil {
		return err
	}
	var routes []apidoc.Route
	for _, r := range api.Routes() {
		routes = append(routes, apidoc.Route{Method: r.Method, Path: r.Path, Public: r.Public, Survey: r.Survey, Scopes: r.Scopes, AnyQuery: r.AnyQuery})
	}
	doc, err := apidoc.Build(swagger2, routes, types)
	if err != nil {
		return err
	}
	return os.WriteFile(out, doc, 0o644)
}
