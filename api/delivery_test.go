package api_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/api"
)

func TestDeliveries(t *testing.T) {
	t.Parallel()

	type bundle struct {
		api     *testAPI
		ep      string
		other   string
		eventID string
		ids     []string // deliveries, in creation order
	}
	setup := func(t *testing.T) *bundle {
		t.Helper()
		a := startAPI(t, api.Config{})
		b := &bundle{
			api:   a,
			ep:    createEndpoint(t, a, map[string]any{"url": "https://a.example.com/", "event_types": []string{"*"}}).ID,
			other: createEndpoint(t, a, map[string]any{"url": "https://b.example.com/", "event_types": []string{"placement.*"}}).ID,
		}
		b.eventID = postEvent(t, a, event("placement.confirmed", placementData)).ID
		postEvent(t, a, event("candidate.created", `{"id":"cand_1"}`))
		postEvent(t, a, event("candidate.created", `{"id":"cand_2"}`))
		for _, d := range slices.Backward(listAll[*hirehook.Delivery](t, a, "/v1/deliveries")) {
			b.ids = append(b.ids, d.ID)
		}
		if len(b.ids) != 4 {
			t.Fatalf("%d deliveries, want 4", len(b.ids))
		}
		return b
	}

	t.Run("ListNewestFirst", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var got []string
		after := ""
		for range 10 {
			path := "/v1/deliveries?limit=3"
			if after != "" {
				path += "&after=" + after
			}
			var page api.List[*hirehook.Delivery]
			b.api.doJSON(t, http.MethodGet, path, nil, http.StatusOK, &page)
			for _, d := range page.Data {
				got = append(got, d.ID)
			}
			if !page.HasMore {
				break
			}
			after = page.NextAfter
		}
		want := slices.Clone(b.ids)
		slices.Reverse(want)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("deliveries over all pages (-want +got):\n%s", diff)
		}
	})

	t.Run("Filters", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		count := func(query string) int {
			return len(listAll[*hirehook.Delivery](t, b.api, "/v1/deliveries?"+query))
		}
		for _, tt := range []struct {
			query string
			want  int
		}{
			{"state=pending", 4},
			{"state=failed", 0},
			{"endpoint_id=" + b.ep, 3},
			{"endpoint_id=" + b.other, 1},
			{"endpoint_id=" + b.other + "&state=pending", 1},
			{"event_id=" + b.eventID, 2},
			{"event_id=evt_unknown", 0},
		} {
			if got := count(tt.query); got != tt.want {
				t.Errorf("?%s: %d deliveries, want %d", tt.query, got, tt.want)
			}
		}
	})

	t.Run("Get", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var got api.DeliveryWithAttempts
		b.api.doJSON(t, http.MethodGet, "/v1/deliveries/"+b.ids[0], nil, http.StatusOK, &got)
		if got.ID != b.ids[0] || got.EventID != b.eventID || got.State != hirehook.DeliveryPending {
			t.Errorf("delivery = %+v, want %s of event %s, pending", got.Delivery, b.ids[0], b.eventID)
		}
		if got.AttemptList == nil || len(got.AttemptList) != 0 {
			t.Errorf("attempt_list = %v, want []", got.AttemptList)
		}
	})

	t.Run("Retry", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		before := time.Now().UTC().Truncate(time.Microsecond)
		var got hirehook.Delivery
		b.api.doJSON(t, http.MethodPost, "/v1/deliveries/"+b.ids[0]+"/retry", nil, http.StatusAccepted, &got)
		if got.ID != b.ids[0] || got.State != hirehook.DeliveryPending {
			t.Errorf("retried delivery = %+v, want %s pending", got, b.ids[0])
		}
		if got.NextAttemptAt == nil || got.NextAttemptAt.Before(before) {
			t.Errorf("next_attempt_at = %v, want now (after %v)", got.NextAttemptAt, before)
		}
		wantStored(t, b.api, 3, 4) // a retry adds no delivery
	})

	t.Run("RetryCancelled", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if res := b.api.do(t, http.MethodDelete, "/v1/endpoints/"+b.other, nil); res.Status != http.StatusNoContent {
			t.Fatalf("DELETE endpoint: status %d, body %s", res.Status, res.Body)
		}
		ds := listAll[*hirehook.Delivery](t, b.api, "/v1/deliveries?endpoint_id="+b.other)
		if len(ds) != 1 || ds[0].State != hirehook.DeliveryCancelled {
			t.Fatalf("deliveries of the deleted endpoint = %+v, want 1 cancelled", ds)
		}
		wantError(t, b.api.do(t, http.MethodPost, "/v1/deliveries/"+ds[0].ID+"/retry", nil), http.StatusUnprocessableEntity, hirehook.EINVALID, "")
	})

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, tt := range []struct {
			query, field string
		}{
			{"state=bogus", "state"},
			{"state=Pending", "state"},
			{"limit=0", "limit"},
			{"limit=abc", "limit"},
			{"after=dlv_unknown", "after"},
		} {
			wantError(t, b.api.do(t, http.MethodGet, "/v1/deliveries?"+tt.query, nil), http.StatusUnprocessableEntity, hirehook.EINVALID, tt.field)
		}
	})

	t.Run("Unknown", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		wantError(t, b.api.do(t, http.MethodGet, "/v1/deliveries/dlv_missing", nil), http.StatusNotFound, hirehook.ENOTFOUND, "")
		wantError(t, b.api.do(t, http.MethodPost, "/v1/deliveries/dlv_missing/retry", nil), http.StatusNotFound, hirehook.ENOTFOUND, "")
		wantStored(t, b.api, 3, 4)
	})
}
