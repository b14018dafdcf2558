package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/internal/storecopy"
	"github.com/hirehook/hirehook/seal"
)

// CopyStore is a Store with both capabilities of a copy (`hirehook
// migrate-store`): it exports its rows and imports another store's.
type CopyStore interface {
	hirehook.Store
	storecopy.Exporter
	storecopy.Importer
}

// NewCopyStoreFunc opens a fresh, empty store sealing its secrets with
// ring, and registers its cleanup with tb.
type NewCopyStoreFunc func(tb testing.TB, ring *seal.Keyring) CopyStore

// RunCopy checks export and import: a store filled through the Store
// methods, exported and imported into an empty one with another keyring,
// answers every read as the first did (the delivery it was attempting
// given as due now), keeps its API keys working (their pepper goes with
// them), carries on its sequences after the copied rows, and refuses a
// second import; an import rolled back leaves nothing.
func RunCopy(t *testing.T, newStore NewCopyStoreFunc) {
	t.Run("RoundTrip", func(t *testing.T) { t.Parallel(); testCopyRoundTrip(t, newStore) })
	t.Run("Rollback", func(t *testing.T) { t.Parallel(); testCopyRollback(t, newStore) })
}

// copyAll exports src into dst in one import and returns the counts.
func copyAll(tb testing.TB, src, dst CopyStore) storecopy.Counts {
	tb.Helper()
	ctx := context.Background()
	im, err := dst.BeginImport(ctx)
	must(tb, err)
	defer im.Rollback()
	counts := storecopy.Counts{}
	must(tb, src.Export(ctx, func(b storecopy.Batch) error {
		counts.Add(b)
		return im.Write(ctx, b)
	}))
	must(tb, im.Commit(ctx))
	return counts
}

// copyFixture is what fillForCopy made: the raw API key, the delivery left
// being attempted, and the ids to read back.
type copyFixture struct {
	apiKey      string
	leased      string
	subjects    []hirehook.Subject
	deliveries  []string
	source      *hirehook.Source
	endpoint    *hirehook.Endpoint
	backfillEP  string
	inboundSeen []string
}

// fillForCopy writes one or more rows of every table of storecopy.Tables.
func fillForCopy(tb testing.TB, s hirehook.Store) copyFixture {
	tb.Helper()
	ctx := context.Background()
	var fx copyFixture
	must(tb, s.TenantCreate(ctx, &hirehook.Tenant{ID: "t2", Name: "Other agency", RetentionDays: 7, CreatedAt: t0, UpdatedAt: t0}))
	fx.apiKey = "hh_copy_test_key"
	exp := t0.Add(24 * time.Hour)
	must(tb, s.APIKeyCreate(ctx, &hirehook.APIKey{ID: hirehook.NewID("key"), TenantID: tenant, Name: "ops", Scope: hirehook.ScopeAdmin,
		Hash: hirehook.HashAPIKey(fx.apiKey), CreatedAt: t0, ExpiresAt: &exp}))
	must(tb, s.AuditAppend(ctx, &hirehook.AuditEntry{ID: hirehook.NewID("aud"), TenantID: tenant, At: t0, KeyID: "key_1", KeyName: "ops",
		Action: "endpoint.create", Target: "ep_1", Details: json.RawMessage(`{"url":"https://example.com"}`)}))

	fx.endpoint = newEndpoint(tb, s, tenant, "*")
	newEndpoint(tb, s, "t2", "candidate.*")
	// A broker endpoint: its kind, config and credentials travel too.
	now := time.Now().UTC().Truncate(time.Microsecond)
	must(tb, s.EndpointCreate(ctx, &hirehook.Endpoint{TenantID: tenant, ID: hirehook.NewID("ep"), Kind: hirehook.KindNATS, URL: "nats://n1:4222/hr.{event_type}",
		EventTypes: []string{"*"}, Config: map[string]string{"servers": "n1:4222", "subject": "hr"}, Credentials: map[string]string{"token": "tok-copy"},
		Secrets: []hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: now}}, CreatedAt: now, UpdatedAt: now}))
	c1 := newEvent(tenant, "candidate.created", "c1", `{"id":"c1","first_name":"Ada","email":"ada@example.com"}`)
	c2 := newEvent(tenant, "candidate.created", "c2", `{"id":"c2","first_name":"Bo"}`)
	p1 := newEvent(tenant, "placement.created", "p1", `{"id":"p1","candidate":{"id":"c1","name":"Ada"}}`)
	o1 := newEvent("t2", "candidate.created", "c9", `{"id":"c9"}`)
	idem := "idem-1"
	c1.IdempotencyKey = idem
	ingestAt(tb, s, t0, c1, c2, p1)
	ingestAt(tb, s, t0.Add(time.Second), o1)
	fx.subjects = []hirehook.Subject{c1.Subject, c2.Subject, p1.Subject}

	// One delivery attempted and done, one being attempted (leased).
	claimed, err := s.DeliveryClaim(ctx, hirehook.DeliveryClaimParams{Owner: "w1", Now: t0.Add(2 * time.Second), LeaseUntil: t0.Add(time.Hour), Limit: 2})
	must(tb, err)
	if len(claimed) != 2 {
		tb.Fatalf("claimed %d deliveries, want 2", len(claimed))
	}
	complete(tb, s, "w1", claimed[:1], hirehook.DeliveryDelivered, t0.Add(3*time.Second))
	fx.leased = claimed[1].ID
	ds, err := s.DeliveryList(ctx, hirehook.DeliveryFilter{TenantID: tenant, Limit: 100})
	must(tb, err)
	for _, d := range ds {
		fx.deliveries = append(fx.deliveries, d.ID)
	}

	// An erased candidate: erased_at on its event and record.
	_, err = s.CandidateErase(ctx, hirehook.CandidateEraseParams{TenantID: tenant, CandidateID: "c2", Now: t0.Add(4 * time.Second)})
	must(tb, err)

	fx.source = newSource(tb, s, tenant, true)
	must(tb, s.SourceStateSet(ctx, hirehook.SourceStateParams{TenantID: tenant, SourceID: fx.source.ID, Key: "cursor", Value: "42"}))
	must(tb, s.BackfillCreate(ctx, &hirehook.Backfill{TenantID: tenant, ID: hirehook.NewID("bf"), EndpointID: fx.endpoint.ID, Entities: []string{"candidate"},
		RatePerSecond: 5, State: hirehook.BackfillRunning, CreatedAt: t0, UpdatedAt: t0}))
	fx.backfillEP = fx.endpoint.ID
	seen := newInbound(tb, s, fx.source, hirehook.InboundReceived, "k1", `{"candidate":"c1"}`, t0, nil)
	empty := newInbound(tb, s, fx.source, hirehook.InboundReceived, "k2", ``, t0.Add(time.Second), nil)
	rejected := newInbound(tb, s, fx.source, hirehook.InboundRejected, "", `nope`, t0.Add(2*time.Second), nil)
	fx.inboundSeen = []string{seen.ID, empty.ID, rejected.ID}
	return fx
}

// copyReads is everything the Store reads of a filled store, for a diff.
type copyReads struct {
	Tenants    []*hirehook.Tenant
	Keys       []*hirehook.APIKey
	Audit      []*hirehook.AuditEntry
	Endpoints  map[string][]*hirehook.Endpoint
	Events     map[string][]*hirehook.Event
	Records    []*hirehook.Record
	Deliveries []*hirehook.Delivery
	Attempts   map[string][]*hirehook.Attempt
	Sources    []*hirehook.Source
	State      string
	Backfills  []*hirehook.Backfill
	Inbound    []*hirehook.InboundRequest
}

func readForCopy(tb testing.TB, s hirehook.Store, fx copyFixture) copyReads {
	tb.Helper()
	ctx := context.Background()
	var r copyReads
	var err error
	r.Tenants, err = s.TenantList(ctx, hirehook.TenantFilter{Limit: 100})
	must(tb, err)
	r.Keys, err = s.APIKeyList(ctx, tenant)
	must(tb, err)
	r.Audit, err = s.AuditList(ctx, hirehook.AuditFilter{TenantID: tenant, Limit: 100})
	must(tb, err)
	r.Endpoints, r.Events = map[string][]*hirehook.Endpoint{}, map[string][]*hirehook.Event{}
	for _, tn := range []string{tenant, "t2"} {
		r.Endpoints[tn], err = s.EndpointList(ctx, hirehook.EndpointFilter{TenantID: tn, Limit: 100})
		must(tb, err)
		r.Events[tn], err = s.EventList(ctx, hirehook.EventFilter{TenantID: tn, Limit: 100})
		must(tb, err)
	}
	for _, sub := range fx.subjects {
		rec, err := s.RecordGet(ctx, tenant, sub.Entity, sub.ID)
		must(tb, err)
		r.Records = append(r.Records, rec)
	}
	r.Attempts = map[string][]*hirehook.Attempt{}
	for _, id := range fx.deliveries {
		d, attempts, err := s.DeliveryGet(ctx, tenant, id)
		must(tb, err)
		r.Deliveries, r.Attempts[id] = append(r.Deliveries, d), attempts
	}
	r.Sources, err = s.SourceList(ctx, hirehook.SourceFilter{TenantID: tenant, Limit: 100})
	must(tb, err)
	r.State, err = s.SourceStateGet(ctx, hirehook.SourceStateParams{TenantID: tenant, SourceID: fx.source.ID, Key: "cursor"})
	must(tb, err)
	r.Backfills, err = s.BackfillList(ctx, tenant, fx.backfillEP)
	must(tb, err)
	for _, id := range fx.inboundSeen {
		in, err := s.InboundGet(ctx, tenant, fx.source.ID, id)
		must(tb, err)
		r.Inbound = append(r.Inbound, in)
	}
	return r
}

func testCopyRoundTrip(t *testing.T, newStore NewCopyStoreFunc) {
	ctx := context.Background()
	ringA, _ := newRing(t)
	ringB, _ := newRing(t)
	src, dst := newStore(t, ringA), newStore(t, ringB)
	fx := fillForCopy(t, src)
	want := readForCopy(t, src, fx)

	counts := copyAll(t, src, dst)
	for _, table := range storecopy.Tables {
		if counts[table] == 0 {
			t.Errorf("the export gave no rows of %s (counts: %s), want every table", table, counts)
		}
	}
	got := readForCopy(t, dst, fx)

	// The delivery being attempted is given as due now, without a lease.
	var leased *hirehook.Delivery
	for _, d := range got.Deliveries {
		if d.ID == fx.leased {
			leased = d
		}
	}
	if leased == nil || leased.State != hirehook.DeliveryPending || !leased.LeaseExpiresAt.IsZero() || leased.NextAttemptAt == nil {
		t.Errorf("the delivery being attempted, imported = %+v, want pending, due, not leased", leased)
	}
	for i, d := range want.Deliveries {
		if d.ID == fx.leased {
			want.Deliveries[i] = leased
		}
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("reads after the copy (-source +target):\n%s", diff)
	}

	// The keys still work: the pepper their hashes are keyed with came along.
	k, err := dst.APIKeyByHash(ctx, hirehook.HashAPIKey(fx.apiKey))
	if err != nil {
		t.Fatalf("the copied API key does not authenticate on the target: %v", err)
	}
	if k.Name != "ops" {
		t.Errorf("copied key = %+v", k)
	}

	// New rows come after the copied ones.
	late := newEvent(tenant, "candidate.updated", "c1", `{"id":"c1","first_name":"Ada L."}`)
	ingestAt(t, dst, t0.Add(time.Minute), late)
	evs, err := dst.EventList(ctx, hirehook.EventFilter{TenantID: tenant, Limit: 100})
	must(t, err)
	if n := len(evs); n != len(want.Events[tenant])+1 || evs[n-1].ID != late.ID {
		t.Errorf("events after a new ingest on the target: %d, last %s; want %d, last %s", n, evs[n-1].ID, len(want.Events[tenant])+1, late.ID)
	}
	ep := newEndpoint(t, dst, tenant, "*")
	eps, err := dst.EndpointList(ctx, hirehook.EndpointFilter{TenantID: tenant, Limit: 100})
	must(t, err)
	if eps[len(eps)-1].ID != ep.ID {
		t.Errorf("a new endpoint on the target is not listed last")
	}

	// A store that holds data refuses an import.
	_, err = dst.BeginImport(ctx)
	var notEmpty *storecopy.NotEmptyError
	if !errors.As(err, &notEmpty) || notEmpty.Found["events"] == 0 {
		t.Errorf("BeginImport on a store with data: %v, want a NotEmptyError counting its events", err)
	}
}

func testCopyRollback(t *testing.T, newStore NewCopyStoreFunc) {
	ctx := context.Background()
	ring, _ := newRing(t)
	src, dst := newStore(t, ring), newStore(t, ring)
	fillForCopy(t, src)
	im, err := dst.BeginImport(ctx)
	must(t, err)
	must(t, src.Export(ctx, func(b storecopy.Batch) error { return im.Write(ctx, b) }))
	must(t, im.Rollback())
	tenants, err := dst.TenantList(ctx, hirehook.TenantFilter{Limit: 10})
	must(t, err)
	if len(tenants) != 1 || tenants[0].ID != hirehook.DefaultTenantID {
		t.Errorf("tenants after a rolled back import = %v, want the default one only", tenants)
	}
	if n, err := dst.APIKeyCount(ctx); err != nil || n != 0 {
		t.Errorf("API keys after a rolled back import = %d, %v; want 0", n, err)
	}
	// Nothing was left half-written: the import can be run again.
	copyAll(t, src, dst)
}
