package storetest

import (
	"context"
	"testing"

	"github.com/hirehook/hirehook"
)

// testInvalidArguments: arguments a store cannot accept are EINVALID, as
// the Store contract says, not an internal error.
func testInvalidArguments(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	good := newEvent(tenant, "candidate.created", "c1", `{"id":"c1"}`)
	bad := newEvent(tenant, "candidate.created", "c2", `{"id":"c2"}`)
	bad.Subject.ID = ""
	_, err := s.EventIngest(ctx, hirehook.EventIngestParams{Events: []*hirehook.Event{good, bad}, Now: t0})
	wantCode(t, err, hirehook.EINVALID)
	// Nothing of the batch was written.
	if _, err := s.EventGet(ctx, tenant, good.ID); hirehook.ErrorCode(err) != hirehook.ENOTFOUND {
		t.Errorf("the valid event of a refused batch: %v, want not_found", err)
	}
	// An event that is not there, data that is not JSON, a lease without
	// its end: refused, nothing written.
	notJSON := newEvent(tenant, "candidate.created", "c3", `{"id":`)
	leased := newEvent(tenant, "candidate.created", "c4", `{"id":"c4"}`)
	for name, p := range map[string]hirehook.EventIngestParams{
		"nil event":            {Events: []*hirehook.Event{good, nil}, Now: t0},
		"data not JSON":        {Events: []*hirehook.Event{good, notJSON}, Now: t0},
		"lease without expiry": {Events: []*hirehook.Event{leased}, Now: t0, LeaseOwner: "node-1"},
	} {
		_, err := s.EventIngest(ctx, p)
		if hirehook.ErrorCode(err) != hirehook.EINVALID {
			t.Errorf("EventIngest with %s: error code %q (%v), want %q", name, hirehook.ErrorCode(err), err, hirehook.EINVALID)
		}
	}
	for _, e := range []*hirehook.Event{good, notJSON, leased} {
		if _, err := s.EventGet(ctx, tenant, e.ID); hirehook.ErrorCode(err) != hirehook.ENOTFOUND {
			t.Errorf("event %s of a refused batch: %v, want not_found", e.ID, err)
		}
	}

	entity := "candidate"
	_, err = s.RecordEvents(ctx, hirehook.EventFilter{TenantID: tenant, Entity: &entity})
	wantCode(t, err, hirehook.EINVALID)
}
