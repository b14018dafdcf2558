package smartrecruiters

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hirehook/hirehook/connector/internal/value"
	"github.com/hirehook/hirehook/connector/push"
	"github.com/hirehook/hirehook/internal/netguard"
)

// HeaderToken carries the SmartRecruiters API key on Customer API calls.
const HeaderToken = "X-SmartToken"

// MaxResponse caps how much of an API response Hydrate reads.
const MaxResponse = push.MaxFetch

// DefaultAPIOrigins are where Hydrate sends the API key by default:
// SmartRecruiters' Customer API.
var DefaultAPIOrigins = []string{"https://api.smartrecruiters.com"}

// allowed returns link parsed if it is on one of origins ("scheme://host[:port]",
// DefaultAPIOrigins when empty). The link header is signed, but it names
// the host the X-SmartToken goes to: anyone holding a signing key (or a
// SmartRecruiters bug) must not be able to send the API key elsewhere.
func allowed(link string, origins []string) (*url.URL, error) {
	if len(origins) == 0 {
		origins = DefaultAPIOrigins
	}
	u, err := push.CheckOrigin(link, origins)
	if err != nil {
		return nil, fmt.Errorf("the %s header: %w", HeaderLink, err)
	}
	return u, nil
}

// Hydrate fetches the resource of a parsed event (res.Link, with the API
// key in X-SmartToken) and returns a copy of res with full events: the
// events rebuilt from the fetched fields with the same push.Builder (so a
// type that stays the same keeps its event id), Thin false. For a
// NeedsHydration result the fetched state decides the type (see doc.go);
// a state that maps to no catalog type gives Unsupported with a Reason.
// h and body are the request's headers and body, as given to Parse.
// origins are the API origins the key may go to ("https://host[:port]";
// nil means DefaultAPIOrigins): a link elsewhere is an error, and nothing
// is sent. A nil c means netguard's client, which refuses private
// addresses; the hub passes its own (netguard's too).
//
// Errors wrap push.ErrHydrateTemporary (429, 5xx, timeouts, network) or
// push.ErrHydrateGone (404, 410); a refused key (401, 403) is a plain
// error. No error holds the API key.
func Hydrate(ctx context.Context, c *http.Client, apiKey string, origins []string, h http.Header, body []byte, res *push.Result, opts push.Options) (*push.Result, error) {
	if res == nil {
		return nil, errors.New("smartrecruiters: hydrate: no result")
	}
	if res.Unsupported || (!res.Thin && !res.NeedsHydration) {
		return res, nil
	}
	if strings.HasSuffix(res.VendorEvent, ".deleted") {
		// Nothing left to fetch: the ids are the whole event.
		out := *res
		out.Thin = false
		return &out, nil
	}
	if res.Link == "" {
		return nil, fmt.Errorf("%s: hydrate %s: no %s header", System, res.VendorEvent, HeaderLink)
	}
	link, err := allowed(res.Link, origins)
	if err != nil {
		return nil, fmt.Errorf("%s: hydrate %s: %w", System, res.VendorEvent, err)
	}
	r, err := get(ctx, c, apiKey, link.String())
	if err != nil {
		return nil, fmt.Errorf("%s: hydrate %s: %w", System, res.VendorEvent, err)
	}
	in := map[string]any{}
	if len(body) > 0 {
		_ = json.Unmarshal(body, &in) // Parse has checked it; ids only
	}
	b := &push.Builder{System: System, Prefix: IDPrefix, Key: res.DedupeKey, Options: opts}
	out := *res
	out.Events = nil
	out.Thin = false
	out.NeedsHydration = false
	out.Reason = ""

	if res.NeedsHydration {
		typ, data, why := decide(b, res.VendorEvent, r, in)
		if typ == "" {
			out.Unsupported = true
			out.Reason = why
			return &out, nil
		}
		var occurred time.Time
		if ts, err := strconv.ParseInt(h.Get(HeaderTimestamp), 10, 64); err == nil {
			occurred = time.Unix(ts, 0)
		}
		ev, err := b.Event(typ, data, occurred, true)
		if err != nil {
			return nil, err
		}
		out.Events = []push.Event{ev}
		return &out, nil
	}

	for _, thin := range res.Events {
		data := map[string]any{}
		if err := json.Unmarshal(thin.Data, &data); err != nil {
			return nil, fmt.Errorf("%s: hydrate %s: thin data: %w", System, res.VendorEvent, err)
		}
		typ, derived := thin.Type, thin.Derived
		switch thin.Subject.Entity {
		case "candidate":
			candidate(b, r, data)
		case "application":
			if t := application(b, r, data); t != "" && thin.Type == "application.stage_changed" {
				typ, derived = t, true
			}
		case "job":
			job(b, r, data)
		case "job_posting":
			jobAd(b, r, data)
		case "offer":
			offer(b, r, data)
		case "interview":
			interview(b, r, data)
		}
		ev, err := b.Event(typ, data, thin.OccurredAt, derived)
		if err != nil {
			return nil, err
		}
		out.Events = append(out.Events, ev)
	}
	return &out, nil
}

// get fetches url from the Customer API and decodes its JSON object.
func get(ctx context.Context, c *http.Client, apiKey, url string) (map[string]any, error) {
	if c == nil {
		c = netguard.Client(netguard.Options{})
	}
	// X-SmartToken is not a header net/http drops on a redirect to another
	// host, so such a redirect is not followed: the key goes to Link's host
	// only.
	cc := *c
	cc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 || req.URL.Host != via[0].URL.Host {
			return http.ErrUseLastResponse
		}
		return nil
	}
	c = &cc
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set(HeaderToken, apiKey)
	raw, err := push.Fetch(c, req)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("decode response: %w", err)
	}
	if m == nil {
		return nil, errors.New("decode response: not a JSON object")
	}
	return m, nil
}

// decide picks the catalog type of a NeedsHydration event from the fetched
// resource r and builds its data; typ "" means the state maps to nothing,
// and why says so.
func decide(b *push.Builder, event string, r, in map[string]any) (typ string, data map[string]any, why string) {
	status := strings.ToUpper(value.String(r["status"]))
	switch event {
	case "job.status.updated":
		data = base(b, r, in, "id", "jobId", "job_id")
		if data == nil {
			return "", nil, "job has no id"
		}
		job(b, r, data)
		switch status {
		case "SOURCING", "INTERVIEW", "OFFER":
			return "job.opened", data, ""
		case "FILLED", "CANCELLED", "ON_HOLD", "HIRED":
			data["close_reason"] = strings.ToLower(status)
			return "job.closed", data, ""
		}
		return "", nil, fmt.Sprintf("job status %q is neither open nor closed", status)
	case "job.ad.postings.updated":
		data = base(b, r, in, "id", "jobAdId")
		if data == nil {
			return "", nil, "job ad has no id"
		}
		jobAd(b, r, data)
		if v := value.ID(firstNonNil(in["jobId"], in["job_id"])); v != "" && data["job_id"] == nil {
			data["job_id"] = b.ID(v)
		}
		switch strings.ToUpper(value.String(r["postingStatus"])) {
		case "PUBLIC", "INTERNAL", "PRIVATE", "PUBLISHED":
			return "job.posting_updated", data, ""
		case "NOT_PUBLISHED", "UNPUBLISHED":
			return "job.unposted", data, ""
		}
		return "", nil, fmt.Sprintf("job ad postingStatus %q is not known", value.String(r["postingStatus"]))
	case "offer.updated":
		data = base(b, r, in, "id", "offerId")
		if data == nil {
			return "", nil, "offer has no id"
		}
		offer(b, r, data)
		switch status {
		case "SENT", "EXTENDED":
			return "offer.extended", data, ""
		case "ACCEPTED":
			return "offer.accepted", data, ""
		case "DECLINED", "REJECTED_BY_CANDIDATE":
			return "offer.declined", data, ""
		case "WITHDRAWN", "CANCELLED", "CANCELED", "ABANDONED":
			return "offer.withdrawn", data, ""
		case "APPROVED":
			return "offer.approved", data, ""
		}
		return "", nil, fmt.Sprintf("offer status %q has no catalog type (drafts and approval steps have their own events)", status)
	}
	return "", nil, fmt.Sprintf("smartrecruiters event %q has no hydration", event)
}

// base starts the data of a NeedsHydration event: the id of the fetched
// resource (else of the webhook body) with its external_refs.
func base(b *push.Builder, r, in map[string]any, keys ...string) map[string]any {
	id := value.ID(r["id"])
	for _, k := range keys {
		if id != "" {
			break
		}
		id = value.ID(in[k])
	}
	if id == "" {
		return nil
	}
	return map[string]any{"id": b.ID(id), "external_refs": b.Ref(id)}
}

func firstNonNil(vs ...any) any { return value.FirstNonNil(vs...) }

// set sets d[k] to v unless v is nil or "".
func set(d map[string]any, k string, v any) {
	switch x := v.(type) {
	case nil:
		return
	case string:
		if x == "" {
			return
		}
	case map[string]any:
		if len(x) == 0 {
			return
		}
	case []any:
		if len(x) == 0 {
			return
		}
	}
	d[k] = v
}

// ref sets d[k] to the hirehook id of a vendor id, if there is one.
func ref(b *push.Builder, d map[string]any, k string, v any) {
	if id := value.ID(v); id != "" {
		d[k] = b.ID(id)
	}
}

// location maps SmartRecruiters' location object {city, region,
// regionCode, country, countryCode, postalCode, address, remote}.
func location(v any) map[string]any {
	l := value.Object(v)
	if l == nil {
		return nil
	}
	out := map[string]any{}
	set(out, "city", value.String(l["city"]))
	set(out, "region", value.FirstNonEmpty(value.String(l["region"]), value.String(l["regionCode"])))
	set(out, "postal_code", value.String(l["postalCode"]))
	set(out, "line1", value.String(l["address"]))
	if cc := value.String(l["countryCode"]); len(cc) == 2 {
		out["country"] = strings.ToUpper(cc)
	} else {
		set(out, "country", value.String(l["country"]))
	}
	if r, ok := l["remote"].(bool); ok {
		out["remote"] = r
	}
	return out
}

// employmentType maps typeOfEmployment.id onto the catalog's enum.
func employmentType(v any) any {
	id := strings.ToLower(value.String(value.Object(v)["id"]))
	switch id {
	case "":
		return nil
	case "permanent", "full_time", "full-time":
		return "permanent"
	case "contract", "contractor":
		return "contract"
	case "temporary", "temp":
		return "temp"
	}
	return "other"
}

// candidate maps a Customer API candidate (GET /candidates/{id}):
// {id, firstName, lastName, email, phoneNumber, location{city, country,
// countryCode, region...}, web{linkedin, website...}, tags, createdOn,
// updatedOn}.
func candidate(b *push.Builder, r, d map[string]any) {
	set(d, "first_name", value.String(r["firstName"]))
	set(d, "last_name", value.String(r["lastName"]))
	set(d, "email", value.Email(r["email"]))
	if p := value.String(r["phoneNumber"]); p != "" && len(p) <= 64 {
		d["phone"] = p
	}
	set(d, "location", location(r["location"]))
	var urls []any
	for _, k := range []string{"linkedin", "website", "facebook", "twitter"} {
		if u := value.String(value.Object(r["web"])[k]); u != "" {
			urls = append(urls, map[string]any{"value": u, "type": k})
		}
	}
	set(d, "urls", urls)
	set(d, "tags", strings1(r["tags"]))
	set(d, "created_at", value.RFC3339(r["createdOn"]))
	set(d, "updated_at", value.RFC3339(r["updatedOn"]))
}

// strings1 returns the strings of a JSON array, or nil.
func strings1(v any) []any {
	a, _ := v.([]any)
	var out []any
	for _, x := range a {
		if s, ok := x.(string); ok && s != "" {
			out = append(out, s)
		}
	}
	return out
}

// appStatus maps an application status onto the stage category.
var appStatus = map[string]string{
	"LEAD": "new", "NEW": "new", "IN_REVIEW": "screening", "INTERVIEW": "interview",
	"OFFER": "offer", "OFFERED": "offer", "HIRED": "hired", "REJECTED": "rejected",
	"WITHDRAWN": "withdrawn",
}

// application maps a candidate's application to a job (GET
// /candidates/{id}/jobs/{jobId}): {id, candidateId, jobId, jobTitle,
// status, subStatus, appliedOn/createdOn, updatedOn, reasonOfRejection
// {id,label}, source}. It returns the type the status implies for a stage
// change: application.hired, .rejected or .withdrawn, or "".
func application(b *push.Builder, r, d map[string]any) string {
	if d["candidate_id"] == nil {
		ref(b, d, "candidate_id", firstNonNil(r["candidateId"], value.Object(r["candidate"])["id"]))
	}
	job := value.Object(r["job"])
	if d["job_id"] == nil {
		ref(b, d, "job_id", firstNonNil(r["jobId"], job["id"]))
	}
	if id, ok := d["job_id"].(string); ok {
		j := map[string]any{"id": id}
		set(j, "title", value.FirstNonEmpty(value.String(r["jobTitle"]), value.String(job["title"])))
		d["job"] = j
	}
	d["kind"] = "application"
	status := strings.ToUpper(value.String(r["status"]))
	if status != "" {
		st := map[string]any{"id": status, "name": value.FirstNonEmpty(value.String(r["subStatus"]), label(status))}
		if cat, ok := appStatus[status]; ok {
			st["category"] = cat
		}
		d["stage"] = st
	}
	set(d, "applied_at", value.RFC3339(firstNonNil(r["appliedOn"], r["createdOn"])))
	set(d, "updated_at", value.RFC3339(r["updatedOn"]))
	switch src := r["source"].(type) {
	case string:
		set(d, "source", src)
	case map[string]any:
		set(d, "source", value.FirstNonEmpty(value.String(src["label"]), value.String(src["name"]), value.String(src["id"])))
	}
	switch status {
	case "HIRED":
		d["status"] = "hired"
		return "application.hired"
	case "REJECTED":
		d["status"] = "rejected"
		set(d, "rejection_reason", value.String(value.Object(r["reasonOfRejection"])["label"]))
		return "application.rejected"
	case "WITHDRAWN":
		d["status"] = "withdrawn"
		set(d, "withdrawal_reason", value.String(value.Object(r["reasonOfWithdrawal"])["label"]))
		return "application.withdrawn"
	case "":
		return ""
	}
	d["status"] = "active"
	return ""
}

// label turns IN_REVIEW into "In review".
func label(s string) string {
	s = strings.ToLower(strings.ReplaceAll(s, "_", " "))
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// job maps a job (GET /jobs/{id}, JobDetails): {id, title, refNumber,
// status, postingStatus, department{id,label}, location{...},
// typeOfEmployment{id,label}, numberOfOpenings, createdOn, updatedOn}.
func job(b *push.Builder, r, d map[string]any) {
	set(d, "title", value.String(r["title"]))
	set(d, "code", value.String(r["refNumber"]))
	if s := value.String(r["status"]); s != "" {
		d["status"] = strings.ToLower(s)
	}
	set(d, "employment_type", employmentType(r["typeOfEmployment"]))
	if dep := value.Object(r["department"]); dep != nil {
		n := map[string]any{}
		set(n, "id", value.ID(dep["id"]))
		set(n, "name", value.String(dep["label"]))
		if len(n) > 0 {
			d["departments"] = []any{n}
		}
	}
	if l := location(r["location"]); l != nil {
		d["locations"] = []any{l}
	}
	if n, ok := r["numberOfOpenings"].(float64); ok && n >= 0 && n == float64(int64(n)) {
		d["openings"] = int64(n)
	}
	set(d, "created_at", value.RFC3339(r["createdOn"]))
	set(d, "updated_at", value.RFC3339(r["updatedOn"]))
}

// jobAd maps a job ad (GET /jobs/{jobId}/jobads/{jobAdId}): {id, jobId,
// title, postingStatus, location{...}, applyUrl, createdOn, updatedOn}.
func jobAd(b *push.Builder, r, d map[string]any) {
	if d["job_id"] == nil {
		ref(b, d, "job_id", r["jobId"])
	}
	set(d, "title", value.String(r["title"]))
	if s := value.String(r["postingStatus"]); s != "" {
		d["status"] = strings.ToLower(s)
		d["internal"] = strings.EqualFold(s, "INTERNAL")
	}
	if l := location(r["location"]); l != nil {
		d["locations"] = []any{l}
	}
	set(d, "apply_url", value.String(firstNonNil(r["applyUrl"], value.Object(value.Object(r["actions"])["applyOnWeb"])["url"])))
	set(d, "created_at", value.RFC3339(r["createdOn"]))
	set(d, "updated_at", value.RFC3339(r["updatedOn"]))
}

// offer maps an offer (GET /candidates/{id}/jobs/{jobId}/offers/{offerId}):
// {id, status, candidateId, jobId, createdOn, updatedOn}. No compensation
// field is documented, so salary stays unset.
func offer(b *push.Builder, r, d map[string]any) {
	if d["candidate_id"] == nil {
		ref(b, d, "candidate_id", r["candidateId"])
	}
	if d["job_id"] == nil {
		ref(b, d, "job_id", r["jobId"])
	}
	if s := value.String(r["status"]); s != "" {
		d["status"] = strings.ToLower(s)
	}
	set(d, "created_at", value.RFC3339(r["createdOn"]))
	set(d, "updated_at", value.RFC3339(r["updatedOn"]))
}

// interview maps the little of an interview that is safe to read without
// a documented shape: title, status and the times.
func interview(b *push.Builder, r, d map[string]any) {
	set(d, "title", value.String(firstNonNil(r["title"], r["name"])))
	set(d, "start_at", value.RFC3339(r["startsAt"]))
	set(d, "end_at", value.RFC3339(r["endsAt"]))
	set(d, "created_at", value.RFC3339(r["createdOn"]))
	set(d, "updated_at", value.RFC3339(r["updatedOn"]))
}
