package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

// The group writer runs the hot writes of concurrent callers in one
// transaction. Ingest's batches of events and the dispatcher's batches of
// attempt results arrive side by side, and each used to be a transaction of
// its own: two commits, two fsyncs, and the rightmost pages of the
// deliveries table and its indexes written to the WAL twice, once by the
// insert and once by the update a few milliseconds later. Whatever is queued
// while one group commits goes into the next (group commit across
// callers): one writer, one commit.
//
// A job that fails is answered with its error and the group is rolled back
// and run again without it, so one caller's error never writes or loses
// another's work. Jobs must therefore be safe to run again: they compute
// their results from their inputs and keep in-memory side effects for
// their after func, which runs only once the group is committed.

// maxGroupJobs bounds the jobs in one transaction; each job is already a
// batch (up to ingest's MaxCommit events, or a completion interval's
// results).
const maxGroupJobs = 32

// groupTimeout bounds one group's transaction.
const groupTimeout = 30 * time.Second

// groupJob is one caller's part of a group transaction.
type groupJob struct {
	ctx context.Context
	// run does the job's writes in tx. It returns a func to run after the
	// commit (nil: none).
	run  func(ctx context.Context, tx *sql.Tx) (after func(), err error)
	done chan error
}

var errStoreClosed = errors.New("sqlite store is closed")

// inGroup runs fn in the next group transaction and returns once that is
// committed (fn's after func has then run) or failed. If ctx ends first it
// returns ctx's error; the job may still be committed.
func (s *Store) inGroup(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) (func(), error)) error {
	j := &groupJob{ctx: ctx, run: fn, done: make(chan error, 1)}
	select {
	case s.group <- j:
	case <-s.quit:
		return errStoreClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-j.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// groupLoop is the one goroutine that takes jobs and commits them in
// groups, until quit.
func (s *Store) groupLoop() {
	defer close(s.groupDone)
	jobs := make([]*groupJob, 0, maxGroupJobs)
	for {
		select {
		case j := <-s.group:
			jobs = append(jobs[:0], j)
		case <-s.quit:
			return
		}
	gather:
		for len(jobs) < maxGroupJobs {
			select {
			case j := <-s.group:
				jobs = append(jobs, j)
			default:
				break gather
			}
		}
		s.runGroup(jobs)
		clear(jobs)
	}
}

// runGroup commits jobs in one transaction, leaving out (and answering)
// any that fail.
func (s *Store) runGroup(jobs []*groupJob) {
	jobs = slices.Clone(jobs) // left out in place below
	for len(jobs) > 0 {
		live := jobs[:0]
		for _, j := range jobs {
			if err := j.ctx.Err(); err != nil {
				j.done <- err
				continue
			}
			live = append(live, j)
		}
		jobs = live
		if len(jobs) == 0 {
			return
		}
		failed, err := s.tryGroup(jobs)
		if failed < 0 {
			for _, j := range jobs {
				j.done <- err // nil once committed
			}
			return
		}
		jobs[failed].done <- err
		jobs = append(jobs[:failed], jobs[failed+1:]...)
	}
}

// tryGroup runs jobs in one transaction. It returns the index of the job
// that failed (the transaction is then rolled back, and the others may be
// tried again) or -1 with the commit's result.
func (s *Store) tryGroup(jobs []*groupJob) (failed int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return -1, fmt.Errorf("begin: %w", err)
	}
	afters := make([]func(), 0, len(jobs))
	for i, j := range jobs {
		after, err := j.run(j.ctx, tx)
		if err != nil {
			s.rolledBack(tx)
			return i, err
		}
		if after != nil {
			afters = append(afters, after)
		}
	}
	if err := tx.Commit(); err != nil {
		s.rolledBack(tx)
		return -1, fmt.Errorf("commit: %w", err)
	}
	for _, after := range afters {
		after()
	}
	return -1, nil
}

// rolledBack rolls tx back. (Nothing learnt inside it is kept: the core's
// endpoint cache takes what a job read only in its after func.)
func (s *Store) rolledBack(tx *sql.Tx) {
	_ = tx.Rollback()
}
