package inbound

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/hirehook/hirehook/connector/greenhouse"
)

// BenchmarkInbound measures POST /in/{source_id} end to end on a SQLite
// file: a signed Greenhouse stage change verified, logged, normalised and
// committed as an event (every request a new Greenhouse-Event-ID), against
// the baseline of the same HTTP client posting the same body to a handler
// that only reads it, in the same run.
//
//	go test -run XXX -bench Inbound -count 5 ./inbound
func BenchmarkInbound(b *testing.B) {
	body := []byte(`{"action":"candidate_stage_change","payload":{"application":{"id":265293,"status":"active","current_stage":{"id":767358,"name":"Phone Screen"},"candidate":{"id":265772,"first_name":"Amara","last_name":"Okafor"},"jobs":[{"id":107761,"name":"Java Developer"}]}}}`)
	sig := greenhouse.Sign(body, "bench-secret")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	run := func(b *testing.B, url string) {
		var n atomic.Int64
		b.SetParallelism(4)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set("Signature", sig)
				req.Header.Set("Greenhouse-Event-ID", fmt.Sprint("evt-", n.Add(1)))
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	}
	b.Run("baseline", func(b *testing.B) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusOK)
		}))
		defer srv.Close()
		run(b, srv.URL)
	})
	b.Run("greenhouse", func(b *testing.B) {
		r := newRig(b)
		src := r.source(b, KindGreenhouse, map[string]any{"signing_secret": "bench-secret"})
		run(b, r.srv.URL+"/in/"+src.ID)
	})
}
