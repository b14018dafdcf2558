package postgres

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/hirehook/hirehook"
)

var _ hirehook.NodeRegistry = (*Store)(nil)

// NodeHeartbeat implements hirehook.NodeRegistry. Times are the database's
// (now()), so that nodes with skewed clocks agree on who is alive.
//
// A node silent for p.LeaseTTL is forgotten, and its leases end at its last
// heartbeat in the same statement, which notifies the nodes: a node that
// died holding deliveries (kill -9, a lost machine) hands them to the live
// ones within LeaseTTL, not after its leases' full length. They are taken
// as any expired lease is (see qClaim).
func (s *Store) NodeHeartbeat(ctx context.Context, p hirehook.NodeHeartbeatParams) ([]string, error) {
	if p.Node == "" || p.TTL <= 0 {
		return nil, hirehook.Errorf(hirehook.EINVALID, "NodeHeartbeat needs a node name and a positive TTL.")
	}
	leaseTTL := max(p.LeaseTTL, p.TTL)
	var live []string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		live = live[:0]
		if _, err := tx.ExecContext(ctx, `INSERT INTO nodes (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()`, p.Node); err != nil {
			return fmt.Errorf("heartbeat node %s: %w", p.Node, err)
		}
		if _, err := tx.ExecContext(ctx, `WITH gone AS (
				DELETE FROM nodes WHERE heartbeat_at < now() - make_interval(secs => $1) RETURNING id, heartbeat_at
			), freed AS (
				UPDATE deliveries SET lease_expires_at = gone.heartbeat_at FROM gone
				WHERE deliveries.state = 'delivering' AND deliveries.lease_owner = gone.id
				AND deliveries.lease_expires_at > gone.heartbeat_at
				RETURNING 1
			) `+qNotify+` WHERE EXISTS (SELECT 1 FROM freed)`, leaseTTL.Seconds()); err != nil {
			return fmt.Errorf("forget silent nodes: %w", err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT id FROM nodes WHERE heartbeat_at >= now() - make_interval(secs => $1) ORDER BY id`, p.TTL.Seconds())
		if err != nil {
			return fmt.Errorf("list nodes: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			live = append(live, id)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return live, nil
}

// NodeLeave implements hirehook.NodeRegistry.
func (s *Store) NodeLeave(ctx context.Context, node string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM nodes WHERE id = $1`, node); err != nil {
		return fmt.Errorf("remove node %s: %w", node, err)
	}
	return nil
}
