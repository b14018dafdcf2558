package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
)

// TestSIGTERMUnderLoadLosesNothingDuplicatesNothing runs the hub as a child
// process, sends it SIGTERM while producers post events and deliveries are
// in flight, restarts it on the same SQLite file, and checks that every
// event answered 202 arrives exactly once and no event arrives twice.
// Events whose POST failed during the shutdown may be lost (or delivered,
// if the commit won the race with the answer); they may not be duplicated.
func TestSIGTERMUnderLoadLosesNothingDuplicatesNothing(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts child processes")
	}
	db := filepath.Join(t.TempDir(), "hirehook.db")

	var mu sync.Mutex
	seen := map[string]int{} // webhook-id → receipts
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		// Slower than the producers (one attempt in flight, 10 ms each):
		// when the signal comes, attempts are in flight and deliveries
		// wait in the lanes and in the store.
		time.Sleep(10 * time.Millisecond)
		mu.Lock()
		seen[r.Header.Get("webhook-id")]++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rc.Close()

	args := []string{"serve", "--addr", "127.0.0.1:0", "--db", "sqlite:" + db, "--admin-key", testKey,
		"--allow-private-destinations", "--retry-schedule", "50ms",
		"--shutdown-timeout", "10s"}
	first, base := startChild(t, args)
	// placement.* only: not the operational events. One attempt at a time.
	if st := call(t, base, "POST", "/v1/endpoints", map[string]any{"url": rc.URL, "event_types": []string{"placement.*"}, "max_concurrency": 1}, nil); st != 201 {
		t.Fatalf("create endpoint: status %d", st)
	}

	// Steady load from a few producers until their requests fail.
	var (
		ackMu   sync.Mutex
		acked   []string
		nacked  atomic.Int64
		stop    = make(chan struct{})
		wg      sync.WaitGroup
		client  = &http.Client{Timeout: 10 * time.Second}
		counter atomic.Int64
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// At most 100 events/s each: enough to keep a queue, few
			// enough that the restarted hub drains it in seconds.
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				body, _ := json.Marshal(placement(fmt.Sprintf("pl_%d", counter.Add(1))))
				req, _ := http.NewRequest(http.MethodPost, base+"/v1/events", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+testKey)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					nacked.Add(1)
					continue
				}
				data, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var acc hirehook.EventAccepted
				if resp.StatusCode != http.StatusAccepted || json.Unmarshal(data, &acc) != nil || acc.ID == "" {
					nacked.Add(1)
					continue
				}
				ackMu.Lock()
				acked = append(acked, acc.ID)
				ackMu.Unlock()
			}
		}()
	}
	ackedCount := func() int {
		ackMu.Lock()
		defer ackMu.Unlock()
		return len(acked)
	}
	// SIGTERM once the load is well under way and webhooks are arriving.
	waitFor(t, 10*time.Second, "events acked and webhooks arriving", func() bool {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		return ackedCount() >= 200 && n >= 20
	})
	termAt := time.Now()
	mu.Lock()
	atTerm := len(seen)
	mu.Unlock()
	ackedAtTerm := ackedCount()
	if err := first.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var exitAfter time.Duration
	exited := make(chan error, 1)
	go func() { exited <- first.Wait() }()
	select {
	case err := <-exited:
		exitAfter = time.Since(termAt)
		if err != nil {
			t.Fatalf("hub exited after SIGTERM with %v, want a clean exit", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("hub did not exit within 15s of SIGTERM")
	}
	// Keep the load on briefly against the closed port, then stop it.
	time.Sleep(20 * time.Millisecond)
	close(stop)
	wg.Wait()
	ackMu.Lock()
	ids := append([]string(nil), acked...)
	ackMu.Unlock()
	mu.Lock()
	before := len(seen)
	mu.Unlock()
	t.Logf("at SIGTERM %d events acked and %d delivered; the hub exited %v later; %d acked in all, %d requests failed or refused around the shutdown, %d delivered before the restart",
		ackedAtTerm, atTerm, exitAfter.Round(time.Millisecond), len(ids), nacked.Load(), before)

	_, base2 := startChild(t, args)
	waitFor(t, 30*time.Second, "every acked event to arrive after the restart", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, id := range ids {
			if seen[id] == 0 {
				return false
			}
		}
		return true
	})
	// Nothing left to send: then no duplicate can still be on its way.
	waitFor(t, 15*time.Second, "no unfinished deliveries", func() bool {
		for _, state := range []string{"pending", "delivering", "retrying"} {
			var list struct {
				Data []deliveryView `json:"data"`
			}
			if st := call(t, base2, "GET", "/v1/deliveries?limit=1&state="+state, nil, &list); st != 200 || len(list.Data) > 0 {
				return false
			}
		}
		return true
	})
	var failed struct {
		Data []deliveryView `json:"data"`
	}
	call(t, base2, "GET", "/v1/deliveries?limit=10&state=failed", nil, &failed)
	if len(failed.Data) > 0 {
		t.Errorf("%d deliveries failed, e.g. %+v", len(failed.Data), failed.Data[0])
	}
	mu.Lock()
	defer mu.Unlock()
	dupes := 0
	for id, n := range seen {
		if n > 1 {
			dupes++
			if dupes <= 5 {
				t.Errorf("event %s delivered %d times", id, n)
			}
		}
	}
	if dupes > 0 {
		t.Fatalf("%d events delivered more than once after a graceful shutdown", dupes)
	}
}
