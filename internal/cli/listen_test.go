package cli

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
)

func TestListenVerifiesAndAnswers(t *testing.T) {
	t.Parallel()
	secret := hirehook.NewSecret()
	var out bytes.Buffer
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		listenHandler(&out, secret, 503).ServeHTTP(w, r)
	}))
	defer srv.Close()
	body := []byte(`{"id":"evt_1","type":"offer.signed","data":{"id":"o_1"}}`)
	for _, sec := range []string{secret, hirehook.NewSecret()} {
		ts := time.Now().Unix()
		sig, _ := hirehook.Sign(sec, "evt_1", ts, body)
		req, _ := http.NewRequest("POST", srv.URL+"/hooks", bytes.NewReader(body))
		req.Header.Set("webhook-id", "evt_1")
		req.Header.Set("webhook-timestamp", fmt.Sprint(ts))
		req.Header.Set("webhook-signature", sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 503 {
			t.Fatalf("status %d, want the chosen 503", resp.StatusCode)
		}
	}
	mu.Lock()
	got := out.String()
	mu.Unlock()
	if !strings.Contains(got, "offer.signed") || !strings.Contains(got, "signature valid") || !strings.Contains(got, "signature INVALID") {
		t.Fatalf("listen output:\n%s", got)
	}
}
