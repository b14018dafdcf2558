package bench

import (
	"context"
	"errors"
)

func openRabbitMQBench(_ context.Context, address string) (benchBroker, error) {
	return nil, errors.New("bench: rabbitmq mode not yet built")
}
