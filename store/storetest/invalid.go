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
	entity := "candidate"
	_, err = s.RecordEvents(ctx, hirehook.EventFilter{TenantID: tenant, Entity: &entity})
	wantCode(t, err, hirehook.EINVALID)
}
