package api

import (
	"net/http"

	"github.com/hirehook/hirehook"
)

// DestinationKindView is one kind of destination an endpoint may have, with
// the fields of its config and credentials: what GET
// /v1/destination-kinds lists, for forms and SDKs.
type DestinationKindView struct {
	Name        string                 `json:"name"`
	Title       string                 `json:"title"`
	Config      []DestinationFieldView `json:"config"`
	Credentials []DestinationFieldView `json:"credentials"`
}

// DestinationFieldView is one field of a DestinationKindView.
type DestinationFieldView struct {
	Name     string `json:"name"`
	Required bool   `json:"required"`
	Help     string `json:"help"`
}

// destinationKindViews lists http (a url, no fields) and every broker kind.
func destinationKindViews() []DestinationKindView {
	out := []DestinationKindView{{Name: hirehook.KindHTTP, Title: "Webhook (HTTP POST to url)", Config: []DestinationFieldView{}, Credentials: []DestinationFieldView{}}}
	for _, k := range hirehook.DestinationKinds {
		v := DestinationKindView{Name: k.Name, Title: k.Title, Config: fieldViews(k.Config), Credentials: fieldViews(k.Credentials)}
		out = append(out, v)
	}
	return out
}

func fieldViews(fields []hirehook.DestinationField) []DestinationFieldView {
	out := make([]DestinationFieldView, len(fields))
	for i, f := range fields {
		out[i] = DestinationFieldView{Name: f.Name, Required: f.Required, Help: f.Help}
	}
	return out
}

func (h *Handler) handleDestinationKindList(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, List[DestinationKindView]{Data: destinationKindViews()})
}
