package receiver_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/client/entity"
	"github.com/hirehook/hirehook/client/receiver"
)

// signed returns a webhook request as the hub sends it.
func signed(secret, id, body string) *http.Request {
	ts := time.Now().Unix()
	sig, err := hirehook.Sign(secret, id, ts, []byte(body))
	if err != nil {
		panic(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/hooks/hirehook", strings.NewReader(body))
	r.Header.Set("webhook-id", id)
	r.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	r.Header.Set("webhook-signature", sig)
	return r
}

// An onboarding system receives placement.confirmed: the handler verifies
// the signature, hands each webhook id over once, and answers 5xx when the
// callback fails so the hub sends it again.
func ExampleHandler() {
	secret := hirehook.NewSecret() // the endpoint's secret, from the hub
	h := receiver.Handler([]string{secret}, receiver.NewMemoryDedup(0), func(ctx context.Context, e receiver.Event) error {
		if e.Type != entity.EventPlacementConfirmed {
			return nil // not interesting: acknowledge
		}
		p, err := e.Placement()
		if err != nil {
			return err
		}
		fmt.Printf("onboard %s from %s at %.2f %s/%s\n", p.ID, p.StartDate, p.PayRate.Amount, p.PayRate.Currency, p.PayRate.Unit)
		return nil
	})

	body := `{"id":"evt_1","type":"placement.confirmed","timestamp":"2026-11-27T09:30:00Z","subject":{"entity":"placement","id":"pl_1001"},` +
		`"data":{"id":"pl_1001","start_date":"2026-12-07","pay_rate":{"amount":42.5,"currency":"USD","unit":"hour"}}}`
	for _, r := range []*http.Request{
		signed(secret, "evt_1", body),
		signed(secret, "evt_1", body),               // a retry: acknowledged, not handed over again
		signed(hirehook.NewSecret(), "evt_1", body), // a forgery
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code)
	}
	// Output:
	// onboard pl_1001 from 2026-12-07 at 42.50 USD/hour
	// 204
	// 200
	// 400
}

// Verify checks a request in a handler of one's own; it puts the body back.
func ExampleVerify() {
	secret := hirehook.NewSecret()
	r := signed(secret, "evt_1", `{"id":"evt_1","type":"candidate.created"}`)

	body, err := receiver.Verify(r, secret)
	fmt.Println(string(body), err)

	_, err = receiver.Verify(signed(secret, "evt_2", `{}`), hirehook.NewSecret())
	fmt.Println(err)
	// Output:
	// {"id":"evt_1","type":"candidate.created"} <nil>
	// no webhook-signature matches
}
