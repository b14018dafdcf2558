package hirehook_test

import (
	"slices"
	"testing"

	"github.com/hirehook/hirehook"
)

// TestDestinationSecrets: every credential of every kind is a secret but
// the user names, which the attempt log may show; a field the kind does
// not know counts as a secret.
func TestDestinationSecrets(t *testing.T) {
	t.Parallel()
	for _, k := range hirehook.DestinationKinds {
		creds := map[string]string{"unknown_field": "v-unknown"}
		for _, f := range k.Credentials {
			creds[f.Name] = "v-" + f.Name
		}
		got := k.Secrets(creds)
		for name, v := range creds {
			if want := name != "username"; slices.Contains(got, v) != want {
				t.Errorf("%s: credential %s secret = %v, want %v", k.Name, name, !want, want)
			}
		}
	}
}
