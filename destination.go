package hirehook

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Destination kinds of Endpoint.Kind. An endpoint of kind KindHTTP (or "")
// is a webhook URL; the others publish the same signed message to a
// broker, configured by Endpoint.Config and Endpoint.Credentials.
const (
	KindHTTP     = "http"
	KindKafka    = "kafka"
	KindRabbitMQ = "rabbitmq"
	KindNATS     = "nats"
	KindPubSub   = "gcp_pubsub"
)

// DestinationField is one field of a destination kind's config or
// credentials.
type DestinationField struct {
	Name     string // the key in Endpoint.Config or Endpoint.Credentials
	Required bool
	Help     string // one line for the API reference and the dashboard's form
	// CheckFunc reports what is wrong with a non-empty value (nil when it
	// is fine); nil accepts any value.
	CheckFunc func(v string) error
	// NotSecret marks a credential that names who connects rather than
	// proving it (a user name): an attempt's error may quote it, as the
	// brokers' own refusals do ("authentication failed for user
	// \"hub\""), which is what tells an operator which login to fix.
	// Every other credential is a secret.
	NotSecret bool
}

// DestinationKind describes one kind of destination: its fields, its
// broker addresses (what the outbound address guard checks) and how it
// shows as one line.
type DestinationKind struct {
	Name        string // KindKafka, ...
	Title       string // "Kafka"
	Config      []DestinationField
	Credentials []DestinationField
	// HostsFunc returns the broker addresses ("host:port") a valid config
	// names; nil for a kind with no fixed addresses (Pub/Sub's Google
	// endpoint).
	HostsFunc func(config map[string]string) []string
	// TargetFunc returns the endpoint's destination as one line, shown
	// where a webhook shows its URL ("kafka://b1:9092,b2:9092/applications").
	TargetFunc func(config map[string]string) string
}

// Limits of a destination's fields.
const (
	MaxDestinationValue = 16 << 10 // bytes of one config or credentials value (a service-account key fits)
)

var (
	kafkaTopicRE   = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)
	natsSubjectRE  = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)
	pubsubTopicRE  = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9._~+%-]{2,254}$`)
	pubsubProjRE   = regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]$`)
	amqpNameRE     = regexp.MustCompile(`^[a-zA-Z0-9_.:-]{0,255}$`)
	amqpRoutingRE  = regexp.MustCompile(`^[^\x00-\x1f]{0,255}$`)
	boolValues     = []string{"true", "false"}
	saslMechanisms = []string{"plain", "scram-sha-256", "scram-sha-512"}
)

func checkBool(v string) error {
	if !slices.Contains(boolValues, v) {
		return fmt.Errorf("must be \"true\" or \"false\"")
	}
	return nil
}

// checkHostPort accepts "host:port" with a port from 1 to 65535.
func checkHostPort(v string) error {
	host, port, err := net.SplitHostPort(v)
	if err != nil || host == "" {
		return fmt.Errorf("must be host:port, e.g. broker.internal:9092")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("has port %q, want 1 to 65535", port)
	}
	return nil
}

// checkHostList accepts a comma-separated list of host:port.
func checkHostList(v string) error {
	for _, h := range splitList(v) {
		if err := checkHostPort(h); err != nil {
			return fmt.Errorf("entry %q %w", h, err)
		}
	}
	if len(splitList(v)) == 0 {
		return fmt.Errorf("must list at least one host:port")
	}
	return nil
}

// splitList splits a comma-separated list, trimming blanks and dropping
// empty entries.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func matching(re *regexp.Regexp, what string) func(string) error {
	return func(v string) error {
		if !re.MatchString(v) {
			return fmt.Errorf("is not a valid %s", what)
		}
		return nil
	}
}

func oneOf(values ...string) func(string) error {
	return func(v string) error {
		if !slices.Contains(values, v) {
			return fmt.Errorf("must be one of %s", strings.Join(values, ", "))
		}
		return nil
	}
}

// DestinationKinds are the broker kinds an endpoint may have besides
// KindHTTP. Their field names are public: the API's "config" and
// "credentials" objects, the dashboard's form and the CLI's flags use them.
var DestinationKinds = []DestinationKind{
	{
		Name: KindKafka, Title: "Kafka",
		Config: []DestinationField{
			{Name: "brokers", Required: true, Help: "seed brokers, comma-separated host:port", CheckFunc: checkHostList},
			{Name: "topic", Required: true, Help: "the topic each event is produced to", CheckFunc: matching(kafkaTopicRE, "Kafka topic name")},
			{Name: "tls", Help: `"true" to connect with TLS`, CheckFunc: checkBool},
			{Name: "sasl_mechanism", Help: "plain, scram-sha-256 or scram-sha-512 (with username and password)", CheckFunc: oneOf(saslMechanisms...)},
		},
		Credentials: []DestinationField{
			{Name: "username", Help: "SASL user name", NotSecret: true},
			{Name: "password", Help: "SASL password"},
		},
		HostsFunc: func(c map[string]string) []string { return splitList(c["brokers"]) },
		TargetFunc: func(c map[string]string) string {
			return "kafka://" + strings.Join(splitList(c["brokers"]), ",") + "/" + c["topic"]
		},
	},
	{
		Name: KindRabbitMQ, Title: "RabbitMQ",
		Config: []DestinationField{
			{Name: "address", Required: true, Help: "the broker's host:port (5672, or 5671 with TLS)", CheckFunc: checkHostPort},
			{Name: "vhost", Help: `the virtual host; default "/"`},
			{Name: "exchange", Help: `the exchange published to; default "" (the default exchange, routing key = queue name)`, CheckFunc: matching(amqpNameRE, "exchange name")},
			{Name: "routing_key", Help: "the routing key; default the event type (placement.confirmed), for topic exchanges", CheckFunc: matching(amqpRoutingRE, "routing key")},
			{Name: "tls", Help: `"true" to connect with TLS (amqps)`, CheckFunc: checkBool},
		},
		Credentials: []DestinationField{
			{Name: "username", Required: true, Help: "the AMQP user", NotSecret: true},
			{Name: "password", Required: true, Help: "the AMQP password"},
		},
		HostsFunc: func(c map[string]string) []string { return []string{c["address"]} },
		TargetFunc: func(c map[string]string) string {
			// The AMQP URI form: the vhost is the path ("/" is the
			// default vhost), then where messages go.
			scheme := "amqp"
			if c["tls"] == "true" {
				scheme = "amqps"
			}
			vhost := strings.TrimPrefix(c["vhost"], "/")
			key := c["routing_key"]
			if key == "" {
				key = "{event_type}"
			}
			return scheme + "://" + c["address"] + "/" + url.PathEscape(vhost) + "?exchange=" + url.QueryEscape(c["exchange"]) + "&routing_key=" + key
		},
	},
	{
		Name: KindNATS, Title: "NATS JetStream",
		Config: []DestinationField{
			{Name: "servers", Required: true, Help: "servers, comma-separated host:port", CheckFunc: checkHostList},
			{Name: "subject", Required: true, Help: "subject prefix: an event is published to <subject>.<event type>, which a JetStream stream must capture", CheckFunc: matching(natsSubjectRE, "NATS subject (tokens of letters, digits, _ and - joined by dots)")},
			{Name: "tls", Help: `"true" to connect with TLS`, CheckFunc: checkBool},
		},
		Credentials: []DestinationField{
			{Name: "username", Help: "user name (with password)", NotSecret: true},
			{Name: "password", Help: "password (with username)"},
			{Name: "token", Help: "authentication token (instead of username and password)"},
		},
		HostsFunc: func(c map[string]string) []string { return splitList(c["servers"]) },
		TargetFunc: func(c map[string]string) string {
			return "nats://" + strings.Join(splitList(c["servers"]), ",") + "/" + c["subject"] + ".{event_type}"
		},
	},
	{
		Name: KindPubSub, Title: "Google Cloud Pub/Sub",
		Config: []DestinationField{
			{Name: "project_id", Required: true, Help: "the Google Cloud project", CheckFunc: matching(pubsubProjRE, "project id")},
			{Name: "topic", Required: true, Help: "the topic id (not its full name)", CheckFunc: matching(pubsubTopicRE, "Pub/Sub topic id")},
			{Name: "endpoint", Help: "host:port of an emulator or a private endpoint, reached without TLS or credentials; default Google's", CheckFunc: checkHostPort},
		},
		Credentials: []DestinationField{
			{Name: "service_account_json", Help: "a service account's JSON key with pubsub.topics.publish; required unless endpoint is set"},
		},
		HostsFunc: func(c map[string]string) []string {
			if c["endpoint"] == "" {
				return nil
			}
			return []string{c["endpoint"]}
		},
		TargetFunc: func(c map[string]string) string {
			s := "gcp-pubsub://projects/" + c["project_id"] + "/topics/" + c["topic"]
			if c["endpoint"] != "" {
				s += " via " + c["endpoint"]
			}
			return s
		},
	},
}

// Secrets returns the values in credentials that are secrets: all but
// those of fields k marks NotSecret. A field k does not know counts as a
// secret.
func (k DestinationKind) Secrets(credentials map[string]string) []string {
	var out []string
	for name, v := range credentials {
		i := slices.IndexFunc(k.Credentials, func(f DestinationField) bool { return f.Name == name })
		if i >= 0 && k.Credentials[i].NotSecret {
			continue
		}
		out = append(out, v)
	}
	return out
}

// LookupDestinationKind returns the kind named name; ok is false for
// KindHTTP and for an unknown name.
func LookupDestinationKind(name string) (DestinationKind, bool) {
	for _, k := range DestinationKinds {
		if k.Name == name {
			return k, true
		}
	}
	return DestinationKind{}, false
}

// DestinationKindNames lists every kind an endpoint may have, KindHTTP
// first.
func DestinationKindNames() []string {
	names := []string{KindHTTP}
	for _, k := range DestinationKinds {
		names = append(names, k.Name)
	}
	return names
}

// ValidateDestination checks a broker endpoint's kind, config and
// credentials: every required field set, no unknown field, each value in
// its form. The error is an EINVALID *Error naming the field
// ("config.topic"); a credential's value never appears in it.
func ValidateDestination(kind string, config, credentials map[string]string) error {
	k, ok := LookupDestinationKind(kind)
	if !ok {
		return FieldError("kind", "must be one of %s", strings.Join(DestinationKindNames(), ", "))
	}
	if err := checkFields("config", k.Name, k.Config, config, true); err != nil {
		return err
	}
	if err := checkFields("credentials", k.Name, k.Credentials, credentials, false); err != nil {
		return err
	}
	switch k.Name {
	case KindKafka:
		if config["sasl_mechanism"] != "" && (credentials["username"] == "" || credentials["password"] == "") {
			return FieldError("credentials.username", "and credentials.password are required with config.sasl_mechanism")
		}
		if config["sasl_mechanism"] == "" && (credentials["username"] != "" || credentials["password"] != "") {
			return FieldError("config.sasl_mechanism", "is required with credentials: plain, scram-sha-256 or scram-sha-512")
		}
	case KindNATS:
		if (credentials["username"] == "") != (credentials["password"] == "") {
			return FieldError("credentials.password", "and credentials.username go together")
		}
		if credentials["token"] != "" && credentials["username"] != "" {
			return FieldError("credentials.token", "cannot be combined with username and password")
		}
	case KindPubSub:
		if config["endpoint"] == "" && credentials["service_account_json"] == "" {
			return FieldError("credentials.service_account_json", "is required unless config.endpoint names an emulator")
		}
	}
	return nil
}

func checkFields(object, kind string, fields []DestinationField, values map[string]string, showValue bool) error {
	known := make(map[string]DestinationField, len(fields))
	for _, f := range fields {
		known[f.Name] = f
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, name := range keys {
		f, ok := known[name]
		field := object + "." + name
		if !ok {
			names := make([]string, 0, len(fields))
			for _, f := range fields {
				names = append(names, f.Name)
			}
			return FieldError(field, "is not a %s field of kind %s (known: %s)", object, kind, strings.Join(names, ", "))
		}
		v := values[name]
		if len(v) > MaxDestinationValue {
			return FieldError(field, "is longer than %d bytes", MaxDestinationValue)
		}
		if v == "" || f.CheckFunc == nil {
			continue
		}
		if err := f.CheckFunc(v); err != nil {
			if showValue && len(v) <= 200 {
				return FieldError(field, "%q %s", v, err)
			}
			return FieldError(field, "%s", err)
		}
	}
	for _, f := range fields {
		if f.Required && strings.TrimSpace(values[f.Name]) == "" {
			return FieldError(object+"."+f.Name, "is required for kind %s: %s", kind, f.Help)
		}
	}
	return nil
}

// Target returns where e delivers, as logs, audit entries, operational
// events, the dashboard and the API's url of a broker endpoint show it: a
// webhook's URL without credentials, query or fragment (RedactURL), or a
// broker endpoint's destination line, made from its config on each call
// (DestinationKind.TargetFunc; it holds no credential, and is not stored).
func (e *Endpoint) Target() string {
	if e.Kind == "" || e.Kind == KindHTTP {
		return RedactURL(e.URL)
	}
	if k, ok := LookupDestinationKind(e.Kind); ok {
		return k.TargetFunc(e.Config)
	}
	return ""
}
