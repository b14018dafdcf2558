package web

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/ops"
)

// recentDeliveries is how many of an endpoint's deliveries its page lists.
const recentDeliveries = 20

// endpointPage is the data of the endpoint page (create or edit).
type endpointPage struct {
	// Endpoint is nil when creating.
	Endpoint *hirehook.Endpoint
	Form     endpointForm
	Groups   []typeGroup
	Health   Health
	Stats    *hirehook.DeliveryStats
	// Day holds the last 24 hours of attempts, with a timeline by the
	// hour that Latency draws.
	Day     *hirehook.DeliveryStats
	Latency chart
	// CanTest is set when "Send test event" is offered (the dashboard has
	// an ingester); TestType names the type it sends (to the endpoint
	// only, whatever its event types).
	CanTest  bool
	TestType string
	// Recover is the recover form.
	Recover recoverForm
	// Recent lists the endpoint's latest deliveries.
	Recent []*hirehook.Delivery
	// SecretRotatedAt is when the current secret was made; PreviousUntil
	// when the previous one stops signing (nil if none is signing).
	SecretCreatedAt time.Time
	PreviousUntil   *time.Time
	// Try is the "try it" box of the route.
	Try tryForm
	// Backfills lists the endpoint's backfills, newest first, with their
	// progress (started through the API: POST /v1/endpoints/{id}/backfill).
	Backfills []*hirehook.Backfill
	// Next is what happens next: the pause, the waiting deliveries and
	// when each goes, the auto-disable horizon.
	Next nextView
	// LastSuccess is the endpoint's latest successful attempt (nil: none
	// yet), for the latency tile when the window holds none.
	LastSuccess *time.Time
	// LastFailure is the latest failed attempt among the recent
	// deliveries when no success came after it (nil otherwise): what the
	// receiver or the broker answered, e.g. wrong credentials.
	LastFailure *failureView
}

// waitingShown is how many waiting deliveries the page lists: the
// soonest; the backlog tile counts them all.
const waitingShown = 10

// nextView answers "what happens next" for an endpoint.
type nextView struct {
	// Pause is this node's pause of the endpoint, if it is paused (a
	// down endpoint: one probe at a time, see hirehook.EndpointPause).
	Pause *hirehook.EndpointPause
	// Waiting lists up to waitingShown of the pending and retrying
	// deliveries (the newest of each state), soonest first, with when
	// each goes next; Unfinished counts them all (the backlog).
	Waiting []waitingDelivery
	// DisableAt is when the hub disables the endpoint if every attempt
	// until then fails (from its FailingSince); nil when it is not
	// failing or the hub never disables.
	DisableAt *time.Time
	// DisableAfter is the hub's limit, for the words.
	DisableAfter time.Duration
}

// waitingDelivery is one waiting delivery and when it goes next.
type waitingDelivery struct {
	*hirehook.Delivery
	// At is when it is attempted next: its NextAttemptAt, or the probe
	// when the endpoint is paused and it is due before then.
	At time.Time
	// Probe is set when it waits for the probe (the endpoint is paused).
	Probe bool
}

// pauseOf returns this node's pause of an endpoint, nil when it is
// sending to it (or the dashboard cannot know). Its times are rounded up
// to the second, as people read them ("probe in 10 s", not "in 9.41 s").
func (h *Handler) pauseOf(endpointID string) *hirehook.EndpointPause {
	if h.cfg.Pauses == nil {
		return nil
	}
	p, ok := h.cfg.Pauses.EndpointPause(endpointID)
	if !ok {
		return nil
	}
	if t := p.NextProbeAt.Truncate(time.Second); !t.Equal(p.NextProbeAt) {
		p.NextProbeAt = t.Add(time.Second)
	}
	p.Since = p.Since.Truncate(time.Second)
	return &p
}

// nextOf reads what happens next for ep at now.
func (h *Handler) nextOf(r *http.Request, ep *hirehook.Endpoint, now time.Time) (nextView, error) {
	p := principalOf(r)
	var v nextView
	if h.cfg.Pauses != nil {
		v.Pause = h.pauseOf(ep.ID)
		if limit := h.cfg.Pauses.DisableFailingAfter(); limit > 0 && ep.FailingSince != nil && !ep.Disabled {
			at := ep.FailingSince.Add(limit)
			v.DisableAt, v.DisableAfter = &at, limit
		}
	}
	for _, state := range []hirehook.DeliveryState{hirehook.DeliveryRetrying, hirehook.DeliveryPending} {
		ds, err := h.store.DeliveryList(r.Context(), hirehook.DeliveryFilter{TenantID: p.tenantID, EndpointID: &ep.ID, State: &state, Limit: waitingShown})
		if err != nil {
			return v, err
		}
		for _, d := range ds {
			w := waitingDelivery{Delivery: d, At: now}
			if d.NextAttemptAt != nil {
				w.At = *d.NextAttemptAt
			}
			if v.Pause != nil && !v.Pause.Probing && w.At.Before(v.Pause.NextProbeAt) {
				w.At, w.Probe = v.Pause.NextProbeAt, true
			}
			v.Waiting = append(v.Waiting, w)
		}
	}
	slices.SortStableFunc(v.Waiting, func(a, b waitingDelivery) int { return a.At.Compare(b.At) })
	if len(v.Waiting) > waitingShown {
		v.Waiting = v.Waiting[:waitingShown]
	}
	return v, nil
}

// recoverForm asks for the window of failed deliveries to send again.
type recoverForm struct {
	Since, Until string
	Errors       map[string]string
}

const formTime = "2006-01-02T15:04"

func (h *Handler) handleEndpointNew(w http.ResponseWriter, r *http.Request) {
	page := endpointPage{Groups: typeGroups(h.cfg.Catalog), Form: endpointForm{Selected: map[string]bool{}, Errors: map[string]string{}}}
	if err := h.loadTryEvents(r, &page.Try); err != nil {
		h.error(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "endpoint", "New endpoint", "integrations", page)
}

func (h *Handler) handleEndpointCreate(w http.ResponseWriter, r *http.Request) {
	form := parseEndpointForm(r, nil)
	types := form.validate(h.cfg.Catalog)
	var ep *hirehook.Endpoint
	var secret string
	var err error
	if len(form.Errors) == 0 {
		redact := form.redactList()
		in := ops.EndpointInput{Description: &form.Description,
			EventTypes: &types, Disabled: &form.Disabled, Ordered: &form.Ordered,
			Filter: &form.Filter, Transform: &form.Transform, Payload: &form.Payload, Redact: &redact}
		if form.Kind == hirehook.KindHTTP {
			in.URL = &form.URL
		} else {
			in.Kind, in.Config, in.Credentials = &form.Kind, &form.Config, &form.credentials
		}
		ep, secret, err = h.endpoints().EndpointCreate(r.Context(), actor(r), in)
	}
	if len(form.Errors) > 0 || form.fieldError(err) {
		page := endpointPage{Groups: typeGroups(h.cfg.Catalog), Form: form}
		if err := h.loadTryEvents(r, &page.Try); err != nil {
			h.error(w, r, err)
			return
		}
		h.render(w, r, http.StatusUnprocessableEntity, "endpoint", "New endpoint", "integrations", page)
		return
	}
	if err != nil {
		h.error(w, r, err)
		return
	}
	h.flashSecret(r, "Endpoint created. Give its receiver this signing secret; it is shown only now (admins can rotate it any time).", secret)
	redirect(w, r, "/endpoints/"+url.PathEscape(ep.ID))
}

// endpointPageFor loads what the edit page shows besides the form.
func (h *Handler) endpointPageFor(r *http.Request, ep *hirehook.Endpoint) (endpointPage, error) {
	p := principalOf(r)
	now := h.cfg.NowFunc().UTC()
	page := endpointPage{Endpoint: ep, Groups: typeGroups(h.cfg.Catalog)}
	page.Form = formOf(ep, page.Groups)
	page.Recover = recoverForm{Since: now.Add(-24 * time.Hour).Format(formTime), Errors: map[string]string{}}
	_, stats, _, err := h.endpointStats(r.Context(), p.tenantID, now)
	if err != nil {
		return page, err
	}
	page.Stats = stats[ep.ID]
	if page.Stats == nil {
		page.Stats = &hirehook.DeliveryStats{TenantID: p.tenantID, EndpointID: ep.ID}
	}
	page.Health = healthOf(ep, page.Stats, now)
	day, err := h.dayStats(r.Context(), p.tenantID, now, time.Hour)
	if err != nil {
		return page, err
	}
	page.Day = day[ep.ID]
	if page.Day == nil {
		page.Day = &hirehook.DeliveryStats{TenantID: p.tenantID, EndpointID: ep.ID}
	}
	page.CanTest, page.TestType = h.cfg.Ingester != nil, testEventType
	if page.Next, err = h.nextOf(r, ep, now); err != nil {
		return page, err
	}
	if page.LastSuccess, err = h.lastSuccess(r.Context(), p.tenantID, page.Stats, page.Day); err != nil {
		return page, err
	}
	page.Latency = newLatencyChart(page.Day, daySince(now), time.Hour, int(dayWindow/time.Hour))
	if err := h.loadTryEvents(r, &page.Try); err != nil {
		return page, err
	}
	if page.Backfills, err = h.store.BackfillList(r.Context(), p.tenantID, ep.ID); err != nil {
		return page, err
	}
	page.Recent, err = h.store.DeliveryList(r.Context(), hirehook.DeliveryFilter{TenantID: p.tenantID, EndpointID: &ep.ID, Limit: recentDeliveries})
	if err != nil {
		return page, err
	}
	failure, err := h.latestFailure(r.Context(), p.tenantID, page.Recent)
	if err != nil {
		return page, err
	}
	if failure != nil && (page.LastSuccess == nil || page.LastSuccess.Before(failure.At)) {
		page.LastFailure = failure
	}
	if len(ep.Secrets) > 0 {
		page.SecretCreatedAt = ep.Secrets[0].CreatedAt
		for _, s := range ep.Secrets[1:] {
			if s.ExpiresAt != nil && now.Before(*s.ExpiresAt) {
				page.PreviousUntil = s.ExpiresAt
			}
		}
	}
	return page, nil
}

func (h *Handler) handleEndpointGet(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	ep, err := h.store.EndpointGet(r.Context(), p.tenantID, r.PathValue("id"))
	if err != nil {
		h.error(w, r, err)
		return
	}
	page, err := h.endpointPageFor(r, ep)
	if err != nil {
		h.error(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "endpoint", endpointLabel(ep), "integrations", page)
}

func (h *Handler) handleEndpointUpdate(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	old, err := h.store.EndpointGet(r.Context(), p.tenantID, r.PathValue("id"))
	if err != nil {
		h.error(w, r, err)
		return
	}
	form := parseEndpointForm(r, old)
	types := form.validate(h.cfg.Catalog)
	ep, err := old, error(nil)
	if len(form.Errors) == 0 {
		in := changesOf(old, &form, types)
		if in == (ops.EndpointInput{}) {
			h.flash(r, "ok", "Nothing changed.")
			redirect(w, r, "/endpoints/"+url.PathEscape(old.ID))
			return
		}
		ep, err = h.endpoints().EndpointUpdate(r.Context(), actor(r), old.ID, in)
	}
	if len(form.Errors) > 0 || form.fieldError(err) {
		page, err := h.endpointPageFor(r, old)
		if err != nil {
			h.error(w, r, err)
			return
		}
		page.Form = form
		h.render(w, r, http.StatusUnprocessableEntity, "endpoint", endpointLabel(old), "integrations", page)
		return
	}
	if err != nil {
		h.error(w, r, err)
		return
	}
	h.flash(r, "ok", "Endpoint saved.")
	redirect(w, r, "/endpoints/"+url.PathEscape(ep.ID))
}

// changesOf is the update of a valid form: the fields that differ from
// old (the form sends every field); empty when nothing changed.
func changesOf(old *hirehook.Endpoint, form *endpointForm, types []string) ops.EndpointInput {
	var in ops.EndpointInput
	if kindOf(old) == hirehook.KindHTTP {
		if form.URL != old.URL {
			in.URL = &form.URL
		}
	} else {
		// The config is sent whole when it changed; credentials only
		// those given, which the operation merges with the kept ones.
		if !maps.Equal(form.Config, old.Config) {
			in.Config = &form.Config
		}
		if len(form.credentials) > 0 {
			in.Credentials = &form.credentials
		}
	}
	if form.Description != old.Description {
		in.Description = &form.Description
	}
	if !slices.Equal(types, old.EventTypes) {
		in.EventTypes = &types
	}
	if form.Ordered != old.Ordered {
		in.Ordered = &form.Ordered
	}
	if form.Filter != old.Filter {
		in.Filter = &form.Filter
	}
	if form.Transform != old.Transform {
		in.Transform = &form.Transform
	}
	if form.Payload != old.Payload {
		in.Payload = &form.Payload
	}
	if redact := form.redactList(); !slices.Equal(redact, old.Redact) {
		in.Redact = &redact
	}
	if form.Disabled != old.Disabled {
		in.Disabled = &form.Disabled
	}
	return in
}

func (h *Handler) handleEndpointRotateSecret(w http.ResponseWriter, r *http.Request) {
	ep, secret, err := h.endpoints().EndpointRotateSecret(r.Context(), actor(r), r.PathValue("id"), hirehook.SecretRotationGrace)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if hirehook.SigningOf(secret) == hirehook.SigningEd25519 {
		// The private key never leaves the hub: show the public key.
		pub, err := hirehook.PublicKey(secret)
		if err != nil {
			h.error(w, r, err)
			return
		}
		h.flashSecret(r, "New signing key. The previous one keeps signing beside it for 24 hours, so the receiver can switch without missing a webhook. Give the receiver this public key.", pub)
	} else {
		h.flashSecret(r, "New signing secret. The previous one keeps signing beside it for 24 hours, so the receiver can switch without missing a webhook. It is shown only now.", secret)
	}
	redirect(w, r, "/endpoints/"+url.PathEscape(ep.ID))
}

// parseFormTime reads a time from a datetime-local field (taken as UTC) or
// an RFC 3339 time.
func parseFormTime(s string) (time.Time, bool) {
	for _, layout := range []string{formTime, "2006-01-02T15:04:05", time.RFC3339Nano} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func (h *Handler) handleEndpointRecover(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	ep, err := h.store.EndpointGet(r.Context(), p.tenantID, r.PathValue("id"))
	if err != nil {
		h.error(w, r, err)
		return
	}
	form := recoverForm{Since: strings.TrimSpace(r.PostForm.Get("since")), Until: strings.TrimSpace(r.PostForm.Get("until")), Errors: map[string]string{}}
	now := h.cfg.NowFunc().UTC()
	since, ok := parseFormTime(form.Since)
	switch {
	case form.Since == "":
		form.Errors["since"] = "Enter when the failures began."
	case !ok:
		form.Errors["since"] = "Enter a date and time such as 2026-11-27T09:30 (UTC)."
	case since.After(now):
		form.Errors["since"] = "This is in the future."
	}
	var until time.Time
	if form.Until != "" {
		if until, ok = parseFormTime(form.Until); !ok {
			form.Errors["until"] = "Enter a date and time such as 2026-11-28T09:30 (UTC), or leave it empty."
		} else if len(form.Errors) == 0 && (hirehook.DeliveryRecoverParams{Since: since, Until: until}).Validate() != nil {
			form.Errors["until"] = "This must be after the start."
		}
	}
	if len(form.Errors) > 0 {
		page, err := h.endpointPageFor(r, ep)
		if err != nil {
			h.error(w, r, err)
			return
		}
		page.Recover = form
		h.render(w, r, http.StatusUnprocessableEntity, "endpoint", endpointLabel(ep), "integrations", page)
		return
	}
	n, err := h.deliveries().DeliveryRecover(r.Context(), actor(r), ep.ID, since, until)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if n == 0 {
		h.flash(r, "ok", "No failed deliveries in that window: nothing to send again.")
	} else {
		h.flash(r, "ok", fmt.Sprintf("%s queued to be sent again.", countNoun(n, "failed delivery", "failed deliveries")))
	}
	redirect(w, r, "/endpoints/"+url.PathEscape(ep.ID))
}
