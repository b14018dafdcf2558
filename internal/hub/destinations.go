package hub

import (
	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/destination"
	"github.com/hirehook/hirehook/destination/kafka"
	"github.com/hirehook/hirehook/destination/nats"
	"github.com/hirehook/hirehook/destination/pubsub"
	"github.com/hirehook/hirehook/destination/rabbitmq"
	"github.com/hirehook/hirehook/internal/netguard"
)

// publishers returns the dispatcher's Publisher of every broker kind. Each
// dials through the outbound address guard: private addresses are refused
// unless --allow-private-destinations, or the broker host is on
// --allow-broker-hosts. One attempt, the connect included, takes at most
// --delivery-timeout, as a webhook's does.
func (c *Config) publishers() (map[string]destination.Publisher, error) {
	allow, err := netguard.ParseAllowList(c.AllowBrokerHosts)
	if err != nil {
		return nil, &ConfigError{Field: "allow-broker-hosts", Err: err}
	}
	o := destination.Options{
		DialContext: netguard.DialContext(c.DeliveryTimeout, c.AllowPrivateDestinations, allow),
		Timeout:     c.DeliveryTimeout,
		ClientID:    "hirehook/" + hirehook.Version,
	}
	return map[string]destination.Publisher{
		hirehook.KindKafka:    kafka.New(o),
		hirehook.KindNATS:     nats.New(o),
		hirehook.KindPubSub:   pubsub.New(o),
		hirehook.KindRabbitMQ: rabbitmq.New(o),
	}, nil
}
