package entity_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/catalog"
	"github.com/hirehook/hirehook/client/entity"
)

// newEntity returns a new value of the Go type of a catalog entity.
func newEntity(name string) (entity.Entity, bool) {
	switch name {
	case "application":
		return &entity.Application{}, true
	case "candidate":
		return &entity.Candidate{}, true
	case "client":
		return &entity.Client{}, true
	case "contact":
		return &entity.Contact{}, true
	case "interview":
		return &entity.Interview{}, true
	case "job":
		return &entity.Job{}, true
	case "job_posting":
		return &entity.JobPosting{}, true
	case "offer":
		return &entity.Offer{}, true
	case "placement":
		return &entity.Placement{}, true
	case "endpoint":
		return &entity.Endpoint{}, true
	case "delivery":
		return &entity.Delivery{}, true
	}
	return nil, false
}

// normalize removes null members of objects (the Go types leave null and
// absent alike out when encoding) and writes times in UTC (time.Time
// encodes +00:00 as Z).
func normalize(v any) any {
	switch x := v.(type) {
	case string:
		if t, err := time.Parse(time.RFC3339Nano, x); err == nil && strings.Contains(x, "T") {
			return t.UTC().Format(time.RFC3339Nano)
		}
	case map[string]any:
		for k, val := range x {
			if val == nil {
				delete(x, k)
			} else {
				x[k] = normalize(val)
			}
		}
	case []any:
		for i := range x {
			x[i] = normalize(x[i])
		}
	}
	return v
}

// TestExamplesRoundTrip decodes every example of every catalog schema into
// its Go type and encodes it again: nothing may be lost or changed, and the
// result must still validate.
func TestExamplesRoundTrip(t *testing.T) {
	t.Parallel()
	cat := catalog.Default()
	seen := map[string]bool{}
	for _, et := range cat.Types() {
		if seen[et.Entity] {
			continue
		}
		seen[et.Entity] = true
		t.Run(et.Entity, func(t *testing.T) {
			t.Parallel()
			var schema struct {
				Examples []json.RawMessage `json:"examples"`
			}
			if err := json.Unmarshal(et.Schema, &schema); err != nil {
				t.Fatal(err)
			}
			if len(schema.Examples) == 0 {
				t.Fatal("the schema has no examples")
			}
			for i, ex := range schema.Examples {
				v, ok := newEntity(et.Entity)
				if !ok {
					t.Fatalf("no Go type for entity %s", et.Entity)
				}
				if v.EntityName() != et.Entity {
					t.Errorf("EntityName = %q", v.EntityName())
				}
				if err := json.Unmarshal(ex, v); err != nil {
					t.Fatalf("example %d: decode: %v", i, err)
				}
				out, err := json.Marshal(v)
				if err != nil {
					t.Fatalf("example %d: encode: %v", i, err)
				}
				var want, got any
				_ = json.Unmarshal(ex, &want)
				_ = json.Unmarshal(out, &got)
				if d := cmp.Diff(normalize(want), normalize(got)); d != "" {
					t.Errorf("example %d changed in a round trip (-want +got):\n%s", i, d)
				}
				if err := cat.Validate(et.Name, out); err != nil {
					t.Errorf("example %d: the encoded entity does not validate: %v", i, err)
				}
			}
		})
	}
	for _, e := range cat.Entities() {
		if !seen[e] {
			t.Errorf("entity %s has no event type", e)
		}
	}
}

func TestExtra(t *testing.T) {
	t.Parallel()
	var p entity.Placement
	if err := json.Unmarshal([]byte(`{"id":"pl_1","status":"confirmed","po_number":"PO-7","end_date":null}`), &p); err != nil {
		t.Fatal(err)
	}
	if p.ID != "pl_1" || p.Status != "confirmed" || string(p.Extra["po_number"]) != `"PO-7"` || len(p.Extra) != 1 {
		t.Fatalf("decoded %+v", p)
	}
	// Extra wins over a known field: an explicit null clears it.
	p.Extra["status"] = json.RawMessage("null")
	out, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), `{"id":"pl_1","po_number":"PO-7","status":null}`; got != want {
		t.Errorf("encoded %s, want %s", got, want)
	}
	p.Extra["bad"] = json.RawMessage("{")
	if _, err := json.Marshal(p); err == nil {
		t.Error("invalid JSON in Extra encodes")
	}
}

func TestNewEvent(t *testing.T) {
	t.Parallel()
	pay := 42.5
	in, err := entity.NewEvent(entity.EventPlacementConfirmed, entity.Placement{ID: "pl_1", StartDate: "2026-12-07",
		PayRate: &entity.Money{Amount: pay, Currency: "USD", Unit: "hour"}, HoursPerWeek: &pay})
	if err != nil {
		t.Fatal(err)
	}
	if in.Type != "placement.confirmed" {
		t.Errorf("type = %q", in.Type)
	}
	if got, want := string(in.Data), `{"id":"pl_1","start_date":"2026-12-07","pay_rate":{"amount":42.5,"currency":"USD","unit":"hour"},"hours_per_week":42.5}`; got != want {
		t.Errorf("data = %s, want %s", got, want)
	}
	if err := catalog.Default().Validate(in.Type, in.Data); err != nil {
		t.Errorf("data does not validate: %v", err)
	}

	_, err = entity.NewEvent(entity.EventCandidateCreated, &entity.Placement{ID: "pl_1"})
	if hirehook.ErrorCode(err) != hirehook.EINVALID || !strings.Contains(err.Error(), "candidate") {
		t.Errorf("a placement as candidate.created: %v", err)
	}
	_, err = entity.NewEvent(entity.EventPlacementConfirmed, entity.Placement{})
	if hirehook.ErrorField(err) != "data.id" {
		t.Errorf("no id: %v", err)
	}
	// A type from a newer hub is let through.
	if _, err := entity.NewEvent("placement.extended", entity.Placement{ID: "pl_1"}); err != nil {
		t.Errorf("unknown type: %v", err)
	}
	for _, typ := range []string{entity.EventJobPosted, entity.EventCandidateAnonymized} {
		if _, ok := entity.EntityOf(typ); !ok {
			t.Errorf("EntityOf(%q) unknown", typ)
		}
	}
	if e, _ := entity.EntityOf(entity.EventJobPosted); e != "job_posting" {
		t.Errorf("EntityOf(job.posted) = %q", e)
	}
	if _, ok := catalog.Default().Lookup(entity.EventJobPostingUpdated); !ok {
		t.Error("a generated constant is not a catalog type")
	}
}
