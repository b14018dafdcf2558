package client_test

import (
	"context"
	"fmt"
	"log"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/client"
	"github.com/hirehook/hirehook/client/entity"
)

// A producer (an ATS connector) sends a confirmed placement. The
// idempotency key makes a retry of the same call safe.
func ExampleClient_SendEvent() {
	hub, stop := exampleHub() // a real hub on a temporary SQLite file
	defer stop()
	ctx := context.Background()

	c, err := client.New(hub.URL, hub.Key)
	if err != nil {
		log.Fatal(err)
	}
	in, err := entity.NewEvent(entity.EventPlacementConfirmed, entity.Placement{
		ID: "pl_1001", Status: "confirmed", StartDate: "2026-12-07", EmploymentType: "contract",
		PayRate: &entity.Money{Amount: 42.5, Currency: "USD", Unit: "hour"},
	})
	if err != nil {
		log.Fatal(err)
	}
	in.Source = "bullhorn"
	key := client.SendOption{IdempotencyKey: "bullhorn:placement:1001:confirmed"}

	acc, err := c.SendEvent(ctx, in, key)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("duplicate:", acc.Duplicate)

	again, err := c.SendEvent(ctx, in, key) // say the first answer was lost
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("same event:", again.ID == acc.ID, "duplicate:", again.Duplicate)
	// Output:
	// duplicate: false
	// same event: true duplicate: true
}

// An admin subscribes an onboarding system to placement events; the
// answer carries the signing secret to give the receiver.
func ExampleClient_CreateEndpoint() {
	hub, stop := exampleHub()
	defer stop()
	ctx := context.Background()
	c, err := client.New(hub.URL, hub.Key)
	if err != nil {
		log.Fatal(err)
	}

	ep, err := c.CreateEndpoint(ctx, client.EndpointCreateParams{
		URL:        "https://onboarding.example.com/hooks/hirehook",
		EventTypes: []string{"placement.*"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ep.EventTypes, len(ep.Secret) > len("whsec_"))

	acc, err := c.SendEvent(ctx, hirehook.EventInput{Type: entity.EventPlacementConfirmed, Data: []byte(`{"id":"pl_1"}`)})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("deliveries:", acc.Deliveries)
	// Output:
	// [placement.*] true
	// deliveries: 1
}

// The hub's validation errors come back as *hirehook.Error, with the
// field to fix.
func ExampleAPIError() {
	hub, stop := exampleHub()
	defer stop()
	c, err := client.New(hub.URL, hub.Key)
	if err != nil {
		log.Fatal(err)
	}

	_, err = c.SendEvent(context.Background(), hirehook.EventInput{
		Type: entity.EventCandidateCreated,
		Data: []byte(`{"id":"cand_1","email":"not an email"}`),
	})
	fmt.Println(hirehook.ErrorCode(err), hirehook.ErrorField(err))
	fmt.Println("retry?", client.Retryable(err))
	// Output:
	// invalid data.email
	// retry? false
}

// AllEvents walks a whole list, fetching the pages as it goes.
func ExampleClient_AllEvents() {
	hub, stop := exampleHub()
	defer stop()
	ctx := context.Background()
	c, err := client.New(hub.URL, hub.Key)
	if err != nil {
		log.Fatal(err)
	}
	for _, id := range []string{"c_1", "c_2", "c_3"} {
		in, _ := entity.NewEvent(entity.EventCandidateCreated, entity.Candidate{ID: id})
		if _, err := c.SendEvent(ctx, in); err != nil {
			log.Fatal(err)
		}
	}

	params := client.EventListParams{Entity: "candidate", ListParams: client.ListParams{Limit: 2}}
	for ev, err := range c.AllEvents(ctx, params) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(ev.Type, ev.Subject.ID)
	}
	// Output:
	// candidate.created c_1
	// candidate.created c_2
	// candidate.created c_3
}
