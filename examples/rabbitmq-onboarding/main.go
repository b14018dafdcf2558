// Command rabbitmq-onboarding is an onboarding worker fed from RabbitMQ:
// it consumes the messages a hirehook endpoint of kind rabbitmq publishes
// to a queue, verifies each with the endpoint's secret
// (receiver.VerifyMessage), handles confirmed placements, acks what it
// handled and rejects, without requeueing, what does not verify. See
// README.md and docs/destinations.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hirehook/hirehook/client/receiver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "rabbitmq-onboarding:", err)
		os.Exit(1)
	}
}

// run consumes until ctx ends or the connection closes.
func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	fs := flag.NewFlagSet("rabbitmq-onboarding", flag.ContinueOnError)
	amqpURL := fs.String("amqp-url", getenv("AMQP_URL"), "the broker, amqp://user:password@host:5672/vhost (else AMQP_URL)")
	queue := fs.String("queue", "onboarding", "the queue the hub's messages are routed to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// The secret comes from the environment, never a flag: a flag's value
	// shows in ps and in the shell's history.
	secret := getenv("HIREHOOK_SECRET")
	if secret == "" || *amqpURL == "" {
		return errors.New("set HIREHOOK_SECRET (the endpoint's whsec_ secret) and AMQP_URL or --amqp-url")
	}
	v := receiver.Verifier{Secrets: []string{secret}}

	conn, err := amqp.Dial(*amqpURL)
	if err != nil {
		return fmt.Errorf("connect to the broker: %w", err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("open a channel: %w", err)
	}
	if err := ch.Qos(10, 0, false); err != nil {
		return fmt.Errorf("set prefetch: %w", err)
	}
	msgs, err := ch.ConsumeWithContext(ctx, *queue, "rabbitmq-onboarding", false, false, false, false, nil)
	if err != nil {
		return fmt.Errorf("consume %s: %w", *queue, err)
	}
	fmt.Fprintf(out, "consuming %s\n", *queue)
	for {
		select {
		case <-ctx.Done():
			return nil
		case d, ok := <-msgs:
			if !ok {
				return nil
			}
			if err := handle(&v, d, out); err != nil {
				return err
			}
		}
	}
}

// handle verifies and handles one message, then acks or rejects it.
func handle(v *receiver.Verifier, d amqp.Delivery, out io.Writer) error {
	if err := v.VerifyMessage(receiver.HeadersFromTable(d.Headers), d.Body); err != nil {
		fmt.Fprintf(out, "reject %s: %v\n", d.MessageId, err)
		return d.Reject(false) // to the queue's dead-letter exchange, if it has one
	}
	var ev struct {
		ID   string `json:"id"`
		Type string `json:"type"`
		Data struct {
			ID        string `json:"id"`
			StartDate string `json:"start_date"`
			Candidate struct {
				FirstName string `json:"first_name"`
				LastName  string `json:"last_name"`
			} `json:"candidate"`
		} `json:"data"`
	}
	if err := json.Unmarshal(d.Body, &ev); err != nil {
		fmt.Fprintf(out, "reject %s: not an event: %v\n", d.MessageId, err)
		return d.Reject(false)
	}
	if ev.Type == "placement.confirmed" {
		// A real worker would create the accounts here, doing nothing for
		// an event id it has handled: a message may come twice.
		fmt.Fprintf(out, "onboard %s %s, placement %s, starting %s (event %s)\n",
			ev.Data.Candidate.FirstName, ev.Data.Candidate.LastName, ev.Data.ID, ev.Data.StartDate, ev.ID)
	}
	return d.Ack(false)
}
