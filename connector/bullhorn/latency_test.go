package bullhorn_test

import (
	"context"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/connector/bullhorn"
	"github.com/hirehook/hirehook/connector/bullhorn/bullhornsim"
)

// TestLatency measures the time from a placement's approval in the
// simulator to its placement.confirmed reaching Emit, over 1,000 placements
// approved across 20 s, with the default 2 s poll interval. It takes about
// 25 s, so it runs only with HIREHOOK_BULLHORN_LATENCY=1.
func TestLatency(t *testing.T) {
	if os.Getenv("HIREHOOK_BULLHORN_LATENCY") == "" {
		t.Skip("set HIREHOOK_BULLHORN_LATENCY=1 to measure")
	}
	const n = 1000
	b := setup(t, bullhornsim.Config{})
	a := seed(t, b.sim)
	ids := make([]int, n)
	for i := range ids {
		ids[i] = newPlacement(t, b.sim, a)
	}

	var mu sync.Mutex
	approved := map[string]time.Time{}
	var lat []time.Duration
	p, err := bullhorn.NewPoller(bullhorn.PollerConfig{
		Client: b.client, Mapper: b.mapper, SubscriptionID: subID, Checkpoint: b.cp,
		Emit: func(_ context.Context, evs []*hirehook.Event) error {
			now := time.Now()
			mu.Lock()
			defer mu.Unlock()
			for _, e := range evs {
				if e.Type == "placement.confirmed" {
					lat = append(lat, now.Sub(approved[e.Subject.ID]))
				}
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.PollOnce(context.Background()); err != nil { // subscribe
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer p.Stop(context.Background())
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for _, id := range ids {
		<-tick.C
		mu.Lock()
		approved["bh_"+strconv.Itoa(id)] = time.Now()
		mu.Unlock()
		mustUpdate(t, b.sim, "Placement", id, map[string]any{"status": "Approved"})
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		done := len(lat) == n
		mu.Unlock()
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d confirmed", len(lat), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	slices.Sort(lat)
	t.Logf("simulator change → Emit over %d placements, 2 s interval: p50 %v, p90 %v, p99 %v, max %v",
		n, lat[n/2].Round(time.Millisecond), lat[n*9/10].Round(time.Millisecond), lat[n*99/100].Round(time.Millisecond), lat[n-1].Round(time.Millisecond))
}
