package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/seal"
	"github.com/hirehook/hirehook/store/sqlite"
	"github.com/hirehook/hirehook/store/storetest"
)

// TestSecretsAtRest: custom headers and API keys, in the file and its WAL.
func TestSecretsAtRest(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hirehook.db")
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	storetest.RunSecretsAtRest(t, storetest.SecretsAtRest{
		OpenFunc: func(tb testing.TB, ring *seal.Keyring) hirehook.Store {
			s, err := sqlite.OpenWithOptions(context.Background(), path, sqlite.Options{Keyring: ring})
			if err != nil {
				tb.Fatal(err)
			}
			return s
		},
		Raw:      raw,
		DumpFunc: func(tb testing.TB) []byte { return fileBytes(tb, path) },
		TimeSQL:  "1733500000000000",
	})
}
