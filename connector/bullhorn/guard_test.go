package bullhorn_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hirehook/hirehook/connector/bullhorn"
	"github.com/hirehook/hirehook/internal/netguard"
)

// TestDefaultClientRefusesPrivateAddresses: without an HTTPClient, the
// client is netguard's, so a login URL on loopback is refused at dial time
// as the hub's own client refuses it. (It was a plain client that dialled
// anything.)
func TestDefaultClientRefusesPrivateAddresses(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the server was reached: %s %s", r.Method, r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	c, err := bullhorn.NewClient(bullhorn.ClientConfig{
		Credentials: bullhorn.Credentials{ClientID: "id", ClientSecret: "secret", Username: "u", Password: "p"},
		AuthURL:     srv.URL, LoginURL: srv.URL,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(t.Context()); !errors.Is(err, netguard.ErrForbidden) {
		t.Fatalf("login to %s: err = %v, want netguard.ErrForbidden", srv.URL, err)
	}
}
