package receiver_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/client/entity"
	"github.com/hirehook/hirehook/client/receiver"
)

const placementBody = `{"id":"evt_1","type":"placement.confirmed","timestamp":"2026-11-27T09:30:00Z","source":"bullhorn",` +
	`"subject":{"entity":"placement","id":"pl_1001"},"data":{"id":"pl_1001","status":"confirmed","start_date":"2026-12-07",` +
	`"pay_rate":{"amount":42.5,"currency":"USD","unit":"hour"},"po_number":"PO-7"},"changes":{"status":{"from":"pending","to":"confirmed"}}}`

// handlerBundle is a receiver.Handler under httptest with a scripted
// callback.
type handlerBundle struct {
	srv    *httptest.Server
	secret string
	now    time.Time

	mu     sync.Mutex
	calls  []receiver.Event
	script func(receiver.Event) error // the callback's behaviour; nil succeeds
}

func setupHandler(t *testing.T) *handlerBundle {
	t.Helper()
	b := &handlerBundle{secret: hirehook.NewSecret(), now: time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)}
	v := &receiver.Verifier{Secrets: []string{b.secret}, NowFunc: func() time.Time { return b.now }}
	h := v.Handler(receiver.NewMemoryDedup(0), func(ctx context.Context, e receiver.Event) error {
		b.mu.Lock()
		b.calls = append(b.calls, e)
		script := b.script
		b.mu.Unlock()
		if script != nil {
			return script(e)
		}
		return nil
	})
	b.srv = httptest.NewUnstartedServer(h)
	b.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the panic test's log
	b.srv.Start()
	t.Cleanup(b.srv.Close)
	return b
}

func (b *handlerBundle) setScript(f func(receiver.Event) error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.script = f
}

func (b *handlerBundle) callCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.calls)
}

// post sends a webhook signed now+offset with the bundle's secret (or sig,
// if not empty) and returns the status and body.
func (b *handlerBundle) post(t *testing.T, id string, offset time.Duration, sig, body string) (int, string) {
	t.Helper()
	ts := b.now.Add(offset).Unix()
	if sig == "" {
		var err error
		if sig, err = hirehook.Sign(b.secret, id, ts, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, b.srv.URL, strings.NewReader(body))
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", sig)
	req.Header.Set("Content-Type", "application/json")
	res, err := b.srv.Client().Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(out)
}

func TestHandlerDeliversTypedEvent(t *testing.T) {
	t.Parallel()
	b := setupHandler(t)
	if status, body := b.post(t, "evt_1", 0, "", placementBody); status != http.StatusNoContent {
		t.Fatalf("status = %d %s, want 204", status, body)
	}
	if b.callCount() != 1 {
		t.Fatalf("fn called %d times", b.callCount())
	}
	e := b.calls[0]
	if e.ID != "evt_1" || e.Type != entity.EventPlacementConfirmed || e.WebhookID != "evt_1" || e.Source != "bullhorn" ||
		e.Subject != (hirehook.Subject{Entity: "placement", ID: "pl_1001"}) || !e.SentAt.Equal(b.now) ||
		!e.Timestamp.Equal(time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)) || string(e.Changes["status"].To) != `"confirmed"` {
		t.Errorf("event = %+v", e)
	}
	p, err := e.Placement()
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != "pl_1001" || p.StartDate != "2026-12-07" || p.PayRate == nil || p.PayRate.Amount != 42.5 || string(p.Extra["po_number"]) != `"PO-7"` {
		t.Errorf("placement = %+v", p)
	}
	if _, err := e.Candidate(); err == nil {
		t.Error("a placement event decodes as a candidate")
	}
	var raw map[string]any
	if err := e.Decode(&raw); err != nil || raw["status"] != "confirmed" {
		t.Errorf("Decode: %v %v", raw, err)
	}
}

func TestHandlerDeduplicates(t *testing.T) {
	t.Parallel()
	b := setupHandler(t)
	if status, _ := b.post(t, "evt_1", 0, "", placementBody); status != http.StatusNoContent {
		t.Fatalf("first: %d", status)
	}
	// The hub's retry: same id, a new timestamp and signature.
	status, body := b.post(t, "evt_1", 30*time.Second, "", placementBody)
	if status != http.StatusOK {
		t.Fatalf("repeat: status = %d %s, want 200", status, body)
	}
	if n := b.callCount(); n != 1 {
		t.Fatalf("fn called %d times for one webhook id, want 1", n)
	}
	// Another id is processed.
	if status, _ := b.post(t, "evt_2", 0, "", strings.Replace(placementBody, "evt_1", "evt_2", 1)); status != http.StatusNoContent {
		t.Fatalf("another id: %d", status)
	}
	if n := b.callCount(); n != 2 {
		t.Fatalf("fn called %d times, want 2", n)
	}
}

func TestHandlerRefusesBadSignatures(t *testing.T) {
	t.Parallel()
	b := setupHandler(t)
	other, _ := hirehook.Sign(hirehook.NewSecret(), "evt_1", b.now.Unix(), []byte(placementBody))
	for name, send := range map[string]func() (int, string){
		"WrongSecret": func() (int, string) { return b.post(t, "evt_1", 0, other, placementBody) },
		"Garbage":     func() (int, string) { return b.post(t, "evt_1", 0, "v1,AAAA", placementBody) },
		"TooOld":      func() (int, string) { return b.post(t, "evt_1", -6*time.Minute, "", placementBody) },
		"TooNew":      func() (int, string) { return b.post(t, "evt_1", 6*time.Minute, "", placementBody) },
		"NotAWebhook": func() (int, string) { return b.post(t, "evt_1", 0, "", `{"hello":"world"}`) },
	} {
		status, body := send()
		if status != http.StatusBadRequest {
			t.Errorf("%s: status = %d %s, want 400", name, status, body)
		}
		if strings.Contains(body, b.secret) {
			t.Errorf("%s: the answer shows the secret", name)
		}
	}
	// Not signed at all.
	res, err := b.srv.Client().Post(b.srv.URL, "application/json", strings.NewReader(placementBody))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("unsigned: status = %d", res.StatusCode)
	}
	res, err = b.srv.Client().Get(b.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "POST" {
		t.Errorf("GET: status = %d, Allow %q", res.StatusCode, res.Header.Get("Allow"))
	}
	if n := b.callCount(); n != 0 {
		t.Fatalf("fn called %d times for refused webhooks", n)
	}
	// A refused forgery does not poison the dedup store: the real one passes.
	if status, _ := b.post(t, "evt_1", 0, "", placementBody); status != http.StatusNoContent {
		t.Errorf("the genuine webhook after forgeries: %d", status)
	}
}

func TestHandlerCallbackFailureIsRetried(t *testing.T) {
	t.Parallel()
	b := setupHandler(t)
	b.setScript(func(receiver.Event) error { return errors.New("smtp down") })
	status, body := b.post(t, "evt_1", 0, "", placementBody)
	if status != http.StatusInternalServerError {
		t.Fatalf("status = %d %s, want 500", status, body)
	}
	if strings.Contains(body, "smtp") {
		t.Errorf("the answer shows the callback's error: %s", body)
	}
	// The claim was released: the retry runs fn again and succeeds.
	b.setScript(nil)
	if status, _ := b.post(t, "evt_1", 5*time.Second, "", placementBody); status != http.StatusNoContent {
		t.Fatalf("retry: %d", status)
	}
	if status, _ := b.post(t, "evt_1", 10*time.Second, "", placementBody); status != http.StatusOK {
		t.Fatalf("after success: %d", status)
	}
	if n := b.callCount(); n != 2 {
		t.Fatalf("fn called %d times, want 2 (the failure and the retry)", n)
	}
}

func TestHandlerPanicReleasesClaim(t *testing.T) {
	t.Parallel()
	b := setupHandler(t)
	b.setScript(func(receiver.Event) error { panic("bug") })
	if status, _ := b.post(t, "evt_1", 0, "", placementBody); status != 0 {
		t.Fatalf("status = %d, want a dropped connection", status)
	}
	b.setScript(nil)
	if status, _ := b.post(t, "evt_1", time.Second, "", placementBody); status != http.StatusNoContent {
		t.Fatalf("retry after a panic: %d, want 204", status)
	}
}

func TestHandlerConcurrentDuplicate(t *testing.T) {
	t.Parallel()
	b := setupHandler(t)
	entered, release := make(chan struct{}), make(chan struct{})
	b.setScript(func(receiver.Event) error {
		close(entered)
		<-release
		return nil
	})
	first := make(chan int)
	go func() {
		status, _ := b.post(t, "evt_1", 0, "", placementBody)
		first <- status
	}()
	<-entered
	// While the first is being processed, a copy is not acknowledged.
	if status, _ := b.post(t, "evt_1", time.Second, "", placementBody); status != http.StatusConflict {
		t.Errorf("concurrent copy: %d, want 409", status)
	}
	close(release)
	if status := <-first; status != http.StatusNoContent {
		t.Errorf("first: %d", status)
	}
	if n := b.callCount(); n != 1 {
		t.Errorf("fn called %d times, want 1", n)
	}
}

func TestHandlerBodyTooLarge(t *testing.T) {
	t.Parallel()
	secret := hirehook.NewSecret()
	v := &receiver.Verifier{Secrets: []string{secret}, MaxBodyBytes: 64}
	h := v.Handler(nil, func(context.Context, receiver.Event) error { t.Error("fn called"); return nil })
	body := placementBody
	now := time.Now().Unix()
	sig, _ := hirehook.Sign(secret, "evt_1", now, []byte(body))
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("webhook-id", "evt_1")
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now, 10))
	req.Header.Set("webhook-signature", sig)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d", rec.Code)
	}
}

func TestMemoryDedup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	s := receiver.NewMemoryDedup(time.Hour)
	s.NowFunc = func() time.Time { return now }
	want := func(id string, r receiver.ClaimResult) {
		t.Helper()
		got, err := s.Claim(ctx, id)
		if err != nil || got != r {
			t.Fatalf("Claim(%s) = %v, %v; want %v", id, got, err, r)
		}
	}
	want("a", receiver.Claimed)
	want("a", receiver.InProgress)
	_ = s.Release(ctx, "a")
	want("a", receiver.Claimed)
	_ = s.Complete(ctx, "a")
	want("a", receiver.AlreadyDone)
	_ = s.Release(ctx, "a") // a done id stays done
	want("a", receiver.AlreadyDone)
	now = now.Add(time.Hour)
	want("a", receiver.Claimed) // forgotten after the TTL
	// A claim that is never completed lapses.
	want("b", receiver.Claimed)
	now = now.Add(11 * time.Minute)
	want("b", receiver.Claimed)
}
