package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/api"
)

// TestBackfillValidation: a backfill request names the field that is wrong;
// snapshots cannot be sent by producers; a valid one answers 202 running,
// lists, gets and cancels (once).
func TestBackfillValidation(t *testing.T) {
	t.Parallel()
	a := startAPI(t, api.Config{})
	var ep api.EndpointWithSecret
	a.doJSON(t, http.MethodPost, "/v1/endpoints", map[string]any{"url": "https://crm.example.com/in", "event_types": []string{"candidate.*"}}, http.StatusCreated, &ep)
	path := "/v1/endpoints/" + ep.ID + "/backfill"

	for _, c := range []struct {
		body      string
		field     string
		inMessage string
	}{
		{`{}`, "entities", "required"},
		{`{"entities":["candidate","nope"]}`, "entities[1]", `"nope"`},
		{`{"entities":["endpoint"]}`, "entities[0]", `"endpoint"`},
		{`{"entities":["candidate","candidate"]}`, "entities[1]", "twice"},
		{`{"entities":["candidate"],"filter":".data.id == and"}`, "filter", "offset"},
		{`{"entities":["candidate"],"rate_per_second":0}`, "rate_per_second", "between"},
		{`{"entities":["candidate"],"rate_per_second":1001}`, "rate_per_second", "between"},
	} {
		res := a.do(t, http.MethodPost, path, json.RawMessage(c.body))
		var body struct{ Error hirehook.Error }
		if err := json.Unmarshal(res.Body, &body); err != nil {
			t.Fatal(err)
		}
		if res.Status != http.StatusUnprocessableEntity || body.Error.Field != c.field || !strings.Contains(body.Error.Message, c.inMessage) {
			t.Errorf("%s → %d %s, want 422 naming %s (%q)", c.body, res.Status, res.Body, c.field, c.inMessage)
		}
	}
	a.doJSON(t, http.MethodPost, "/v1/endpoints/ep_none/backfill", json.RawMessage(`{"entities":["candidate"]}`), http.StatusNotFound, nil)

	// Producers may not send snapshots.
	res := a.do(t, http.MethodPost, "/v1/events", json.RawMessage(`{"type":"candidate.snapshot","data":{"id":"c1"}}`))
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(string(res.Body), "emitted by the hub") {
		t.Errorf("sending candidate.snapshot → %d %s, want 422", res.Status, res.Body)
	}

	var bf hirehook.Backfill
	a.doJSON(t, http.MethodPost, path, json.RawMessage(`{"entities":["candidate","placement"],"filter":".data.id != \"x\"","rate_per_second":5}`), http.StatusAccepted, &bf)
	if bf.State != hirehook.BackfillRunning || bf.RatePerSecond != 5 || bf.EndpointID != ep.ID || !strings.HasPrefix(bf.ID, "bf_") {
		t.Fatalf("created backfill = %+v", bf)
	}
	var list api.List[*hirehook.Backfill]
	a.doJSON(t, http.MethodGet, "/v1/endpoints/"+ep.ID+"/backfills", nil, http.StatusOK, &list)
	if len(list.Data) != 1 || list.Data[0].ID != bf.ID {
		t.Fatalf("list = %+v", list)
	}
	var got hirehook.Backfill
	a.doJSON(t, http.MethodGet, "/v1/backfills/"+bf.ID, nil, http.StatusOK, &got)
	a.doJSON(t, http.MethodPost, "/v1/backfills/"+bf.ID+"/cancel", nil, http.StatusOK, &got)
	if got.State != hirehook.BackfillCancelled || got.FinishedAt == nil {
		t.Fatalf("cancelled = %+v", got)
	}
	a.doJSON(t, http.MethodPost, "/v1/backfills/"+bf.ID+"/cancel", nil, http.StatusConflict, nil)
	a.doJSON(t, http.MethodGet, "/v1/backfills/bf_none", nil, http.StatusNotFound, nil)
}
