package bullhorn

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/catalog"
)

// System is the name hirehook gives Bullhorn: the events' source and the
// system of their external_refs.
const System = "bullhorn"

// SubscriptionNames are the entities the connector subscribes to.
var SubscriptionNames = []string{"Candidate", "JobOrder", "JobSubmission", "Sendout", "Appointment", "Placement", "ClientCorporation", "ClientContact"}

// SubscriptionEventTypes are the change types the connector subscribes to.
var SubscriptionEventTypes = []string{"INSERTED", "UPDATED", "DELETED"}

// fields are the fields fetched of each entity. They must be real Bullhorn
// fields: Bullhorn refuses the whole GET over one unknown name.
var fields = map[string]string{
	"Candidate":         "id,firstName,lastName,name,email,phone,mobile,status,occupation,companyName,source,address,isDeleted,dateAdded,dateLastModified",
	"ClientCorporation": "id,name,status,phone,companyURL,address,dateAdded,dateLastModified",
	"ClientContact":     "id,firstName,lastName,name,email,phone,occupation,status,clientCorporation,address,isDeleted,dateAdded,dateLastModified",
	"JobOrder":          "id,title,status,isOpen,isPublic,isDeleted,numOpenings,employmentType,clientCorporation,clientContact,startDate,dateEnd,payRate,clientBillRate,salary,salaryUnit,address,dateAdded,dateLastModified,dateClosed",
	"JobSubmission":     "id,candidate,jobOrder,status,source,isDeleted,dateAdded,dateWebResponse,dateLastModified",
	"Placement":         "id,candidate,jobOrder,jobSubmission,status,dateBegin,dateEnd,employmentType,payRate,clientBillRate,salary,salaryUnit,fee,hoursPerDay,onboardingStatus,dateAdded,dateLastModified",
	"Appointment":       "id,type,subject,dateBegin,dateEnd,location,candidateReference,clientContactReference,jobOrder,isDeleted,dateAdded,dateLastModified",
}

// Fetcher fetches Bullhorn records by id; *Client is one.
type Fetcher interface {
	Entities(ctx context.Context, entity string, ids []int64, fields string) ([]map[string]any, error)
}

// MapperConfig configures a Mapper. Status vocabularies differ per Bullhorn
// customer, so each list is per source.
type MapperConfig struct {
	// SourceID goes into every event id, so two sources reading
	// different Bullhorn corporations never collide. Optional.
	SourceID string
	// Tenant is the corporation's name or id for external_refs. Optional.
	Tenant string
	// IDPrefix starts every entity id hirehook sees ("bh_" + Bullhorn id
	// by default).
	IDPrefix string
	// ConfirmedStatuses are the Placement statuses that make
	// placement.confirmed; default ["Approved"].
	ConfirmedStatuses []string
	// EndedStatuses are the Placement statuses that make placement.ended;
	// default ["Completed", "Terminated"].
	EndedStatuses []string
	// InterviewTypes are the Appointment types that are interviews;
	// default ["Interview"].
	InterviewTypes []string
	// WebResponseStatuses are the JobSubmission statuses of a web
	// response (an application rather than a submission); default
	// ["New Lead"].
	WebResponseStatuses []string
	// StageCategories maps JobSubmission statuses to the catalog's stage
	// categories; merged over DefaultStageCategories. Unlisted statuses
	// are "other".
	StageCategories map[string]string
	// Currency is the corporation's currency for rates, Bullhorn keeping
	// it in settings rather than on records; default "USD".
	Currency string
	// Catalog validates every event; default catalog.Default().
	Catalog *catalog.Catalog
	// State remembers statuses between events; default a MemoryState.
	State  LastState
	Logger *slog.Logger
}

// DefaultStageCategories maps Bullhorn's stock JobSubmission statuses.
var DefaultStageCategories = map[string]string{
	"New Lead":            "new",
	"Submitted":           "submitted",
	"Client Submission":   "submitted",
	"Interview Scheduled": "interview",
	"Interviewing":        "interview",
	"Offer Extended":      "offer",
	"Placed":              "hired",
	"Client Rejected":     "rejected",
	"Candidate Rejected":  "rejected",
	"Rejected":            "rejected",
	"Withdrawn":           "withdrawn",
	"Sales Rep Rejected":  "rejected",
}

// Mapper hydrates Bullhorn events (which carry ids only) and maps them onto
// the catalog.
type Mapper struct {
	cfg   MapperConfig
	fetch Fetcher
}

// NewMapper returns a mapper that fetches through f.
func NewMapper(f Fetcher, cfg MapperConfig) *Mapper {
	if cfg.IDPrefix == "" {
		cfg.IDPrefix = "bh_"
	}
	if len(cfg.ConfirmedStatuses) == 0 {
		cfg.ConfirmedStatuses = []string{"Approved"}
	}
	if len(cfg.EndedStatuses) == 0 {
		cfg.EndedStatuses = []string{"Completed", "Terminated"}
	}
	if len(cfg.InterviewTypes) == 0 {
		cfg.InterviewTypes = []string{"Interview"}
	}
	if len(cfg.WebResponseStatuses) == 0 {
		cfg.WebResponseStatuses = []string{"New Lead"}
	}
	cats := make(map[string]string, len(DefaultStageCategories)+len(cfg.StageCategories))
	for k, v := range DefaultStageCategories {
		cats[k] = v
	}
	for k, v := range cfg.StageCategories {
		cats[k] = v
	}
	cfg.StageCategories = cats
	if cfg.Currency == "" {
		cfg.Currency = "USD"
	}
	if cfg.Catalog == nil {
		cfg.Catalog = catalog.Default()
	}
	if cfg.State == nil {
		cfg.State = &MemoryState{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Mapper{cfg: cfg, fetch: f}
}

// Origin says where an emitted event came from. hirehook.Event has only a
// Source string (set to "bullhorn"); Origin is the rest, for the lead to
// store once Event grows a field for it.
type Origin struct {
	System   string // "bullhorn"
	Entity   string // Bullhorn entity, "Placement"
	EntityID int64
	EventID  string // Bullhorn eventId
	Change   string // INSERTED, UPDATED or DELETED
	// Derived is true when hirehook inferred the type from the record
	// (placement.confirmed from a status), rather than it following from
	// the change type alone.
	Derived bool
}

// Result is what Map made of a batch.
type Result struct {
	Events  []*hirehook.Event
	Origins []Origin // Origins[i] is where Events[i] came from
	// States are the LastState updates owed once Events are emitted.
	States []StateUpdate
	// Skipped counts events with no catalog type (Sendout, a deleted
	// placement, a non-interview appointment) or whose record is gone.
	Skipped int
	// Invalid counts events dropped because the data failed the catalog's
	// schema; each is logged.
	Invalid int
}

// records caches fetched records by entity and id.
type records map[string]map[int64]map[string]any

func (r records) get(entity string, id int64) map[string]any {
	return r[entity][id]
}

// Map hydrates events and maps them. It fails only when a fetch fails, so
// that the batch is read again; a record that is gone is skipped.
func (m *Mapper) Map(ctx context.Context, events []Event) (*Result, error) {
	recs, err := m.hydrate(ctx, events)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	overlay := map[string]string{} // statuses seen earlier in this batch
	for _, ev := range events {
		outs, err := m.mapOne(ctx, ev, recs, overlay, res)
		if err != nil {
			return nil, err
		}
		if len(outs) == 0 {
			res.Skipped++
			continue
		}
		for _, o := range outs {
			e, err := m.event(ev, o)
			if err != nil {
				res.Invalid++
				m.cfg.Logger.Error("bullhorn event maps to invalid data; dropped",
					"bullhorn_event_id", ev.EventID, "entity", ev.EntityName, "entity_id", ev.EntityID, "type", o.typ, "error", err)
				continue
			}
			res.Events = append(res.Events, e)
			res.Origins = append(res.Origins, Origin{System: System, Entity: ev.EntityName, EntityID: ev.EntityID, EventID: ev.EventID, Change: ev.EntityEventType, Derived: o.derived})
		}
	}
	return res, nil
}

// hydrate fetches the records the events are about, then the records those
// point at (candidates and job orders, then client corporations), each
// entity in as few GETs as the id batching allows.
func (m *Mapper) hydrate(ctx context.Context, events []Event) (records, error) {
	recs := records{}
	want := map[string][]int64{}
	for _, ev := range events {
		if ev.EntityEventType == "DELETED" || fields[ev.EntityName] == "" {
			continue
		}
		if !slices.Contains(want[ev.EntityName], ev.EntityID) {
			want[ev.EntityName] = append(want[ev.EntityName], ev.EntityID)
		}
	}
	if err := m.fetchAll(ctx, recs, want); err != nil {
		return nil, err
	}
	want = map[string][]int64{}
	add := func(entity string, rec map[string]any, field string) {
		if id, ok := refID(rec[field]); ok && recs.get(entity, id) == nil && !slices.Contains(want[entity], id) {
			want[entity] = append(want[entity], id)
		}
	}
	for _, rec := range recs["Placement"] {
		add("Candidate", rec, "candidate")
		add("JobOrder", rec, "jobOrder")
	}
	for _, rec := range recs["JobSubmission"] {
		add("Candidate", rec, "candidate")
		add("JobOrder", rec, "jobOrder")
	}
	for _, rec := range recs["Appointment"] {
		add("Candidate", rec, "candidateReference")
		add("JobOrder", rec, "jobOrder")
	}
	if err := m.fetchAll(ctx, recs, want); err != nil {
		return nil, err
	}
	want = map[string][]int64{}
	for _, rec := range recs["JobOrder"] {
		add("ClientCorporation", rec, "clientCorporation")
	}
	for _, rec := range recs["ClientContact"] {
		add("ClientCorporation", rec, "clientCorporation")
	}
	if err := m.fetchAll(ctx, recs, want); err != nil {
		return nil, err
	}
	return recs, nil
}

func (m *Mapper) fetchAll(ctx context.Context, recs records, want map[string][]int64) error {
	for entity, ids := range want {
		got, err := m.fetch.Entities(ctx, entity, ids, fields[entity])
		if err != nil {
			return err
		}
		if recs[entity] == nil {
			recs[entity] = map[int64]map[string]any{}
		}
		for _, rec := range got {
			if id, ok := num(rec["id"]); ok {
				recs[entity][int64(id)] = rec
			}
		}
	}
	return nil
}

// out is one catalog event to make of a Bullhorn event.
type out struct {
	typ     string
	data    map[string]any
	changes map[string]hirehook.Change
	derived bool
}

// lastStatus returns the status of entity id before this event: from
// earlier in the batch, else from the LastState.
func (m *Mapper) lastStatus(ctx context.Context, overlay map[string]string, entity string, id int64) (string, bool, error) {
	if s, ok := overlay[stateKey(entity, id)]; ok {
		return s, true, nil
	}
	return m.cfg.State.LastStatus(ctx, entity, id)
}

func (m *Mapper) setStatus(overlay map[string]string, res *Result, entity string, id int64, status string) {
	overlay[stateKey(entity, id)] = status
	res.States = append(res.States, StateUpdate{Entity: entity, ID: id, Status: status})
}

func (m *Mapper) mapOne(ctx context.Context, ev Event, recs records, overlay map[string]string, res *Result) ([]out, error) {
	deleted := ev.EntityEventType == "DELETED"
	rec := recs.get(ev.EntityName, ev.EntityID)
	if !deleted && rec == nil {
		// Deleted since the event; its DELETED event follows.
		return nil, nil
	}
	softDeleted := ev.EntityEventType == "UPDATED" && has(ev.UpdatedProperties, "isDeleted") && truthy(rec["isDeleted"])
	id := m.id(ev.EntityID)
	switch ev.EntityName {
	case "Candidate":
		switch {
		case deleted || softDeleted:
			return []out{{typ: "candidate.deleted", data: m.withRefs(ev.EntityID, map[string]any{"id": id})}}, nil
		case ev.EntityEventType == "INSERTED":
			return []out{{typ: "candidate.created", data: m.candidate(rec)}}, nil
		default:
			return []out{{typ: "candidate.updated", data: m.candidate(rec)}}, nil
		}

	case "ClientCorporation":
		switch {
		case deleted || softDeleted:
			return []out{{typ: "client.deleted", data: m.withRefs(ev.EntityID, map[string]any{"id": id})}}, nil
		case ev.EntityEventType == "INSERTED":
			return []out{{typ: "client.created", data: m.client(rec)}}, nil
		}
		return []out{{typ: "client.updated", data: m.client(rec)}}, nil

	case "ClientContact":
		switch {
		case deleted || softDeleted:
			return []out{{typ: "contact.deleted", data: m.withRefs(ev.EntityID, map[string]any{"id": id})}}, nil
		case ev.EntityEventType == "INSERTED":
			return []out{{typ: "contact.created", data: m.contact(rec, recs)}}, nil
		}
		return []out{{typ: "contact.updated", data: m.contact(rec, recs)}}, nil

	case "JobOrder":
		return m.mapJob(ev, rec, recs, deleted || softDeleted), nil

	case "JobSubmission":
		if deleted || softDeleted {
			return []out{{typ: "application.deleted", data: m.withRefs(ev.EntityID, map[string]any{"id": id})}}, nil
		}
		status := str(rec["status"])
		data := m.application(rec, recs)
		if ev.EntityEventType == "INSERTED" {
			m.setStatus(overlay, res, "JobSubmission", ev.EntityID, status)
			return []out{{typ: "application.created", data: data}}, nil
		}
		prev, known, err := m.lastStatus(ctx, overlay, "JobSubmission", ev.EntityID)
		if err != nil {
			return nil, fmt.Errorf("last status of JobSubmission %d: %w", ev.EntityID, err)
		}
		changed := known && prev != status || !known && has(ev.UpdatedProperties, "status")
		m.setStatus(overlay, res, "JobSubmission", ev.EntityID, status)
		if !changed {
			return []out{{typ: "application.updated", data: data}}, nil
		}
		data["stage_changed_at"] = rfc3339(ev.EventTimestamp)
		var from any
		if known {
			from = prev
			data["previous_stage"] = m.stage(prev)
		}
		return []out{{typ: "application.stage_changed", data: data, changes: change("status", from, status), derived: true}}, nil

	case "Placement":
		if deleted || softDeleted {
			return []out{{typ: "placement.deleted", data: m.withRefs(ev.EntityID, map[string]any{"id": id})}}, nil
		}
		status := str(rec["status"])
		data := m.placement(rec, recs)
		if ev.EntityEventType == "INSERTED" {
			m.setStatus(overlay, res, "Placement", ev.EntityID, status)
			outs := []out{{typ: "placement.created", data: data}}
			// Created already approved (or approved before this batch
			// was read: the record is hydrated as it is now): the
			// confirmation must not be lost to the insert.
			if slices.Contains(m.cfg.ConfirmedStatuses, status) {
				conf := maps.Clone(data)
				conf["confirmed_at"] = rfc3339(ev.EventTimestamp)
				outs = append(outs, out{typ: "placement.confirmed", data: conf, changes: change("status", nil, status), derived: true})
			}
			return outs, nil
		}
		prev, known, err := m.lastStatus(ctx, overlay, "Placement", ev.EntityID)
		if err != nil {
			return nil, fmt.Errorf("last status of Placement %d: %w", ev.EntityID, err)
		}
		changed := known && prev != status || !known && has(ev.UpdatedProperties, "status")
		m.setStatus(overlay, res, "Placement", ev.EntityID, status)
		if !changed {
			return []out{{typ: "placement.updated", data: data}}, nil
		}
		var from any
		if known {
			from = prev
		}
		ch := change("status", from, status)
		switch {
		case slices.Contains(m.cfg.ConfirmedStatuses, status):
			data["confirmed_at"] = rfc3339(ev.EventTimestamp)
			return []out{{typ: "placement.confirmed", data: data, changes: ch, derived: true}}, nil
		case slices.Contains(m.cfg.EndedStatuses, status):
			data["ended_at"] = rfc3339(ev.EventTimestamp)
			data["end_reason"] = strings.ToLower(status)
			return []out{{typ: "placement.ended", data: data, changes: ch, derived: true}}, nil
		}
		return []out{{typ: "placement.updated", data: data, changes: ch}}, nil

	case "Appointment":
		wasInterview, _, err := m.lastStatus(ctx, overlay, "Appointment", ev.EntityID)
		if err != nil {
			return nil, fmt.Errorf("last state of Appointment %d: %w", ev.EntityID, err)
		}
		if deleted {
			// The record is gone, so only the remembered type tells
			// whether it was an interview.
			if wasInterview != "interview" {
				return nil, nil
			}
			m.setStatus(overlay, res, "Appointment", ev.EntityID, "cancelled")
			return []out{{typ: "interview.cancelled", data: m.withRefs(ev.EntityID, map[string]any{"id": id, "status": "cancelled", "cancelled_at": rfc3339(ev.EventTimestamp)}), derived: true}}, nil
		}
		if !slices.Contains(m.cfg.InterviewTypes, str(rec["type"])) {
			return nil, nil
		}
		data := m.interview(rec, recs)
		switch {
		case softDeleted:
			m.setStatus(overlay, res, "Appointment", ev.EntityID, "cancelled")
			data["status"], data["cancelled_at"] = "cancelled", rfc3339(ev.EventTimestamp)
			return []out{{typ: "interview.cancelled", data: data, derived: true}}, nil
		case ev.EntityEventType == "INSERTED" || wasInterview != "interview":
			m.setStatus(overlay, res, "Appointment", ev.EntityID, "interview")
			return []out{{typ: "interview.scheduled", data: data, derived: ev.EntityEventType != "INSERTED"}}, nil
		case hasAny(ev.UpdatedProperties, "dateBegin", "dateEnd", "location"):
			return []out{{typ: "interview.rescheduled", data: data}}, nil
		}
		return []out{{typ: "interview.updated", data: data}}, nil
	}
	return nil, nil // Sendout and anything else: no catalog type yet
}

func (m *Mapper) mapJob(ev Event, rec map[string]any, recs records, deleted bool) []out {
	if deleted {
		return []out{{typ: "job.deleted", data: m.withRefs(ev.EntityID, map[string]any{"id": m.id(ev.EntityID)})}}
	}
	data := m.job(rec, recs)
	if ev.EntityEventType == "INSERTED" {
		outs := []out{{typ: "job.created", data: data}}
		if isPublic(rec) {
			outs = append(outs, out{typ: "job.posted", data: m.posting(ev, rec, true), derived: true})
		}
		return outs
	}
	var outs []out
	if has(ev.UpdatedProperties, "isOpen") {
		if truthy(rec["isOpen"]) {
			data["opened_at"] = rfc3339(ev.EventTimestamp)
			outs = append(outs, out{typ: "job.opened", data: data, changes: change("isOpen", false, true), derived: true})
		} else {
			data["closed_at"] = rfc3339(ev.EventTimestamp)
			data["close_reason"] = nullable(strings.ToLower(str(rec["status"])))
			outs = append(outs, out{typ: "job.closed", data: data, changes: change("isOpen", true, false), derived: true})
		}
	}
	if has(ev.UpdatedProperties, "isPublic") {
		if isPublic(rec) {
			outs = append(outs, out{typ: "job.posted", data: m.posting(ev, rec, true), derived: true})
		} else {
			outs = append(outs, out{typ: "job.unposted", data: m.posting(ev, rec, false), derived: true})
		}
	}
	rest := slices.DeleteFunc(slices.Clone(ev.UpdatedProperties), func(p string) bool { return p == "isOpen" || p == "isPublic" })
	if len(outs) == 0 || len(rest) > 0 {
		outs = append(outs, out{typ: "job.updated", data: data})
	}
	return outs
}

// event turns one out into a validated hirehook event.
func (m *Mapper) event(ev Event, o out) (*hirehook.Event, error) {
	data, err := json.Marshal(o.data)
	if err != nil {
		return nil, fmt.Errorf("encode %s data: %w", o.typ, err)
	}
	entity, subjectID, err := m.cfg.Catalog.ValidateEvent(o.typ, data)
	if err != nil {
		return nil, err
	}
	e := &hirehook.Event{
		ID:         m.eventID(ev, o.typ),
		Type:       o.typ,
		OccurredAt: time.UnixMilli(ev.EventTimestamp).UTC(),
		Source:     System,
		Subject:    hirehook.Subject{Entity: entity, ID: subjectID},
		Data:       data,
		Derived:    o.derived,
	}
	if len(o.changes) > 0 {
		if e.Changes, err = json.Marshal(o.changes); err != nil {
			return nil, fmt.Errorf("encode %s changes: %w", o.typ, err)
		}
	}
	return e, nil
}

// eventID is deterministic, so that hirehook's ingest (which accepts an id
// once) drops an event emitted twice across a crash. One Bullhorn event may
// make several catalog events (job.closed and job.unposted), hence the type.
func (m *Mapper) eventID(ev Event, typ string) string {
	var b strings.Builder
	b.WriteString("bh:")
	if m.cfg.SourceID != "" {
		b.WriteString(m.cfg.SourceID + ":")
	}
	b.WriteString(ev.EventID + ":" + strings.ReplaceAll(typ, ".", "_"))
	id := []byte(b.String())
	for i, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == ':') {
			id[i] = '_'
		}
	}
	if len(id) > 128 {
		id = id[len(id)-128:]
	}
	return string(id)
}

// ---- entity mapping ----

func (m *Mapper) id(bhID int64) string { return m.cfg.IDPrefix + strconv.FormatInt(bhID, 10) }

func (m *Mapper) refIDOf(v any) any {
	if id, ok := refID(v); ok {
		return m.id(id)
	}
	return nil
}

func (m *Mapper) withRefs(bhID int64, data map[string]any) map[string]any {
	ref := map[string]any{"system": System, "id": strconv.FormatInt(bhID, 10)}
	if m.cfg.Tenant != "" {
		ref["tenant"] = m.cfg.Tenant
	}
	data["external_refs"] = []any{ref}
	return data
}

func (m *Mapper) base(rec map[string]any) map[string]any {
	bhID, _ := num(rec["id"])
	return m.withRefs(int64(bhID), map[string]any{
		"id":         m.id(int64(bhID)),
		"created_at": rfc3339Any(rec["dateAdded"]),
		"updated_at": rfc3339Any(rec["dateLastModified"]),
	})
}

func (m *Mapper) candidate(rec map[string]any) map[string]any {
	d := m.base(rec)
	d["first_name"] = nullable(str(rec["firstName"]))
	d["last_name"] = nullable(str(rec["lastName"]))
	d["name"] = nullable(str(rec["name"]))
	d["email"] = email(rec["email"])
	d["phone"] = nullable(firstNonEmpty(str(rec["mobile"]), str(rec["phone"])))
	d["status"] = nullable(str(rec["status"]))
	d["headline"] = nullable(str(rec["occupation"]))
	d["company"] = nullable(str(rec["companyName"]))
	d["source"] = nullable(str(rec["source"]))
	d["location"] = location(rec["address"])
	return d
}

func (m *Mapper) candidateSummary(rec map[string]any) any {
	if rec == nil {
		return nil
	}
	bhID, _ := num(rec["id"])
	return map[string]any{
		"id":         m.id(int64(bhID)),
		"first_name": nullable(str(rec["firstName"])),
		"last_name":  nullable(str(rec["lastName"])),
		"email":      email(rec["email"]),
		"phone":      nullable(firstNonEmpty(str(rec["mobile"]), str(rec["phone"]))),
	}
}

func (m *Mapper) client(rec map[string]any) map[string]any {
	d := m.base(rec)
	d["name"] = nullable(str(rec["name"]))
	d["status"] = nullable(str(rec["status"]))
	d["phone"] = nullable(str(rec["phone"]))
	d["website"] = nullable(str(rec["companyURL"]))
	d["address"] = location(rec["address"])
	return d
}

func (m *Mapper) clientSummary(rec map[string]any) any {
	if rec == nil {
		return nil
	}
	bhID, _ := num(rec["id"])
	return map[string]any{"id": m.id(int64(bhID)), "name": nullable(str(rec["name"]))}
}

func (m *Mapper) contact(rec map[string]any, recs records) map[string]any {
	d := m.base(rec)
	d["first_name"] = nullable(str(rec["firstName"]))
	d["last_name"] = nullable(str(rec["lastName"]))
	d["name"] = nullable(str(rec["name"]))
	d["title"] = nullable(str(rec["occupation"]))
	d["email"] = email(rec["email"])
	d["phone"] = nullable(str(rec["phone"]))
	d["status"] = nullable(str(rec["status"]))
	d["address"] = location(rec["address"])
	d["client_id"] = m.refIDOf(rec["clientCorporation"])
	if cid, ok := refID(rec["clientCorporation"]); ok {
		d["client"] = m.clientSummary(recs.get("ClientCorporation", cid))
	}
	return d
}

func (m *Mapper) job(rec map[string]any, recs records) map[string]any {
	d := m.base(rec)
	d["title"] = nullable(str(rec["title"]))
	d["status"] = nullable(str(rec["status"]))
	d["employment_type"] = employmentType(str(rec["employmentType"]))
	if n, ok := num(rec["numOpenings"]); ok && n >= 0 {
		d["openings"] = int(n)
	}
	d["client_id"] = m.refIDOf(rec["clientCorporation"])
	if cid, ok := refID(rec["clientCorporation"]); ok {
		d["client"] = m.clientSummary(recs.get("ClientCorporation", cid))
	}
	d["contact_id"] = m.refIDOf(rec["clientContact"])
	d["start_date"] = dateAny(rec["startDate"])
	d["end_date"] = dateAny(rec["dateEnd"])
	unit := rateUnit(str(rec["salaryUnit"]))
	d["pay_rate"] = m.money(rec["payRate"], unit)
	d["bill_rate"] = m.money(rec["clientBillRate"], unit)
	d["closed_at"] = rfc3339Any(rec["dateClosed"])
	if loc := location(rec["address"]); loc != nil {
		d["locations"] = []any{loc}
	}
	return d
}

func (m *Mapper) jobSummary(rec map[string]any) any {
	if rec == nil {
		return nil
	}
	bhID, _ := num(rec["id"])
	return map[string]any{"id": m.id(int64(bhID)), "title": nullable(str(rec["title"]))}
}

func (m *Mapper) posting(ev Event, rec map[string]any, live bool) map[string]any {
	d := m.base(rec)
	d["job_id"] = d["id"]
	d["job"] = m.jobSummary(rec)
	d["title"] = nullable(str(rec["title"]))
	d["board"] = "bullhorn"
	d["employment_type"] = employmentType(str(rec["employmentType"]))
	if live {
		d["status"], d["published_at"] = "published", rfc3339(ev.EventTimestamp)
	} else {
		d["status"], d["unpublished_at"] = "unpublished", rfc3339(ev.EventTimestamp)
	}
	return d
}

// clientOfJob returns the summary of the client behind job order rec.
func (m *Mapper) clientOfJob(job map[string]any, recs records) (any, any) {
	if job == nil {
		return nil, nil
	}
	cid, ok := refID(job["clientCorporation"])
	if !ok {
		return nil, nil
	}
	if c := recs.get("ClientCorporation", cid); c != nil {
		return m.id(cid), m.clientSummary(c)
	}
	return m.id(cid), map[string]any{"id": m.id(cid)}
}

func (m *Mapper) stage(status string) any {
	if status == "" {
		return nil
	}
	cat, ok := m.cfg.StageCategories[status]
	if !ok {
		cat = "other"
	}
	return map[string]any{"name": status, "category": cat}
}

func (m *Mapper) application(rec map[string]any, recs records) map[string]any {
	d := m.base(rec)
	status := str(rec["status"])
	if slices.Contains(m.cfg.WebResponseStatuses, status) {
		d["kind"] = "application"
		d["applied_at"] = rfc3339Any(rec["dateWebResponse"])
	} else {
		d["kind"] = "submission"
		d["submitted_at"] = rfc3339Any(rec["dateAdded"])
	}
	d["stage"] = m.stage(status)
	d["source"] = nullable(str(rec["source"]))
	d["candidate_id"] = m.refIDOf(rec["candidate"])
	if id, ok := refID(rec["candidate"]); ok {
		d["candidate"] = m.candidateSummary(recs.get("Candidate", id))
	}
	d["job_id"] = m.refIDOf(rec["jobOrder"])
	if id, ok := refID(rec["jobOrder"]); ok {
		job := recs.get("JobOrder", id)
		d["job"] = m.jobSummary(job)
		d["client_id"], d["client"] = m.clientOfJob(job, recs)
	}
	return d
}

func (m *Mapper) placement(rec map[string]any, recs records) map[string]any {
	d := m.base(rec)
	d["status"] = nullable(str(rec["status"]))
	d["employment_type"] = employmentType(str(rec["employmentType"]))
	d["start_date"] = dateAny(rec["dateBegin"])
	d["end_date"] = dateAny(rec["dateEnd"])
	d["candidate_id"] = m.refIDOf(rec["candidate"])
	if id, ok := refID(rec["candidate"]); ok {
		d["candidate"] = m.candidateSummary(recs.get("Candidate", id))
	}
	d["job_id"] = m.refIDOf(rec["jobOrder"])
	if id, ok := refID(rec["jobOrder"]); ok {
		job := recs.get("JobOrder", id)
		d["job"] = m.jobSummary(job)
		d["client_id"], d["client"] = m.clientOfJob(job, recs)
	}
	d["application_id"] = m.refIDOf(rec["jobSubmission"])
	unit := rateUnit(str(rec["salaryUnit"]))
	d["pay_rate"] = m.money(rec["payRate"], unit)
	d["bill_rate"] = m.money(rec["clientBillRate"], unit)
	d["salary"] = m.money(rec["salary"], "year")
	if f, ok := num(rec["fee"]); ok && f >= 0 && f <= 1 {
		// Bullhorn keeps the fee as a fraction: 0.2 is 20 %.
		d["fee_percent"] = math.Round(f*10000) / 100
	}
	if h, ok := num(rec["hoursPerDay"]); ok && h > 0 && h <= 24 {
		d["hours_per_week"] = h * 5
	}
	d["onboarding_status"] = nullable(str(rec["onboardingStatus"]))
	return d
}

func (m *Mapper) interview(rec map[string]any, recs records) map[string]any {
	d := m.base(rec)
	d["title"] = nullable(str(rec["subject"]))
	d["status"] = "scheduled"
	d["start_at"] = rfc3339Any(rec["dateBegin"])
	d["end_at"] = rfc3339Any(rec["dateEnd"])
	d["location"] = nullable(str(rec["location"]))
	d["candidate_id"] = m.refIDOf(rec["candidateReference"])
	if id, ok := refID(rec["candidateReference"]); ok {
		d["candidate"] = m.candidateSummary(recs.get("Candidate", id))
	}
	d["job_id"] = m.refIDOf(rec["jobOrder"])
	if id, ok := refID(rec["jobOrder"]); ok {
		job := recs.get("JobOrder", id)
		d["job"] = m.jobSummary(job)
		_, d["client"] = m.clientOfJob(job, recs)
	}
	return d
}

func (m *Mapper) money(v any, unit string) any {
	amt, ok := num(v)
	if !ok || amt <= 0 {
		return nil
	}
	out := map[string]any{"amount": amt, "currency": m.cfg.Currency}
	if unit != "" {
		out["unit"] = unit
	}
	return out
}

// ---- value helpers ----

func num(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// refID reads the id of a to-one association, {"id": n}.
func refID(v any) (int64, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return 0, false
	}
	f, ok := num(m["id"])
	if !ok || f <= 0 {
		return 0, false
	}
	return int64(f), true
}

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// email returns v if it is a plain valid address: Bullhorn does not check,
// and the catalog does.
func email(v any) any {
	s := str(v)
	if s == "" {
		return nil
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return nil
	}
	return s
}

// truthy reads Bullhorn booleans, which some fields hold as 0/1.
func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case float64:
		return x != 0
	case string:
		return x == "true" || x == "1"
	}
	return false
}

// isPublic reads JobOrder.isPublic: 1 is on the job board, 0 is not, -1
// is submitted for approval.
func isPublic(rec map[string]any) bool {
	n, ok := num(rec["isPublic"])
	if ok {
		return n == 1
	}
	return truthy(rec["isPublic"])
}

func rfc3339(ms int64) any {
	if ms <= 0 {
		return nil
	}
	return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano)
}

func rfc3339Any(v any) any {
	f, ok := num(v)
	if !ok {
		return nil
	}
	return rfc3339(int64(f))
}

// dateAny renders a Bullhorn timestamp (epoch milliseconds) as a date. The
// corporation's time zone is not in the record; UTC is used.
func dateAny(v any) any {
	f, ok := num(v)
	if !ok || f <= 0 {
		return nil
	}
	return time.UnixMilli(int64(f)).UTC().Format(time.DateOnly)
}

func location(v any) any {
	a, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	loc := map[string]any{
		"line1":       nullable(str(a["address1"])),
		"line2":       nullable(str(a["address2"])),
		"city":        nullable(str(a["city"])),
		"region":      nullable(str(a["state"])),
		"postal_code": nullable(str(a["zip"])),
		"country":     nullable(firstNonEmpty(str(a["countryCode"]), str(a["countryName"]))),
	}
	for _, v := range loc {
		if v != nil {
			return loc
		}
	}
	return nil
}

func employmentType(s string) any {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return nil
	case "permanent", "direct hire", "perm":
		return "permanent"
	case "contract":
		return "contract"
	case "temp", "temporary":
		return "temp"
	case "contract to hire", "contract-to-hire":
		return "contract_to_hire"
	case "temp to perm", "temp-to-perm":
		return "temp_to_perm"
	}
	return "other"
}

func rateUnit(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "per hour", "hourly", "hour":
		return "hour"
	case "per day", "daily", "day":
		return "day"
	case "per week", "weekly", "week":
		return "week"
	case "per month", "monthly", "month":
		return "month"
	case "per year", "yearly", "annual", "year":
		return "year"
	}
	return ""
}

func has(list []string, s string) bool { return slices.Contains(list, s) }

func hasAny(list []string, ss ...string) bool {
	for _, s := range ss {
		if slices.Contains(list, s) {
			return true
		}
	}
	return false
}

func change(field string, from, to any) map[string]hirehook.Change {
	f, _ := json.Marshal(from)
	t, _ := json.Marshal(to)
	return map[string]hirehook.Change{field: {From: f, To: t}}
}

// ToInput returns e as the EventInput that POST /v1/events takes, for an
// EmitFunc that goes through the ingester's Prepare.
func ToInput(e *hirehook.Event) (*hirehook.EventInput, error) { return e.Input() }
