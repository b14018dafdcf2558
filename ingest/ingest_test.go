package ingest

// The tests are in package ingest (not ingest_test) only so that
// TestCommitQueueFullDuringStop can see when the queue is full; every other
// test uses the exported API alone.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/catalog"
	"github.com/hirehook/hirehook/internal/testwait"
	"github.com/hirehook/hirehook/store/postgres"
	"github.com/hirehook/hirehook/store/postgres/postgrestest"
	"github.com/hirehook/hirehook/store/sqlite"
)

const tenant = hirehook.DefaultTenantID

// newStore opens a SQLite store on a file in a temporary directory.
func newStore(tb testing.TB) hirehook.Store {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "hirehook.db"))
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() {
		if err := st.Close(); err != nil {
			tb.Errorf("close store: %v", err)
		}
	})
	return st
}

// startIngester starts an Ingester on st and stops it in tb's cleanup.
func startIngester(tb testing.TB, st hirehook.Store, cfg Config) *Ingester {
	tb.Helper()
	in := New(st, cfg)
	if err := in.Start(context.Background()); err != nil {
		tb.Fatalf("start ingester: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := in.Stop(ctx); err != nil {
			tb.Errorf("stop ingester: %v", err)
		}
	})
	return in
}

// newEndpoint stores an endpoint subscribed to types.
func newEndpoint(tb testing.TB, st hirehook.Store, disabled bool, types ...string) *hirehook.Endpoint {
	tb.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	ep := &hirehook.Endpoint{
		TenantID:   tenant,
		ID:         hirehook.NewID("ep"),
		URL:        "https://ats.example.com/hooks",
		EventTypes: types,
		Disabled:   disabled,
		Secrets:    []hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: now}},
		CreatedAt:  now,
		UpdatedAt:  now,
	}
	if err := st.EndpointCreate(context.Background(), ep); err != nil {
		tb.Fatalf("create endpoint: %v", err)
	}
	return ep
}

// data returns a candidate.created input with data d.
func data(d string) *hirehook.EventInput {
	return &hirehook.EventInput{Type: "candidate.created", Data: json.RawMessage(d)}
}

// manyKeys returns n members "k0":0,"k1":0,... of an object.
func manyKeys(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%d":0`, i)
	}
	return b.String()
}

// input returns a minimal valid input of type typ about entity id.
func input(id, typ, dataID string) *hirehook.EventInput {
	return &hirehook.EventInput{ID: id, Type: typ, Data: json.RawMessage(`{"id":` + quote(dataID) + `}`)}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// prepare prepares in for the default tenant and fails tb on error.
func prepare(tb testing.TB, in *Ingester, input *hirehook.EventInput) *hirehook.Event {
	tb.Helper()
	e, err := in.Prepare(tenant, input, "")
	if err != nil {
		tb.Fatalf("Prepare(%+v): %v", input, err)
	}
	return e
}

// commitOne commits e alone and returns its result.
func commitOne(tb testing.TB, in *Ingester, e *hirehook.Event) hirehook.EventIngestResult {
	tb.Helper()
	res, err := in.Commit(context.Background(), []*hirehook.Event{e})
	if err != nil {
		tb.Fatalf("Commit(%s): %v", e.ID, err)
	}
	if len(res) != 1 {
		tb.Fatalf("Commit(%s) = %d results, want 1", e.ID, len(res))
	}
	return res[0]
}

// wantFieldError checks that err is an EINVALID *hirehook.Error naming field.
func wantFieldError(tb testing.TB, err error, field string) {
	tb.Helper()
	var herr *hirehook.Error
	if !errors.As(err, &herr) {
		tb.Fatalf("error = %v (%T), want *hirehook.Error with field %q", err, err, field)
	}
	if herr.Code != hirehook.EINVALID || herr.Field != field {
		tb.Errorf("error code, field = %q, %q; want %q, %q (message %q)", herr.Code, herr.Field, hirehook.EINVALID, field, herr.Message)
	}
}

// wantUnavailable checks that err is an EUNAVAILABLE *hirehook.Error.
func wantUnavailable(tb testing.TB, err error) {
	tb.Helper()
	var herr *hirehook.Error
	if !errors.As(err, &herr) {
		tb.Fatalf("error = %v (%T), want *hirehook.Error with code %q", err, err, hirehook.EUNAVAILABLE)
	}
	if herr.Code != hirehook.EUNAVAILABLE {
		tb.Errorf("error code = %q, want %q", herr.Code, hirehook.EUNAVAILABLE)
	}
}

// idMillis decodes the milliseconds that a NewID("evt") id starts with.
func idMillis(tb testing.TB, id string) int64 {
	tb.Helper()
	const crockford = "0123456789abcdefghjkmnpqrstvwxyz"
	suffix, ok := strings.CutPrefix(id, "evt_")
	if !ok || len(suffix) != 26 {
		tb.Fatalf("id %q is not evt_ and 26 characters", id)
	}
	var ms int64
	for _, c := range suffix[:10] { // 2 zero bits, then 48 bits of milliseconds
		v := strings.IndexRune(crockford, c)
		if v < 0 {
			tb.Fatalf("id %q has %q, not in Crockford base32", id, c)
		}
		ms = ms<<5 | int64(v)
	}
	return ms
}

// blocker is a Notify (or Handoff) that blocks the committer goroutine until
// released, so that tests can queue requests behind a busy committer.
type blocker struct {
	entered     chan struct{}
	once        sync.Once
	release     chan struct{}
	releaseOnce sync.Once
	calls       atomic.Int64
}

// newBlocker returns a blocker. Callers register unblock as a cleanup after
// starting the Ingester, so that it runs before Stop: a committer left
// blocked would hang Stop.
func newBlocker() *blocker {
	return &blocker{entered: make(chan struct{}), release: make(chan struct{})}
}

func (b *blocker) notify() {
	b.calls.Add(1)
	b.once.Do(func() { close(b.entered) })
	<-b.release
}

func (b *blocker) unblock() {
	b.releaseOnce.Do(func() { close(b.release) })
}

// waitEntered waits until the committer is blocked in notify.
func (b *blocker) waitEntered(tb testing.TB) {
	tb.Helper()
	select {
	case <-b.entered:
	case <-time.After(10 * time.Second):
		tb.Fatal("the committer never called Notify")
	}
}

func TestPrepare(t *testing.T) {
	t.Parallel()

	type bundle struct {
		in *Ingester
	}
	setup := func(t *testing.T, cfg Config) *bundle {
		t.Helper()
		// Prepare does not touch the store, but the Ingester is built as
		// in production.
		return &bundle{in: New(newStore(t), cfg)}
	}

	t.Run("GeneratesSortableID", func(t *testing.T) {
		t.Parallel()
		b := setup(t, Config{})

		before := time.Now().UnixMilli()
		e1 := prepare(t, b.in, input("", "candidate.created", "cand_1"))
		after := time.Now().UnixMilli()
		if !hirehook.ValidEventID(e1.ID) {
			t.Errorf("generated id %q is not a valid event id", e1.ID)
		}
		if ms := idMillis(t, e1.ID); ms < before || ms > after {
			t.Errorf("id %q encodes %d ms, want within [%d, %d]", e1.ID, ms, before, after)
		}
		// An id made a millisecond later sorts after.
		testwait.For(t, time.Second, "the clock to move on a millisecond", func() bool { return time.Now().UnixMilli() > after }, nil)
		e2 := prepare(t, b.in, input("", "candidate.created", "cand_1"))
		if !(e1.ID < e2.ID) {
			t.Errorf("later id %q does not sort after %q", e2.ID, e1.ID)
		}
	})

	t.Run("KeepsProducerID", func(t *testing.T) {
		t.Parallel()
		b := setup(t, Config{})
		for _, id := range []string{"e", "ats:evt-42_X", strings.Repeat("a", 128)} {
			e := prepare(t, b.in, input(id, "candidate.created", "cand_1"))
			if e.ID != id {
				t.Errorf("ID = %q, want the producer's %q", e.ID, id)
			}
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		b := setup(t, Config{})
		tests := []struct {
			name      string
			input     *hirehook.EventInput
			wantField string
		}{
			{"IDWithDot", input("evt.1", "candidate.created", "cand_1"), "id"},
			{"IDWithSpace", input("evt 1", "candidate.created", "cand_1"), "id"},
			{"IDWithSlash", input("evt/1", "candidate.created", "cand_1"), "id"},
			{"IDNonASCII", input("évt", "candidate.created", "cand_1"), "id"},
			{"IDTooLong", input(strings.Repeat("a", 129), "candidate.created", "cand_1"), "id"},
			{"UnknownType", input("", "candidate.hired", "cand_1"), "type"},
			{"EmptyType", input("", "", "cand_1"), "type"},
			{"BadOccurredAt", &hirehook.EventInput{Type: "candidate.created", OccurredAt: "2026-11-27 09:30:00", Data: json.RawMessage(`{"id":"cand_1"}`)}, "occurred_at"},
			{"OccurredAtWithoutZone", &hirehook.EventInput{Type: "candidate.created", OccurredAt: "2026-11-27T09:30:00", Data: json.RawMessage(`{"id":"cand_1"}`)}, "occurred_at"},
			{"SubjectEntityOfAnotherType", &hirehook.EventInput{Type: "candidate.created", Subject: &hirehook.SubjectInput{Entity: "placement"}, Data: json.RawMessage(`{"id":"cand_1"}`)}, "subject.entity"},
			{"JobPostedSubjectEntityJob", &hirehook.EventInput{Type: "job.posted", Subject: &hirehook.SubjectInput{Entity: "job"}, Data: json.RawMessage(`{"id":"jp_1"}`)}, "subject.entity"},
			{"SubjectIDTooLong", &hirehook.EventInput{Type: "candidate.created", Subject: &hirehook.SubjectInput{ID: strings.Repeat("c", 129)}, Data: json.RawMessage(`{"id":"cand_1"}`)}, "subject.id"},
			{"SourceTooLong", &hirehook.EventInput{Type: "candidate.created", Source: strings.Repeat("s", 129), Data: json.RawMessage(`{"id":"cand_1"}`)}, "source"},
			{"MissingData", &hirehook.EventInput{Type: "candidate.created"}, "data"},
			{"MissingDataID", &hirehook.EventInput{Type: "candidate.created", Data: json.RawMessage(`{"first_name":"Amara"}`)}, "data.id"},
			{"EmptyChangeField", &hirehook.EventInput{Type: "candidate.updated", Data: json.RawMessage(`{"id":"cand_1"}`), Changes: map[string]hirehook.Change{"": {}}}, "changes"},

			// The limits of data (catalog.MaxData*) and the JSON every
			// parser reads alike (issue 16).
			{"DataTooDeep", data(`{"id":"cand_1","x":` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `}`), "data.x" + strings.Repeat("[0]", catalog.MaxDataDepth-1)},
			{"DataDeepAtLimit", data(`{"id":"cand_1","x":` + strings.Repeat("[", catalog.MaxDataDepth) + strings.Repeat("]", catalog.MaxDataDepth) + `}`), "data.x" + strings.Repeat("[0]", catalog.MaxDataDepth-1)},
			{"DataStringTooLong", data(`{"id":"cand_1","first_name":"` + strings.Repeat("a", catalog.MaxDataString+1) + `"}`), "data.first_name"},
			{"DataTooManyKeys", data(`{"id":"cand_1","x":{` + manyKeys(catalog.MaxDataKeys) + `}}`), fmt.Sprintf("data.x.k%d", catalog.MaxDataKeys-2)}, // id and x count too,
			{"DataTooLarge", data(`{"id":"cand_1","x":[` + strings.Repeat(`"`+strings.Repeat("a", 1000)+`",`, catalog.MaxDataBytes/1000) + `""]}`), "data"},
			{"DataInvalidUTF8", data("{\"id\":\"cand_1\",\"first_name\":\"A\xffB\"}"), "data.first_name"},
			{"DataLoneSurrogate", data(`{"id":"cand_1","first_name":"\ud800"}`), "data.first_name"},
			{"DataLoneLowSurrogate", data(`{"id":"cand_1","tags":["ok","\udc00x"]}`), "data.tags[1]"},
			{"DataNUL", data(`{"id":"cand_1","first_name":"a\u0000b"}`), "data.first_name"},
			{"DataIDNUL", data(`{"id":"cand\u00001"}`), "data.id"},
			{"DataIDControl", data(`{"id":"cand\u00011"}`), "data.id"},
			{"DataNumberTooLarge", data(`{"id":"cand_1","x":1e400}`), "data.x"},
			{"DataDuplicateKey", data(`{"id":"cand_1","first_name":"A","first_name":"B"}`), "data.first_name"},
			{"DataDuplicateID", data(`{"id":"cand_1","id":"cand_2"}`), "data.id"},
			{"SubjectIDNUL", &hirehook.EventInput{Type: "candidate.created", Subject: &hirehook.SubjectInput{ID: "a\x00b"}, Data: json.RawMessage(`{"id":"cand_1"}`)}, "subject.id"},
			{"SubjectIDInvalidUTF8", &hirehook.EventInput{Type: "candidate.created", Subject: &hirehook.SubjectInput{ID: "a\xffb"}, Data: json.RawMessage(`{"id":"cand_1"}`)}, "subject.id"},
			{"SourceNUL", &hirehook.EventInput{Type: "candidate.created", Source: "ats\x00", Data: json.RawMessage(`{"id":"cand_1"}`)}, "source"},
			{"ChangeFieldNUL", &hirehook.EventInput{Type: "candidate.updated", Data: json.RawMessage(`{"id":"cand_1"}`), Changes: map[string]hirehook.Change{"a\x00": {}}}, "changes"},
			{"ChangeFromNumberTooLarge", &hirehook.EventInput{Type: "candidate.updated", Data: json.RawMessage(`{"id":"cand_1"}`), Changes: map[string]hirehook.Change{"score": {From: json.RawMessage(`1e400`), To: json.RawMessage(`1`)}}}, "changes.score.from"},
			{"ChangeToDuplicateKey", &hirehook.EventInput{Type: "candidate.updated", Data: json.RawMessage(`{"id":"cand_1"}`), Changes: map[string]hirehook.Change{"address": {To: json.RawMessage(`{"city":"A","city":"B"}`)}}}, "changes.address.to.city"},
			{"ChangeToInvalidUTF8", &hirehook.EventInput{Type: "candidate.updated", Data: json.RawMessage(`{"id":"cand_1"}`), Changes: map[string]hirehook.Change{"first name": {To: json.RawMessage("\"\xff\"")}}}, `changes["first name"].to`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				e, err := b.in.Prepare(tenant, tt.input, "")
				if err == nil {
					t.Fatalf("Prepare = event %+v, want an error on field %q", e, tt.wantField)
				}
				wantFieldError(t, err, tt.wantField)
			})
		}
	})

	t.Run("Subject", func(t *testing.T) {
		t.Parallel()
		b := setup(t, Config{})
		tests := []struct {
			name  string
			input *hirehook.EventInput
			want  hirehook.Subject
		}{
			{"DefaultsToDataID", input("", "candidate.created", "cand_1"), hirehook.Subject{Entity: "candidate", ID: "cand_1"}},
			{"IDOverridden", &hirehook.EventInput{Type: "candidate.created", Subject: &hirehook.SubjectInput{ID: "bullhorn:77"}, Data: json.RawMessage(`{"id":"cand_1"}`)}, hirehook.Subject{Entity: "candidate", ID: "bullhorn:77"}},
			{"EntityRepeated", &hirehook.EventInput{Type: "candidate.created", Subject: &hirehook.SubjectInput{Entity: "candidate"}, Data: json.RawMessage(`{"id":"cand_1"}`)}, hirehook.Subject{Entity: "candidate", ID: "cand_1"}},
			{"JobPostedIsJobPosting", input("", "job.posted", "jp_1"), hirehook.Subject{Entity: "job_posting", ID: "jp_1"}},
			{"JobCreatedIsJob", input("", "job.created", "job_1"), hirehook.Subject{Entity: "job", ID: "job_1"}},
			{"JobPostedWithEntity", &hirehook.EventInput{Type: "job.posted", Subject: &hirehook.SubjectInput{Entity: "job_posting", ID: "jp_9"}, Data: json.RawMessage(`{"id":"jp_1"}`)}, hirehook.Subject{Entity: "job_posting", ID: "jp_9"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				e := prepare(t, b.in, tt.input)
				if diff := cmp.Diff(tt.want, e.Subject); diff != "" {
					t.Errorf("Subject mismatch (-want +got):\n%s", diff)
				}
			})
		}
	})

	t.Run("Fields", func(t *testing.T) {
		t.Parallel()
		b := setup(t, Config{})
		e, err := b.in.Prepare("tnt_1", &hirehook.EventInput{Type: "candidate.created", Source: "bullhorn", Data: json.RawMessage(`{"id":"cand_1"}`)}, "key-1")
		if err != nil {
			t.Fatal(err)
		}
		if e.TenantID != "tnt_1" || e.Type != "candidate.created" || e.Source != "bullhorn" || e.IdempotencyKey != "key-1" {
			t.Errorf("TenantID, Type, Source, IdempotencyKey = %q, %q, %q, %q; want tnt_1, candidate.created, bullhorn, key-1",
				e.TenantID, e.Type, e.Source, e.IdempotencyKey)
		}
	})

	t.Run("OccurredAtDefaultsToNow", func(t *testing.T) {
		t.Parallel()
		now := time.Date(2026, 11, 27, 10, 30, 0, 123456789, time.FixedZone("CET", 3600))
		b := setup(t, Config{NowFunc: func() time.Time { return now }})
		e := prepare(t, b.in, input("", "candidate.created", "cand_1"))
		want := time.Date(2026, 11, 27, 9, 30, 0, 123456000, time.UTC)
		if !e.OccurredAt.Equal(want) || e.OccurredAt.Location() != time.UTC {
			t.Errorf("OccurredAt = %v, want %v (UTC, microseconds)", e.OccurredAt, want)
		}
	})

	t.Run("OccurredAtDefaultsToClock", func(t *testing.T) {
		t.Parallel()
		b := setup(t, Config{})
		before := time.Now().Truncate(time.Microsecond)
		e := prepare(t, b.in, input("", "candidate.created", "cand_1"))
		after := time.Now()
		if e.OccurredAt.Before(before) || e.OccurredAt.After(after) {
			t.Errorf("OccurredAt = %v, want within [%v, %v]", e.OccurredAt, before, after)
		}
		if e.OccurredAt.Location() != time.UTC || e.OccurredAt.Nanosecond()%1000 != 0 {
			t.Errorf("OccurredAt = %v, want UTC with microsecond precision", e.OccurredAt)
		}
	})

	t.Run("OccurredAtGiven", func(t *testing.T) {
		t.Parallel()
		b := setup(t, Config{})
		in := input("", "candidate.created", "cand_1")
		in.OccurredAt = "2026-11-27T11:30:00.123456789+02:00"
		e := prepare(t, b.in, in)
		want := time.Date(2026, 11, 27, 9, 30, 0, 123456000, time.UTC)
		if !e.OccurredAt.Equal(want) || e.OccurredAt.Location() != time.UTC {
			t.Errorf("OccurredAt = %v, want %v (UTC, microseconds)", e.OccurredAt, want)
		}
	})

	t.Run("Payload", func(t *testing.T) {
		t.Parallel()
		b := setup(t, Config{})
		e := prepare(t, b.in, &hirehook.EventInput{
			ID:         "evt_42",
			Type:       "candidate.updated",
			OccurredAt: "2026-11-27T09:30:00.5Z",
			Source:     "bullhorn",
			Subject:    &hirehook.SubjectInput{ID: "bh:77"},
			Data:       json.RawMessage("{\n  \"id\": \"cand_1\",\n  \"first_name\": \"Amara\"\n}"),
			Changes:    map[string]hirehook.Change{"status": {From: json.RawMessage(`"active"`), To: json.RawMessage(`"placed"`)}},
		})
		var got map[string]json.RawMessage
		if err := json.Unmarshal(e.Payload, &got); err != nil {
			t.Fatalf("payload %s is not a JSON object: %v", e.Payload, err)
		}
		want := map[string]string{
			"id":        `"evt_42"`,
			"type":      `"candidate.updated"`,
			"timestamp": `"2026-11-27T09:30:00.5Z"`,
			"source":    `"bullhorn"`,
			"subject":   `{"entity":"candidate","id":"bh:77"}`,
			"data":      `{"id":"cand_1","first_name":"Amara"}`,
			"changes":   `{"status":{"from":"active","to":"placed"}}`,
		}
		gotS := map[string]string{}
		for k, v := range got {
			gotS[k] = string(v)
		}
		if diff := cmp.Diff(want, gotS); diff != "" {
			t.Errorf("payload mismatch (-want +got):\n%s", diff)
		}
		var p hirehook.WebhookPayload
		if err := json.Unmarshal(e.Payload, &p); err != nil {
			t.Fatal(err)
		}
		if !p.Timestamp.Equal(e.OccurredAt) {
			t.Errorf("payload timestamp %v, want occurred_at %v", p.Timestamp, e.OccurredAt)
		}
	})

	t.Run("PayloadWithoutChangesOrSource", func(t *testing.T) {
		t.Parallel()
		b := setup(t, Config{})
		e := prepare(t, b.in, input("evt_1", "job.posted", "jp_1"))
		var got map[string]json.RawMessage
		if err := json.Unmarshal(e.Payload, &got); err != nil {
			t.Fatalf("payload %s is not a JSON object: %v", e.Payload, err)
		}
		var keys []string
		for k := range got {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if diff := cmp.Diff([]string{"data", "id", "subject", "timestamp", "type"}, keys); diff != "" {
			t.Errorf("payload keys mismatch (-want +got):\n%s", diff)
		}
		if s := string(got["subject"]); s != `{"entity":"job_posting","id":"jp_1"}` {
			t.Errorf("payload subject = %s", s)
		}
	})
}

// deliveriesOf is the number of deliveries that each type creates with the
// endpoints of TestCommit_concurrent.
var deliveriesOf = map[string]int{
	"candidate.created":   2, // candidate.* and *
	"placement.confirmed": 2, // placement.confirmed and *
	"job.created":         1, // *
}

func TestCommit_concurrent(t *testing.T) {
	t.Parallel()

	type bundle struct {
		st hirehook.Store
		in *Ingester
	}
	setup := func(t *testing.T) *bundle {
		t.Helper()
		st := newStore(t)
		newEndpoint(t, st, false, "candidate.*")
		newEndpoint(t, st, false, "*")
		newEndpoint(t, st, false, "placement.confirmed")
		newEndpoint(t, st, true, "*") // disabled: gets nothing
		return &bundle{st: st, in: startIngester(t, st, Config{})}
	}

	t.Run("EveryCallerGetsItsResult", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		types := []string{"candidate.created", "placement.confirmed", "job.created"}
		const n = 200

		events := make([]*hirehook.Event, n)
		for i := range events {
			events[i] = prepare(t, b.in, input("", types[i%len(types)], fmt.Sprintf("ent_%d", i)))
		}
		results := make([][]hirehook.EventIngestResult, n)
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range events {
			wg.Go(func() {
				<-start
				results[i], errs[i] = b.in.Commit(context.Background(), events[i:i+1])
			})
		}
		close(start)
		wg.Wait()

		wantTotal := 0
		for i, e := range events {
			if errs[i] != nil {
				t.Errorf("Commit(%s): %v", e.ID, errs[i])
				continue
			}
			want := []hirehook.EventIngestResult{{EventID: e.ID, Deliveries: deliveriesOf[e.Type]}}
			if diff := cmp.Diff(want, results[i]); diff != "" {
				t.Errorf("Commit(%s %s) mismatch (-want +got):\n%s", e.Type, e.ID, diff)
			}
			wantTotal += deliveriesOf[e.Type]
		}

		ctx := context.Background()
		stored, err := b.st.EventList(ctx, hirehook.EventFilter{TenantID: tenant, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, e := range stored {
			got[e.ID] = e.Deliveries
		}
		want := map[string]int{}
		for _, e := range events {
			want[e.ID] = deliveriesOf[e.Type]
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("stored events (id → deliveries) mismatch (-want +got):\n%s", diff)
		}
		ds, err := b.st.DeliveryList(ctx, hirehook.DeliveryFilter{TenantID: tenant, Limit: 10000})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != wantTotal {
			t.Errorf("%d deliveries stored, want %d", len(ds), wantTotal)
		}
		for _, d := range ds {
			if d.State != hirehook.DeliveryPending {
				t.Errorf("delivery %s is %q, want %q (no hand-off configured)", d.ID, d.State, hirehook.DeliveryPending)
			}
		}
	})

	t.Run("SameIDOnce", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// Many rounds, so that the two commits land both in one group
		// and in two groups.
		const rounds = 30
		var wg sync.WaitGroup
		results := make([][2][]hirehook.EventIngestResult, rounds)
		errs := make([][2]error, rounds)
		for r := range rounds {
			id := fmt.Sprintf("evt_dup_%d", r)
			// Two separate Prepare calls: two producers sending the same id.
			e := [2]*hirehook.Event{
				prepare(t, b.in, input(id, "candidate.created", "cand_1")),
				prepare(t, b.in, input(id, "candidate.created", "cand_1")),
			}
			for k := range 2 {
				wg.Go(func() {
					results[r][k], errs[r][k] = b.in.Commit(context.Background(), e[k:k+1])
				})
			}
		}
		wg.Wait()
		for r := range rounds {
			id := fmt.Sprintf("evt_dup_%d", r)
			fresh := 0
			for k := range 2 {
				if errs[r][k] != nil {
					t.Fatalf("Commit(%s) #%d: %v", id, k, errs[r][k])
				}
				res := results[r][k]
				if len(res) != 1 || res[0].EventID != id || res[0].Deliveries != 2 {
					t.Errorf("Commit(%s) #%d = %+v, want id %s with 2 deliveries", id, k, res, id)
					continue
				}
				if !res[0].Duplicate {
					fresh++
				}
			}
			if fresh != 1 {
				t.Errorf("event %s: %d non-duplicate answers, want exactly 1", id, fresh)
			}
		}
		stored, err := b.st.EventList(context.Background(), hirehook.EventFilter{TenantID: tenant, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) != rounds {
			t.Errorf("%d events stored, want %d", len(stored), rounds)
		}
		ds, err := b.st.DeliveryList(context.Background(), hirehook.DeliveryFilter{TenantID: tenant, Limit: 10000})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 2*rounds {
			t.Errorf("%d deliveries stored, want %d", len(ds), 2*rounds)
		}
	})
}

func TestCommit_handoff(t *testing.T) {
	t.Parallel()

	type bundle struct {
		st      hirehook.Store
		in      *Ingester
		mu      sync.Mutex
		handed  []*hirehook.Delivery
		notifed atomic.Int64
	}
	setup := func(t *testing.T) *bundle {
		t.Helper()
		b := &bundle{st: newStore(t)}
		newEndpoint(t, b.st, false, "candidate.*")
		newEndpoint(t, b.st, false, "*")
		b.in = startIngester(t, b.st, Config{
			HandoffFunc: func(ds []*hirehook.Delivery) {
				b.mu.Lock()
				defer b.mu.Unlock()
				b.handed = append(b.handed, ds...)
			},
			LeaseOwner: "node1",
			Lease:      time.Minute,
			NotifyFunc: func() { b.notifed.Add(1) },
		})
		return b
	}
	b := setup(t)
	ctx := context.Background()

	before := time.Now()
	events := []*hirehook.Event{
		prepare(t, b.in, input("evt_1", "candidate.created", "cand_1")),
		prepare(t, b.in, input("evt_2", "job.created", "job_1")),
		prepare(t, b.in, input("evt_3", "candidate.updated", "cand_1")),
	}
	var wg sync.WaitGroup
	for _, e := range events {
		wg.Go(func() { commitOne(t, b.in, e) })
	}
	wg.Wait()
	// A duplicate hands nothing off again.
	if res := commitOne(t, b.in, prepare(t, b.in, input("evt_1", "candidate.created", "cand_1"))); !res.Duplicate {
		t.Errorf("second evt_1 = %+v, want a duplicate", res)
	}
	after := time.Now()

	// Hand-off runs after the callers are answered.
	handed := func() []*hirehook.Delivery {
		b.mu.Lock()
		defer b.mu.Unlock()
		return slices.Clone(b.handed)
	}
	testwait.For(t, 10*time.Second, "5 deliveries handed off", func() bool { return len(handed()) >= 5 }, nil)

	stored, err := b.st.DeliveryList(ctx, hirehook.DeliveryFilter{TenantID: tenant})
	if err != nil {
		t.Fatal(err)
	}
	var storedIDs, handedIDs []string
	for _, d := range stored {
		storedIDs = append(storedIDs, d.ID)
		if d.State != hirehook.DeliveryDelivering {
			t.Errorf("stored delivery %s is %q, want %q", d.ID, d.State, hirehook.DeliveryDelivering)
		}
	}
	payloads := map[string][]byte{}
	for _, e := range events {
		payloads[e.ID] = e.Payload
	}
	for _, d := range handed() {
		handedIDs = append(handedIDs, d.ID)
		if d.State != hirehook.DeliveryDelivering {
			t.Errorf("handed-off delivery %s is %q, want %q", d.ID, d.State, hirehook.DeliveryDelivering)
		}
		if !bytes.Equal(d.Payload, payloads[d.EventID]) {
			t.Errorf("handed-off delivery %s carries payload %s, want its event's %s", d.ID, d.Payload, payloads[d.EventID])
		}
		if d.LeaseExpiresAt.Before(before.Add(time.Minute).Truncate(time.Microsecond)) || d.LeaseExpiresAt.After(after.Add(time.Minute)) {
			t.Errorf("delivery %s lease expires at %v, want a minute after the commit (%v – %v)", d.ID, d.LeaseExpiresAt, before, after)
		}
	}
	slices.Sort(storedIDs)
	slices.Sort(handedIDs)
	if diff := cmp.Diff(storedIDs, handedIDs); diff != "" {
		t.Errorf("handed-off delivery ids differ from the stored ones (-stored +handed):\n%s", diff)
	}

	// The lease belongs to node1 until it expires: nobody can claim them.
	now := time.Now().UTC()
	claimed, err := b.st.DeliveryClaim(ctx, hirehook.DeliveryClaimParams{Owner: "node2", Now: now, LeaseUntil: now.Add(time.Minute), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(claimed) != 0 {
		t.Errorf("node2 claimed %d deliveries leased to node1", len(claimed))
	}
	if n := b.notifed.Load(); n != 0 {
		t.Errorf("Notify called %d times, want 0: the hand-off replaces it", n)
	}
}

func TestCommit_notify(t *testing.T) {
	t.Parallel()

	type bundle struct {
		st       hirehook.Store
		in       *Ingester
		notified atomic.Int64
	}
	setup := func(t *testing.T) *bundle {
		t.Helper()
		b := &bundle{st: newStore(t)}
		newEndpoint(t, b.st, false, "candidate.*")
		b.in = startIngester(t, b.st, Config{NotifyFunc: func() { b.notified.Add(1) }})
		return b
	}
	b := setup(t)

	// The committer works one group at a time and calls Notify before it
	// takes the next group. So once a later commit is answered, the
	// Notify of every earlier one has run: barrier commits an event no
	// endpoint wants (which notifies no one) and returns the count.
	barriers := 0
	barrier := func() int64 {
		t.Helper()
		barriers++
		res := commitOne(t, b.in, prepare(t, b.in, input("", "job.created", fmt.Sprintf("job_%d", barriers))))
		if res.Deliveries != 0 {
			t.Fatalf("barrier event made %d deliveries, want 0", res.Deliveries)
		}
		return b.notified.Load()
	}

	if n := barrier(); n != 0 {
		t.Errorf("after a commit without deliveries Notify was called %d times, want 0", n)
	}
	if res := commitOne(t, b.in, prepare(t, b.in, input("evt_1", "candidate.created", "cand_1"))); res.Deliveries != 1 || res.Duplicate {
		t.Fatalf("evt_1 = %+v, want 1 delivery", res)
	}
	if n := barrier(); n != 1 {
		t.Errorf("after a commit with deliveries Notify was called %d times, want 1", n)
	}
	if res := commitOne(t, b.in, prepare(t, b.in, input("evt_1", "candidate.created", "cand_1"))); !res.Duplicate {
		t.Fatalf("second evt_1 = %+v, want a duplicate", res)
	}
	if n := barrier(); n != 1 {
		t.Errorf("after a duplicate Notify was called %d times in all, want still 1", n)
	}

	ds, err := b.st.DeliveryList(context.Background(), hirehook.DeliveryFilter{TenantID: tenant})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].State != hirehook.DeliveryPending {
		t.Errorf("stored deliveries = %+v, want one pending", ds)
	}
}

func TestLifecycle(t *testing.T) {
	t.Parallel()

	type bundle struct {
		st hirehook.Store
		in *Ingester
	}
	setup := func(t *testing.T) *bundle {
		t.Helper()
		st := newStore(t)
		return &bundle{st: st, in: New(st, Config{})}
	}
	stop := func(t *testing.T, in *Ingester) error {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return in.Stop(ctx)
	}

	t.Run("CommitBeforeStart", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		e := prepare(t, b.in, input("", "candidate.created", "cand_1"))
		res, err := b.in.Commit(context.Background(), []*hirehook.Event{e})
		if res != nil {
			t.Errorf("Commit before Start = %+v, want no results", res)
		}
		wantUnavailable(t, err)
	})

	t.Run("CommitAfterStop", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if err := b.in.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		commitOne(t, b.in, prepare(t, b.in, input("", "candidate.created", "cand_1")))
		if err := stop(t, b.in); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		e := prepare(t, b.in, input("", "candidate.created", "cand_2"))
		_, err := b.in.Commit(context.Background(), []*hirehook.Event{e})
		wantUnavailable(t, err)
		if _, err := b.st.EventGet(context.Background(), tenant, e.ID); hirehook.ErrorCode(err) != hirehook.ENOTFOUND {
			t.Errorf("EventGet of the event refused after Stop: %v, want not found", err)
		}
	})

	t.Run("StopTwice", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if err := b.in.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := stop(t, b.in); err != nil {
			t.Errorf("first Stop: %v", err)
		}
		if err := stop(t, b.in); err != nil {
			t.Errorf("second Stop: %v", err)
		}
	})

	t.Run("StopBeforeStart", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if err := stop(t, b.in); err != nil {
			t.Errorf("Stop before Start: %v", err)
		}
	})

	t.Run("StartTwice", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if err := b.in.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { stop(t, b.in) })
		if err := b.in.Start(context.Background()); err == nil {
			t.Error("second Start succeeded, want an error")
		}
	})

	t.Run("CancelledContext", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if err := b.in.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { stop(t, b.in) })

		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		e := prepare(t, b.in, input("", "candidate.created", "cand_1"))
		res, err := b.in.Commit(ctx, []*hirehook.Event{e})
		if !errors.Is(err, context.Canceled) || res != nil {
			t.Fatalf("Commit with a cancelled context = %+v, %v; want nil, %v", res, err, context.Canceled)
		}
		// The request was queued before the next one, and the committer
		// takes the queue in order: once a later commit is answered, the
		// cancelled one has been skipped or written.
		later := prepare(t, b.in, input("", "candidate.created", "cand_2"))
		commitOne(t, b.in, later)
		if _, err := b.st.EventGet(context.Background(), tenant, e.ID); hirehook.ErrorCode(err) != hirehook.ENOTFOUND {
			t.Errorf("EventGet of the cancelled event: %v, want not found", err)
		}
		// And it stays absent.
		deadline := time.Now().Add(100 * time.Millisecond)
		for time.Now().Before(deadline) {
			if _, err := b.st.EventGet(context.Background(), tenant, e.ID); hirehook.ErrorCode(err) != hirehook.ENOTFOUND {
				t.Fatalf("EventGet of the cancelled event: %v, want not found", err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	})

	t.Run("CancelledWhileQueued", func(t *testing.T) {
		t.Parallel()
		st := newStore(t)
		newEndpoint(t, st, false, "*")
		blk := newBlocker()
		in := startIngester(t, st, Config{NotifyFunc: blk.notify})
		t.Cleanup(blk.unblock)

		// Hold the committer in Notify after a first commit.
		commitOne(t, in, prepare(t, in, input("", "candidate.created", "cand_1")))
		blk.waitEntered(t)

		ctx, cancel := context.WithCancel(context.Background())
		e := prepare(t, in, input("", "candidate.created", "cand_2"))
		done := make(chan error, 1)
		go func() {
			_, err := in.Commit(ctx, []*hirehook.Event{e})
			done <- err
		}()
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Commit cancelled while queued: %v, want %v", err, context.Canceled)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Commit did not return after its context was cancelled")
		}
		blk.unblock()
		commitOne(t, in, prepare(t, in, input("", "candidate.created", "cand_3")))
		if _, err := st.EventGet(context.Background(), tenant, e.ID); hirehook.ErrorCode(err) != hirehook.ENOTFOUND {
			t.Errorf("EventGet of the cancelled event: %v, want not found", err)
		}
	})

	t.Run("StopCommitsQueued", func(t *testing.T) {
		t.Parallel()
		st := newStore(t)
		newEndpoint(t, st, false, "*")
		blk := newBlocker()
		in := startIngester(t, st, Config{NotifyFunc: blk.notify})
		t.Cleanup(blk.unblock)

		commitOne(t, in, prepare(t, in, input("", "candidate.created", "cand_0")))
		blk.waitEntered(t)

		// Queue events behind the blocked committer, then stop.
		const n = 20
		var wg sync.WaitGroup
		var queued sync.WaitGroup
		events := make([]*hirehook.Event, n)
		errs := make([]error, n)
		for i := range events {
			events[i] = prepare(t, in, input("", "candidate.created", fmt.Sprintf("cand_%d", i+1)))
			queued.Add(1)
			wg.Go(func() {
				queued.Done()
				_, errs[i] = in.Commit(context.Background(), events[i:i+1])
			})
		}
		queued.Wait()
		testwait.For(t, 10*time.Second, "the commits to queue", func() bool { return len(in.queue) == n }, nil)
		stopped := make(chan error, 1)
		go func() { stopped <- stop(t, in) }()
		blk.unblock()
		if err := <-stopped; err != nil {
			t.Fatalf("Stop: %v", err)
		}
		wg.Wait()
		for i, e := range events {
			if errs[i] != nil {
				t.Errorf("Commit(%s) queued before Stop: %v", e.ID, errs[i])
				continue
			}
			if _, err := st.EventGet(context.Background(), tenant, e.ID); err != nil {
				t.Errorf("EventGet(%s) queued before Stop: %v", e.ID, err)
			}
		}
	})
}

func TestCommitEmpty(t *testing.T) {
	t.Parallel()

	in := startIngester(t, newStore(t), Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := in.Commit(ctx, nil)
	if err != nil || len(res) != 0 {
		t.Errorf("Commit(nil) = %+v, %v; want no results and no error", res, err)
	}
}

// doneSpy is a context that reports the first call of Done.
type doneSpy struct {
	context.Context
	once   sync.Once
	called chan struct{}
}

func (c *doneSpy) Done() <-chan struct{} {
	c.once.Do(func() { close(c.called) })
	return c.Context.Done()
}

func TestCommitQueueFullDuringStop(t *testing.T) {
	t.Parallel()

	st := newStore(t)
	newEndpoint(t, st, false, "*")
	blk := newBlocker()
	// The committer is held on purpose for longer than the default ingest
	// deadline may be under -race: the callers must wait for it.
	in := startIngester(t, st, Config{NotifyFunc: blk.notify, Timeout: time.Minute})
	// Cleanups run last first: release the committer, wait for the
	// callers, then stop.
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	t.Cleanup(blk.unblock)

	commitOne(t, in, prepare(t, in, input("", "candidate.created", "cand_0")))
	blk.waitEntered(t)

	// Fill the queue behind the blocked committer.
	for i := range cap(in.queue) {
		e := prepare(t, in, input("", "candidate.created", fmt.Sprintf("cand_%d", i+1)))
		wg.Go(func() {
			if _, err := in.Commit(context.Background(), []*hirehook.Event{e}); err != nil {
				t.Errorf("Commit(%s): %v", e.ID, err)
			}
		})
	}
	testwait.For(t, 10*time.Second, "the queue to fill", func() bool { return len(in.queue) == cap(in.queue) }, nil)

	// One more must wait for room in the queue. With the queue full it
	// calls ctx.Done only for that wait, after it has let go of the mutex.
	var panicked atomic.Value
	extra := prepare(t, in, input("", "candidate.created", "cand_extra"))
	ctx := &doneSpy{Context: context.Background(), called: make(chan struct{})}
	wg.Go(func() {
		defer func() {
			if v := recover(); v != nil {
				panicked.Store(fmt.Sprint(v))
			}
		}()
		_, err := in.Commit(ctx, []*hirehook.Event{extra})
		if err != nil && hirehook.ErrorCode(err) != hirehook.EUNAVAILABLE {
			t.Errorf("Commit(%s) during Stop: %v, want success or %q", extra.ID, err, hirehook.EUNAVAILABLE)
		}
	})
	select {
	case <-ctx.called:
	case <-time.After(10 * time.Second):
		t.Fatal("the extra Commit never waited for room in the queue")
	}

	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		stopped <- in.Stop(ctx)
	}()
	testwait.For(t, 10*time.Second, "Stop to close the queue", func() bool {
		in.mu.Lock()
		defer in.mu.Unlock()
		return in.stopped
	}, nil)
	blk.unblock()
	if err := <-stopped; err != nil {
		t.Errorf("Stop: %v", err)
	}
	wg.Wait()
	if v := panicked.Load(); v != nil {
		t.Errorf("Commit waiting for room in the queue panicked when Stop closed it: %v", v)
	}
}

// poisons are event data that each store rejects though it is valid JSON
// (deeper than SQLite's JSON functions go; a NUL that PostgreSQL's jsonb
// cannot hold). Prepare refuses both; the tests put them on an event
// after Prepare, as a store error that no limit foresaw would arrive.
var poisons = map[string]json.RawMessage{
	"sqlite":   json.RawMessage(`{"id":"cand_poison","x":` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `}`),
	"postgres": json.RawMessage(`{"id":"cand_poison","x":"a\u0000b"}`),
}

// stores opens each store the tests run on: SQLite on a file, and
// PostgreSQL in a database of its own (skipped when it is not there).
var stores = map[string]func(tb testing.TB) hirehook.Store{
	"sqlite": newStore,
	"postgres": func(tb testing.TB) hirehook.Store {
		tb.Helper()
		st, err := postgres.Open(context.Background(), postgrestest.NewDatabase(tb))
		if err != nil {
			tb.Fatalf("open store: %v", err)
		}
		tb.Cleanup(func() {
			if err := st.Close(); err != nil {
				tb.Errorf("close store: %v", err)
			}
		})
		return st
	},
}

// TestCommit_failsAlone queues requests of two tenants behind a busy
// committer, so that they are written as one group, one of them holding an
// event the store rejects: that request gets the error and every other
// request commits. A batch request with the rejected event fails whole
// (a batch is all or nothing).
func TestCommit_failsAlone(t *testing.T) {
	t.Parallel()
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := open(t)
			now := time.Now().UTC().Truncate(time.Microsecond)
			if err := st.TenantCreate(ctx, &hirehook.Tenant{ID: "tenant_b", Name: "B", RetentionDays: 30, CreatedAt: now, UpdatedAt: now}); err != nil {
				t.Fatal(err)
			}
			newEndpoint(t, st, false, "*")
			blk := newBlocker()
			in := startIngester(t, st, Config{NotifyFunc: blk.notify})
			t.Cleanup(blk.unblock)

			poisoned := func(id string) *hirehook.Event {
				e := prepare(t, in, input(id, "candidate.created", "cand_poison"))
				e.Data, e.Payload = poisons[name], nil
				return e
			}
			alone, err := in.Commit(ctx, []*hirehook.Event{poisoned("evt_poison_alone")})
			if err == nil {
				t.Fatalf("the poison committed alone (%+v): it is no poison for %s", alone, name)
			}

			// The first commit notifies, and the committer blocks there.
			first := prepare(t, in, input("evt_first", "candidate.created", "cand_first"))
			firstDone := make(chan error, 1)
			go func() {
				_, err := in.Commit(ctx, []*hirehook.Event{first})
				firstDone <- err
			}()
			blk.waitEntered(t)

			var reqs [][]*hirehook.Event
			for i := range 8 {
				tenantID := "tenant_b"
				if i%2 == 0 {
					tenantID = tenant
				}
				e, err := in.Prepare(tenantID, input(fmt.Sprintf("evt_good_%d", i), "candidate.created", fmt.Sprintf("cand_%d", i)), "")
				if err != nil {
					t.Fatal(err)
				}
				reqs = append(reqs, []*hirehook.Event{e})
			}
			const poisonAt, batchAt = 3, 6
			reqs[poisonAt] = []*hirehook.Event{poisoned("evt_poison")}
			reqs[batchAt] = append(reqs[batchAt], poisoned("evt_poison_in_batch"))

			results := make([][]hirehook.EventIngestResult, len(reqs))
			errs := make([]error, len(reqs))
			var wg sync.WaitGroup
			for i := range reqs {
				wg.Go(func() { results[i], errs[i] = in.Commit(ctx, reqs[i]) })
			}
			testwait.For(t, 10*time.Second, "the requests to queue", func() bool { return len(in.queue) == len(reqs) }, nil)
			blk.unblock()
			wg.Wait()
			if err := <-firstDone; err != nil {
				t.Errorf("first commit: %v", err)
			}

			for i, evs := range reqs {
				failed := i == poisonAt || i == batchAt
				if failed != (errs[i] != nil) {
					t.Errorf("request %d (%s): error %v, want an error: %v", i, evs[0].ID, errs[i], failed)
				}
				for _, e := range evs {
					_, err := st.EventGet(ctx, e.TenantID, e.ID)
					if stored := err == nil; stored == failed {
						t.Errorf("request %d: event %s stored: %v (%v), want %v", i, e.ID, stored, err, !failed)
					}
				}
				if !failed && (len(results[i]) != 1 || results[i][0].EventID != evs[0].ID || results[i][0].Duplicate) {
					t.Errorf("request %d: results %+v, want event %s new", i, results[i], evs[0].ID)
				}
			}
		})
	}
}
