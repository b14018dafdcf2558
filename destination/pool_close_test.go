package destination

import (
	"context"
	"sync"
	"testing"
)

// A client in use when the pool closes is closed once: by Close, not again
// by its user's release.
func TestPoolCloseWhileInUseClosesOnce(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	closes := map[int]int{}
	next := 0
	p := &Pool[int]{
		OpenFunc: func(context.Context, Target) (int, error) {
			mu.Lock()
			defer mu.Unlock()
			next++
			return next, nil
		},
		CloseFunc: func(c int) {
			mu.Lock()
			closes[c]++
			mu.Unlock()
		},
	}
	c, release, err := p.Get(t.Context(), Target{EndpointID: "ep_1"})
	if err != nil {
		t.Fatal(err)
	}
	// Retired before Close, still in use: its release closes it.
	p.Drop("ep_1", c)
	c2, release2, err := p.Get(t.Context(), Target{EndpointID: "ep_1"})
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	release()
	release2()
	mu.Lock()
	defer mu.Unlock()
	if closes[c] != 1 || closes[c2] != 1 {
		t.Errorf("CloseFunc calls: dropped client %d, client in use at Close %d; want 1 each", closes[c], closes[c2])
	}
}
