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

// WireType is what the Go declaration of a wire type says about its JSON
// that swag does not write into the document.
type WireType struct {
	// NullableItems are the JSON names of the fields whose type is a slice
	// of pointers ([]*float64): JSON null is a value of their items.
	NullableItems []string
	// Always are the JSON names of the fields without omitempty:
	// encoding/json writes them in every value, null or not.
	Always []string
}

// WireTypes reads the exported struct types of the Go package in dir (its
// non-test files), by schema name as swag names them (package.Type).
func WireTypes(dir string) (map[string]WireType, error) {
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[string]WireType{}
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
				var wt WireType
				for _, field := range st.Fields.List {
					for _, n := range field.Names { // embedded fields have none: skipped
						if !n.IsExported() {
							continue
						}
						prop, omitempty, err := jsonName(n.Name, field.Tag)
						if err != nil {
							return nil, fmt.Errorf("%s: %s.%s: %w", fset.Position(field.Pos()), ts.Name.Name, n.Name, err)
						}
						if prop == "" {
							continue
						}
						if !omitempty {
							wt.Always = append(wt.Always, prop)
						}
						if arr, ok := field.Type.(*ast.ArrayType); ok {
							if _, ok := arr.Elt.(*ast.StarExpr); ok {
								wt.NullableItems = append(wt.NullableItems, prop)
							}
						}
					}
				}
				if wt.Always != nil || wt.NullableItems != nil {
					out[f.Name.Name+"."+ts.Name.Name] = wt
				}
			}
		}
	}
	return out, nil
}

// jsonName is the JSON name encoding/json gives a field ("" if skipped)
// and whether it is left out when empty.
func jsonName(field string, tag *ast.BasicLit) (name string, omitempty bool, err error) {
	if tag == nil {
		return field, false, nil
	}
	raw, err := strconv.Unquote(tag.Value)
	if err != nil {
		return "", false, err
	}
	name, opts, hasOpts := strings.Cut(reflect.StructTag(raw).Get("json"), ",")
	for o := range strings.SplitSeq(opts, ",") {
		omitempty = omitempty || o == "omitempty" || o == "omitzero"
	}
	switch name {
	case "-":
		if !hasOpts { // json:"-" skips the field; json:"-," names it "-"
			return "", false, nil
		}
	case "":
		name = field
	}
	return name, omitempty, nil
}
