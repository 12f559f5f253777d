//go:build e2e

// Package e2e runs the released `bootstrap`, built for this machine with the release
// flags, under a Lambda Runtime API harness against an ECS endpoint serving a
// simulated cluster. `make e2e` runs it; every request is bounded in time.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/ecslocal"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/lambdatest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/plan"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/snapshot"
)

var bootstrap string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "e2e")
	if err != nil {
		panic(err)
	}
	bootstrap = filepath.Join(dir, "bootstrap")
	// The release build (README, "Deploy"), for this machine's architecture.
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", bootstrap, "../cmd/rebalancer")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building bootstrap: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// world is one simulated cluster behind an ECS endpoint, a Runtime API, and the
// function's environment as the stack sets it.
type world struct {
	t   *testing.T
	srv *ecslocal.Server
	rt  *lambdatest.Runtime
	env map[string]string
}

// newWorld serves c with its clock moved to now (its joiners joined minutes ago).
// Tasks take 30 s to start unless opts say otherwise.
func newWorld(t *testing.T, c *cluster.Cluster, recorded time.Time, cfg config.Config, opts ...func(*sim.Options)) *world {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	c.Shift(now.Sub(recorded))
	o := sim.Options{Now: now, TaskStart: 30 * time.Second, Seed: 1}
	for _, f := range opts {
		f(&o)
	}
	srv := ecslocal.New(sim.New(c, o), ecslocal.Options{})
	l, err := ecslocal.Listen("")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(srv.Close)
	rt, err := lambdatest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	env := cfg.Environ()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_ECS": "http://" + l.Addr().String(), "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
		"AWS_LAMBDA_FUNCTION_NAME": "ecs-rebalancer", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
		"AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "INFO",
		"_HANDLER": "bootstrap",
	} {
		env[k] = v
	}
	return &world{t: t, srv: srv, rt: rt, env: env}
}

func (w *world) start() *lambdatest.Process {
	w.t.Helper()
	p, err := w.rt.Run(bootstrap, w.env)
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(p.Kill)
	return p
}

func (w *world) invoke(event []byte, timeout time.Duration) lambdatest.Result {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout+30*time.Second)
	defer cancel()
	res, err := w.rt.Invoke(ctx, event, timeout)
	if err != nil {
		w.t.Fatal(err)
	}
	return res
}

// settled runs the simulated cluster to rest and returns it.
func (w *world) settled() (cov float64, status map[string]string, s *sim.Sim) {
	s = w.srv.Sim()
	s.Settle(time.Hour)
	status = map[string]string{}
	s.View(func(c *cluster.Cluster) {
		cov = cluster.Round2(cluster.COV(cluster.Counts(c.Distribution())))
		for _, i := range c.Instances() {
			status[i.EC2InstanceID] = i.Status
			if i.Marked() {
				status[i.EC2InstanceID] += " (marked)"
			}
		}
	})
	return cov, status, s
}

func load(t *testing.T, name string) *snapshot.Snapshot {
	t.Helper()
	s, err := snapshot.Load("../../testdata/snapshots/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func event(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../testdata/events/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ineligibleUntouched(t *testing.T, s *sim.Sim) {
	t.Helper()
	var skipped map[string]bool
	s.View(func(c *cluster.Cluster) {
		skipped = map[string]bool{}
		_, sk := plan.Eligibility(c, config.Default().OptOutTag)
		for _, x := range sk {
			skipped[x.Name] = true
		}
	})
	for _, c := range s.Calls() {
		if in, ok := c.Input.(*ecs.UpdateServiceInput); ok && skipped[*in.Service] {
			t.Errorf("ineligible service %s was redeployed", *in.Service)
		}
	}
}

func TestJoinRebalancesTheCluster(t *testing.T) {
	for _, name := range []string{"headline", "mixed"} {
		t.Run(name, func(t *testing.T) {
			snap := load(t, name)
			w := newWorld(t, snap.Cluster, snap.Simulation.Now, config.Default())
			started := time.Now()
			p := w.start()
			res := w.invoke(event(t, name+"-join"), 665*time.Second)
			if res.Error != "" {
				t.Fatalf("invocation failed: %s\n%s", res.Error, p.Logs())
			}
			t.Logf("%s: init (process start to the first next) %v, invocation %v", name,
				w.rt.FirstNext().Sub(started).Round(time.Millisecond), res.Took.Round(time.Millisecond))
			decisions := p.Lines("decision", 1)
			if len(decisions) != 1 {
				t.Fatalf("decision records: %v\n%s", decisions, p.Logs())
			}
			cov, status, s := w.settled()
			// mixed: the deployment already in progress puts a task on the joiner before
			// the function looks, so it is no longer an empty joiner; only safety holds.
			if name == "headline" {
				if decisions[0]["decision"] != "force-new-deployment" {
					t.Fatalf("decision %v: %v", decisions[0]["decision"], decisions[0]["reason"])
				}
				if before := decisions[0]["covBefore"].(float64); cov >= before || cov > 25 {
					t.Errorf("COV %v -> %v", before, cov)
				}
			}
			for id, st := range status {
				if st != cluster.StatusActive {
					t.Errorf("%s left %s", id, st)
				}
			}
			ineligibleUntouched(t, s)
			if !p.WaitFor(`"_aws"`) { // written after the decision record
				t.Error("no embedded-metric-format line in the function's output")
			}
		})
	}
}

// Throttling and server errors: the real SDK retries them and the invocation succeeds;
// past its retries, the invocation fails (Lambda retries it) and the next one succeeds.
func TestFaultsAreRetried(t *testing.T) {
	snap := load(t, "headline")
	w := newWorld(t, snap.Cluster, snap.Simulation.Now, config.Default())
	p := w.start()

	w.srv.SetFaults(ecslocal.Faults{
		Throttle:    map[string]int{"ListServices": 2, "DescribeContainerInstances": 1},
		ServerError: map[string]int{"DescribeTasks": 1, "UpdateService": 1},
	})
	before := w.srv.Sim().Stats()
	res := w.invoke(event(t, "headline-join"), 665*time.Second)
	after := w.srv.Sim().Stats()
	if res.Error != "" {
		t.Fatalf("invocation failed despite retries: %s", res.Error)
	}
	attempts := func(a string) int { return after.Calls[a] - before.Calls[a] }
	t.Logf("with faults: ListServices %d attempts, DescribeTasks %d, UpdateService %d; invocation %v",
		attempts("ListServices"), attempts("DescribeTasks"), attempts("UpdateService"), res.Took.Round(time.Millisecond))
	if attempts("ListServices") != 3 || attempts("DescribeTasks") != 2 || attempts("UpdateService") != 2 {
		t.Errorf("the SDK's retries: ListServices %d (want 3), DescribeTasks %d (want 2), UpdateService %d (want 2)",
			attempts("ListServices"), attempts("DescribeTasks"), attempts("UpdateService"))
	}
	if d := p.Lines("decision", 1); len(d) != 1 || d[0]["decision"] != "force-new-deployment" {
		t.Errorf("decision with faults: %v", d)
	}

	// Throttled past the SDK's 3 attempts: the invocation fails, as a retryable error.
	w2 := newWorld(t, load(t, "headline").Cluster, snap.Simulation.Now, config.Default())
	p2 := w2.start()
	w2.srv.SetFaults(ecslocal.Faults{Throttle: map[string]int{"ListTasks": 3}})
	res = w2.invoke(event(t, "headline-join"), 665*time.Second)
	if !strings.Contains(res.Error, "ThrottlingException") {
		t.Fatalf("throttled past the retries: %q\n%s", res.Error, p2.Logs())
	}
	if d := p2.Lines("decision", 1); len(d) != 1 || d[0]["level"] != "ERROR" || w2.srv.Sim().Stats().MutatingCalls != 0 {
		t.Errorf("a failed read must act on nothing and say so: %v", d)
	}
	// Lambda's retry (the next invocation) works once the throttling is over.
	res = w2.invoke(event(t, "headline-join"), 665*time.Second)
	if res.Error != "" {
		t.Fatalf("the retry failed: %s", res.Error)
	}
	if cov, _, _ := w2.settled(); cov > 25 {
		t.Errorf("COV after the retry %v", cov)
	}
}

// The function's deadline (Lambda-Runtime-Deadline-Ms) bounds every call: an ECS
// endpoint slower than the invocation's time fails it on time instead of hanging.
func TestDeadlineIsRespected(t *testing.T) {
	snap := load(t, "headline")
	w := newWorld(t, snap.Cluster, snap.Simulation.Now, config.Default())
	w.start()
	w.srv.SetFaults(ecslocal.Faults{Latency: map[string]time.Duration{"ListTasks": 10 * time.Second}})
	start := time.Now()
	res := w.invoke(event(t, "headline-join"), 2*time.Second)
	took := time.Since(start)
	t.Logf("deadline 2s, ListTasks answering in 10s: failed after %v: %s", took.Round(time.Millisecond), res.Error)
	if res.Error == "" || !strings.Contains(res.Error, "deadline") {
		t.Errorf("want a deadline error, got %q", res.Error)
	}
	if took > 3*time.Second {
		t.Errorf("the invocation took %v past a 2 s deadline", took)
	}
	if w.srv.Sim().Stats().MutatingCalls != 0 {
		t.Error("acted without having read the cluster")
	}
}

// A drain cut short by a lost process (no deferred cleanup runs) leaves the instance
// DRAINING with the marker; the next invocation's sweep repairs it.
func TestNextInvocationRepairsACrashedDrain(t *testing.T) {
	c, joiner := lazyCluster(t)
	cfg := config.Default()
	cfg.Strategy, cfg.DrainTimeout, cfg.DrainSleepTime = config.StrategyDrain, 5*time.Second, 10*time.Second
	w := newWorld(t, c, time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC), cfg)
	p := w.start()
	draining := make(chan struct{}, 1)
	w.srv.Sim().SetFaults(func(action string, n int) sim.Fault {
		if action == "UpdateContainerInstancesState" && n == 1 {
			// Once the DRAINING call has been served: the instance is DRAINING.
			return sim.Fault{After: func() { draining <- struct{}{} }}
		}
		return sim.Fault{}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go w.rt.Invoke(ctx, joinEvent(c, joiner), 665*time.Second)
	select {
	case <-draining:
	case <-ctx.Done():
		t.Fatalf("the function never drained:\n%s", p.Logs())
	}
	p.Kill()
	w.srv.Sim().SetFaults(nil)
	if n := countStatus(w, "DRAINING (marked)"); n != 1 {
		t.Fatalf("%d marked DRAINING instances after the crash, want 1", n)
	}

	// The next invocation (any event that reaches the handler) sweeps.
	p2 := w.start()
	start := time.Now()
	res := w.invoke(event(t, "busy-instance"), 665*time.Second)
	t.Logf("the next invocation repaired the drain in %v: %s", time.Since(start).Round(time.Millisecond), res.Error)
	if n := countStatus(w, "DRAINING"); n != 0 {
		t.Errorf("%d instances still DRAINING after the next invocation\n%s", n, p2.Logs())
	}
	if n := countStatus(w, "ACTIVE (marked)"); n != 0 {
		t.Errorf("marker left behind")
	}
	if d := p2.Lines("decision", 1); len(d) != 1 || d[0]["swept"] == nil {
		t.Errorf("the record does not say what was swept: %v", d)
	}
}

func countStatus(w *world, status string) int {
	n := 0
	w.srv.Sim().View(func(c *cluster.Cluster) {
		for _, i := range c.Instances() {
			st := i.Status
			if i.Marked() {
				st += " (marked)"
			}
			if st == status || (status == "DRAINING" && strings.HasPrefix(st, "DRAINING")) {
				n++
			}
		}
	})
	return n
}

// A real client: the AWS CLI, when installed, lists and describes through the endpoint.
func TestAWSCLI(t *testing.T) {
	cli, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("no AWS CLI on PATH")
	}
	snap := load(t, "headline")
	w := newWorld(t, snap.Cluster, snap.Simulation.Now, config.Default())
	run := func(args ...string) map[string]any {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, cli, append([]string{"ecs", "--endpoint-url", w.env["AWS_ENDPOINT_URL_ECS"], "--region", "us-east-1", "--output", "json"}, args...)...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret",
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER="}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("aws %v: %v", args, err)
		}
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("aws %v printed what is not JSON: %v\n%s", args, err, out)
		}
		return m
	}
	if clusters := run("list-clusters")["clusterArns"].([]any); len(clusters) != 1 {
		t.Errorf("list-clusters: %v", clusters)
	}
	list := run("list-container-instances", "--cluster", "demo")
	arns := list["containerInstanceArns"].([]any)
	if len(arns) != 4 {
		t.Fatalf("list-container-instances: %v", list)
	}
	desc := run("describe-container-instances", "--cluster", "demo", "--container-instances", arns[0].(string), arns[3].(string))
	got := desc["containerInstances"].([]any)
	if len(got) != 2 || got[1].(map[string]any)["runningTasksCount"] != 1.0 {
		t.Errorf("describe-container-instances: %v", desc)
	}
	services := run("describe-services", "--cluster", "demo", "--services", "web", "api", "--include", "TAGS")
	if s := services["services"].([]any); len(s) != 2 || s[0].(map[string]any)["deployments"] == nil {
		t.Errorf("describe-services: %v", services)
	}
	t.Logf("aws-cli listed %d instances and described %d instances and %d services through the endpoint", len(arns), len(got), len(services["services"].([]any)))
}
