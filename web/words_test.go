package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/catalog"
)

// The dashboard's readers run recruiting operations: these tests hold its
// pages to plain words, and to the names people know records by.

// cliFlagRE finds a command-line flag ("--admin-key") in a page.
var cliFlagRE = regexp.MustCompile(`(^|[^-\w!])--[a-z][a-z0-9-]+`)

// envVarRE finds an environment variable of the hub.
var envVarRE = regexp.MustCompile(`\bHIREHOOK_[A-Z_]+`)

var tagRE = regexp.MustCompile(`(?s)<[^>]*>`)

// visibleText is a page without its tags: what a person reads (and the
// tooltips' text, which stays in the attributes, is checked on the raw
// page).
func visibleText(page string) string { return tagRE.ReplaceAllString(page, " ") }

// TestPlainWords signs in as the hub's first key, named as cmd/hirehook
// names it ("operator (--admin-key)"), and as a viewer, and reads every
// page but the sources' (their forms are another change's): none shows a
// command-line flag or an environment variable, none speaks of scopes, and
// the header says who is signed in, with which access, in which tenant.
func TestPlainWords(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seed(t)
	const operatorKey = "hh_test_operator_key_0123456789"
	must(t, b.store.APIKeyCreate(context.Background(), &hirehook.APIKey{ID: hirehook.NewID("key"), TenantID: hirehook.DefaultTenantID,
		Name: "operator (--admin-key)", Scope: hirehook.ScopeOperator, Hash: hashKey(operatorKey), CreatedAt: now}))
	operator := b.signedIn(t, operatorKey)
	viewer := b.signedIn(t, viewerKey)

	check := func(t *testing.T, name, page string) {
		t.Helper()
		if m := cliFlagRE.FindString(page); m != "" {
			t.Errorf("%s shows the command-line flag %q", name, strings.TrimSpace(m))
		}
		if m := envVarRE.FindString(page); m != "" {
			t.Errorf("%s shows the environment variable %s", name, m)
		}
		if text := visibleText(page); strings.Contains(strings.ToLower(text), "scope") {
			i := strings.Index(strings.ToLower(text), "scope")
			t.Errorf("%s speaks of scopes: …%s…", name, strings.Join(strings.Fields(text[max(0, i-60):min(len(text), i+40)]), " "))
		}
	}

	signin := b.client(t).get("/signin")
	wantStatus(t, signin, http.StatusOK)
	check(t, "the sign-in page", signin.body)

	for _, c := range []struct {
		who string
		c   *client
	}{{"operator", operator}, {"viewer", viewer}} {
		for _, path := range []string{"/", "/coverage", "/coverage?gaps=1", "/events", "/events/" + evtConfirmed, "/records/placement/pl_1001",
			"/endpoints/" + epOnboarding, "/endpoints/" + epCRM, "/events/evt_missing"} {
			r := c.c.get(path)
			check(t, path+" ("+c.who+")", r.body)
		}
	}
	r := operator.get("/endpoints/new")
	wantStatus(t, r, http.StatusOK)
	check(t, "/endpoints/new", r.body)
	wantContains(t, r.body, `<span class="who-label">Signed in as</span> operator <span class="scope">full access</span>`,
		`<span class="who-label">Tenant</span> Default tenant`)

	// A viewer refused: the page says what access it has and needs.
	viewer.get("/endpoints/" + epPayroll)
	r = viewer.post("/endpoints/"+epPayroll+"/rotate-secret", nil, true)
	wantStatus(t, r, http.StatusForbidden)
	check(t, "the refusal", r.body)
	wantContains(t, r.body, "You are signed in as recruiting lead, with view only access: this needs admin access.")
}

var (
	groupHeadRE = regexp.MustCompile(`^\s*<h3>([^<]+)</h3>`)
	allBoxRE    = regexp.MustCompile(`name="event_types" value="([^"]+)"[^>]*> <span><strong>All`)
	typeBoxRE   = regexp.MustCompile(`name="event_types" value="([^"]+)"`)
)

// TestEndpointFormTypeGroups checks the event types the endpoint form
// offers: grouped by entity, each group with one "All" box, every type a
// producer can send offered with its description, and no snapshot type
// (only a backfill sends those). An "All" box of a group that no wildcard
// covers exactly (jobs: job.* also matches job postings) saves the group's
// types, and shows checked when the endpoint is opened again.
func TestEndpointFormTypeGroups(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.signedIn(t, adminKey)
	r := admin.get("/endpoints/new")
	wantStatus(t, r, http.StatusOK)

	offered := map[string]bool{}
	alls := map[string]string{}
	for _, chunk := range strings.Split(r.body, `<div class="type-group">`)[1:] {
		head := groupHeadRE.FindStringSubmatch(chunk)
		if head == nil {
			t.Fatalf("a group without a heading: %.200s", chunk)
		}
		boxes := allBoxRE.FindAllStringSubmatch(chunk, -1)
		if len(boxes) != 1 {
			t.Errorf("group %s has %d All boxes, want 1", head[1], len(boxes))
		} else {
			alls[head[1]] = boxes[0][1]
		}
		for _, m := range typeBoxRE.FindAllStringSubmatch(chunk, -1) {
			if len(boxes) == 0 || m[1] != boxes[0][1] {
				offered[m[1]] = true
			}
		}
	}
	for _, ty := range catalog.Default().Types() {
		switch {
		case catalog.Snapshot(ty.Name) && offered[ty.Name]:
			t.Errorf("the form offers %s, which only a backfill sends", ty.Name)
		case !catalog.Snapshot(ty.Name) && !offered[ty.Name]:
			t.Errorf("the form does not offer %s", ty.Name)
		case !catalog.Snapshot(ty.Name) && !strings.Contains(r.body, htmlEscaped(ty.Description)):
			t.Errorf("the form does not describe %s (%q)", ty.Name, ty.Description)
		}
	}
	for _, entity := range catalog.Default().Entities() {
		if _, ok := alls[humanizeEntity(entity)]; !ok {
			t.Errorf("no group %q with an All box; groups: %v", humanizeEntity(entity), alls)
		}
	}
	if t.Failed() {
		return
	}

	// All job postings, and all jobs: each is the group's own types.
	r = admin.post("/endpoints", url.Values{"url": {"https://boards.example.com/in"},
		"event_types": {alls["Job posting"], alls["Job"]}}, true)
	wantRedirect(t, r, "/endpoints/ep_")
	id := strings.TrimPrefix(r.header.Get("Location"), "/endpoints/")
	ep, err := b.store.EndpointGet(context.Background(), hirehook.DefaultTenantID, id)
	must(t, err)
	want := []string{"job.approved", "job.closed", "job.created", "job.deleted", "job.opened", "job.posted", "job.posting_updated", "job.unposted", "job.updated"}
	if !slices.Equal(ep.EventTypes, want) {
		t.Errorf("saved event types %v, want %v", ep.EventTypes, want)
	}
	r = admin.get("/endpoints/" + id)
	for _, v := range []string{alls["Job posting"], alls["Job"]} {
		wantContains(t, r.body, `value="`+v+`" checked>`)
	}
	// A group with a wildcard saves the wildcard, as before.
	if alls["Placement"] != "placement.*" {
		t.Errorf("the All box of placements is %q, want placement.*", alls["Placement"])
	}
}

// htmlEscaped escapes s as html/template writes text.
func htmlEscaped(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", `"`, "&#34;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func humanizeEntity(e string) string {
	s := strings.ReplaceAll(e, "_", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// TestCoverageGapsOnly checks the Coverage page's "Only gaps" view: a link
// (no script), listing only the types no enabled endpoint receives.
func TestCoverageGapsOnly(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seed(t)
	admin := b.signedIn(t, adminKey)

	all := admin.get("/coverage")
	wantStatus(t, all, http.StatusOK)
	wantContains(t, all.body, `<a href="/coverage?gaps=1">Only gaps (`, `<span class="mono">placement.confirmed</span>`, `<span class="mono">job.created</span>`)

	gaps := admin.get("/coverage?gaps=1")
	wantStatus(t, gaps, http.StatusOK)
	wantContains(t, gaps.body, `<span class="mono">job.created</span>`, `<span class="mono">candidate.created</span>`,
		`<a href="/coverage">All event types</a>`, `<a href="/coverage?gaps=1" aria-current="page">Only gaps (`, `<table class="matrix">`)
	for _, covered := range []string{"placement.confirmed", "placement.started", "endpoint.tested"} {
		if strings.Contains(gaps.body, `<span class="mono">`+covered+`</span>`) {
			t.Errorf("the gaps view lists %s, which an endpoint receives (or the hub emits)", covered)
		}
	}
	// Every listed row is a gap.
	rows := regexp.MustCompile(`<tr( class="gap")?>\s*<th scope="row"`).FindAllStringSubmatch(gaps.body, -1)
	if len(rows) == 0 {
		t.Fatal("the gaps view lists no rows")
	}
	for _, m := range rows {
		if m[1] == "" {
			t.Errorf("the gaps view lists a row that is not a gap")
		}
	}
}

// TestSubjectNames checks that the events list, an event and a record
// name the record they are about, from the stored record, with the id
// still shown beside.
func TestSubjectNames(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seed(t)
	admin := b.signedIn(t, adminKey)

	r := admin.get("/events")
	wantContains(t, r.body,
		`<a href="/records/job/j_12" title="Job j_12: its current record">Data Engineer</a>`,
		`<a href="/records/candidate/c_77" title="Candidate c_77: its current record">Ada Lovelace</a>`,
		`>Ada Lovelace · Acme Corp</a><div class="sub">Placement <span class="mono id">pl_1001</span>`)
	r = admin.get("/events/" + evtStarted)
	wantContains(t, r.body, `Placement <strong class="subject-name">Ada Lovelace · Acme Corp</strong> (<span class="mono id">pl_1001</span>)`)
	r = admin.get("/records/candidate/c_77")
	wantContains(t, r.body, `<h1>Ada Lovelace</h1>`, `Candidate <span class="mono id">c_77</span>`)
}

// TestTryRouteLeavesFlashes: the endpoint form's live "try it" posts in
// the background while the person may be loading another page; it must
// not take the message ("Endpoint saved.") that page is to show.
func TestTryRouteLeavesFlashes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seed(t)
	admin := b.signedIn(t, adminKey)
	admin.get("/endpoints/" + epOnboarding)
	r := admin.post("/endpoints/"+epOnboarding, url.Values{"url": {"https://onboarding.example.com/hooks?token=s3cret"},
		"description": {"Onboarding service, renamed"}, "event_types": {"placement.*"}}, true)
	wantRedirect(t, r, "/endpoints/"+epOnboarding)
	r = admin.post("/endpoints/"+epOnboarding+"/try-route", url.Values{"try_event_id": {evtConfirmed}, "event_types": {"placement.*"}}, true)
	wantStatus(t, r, http.StatusOK)
	if strings.Contains(r.body, "Endpoint saved.") {
		t.Error("the try answer shows the flash of the save")
	}
	r = admin.get("/endpoints/" + epOnboarding)
	wantContains(t, r.body, "Endpoint saved.")
}
