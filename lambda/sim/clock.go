package sim

import (
	"context"
	"sync"
	"time"
)

// The simulator owns a virtual clock. Nothing sleeps: code under test waits through
// Sleep, which runs the simulated cluster forward to the wake-up time, and deadlines
// made with WithDeadline expire on virtual time. Real-time deadlines on contexts are a
// different clock and are ignored by Sleep.

// Now is the virtual time.
func (s *Sim) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

// Sleep waits d of virtual time, running the cluster forward. It returns early with
// ctx's error when ctx is cancelled or its virtual deadline comes first.
func (s *Sim) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sleepLocked(ctx, d)
}

func (s *Sim) sleepLocked(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	target := s.now.Add(d)
	if dl, ok := s.virtualDeadline(ctx); ok && dl.Before(target) {
		s.advanceTo(dl)
		return ctx.Err()
	}
	s.advanceTo(target)
	return ctx.Err()
}

// Advance runs the cluster forward by d.
func (s *Sim) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceTo(s.now.Add(d))
}

// Settled reports how a Settle call ended.
type Settled struct {
	Elapsed time.Duration
	// Idle is true when no deployment, drain or daemon placement has work it can still
	// do; Stalled lists the services with work they cannot do (no capacity, or a
	// deployment configuration that allows no move).
	Idle    bool
	Stalled []string
}

// Settle runs the cluster until nothing is in progress, or for at most limit. A
// service that cannot progress without an outside change (no capacity, min=max=100 %)
// does not keep it running: it is reported in Stalled.
func (s *Sim) Settle(limit time.Duration) Settled {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := s.now
	end := start.Add(limit)
	for {
		at, ok := s.nextEvent()
		if !ok || at.After(end) {
			break
		}
		s.advanceTo(at)
	}
	_, busy := s.nextEvent()
	out := Settled{Elapsed: s.now.Sub(start), Idle: !busy}
	for _, svc := range s.c.Services() {
		if s.stalled[svc] {
			out.Stalled = append(out.Stalled, svc.Name)
		}
	}
	return out
}

// simKey marks contexts whose deadline is on this simulator's clock.
type simKey struct{}

// WithDeadline returns a context whose deadline is the virtual time at: Deadline
// reports it and Done closes when the virtual clock reaches it.
func (s *Sim) WithDeadline(parent context.Context, at time.Time) (context.Context, context.CancelFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if dl, ok := s.virtualDeadline(parent); ok && dl.Before(at) {
		at = dl
	}
	d := &deadlineCtx{Context: parent, sim: s, deadline: at, done: make(chan struct{})}
	stop := context.AfterFunc(parent, func() { d.cancel(parent.Err()) })
	d.mu.Lock()
	d.stop = stop
	d.mu.Unlock()
	if !at.After(s.now) {
		d.cancel(context.DeadlineExceeded)
	} else {
		s.deadlines = append(s.deadlines, d)
	}
	return d, func() { d.cancel(context.Canceled) }
}

// WithTimeout is WithDeadline at Now()+d.
func (s *Sim) WithTimeout(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return s.WithDeadline(parent, s.Now().Add(d))
}

func (s *Sim) virtualDeadline(ctx context.Context) (time.Time, bool) {
	if ctx.Value(simKey{}) != s {
		return time.Time{}, false
	}
	return ctx.Deadline()
}

// fireDeadlines expires the contexts whose deadline the clock has reached.
func (s *Sim) fireDeadlines() {
	kept := s.deadlines[:0]
	for _, d := range s.deadlines {
		switch {
		case d.Err() != nil:
		case !d.deadline.After(s.now):
			d.cancel(context.DeadlineExceeded)
		default:
			kept = append(kept, d)
		}
	}
	s.deadlines = kept
}

type deadlineCtx struct {
	context.Context
	sim      *Sim
	deadline time.Time
	done     chan struct{}
	stop     func() bool

	mu  sync.Mutex
	err error
}

func (d *deadlineCtx) Deadline() (time.Time, bool) { return d.deadline, true }
func (d *deadlineCtx) Done() <-chan struct{}       { return d.done }

func (d *deadlineCtx) Err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

func (d *deadlineCtx) Value(key any) any {
	if key == (simKey{}) {
		return d.sim
	}
	return d.Context.Value(key)
}

func (d *deadlineCtx) cancel(err error) {
	d.mu.Lock()
	first := d.err == nil
	if first {
		d.err = err
		close(d.done)
	}
	stop := d.stop
	d.mu.Unlock()
	if first && stop != nil {
		stop()
	}
}
