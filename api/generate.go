package api

// The OpenAPI documents in docs/ are generated; run `go generate ./...`
// after changing the handler annotations or the endpoint table.
//
// swag writes Swagger 2.0 (docs.go, swagger.json, swagger.yaml) from the
// annotations; cmd/openapi3 converts it to the OpenAPI 3 document the
// service publishes (docs/openapi.json), adding what Swagger 2.0 cannot
// say and taking who may call each route from the endpoint table;
// oapi-codegen then builds the typed Go client internal/apiclient from it.
//go:generate go tool swag fmt -d ./,../cmd/alliance -g ../cmd/alliance/main.go
//go:generate go tool swag init -d ../cmd/alliance,./ -g main.go -o ../docs --outputTypes go,json,yaml --parseDependency=false
//go:generate go run ../cmd/openapi3 -in ../docs/swagger.json -src . -out ../docs/openapi.json
//go:generate go tool oapi-codegen -config ../internal/apiclient/oapi-codegen.yaml -o ../internal/apiclient/client.gen.go ../docs/openapi.json
