package delivery

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/destination"
)

// publish makes one attempt of dl to a broker endpoint: the body a webhook
// would carry, signed the same way, with the Standard Webhooks headers as
// message headers, through the Publisher of ep's kind. Only the broker's
// confirmation that it holds the message durably makes it delivered; any
// other outcome is a failed attempt with its error class, retried on the
// same schedule as a webhook's.
func (d *Dispatcher) publish(ep *hirehook.Endpoint, dl *hirehook.Delivery, body []byte, signer *hirehook.Signer, now time.Time) Response {
	a := hirehook.Attempt{StartedAt: now.UTC().Truncate(time.Microsecond)}
	p := d.cfg.Publishers[ep.Kind]
	if p == nil {
		a.ErrorClass, a.Error = hirehook.ErrorClassOther, "this hub cannot deliver to kind "+strconv.Quote(ep.Kind)
		return Response{Attempt: a}
	}
	headers := make(map[string]string, len(ep.Headers)+4)
	for k, v := range ep.Headers {
		headers[k] = v
	}
	ts := now.Unix()
	headers["content-type"] = "application/json"
	headers[hirehook.HeaderWebhookID] = dl.EventID
	headers[hirehook.HeaderWebhookTimestamp] = strconv.FormatInt(ts, 10)
	headers[hirehook.HeaderWebhookSignature] = signer.Sign(dl.EventID, ts, body)
	m := destination.Message{ID: dl.EventID, Type: dl.EventType, Body: body, Headers: headers}
	if ep.Ordered {
		m.OrderingKey = dl.OrderingKey
	}
	t := destination.Target{EndpointID: ep.ID, Version: ep.UpdatedAt, Config: ep.Config, Credentials: ep.Credentials}
	ctx, cancel := context.WithTimeout(d.runCtx, d.cfg.Sender.Timeout())
	defer cancel()
	start := time.Now()
	detail, err := p.Publish(ctx, t, m)
	a.Duration = time.Since(start)
	if err != nil {
		a.ErrorClass, a.Error = destination.Classify(err), hirehook.Truncate(scrub(err.Error(), ep.Kind, ep.Credentials), 500)
		return Response{Attempt: a}
	}
	a.ResponseBody = excerptText([]byte(detail))
	return Response{Attempt: a, Delivered: true}
}

// scrub replaces every secret credential found in msg: a Publisher's
// errors should hold none, and this makes sure none reaches the attempt
// log if a client library quotes one. A user name stays: it is no secret,
// publishers name the refused user on purpose, and replacing a common word
// ("guest", "admin") wherever it occurs would garble the message.
func scrub(msg, kind string, credentials map[string]string) string {
	secrets := slices.Collect(maps.Values(credentials))
	if k, ok := hirehook.LookupDestinationKind(kind); ok {
		secrets = k.Secrets(credentials)
	}
	for _, v := range secrets {
		if len(v) >= 4 {
			msg = strings.ReplaceAll(msg, v, "[credential]")
		}
	}
	return msg
}
