package ops

import "strings"

// SourceGuide describes one kind of source to a person connecting it: the
// fields of its form (the dashboard's, and the flags of `hirehook sources
// create`) in plain words, and what to do in the vendor's admin once the
// source exists. The rules stay with the kind's SourceKind; a guide only
// explains them.
type SourceGuide struct {
	Kind  string // "greenhouse"
	Title string // "Greenhouse"
	// Push is true for a kind whose vendor posts webhooks to the source's
	// ingest URL; false for Bullhorn, which the hub polls.
	Push bool
	// Summary says in one sentence what connecting it does.
	Summary string
	Fields  []SourceField
	// Steps are the setup steps in the vendor's admin, in order; the
	// text {ingest_url} stands for the source's ingest URL (SetupSteps
	// fills it in).
	Steps []string
}

// SourceField is one setting of a kind of source.
type SourceField struct {
	// Name is the configuration field ("signing_secret").
	Name  string
	Label string
	Hint  string
	// Placeholder describes what to enter; it never looks like a value.
	Placeholder string
	// Type is text, secret (write-only: never shown again), url, seconds
	// (stored in milliseconds as poll_interval_ms is), list (comma-
	// separated, stored as an array) or select (one of Options).
	Type    string
	Options []SourceOption
	// Required fields must be given when connecting.
	Required bool
	// Advanced fields are tucked under "More settings" in forms.
	Advanced bool
}

// SourceOption is one choice of a select field.
type SourceOption struct {
	Value, Label string
}

// Secret reports whether the field is write-only.
func (f SourceField) Secret() bool { return f.Type == "secret" }

// SetupSteps returns the guide's steps with the ingest URL filled in.
func (g SourceGuide) SetupSteps(ingestURL string) []string {
	out := make([]string, len(g.Steps))
	for i, s := range g.Steps {
		out[i] = strings.ReplaceAll(s, "{ingest_url}", ingestURL)
	}
	return out
}

// Field returns the field named name.
func (g SourceGuide) Field(name string) (SourceField, bool) {
	for _, f := range g.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return SourceField{}, false
}

// SourceGuideOf returns the guide of kind; ok is false for a kind without
// one.
func SourceGuideOf(kind string) (SourceGuide, bool) {
	for _, g := range SourceGuides {
		if g.Kind == kind {
			return g, true
		}
	}
	return SourceGuide{}, false
}

// The fields every push kind has.
var (
	fieldSigning = SourceField{Name: "signing_secret", Label: "Signing secret", Type: "secret", Required: true,
		Placeholder: "paste the secret from the vendor's webhook settings"}
	fieldPrevious = SourceField{Name: "previous_signing_secret", Label: "Previous signing secret", Type: "secret", Advanced: true,
		Placeholder: "only while you change the secret",
		Hint:        "While you change the secret, keep the old one here: webhooks signed with either are accepted. Clear it once the vendor uses the new one."}
	fieldAccount = SourceField{Name: "account", Label: "Account name", Type: "text",
		Placeholder: "your name for this account (optional)",
		Hint:        "Written into each event's external references, so receivers can tell two accounts of the same vendor apart."}
)

func signing(hint string) SourceField {
	f := fieldSigning
	f.Hint = hint
	return f
}

// chosenSigning is the signing secret of a vendor that lets the person
// choose it (Greenhouse, Ashby).
func chosenSigning(vendor, where string) SourceField {
	f := fieldSigning
	f.Placeholder = "a long random text you make up"
	f.Hint = "Make one up (a long random text, such as a password manager makes) and enter the same one as the " + where + " in " + vendor + "."
	return f
}

// SourceGuides are the guides of the kinds the hub runs, in the order a
// form offers them.
var SourceGuides = []SourceGuide{
	{
		Kind: "bullhorn", Title: "Bullhorn",
		Summary: "The hub signs in to Bullhorn's REST API and checks its event subscription every few seconds: nothing to set up in Bullhorn beyond an API user.",
		Fields: []SourceField{
			{Name: "client_id", Label: "Client ID", Type: "text", Required: true,
				Placeholder: "from your Bullhorn API credentials", Hint: "Part of the REST API credentials Bullhorn support issues to your company."},
			{Name: "client_secret", Label: "Client secret", Type: "secret", Required: true,
				Placeholder: "from your Bullhorn API credentials", Hint: "Issued with the client ID."},
			{Name: "username", Label: "API user name", Type: "text",
				Placeholder: "the Bullhorn user the hub signs in as", Hint: "A Bullhorn user set up for API access. Needed unless you give a refresh token (under More settings)."},
			{Name: "password", Label: "API user password", Type: "secret",
				Placeholder: "that user's password", Hint: "The API user's password. Needed unless you give a refresh token."},
			{Name: "refresh_token", Label: "Refresh token", Type: "secret", Advanced: true,
				Placeholder: "instead of a user name and password",
				Hint:        "Instead of a user name and password: a refresh token from Bullhorn's OAuth flow. The hub keeps each new one Bullhorn hands out."},
			{Name: "auth_url", Label: "Sign-in server", Type: "url", Advanced: true,
				Placeholder: "leave empty for Bullhorn's own",
				Hint:        "Only for a test system or the simulator (hirehook sim bullhorn): where the hub asks for OAuth tokens."},
			{Name: "login_url", Label: "REST login server", Type: "url", Advanced: true,
				Placeholder: "leave empty for Bullhorn's own",
				Hint:        "Only for a test system or the simulator: where the hub opens its REST session."},
			{Name: "poll_interval_ms", Label: "Seconds between checks", Type: "seconds", Advanced: true,
				Placeholder: "default: 2", Hint: "How often the hub asks Bullhorn for changes: 2 seconds when empty, at least 0.1."},
			{Name: "confirmed_statuses", Label: "Placement statuses that confirm a placement", Type: "list", Advanced: true,
				Placeholder: "default: Approved", Hint: "Comma-separated. A placement that reaches one of them becomes a placement.confirmed event. Approved when empty."},
		},
		Steps: []string{
			"Ask Bullhorn support for REST API credentials (a client ID and secret) and an API user, if you have none yet.",
			"Nothing to paste into Bullhorn: the hub creates its own event subscription (named hirehook- and the source's id) and checks it every few seconds.",
			"Within a minute the source's page shows a last successful check. If it shows an error instead, edit the source and check the credentials.",
		},
	},
	{
		Kind: "greenhouse", Title: "Greenhouse", Push: true,
		Summary: "Greenhouse posts a webhook to the hub whenever a candidate, application, offer or job changes.",
		Fields: []SourceField{
			chosenSigning("Greenhouse", "web hook's Secret key"),
			fieldAccount, fieldPrevious,
		},
		Steps: []string{
			"In Greenhouse, open Configure → Dev Center → Web Hooks, and choose Web Hooks again.",
			"Create a web hook for each event you want (for example Candidate has changed stage, Candidate or Prospect hired, Application updated, Job post created).",
			"Endpoint URL: {ingest_url}",
			"Secret key: the signing secret you gave the hub.",
			"Save. Greenhouse sends a ping at once; the source's page then shows it under Last handshake. If the ping fails, Greenhouse creates the web hook disabled: fix the address, then enable it there.",
			"Greenhouse posts only to https addresses: the hub must be reachable over https at the address above.",
		},
	},
	{
		Kind: "lever", Title: "Lever", Push: true,
		Summary: "Lever posts a webhook to the hub when an application is created, a candidate changes stage, is hired, archived or deleted, and on interviews.",
		Fields: []SourceField{
			signing("The signature token Lever shows under Settings → Integrations and API → Webhooks."),
			fieldAccount,
			{Name: "api_key", Label: "Lever API key", Type: "secret",
				Placeholder: "optional: lets the hub fetch whole records",
				Hint:        "Lever's webhooks carry ids only. With an API key (read access to opportunities) the hub fetches each record before sending the event on; without one, events go out with ids only, marked partial."},
			{Name: "api_url", Label: "Lever API address", Type: "url", Advanced: true,
				Placeholder: "leave empty for https://api.lever.co/v1",
				Hint:        "Only for Lever's EU data centre (https://api.eu.lever.co/v1) or sandbox."},
			fieldPrevious,
		},
		Steps: []string{
			"In Lever, open Settings → Integrations and API → Webhooks.",
			"Turn on each event you want (Application created, Candidate stage change, Candidate hired, Candidate archive state change, Candidate deleted, the interview events).",
			"For each, enter the webhook URL: {ingest_url}",
			"Copy the signature token Lever shows there into this source's signing secret (edit the source if you used another).",
			"Press Test next to an event: the source's request log lists it.",
		},
	},
	{
		Kind: "ashby", Title: "Ashby", Push: true,
		Summary: "Ashby posts a webhook to the hub for each webhook type you create there: applications, stage changes, hires, offers, jobs.",
		Fields: []SourceField{
			chosenSigning("Ashby", "webhook's Secret token"),
			fieldAccount, fieldPrevious,
		},
		Steps: []string{
			"In Ashby, open Admin → Integrations → Webhooks, and create a webhook.",
			"Choose its type (one webhook per type: for example Application submitted, Candidate stage change, Candidate hired, Offer created).",
			"Request URL: {ingest_url}",
			"Secret token: the signing secret you gave the hub.",
			"Save. Ashby sends a ping; if it fails, Ashby creates the webhook disabled. Repeat for each type you want.",
		},
	},
	{
		Kind: "workable", Title: "Workable", Push: true,
		Summary: "Workable posts the candidate to the hub when one is created or moves stage (hires and disqualifications are moves too).",
		Fields: []SourceField{
			signing("Workable signs with the API access token you subscribe with (or your OAuth app's secret): enter that token."),
			fieldAccount, fieldPrevious,
		},
		Steps: []string{
			"Workable has no screen for webhooks: you subscribe through its API, with an access token that has the r_candidates scope (Settings → Integrations → Apps → API access token).",
			`Subscribe the ingest URL to candidate_created: curl -H "Authorization: Bearer $WORKABLE_TOKEN" -H "Content-Type: application/json" -d '{"target": "{ingest_url}", "event": "candidate_created"}' https://YOUR-SUBDOMAIN.workable.com/spi/v3/subscriptions`,
			"Do the same with \"event\": \"candidate_moved\".",
			"The signing secret is that same access token.",
		},
	},
	{
		Kind: "smartrecruiters", Title: "SmartRecruiters", Push: true,
		Summary: "SmartRecruiters posts a short notice to the hub when a job, application, candidate or offer changes; with an API token the hub fetches the record itself.",
		Fields: []SourceField{
			signing("SmartRecruiters makes the key after the subscription exists (step 3 below). Until then enter a temporary text, and replace it by editing the source."),
			fieldAccount,
			{Name: "api_key", Label: "SmartRecruiters API token", Type: "secret",
				Placeholder: "optional: lets the hub fetch whole records",
				Hint:        "Its webhooks carry ids only. With an API token the hub fetches each record before sending the event on; without one, events go out with ids only, marked partial, and some are skipped."},
			fieldPrevious,
		},
		Steps: []string{
			`Create a subscription through SmartRecruiters' API: POST https://api.smartrecruiters.com/webhooks-api/v201907/subscriptions with {"callbackUrl": "{ingest_url}", "events": [{"name": "application.status.updated", "version": 1}, …]}.`,
			"Activate it: PUT …/subscriptions/{id}/activation. SmartRecruiters checks the address with a handshake, which the hub answers by itself.",
			"Generate its secret key: POST …/subscriptions/{id}/secret-key, and put the key in this source's signing secret (Edit).",
			"SmartRecruiters keeps an old key valid for 24 hours after a new one: put the old one in Previous signing secret meanwhile.",
		},
	},
	{
		Kind: "teamtailor", Title: "Teamtailor", Push: true,
		Summary: "Teamtailor posts a webhook to the hub when a candidate, job or job application changes.",
		Fields: []SourceField{
			signing("Teamtailor shows the signature key once the webhook exists (step 3 below). Until then enter a temporary text, and replace it by editing the source."),
			fieldAccount, fieldPrevious,
		},
		Steps: []string{
			"In Teamtailor, open Settings → Integrations → Webhooks and add a webhook.",
			"URL: {ingest_url}. Choose the events (job_application.update, candidate.create, job.update, …) and signature version 2.",
			"Copy the signature key Teamtailor shows into this source's signing secret (Edit).",
			"Teamtailor does not retry a webhook that fails: check the source's request log after a change in Teamtailor.",
		},
	},
	{
		Kind: "generic", Title: "Other system (signed catalog events)", Push: true,
		Summary: "Any system that can post hirehook catalog events ({\"type\": \"candidate.created\", \"data\": {…}}), signed with Standard Webhooks or a plain HMAC of the body.",
		Fields: []SourceField{
			{Name: "scheme", Label: "Signature scheme", Type: "select",
				Options: []SourceOption{{"standard_webhooks", "Standard Webhooks (webhook-signature header)"}, {"hmac", "HMAC of the body, in a header you name"}},
				Hint:    "How the sender signs. Standard Webhooks is the default."},
			signing("Standard Webhooks: the sender's secret, starting whsec_ (or a public key starting whpk_). HMAC: the shared key."),
			{Name: "header", Label: "Signature header", Type: "text", Advanced: true,
				Placeholder: "HMAC only: the header's name", Hint: "HMAC only: the request header that carries the signature."},
			{Name: "encoding", Label: "Signature encoding", Type: "select", Advanced: true,
				Options: []SourceOption{{"", "—"}, {"hex", "hex"}, {"base64", "base64"}}, Hint: "HMAC only: hex when empty."},
			{Name: "prefix", Label: "Signature prefix", Type: "text", Advanced: true,
				Placeholder: "HMAC only: text before the signature", Hint: "HMAC only: a prefix to strip from the header's value, such as sha256=."},
			fieldAccount, fieldPrevious,
		},
		Steps: []string{
			"Give the sender this address: {ingest_url}",
			"It signs each request with the signing secret you gave the hub, and sends catalog events as the body.",
		},
	},
}
