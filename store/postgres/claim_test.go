package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/store/postgres"
	"github.com/hirehook/hirehook/store/postgres/postgrestest"
)

// Two nodes, two claimers each, claim while skipping one endpoint (its
// lane full everywhere): no delivery is claimed twice, every due delivery
// of the other endpoints is claimed, none of the skipped endpoint's, and
// of an ordered endpoint's subject only the head (the claimed ones are
// never finished here).
func TestClaimSkippingAcrossNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := postgrestest.NewDatabase(t)
	nodes := []*postgres.Store{open(t, dsn, postgres.Options{MaxConns: 4}), open(t, dsn, postgres.Options{MaxConns: 4})}
	now := time.Now().UTC().Truncate(time.Microsecond)
	endpoint := func(id, types string, ordered bool) {
		t.Helper()
		ep := &hirehook.Endpoint{TenantID: hirehook.DefaultTenantID, ID: id, URL: "https://example.com/" + id, EventTypes: []string{types},
			Ordered: ordered, Secrets: []hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: now}}, CreatedAt: now, UpdatedAt: now}
		if err := nodes[0].EndpointCreate(ctx, ep); err != nil {
			t.Fatal(err)
		}
	}
	endpoint("ep_skipped", "candidate.*", false)
	endpoint("ep_a", "placement.*", false)
	endpoint("ep_b", "placement.*", false)
	endpoint("ep_ordered", "job.*", true)
	event := func(typ, subject string) *hirehook.Event {
		return &hirehook.Event{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("evt"), Type: typ, OccurredAt: now,
			Subject: hirehook.Subject{Entity: typ[:len(typ)-len(".created")], ID: subject}, Data: json.RawMessage(`{"id":"` + subject + `"}`)}
	}
	// Due one millisecond apart, interleaved: 50 of the skipped endpoint,
	// 60 placements (one delivery each to ep_a and ep_b), 5 jobs about j_0
	// and one about each of j_1 … j_10.
	var events []*hirehook.Event
	for i := range 60 {
		if i < 50 {
			events = append(events, event("candidate.created", fmt.Sprintf("c_%d", i)))
		}
		events = append(events, event("placement.created", fmt.Sprintf("pl_%d", i)))
		if i < 5 {
			events = append(events, event("job.created", "j_0"))
		}
		if i >= 5 && i < 15 {
			events = append(events, event("job.created", fmt.Sprintf("j_%d", i-4)))
		}
	}
	for i, ev := range events {
		if _, err := nodes[i%2].EventIngest(ctx, hirehook.EventIngestParams{Events: []*hirehook.Event{ev}, Now: now.Add(time.Duration(i) * time.Millisecond)}); err != nil {
			t.Fatal(err)
		}
	}
	claimAt := now.Add(time.Minute)
	var mu sync.Mutex
	seen := map[string]*hirehook.Delivery{}
	owners := map[string]string{}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprintf("node_%d_%d", w%2, w)
			for {
				ds, err := nodes[w%2].DeliveryClaim(ctx, hirehook.DeliveryClaimParams{Owner: owner, Now: claimAt, LeaseUntil: claimAt.Add(time.Minute),
					Limit: 7, SkipEndpoints: []string{"ep_skipped"}})
				if err != nil {
					t.Error(err)
					return
				}
				if len(ds) == 0 {
					return
				}
				mu.Lock()
				for _, d := range ds {
					if prev, ok := owners[d.ID]; ok {
						t.Errorf("delivery %s claimed by %s and %s", d.ID, prev, owner)
					}
					seen[d.ID], owners[d.ID] = d, owner
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	byEndpoint := map[string]int{}
	subjects := map[string]int{}
	for _, d := range seen {
		byEndpoint[d.EndpointID]++
		if d.EndpointID == "ep_ordered" {
			subjects[d.OrderingKey]++
		}
	}
	if byEndpoint["ep_skipped"] != 0 || byEndpoint["ep_a"] != 60 || byEndpoint["ep_b"] != 60 || byEndpoint["ep_ordered"] != 11 {
		t.Fatalf("claimed per endpoint %v, want 60 of ep_a and of ep_b, 11 of ep_ordered (one per subject), none of ep_skipped", byEndpoint)
	}
	for key, n := range subjects {
		if n != 1 {
			t.Fatalf("claimed %d deliveries of subject %q of the ordered endpoint at once, want its head alone", n, key)
		}
	}
	// A claim that skips none takes the skipped endpoint's 50.
	ds, err := nodes[1].DeliveryClaim(ctx, hirehook.DeliveryClaimParams{Owner: "node_1", Now: claimAt, LeaseUntil: claimAt.Add(time.Minute), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 50 {
		t.Fatalf("claim skipping none = %d deliveries, want the skipped endpoint's 50", len(ds))
	}
}
