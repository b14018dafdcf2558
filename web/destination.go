package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hirehook/hirehook"
)

// The endpoint form's destination: a webhook URL, or a broker kind of
// hirehook.DestinationKinds with its config and credentials. The fields
// are those the kinds declare (names, required, help): the form writes
// none of them by hand, so a field added to a kind shows up here.

// webhookTitle names the webhook kind in the dashboard.
const webhookTitle = "Webhook (HTTP)"

// kindOf is an endpoint's kind, "" read as KindHTTP.
func kindOf(ep *hirehook.Endpoint) string {
	if ep == nil || ep.Kind == "" {
		return hirehook.KindHTTP
	}
	return ep.Kind
}

// kindTitle names a destination kind for people ("NATS JetStream").
func kindTitle(kind string) string {
	if k, ok := hirehook.LookupDestinationKind(kind); ok {
		return k.Title
	}
	if kind == "" || kind == hirehook.KindHTTP {
		return webhookTitle
	}
	return kind
}

// credentialNames lists the names of an endpoint's credentials, never
// their values.
func credentialNames(ep *hirehook.Endpoint) []string {
	names := make([]string, 0, len(ep.Credentials))
	for k := range ep.Credentials {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// configEntry is one config field of a broker endpoint, for its page.
type configEntry struct{ Name, Value string }

// configEntries lists a broker endpoint's config in its kind's order.
func configEntries(ep *hirehook.Endpoint) []configEntry {
	k, ok := hirehook.LookupDestinationKind(kindOf(ep))
	if !ok {
		return nil
	}
	var out []configEntry
	for _, f := range k.Config {
		if v := ep.Config[f.Name]; v != "" {
			out = append(out, configEntry{f.Name, v})
		}
	}
	return out
}

// fieldLabel is a field's name in words: "routing_key" → "Routing key",
// "tls" → "TLS", "project_id" → "Project ID".
func fieldLabel(name string) string {
	words := strings.Split(name, "_")
	for i, w := range words {
		switch w {
		case "tls", "sasl", "json", "id", "url":
			words[i] = strings.ToUpper(w)
		default:
			if i == 0 && w != "" {
				words[i] = strings.ToUpper(w[:1]) + w[1:]
			}
		}
	}
	return strings.Join(words, " ")
}

// destinationField is one input of a kind's fieldset.
type destinationField struct {
	ID, Input string // the element's id, the form's field name
	Name      string // the field's public name (topic)
	Label     string
	Help      string
	Required  bool
	// Value is a config field's value; a credential's is never shown.
	Value string
	// Saved is set for a credential the endpoint has (edit form).
	Saved bool
	Error string
}

// destinationView is one kind of the form's "Destination".
type destinationView struct {
	Name, Title string
	Chosen      bool
	Config      []destinationField
	Credentials []destinationField
}

// configInput and credentialInput are the form's field names of a kind's
// config and credentials: each kind has its own, so a form holding every
// kind's fieldset reads only the chosen one's.
func configInput(kind, name string) string     { return "config." + kind + "." + name }
func credentialInput(kind, name string) string { return "credentials." + kind + "." + name }

// Destinations are the form's kinds: every kind, webhook first, when
// creating; the endpoint's own when editing (the kind is fixed at
// creation).
func (p endpointPage) Destinations() []destinationView {
	f := p.Form
	chosen := f.Kind
	if chosen == "" {
		chosen = hirehook.KindHTTP
	}
	var out []destinationView
	if p.Endpoint == nil || kindOf(p.Endpoint) == hirehook.KindHTTP {
		out = append(out, destinationView{Name: hirehook.KindHTTP, Title: webhookTitle, Chosen: chosen == hirehook.KindHTTP})
	}
	for _, k := range hirehook.DestinationKinds {
		if p.Endpoint != nil && k.Name != kindOf(p.Endpoint) {
			continue
		}
		v := destinationView{Name: k.Name, Title: k.Title, Chosen: chosen == k.Name}
		for _, df := range k.Config {
			field := destinationField{ID: k.Name + "-" + df.Name, Input: configInput(k.Name, df.Name), Name: df.Name,
				Label: fieldLabel(df.Name), Help: df.Help, Required: df.Required}
			if v.Chosen {
				field.Value, field.Error = f.Config[df.Name], f.Errors["config."+df.Name]
			}
			v.Config = append(v.Config, field)
		}
		for _, df := range k.Credentials {
			field := destinationField{ID: k.Name + "-credential-" + df.Name, Input: credentialInput(k.Name, df.Name), Name: df.Name,
				Label: fieldLabel(df.Name), Help: df.Help, Required: df.Required}
			if v.Chosen {
				field.Saved, field.Error = f.savedCredentials[df.Name], f.Errors["credentials."+df.Name]
			}
			v.Credentials = append(v.Credentials, field)
		}
		out = append(out, v)
	}
	return out
}

// parseDestination reads the chosen kind's config and credentials from a
// posted form; the other kinds' fields are ignored. Empty values are left
// out: an empty config field is unset, an empty credential is kept (edit)
// or unset (create).
func (f *endpointForm) parseDestination(r *http.Request, kind string) {
	f.Kind = kind
	k, ok := hirehook.LookupDestinationKind(kind)
	if !ok {
		return
	}
	f.Config, f.credentials = map[string]string{}, map[string]string{}
	for _, df := range k.Config {
		if v := strings.TrimSpace(r.PostForm.Get(configInput(kind, df.Name))); v != "" {
			f.Config[df.Name] = v
		}
	}
	for _, df := range k.Credentials {
		// Not trimmed: a password may start or end with a space.
		if v := r.PostForm.Get(credentialInput(kind, df.Name)); strings.TrimSpace(v) != "" {
			f.credentials[df.Name] = v
		}
	}
}

// validateDestination checks the chosen kind's fields as the operation
// will, with the credentials the endpoint keeps, so that a wrong field
// shows beside the form's other errors.
func (f *endpointForm) validateDestination() {
	if f.Kind == hirehook.KindHTTP {
		f.fieldError(hirehook.ValidateEndpointURL(f.URL))
		return
	}
	if _, ok := hirehook.LookupDestinationKind(f.Kind); !ok {
		f.fieldError(hirehook.FieldError("kind", "must be one of %s", strings.Join(hirehook.DestinationKindNames(), ", ")))
		return
	}
	creds := make(map[string]string, len(f.stored)+len(f.credentials))
	for k, v := range f.stored {
		creds[k] = v
	}
	for k, v := range f.credentials {
		creds[k] = v
	}
	f.fieldError(hirehook.ValidateDestination(f.Kind, f.Config, creds))
}

// destinationError words a field error of the destination as a sentence
// that starts with the field's label ("Subject is required …", "Servers:
// entry … must be host:port").
func destinationError(field, msg string) string {
	name := field
	if _, rest, ok := strings.Cut(field, "."); ok {
		name = rest
	}
	label := fieldLabel(name)
	if field == "kind" {
		label = "The destination kind"
	}
	first, _, _ := strings.Cut(msg, " ")
	switch first {
	case "is", "are", "and", "must", "cannot", "has":
		return label + " " + strings.TrimSuffix(msg, ".") + "."
	}
	return label + ": " + strings.TrimSuffix(msg, ".") + "."
}

// failureView is an endpoint's latest failed attempt, for its page: what
// the receiver or the broker answered, in its class.
type failureView struct {
	At         time.Time
	DeliveryID string
	EventID    string
	EventType  string
	Class      hirehook.ErrorClass
	StatusCode int
	// Error is the attempt's error ("rabbitmq: authentication failed for
	// user \"hub\""); the publishers scrub credentials out of it.
	Error        string
	ResponseBody string
}

// Summary is the failure in one line, its class first: "auth: rabbitmq:
// authentication failed for user "hub"", "HTTP 503".
func (v failureView) Summary() string {
	msg := v.Error
	if msg == "" && v.StatusCode != 0 {
		msg = fmt.Sprintf("HTTP %d", v.StatusCode)
	}
	if v.Class == "" || v.Class == hirehook.ErrorClassStatus {
		return msg
	}
	return string(v.Class) + ": " + msg
}

// Explain says in plain words what the failure's class means and what to
// check.
func (v failureView) Explain() string {
	switch v.Class {
	case hirehook.ErrorClassAuth:
		return "The broker refused the endpoint's credentials, or they may not publish there: check the user name and password (or token, or key) in the settings below."
	case hirehook.ErrorClassRejected:
		return "The broker is up and took the credentials, but did not take the message: check that the topic, stream, queue or exchange exists and accepts it."
	case hirehook.ErrorClassConnection:
		return "The hub could not connect: is the address right, and is the receiving system up?"
	case hirehook.ErrorClassDNS:
		return "The host name did not resolve: check the address."
	case hirehook.ErrorClassTLS:
		return "The secure connection could not be set up: check the TLS setting and the certificate."
	case hirehook.ErrorClassTimeout:
		return "No answer in time: the receiving system is slow or unreachable."
	case hirehook.ErrorClassForbidden:
		return "The hub refuses to send to this address: it is a private one the hub was not allowed to reach."
	case hirehook.ErrorClassTransform:
		return "The route could not build the message, so nothing was sent: fix the transform, then replay the delivery."
	case hirehook.ErrorClassStatus:
		return "The receiving system answered, but not with success."
	}
	return ""
}

// failedLast reports whether a delivery's last attempt failed.
func failedLast(d *hirehook.Delivery) bool {
	if d.LastAttemptAt == nil {
		return false
	}
	return d.LastError != "" || (d.LastStatus != 0 && (d.LastStatus < 200 || d.LastStatus > 299))
}

// latestFailure finds the latest failed attempt among recent deliveries
// (nil: none), reading that delivery's attempts for its class.
func (h *Handler) latestFailure(ctx context.Context, tenantID string, recent []*hirehook.Delivery) (*failureView, error) {
	var last *hirehook.Delivery
	for _, d := range recent {
		if failedLast(d) && (last == nil || d.LastAttemptAt.After(*last.LastAttemptAt)) {
			last = d
		}
	}
	if last == nil {
		return nil, nil
	}
	_, attempts, err := h.store.DeliveryGet(ctx, tenantID, last.ID)
	if err != nil {
		return nil, err
	}
	v := &failureView{At: *last.LastAttemptAt, DeliveryID: last.ID, EventID: last.EventID, EventType: last.EventType,
		StatusCode: last.LastStatus, Error: last.LastError}
	var a *hirehook.Attempt
	for _, x := range attempts {
		if a == nil || x.Number > a.Number {
			a = x
		}
	}
	if a != nil {
		v.At, v.Class, v.StatusCode, v.Error, v.ResponseBody = a.StartedAt, a.ErrorClass, a.StatusCode, a.Error, a.ResponseBody
	}
	return v, nil
}

// CredentialsEntered reports whether the posted form gave credentials,
// which a page shown again with errors asks for again: it never carries
// them back.
func (f endpointForm) CredentialsEntered() bool { return len(f.credentials) > 0 }
