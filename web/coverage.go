package web

import (
	"net/http"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/catalog"
)

// coveragePage is the data of the Coverage page: every catalog type (rows,
// grouped by entity) against every endpoint (columns).
type coveragePage struct {
	Columns []coverageColumn
	Groups  []coverageGroup
	// HubGroups holds the hub's operational types (endpoint.*,
	// delivery.*), shown apart: the hub emits them about itself, so an
	// endpoint not receiving them is a choice, not a gap. They count in
	// neither Uncovered nor Types.
	HubGroups []coverageGroup
	// Uncovered counts the types no enabled endpoint receives.
	Uncovered, Types int
	// Colspan spans a group's heading row over the whole table.
	Colspan int
	// GapsOnly is set by ?gaps=1: Groups then hold only the types no
	// enabled endpoint receives, and the hub's types are left out (they
	// are never gaps). Uncovered and Types still count every type.
	GapsOnly bool
}

// coverageMatrix is one table of the Coverage page: the page's columns
// against some of its groups. Hub is set for the hub's operational types,
// whose rows without receivers are not gaps.
type coverageMatrix struct {
	Page   coveragePage
	Groups []coverageGroup
	Hub    bool
}

func newCoverageMatrix(p coveragePage, groups []coverageGroup, hub bool) coverageMatrix {
	return coverageMatrix{Page: p, Groups: groups, Hub: hub}
}

type coverageColumn struct {
	Endpoint *hirehook.Endpoint
	Health   Health
	// Behind is set when the endpoint owes deliveries that have waited
	// past the degraded threshold.
	Behind     bool
	Unfinished int
}

type coverageGroup struct {
	Entity string
	Rows   []coverageRow
}

type coverageRow struct {
	Type        string
	Description string
	Cells       []coverageCell
	// Receivers counts the enabled endpoints the type reaches.
	Receivers int
}

type coverageCell struct {
	// State is "on" (the endpoint receives the type), "paused" (it
	// subscribes but is disabled) or "" (it does not subscribe).
	State string
	Title string
}

func (h *Handler) handleCoverage(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	now := h.cfg.NowFunc().UTC()
	eps, stats, _, err := h.endpointStats(r.Context(), p.tenantID, now)
	if err != nil {
		h.error(w, r, err)
		return
	}
	page := coveragePage{Colspan: len(eps) + 2, GapsOnly: r.URL.Query().Get("gaps") == "1"}
	for _, ep := range eps {
		st := stats[ep.ID]
		col := coverageColumn{Endpoint: ep, Health: healthOf(ep, st, now), Unfinished: st.Unfinished()}
		col.Behind = st.OldestUnfinishedAt != nil && now.Sub(*st.OldestUnfinishedAt) >= degradedBacklogAge
		page.Columns = append(page.Columns, col)
	}
	for _, g := range typeGroups(h.cfg.Catalog) {
		cg := coverageGroup{Entity: g.Entity}
		hub := len(g.Types) > 0 && catalog.Operational(g.Types[0].Name)
		for _, t := range g.Types {
			if catalog.Snapshot(t.Name) {
				// A backfill sends snapshots to the endpoint that asked,
				// whatever it subscribes to: no gap to show.
				continue
			}
			row := coverageRow{Type: t.Name, Description: t.Description}
			for _, ep := range eps {
				cell := coverageCell{}
				if ep.Subscribes(t.Name) {
					if ep.Disabled {
						cell = coverageCell{State: "paused", Title: endpointLabel(ep) + " subscribes to " + t.Name + " but is disabled"}
					} else {
						cell = coverageCell{State: "on", Title: endpointLabel(ep) + " receives " + t.Name}
						row.Receivers++
					}
				}
				row.Cells = append(row.Cells, cell)
			}
			if !hub {
				if row.Receivers == 0 {
					page.Uncovered++
				}
				page.Types++
			}
			if page.GapsOnly && (hub || row.Receivers > 0) {
				continue
			}
			cg.Rows = append(cg.Rows, row)
		}
		switch {
		case len(cg.Rows) == 0:
		case hub:
			page.HubGroups = append(page.HubGroups, cg)
		default:
			page.Groups = append(page.Groups, cg)
		}
	}
	h.render(w, r, http.StatusOK, "coverage", "Coverage", "coverage", page)
}
