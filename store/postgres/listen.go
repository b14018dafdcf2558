package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/hirehook/hirehook/internal/logkey"
	"time"

	"github.com/jackc/pgx/v5"
)

// NotifyChannel is the channel on which the store announces, with
// pg_notify, that deliveries became due: every node that Listens wakes its
// dispatcher at once instead of at its next poll.
const NotifyChannel = "hirehook_deliveries"

// qNotify is sent inside the transaction that makes deliveries due: the
// notification is delivered when (and only if) it commits, and PostgreSQL
// folds identical notifications of one transaction into one.
const qNotify = `SELECT pg_notify('` + NotifyChannel + `', '')`

// notify announces, in tx, that deliveries are due.
func notify(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, qNotify); err != nil {
		return fmt.Errorf("notify %s: %w", NotifyChannel, err)
	}
	return nil
}

// Listen calls fn whenever a node on this database commits deliveries that
// are due now: an ingest whose deliveries were not handed to its own
// dispatcher, a retry, a recovery, an endpoint re-enabled, deliveries
// released at shutdown. It holds one connection of its own (outside the
// pool) running LISTEN, and calls fn also each time it has (re)connected,
// since notifications sent while it was away are lost. When the connection
// fails it reconnects, waiting 100 ms, doubling up to 10 s. Notifications
// are a wake-up, not a queue: a dispatcher still polls as a fallback. A
// dead node's leases end when the live nodes forget it (NodeHeartbeat),
// which notifies.
//
// fn must not block. Listen returns nil when ctx is done.
func (s *Store) Listen(ctx context.Context, fn func()) error {
	backoff := time.Duration(0)
	for {
		err := s.listenOnce(ctx, fn, func() { backoff = 0 })
		if ctx.Err() != nil {
			return nil
		}
		backoff = min(max(2*backoff, 100*time.Millisecond), 10*time.Second)
		s.logger.Warn("listen for due deliveries", logkey.Channel, NotifyChannel, logkey.Error, err, logkey.RetryIn, backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
	}
}

// listenOnce connects, listens and calls fn for each notification until
// the connection fails or ctx ends. connected is called once LISTEN holds.
func (s *Store) listenOnce(ctx context.Context, fn, connected func()) error {
	conn, err := pgx.ConnectConfig(ctx, s.connConfig.Copy())
	if err != nil {
		return fmt.Errorf("connect to %s: %w", s.name, err)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+NotifyChannel); err != nil {
		return fmt.Errorf("listen on %s: %w", s.name, err)
	}
	connected()
	fn()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return fmt.Errorf("wait for notification on %s: %w", s.name, err)
		}
		fn()
	}
}
