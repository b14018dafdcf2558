package inbound

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/connector/push"
	"github.com/hirehook/hirehook/internal/logkey"
)

// hydrateBackoff is the wait before each retry of a hydration that failed
// for a reason that may pass (the vendor's API answered 429 or 5xx, or was
// unreachable). After the last, the request is settled without the
// vendor's records.
var hydrateBackoff = []time.Duration{30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour}

// retryWait is the wait before a request is normalised again after the
// store or the ingester failed (nothing of it was committed).
const retryWait = 5 * time.Second

// Processor normalises stored requests: parse, hydrate, derive the
// previous stage, ingest. It is shared by the receiving handler (which
// normalises at once when no vendor API call is needed), the Worker (which
// takes what is due: hydration, retries, reprocessing) and tests.
type Processor struct {
	Store  Store
	Ingest hirehook.Ingester
	// HTTPClient fetches records from vendor APIs (hydration).
	HTTPClient *http.Client
	// APIOrigins are, by source kind, the origins ("https://host[:port]")
	// hydration may send the source's API key to, whoever names the URL
	// (SmartRecruiters' signed link header, Lever's api_url). A kind not
	// listed uses its connector's default (smartrecruiters and lever
	// DefaultAPIOrigins); tests list their own servers.
	APIOrigins map[string][]string
	Logger     *slog.Logger
	// NowFunc is the clock; nil means time.NowFunc.
	NowFunc func() time.Time
}

func (p *Processor) now() time.Time {
	if p.NowFunc != nil {
		return p.NowFunc().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

func (p *Processor) logger() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}

// Process normalises one stored request of src and writes the outcome
// (Store.InboundUpdate), which it also returns.
func (p *Processor) Process(ctx context.Context, src *hirehook.Source, req *hirehook.InboundRequest) (hirehook.InboundUpdateParams, error) {
	upd := p.outcome(ctx, src, req)
	if err := p.Store.InboundUpdate(ctx, upd); err != nil {
		return upd, fmt.Errorf("record outcome of inbound request %s: %w", req.ID, err)
	}
	return upd, nil
}

// needsFetch says whether normalising req calls the vendor's API, so that
// the handler leaves it to the worker and answers the vendor at once.
func needsFetch(k *Kind, cfg *Config, p *parsed) bool {
	return k.hydrate != nil && cfg.APIKey != "" && (p.Thin || p.NeedsHydration) && p.Unsupported == "" && !p.Ping
}

func (p *Processor) outcome(ctx context.Context, src *hirehook.Source, req *hirehook.InboundRequest) hirehook.InboundUpdateParams {
	now := p.now()
	upd := hirehook.InboundUpdateParams{TenantID: req.TenantID, ID: req.ID, Now: now}
	retry := func(wait time.Duration, why string) hirehook.InboundUpdateParams {
		upd.Status, upd.DueAt, upd.Error = hirehook.InboundReceived, new(now.Add(wait)), why
		return upd
	}
	k := Kinds[src.Kind]
	if k == nil {
		upd.Status, upd.Error = hirehook.InboundFailed, fmt.Sprintf("source kind %q has no push connector", src.Kind)
		return upd
	}
	cfg, err := joinConfig(src)
	if err != nil {
		upd.Status, upd.Error = hirehook.InboundFailed, err.Error()
		return upd
	}
	opts := push.Options{SourceID: src.ID, Tenant: cfg.Account, Now: req.ReceivedAt}
	parsed, err := k.parse(cfg, req.Header, req.Body, opts)
	if err != nil {
		upd.Status, upd.Error = hirehook.InboundFailed, err.Error()
		return upd
	}
	upd.VendorEvent = parsed.VendorEvent
	switch {
	case parsed.Ping:
		upd.Status = hirehook.InboundProcessed
		return upd
	case parsed.Unsupported != "":
		upd.Status, upd.Error = hirehook.InboundUnsupported, parsed.Unsupported
		return upd
	}
	var note string
	if needsFetch(k, cfg, parsed) {
		full, err := k.hydrate(ctx, p.HTTPClient, p.APIOrigins[k.Name], cfg, req.Header, req.Body, parsed, opts)
		switch {
		case err == nil:
			parsed = full
		case errors.Is(err, push.ErrHydrateTemporary) && req.Attempts < len(hydrateBackoff):
			return retry(hydrateBackoff[req.Attempts], "fetching the record failed; retrying: "+err.Error())
		case errors.Is(err, push.ErrHydrateGone):
			note = "the record is gone from " + k.Title + "; sent as received"
		default:
			note = "fetching the record failed; sent as received: " + err.Error()
		}
		if note != "" {
			p.logger().Warn("inbound hydration failed", logkey.SourceID, src.ID, logkey.RequestID, req.ID, logkey.Error, err)
		}
	}
	if parsed.Unsupported != "" {
		upd.Status, upd.Error = hirehook.InboundUnsupported, parsed.Unsupported
		return upd
	}
	if parsed.NeedsHydration {
		why := "the catalog type depends on the record's current state"
		if cfg.APIKey == "" || k.hydrate == nil {
			why += ", which the hub cannot fetch without the source's api_key"
		}
		if note != "" {
			why += "; " + note
		}
		upd.Status, upd.Error = hirehook.InboundUnsupported, why
		return upd
	}
	ids, err := p.emit(ctx, src, parsed.Events)
	if err != nil {
		if ctx.Err() != nil {
			return retry(retryWait, "interrupted; retrying")
		}
		if hirehook.ErrorCode(err) == hirehook.EINVALID {
			upd.Status, upd.Error = hirehook.InboundFailed, hirehook.ErrorMessage(err)
			if f := hirehook.ErrorField(err); f != "" {
				upd.Error = f + ": " + upd.Error
			}
			return upd
		}
		p.logger().Error("inbound request not ingested; retrying", logkey.SourceID, src.ID, logkey.RequestID, req.ID, logkey.Error, err)
		return retry(retryWait, "ingest failed; retrying")
	}
	upd.Status, upd.EventIDs, upd.Error = hirehook.InboundProcessed, ids, note
	return upd
}

// emit derives the previous stage of stage changes, commits the events in
// one group commit and records the stages they leave, returning the ids.
func (p *Processor) emit(ctx context.Context, src *hirehook.Source, events []*hirehook.EventInput) ([]string, error) {
	prepared := make([]*hirehook.Event, 0, len(events))
	// stages are the stages the events leave; stored those read from the
	// store, so that an unchanged stage is not written again.
	stages, stored := map[string]json.RawMessage{}, map[string]json.RawMessage{}
	for _, in := range events {
		key, stage := stageOf(in)
		if key != "" {
			if err := p.deriveFrom(ctx, src, in, key, stage, stages, stored); err != nil {
				return nil, err
			}
			stages[key] = stage
		}
		e, err := p.Ingest.Prepare(src.TenantID, in, "")
		if err != nil {
			return nil, fmt.Errorf("%s event %s: %w", in.Type, in.ID, err)
		}
		prepared = append(prepared, e)
	}
	if len(prepared) == 0 {
		return []string{}, nil
	}
	results, err := p.Ingest.Commit(ctx, prepared)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(results))
	for i, r := range results {
		ids[i] = r.EventID
	}
	for key, stage := range stages {
		if v, ok := stored[key]; ok && bytes.Equal(v, stage) {
			continue
		}
		if err := p.Store.SourceStateSet(ctx, hirehook.SourceStateParams{TenantID: src.TenantID, SourceID: src.ID, Key: key, Value: string(stage)}); err != nil {
			// The events are in; the next change of this application
			// derives its "from" from an older stage, or none.
			p.logger().Warn("record stage of inbound event", logkey.SourceID, src.ID, logkey.Key, key, logkey.Error, err)
		}
	}
	return ids, nil
}

// stageOf returns the state key and stage of an application event that
// carries one: "stage/<application id>" and data.stage as compact JSON.
func stageOf(in *hirehook.EventInput) (string, json.RawMessage) {
	if in.Subject == nil || in.Subject.Entity != "application" {
		return "", nil
	}
	var d struct {
		Stage json.RawMessage `json:"stage"`
	}
	if json.Unmarshal(in.Data, &d) != nil || len(d.Stage) == 0 || string(d.Stage) == "null" {
		return "", nil
	}
	var buf bytes.Buffer
	if json.Compact(&buf, d.Stage) != nil {
		return "", nil
	}
	return "stage/" + in.Subject.ID, buf.Bytes()
}

// deriveFrom fills changes.stage.from of a stage change whose vendor sent
// only the new stage, from the last stage stored for the application (or
// seen earlier in this request), and marks the event derived. Without a
// stored stage, "from" stays null and the event is not derived.
func (p *Processor) deriveFrom(ctx context.Context, src *hirehook.Source, in *hirehook.EventInput, key string, stage json.RawMessage, seen, stored map[string]json.RawMessage) error {
	if in.Type != "application.stage_changed" {
		return nil
	}
	if c, ok := in.Changes["stage"]; ok && len(c.From) > 0 && string(c.From) != "null" {
		return nil
	}
	// The parsers mark a stage change without its "from" derived, for
	// this lookup to fill in; it is derived only once filled in.
	in.Derived = false
	prev, ok := seen[key]
	if !ok {
		v, err := p.Store.SourceStateGet(ctx, hirehook.SourceStateParams{TenantID: src.TenantID, SourceID: src.ID, Key: key})
		if hirehook.ErrorCode(err) == hirehook.ENOTFOUND {
			return nil
		} else if err != nil {
			return fmt.Errorf("read stage of %s: %w", in.Subject.ID, err)
		}
		prev = json.RawMessage(v)
		stored[key] = prev
	}
	if bytes.Equal(prev, stage) {
		return nil
	}
	if in.Changes == nil {
		in.Changes = map[string]hirehook.Change{}
	}
	in.Changes["stage"] = hirehook.Change{From: prev, To: stage}
	in.Derived = true
	return nil
}
