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
	p.Drop(tg.EndpointID, c)
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
	p2.Drop(tg.EndpointID, c2)
	p2.Close()
	release2()
	if n := closes2(c2.id); n != 1 {
		t.Errorf("dropped client closed %d times, want 1", n)
	}
}

// TestPoolDropOnlyTheFailedClient: two publishes fail on the same broken
// client; the first drops it and a new client connects; the second's drop
// must leave the new client alone.
func TestPoolDropOnlyTheFailedClient(t *testing.T) {
	t.Parallel()
	unblock := make(chan struct{})
	close(unblock)
	p, closes := countingPool(t, unblock)
	tg := Target{EndpointID: "ep_1", Version: time.Unix(1, 0)}
	old, release1, err := p.Get(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	_, release2, err := p.Get(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	p.Drop(tg.EndpointID, old) // the first failed publish
	release1()
	fresh, release3, err := p.Get(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	if fresh == old {
		t.Fatal("Get after Drop returned the dropped client")
	}
	p.Drop(tg.EndpointID, old) // the second failed publish, on the old client
	release2()
	release3()
	again, release4, err := p.Get(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	release4()
	if again != fresh {
		t.Fatalf("a late drop of the old client replaced the new one (%v, want %v)", again, fresh)
	}
	p.Close()
	if closes(old.id) != 1 || closes(fresh.id) != 1 {
		t.Fatalf("closes: old %d, fresh %d; want 1 each", closes(old.id), closes(fresh.id))
	}
}
