package ecslocal_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/ecsclient"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/ecslocal"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/snapshot"
)

// serve starts an endpoint on a snapshot; the test bounds every request in time.
func serve(t *testing.T, name string) (*ecslocal.Server, string, *snapshot.Snapshot) {
	t.Helper()
	snap, err := snapshot.Load("../../testdata/snapshots/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	orig, _ := snapshot.Load("../../testdata/snapshots/" + name + ".json")
	srv := ecslocal.New(sim.New(snap.Cluster, snap.Simulation.Options()), ecslocal.Options{Frozen: true})
	l, err := ecslocal.Listen("")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(srv.Close)
	return srv, "http://" + l.Addr().String(), orig
}

// client is the real SDK client, pointed at the endpoint.
func client(url string, maxAttempts int) *ecs.Client {
	return ecs.New(ecs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = maxAttempts
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		}),
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
	})
}

func encoded(t *testing.T, c *cluster.Cluster) string {
	t.Helper()
	var b bytes.Buffer
	if err := snapshot.Encode(&b, c, snapshot.Simulation{}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// The unmodified SDK client reads every item back exactly as the simulator holds it.
func TestRealSDKClientReadsTheCluster(t *testing.T) {
	for _, name := range []string{"headline", "mixed", "large"} {
		t.Run(name, func(t *testing.T) {
			_, url, orig := serve(t, name)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			// Three attempts, as the SDK's standard retryer makes: on a loaded machine
			// net/http now and then loses a keep-alive connection under a response
			// ("use of closed network connection"), which the SDK classes retryable
			// (aws-sdk-go-v2 #2737) and the function's own client retries. No fault is
			// injected here, so a retry never hides an answer the endpoint got wrong.
			got, notes, err := ecsclient.Read(ctx, client(url, 3), orig.Cluster.Name)
			if err != nil || len(notes) > 0 {
				t.Fatalf("Read: %v %v", err, notes)
			}
			if diff := cmp.Diff(encoded(t, orig.Cluster), encoded(t, got)); diff != "" {
				t.Errorf("read through the wire (-snapshot +read):\n%s", diff)
			}
		})
	}
}

func TestErrorsAndFaultsOnTheWire(t *testing.T) {
	srv, url, _ := serve(t, "headline")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	_, err := client(url, 1).DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("demo"),
		Services: strings.Split("a,b,c,d,e,f,g,h,i,j,k", ",")})
	var ipe *types.InvalidParameterException
	if !errors.As(err, &ipe) {
		t.Errorf("11 services: %v, want the SDK's typed InvalidParameterException", err)
	}
	_, err = client(url, 1).ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String("nope")})
	var cnf *types.ClusterNotFoundException
	if !errors.As(err, &cnf) {
		t.Errorf("unknown cluster: %v", err)
	}

	srv.SetFaults(ecslocal.Faults{Throttle: map[string]int{"ListServices": 2}, ServerError: map[string]int{"ListTasks": 1}})
	before := srv.Sim().Stats().Calls
	if _, err := client(url, 3).ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String("demo")}); err != nil {
		t.Errorf("two throttles then success within 3 attempts: %v", err)
	}
	if _, err := client(url, 3).ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("demo")}); err != nil {
		t.Errorf("a server error then success: %v", err)
	}
	after := srv.Sim().Stats().Calls
	if got := after["ListServices"] - before["ListServices"]; got != 3 {
		t.Errorf("the SDK made %d ListServices attempts, want 3 (it retries throttling)", got)
	}
	if got := after["ListTasks"] - before["ListTasks"]; got != 2 {
		t.Errorf("the SDK made %d ListTasks attempts, want 2 (it retries 5xx)", got)
	}
	srv.SetFaults(ecslocal.Faults{Throttle: map[string]int{"ListServices": 5}})
	_, err = client(url, 3).ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String("demo")})
	if !ecsclient.Retryable(err) || !strings.Contains(err.Error(), "ThrottlingException") {
		t.Errorf("throttled past the retries: %v", err)
	}

	srv.SetFaults(ecslocal.Faults{Latency: map[string]time.Duration{"ListServices": 300 * time.Millisecond}})
	short, cancel2 := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel2()
	start := time.Now()
	_, err = client(url, 1).ListServices(short, &ecs.ListServicesInput{Cluster: aws.String("demo")})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 250*time.Millisecond {
		t.Errorf("a slow answer past the caller's deadline: %v after %v", err, time.Since(start))
	}
}

func TestMutationsOverTheWire(t *testing.T) {
	srv, url, orig := serve(t, "headline")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := client(url, 1)
	joiner := orig.Cluster.Instances()[3]
	_, err := c.PutAttributes(ctx, &ecs.PutAttributesInput{Cluster: aws.String("demo"), Attributes: []types.Attribute{{
		Name: aws.String("ecs-rebalancer.drained-at"), Value: aws.String("2026-11-20T09:00:00Z"), TargetId: aws.String(joiner.ARN), TargetType: types.TargetTypeContainerInstance}}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.UpdateContainerInstancesState(ctx, &ecs.UpdateContainerInstancesStateInput{Cluster: aws.String("demo"),
		ContainerInstances: []string{joiner.ARN}, Status: types.ContainerInstanceStatusDraining})
	if err != nil || aws.ToString(out.ContainerInstances[0].Status) != "DRAINING" {
		t.Fatalf("UpdateContainerInstancesState: %v %+v", err, out)
	}
	us, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("demo"), Service: aws.String("web"), ForceNewDeployment: true})
	if err != nil || len(us.Service.Deployments) != 2 || us.Service.Deployments[0].CreatedAt == nil {
		t.Fatalf("UpdateService: %v", err)
	}
	if got := srv.Sim().Stats().MutatingCalls; got != 3 {
		t.Errorf("%d mutating calls recorded", got)
	}
	_, err = c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("demo"), Service: aws.String("web"), HealthCheckGracePeriodSeconds: aws.Int32(5)})
	if err == nil {
		t.Error("an unsupported field was accepted")
	}
}

func TestListenIsLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "10.1.2.3:8080", ":0"} {
		if l, err := ecslocal.Listen(addr); err == nil {
			l.Close()
			t.Errorf("Listen(%q) accepted", addr)
		}
	}
	for _, addr := range []string{"", "127.0.0.1:0", "localhost:0"} {
		l, err := ecslocal.Listen(addr)
		if err != nil {
			t.Errorf("Listen(%q): %v", addr, err)
			continue
		}
		l.Close()
	}
}

// The first commands a person types: list the clusters, describe one.
func TestListAndDescribeClusters(t *testing.T) {
	_, url, snap := serve(t, "headline")
	c := client(url, 1)
	ctx := context.Background()
	list, err := c.ListClusters(ctx, &ecs.ListClustersInput{})
	if err != nil || len(list.ClusterArns) != 1 || list.ClusterArns[0] != snap.Cluster.ARN {
		t.Fatalf("ListClusters = %v, %v", list, err)
	}
	desc, err := c.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"demo", "nope"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(desc.Clusters) != 1 || aws.ToString(desc.Clusters[0].ClusterName) != "demo" || desc.Clusters[0].RegisteredContainerInstancesCount != 4 ||
		desc.Clusters[0].RunningTasksCount != 34 || len(desc.Failures) != 1 || aws.ToString(desc.Failures[0].Reason) != "MISSING" {
		t.Errorf("DescribeClusters = %+v, failures %+v", desc.Clusters, desc.Failures)
	}
}

// A fault on an action the endpoint does not serve would never fire: refused.
func TestFaultFlagsNameServedActions(t *testing.T) {
	for arg, want := range map[string]string{
		"listServices=2":   `unknown action "listServices": did you mean ListServices?`,
		"NoSuchAction=3":   `unknown action "NoSuchAction": the endpoint serves`,
		"ListServices=two": "want ACTION=N",
	} {
		var out, errOut bytes.Buffer
		code := ecslocal.Main(context.Background(), []string{"-cluster", "../../testdata/snapshots/headline.json", "-throttle", arg}, &out, &errOut)
		if code != 2 || !strings.Contains(errOut.String(), want) {
			t.Errorf("-throttle %s: exit %d, stderr %q; want 2 and %q", arg, code, errOut.String(), want)
		}
	}
	var out, errOut bytes.Buffer
	if code := ecslocal.Main(context.Background(), []string{"-cluster", "../../testdata/snapshots/headline.json", "-latency", "describeTasks=1s"}, &out, &errOut); code != 2 {
		t.Errorf("-latency on an unknown action: exit %d", code)
	}
}

// Close never hangs, whenever it comes: before Serve starts, while the clock goroutine
// is between two looks at the stop channel, or after.
func TestCloseNeverHangs(t *testing.T) {
	snap, err := snapshot.Load("../../testdata/snapshots/headline.json")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		rounds := 60
		if testing.Short() {
			rounds = 20 // the edit-test loop
		}
		for k := range rounds {
			srv := ecslocal.New(sim.New(snap.Cluster.Clone(), snap.Simulation.Options()), ecslocal.Options{})
			l, err := ecslocal.Listen("")
			if err != nil {
				t.Error(err)
				return
			}
			served := make(chan struct{})
			go func() { srv.Serve(l); close(served) }()
			if k%2 == 0 {
				time.Sleep(time.Duration(k%5) * 25 * time.Millisecond) // let the clock goroutine run
			}
			srv.Close()
			<-served
		}
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("Close or Serve hung")
	}
}
