package storetest

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hirehook/hirehook"
)

// testInboundMasksCredentials: whoever builds an inbound request, the log
// keeps its credential-bearing headers masked.
func testInboundMasksCredentials(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	src := newSource(t, s, tenant, true)
	r := &hirehook.InboundRequest{TenantID: tenant, ID: hirehook.NewID("inr"), SourceID: src.ID, ReceivedAt: t0,
		Status: hirehook.InboundRejected, BodySize: 2,
		Header: http.Header{"Teamtailor-Api-Token": {"tok-1"}, "X-Api-Key": {"key-1"}, "Authorization": {"Basic YTpi"},
			"X-Receiver-Token": {"t1", "t2"}, "Webhook-Signature": {"v1,abc"}, "Event-Name": {"candidate.created"}}}
	must(t, s.InboundCreate(ctx, r))
	got, err := s.InboundGet(ctx, tenant, src.ID, r.ID)
	must(t, err)
	m := hirehook.Masked
	want := http.Header{"Teamtailor-Api-Token": {m}, "X-Api-Key": {m}, "Authorization": {m},
		"X-Receiver-Token": {m, m}, "Webhook-Signature": {m}, "Event-Name": {"candidate.created"}}
	if diff := cmp.Diff(want, got.Header); diff != "" {
		t.Errorf("stored header (-want +got):\n%s", diff)
	}
}
