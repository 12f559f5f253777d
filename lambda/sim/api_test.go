package sim_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
)

func typesStatus(s string) types.ContainerInstanceStatus { return types.ContainerInstanceStatus(s) }

// bigCluster has 120 instances, 23 services and 150 tasks: more than one page or batch
// of everything.
func bigCluster(t *testing.T) (*sim.Sim, []*cluster.Instance, []*cluster.Service, []*cluster.Task) {
	b := ct.New("demo")
	var insts []*cluster.Instance
	for k := range 120 {
		insts = append(insts, b.Instance(fmt.Sprintf("us-east-1%c", 'a'+k%3)))
	}
	var svcs []*cluster.Service
	var tasks []*cluster.Task
	for k := range 23 {
		svcs = append(svcs, b.Service(fmt.Sprintf("svc-%02d", k), ct.Desired(int32(k%10+1))))
	}
	n := 0
	for _, s := range svcs {
		for range s.DesiredCount {
			tasks = append(tasks, b.Tasks(s, insts[n%len(insts)], 1)...)
			n++
		}
	}
	return newSim(t, b), insts, svcs, tasks
}

func arnsOf[T any](items []T, arn func(T) string) []string {
	var out []string
	for _, it := range items {
		out = append(out, arn(it))
	}
	return out
}

// ECS fact (the SDK's doc comments): DescribeServices takes up to 10
// services, DescribeContainerInstances and DescribeTasks up to 100,
// UpdateContainerInstancesState and PutAttributes up to 10; more, or none, is an
// InvalidParameterException.
func TestBatchLimits(t *testing.T) {
	s, insts, svcs, tasks := bigCluster(t)
	instARNs := arnsOf(insts, func(i *cluster.Instance) string { return i.ARN })
	svcNames := arnsOf(svcs, func(s *cluster.Service) string { return s.Name })
	taskARNs := arnsOf(tasks, func(t *cluster.Task) string { return t.ARN })
	attrs := func(n int) []types.Attribute {
		var out []types.Attribute
		for k := range n {
			out = append(out, types.Attribute{Name: str(fmt.Sprintf("a%d", k)), TargetId: str(insts[0].ARN)})
		}
		return out
	}
	tests := []struct {
		name string
		call func() error
		want string // error code, "" for success
	}{
		{"DescribeServices 10", func() error {
			_, err := s.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: str("demo"), Services: svcNames[:10]})
			return err
		}, ""},
		{"DescribeServices 11", func() error {
			_, err := s.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: str("demo"), Services: svcNames[:11]})
			return err
		}, "InvalidParameterException"},
		{"DescribeServices none", func() error {
			_, err := s.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: str("demo")})
			return err
		}, "InvalidParameterException"},
		{"DescribeContainerInstances 100", func() error {
			_, err := s.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: str("demo"), ContainerInstances: instARNs[:100]})
			return err
		}, ""},
		{"DescribeContainerInstances 101", func() error {
			_, err := s.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: str("demo"), ContainerInstances: instARNs[:101]})
			return err
		}, "InvalidParameterException"},
		{"DescribeTasks 100", func() error {
			_, err := s.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: str("demo"), Tasks: taskARNs[:100]})
			return err
		}, ""},
		{"DescribeTasks 101", func() error {
			_, err := s.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: str("demo"), Tasks: taskARNs[:101]})
			return err
		}, "InvalidParameterException"},
		{"UpdateContainerInstancesState 10", func() error {
			_, err := s.UpdateContainerInstancesState(ctx, &ecs.UpdateContainerInstancesStateInput{Cluster: str("demo"), ContainerInstances: instARNs[:10], Status: types.ContainerInstanceStatusActive})
			return err
		}, ""},
		{"UpdateContainerInstancesState 11", func() error {
			_, err := s.UpdateContainerInstancesState(ctx, &ecs.UpdateContainerInstancesStateInput{Cluster: str("demo"), ContainerInstances: instARNs[:11], Status: types.ContainerInstanceStatusActive})
			return err
		}, "InvalidParameterException"},
		{"PutAttributes 10", func() error {
			_, err := s.PutAttributes(ctx, &ecs.PutAttributesInput{Cluster: str("demo"), Attributes: attrs(10)})
			return err
		}, ""},
		{"PutAttributes 11", func() error {
			_, err := s.PutAttributes(ctx, &ecs.PutAttributesInput{Cluster: str("demo"), Attributes: attrs(11)})
			return err
		}, "InvalidParameterException"},
		{"DeleteAttributes 11", func() error {
			_, err := s.DeleteAttributes(ctx, &ecs.DeleteAttributesInput{Cluster: str("demo"), Attributes: attrs(11)})
			return err
		}, "InvalidParameterException"},
		{"maxResults 0", func() error {
			_, err := s.ListTasks(ctx, &ecs.ListTasksInput{Cluster: str("demo"), MaxResults: aws.Int32(0)})
			return err
		}, "InvalidParameterException"},
		{"maxResults 101", func() error {
			_, err := s.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: str("demo"), MaxResults: aws.Int32(101)})
			return err
		}, "InvalidParameterException"},
		{"maxResults 100", func() error {
			_, err := s.ListServices(ctx, &ecs.ListServicesInput{Cluster: str("demo"), MaxResults: aws.Int32(100)})
			return err
		}, ""},
		{"unknown cluster", func() error {
			_, err := s.ListServices(ctx, &ecs.ListServicesInput{Cluster: str("prod")})
			return err
		}, "ClusterNotFoundException"},
		{"no cluster means default", func() error {
			_, err := s.ListServices(ctx, &ecs.ListServicesInput{})
			return err
		}, "ClusterNotFoundException"},
		{"cluster by ARN", func() error {
			_, err := s.ListServices(ctx, &ecs.ListServicesInput{Cluster: str("arn:aws:ecs:us-east-1:111122223333:cluster/demo")})
			return err
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if got := code(err); got != tt.want {
				t.Fatalf("error code = %q (%v), want %q", got, err, tt.want)
			}
			if err != nil {
				var oe *smithy.OperationError
				if !errors.As(err, &oe) || oe.ServiceID != "ECS" {
					t.Errorf("error %v is not wrapped in a smithy OperationError for ECS, as the SDK client returns it", err)
				}
			}
		})
	}
}

// listAll pages through a List call and returns every item and each page's size.
func listAll(t *testing.T, list func(token *string) ([]string, *string, error)) ([]string, []int) {
	t.Helper()
	var all []string
	var sizes []int
	var token *string
	for range 1000 {
		items, next, err := list(token)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, items...)
		sizes = append(sizes, len(items))
		if next == nil {
			return all, sizes
		}
		token = next
	}
	t.Fatal("paging did not end")
	return nil, nil
}

// ECS fact: ListServices returns 10 results a page when maxResults is not given
// (ListContainerInstances and ListTasks up to 100), with an opaque nextToken that is
// null once there are no more results.
func TestPaging(t *testing.T) {
	s, insts, svcs, tasks := bigCluster(t)
	tests := []struct {
		name      string
		list      func(token *string) ([]string, *string, error)
		want      []string
		wantSizes []int
	}{
		{"ListServices default page of 10", func(tok *string) ([]string, *string, error) {
			out, err := s.ListServices(ctx, &ecs.ListServicesInput{Cluster: str("demo"), NextToken: tok})
			if err != nil {
				return nil, nil, err
			}
			return out.ServiceArns, out.NextToken, nil
		}, arnsOf(svcs, func(s *cluster.Service) string { return s.ARN }), []int{10, 10, 3}},
		{"ListContainerInstances default page of 100", func(tok *string) ([]string, *string, error) {
			out, err := s.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: str("demo"), NextToken: tok})
			if err != nil {
				return nil, nil, err
			}
			return out.ContainerInstanceArns, out.NextToken, nil
		}, arnsOf(insts, func(i *cluster.Instance) string { return i.ARN }), []int{100, 20}},
		{"ListTasks maxResults 40", func(tok *string) ([]string, *string, error) {
			out, err := s.ListTasks(ctx, &ecs.ListTasksInput{Cluster: str("demo"), NextToken: tok, MaxResults: aws.Int32(40)})
			if err != nil {
				return nil, nil, err
			}
			return out.TaskArns, out.NextToken, nil
		}, arnsOf(tasks, func(t *cluster.Task) string { return t.ARN }), []int{40, 40, 36}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, sizes := listAll(t, tt.list)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("items (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantSizes, sizes); diff != "" {
				t.Errorf("page sizes (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("tokens are opaque and tied to their action", func(t *testing.T) {
		out, err := s.ListServices(ctx, &ecs.ListServicesInput{Cluster: str("demo")})
		if err != nil || out.NextToken == nil {
			t.Fatalf("first page: %v", err)
		}
		if strings.Contains(*out.NextToken, "10") {
			t.Errorf("token %q shows its offset", *out.NextToken)
		}
		for _, bad := range []string{"garbage", *out.NextToken + "x"} {
			_, err := s.ListServices(ctx, &ecs.ListServicesInput{Cluster: str("demo"), NextToken: str(bad)})
			if code(err) != "InvalidParameterException" {
				t.Errorf("ListServices with token %q: %v, want InvalidParameterException", bad, err)
			}
		}
		_, err = s.ListTasks(ctx, &ecs.ListTasksInput{Cluster: str("demo"), NextToken: out.NextToken})
		if code(err) != "InvalidParameterException" {
			t.Errorf("a ListServices token accepted by ListTasks: %v", err)
		}
	})
}

// ECS fact: Describe* answer unknown identifiers with a per-item failure of reason
// MISSING, not an error; IDs and ARNs (long or legacy) both work.
func TestDescribeMissing(t *testing.T) {
	s, insts, svcs, tasks := bigCluster(t)
	legacy := "arn:aws:ecs:us-east-1:111122223333:container-instance/" + insts[1].ID()

	ci, err := s.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: str("demo"),
		ContainerInstances: []string{insts[0].ID(), "nope", legacy}})
	if err != nil {
		t.Fatal(err)
	}
	gotCI := arnsOf(ci.ContainerInstances, func(c types.ContainerInstance) string { return *c.ContainerInstanceArn })
	if diff := cmp.Diff([]string{insts[0].ARN, insts[1].ARN}, gotCI); diff != "" {
		t.Errorf("described instances (-want +got):\n%s", diff)
	}
	wantFail := []types.Failure{{Arn: str("arn:aws:ecs:us-east-1:111122223333:container-instance/demo/nope"), Reason: str("MISSING")}}
	if diff := cmp.Diff(wantFail, ci.Failures, cmpFailures); diff != "" {
		t.Errorf("failures (-want +got):\n%s", diff)
	}

	sv, err := s.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: str("demo"), Services: []string{svcs[0].ARN, "ghost"}})
	if err != nil || len(sv.Services) != 1 || len(sv.Failures) != 1 || *sv.Failures[0].Reason != "MISSING" {
		t.Errorf("DescribeServices with a ghost: %v %+v", err, sv)
	}
	tk, err := s.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: str("demo"), Tasks: []string{tasks[0].ID(), "arn:aws:ecs:us-east-1:111122223333:task/demo/0000"}})
	if err != nil || len(tk.Tasks) != 1 || len(tk.Failures) != 1 || *tk.Failures[0].Arn != "arn:aws:ecs:us-east-1:111122223333:task/demo/0000" {
		t.Errorf("DescribeTasks with an unknown ARN: %v %+v", err, tk)
	}
}

var cmpFailures = cmp.Comparer(func(a, b types.Failure) bool {
	return aws.ToString(a.Arn) == aws.ToString(b.Arn) && aws.ToString(a.Reason) == aws.ToString(b.Reason)
})

// ECS fact: ListContainerInstances without status includes every status but INACTIVE,
// DRAINING included.
func TestListContainerInstancesStatus(t *testing.T) {
	b := ct.New("demo")
	active := b.Instance("us-east-1a")
	draining := b.Instance("us-east-1b", ct.Status(cluster.StatusDraining))
	registering := b.Instance("us-east-1c", ct.Status(cluster.StatusRegistering))
	b.Instance("us-east-1c", ct.Status(cluster.StatusInactive))
	tagged := b.Instance("us-east-1a", ct.Attr("team", "ml"))
	s := newSim(t, b)

	tests := []struct {
		name    string
		in      ecs.ListContainerInstancesInput
		want    []*cluster.Instance
		errCode string
	}{
		{"no status: all but INACTIVE", ecs.ListContainerInstancesInput{}, []*cluster.Instance{active, draining, registering, tagged}, ""},
		{"ACTIVE only", ecs.ListContainerInstancesInput{Status: types.ContainerInstanceStatusActive}, []*cluster.Instance{active, tagged}, ""},
		{"DRAINING only", ecs.ListContainerInstancesInput{Status: types.ContainerInstanceStatusDraining}, []*cluster.Instance{draining}, ""},
		{"filter by attribute", ecs.ListContainerInstancesInput{Filter: str("attribute:team == ml")}, []*cluster.Instance{tagged}, ""},
		{"filter with status", ecs.ListContainerInstancesInput{Status: types.ContainerInstanceStatusActive, Filter: str("attribute:ecs.availability-zone == us-east-1a")}, []*cluster.Instance{active, tagged}, ""},
		{"unsupported filter", ecs.ListContainerInstancesInput{Filter: str("task:group == service:web")}, nil, "InvalidParameterException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			in.Cluster = str("demo")
			out, err := s.ListContainerInstances(ctx, &in)
			if code(err) != tt.errCode {
				t.Fatalf("error %v, want code %q", err, tt.errCode)
			}
			if err != nil {
				return
			}
			want := arnsOf(tt.want, func(i *cluster.Instance) string { return i.ARN })
			if diff := cmp.Diff(want, out.ContainerInstanceArns, cmpEmpty); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

var cmpEmpty = cmp.Transformer("nilEmpty", func(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
})

func TestListTasksFilters(t *testing.T) {
	b := ct.New("demo")
	i1 := b.Instance("us-east-1a")
	i2 := b.Instance("us-east-1b")
	web := b.Service("web", ct.Desired(3))
	api := b.Service("api", ct.Desired(1))
	w1 := b.Tasks(web, i1, 2)
	w2 := b.Tasks(web, i2, 1)
	a1 := b.Tasks(api, i2, 1)
	job := b.Standalone("migrate", i1, cluster.Resources{CPU: 128, Memory: 128})
	s := newSim(t, b)
	if err := s.KillTask(a1[0].ARN); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		in      ecs.ListTasksInput
		want    []*cluster.Task
		errCode string
	}{
		{"default desired status RUNNING", ecs.ListTasksInput{}, []*cluster.Task{w1[0], w1[1], w2[0], job}, ""},
		{"by instance", ecs.ListTasksInput{ContainerInstance: str(i1.ID())}, []*cluster.Task{w1[0], w1[1], job}, ""},
		{"by service", ecs.ListTasksInput{ServiceName: str("web")}, []*cluster.Task{w1[0], w1[1], w2[0]}, ""},
		{"by family", ecs.ListTasksInput{Family: str("migrate")}, []*cluster.Task{job}, ""},
		{"by startedBy", ecs.ListTasksInput{StartedBy: str(w1[0].StartedBy)}, []*cluster.Task{w1[0], w1[1], w2[0]}, ""},
		{"STOPPED", ecs.ListTasksInput{DesiredStatus: types.DesiredStatusStopped}, []*cluster.Task{a1[0]}, ""},
		{"PENDING is accepted and matches nothing", ecs.ListTasksInput{DesiredStatus: types.DesiredStatusPending}, nil, ""},
		{"startedBy must be the only filter", ecs.ListTasksInput{StartedBy: str("x"), ServiceName: str("web")}, nil, "InvalidParameterException"},
		{"unknown service", ecs.ListTasksInput{ServiceName: str("ghost")}, nil, "ServiceNotFoundException"},
		{"unknown instance", ecs.ListTasksInput{ContainerInstance: str("ghost")}, nil, "InvalidParameterException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			in.Cluster = str("demo")
			out, err := s.ListTasks(ctx, &in)
			if code(err) != tt.errCode {
				t.Fatalf("error %v, want code %q", err, tt.errCode)
			}
			if err != nil {
				return
			}
			// No step has run since the kill, so the api task's replacement is not there yet.
			if diff := cmp.Diff(arnsOf(tt.want, func(t *cluster.Task) string { return t.ARN }), out.TaskArns, cmpEmpty); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// ECS fact: DescribeServices returns tags only with include TAGS.
func TestDescribeServicesTags(t *testing.T) {
	b := ct.New("demo")
	b.Service("web", ct.Tag("ecs-rebalancer:skip", "true"))
	s := newSim(t, b)
	for _, tt := range []struct {
		include []types.ServiceField
		want    int
	}{{nil, 0}, {[]types.ServiceField{types.ServiceFieldTags}, 1}} {
		out, err := s.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: str("demo"), Services: []string{"web"}, Include: tt.include})
		if err != nil || len(out.Services[0].Tags) != tt.want {
			t.Errorf("include %v: %d tags (%v), want %d", tt.include, len(out.Services[0].Tags), err, tt.want)
		}
	}
}

func TestCallsAreRecorded(t *testing.T) {
	b := ct.New("demo")
	i := b.Instance("us-east-1a")
	b.Service("web", ct.Desired(1))
	s := newSim(t, b)

	in := &ecs.ListServicesInput{Cluster: str("demo")}
	_, _ = s.ListServices(ctx, in)
	_, _ = s.ListServices(ctx, &ecs.ListServicesInput{Cluster: str("nope")})
	_, _ = s.PutAttributes(ctx, &ecs.PutAttributesInput{Cluster: str("demo"), Attributes: []types.Attribute{{Name: str("x"), TargetId: str(i.ARN)}}})
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.ListServices(cancelled, in); !errors.Is(err, context.Canceled) {
		t.Errorf("call with a cancelled context: %v, want context.Canceled", err)
	}

	st := s.Stats()
	if diff := cmp.Diff(map[string]int{"ListServices": 2, "PutAttributes": 1}, st.Calls); diff != "" {
		t.Errorf("per-action counts (-want +got):\n%s", diff)
	}
	if st.APICalls != 3 || st.MutatingCalls != 1 {
		t.Errorf("APICalls %d MutatingCalls %d, want 3 and 1", st.APICalls, st.MutatingCalls)
	}
	calls := s.Calls()
	if calls[0].Input != in || calls[0].Err != nil || !calls[0].At.Equal(ct.Epoch) {
		t.Errorf("first call recorded as %+v", calls[0])
	}
	if code(calls[1].Err) != "ClusterNotFoundException" {
		t.Errorf("the failed call's error is not recorded: %+v", calls[1])
	}
}

// A fault's After runs once the call took effect, before the answer: the state it sees
// is the call's.
func TestFaultAfterSeesTheCallServed(t *testing.T) {
	b := ct.New("demo")
	i := b.Instance("us-east-1a")
	b.Instance("us-east-1b")
	s := newSim(t, b)
	var seen string
	s.SetFaults(func(action string, n int) sim.Fault {
		if action != "UpdateContainerInstancesState" {
			return sim.Fault{}
		}
		return sim.Fault{After: func() { seen = i.Status }}
	})
	if _, err := s.UpdateContainerInstancesState(ctx, &ecs.UpdateContainerInstancesStateInput{Cluster: str("demo"), ContainerInstances: []string{i.ARN}, Status: "DRAINING"}); err != nil {
		t.Fatal(err)
	}
	if seen != cluster.StatusDraining {
		t.Errorf("After saw %q, want DRAINING", seen)
	}
}
