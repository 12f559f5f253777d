package sim_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
)

func protect(t *testing.T, s *sim.Sim, enabled bool, minutes int32, tasks ...*cluster.Task) *ecs.UpdateTaskProtectionOutput {
	t.Helper()
	in := &ecs.UpdateTaskProtectionInput{Cluster: str("demo"), ProtectionEnabled: enabled}
	if minutes > 0 {
		in.ExpiresInMinutes = aws.Int32(minutes)
	}
	for _, task := range tasks {
		in.Tasks = append(in.Tasks, task.ARN)
	}
	out, err := s.UpdateTaskProtection(ctx, in)
	if err != nil {
		t.Fatalf("UpdateTaskProtection: %v", err)
	}
	return out
}

func setDesired(t *testing.T, s *sim.Sim, service string, n int32) {
	t.Helper()
	if _, err := s.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: str("demo"), Service: str(service), DesiredCount: aws.Int32(n)}); err != nil {
		t.Fatalf("UpdateService(%s, desired %d): %v", service, n, err)
	}
}

func live(s *sim.Sim, tasks ...*cluster.Task) []bool {
	var out []bool
	s.View(func(*cluster.Cluster) {
		for _, t := range tasks {
			out = append(out, t.Live())
		}
	})
	return out
}

// ECS fact (task scale-in protection): a protected task is not stopped by a scale-in
// until its protection is cleared or expires, and a service with more protected tasks
// than its desired count waits.
func TestScaleInSkipsProtectedTasks(t *testing.T) {
	b := ct.New("demo")
	a, c := b.Instance("us-east-1a"), b.Instance("us-east-1b")
	svc := b.Service("web", ct.Desired(4))
	onA, onC := b.Tasks(svc, a, 2), b.Tasks(svc, c, 2)
	s := newSim(t, b)

	// Protect everything but one task on c, then scale in by one: that task stops, even
	// though both readings of the stop rule could have taken another one.
	protect(t, s, true, 5, onA[0], onA[1], onC[0])
	setDesired(t, s, "web", 3)
	s.Advance(time.Second)
	if diff := cmp.Diff([]bool{true, true, true, false}, live(s, onA[0], onA[1], onC[0], onC[1])); diff != "" {
		t.Errorf("live after scale-in (-want +got):\n%s", diff)
	}

	// Every remaining task protected and one more to go: it waits for the expiry.
	setDesired(t, s, "web", 2)
	s.Advance(4 * time.Minute)
	if v := viewService(s, "web"); v.Running != 3 {
		t.Errorf("a protected task stopped: %d running", v.Running)
	}
	s.Advance(2 * time.Minute)
	if v := viewService(s, "web"); v.Running != 2 {
		t.Errorf("after the protection expired: %d running, want 2", v.Running)
	}
}

func TestUnprotectingUnblocksAScaleIn(t *testing.T) {
	b := ct.New("demo")
	a := b.Instance("us-east-1a")
	svc := b.Service("web", ct.Desired(2))
	tasks := b.Tasks(svc, a, 2)
	s := newSim(t, b)
	protect(t, s, true, 0, tasks...) // ECS's default expiry: 120 minutes
	setDesired(t, s, "web", 1)
	s.Advance(time.Minute)
	if v := viewService(s, "web"); v.Running != 2 {
		t.Fatalf("%d running, want both protected tasks", v.Running)
	}
	protect(t, s, false, 0, tasks[1])
	s.Advance(time.Second)
	if diff := cmp.Diff([]bool{true, false}, live(s, tasks...)); diff != "" {
		t.Errorf("live after unprotecting the second (-want +got):\n%s", diff)
	}
}

// Deployments leave protected old tasks running until the protection ends.
func TestDeploymentWaitsForProtectedTasks(t *testing.T) {
	b := ct.New("demo")
	a, c := b.Instance("us-east-1a"), b.Instance("us-east-1b")
	svc := b.Service("web", ct.Desired(2))
	tasks := append(b.Tasks(svc, a, 1), b.Tasks(svc, c, 1)...)
	s := newSim(t, b)
	protect(t, s, true, 3, tasks[0])
	forceDeploy(t, s, "web")
	s.Advance(2 * wave)
	if diff := cmp.Diff([]bool{true, false}, live(s, tasks...)); diff != "" {
		t.Errorf("live during the deployment (-want +got):\n%s", diff)
	}
	s.Settle(time.Hour)
	if v := viewService(s, "web"); v.Rollout != cluster.RolloutCompleted || v.Running != 2 || live(s, tasks[0])[0] {
		t.Errorf("after the protection ended: %+v", v)
	}
}

func TestTaskProtectionAnswers(t *testing.T) {
	b := ct.New("demo")
	a := b.Instance("us-east-1a")
	svc := b.Service("web", ct.Desired(1))
	task := b.Tasks(svc, a, 1)[0]
	standalone := b.Standalone("batch", a, cluster.Resources{CPU: 128, Memory: 128})
	s := newSim(t, b)

	out, err := s.UpdateTaskProtection(ctx, &ecs.UpdateTaskProtectionInput{Cluster: str("demo"), ProtectionEnabled: true,
		ExpiresInMinutes: aws.Int32(10), Tasks: []string{task.ID(), standalone.ARN, "nope"}})
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, f := range out.Failures {
		reasons = append(reasons, aws.ToString(f.Reason))
	}
	if diff := cmp.Diff([]string{sim.FailureTaskNotValid, "MISSING"}, reasons); diff != "" {
		t.Errorf("failures (-want +got):\n%s", diff)
	}
	got, err := s.GetTaskProtection(ctx, &ecs.GetTaskProtectionInput{Cluster: str("demo"), Tasks: []string{task.ARN}})
	if err != nil || len(got.ProtectedTasks) != 1 {
		t.Fatalf("GetTaskProtection: %v %+v", err, got)
	}
	if p := got.ProtectedTasks[0]; !p.ProtectionEnabled || !aws.ToTime(p.ExpirationDate).Equal(ct.Epoch.Add(10*time.Minute)) {
		t.Errorf("protection %+v, want enabled until +10m", p)
	}
	s.Advance(10 * time.Minute)
	if got, _ := s.GetTaskProtection(ctx, &ecs.GetTaskProtectionInput{Cluster: str("demo"), Tasks: []string{task.ARN}}); got.ProtectedTasks[0].ProtectionEnabled {
		t.Error("protection outlived its expiry")
	}

	for _, bad := range []struct {
		name string
		in   *ecs.UpdateTaskProtectionInput
	}{
		{"11 tasks", &ecs.UpdateTaskProtectionInput{Cluster: str("demo"), Tasks: make([]string, 11)}},
		{"no task", &ecs.UpdateTaskProtectionInput{Cluster: str("demo")}},
		{"0 minutes", &ecs.UpdateTaskProtectionInput{Cluster: str("demo"), Tasks: []string{task.ARN}, ProtectionEnabled: true, ExpiresInMinutes: aws.Int32(0)}},
		{"2881 minutes", &ecs.UpdateTaskProtectionInput{Cluster: str("demo"), Tasks: []string{task.ARN}, ProtectionEnabled: true, ExpiresInMinutes: aws.Int32(2881)}},
	} {
		if _, err := s.UpdateTaskProtection(ctx, bad.in); code(err) != "InvalidParameterException" {
			t.Errorf("%s: %v, want InvalidParameterException", bad.name, err)
		}
	}
}

func TestServiceAndClusterTags(t *testing.T) {
	b := ct.New("demo")
	b.Instance("us-east-1a")
	svc := b.Service("web", ct.Tag("team", "a"))
	const legacy = "arn:aws:ecs:us-east-1:111122223333:service/legacy" // no cluster segment
	b.Service("legacy", func(s *cluster.Service) { s.ARN = legacy })
	s := newSim(t, b)
	clusterARN := ""
	s.View(func(c *cluster.Cluster) { clusterARN = c.ARN })

	tags := func(arn string) map[string]string {
		t.Helper()
		out, err := s.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: &arn})
		if err != nil {
			t.Fatalf("ListTagsForResource(%s): %v", arn, err)
		}
		m := map[string]string{}
		for _, tg := range out.Tags {
			m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		return m
	}
	tag := func(arn, k, v string) error {
		_, err := s.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: &arn, Tags: []types.Tag{{Key: &k, Value: &v}}})
		return err
	}
	if err := tag(svc.ARN, "ecs-rebalancer.surge", "3 2026-11-20T09:00:00Z"); err != nil {
		t.Fatal(err)
	}
	if err := tag(clusterARN, "moving", "yes"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"team": "a", "ecs-rebalancer.surge": "3 2026-11-20T09:00:00Z"}, tags(svc.ARN)); diff != "" {
		t.Errorf("service tags (-want +got):\n%s", diff)
	}
	if _, err := s.UntagResource(ctx, &ecs.UntagResourceInput{ResourceArn: &svc.ARN, TagKeys: []string{"ecs-rebalancer.surge", "absent"}}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"team": "a"}, tags(svc.ARN)); diff != "" {
		t.Errorf("service tags after untag (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"moving": "yes"}, tags(clusterARN)); diff != "" {
		t.Errorf("cluster tags (-want +got):\n%s", diff)
	}
	if err := tag(legacy, "k", "v"); code(err) != "InvalidParameterException" {
		t.Errorf("tagging a short-ARN service: %v, want InvalidParameterException", err)
	}
	if err := tag(svc.ARN, "aws:reserved", "v"); code(err) != "InvalidParameterException" {
		t.Errorf("an aws: key: %v, want InvalidParameterException", err)
	}
	if err := tag("arn:aws:ecs:us-east-1:111122223333:service/demo/nope", "k", "v"); code(err) != "ResourceNotFoundException" {
		t.Errorf("an unknown service: %v, want ResourceNotFoundException", err)
	}
}

// Protections and tags are part of what a checkpoint takes back.
func TestRollbackUndoesProtectionAndTags(t *testing.T) {
	b := ct.New("demo")
	a := b.Instance("us-east-1a")
	svc := b.Service("web", ct.Desired(2))
	tasks := b.Tasks(svc, a, 2)
	s := newSim(t, b)
	m := s.Checkpoint()
	protect(t, s, true, 5, tasks...)
	if _, err := s.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: &svc.ARN, Tags: []types.Tag{{Key: str("k"), Value: str("v")}}}); err != nil {
		t.Fatal(err)
	}
	s.Rollback(m)
	s.View(func(*cluster.Cluster) {
		if tasks[0].Protected(ct.Epoch) || len(svc.Tags) != 0 {
			t.Errorf("after rollback: protected %v, tags %v", tasks[0].Protected(ct.Epoch), svc.Tags)
		}
	})
}

// A raised desired count is not a service falling below its minimum healthy percent:
// the tasks it runs are as many as before while the new ones start.
func TestScaleOutIsNotBelowMinHealthy(t *testing.T) {
	b := ct.New("demo")
	a := b.Instance("us-east-1a")
	svc := b.Service("web", ct.Desired(4))
	tasks := b.Tasks(svc, a, 4)
	s := newSim(t, b)
	setDesired(t, s, "web", 6)
	s.Advance(time.Second)
	if st := s.Stats(); st.BelowMinHealthy != 0 {
		t.Errorf("a scale-out counted %d times below minimum healthy", st.BelowMinHealthy)
	}
	// A task dying meanwhile is below the count it had before the raise.
	if err := s.KillTask(tasks[0].ARN); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.BelowMinHealthy != 1 {
		t.Errorf("a task lost during the raise counted %d times, want 1", st.BelowMinHealthy)
	}
}
