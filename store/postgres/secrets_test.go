package postgres_test

import (
	"testing"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/seal"
	"github.com/hirehook/hirehook/store/postgres"
	"github.com/hirehook/hirehook/store/postgres/postgrestest"
	"github.com/hirehook/hirehook/store/storetest"
)

// TestSecretsAtRest: custom headers and API keys, in the columns.
func TestSecretsAtRest(t *testing.T) {
	t.Parallel()
	dsn := postgrestest.NewDatabase(t)
	storetest.RunSecretsAtRest(t, storetest.SecretsAtRest{
		OpenFunc: func(tb testing.TB, ring *seal.Keyring) hirehook.Store {
			return open(tb, dsn, postgres.Options{Keyring: ring})
		},
		Raw:     rawDB(t, dsn),
		TimeSQL: "now()",
	})
}
