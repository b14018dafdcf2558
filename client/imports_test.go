package client_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports holds the SDK to the standard library, the root hirehook
// package and its own packages, so that importing it adds no module to a
// producer's or receiver's build. (Tests and the code generator under
// internal/ may import more.)
func TestImports(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{".", "entity", "receiver"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			f, err := parser.ParseFile(token.NewFileSet(), file, src, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				first, _, _ := strings.Cut(path, "/")
				switch {
				case !strings.Contains(first, "."): // the standard library
				case path == "github.com/hirehook/hirehook":
				case strings.HasPrefix(path, "github.com/hirehook/hirehook/client/") && !strings.Contains(path, "/internal/"):
				default:
					t.Errorf("%s imports %s; the SDK may import only the standard library, hirehook and client/...", file, path)
				}
			}
		}
	}
}
