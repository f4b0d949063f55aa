package api

// The OpenAPI document in docs/ is generated from the swag annotations on
// the handlers; run `go generate ./...` after changing them.
//go:generate go tool swag fmt -d ./,../cmd/alliance -g ../cmd/alliance/main.go
//go:generate go tool swag init -d ../cmd/alliance,./ -g main.go -o ../docs --outputTypes go,json,yaml --parseDependency=false
