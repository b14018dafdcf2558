package inbound

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/api"
	"github.com/hirehook/hirehook/connector/push"
	"github.com/hirehook/hirehook/internal/logkey"
	"golang.org/x/time/rate"
)

// inlineGrace is how long the worker leaves a request that the handler
// is normalising itself before it takes it (the handler crashed, or
// normalising failed and is due again).
const inlineGrace = 30 * time.Second

// Handler serves POST /in/{source_id}: one URL per push source,
// authenticated by the vendor's signature rather than by an API key.
//
// In order: the source is looked up (404 if it is not a push source, 503
// while it is disabled); a handshake that comes before any signature
// (SmartRecruiters' X-Hook-Secret) is answered; the raw body, exactly as
// received, is verified as the vendor signs it (401 on a bad or missing
// signature or a stale timestamp, with the rejection kept in the source's
// request log, without its body); the request is stored; then it is
// normalised at once, unless that needs the vendor's API, in which case
// the Worker does it and the vendor gets its answer without waiting. The
// answer is the status the vendor expects (SmartRecruiters 202, others 200)
// once the request is durable; but a verified body the hub cannot map is
// answered 422 (the request log keeps it as failed, saying why), so that
// the vendor retries it, and its retry, a duplicate, maps the stored
// original again.
//
// Replays: the dedupe key comes from what the vendor signed (Kind.key), and
// the store keeps it for as long as the request log is kept, so a request
// re-sent with its unsigned parts changed is a duplicate.
type Handler struct {
	Store     HandlerStore
	Processor *Processor
	// MaxBodyBytes is the largest body accepted (413 beyond).
	MaxBodyBytes int64
	// NudgeFunc wakes the worker (a request waits for hydration).
	NudgeFunc func()
	// ObserveFunc counts a request by source kind and outcome (metrics).
	ObserveFunc func(kind, status string)
	Logger      *slog.Logger

	// rejections limits how many rejected requests each source logs
	// (the route takes anyone's requests): past it, a rejection is
	// answered and counted in the metric, but not stored.
	mu         sync.Mutex
	rejections map[string]*rate.Limiter
}

// Rejected requests logged per source: a burst of 60, then one a second.
const (
	rejectLogBurst = 60
	rejectLogRate  = 1
)

// logRejection says whether a rejected request of the source is stored.
func (h *Handler) logRejection(sourceID string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.rejections == nil {
		h.rejections = map[string]*rate.Limiter{}
	}
	l, ok := h.rejections[sourceID]
	if !ok {
		if len(h.rejections) >= 10000 {
			clear(h.rejections) // bounded; the limits start again
		}
		l = rate.NewLimiter(rejectLogRate, rejectLogBurst)
		h.rejections[sourceID] = l
	}
	return l.Allow()
}

// Response is the JSON body of a successful answer.
type Response struct {
	// RequestID names the request in the source's request log.
	RequestID string `json:"request_id"`
	// Status is the request's state: processed, received (to be
	// normalised by the worker), duplicate, unsupported or handshake. A
	// request that failed to be mapped is answered 422 instead.
	Status string `json:"status"`
	// EventIDs are the catalog events it became, when processed; for a
	// duplicate, those of the request it repeats.
	EventIDs []string `json:"event_ids"`
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Logger
}

func (h *Handler) observe(kind, status string) {
	if h.ObserveFunc != nil {
		h.ObserveFunc(kind, status)
	}
}

// storedHeader is the request's header as the log keeps it: the value of
// every credential-bearing header (API tokens, signatures, cookies, the
// handshake secret; see hirehook.IsCredentialHeader) is masked, since the
// log is kept for days and viewer keys read it. What parse and hydrate read
// later (event names, ids, timestamps, links) is kept.
func storedHeader(in http.Header) http.Header {
	return hirehook.MaskCredentialHeaders(in)
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("source_id")
	tenantID, err := h.Store.SourceTenant(ctx, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	src, err := h.Store.SourceGet(ctx, tenantID, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	k := Kinds[src.Kind]
	if k == nil {
		h.fail(w, r, hirehook.Errorf(hirehook.ENOTFOUND, "Source %q is a %s source, which the hub polls; it takes no webhooks.", id, src.Kind))
		return
	}
	if !src.Enabled {
		w.Header().Set("Retry-After", "300")
		h.fail(w, r, hirehook.Errorf(hirehook.EUNAVAILABLE, "Source %q is disabled.", id))
		return
	}
	limit := h.MaxBodyBytes
	if limit <= 0 {
		limit = 1 << 20
	}
	body, err := readBody(w, r, limit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	cfg, err := joinConfig(src)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	now := h.Processor.now()
	req := &hirehook.InboundRequest{TenantID: src.TenantID, ID: hirehook.NewID("inr"), SourceID: src.ID, ReceivedAt: now,
		Header: storedHeader(r.Header), BodySize: len(body)}

	if k.handshake != nil {
		if hs, ok := k.handshake(r.Header); ok {
			req.Status, req.VendorEvent = hirehook.InboundHandshake, "handshake"
			if err := h.Store.InboundCreate(ctx, req); err != nil {
				h.logger().Warn("record inbound handshake", logkey.SourceID, src.ID, logkey.Error, err)
			}
			h.observe(k.Name, req.Status)
			for name, vs := range hs.Header {
				w.Header()[name] = vs
			}
			w.WriteHeader(hs.Status)
			return
		}
	}
	if err := k.verify(cfg, r.Header, body, now); err != nil {
		req.Status, req.Error = hirehook.InboundRejected, err.Error()
		if h.logRejection(src.ID) {
			if err := h.Store.InboundCreate(ctx, req); err != nil {
				h.logger().Warn("record inbound rejection", logkey.SourceID, src.ID, logkey.Error, err)
			}
			h.logger().Info("inbound request rejected", logkey.SourceID, src.ID, logkey.Kind, k.Name, logkey.Reason, err.Error())
		}
		h.observe(k.Name, req.Status)
		h.fail(w, r, hirehook.Errorf(hirehook.EUNAUTHORIZED, "%s", verifyMessage(err)))
		return
	}
	req.Body = body
	opts := push.Options{SourceID: src.ID, Tenant: cfg.Account, Now: now}
	p, perr := k.parse(cfg, req.Header, body, opts)
	if perr == nil && p.Ping {
		req.Status, req.VendorEvent = hirehook.InboundHandshake, p.VendorEvent
		if err := h.Store.InboundCreate(ctx, req); err != nil {
			h.fail(w, r, err)
			return
		}
		h.observe(k.Name, req.Status)
		h.reply(w, k, Response{RequestID: req.ID, Status: req.Status, EventIDs: []string{}})
		return
	}
	// The key comes from what the vendor signed, whatever parse made of
	// the body, so that a replay with its unsigned parts changed is a
	// duplicate (Kind.key).
	req.Status, req.DedupeKey = hirehook.InboundReceived, k.key(cfg, r.Header, body)
	if perr == nil {
		req.VendorEvent = p.VendorEvent
	}
	async := perr == nil && needsFetch(k, cfg, p)
	due := now.Add(inlineGrace)
	if async {
		due = now
	}
	req.DueAt = &due
	if err := h.Store.InboundCreate(ctx, req); err != nil {
		h.fail(w, r, err)
		return
	}
	resp := Response{RequestID: req.ID, Status: req.Status, EventIDs: []string{}}
	switch {
	case req.Status == hirehook.InboundDuplicate:
		// The vendor's retry of a request the hub could not map asks
		// again: the stored original (its body, never this one's) is
		// normalised again, and answered as that goes.
		orig, err := h.Store.InboundGet(ctx, src.TenantID, src.ID, req.DuplicateOf)
		if err != nil || orig.Status != hirehook.InboundFailed {
			if err == nil {
				resp.EventIDs = orig.EventIDs
			}
			break
		}
		upd, err := h.Processor.Process(ctx, src, orig)
		if err != nil {
			h.logger().Error("normalise inbound request again", logkey.SourceID, src.ID, logkey.RequestID, orig.ID, logkey.Error, err)
			break
		}
		if upd.Status == hirehook.InboundFailed {
			h.observe(k.Name, upd.Status)
			h.fail(w, r, unmapped(orig.ID, upd.Error))
			return
		}
		if upd.EventIDs != nil {
			resp.EventIDs = upd.EventIDs
		}
	case async:
		if h.NudgeFunc != nil {
			h.NudgeFunc()
		}
	default:
		// Stored: from here on the vendor gets its 2xx whatever happens,
		// and the worker finishes what this does not; except a body the
		// hub cannot map, which is answered 422 so that the vendor
		// retries it (and alerts), while the request log shows it.
		upd, err := h.Processor.Process(ctx, src, req)
		if err != nil {
			h.logger().Error("normalise inbound request", logkey.SourceID, src.ID, logkey.RequestID, req.ID, logkey.Error, err)
		} else {
			if upd.Status == hirehook.InboundFailed {
				h.observe(k.Name, upd.Status)
				h.fail(w, r, unmapped(req.ID, upd.Error))
				return
			}
			resp.Status = upd.Status
			if upd.EventIDs != nil {
				resp.EventIDs = upd.EventIDs
			}
		}
	}
	h.observe(k.Name, resp.Status)
	h.reply(w, k, resp)
}

// unmapped is the answer to a verified request that could not be mapped
// (stored as failed, with why): 422, which every vendor retries, so that
// a retry after the mapping is fixed goes through; the reason is safe to
// show (it names fields, never secrets).
func unmapped(id, why string) error {
	return hirehook.Errorf(hirehook.EINVALID, "The request was verified and logged as %s, but could not be mapped: %s. "+
		"A retry of it is mapped again.", id, why)
}

func (h *Handler) reply(w http.ResponseWriter, k *Kind, resp Response) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(k.Status)
	_ = json.NewEncoder(w).Encode(resp)
}

// verifyMessage is what a rejected sender is told: the reason without the
// hub's internals.
func verifyMessage(err error) string {
	var ve *push.VerifyError
	if errors.As(err, &ve) {
		return "Signature rejected: " + ve.Error() + "."
	}
	return "Signature rejected: " + err.Error() + "."
}

func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, hirehook.Errorf(hirehook.ETOOLARGE, "The body is larger than %d bytes.", limit)
		}
		return nil, hirehook.Errorf(hirehook.EINVALID, "The body could not be read.")
	}
	return b, nil
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	api.Error(w, r, h.logger(), err)
}
