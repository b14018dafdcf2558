package postgres

import (
	"context"
	"errors"

	"github.com/hirehook/hirehook"
)

// The inbound request log is being written (issue 7); these stubs keep the
// tree building until it lands.

var errInboundTODO = errors.New("inbound request log not implemented yet")

// InboundCreate implements hirehook.Store.
func (s *Store) InboundCreate(ctx context.Context, r *hirehook.InboundRequest) error {
	return errInboundTODO
}

// InboundGet implements hirehook.Store.
func (s *Store) InboundGet(ctx context.Context, tenantID, sourceID, id string) (*hirehook.InboundRequest, error) {
	return nil, errInboundTODO
}

// InboundList implements hirehook.Store.
func (s *Store) InboundList(ctx context.Context, f hirehook.InboundFilter) ([]*hirehook.InboundRequest, error) {
	return nil, errInboundTODO
}

// InboundUpdate implements hirehook.Store.
func (s *Store) InboundUpdate(ctx context.Context, p hirehook.InboundUpdateParams) error {
	return errInboundTODO
}

// InboundClaim implements hirehook.Store.
func (s *Store) InboundClaim(ctx context.Context, p hirehook.InboundClaimParams) ([]*hirehook.InboundRequest, error) {
	return nil, errInboundTODO
}

// InboundReprocess implements hirehook.Store.
func (s *Store) InboundReprocess(ctx context.Context, p hirehook.InboundReprocessParams) (int, error) {
	return 0, errInboundTODO
}

// InboundStats implements hirehook.Store.
func (s *Store) InboundStats(ctx context.Context, tenantID string) (map[string]*hirehook.InboundStats, error) {
	return nil, errInboundTODO
}
