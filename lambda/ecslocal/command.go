package ecslocal

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/snapshot"
)

// Main runs the ecslocal command until ctx is done; it returns the exit status (2 for
// bad input).
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ecslocal", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("cluster", "", "cluster snapshot to serve (docs/simulator.md, Snapshots)")
	seed := fs.Int64("seed", -1, "the simulated world's seed (default: the snapshot's simulation.seed)")
	listen := fs.String("listen", "127.0.0.1:0", "loopback address to listen on")
	rebase := fs.Bool("rebase", true, "move the snapshot's clock to now, so its joiners are recent")
	frozen := fs.Bool("frozen", false, "keep the simulated clock still instead of following the wall clock")
	var faults Faults
	fs.Var(actionFlag[int]{&faults.Throttle, "N", parseCount}, "throttle", "ACTION=N: the next N calls of ACTION are throttled (repeatable)")
	fs.Var(actionFlag[int]{&faults.ServerError, "N", parseCount}, "server-error", "ACTION=N: the next N calls of ACTION fail with ServerException")
	fs.Var(actionFlag[time.Duration]{&faults.Latency, "DURATION", parseLatency}, "latency", "ACTION=DURATION: every call of ACTION waits that long")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *path == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: ecslocal -cluster SNAPSHOT.json [-listen 127.0.0.1:PORT] [-seed N] [-rebase=false] [-frozen] [-throttle ACTION=N] [-server-error ACTION=N] [-latency ACTION=DURATION]")
		return 2
	}
	snap, err := snapshot.Load(*path)
	if err != nil {
		fmt.Fprintf(stderr, "ecslocal: %s\n", strings.ReplaceAll(err.Error(), "\n", "; "))
		return 2
	}
	opts := snap.Simulation.Options()
	if *seed >= 0 {
		opts.Seed = uint64(*seed)
	}
	if *rebase {
		now := time.Now().UTC().Truncate(time.Second)
		if !opts.Now.IsZero() {
			snap.Cluster.Shift(now.Sub(opts.Now))
		}
		opts.Now = now
	}
	l, err := Listen(*listen)
	if err != nil {
		fmt.Fprintf(stderr, "ecslocal: %v\n", err)
		return 2
	}
	srv := New(sim.New(snap.Cluster, opts), Options{Frozen: *frozen})
	srv.SetFaults(faults)
	fmt.Fprintf(stdout, "ECS endpoint for cluster %s on http://%s\n", snap.Cluster.Name, l.Addr())
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(l); err != nil {
		fmt.Fprintf(stderr, "ecslocal: %v\n", err)
		return 1
	}
	return 0
}

// actionFlag is a repeatable ACTION=VALUE flag; the action must be one the endpoint
// serves.
type actionFlag[T any] struct {
	m     *map[string]T
	what  string // VALUE's name in the usage error
	parse func(string) (T, error)
}

func (f actionFlag[T]) String() string { return "" }
func (f actionFlag[T]) Set(v string) error {
	action, raw, ok := strings.Cut(v, "=")
	val, err := f.parse(raw)
	if !ok || err != nil {
		return fmt.Errorf("want ACTION=%s, got %q", f.what, v)
	}
	if err := known(action); err != nil {
		return err
	}
	if *f.m == nil {
		*f.m = map[string]T{}
	}
	(*f.m)[action] = val
	return nil
}

func parseCount(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err == nil && n < 0 {
		err = errors.New("negative")
	}
	return n, err
}

func parseLatency(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err == nil && d < 0 {
		err = errors.New("negative")
	}
	return d, err
}

// known refuses an action the endpoint does not serve: a fault on it would never fire.
func known(action string) error {
	actions := Actions()
	if slices.Contains(actions, action) {
		return nil
	}
	for _, a := range actions {
		if strings.EqualFold(a, action) {
			return fmt.Errorf("unknown action %q: did you mean %s?", action, a)
		}
	}
	return fmt.Errorf("unknown action %q: the endpoint serves %s", action, strings.Join(actions, ", "))
}
