package destination

import (
	"context"
	"sync"
	"testing"
	"time"
)

type fakeClient struct{ id int }

// countingPool opens numbered clients and counts each client's closes;
// a close blocks until unblock is closed.
func countingPool(t *testing.T, unblock chan struct{}) (*Pool[*fakeClient], func(id int) int) {
	var mu sync.Mutex
	closes := map[int]int{}
	n := 0
	p := &Pool[*fakeClient]{
		OpenFunc: func(context.Context, Target) (*fakeClient, error) {
			mu.Lock()
			defer mu.Unlock()
			n++
			return &fakeClient{id: n}, nil
		},
		CloseFunc: func(c *fakeClient) {
			<-unblock
			mu.Lock()
			closes[c.id]++
			mu.Unlock()
		},
	}
	return p, func(id int) int {
		mu.Lock()
		defer mu.Unlock()
		return closes[id]
	}
}

// TestPoolReleaseDoesNotWaitForClose: the last user of a dropped client
// releases it without waiting for its close (a Publish that timed out
// must not overrun its deadline closing the client), and Close waits
// for that close.
func TestPoolReleaseDoesNotWaitForClose(t *testing.T) {
	t.Parallel()
	unblock := make(chan struct{})
	p, closes := countingPool(t, unblock)
	tg := Target{EndpointID: "ep_1", Version: time.Unix(1, 0)}
	c, release, err := p.Get(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	p.Drop(tg.EndpointID)
	released := make(chan struct{})
	go func() { release(); close(released) }()
	select {
	case <-released:
	case <-time.After(5 * time.Second):
		t.Fatal("release blocked on the client's close")
	}
	close(unblock)
	p.Close() // waits for the background close
	if n := closes(c.id); n != 1 {
		t.Errorf("client closed %d times, want 1", n)
	}
}

// TestPoolCloseWhileInUse: a client in use when the pool is closed is
// closed once, not again when its user releases it.
func TestPoolCloseWhileInUse(t *testing.T) {
	t.Parallel()
	unblock := make(chan struct{})
	close(unblock)
	p, closes := countingPool(t, unblock)
	tg := Target{EndpointID: "ep_1", Version: time.Unix(1, 0)}
	c, release, err := p.Get(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	release()
	if n := closes(c.id); n != 1 {
		t.Errorf("client closed %d times, want 1", n)
	}

	// A client dropped while in use and released after Close is closed
	// once too.
	p2, closes2 := countingPool(t, unblock)
	c2, release2, err := p2.Get(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	p2.Drop(tg.EndpointID)
	p2.Close()
	release2()
	if n := closes2(c2.id); n != 1 {
		t.Errorf("dropped client closed %d times, want 1", n)
	}
}
