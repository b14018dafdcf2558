package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
)

// testEventIngestBatch: a large batch, leased for the hot hand-off, whose
// events share subjects (within the batch and with stored ones) and ids
// (with stored events), is written whole and in order, whatever the number
// of statements a store splits it into: every new event, in batch order;
// each record merged in event order; one delivery per event and endpoint,
// leased unless an ordered endpoint holds it behind an earlier one of its
// subject.
func testEventIngestBatch(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	plain := newEndpoint(t, s, tenant, "*")
	ordered := newEndpoint(t, s, tenant, "*")
	on := true
	_, err := s.EndpointUpdate(ctx, tenant, ordered.ID, hirehook.EndpointUpdate{Ordered: &on})
	must(t, err)
	const subjects = 7
	lease := func(events []*hirehook.Event) []hirehook.EventIngestResult {
		t.Helper()
		res, err := s.EventIngest(ctx, hirehook.EventIngestParams{Events: events, Now: t0, LeaseOwner: "node_1", LeaseUntil: t0.Add(time.Minute)})
		must(t, err)
		if len(res) != len(events) {
			t.Fatalf("EventIngest returned %d results for %d events", len(res), len(events))
		}
		return res
	}
	event := func(i int) *hirehook.Event {
		// Some data with white space, as a producer may send it.
		data := fmt.Sprintf(`{"id":"pl_%d","n":%d,"step_%d":true}`, i%subjects, i, i)
		if i%3 == 0 {
			data = fmt.Sprintf("{ \"id\": \"pl_%d\",\n  \"n\": %d, \"step_%d\": true }", i%subjects, i, i)
		}
		return newEvent(tenant, "placement.updated", fmt.Sprintf("pl_%d", i%subjects), data)
	}

	// 150 events: more than one statement's worth in any chunking.
	var first []*hirehook.Event
	for i := range 150 {
		first = append(first, event(i))
	}
	res := lease(first)
	leasedOrdered := 0
	for i, r := range res {
		if r.Duplicate || r.EventID != first[i].ID || r.Deliveries != 2 {
			t.Fatalf("result %d = %+v, want a new event with 2 deliveries", i, r)
		}
		for _, d := range r.Leased {
			if d.EndpointID == ordered.ID {
				leasedOrdered++
			}
		}
	}
	if leasedOrdered != subjects {
		t.Fatalf("%d deliveries to the ordered endpoint leased, want %d (the first of each subject)", leasedOrdered, subjects)
	}

	// 70 more: 5 repeat stored events (by id), 65 are new, of the same
	// subjects.
	second := []*hirehook.Event{}
	for i := range 5 {
		again := *first[10+i]
		second = append(second, &again)
	}
	for i := 150; i < 215; i++ {
		second = append(second, event(i))
	}
	res = lease(second)
	for i, r := range res {
		if dup := i < 5; r.Duplicate != dup || r.EventID != second[i].ID || r.Deliveries != 2 {
			t.Fatalf("second batch, result %d = %+v, want duplicate=%t with 2 deliveries", i, r, dup)
		}
		for _, d := range r.Leased {
			if d.EndpointID == ordered.ID {
				t.Fatalf("second batch, event %d: a delivery to the ordered endpoint was leased while its subject's first is unfinished", i)
			}
		}
	}

	all := append(first, second[5:]...)
	evs, err := s.EventList(ctx, hirehook.EventFilter{TenantID: tenant, Limit: 1000})
	must(t, err)
	if len(evs) != len(all) {
		t.Fatalf("%d events stored, want %d", len(evs), len(all))
	}
	for i, e := range evs {
		if e.ID != all[i].ID || e.Deliveries != 2 || !jsonEqual(t, e.Data, all[i].Data) {
			t.Fatalf("event %d = %s with %d deliveries and data %s, want %s, 2, %s", i, e.ID, e.Deliveries, e.Data, all[i].ID, all[i].Data)
		}
	}

	for k := range subjects {
		rec, err := s.RecordGet(ctx, tenant, "placement", fmt.Sprintf("pl_%d", k))
		must(t, err)
		var last *hirehook.Event
		version := 0
		want := map[string]any{}
		for _, e := range all {
			if e.Subject.ID == rec.ID {
				last, version = e, version+1
				var patch map[string]any
				must(t, json.Unmarshal(e.Data, &patch))
				for f, v := range patch {
					want[f] = v
				}
			}
		}
		wantData, err := json.Marshal(want)
		must(t, err)
		if rec.Version != version || rec.LastEventID != last.ID || !jsonEqual(t, rec.Data, wantData) {
			t.Fatalf("record %s = version %d, last event %s, data %s; want version %d, last event %s, data %s (every event merged in order)",
				rec.ID, rec.Version, rec.LastEventID, rec.Data, version, last.ID, wantData)
		}
	}

	ds, err := s.DeliveryList(ctx, hirehook.DeliveryFilter{TenantID: tenant, Limit: 10000})
	must(t, err)
	if len(ds) != 2*len(all) {
		t.Fatalf("%d deliveries, want %d", len(ds), 2*len(all))
	}
	perEvent := map[string]map[string]hirehook.DeliveryState{}
	for _, d := range ds {
		if perEvent[d.EventID] == nil {
			perEvent[d.EventID] = map[string]hirehook.DeliveryState{}
		}
		perEvent[d.EventID][d.EndpointID] = d.State
	}
	seen := map[string]bool{}
	for i, e := range all {
		got := perEvent[e.ID]
		wantOrdered := hirehook.DeliveryPending
		if !seen[e.Subject.ID] {
			wantOrdered = hirehook.DeliveryDelivering
		}
		seen[e.Subject.ID] = true
		if len(got) != 2 || got[plain.ID] != hirehook.DeliveryDelivering || got[ordered.ID] != wantOrdered {
			t.Fatalf("deliveries of event %d = %v, want %s to %s and %s to the ordered %s", i, got, hirehook.DeliveryDelivering, plain.ID, wantOrdered, ordered.ID)
		}
	}
}
