package bullhorn_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hirehook/hirehook/connector/bullhorn"
)

// TestTransportErrorHidesCredentials: a transport error names the URL it
// tried without what may carry the credentials. An AuthURL that ends in a
// fragment puts the authorize query (with the password) inside the
// fragment, so the fragment goes too.
func TestTransportErrorHidesCredentials(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(nil)
	closed, hc := srv.URL, srv.Client()
	srv.Close() // every request now fails to connect
	for _, authURL := range []string{closed, closed + "/#section", "http://api.user:hunter2@" + strings.TrimPrefix(closed, "http://")} {
		c, err := bullhorn.NewClient(bullhorn.ClientConfig{
			Credentials: bullhorn.Credentials{ClientID: "hirehook", ClientSecret: "s3cret-client", Username: "api.user", Password: "hunter2"},
			AuthURL:     authURL, LoginURL: closed, HTTPClient: hc,
		})
		if err != nil {
			t.Fatal(err)
		}
		err = c.Login(context.Background())
		if err == nil {
			t.Fatalf("AuthURL %s: login to a closed server succeeded", authURL)
		}
		for _, secret := range []string{"hunter2", "s3cret-client"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("AuthURL %s: login error shows a credential: %v", authURL, err)
			}
		}
	}
}
