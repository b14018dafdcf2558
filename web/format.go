package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hirehook/hirehook"
)

// funcs are the template functions. Times are shown in UTC, the hub's
// time everywhere (the API, the logs), with a relative form beside them.
var funcs = template.FuncMap{
	"ago":          ago,
	"age":          age,
	"clock":        clock,
	"dur":          formatDuration,
	"pct":          percent,
	"prettyJSON":   prettyJSON,
	"label":        endpointLabel,
	"excerpt":      excerpt,
	"stateClass":   stateClass,
	"inboundClass": inboundClass,
	"count":        countNoun,
	"masked":       func() string { return hirehook.Masked },
	"humanize":     humanize,
	"version":      func() string { return hirehook.Version },
	"redact":       hirehook.RedactURL,
	"isOK":         func(status int) bool { return status >= 200 && status <= 299 },
	"matrix":       newCoverageMatrix,
	"dict":         dict,
	"breakID":      breakID,
	"static":       staticURL,
	"plainReason":  plainReason,
	"kindTitle":    kindTitle,
	"kindOf":       kindOf,
	"destination":  (*hirehook.Endpoint).Target,
	"configOf":     configEntries,
	"credNames":    credentialNames,
}

// plainReason explains in plain words why a route would not send an event
// (or fails it), the route package's own words following in brackets for
// whoever writes the rules.
func plainReason(reason string) string {
	var plain string
	switch {
	case reason == "filter yielded false":
		plain = "The filter answers no for this event."
	case reason == "filter yielded no value":
		plain = "The filter gives no answer for this event; a field it reads may be missing."
	case reason == "filter yielded more than one value":
		plain = "The filter gives several answers; it must give exactly one, true or false."
	case strings.HasPrefix(reason, "filter yielded ") && strings.HasSuffix(reason, ", not a boolean"):
		plain = "The filter must answer true or false; compare a field with == to get such an answer."
	case reason == "transform yielded no value":
		plain = "The transform builds nothing for this event."
	case strings.HasPrefix(reason, "transform yielded more than one value"):
		plain = "The transform builds several messages; it must build one."
	case strings.HasPrefix(reason, "transform: "):
		plain = "The transform cannot build the message for this event."
	default:
		return reason
	}
	return plain + " (" + reason + ")"
}

// staticURL is the address of an embedded static file with a hash of its
// content, so browsers may cache it for long and still see a new one at
// once. It panics on a missing file: templates name only files that are
// embedded, and New executes none before the tests do.
func staticURL(name string) string {
	b, err := fs.ReadFile(staticFS, "static/"+name)
	if err != nil {
		panic(fmt.Sprintf("web: static file %s: %v", name, err))
	}
	sum := sha256.Sum256(b)
	return "/static/" + name + "?v=" + hex.EncodeToString(sum[:6])
}

// shortID is the length up to which breakID leaves an id whole: the
// hub's own ids (evt_ and 26 characters) stay as they are.
const shortID = 40

// breakID returns an id with places a line may break: after each ':',
// '/', '_', '-' and '.', so that a long id (Bullhorn's carry the source and
// the vendor's event id, "bh:src_…:ID:…:placement_confirmed") wraps
// between its parts instead of running out of its box.
func breakID(id string) template.HTML {
	if len(id) <= shortID {
		return template.HTML(template.HTMLEscapeString(id))
	}
	var b strings.Builder
	for _, r := range id {
		b.WriteString(template.HTMLEscapeString(string(r)))
		switch r {
		case ':', '/', '_', '-', '.':
			b.WriteString("<wbr>")
		}
	}
	return template.HTML(b.String())
}

// maxSubjectName bounds the name shown for a subject.
const maxSubjectName = 120

// subjectName returns what a person calls the record data describes, from
// the record's fields: a candidate's or contact's name, a job's or
// posting's title, a client's name; for an application, interview, offer
// or placement, the candidate's name, the job and the client, joined by
// " · ". "" when the record names none of them.
func subjectName(entity string, data json.RawMessage) string {
	var m map[string]any
	if len(data) == 0 || json.Unmarshal(data, &m) != nil {
		return ""
	}
	var parts []string
	add := func(s string) {
		if s = strings.Join(strings.Fields(s), " "); s != "" && !slices.Contains(parts, s) {
			parts = append(parts, s)
		}
	}
	switch entity {
	case "candidate", "contact":
		add(personName(m))
	case "client":
		add(field(m, "name"))
	case "job", "job_posting":
		add(field(m, "title"))
	case "application", "interview", "offer", "placement":
		add(personName(object(m, "candidate")))
		if t := field(object(m, "job"), "title"); t != "" {
			add(t)
		} else {
			add(field(m, "title"))
		}
		add(field(object(m, "client"), "name"))
	}
	name := []rune(strings.Join(parts, " · "))
	if len(name) > maxSubjectName {
		return string(name[:maxSubjectName]) + "…"
	}
	return string(name)
}

// personName is a person's "name", or their first and last names.
func personName(m map[string]any) string {
	if n := field(m, "name"); n != "" {
		return n
	}
	return strings.TrimSpace(field(m, "first_name") + " " + field(m, "last_name"))
}

func field(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return strings.TrimSpace(s)
}

func object(m map[string]any, key string) map[string]any {
	o, _ := m[key].(map[string]any)
	return o
}

// dict builds a map from pairs of a key and a value, to pass several
// values to a template: (dict "Field" "filter" "Examples" $x).
func dict(pairs ...any) (map[string]any, error) {
	if len(pairs)%2 != 0 {
		return nil, fmt.Errorf("dict: %d arguments, want pairs", len(pairs))
	}
	m := make(map[string]any, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		k, ok := pairs[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", pairs[i])
		}
		m[k] = pairs[i+1]
	}
	return m, nil
}

// humanize turns an identifier into words: "job_posting" → "Job posting".
func humanize(s string) string {
	s = strings.ReplaceAll(s, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// timeOf accepts time.Time and *time.Time (nil: zero).
func timeOf(v any) time.Time {
	switch t := v.(type) {
	case time.Time:
		return t
	case *time.Time:
		if t != nil {
			return *t
		}
	}
	return time.Time{}
}

// clock formats a time as "2026-11-27 09:30:05 UTC"; "—" for none.
func clock(v any) string {
	t := timeOf(v)
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// age formats the time from t to now: "42 s", "5 min", "3 h 10 min", "2 days".
func age(now time.Time, v any) string {
	t := timeOf(v)
	if t.IsZero() {
		return "—"
	}
	return span(now.Sub(t))
}

// ago is age with "ago", or "in …" for a future time.
func ago(now time.Time, v any) string {
	t := timeOf(v)
	if t.IsZero() {
		return "never"
	}
	// A person reads an age in whole seconds: "8 s ago", not "7.83 s ago".
	d := now.Sub(t).Round(time.Second)
	switch {
	case d < 0:
		return "in " + span(-d)
	case d < 5*time.Second:
		return "just now"
	}
	return span(d) + " ago"
}

// span formats a length of time that may be zero (an age, an interval):
// formatDuration, with "0 s" for none.
func span(d time.Duration) string {
	if d <= 0 {
		return "0 s"
	}
	return formatDuration(d)
}

// formatDuration formats a duration in the unit that fits it, the one way
// the dashboard prints a latency, an interval or an age: "850 µs",
// "4.2 ms", "200 ms", "1.25 s", "42 s", "5 min", "3 h 10 min", "2 days";
// "—" for zero (unknown). Below a minute it keeps about three significant
// digits; from a minute up it rounds down to whole units, as a person
// reading "5 min" expects.
func formatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < 10*time.Millisecond:
		return trimZeros(fmt.Sprintf("%.1f", float64(d.Microseconds())/1000)) + " ms"
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < 10*time.Second:
		return trimZeros(fmt.Sprintf("%.2f", float64(d.Milliseconds())/1000)) + " s"
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 24*time.Hour:
		h, m := int(d.Hours()), int(d.Minutes())%60
		if m == 0 || h >= 10 {
			return fmt.Sprintf("%d h", h)
		}
		return fmt.Sprintf("%d h %d min", h, m)
	}
	days := int(d.Hours() / 24)
	if days == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", days)
}

// trimZeros drops a decimal fraction's trailing zeros: "1.50" → "1.5",
// "2.00" → "2".
func trimZeros(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

// percent formats part/whole as "97.5%"; "—" when whole is 0. It rounds
// down, so "100%" means every one.
func percent(part, whole int) string {
	if whole == 0 {
		return "—"
	}
	p := math.Floor(1000*float64(part)/float64(whole)) / 10
	if p == math.Trunc(p) {
		return fmt.Sprintf("%d%%", int(p))
	}
	return fmt.Sprintf("%.1f%%", p)
}

// prettyJSON indents a JSON document for reading.
func prettyJSON(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return string(raw)
	}
	return buf.String()
}

// endpointLabel names an endpoint for people: its description, else its
// URL's host and path (never its query, where tokens often live).
func endpointLabel(e *hirehook.Endpoint) string {
	if e == nil {
		return "(deleted endpoint)"
	}
	if d := strings.TrimSpace(e.Description); d != "" {
		return hirehook.Truncate(d, 80)
	}
	if e.Kind != "" && e.Kind != hirehook.KindHTTP {
		return e.Target()
	}
	return shortURL(e.URL)
}

// shortURL is a URL's host and path.
func shortURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return hirehook.Truncate(s, 80)
	}
	return hirehook.Truncate(u.Host+strings.TrimSuffix(u.Path, "/"), 80)
}

// excerpt shortens a response body to n characters on one line.
func excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// stateClass maps a delivery state or a health state to a badge class.
func stateClass(state any) string {
	switch fmt.Sprint(state) {
	case "delivered", "healthy":
		return "badge ok"
	case "retrying", "pending", "delivering", "paused", "degraded":
		return "badge warn"
	case "failed", "failing":
		return "badge bad"
	}
	return "badge muted"
}

// countNoun formats "1 delivery" / "3 deliveries".
func countNoun(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// inboundClass maps an inbound request's state to a badge class.
func inboundClass(status string) string {
	switch status {
	case hirehook.InboundProcessed, hirehook.InboundHandshake:
		return "badge ok"
	case hirehook.InboundReceived, hirehook.InboundUnsupported:
		return "badge warn"
	case hirehook.InboundFailed, hirehook.InboundRejected:
		return "badge bad"
	}
	return "badge muted"
}
