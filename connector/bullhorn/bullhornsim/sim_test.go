package bullhornsim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook/connector/bullhorn/bullhornsim"
)

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func call(t *testing.T, method, u string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, body
}

func decode(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	return m
}

// login walks the documented flow by hand and returns restUrl and
// BhRestToken.
func login(t *testing.T, base string) (string, string) {
	t.Helper()
	st, h, _ := call(t, "GET", base+"/oauth/authorize?client_id=hirehook&response_type=code&action=Login&username=api.user&password=password&redirect_uri=https://app.example/cb")
	if st != http.StatusFound {
		t.Fatalf("authorize = %d", st)
	}
	loc, _ := url.Parse(h.Get("Location"))
	code := loc.Query().Get("code")
	if loc.Host != "app.example" || code == "" {
		t.Fatalf("authorize redirect = %s", loc)
	}
	st, _, body := call(t, "POST", base+"/oauth/token?grant_type=authorization_code&client_id=hirehook&client_secret=secret&code="+url.QueryEscape(code))
	if st != 200 {
		t.Fatalf("token = %d %s", st, body)
	}
	tok := decode(t, body)
	if tok["expires_in"] != 600.0 || tok["refresh_token"] == "" {
		t.Errorf("token = %v", tok)
	}
	// The code is single-use.
	if st, _, _ := call(t, "POST", base+"/oauth/token?grant_type=authorization_code&client_id=hirehook&client_secret=secret&code="+url.QueryEscape(code)); st != 400 {
		t.Errorf("second use of a code = %d, want 400", st)
	}
	at := tok["access_token"].(string)
	st, h, _ = call(t, "POST", base+"/rest-services/login?version=*&access_token="+url.QueryEscape(at))
	if st != http.StatusTemporaryRedirect || !strings.HasPrefix(h.Get("Location"), "/dc/rest-services/login?") {
		t.Fatalf("login = %d to %q, want a 307 to the data centre", st, h.Get("Location"))
	}
	st, _, body = call(t, "POST", base+h.Get("Location"))
	if st != 200 {
		t.Fatalf("data-centre login = %d %s", st, body)
	}
	l := decode(t, body)
	return l["restUrl"].(string), l["BhRestToken"].(string)
}

func TestSubscriptionSemantics(t *testing.T) {
	t.Parallel()
	sim := bullhornsim.New(bullhornsim.Config{})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	rest, bh := login(t, srv.URL)
	if rest != srv.URL+"/dc/rest-services/e999/" {
		t.Fatalf("restUrl = %s", rest)
	}
	q := "BhRestToken=" + bh

	if st, _, _ := call(t, "GET", rest+"event/subscription/s1?maxEvents=10&"+q); st != 404 {
		t.Errorf("unknown subscription = %d, want 404", st)
	}
	st, _, body := call(t, "PUT", rest+"event/subscription/s1?type=entity&names=Candidate,Placement&eventTypes=INSERTED,UPDATED,DELETED&"+q)
	if sub := decode(t, body); st != 200 || sub["subscriptionId"] != "s1" || sub["lastRequestId"] != 0.0 || !strings.Contains(sub["jmsSelector"].(string), "'Candidate'") {
		t.Fatalf("subscribe = %d %s", st, body)
	}

	// Nothing queued: an empty body.
	if st, _, body := call(t, "GET", rest+"event/subscription/s1?maxEvents=10&"+q); st != 200 || len(body) != 0 {
		t.Errorf("empty poll = %d %q", st, body)
	}

	id, _ := sim.Create("Candidate", map[string]any{"firstName": "Ada"})
	_ = sim.Update("Candidate", id, map[string]any{"firstName": "Ada", "status": "Active"}) // firstName unchanged
	_, _ = sim.Create("JobOrder", map[string]any{"title": "not subscribed"})
	_ = sim.Delete("Candidate", id)

	st, _, body = call(t, "GET", rest+"event/subscription/s1?maxEvents=2&"+q)
	b1 := decode(t, body)
	evs := b1["events"].([]any)
	if st != 200 || b1["requestId"] != 1.0 || len(evs) != 2 {
		t.Fatalf("batch 1 = %d %s", st, body)
	}
	upd := evs[1].(map[string]any)
	if upd["entityEventType"] != "UPDATED" || upd["entityName"] != "Candidate" || upd["eventType"] != "ENTITY" ||
		len(upd["updatedProperties"].([]any)) != 1 || upd["updatedProperties"].([]any)[0] != "status" || upd["eventTimestamp"].(float64) <= 0 {
		t.Errorf("update event = %v", upd)
	}
	// Delete on read: the next read gets the rest.
	_, _, body = call(t, "GET", rest+"event/subscription/s1?maxEvents=100&"+q)
	b2 := decode(t, body)
	if b2["requestId"] != 2.0 || len(b2["events"].([]any)) != 1 {
		t.Errorf("batch 2 = %s", body)
	}
	// Re-read batch 1 by requestId.
	_, _, again := call(t, "GET", rest+"event/subscription/s1?maxEvents=100&requestId=1&"+q)
	if a := decode(t, again); a["requestId"] != 1.0 || len(a["events"].([]any)) != 2 {
		t.Errorf("re-read = %s", again)
	}
	_, _, body = call(t, "GET", rest+"event/subscription/s1/lastRequestId?"+q)
	if r := decode(t, body); r["result"] != 2.0 {
		t.Errorf("lastRequestId = %s", body)
	}

	// Sessions: a bad token, then an expired one, answer 401.
	if st, _, _ := call(t, "GET", rest+"event/subscription/s1?maxEvents=1&BhRestToken=nope"); st != 401 {
		t.Errorf("bad token = %d", st)
	}
	sim.ExpireSessions()
	if st, _, body := call(t, "GET", rest+"event/subscription/s1?maxEvents=1&"+q); st != 401 || !strings.Contains(string(body), "BhRestToken") {
		t.Errorf("expired session = %d %s", st, body)
	}
	_, bh = login(t, srv.URL)
	q = "BhRestToken=" + bh

	// Faults.
	sim.Fail(429, 1, 3*time.Second)
	if st, h, _ := call(t, "GET", rest+"event/subscription/s1?maxEvents=1&"+q); st != 429 || h.Get("Retry-After") != "3" {
		t.Errorf("rate limit = %d Retry-After %q", st, h.Get("Retry-After"))
	}
	if st, _, _ := call(t, "DELETE", rest+"event/subscription/s1?"+q); st != 200 {
		t.Errorf("unsubscribe = %d", st)
	}
	if st, _, _ := call(t, "GET", rest+"event/subscription/s1?maxEvents=1&"+q); st != 404 {
		t.Errorf("after unsubscribe = %d", st)
	}
}

func TestEntityGet(t *testing.T) {
	t.Parallel()
	sim := bullhornsim.New(bullhornsim.Config{})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	rest, bh := login(t, srv.URL)
	q := "BhRestToken=" + bh
	d, err := sim.SeedDemo()
	if err != nil {
		t.Fatal(err)
	}
	p := d.Placements[0]
	_, _, body := call(t, "GET", rest+"entity/Placement/"+strconv.Itoa(p)+"?fields="+url.QueryEscape("id,status,candidate(id,firstName,lastName),jobOrder")+"&"+q)
	data := decode(t, body)["data"].(map[string]any)
	cand := data["candidate"].(map[string]any)
	job := data["jobOrder"].(map[string]any)
	if data["status"] != "Placed" || cand["firstName"] != "Amara" || len(job) != 1 || job["id"] == nil || len(data) != 4 {
		t.Errorf("placement = %s", body)
	}
	_, _, body = call(t, "GET", rest+"entity/Candidate/1,2,999?fields=id,firstName&"+q)
	if list := decode(t, body)["data"].([]any); len(list) != 2 {
		t.Errorf("several ids = %s", body)
	}
	if st, _, _ := call(t, "GET", rest+"entity/Candidate/999?fields=id&"+q); st != 404 {
		t.Errorf("missing id = %d", st)
	}
	if st, _, _ := call(t, "GET", rest+"entity/Candidate/1?fields=id,shoeSize&"+q); st != 400 {
		t.Errorf("unknown field = %d", st)
	}
	if st, _, _ := call(t, "GET", rest+"entity/Candidate/1?"+q); st != 400 {
		t.Errorf("no fields = %d", st)
	}
}

func TestRefreshTokenIsSingleUse(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(bullhornsim.New(bullhornsim.Config{}))
	t.Cleanup(srv.Close)
	_, h, _ := call(t, "GET", srv.URL+"/oauth/authorize?client_id=hirehook&response_type=code&action=Login&username=api.user&password=password")
	loc, _ := url.Parse(h.Get("Location"))
	_, _, body := call(t, "POST", srv.URL+"/oauth/token?grant_type=authorization_code&client_id=hirehook&client_secret=secret&code="+url.QueryEscape(loc.Query().Get("code")))
	rt := decode(t, body)["refresh_token"].(string)
	refresh := func() int {
		st, _, _ := call(t, "POST", srv.URL+"/oauth/token?grant_type=refresh_token&client_id=hirehook&client_secret=secret&refresh_token="+url.QueryEscape(rt))
		return st
	}
	if st := refresh(); st != 200 {
		t.Fatalf("refresh = %d", st)
	}
	if st := refresh(); st != 400 {
		t.Errorf("second use of a refresh token = %d, want 400", st)
	}
	if st, _, _ := call(t, "GET", srv.URL+"/oauth/authorize?client_id=hirehook&response_type=code&action=Login&username=api.user&password=bad"); st != 200 {
		t.Errorf("bad password = %d, want the login form (200) and no redirect", st)
	}
}
