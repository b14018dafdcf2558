package codegen_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/hirehook/hirehook/catalog"
	"github.com/hirehook/hirehook/client/internal/codegen"
)

// TestGeneratedFilesAreFresh fails when the catalog changed and the
// generated files were not regenerated.
func TestGeneratedFilesAreFresh(t *testing.T) {
	t.Parallel()
	for _, f := range []struct {
		path string
		gen  func(*catalog.Catalog) ([]byte, error)
	}{
		{"../../entity/entities_gen.go", codegen.Entities},
		{"../../receiver/entities_gen.go", codegen.Accessors},
	} {
		t.Run(f.path, func(t *testing.T) {
			t.Parallel()
			want, err := f.gen(catalog.Default())
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(f.path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s is stale: run go generate ./client/entity", f.path)
			}
		})
	}
}
