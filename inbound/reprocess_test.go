package inbound

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/connector/greenhouse"
	"github.com/hirehook/hirehook/connector/push"
)

// mapped holds the ids of the sources whose "fixable" kind has its
// mapping: before, every request is unsupported, as a vendor event is
// before hirehook maps it.
var mapped sync.Map

const kindFixable = "fixable"

func init() {
	gh := Kinds[KindGreenhouse]
	Kinds[kindFixable] = &Kind{Name: kindFixable, Title: "Fixable", Status: http.StatusOK, verify: gh.verify, key: gh.key,
		parse: func(c *Config, h http.Header, body []byte, opts push.Options) (*parsed, error) {
			if _, ok := mapped.Load(opts.SourceID); ok {
				return gh.parse(c, h, body, opts)
			}
			return &parsed{VendorEvent: "candidate_stage_change", DedupeKey: greenhouse.DedupKey(body), Unsupported: "not mapped yet"}, nil
		}}
}

// TestReprocessAfterMappingFixed: a request that had no mapping is kept;
// once the mapping exists, reprocessing its window emits its event. Doing
// it again emits nothing new (the event ids are the same).
func TestReprocessAfterMappingFixed(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	src := r.source(t, kindFixable, map[string]any{"signing_secret": "fx"})
	body := fixture(t, "greenhouse", "candidate_stage_change.json")
	start := time.Now().UTC().Add(-time.Second)
	code, ans := r.post(t, src.ID, http.Header{"Signature": {greenhouse.Sign(body, "fx")}}, body)
	if code != http.StatusOK || ans["status"] != hirehook.InboundUnsupported {
		t.Fatalf("first: %d %v", code, ans)
	}
	reqID := ans["request_id"].(string)
	if n := r.eventCount(t); n != 0 {
		t.Fatalf("%d events before the mapping", n)
	}
	mapped.Store(src.ID, true)
	for round := range 2 {
		n, err := r.st.InboundReprocess(ctx, hirehook.InboundReprocessParams{TenantID: src.TenantID, SourceID: src.ID,
			From: start, To: time.Now().UTC().Add(time.Second), Now: time.Now().UTC()})
		if err != nil || n != 1 {
			t.Fatalf("round %d: reprocess %d, %v", round, n, err)
		}
		if took, err := r.worker.RunOnce(ctx); err != nil || took != 1 {
			t.Fatalf("round %d: worker took %d, %v", round, took, err)
		}
		q, err := r.st.InboundGet(ctx, src.TenantID, src.ID, reqID)
		if err != nil {
			t.Fatal(err)
		}
		if q.Status != hirehook.InboundProcessed || len(q.EventIDs) != 1 || q.Attempts != round+2 {
			t.Fatalf("round %d: request %+v", round, q)
		}
		if n := r.eventCount(t); n != 1 {
			t.Fatalf("round %d: %d events, want 1", round, n)
		}
	}
}

// TestWorkerFinishesStoredRequest: a request stored but not normalised
// (the node died between storing and answering) is taken by the worker.
func TestWorkerFinishesStoredRequest(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	src := r.source(t, KindGreenhouse, map[string]any{"signing_secret": "gh"})
	body := fixture(t, "greenhouse", "hire_candidate.json")
	past := time.Now().UTC().Add(-time.Minute).Truncate(time.Microsecond)
	req := &hirehook.InboundRequest{TenantID: src.TenantID, ID: hirehook.NewID("inr"), SourceID: src.ID, ReceivedAt: past,
		Status: hirehook.InboundReceived, DedupeKey: push.BodyKey(body), Header: http.Header{"Signature": {greenhouse.Sign(body, "gh")}},
		Body: body, BodySize: len(body), DueAt: &past}
	if err := r.st.InboundCreate(ctx, req); err != nil {
		t.Fatal(err)
	}
	if took, err := r.worker.RunOnce(ctx); err != nil || took != 1 {
		t.Fatalf("worker took %d, %v", took, err)
	}
	q, err := r.st.InboundGet(ctx, src.TenantID, src.ID, req.ID)
	if err != nil {
		t.Fatal(err)
	}
	if q.Status != hirehook.InboundProcessed || len(q.EventIDs) == 0 {
		t.Fatalf("request %+v", q)
	}
	if took, _ := r.worker.RunOnce(ctx); took != 0 {
		t.Fatalf("worker took %d more", took)
	}
}
