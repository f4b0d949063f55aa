package apidoc

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
)

// PointerItems finds the struct fields of the Go package in dir whose type
// is a slice of pointers ([]*float64): JSON null is a value of their
// items, which swag cannot say. It returns them by schema name as swag
// names it (package.Type) and JSON property name, for Build.
func PointerItems(dir string) (map[string][]string, error) {
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				st, ok := ts.Type.(*ast.StructType)
				if !ok || !ts.Name.IsExported() {
					continue
				}
				for _, field := range st.Fields.List {
					arr, ok := field.Type.(*ast.ArrayType)
					if !ok {
						continue
					}
					if _, ok := arr.Elt.(*ast.StarExpr); !ok {
						continue
					}
					for _, n := range field.Names {
						prop, err := jsonName(n.Name, field.Tag)
						if err != nil {
							return nil, fmt.Errorf("%s: %s.%s: %w", fset.Position(field.Pos()), ts.Name.Name, n.Name, err)
						}
						if prop != "" && n.IsExported() {
							key := f.Name.Name + "." + ts.Name.Name
							out[key] = append(out[key], prop)
						}
					}
				}
			}
		}
	}
	return out, nil
}

// jsonName is the JSON name encoding/json gives a field ("" if skipped).
func jsonName(field string, tag *ast.BasicLit) (string, error) {
	if tag == nil {
		return field, nil
	}
	raw, err := strconv.Unquote(tag.Value)
	if err != nil {
		return "", err
	}
	name, _, _ := strings.Cut(reflect.StructTag(raw).Get("json"), ",")
	switch name {
	case "-":
		return "", nil
	case "":
		return field, nil
	}
	return name, nil
}
