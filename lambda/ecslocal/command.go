package ecslocal

import (
	"context"
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
	fs.Var(countFlag{&faults.Throttle}, "throttle", "ACTION=N: the next N calls of ACTION are throttled (repeatable)")
	fs.Var(countFlag{&faults.ServerError}, "server-error", "ACTION=N: the next N calls of ACTION fail with ServerException")
	fs.Var(latencyFlag{&faults.Latency}, "latency", "ACTION=DURATION: every call of ACTION waits that long")
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

type countFlag struct{ m *map[string]int }

func (f countFlag) String() string { return "" }
func (f countFlag) Set(v string) error {
	action, n, ok := strings.Cut(v, "=")
	count, err := strconv.Atoi(n)
	if !ok || err != nil || count < 0 {
		return fmt.Errorf("want ACTION=N, got %q", v)
	}
	if err := known(action); err != nil {
		return err
	}
	if *f.m == nil {
		*f.m = map[string]int{}
	}
	(*f.m)[action] = count
	return nil
}

type latencyFlag struct{ m *map[string]time.Duration }

func (f latencyFlag) String() string { return "" }
func (f latencyFlag) Set(v string) error {
	action, d, ok := strings.Cut(v, "=")
	dur, err := time.ParseDuration(d)
	if !ok || err != nil || dur < 0 {
		return fmt.Errorf("want ACTION=DURATION, got %q", v)
	}
	if err := known(action); err != nil {
		return err
	}
	if *f.m == nil {
		*f.m = map[string]time.Duration{}
	}
	(*f.m)[action] = dur
	return nil
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
