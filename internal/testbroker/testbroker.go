// Package testbroker is where tests find the message brokers of the test
// machine (RabbitMQ and NATS JetStream, which `.ci/run` starts when they
// do not answer), and the one rule for a broker that is not there: the
// test fails, saying what is missing, unless HIREHOOK_SKIP_BROKERS=1, which
// skips it instead.
package testbroker

import (
	"net"
	"os"
	"testing"
	"time"
)

// NATS is the test machine's NATS server with JetStream.
const NATS = "127.0.0.1:4222"

// NATSServerBinary is the nats-server that tests start with their own
// users and options.
const NATSServerBinary = "/usr/sbin/nats-server"

// RabbitMQAddr is the test machine's RabbitMQ (guest/guest):
// 127.0.0.1:5672 unless HIREHOOK_TEST_RABBITMQ_ADDR says otherwise.
func RabbitMQAddr() string {
	if a := os.Getenv("HIREHOOK_TEST_RABBITMQ_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:5672"
}

// RabbitMQ returns RabbitMQAddr once something answers there (see Need).
func RabbitMQ(tb testing.TB) string {
	tb.Helper()
	addr := RabbitMQAddr()
	Dial(tb, "RabbitMQ (guest/guest)", addr)
	return addr
}

// Dial checks that something answers at addr, the broker what (see Need).
func Dial(tb testing.TB, what, addr string) {
	tb.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		Need(tb, what+" at "+addr, err)
	}
	c.Close()
}

// Need fails the test because what, a broker or a broker's binary it
// needs, is not there (err), or skips it when HIREHOOK_SKIP_BROKERS=1.
func Need(tb testing.TB, what string, err error) {
	tb.Helper()
	if os.Getenv("HIREHOOK_SKIP_BROKERS") == "1" {
		tb.Skipf("%s: %v (HIREHOOK_SKIP_BROKERS=1)", what, err)
	}
	tb.Fatalf("%s is needed for this test (start it, or set HIREHOOK_SKIP_BROKERS=1 to skip): %v", what, err)
}
