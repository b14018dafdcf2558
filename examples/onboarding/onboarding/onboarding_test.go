package onboarding_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/client"
	"github.com/hirehook/hirehook/client/entity"
	"github.com/hirehook/hirehook/examples/onboarding/onboarding"
	"github.com/hirehook/hirehook/internal/hubtest"
	"github.com/hirehook/hirehook/internal/testwait"
	"github.com/hirehook/hirehook/route"
)

// setup starts a real hub, a real SMTP sink and the service, and subscribes
// the service to placement.confirmed.
func setup(t *testing.T) (*hubtest.Hub, *client.Client, *onboarding.Service, *onboarding.Sink, *httptest.Server, string) {
	t.Helper()
	hub := hubtest.Start(t)
	c, err := client.New(hub.URL, hub.Key)
	if err != nil {
		t.Fatal(err)
	}
	sink, err := onboarding.StartSink("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })

	// The endpoint needs the service's URL and the service needs the
	// endpoint's secret: listen first, create the endpoint, then serve.
	ts := httptest.NewUnstartedServer(nil)
	ep, err := c.CreateEndpoint(context.Background(), client.EndpointCreateParams{
		URL: "http://" + ts.Listener.Addr().String() + "/webhooks/hirehook", EventTypes: []string{"placement.confirmed"}})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := onboarding.Open(context.Background(), onboarding.Config{
		DBPath: filepath.Join(t.TempDir(), "onboarding.db"), Secrets: []string{ep.Secret},
		SMTPAddr: sink.Addr(), MailFrom: "onboarding@agency.example", HubURL: hub.URL, HubKey: hub.Key,
		Packets:       map[string][]string{"cl_acme": {"Acme site safety induction", "Acme NDA"}},
		DefaultPacket: []string{"Right-to-work check"},
		RetryAfter:    50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go svc.Run(ctx)
	ts.Config.Handler = svc.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	return hub, c, svc, sink, ts, ep.Secret
}

func confirmed(id, client string) hirehook.EventInput {
	in, err := entity.NewEvent(entity.EventPlacementConfirmed, entity.Placement{
		ID: id, Status: "confirmed", StartDate: "2026-12-07",
		Candidate: &entity.CandidateSummary{ID: "cand_" + id, FirstName: "Ada", LastName: "Lovelace", Email: "ada." + id + "@example.com"},
		Job:       &entity.JobSummary{ID: "job_1", Title: "Data Engineer"},
		Client:    &entity.ClientSummary{ID: client, Name: "Acme Corp"},
	})
	if err != nil {
		panic(err)
	}
	in.Source = "bullhorn"
	return in
}

func newHires(t *testing.T, svc *onboarding.Service) []onboarding.NewHire {
	t.Helper()
	nhs, err := svc.NewHires(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return nhs
}

// A confirmed placement, through the hub, becomes one new hire with the
// client's packet and one welcome email; a replay of the webhook changes
// nothing; a relay that refuses for a while only delays the email.
func TestPlacementConfirmedBecomesNewHire(t *testing.T) {
	t.Parallel()
	_, c, svc, sink, _, _ := setup(t)
	ctx := context.Background()
	sink.FailNext(1) // the relay is busy once: the outbox tries again

	acc, err := c.SendEvent(ctx, confirmed("pl_1", "cl_acme"))
	if err != nil {
		t.Fatal(err)
	}
	// The relay has the mail before the service records the send: wait for
	// the record, which is what the assertions below read.
	testwait.For(t, 15*time.Second, "the welcome email, recorded as sent", func() bool {
		nhs := newHires(t, svc)
		return len(nhs) == 1 && nhs[0].WelcomeSentAt != nil && len(sink.Mails()) == 1
	}, nil)
	nhs := newHires(t, svc)
	if len(nhs) != 1 {
		t.Fatalf("%d new hires, want 1", len(nhs))
	}
	nh := nhs[0]
	if nh.PlacementID != "pl_1" || nh.Email != "ada.pl_1@example.com" || nh.GivenName != "Ada" || nh.ClientID != "cl_acme" || nh.EventID != acc.ID ||
		strings.Join(nh.Packet, "|") != "Acme site safety induction|Acme NDA" || nh.WelcomeSentAt == nil || nh.WelcomeAttempts != 2 {
		t.Fatalf("new hire = %+v", nh)
	}
	mail := sink.Mails()[0]
	if len(mail.To) != 1 || mail.To[0] != "ada.pl_1@example.com" || !bytes.Contains(mail.Data, []byte("Subject: Welcome aboard, Ada: your start at Acme Corp")) ||
		!bytes.Contains(mail.Data, []byte("you start on 2026-12-07")) || !bytes.Contains(mail.Data, []byte("Acme NDA")) {
		t.Fatalf("welcome email to %v:\n%s", mail.To, mail.Data)
	}

	// Replay the delivery, and send the event again under another id: the
	// placement has its new hire; nothing is created or sent twice.
	// The service can finish before the hub has recorded the attempt; a
	// replay while the attempt is open is refused (409), so wait for it.
	var ev *client.EventWithDeliveries
	testwait.For(t, 15*time.Second, "the hub to record the delivery", func() bool {
		ev, err = c.GetEvent(ctx, acc.ID)
		return err == nil && len(ev.DeliveryList) == 1 && ev.DeliveryList[0].State == hirehook.DeliveryDelivered
	}, nil)
	if _, err := c.RetryDelivery(ctx, ev.DeliveryList[0].ID); err != nil {
		t.Fatal(err)
	}
	again, err := c.SendEvent(ctx, confirmed("pl_1", "cl_acme"))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{ev.DeliveryList[0].ID} {
		testwait.For(t, 15*time.Second, "the replay to be delivered", func() bool {
			d, err := c.GetDelivery(ctx, id)
			return err == nil && d.State == hirehook.DeliveryDelivered && d.Attempts == 2
		}, nil)
	}
	testwait.For(t, 15*time.Second, "the second event to be delivered", func() bool {
		e, err := c.GetEvent(ctx, again.ID)
		return err == nil && len(e.DeliveryList) == 1 && e.DeliveryList[0].State == hirehook.DeliveryDelivered
	}, nil)
	// Both webhooks were answered, so the service has handled them; one
	// more pass of the outbox, run here rather than waited for, must find
	// nothing to send.
	if err := svc.SendDue(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(newHires(t, svc)); n != 1 {
		t.Errorf("%d new hires after a replay and a repeat, want 1", n)
	}
	if n := len(sink.Mails()); n != 1 {
		t.Errorf("%d welcome emails after a replay and a repeat, want 1", n)
	}
}

// A thin webhook (no data, as an endpoint with "payload": "thin" sends it)
// makes the service fetch the placement from the hub's record API; a bad
// signature is refused and creates nothing; a placement without an email
// address is refused naming the field.
func TestThinEventsBadSignaturesAndBadPlacements(t *testing.T) {
	t.Parallel()
	_, c, svc, sink, ts, secret := setup(t)
	ctx := context.Background()
	// The hub stores the placement's record, but the endpoint does not
	// take the event: this test posts the webhooks itself.
	if _, err := c.UpdateEndpoint(ctx, mustFirstEndpoint(t, c), client.EndpointUpdateParams{EventTypes: []string{"offer.signed"}}); err != nil {
		t.Fatal(err)
	}
	acc, err := c.SendEvent(ctx, confirmed("pl_thin", "cl_other"))
	if err != nil {
		t.Fatal(err)
	}
	// The thin body of that event, as the router makes it, signed with the
	// endpoint's secret.
	ev, err := c.GetEvent(ctx, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	full, err := ev.Event.RenderPayload()
	if err != nil {
		t.Fatal(err)
	}
	thin, err := route.Compile(route.Spec{Payload: route.PayloadThin})
	if err != nil {
		t.Fatal(err)
	}
	res, err := thin.Apply(ctx, full)
	if err != nil || !res.Deliver || bytes.Contains(res.Body, []byte("ada.")) {
		t.Fatalf("thin body %s (%v)", res.Body, err)
	}
	post := func(body []byte, secret string) *http.Response {
		t.Helper()
		signer, err := hirehook.NewSigner(secret)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/webhooks/hirehook", bytes.NewReader(body))
		id, now := hirehook.NewID("msg"), time.Now().Unix()
		req.Header.Set(hirehook.HeaderWebhookID, id)
		req.Header.Set(hirehook.HeaderWebhookTimestamp, strconv.FormatInt(now, 10))
		req.Header.Set(hirehook.HeaderWebhookSignature, signer.Sign(id, now, body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post(res.Body, hirehook.NewSecret()); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong secret: %d, want 401", resp.StatusCode)
	}
	if n := len(newHires(t, svc)); n != 0 {
		t.Fatalf("a badly signed webhook created %d new hires", n)
	}
	if resp := post(res.Body, secret); resp.StatusCode != http.StatusOK {
		t.Fatalf("thin webhook: %d, want 200", resp.StatusCode)
	}
	nhs := newHires(t, svc)
	if len(nhs) != 1 || nhs[0].PlacementID != "pl_thin" || nhs[0].Email != "ada.pl_thin@example.com" || strings.Join(nhs[0].Packet, "|") != "Right-to-work check" {
		t.Fatalf("new hires from the thin event = %+v", nhs)
	}
	testwait.For(t, 15*time.Second, "the welcome email", func() bool { return len(sink.Mails()) == 1 }, nil)

	var noEmail map[string]any
	json.Unmarshal(full, &noEmail)
	noEmail["data"].(map[string]any)["candidate"].(map[string]any)["email"] = ""
	noEmail["data"].(map[string]any)["id"] = "pl_no_email"
	body, _ := json.Marshal(noEmail)
	if resp := post(body, secret); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("placement without an email: %d, want 422", resp.StatusCode)
	}
}

func mustFirstEndpoint(t *testing.T, c *client.Client) string {
	t.Helper()
	page, err := c.ListEndpoints(context.Background(), client.ListParams{})
	if err != nil || len(page.Data) == 0 {
		t.Fatalf("list endpoints: %v", err)
	}
	return page.Data[0].ID
}
