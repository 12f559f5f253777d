package ecsrebalancer_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/ecs-rebalancer/ecs-rebalancer/ecsrebalancer"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
)

// env gives the test stacks a concrete account and region, so ARNs are plain strings.
var env = &awscdk.Environment{Account: jsii.String("111122223333"), Region: jsii.String("us-east-1")}

const prodARN = "arn:aws:ecs:us-east-1:111122223333:cluster/prod"

// synth builds the app's stacks with cdk-nag applied, against a dummy bootstrap.
func synth(t *testing.T, o ecsrebalancer.AppContext) map[string]awscdk.Stack {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bootstrap"), []byte("not a real binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	o.BootstrapDir, o.Env = dir, env
	app := awscdk.NewApp(nil)
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	out := map[string]awscdk.Stack{}
	built, err := ecsrebalancer.BuildApp(app, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range built {
		out[*s.StackName()] = s
	}
	return out
}

// template returns a stack's template as JSON values.
func template(t *testing.T, s awscdk.Stack) map[string]any {
	t.Helper()
	var out map[string]any
	b, err := json.Marshal(assertions.Template_FromStack(s, nil).ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// resources returns a template's resources of a type.
func resources(tpl map[string]any, typ string) []map[string]any {
	var out []map[string]any
	for _, r := range tpl["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] == typ {
			props, _ := res["Properties"].(map[string]any)
			out = append(out, props)
		}
	}
	return out
}

// resolve evaluates the intrinsics CDK leaves in an environment-specific template
// (Fn::Join and the pseudo parameters), anywhere in v, and returns the string (for a
// string) or the JSON CloudFormation would produce.
func resolve(v any) string {
	r := deepResolve(v)
	if s, ok := r.(string); ok {
		return s
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(r)
	return strings.TrimSpace(b.String())
}

func deepResolve(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if ref, ok := x["Ref"].(string); ok {
			if p, ok := map[string]string{"AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": "111122223333"}[ref]; ok {
				return p
			}
			return x
		}
		if ga, ok := x["Fn::GetAtt"].([]any); ok {
			if id := ga[0].(string); strings.HasPrefix(id, "Cluster") && ga[1] == "Arn" {
				return "arn:aws:ecs:us-east-1:111122223333:cluster/<" + id + ".Arn>" // split by the move's ARN patterns
			}
			return "<" + ga[0].(string) + "." + ga[1].(string) + ">"
		}
		if sp, ok := x["Fn::Split"].([]any); ok {
			if str, isString := deepResolve(sp[1]).(string); isString {
				var out []any
				for _, p := range strings.Split(str, sp[0].(string)) {
					out = append(out, p)
				}
				return out
			}
			return x
		}
		if sel, ok := x["Fn::Select"].([]any); ok {
			if list, isList := deepResolve(sel[1]).([]any); isList {
				if n := int(sel[0].(float64)); n < len(list) {
					return list[n]
				}
			}
			return x
		}
		if j, ok := x["Fn::Join"].([]any); ok {
			var parts []string
			for _, p := range j[1].([]any) {
				r, isString := deepResolve(p).(string)
				if !isString {
					return x
				}
				parts = append(parts, r)
			}
			return strings.Join(parts, j[0].(string))
		}
		out := map[string]any{}
		for k, e := range x {
			out[k] = deepResolve(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for k, e := range x {
			out[k] = deepResolve(e)
		}
		return out
	}
	return v
}

func one(t *testing.T, tpl map[string]any, typ string) map[string]any {
	t.Helper()
	rs := resources(tpl, typ)
	if len(rs) != 1 {
		t.Fatalf("%d %s resources, want 1", len(rs), typ)
	}
	return rs[0]
}

// README, "Deploy": cdk-nag AwsSolutions with zero unsuppressed findings, in both stacks.
func TestNagClean(t *testing.T) {
	stacks := synth(t, ecsrebalancer.AppContext{ClusterName: "prod", Demo: true, Package: true, StackOptions: ecsrebalancer.StackOptions{Schedule: "rate(1 hour)", AlarmEmail: "ops@example.com"}})
	for name, s := range stacks {
		t.Run(name, func(t *testing.T) {
			ann := assertions.Annotations_FromStack(s)
			any := assertions.Match_StringLikeRegexp(jsii.String(".*"))
			// HasNo* list every finding in their panic (the Find* variants return a
			// deprecated cxapi type).
			holds(t, "errors", func() { ann.HasNoError(jsii.String("*"), any) })
			holds(t, "warnings", func() { ann.HasNoWarning(jsii.String("*"), any) })
		})
	}
}

// holds runs a CDK assertion, which fails by panicking with what it found, as a test
// error.
func holds(t *testing.T, what string, assert func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	assert()
}

func TestFunction(t *testing.T) {
	for name, o := range map[string]ecsrebalancer.AppContext{
		"attach": {ClusterName: "prod"},
		"demo":   {Demo: true},
	} {
		t.Run(name, func(t *testing.T) {
			for _, s := range synth(t, o) {
				tpl := assertions.Template_FromStack(s, nil)
				vars := map[string]any{}
				for _, k := range []string{"STRATEGY", "COV_PERCENT", "DRAIN_SLEEP_TIME", "DRAIN_TIMEOUT", "DRAIN_MAX_INSTANCES",
					"REBALANCE_MAX_RETRY", "MAX_SERVICES_PER_RUN", "PREDICTION_SAMPLES", "JOIN_WINDOW", "OPT_OUT_TAG", "DRY_RUN", "LOG_LEVEL", "CLUSTERS"} {
					vars[k] = assertions.Match_AnyValue()
				}
				logGroup := assertions.NewCapture(nil)
				holds(t, "function", func() {
					tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
						"Runtime": "provided.al2023", "Architectures": []any{"arm64"}, "MemorySize": 128,
						"Timeout": 665, "ReservedConcurrentExecutions": 1, "Handler": "bootstrap",
						"LoggingConfig": map[string]any{"LogFormat": "JSON", "LogGroup": map[string]any{"Ref": logGroup}},
						"Environment":   map[string]any{"Variables": vars},
					})
				})
				retained := tpl.FindResources(jsii.String("AWS::Logs::LogGroup"), map[string]any{"Properties": map[string]any{"RetentionInDays": 30}})
				if _, ok := (*retained)[*logGroup.AsString()]; !ok {
					t.Errorf("the function's log group %s does not keep logs 30 days", *logGroup.AsString())
				}
				// The environment parses with the function's own configuration code
				// (CLUSTERS is an intrinsic until resolved: the ARN is built at deploy).
				if name == "attach" {
					fn := one(t, template(t, s), "AWS::Lambda::Function")
					env := map[string]string{}
					for k, v := range fn["Environment"].(map[string]any)["Variables"].(map[string]any) {
						env[k] = resolve(v)
					}
					cfg, err := config.FromEnv(func(k string) string { return env[k] })
					if err != nil || !cfg.ActsOn("prod", prodARN) || cfg.DryRun {
						t.Errorf("the function would read: %+v, %v", cfg, err)
					}
				}
			}
		})
	}
}

// The timeout is the worst-case drain time plus the margin, never above 900 s.
func TestTimeoutArithmetic(t *testing.T) {
	tests := []struct {
		name string
		edit func(*config.Config)
		want float64
	}{
		{"defaults: (1+3) x 2 x (45+30) + 60 + 20 x 0.25", func(*config.Config) {}, 665},
		{"force-new-deployment never drains", func(c *config.Config) { c.Strategy = "force-new-deployment" }, 65},
		{"no drain rounds: a move's 2 x 5 min still", func(c *config.Config) { c.DrainMaxInstances = 0 }, 665},
		{"move alone: 2 x MOVE_WAIT + 60 + 20 x 0.25", func(c *config.Config) { c.Strategy, c.MoveWait = "move", 3*time.Minute }, 425},
		{"drain alone, no rounds", func(c *config.Config) { c.Strategy, c.DrainMaxInstances = "drain", 0 }, 65},
		{"the largest that fits: (1+2) x 3 x (60+30) + 60 + 100 x 0.25", func(c *config.Config) {
			c.RebalanceMaxRetry, c.DrainMaxInstances, c.DrainTimeout, c.MaxServicesPerRun = 2, 3, time.Minute, 100
		}, 895},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			tt.edit(&cfg)
			for _, s := range synth(t, ecsrebalancer.AppContext{ClusterName: "prod", StackOptions: ecsrebalancer.StackOptions{Settings: &cfg}}) {
				if got := one(t, template(t, s), "AWS::Lambda::Function")["Timeout"]; got != tt.want {
					t.Errorf("Timeout = %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// Invalid settings fail synth with every problem named.
func TestInvalidPropsFailSynth(t *testing.T) {
	bad := config.Default()
	bad.Strategy, bad.COVPercent, bad.DrainMaxInstances = "yolo", 300, 3
	bad.RebalanceMaxRetry, bad.DrainTimeout = 5, time.Minute
	tests := []struct {
		name  string
		props ecsrebalancer.RebalancerProps
		want  []string
	}{
		{"no cluster", ecsrebalancer.RebalancerProps{}, []string{"ClusterArns: at least one cluster is required"}},
		{"empty cluster ARN", ecsrebalancer.RebalancerProps{ClusterArns: []*string{jsii.String("")}}, []string{"ClusterArns[0]: empty"}},
		{"every bad setting at once", ecsrebalancer.RebalancerProps{ClusterArns: []*string{jsii.String(prodARN)}, Settings: &bad},
			[]string{"STRATEGY=yolo", "COV_PERCENT=300"}},
		{"worst-case drain above 900 s", ecsrebalancer.RebalancerProps{ClusterArns: []*string{jsii.String(prodARN)}, Settings: func() *config.Config {
			c := config.Default()
			c.RebalanceMaxRetry, c.DrainMaxInstances, c.DrainTimeout = 5, 3, time.Minute
			return &c
		}()}, []string{"exceeds Lambda's 900s"}},
	}
	t.Run("nil props", func(t *testing.T) {
		var p *ecsrebalancer.RebalancerProps
		if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "ClusterArns needs at least one cluster") {
			t.Errorf("Validate on nil props: %v", err)
		}
	})
	t.Run("an app with nothing to synthesize", func(t *testing.T) {
		if _, err := ecsrebalancer.BuildApp(awscdk.NewApp(nil), ecsrebalancer.AppContext{}); err == nil || !strings.Contains(err.Error(), "nothing to synthesize") {
			t.Errorf("BuildApp with no stack asked for: %v", err)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.props.Validate()
			msg := fmt.Sprint(func() (r any) {
				defer func() { r = recover() }()
				stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("S"), &awscdk.StackProps{Env: env})
				p := tt.props
				p.BootstrapDir = t.TempDir()
				ecsrebalancer.NewRebalancer(stack, "R", &p)
				return nil
			}())
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) || !strings.Contains(msg, w) {
					t.Errorf("want %q in Validate (%v) and in the synth panic (%s)", w, err, msg)
				}
			}
		})
	}
}

// policyOf returns the statements of the function role's policy, intrinsics resolved.
func policyOf(t *testing.T, tpl map[string]any) []map[string]any {
	t.Helper()
	fn := one(t, tpl, "AWS::Lambda::Function")
	roleID := fn["Role"].(map[string]any)["Fn::GetAtt"].([]any)[0]
	var out []map[string]any
	for _, p := range resources(tpl, "AWS::IAM::Policy") {
		for _, r := range p["Roles"].([]any) {
			if r.(map[string]any)["Ref"] == roleID {
				for _, st := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
					out = append(out, st.(map[string]any))
				}
			}
		}
	}
	return out
}

// README, "Required IAM actions": only the actions the code calls, each scoped to the
// cluster; `*` only with the ecs:cluster condition; no managed policy.
func TestIAMLeastPrivilege(t *testing.T) {
	for name, o := range map[string]ecsrebalancer.AppContext{"attach": {ClusterName: "prod"}, "demo": {Demo: true}} {
		t.Run(name, func(t *testing.T) {
			for _, s := range synth(t, o) {
				tpl := template(t, s)
				clusterArn := prodARN
				if name == "demo" {
					// The demo cluster's ARN is the cluster resource's.
					clusterArn = "demo-cluster"
				}
				type stmt struct {
					Sid, Effect, Condition string
					Actions, Resources     []string
				}
				var got []stmt
				for _, st := range policyOf(t, tpl) {
					g := stmt{Effect: st["Effect"].(string)}
					g.Sid, _ = st["Sid"].(string)
					g.Actions = strs(st["Action"])
					for _, r := range list(st["Resource"]) {
						g.Resources = append(g.Resources, normalize(resolve(r), name))
					}
					if c, ok := st["Condition"]; ok {
						g.Condition = normalize(resolve(c), name)
					}
					got = append(got, g)
				}
				onCluster := `{"ArnEquals":{"ecs:cluster":["` + clusterArn + `"]}}`
				// The cluster's services or tasks: arn:...:service/CLUSTER/*.
				in := func(kind string) string {
					if name == "demo" {
						return "demo-cluster:" + kind + "/*"
					}
					return strings.Replace(clusterArn, ":cluster/", ":"+kind+"/", 1) + "/*"
				}
				want := []stmt{
					{Sid: "ListInstances", Effect: "Allow", Actions: []string{"ecs:ListContainerInstances"}, Resources: []string{clusterArn}},
					{Sid: "ListServices", Effect: "Allow", Actions: []string{"ecs:ListServices"}, Resources: []string{"*"}, Condition: onCluster},
					{Sid: "ReadAndRebalance", Effect: "Allow", Actions: []string{
						"ecs:DeleteAttributes", "ecs:DescribeContainerInstances", "ecs:DescribeServices", "ecs:DescribeTasks",
						"ecs:ListTasks", "ecs:PutAttributes", "ecs:UpdateContainerInstancesState", "ecs:UpdateService",
					}, Resources: []string{"*"}, Condition: onCluster},
					{Sid: "MoveMarkers", Effect: "Allow", Actions: []string{"ecs:ListTagsForResource", "ecs:TagResource", "ecs:UntagResource"},
						Resources: []string{clusterArn, in("service")}},
					{Sid: "MoveProtection", Effect: "Allow", Actions: []string{"ecs:GetTaskProtection", "ecs:UpdateTaskProtection"},
						Resources: []string{in("task")}},
					{Sid: "Logs", Effect: "Allow", Actions: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resources: []string{"<function log group>:*"}},
					// The dead-letter queue of the function's async invocations.
					{Effect: "Allow", Actions: []string{"sqs:SendMessage"}, Resources: []string{"<dead-letter queue>"}},
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("the function's permissions (-want +got):\n%s", diff)
				}
				fn := one(t, tpl, "AWS::Lambda::Function")
				roleID := fn["Role"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
				role := tpl["Resources"].(map[string]any)[roleID].(map[string]any)["Properties"].(map[string]any)
				if _, ok := role["ManagedPolicyArns"]; ok {
					t.Errorf("the function role has managed policies: %v", role["ManagedPolicyArns"])
				}
			}
		})
	}
}

func strs(v any) []string {
	var out []string
	for _, x := range list(v) {
		out = append(out, x.(string))
	}
	slices.Sort(out)
	return out
}

func list(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// normalize replaces references to the stack's own resources by what they are.
func normalize(s, stack string) string {
	s = regexp.MustCompile(`<RebalancerLogs[0-9A-F]+\.Arn>`).ReplaceAllString(s, "<function log group>")
	s = regexp.MustCompile(`<RebalancerDeadLetterQueue[0-9A-F]+\.Arn>`).ReplaceAllString(s, "<dead-letter queue>")
	if stack == "demo" {
		s = regexp.MustCompile(`arn:aws:ecs:us-east-1:111122223333:(service|task)/<Cluster[0-9A-F]+\.Arn>`).ReplaceAllString(s, "demo-cluster:$1")
		s = regexp.MustCompile(`arn:aws:ecs:us-east-1:111122223333:cluster/<Cluster[0-9A-F]+\.Arn>`).ReplaceAllString(s, "demo-cluster")
	}
	return s
}

func TestDeadLetterQueueAndAlarms(t *testing.T) {
	tests := map[string]struct {
		opts     ecsrebalancer.AppContext
		rules    int
		schedule string
		actions  int
	}{
		"attach with schedule and alarm email": {ecsrebalancer.AppContext{ClusterName: "prod", StackOptions: ecsrebalancer.StackOptions{AlarmEmail: "ops@example.com", Schedule: "rate(1 hour)"}}, 2, "rate(1 hour)", 1},
		"demo":                                 {ecsrebalancer.AppContext{Demo: true}, 1, "", 0},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			for _, s := range synth(t, tt.opts) {
				tpl := assertions.Template_FromStack(s, nil)
				queues := tpl.FindResources(jsii.String("AWS::SQS::Queue"), map[string]any{"Properties": map[string]any{
					"MessageRetentionPeriod": 1209600, "SqsManagedSseEnabled": true,
				}})
				if len(*queues) != 1 {
					t.Fatalf("%d encrypted dead-letter queues keeping messages 14 days, want 1", len(*queues))
				}
				var queue string
				for id := range *queues {
					queue = id
				}
				queueArn := map[string]any{"Fn::GetAtt": []any{queue, "Arn"}}
				holds(t, "rules", func() { tpl.ResourceCountIs(jsii.String("AWS::Events::Rule"), jsii.Number(float64(tt.rules))) })
				holds(t, "every rule's target", func() {
					tpl.AllResourcesProperties(jsii.String("AWS::Events::Rule"), map[string]any{"Targets": []any{map[string]any{
						"DeadLetterConfig": map[string]any{"Arn": queueArn},
						"RetryPolicy":      map[string]any{"MaximumRetryAttempts": 4, "MaximumEventAgeInSeconds": 600},
					}}})
				})
				schedules := tpl.FindResources(jsii.String("AWS::Events::Rule"), map[string]any{"Properties": map[string]any{"ScheduleExpression": assertions.Match_AnyValue()}})
				if want := map[bool]int{true: 1, false: 0}[tt.schedule != ""]; len(*schedules) != want {
					t.Errorf("%d scheduled rules, want %d", len(*schedules), want)
				}
				if tt.schedule != "" {
					holds(t, "schedule", func() {
						tpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]any{"ScheduleExpression": tt.schedule})
					})
				}
				holds(t, "the function's dead letters", func() {
					tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{"DeadLetterConfig": map[string]any{"TargetArn": queueArn}})
				})
				holds(t, "async invoke config: an event older than JOIN_WINDOW cannot be a join", func() {
					tpl.HasResourceProperties(jsii.String("AWS::Lambda::EventInvokeConfig"), map[string]any{"MaximumEventAgeInSeconds": 600, "MaximumRetryAttempts": 2})
				})
				doc := resolve(one(t, template(t, s), "AWS::SQS::QueuePolicy")["PolicyDocument"])
				if !strings.Contains(doc, `"aws:SecureTransport":"false"`) || !strings.Contains(doc, `"Service":"events.amazonaws.com"`) {
					t.Errorf("queue policy must deny plain HTTP and let EventBridge deliver: %s", doc)
				}
				var actions any = assertions.Match_Absent()
				if tt.actions > 0 {
					each := make([]any, tt.actions)
					for k := range each {
						each[k] = assertions.Match_AnyValue()
					}
					actions = each
				}
				holds(t, "alarms", func() { tpl.ResourceCountIs(jsii.String("AWS::CloudWatch::Alarm"), jsii.Number(2)) })
				for _, metric := range []string{"Errors", "ApproximateNumberOfMessagesVisible"} {
					holds(t, "alarm on "+metric, func() {
						tpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{"MetricName": metric, "Threshold": 1, "AlarmActions": actions})
					})
				}
			}
		})
	}
}

func TestDemoStack(t *testing.T) {
	for _, s := range synth(t, ecsrebalancer.AppContext{Demo: true}) {
		tpl := assertions.Template_FromStack(s, nil)
		holds(t, "no NAT gateway", func() { tpl.ResourceCountIs(jsii.String("AWS::EC2::NatGateway"), jsii.Number(0)) })
		holds(t, "one capacity provider", func() { tpl.ResourceCountIs(jsii.String("AWS::ECS::CapacityProvider"), jsii.Number(1)) })
		holds(t, "one function", func() { tpl.ResourceCountIs(jsii.String("AWS::Lambda::Function"), jsii.Number(1)) })
		// The image is an SSM parameter resolved at deploy time: no lookup at synth.
		image := assertions.NewCapture(nil)
		holds(t, "instances", func() {
			tpl.HasResourceProperties(jsii.String("AWS::EC2::LaunchTemplate"), map[string]any{
				"LaunchTemplateData": map[string]any{"InstanceType": "t4g.small", "ImageId": map[string]any{"Ref": image}},
			})
		})
		holds(t, "the image parameter", func() {
			tpl.HasParameter(image.AsString(), map[string]any{"Default": assertions.Match_StringLikeRegexp(jsii.String("amazon-linux-2023/arm64"))})
		})
		holds(t, "sample service placement", func() {
			tpl.HasResourceProperties(jsii.String("AWS::ECS::Service"), map[string]any{
				"PlacementStrategies": []any{
					map[string]any{"Type": "spread", "Field": "attribute:ecs.availability-zone"},
					map[string]any{"Type": "spread", "Field": "instanceId"},
				},
			})
		})
	}
}

// The runbook's handles: the stack outputs (fixed keys, for make pause and resume) and
// a dashboard of what the rebalancer did.
func TestOutputsAndDashboard(t *testing.T) {
	for _, s := range synth(t, ecsrebalancer.AppContext{ClusterName: "prod", StackOptions: ecsrebalancer.StackOptions{Schedule: "rate(1 hour)"}}) {
		tpl := assertions.Template_FromStack(s, nil)
		for _, k := range []string{ecsrebalancer.OutputFunction, ecsrebalancer.OutputJoinRule, ecsrebalancer.OutputSchedule, ecsrebalancer.OutputQueue, ecsrebalancer.OutputDashboard} {
			holds(t, "output "+k, func() { tpl.HasOutput(jsii.String(k), map[string]any{"Value": assertions.Match_AnyValue()}) })
		}
		// The body is a Fn::Join of the metrics' JSON and the stack's names.
		body := resolve(one(t, template(t, s), "AWS::CloudWatch::Dashboard")["DashboardBody"])
		for _, want := range []string{"ECSRebalancer", "Decisions", "TasksRestarted", "InstancesDrained", "COV", "Errors", "ApproximateNumberOfMessagesVisible", "filter message"} {
			if !strings.Contains(body, want) {
				t.Errorf("dashboard lacks %s: %.300s", want, body)
			}
		}
	}
}

// make package's template: a plain CloudFormation template with parameters and no CDK
// bootstrap, holding the same resources as the stack that attaches to a cluster.
func TestPackageStack(t *testing.T) {
	stack := synth(t, ecsrebalancer.AppContext{Package: true})[ecsrebalancer.PackageStackID]
	tpl := assertions.Template_FromStack(stack, nil)
	for _, p := range []string{ecsrebalancer.ParamCluster, ecsrebalancer.ParamCodeBucket, ecsrebalancer.ParamCodeKey, ecsrebalancer.ParamStrategy} {
		holds(t, "parameter "+p, func() { tpl.HasParameter(jsii.String(p), map[string]any{"Type": "String"}) })
	}
	holds(t, "DRY_RUN defaults to true: a first deploy should decide and report only", func() {
		tpl.HasParameter(jsii.String(ecsrebalancer.ParamDryRun), map[string]any{"Default": "true"})
	})
	if n := len(*tpl.FindParameters(jsii.String("BootstrapVersion"), nil)); n != 0 {
		t.Errorf("the template checks a CDK bootstrap version")
	}
	if rules := template(t, stack)["Rules"]; rules != nil {
		t.Errorf("the template has rules (a bootstrap check): %v", rules)
	}
	holds(t, "the function's code and settings are the parameters", func() {
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
			"Code": map[string]any{"S3Bucket": map[string]any{"Ref": ecsrebalancer.ParamCodeBucket}, "S3Key": map[string]any{"Ref": ecsrebalancer.ParamCodeKey}},
			"Environment": map[string]any{"Variables": map[string]any{
				"STRATEGY": map[string]any{"Ref": ecsrebalancer.ParamStrategy}, "DRY_RUN": map[string]any{"Ref": ecsrebalancer.ParamDryRun},
			}},
		})
	})
	// The same resources as the stack that attaches to a cluster by name.
	types := func(tpl map[string]any) map[string]int {
		out := map[string]int{}
		for _, r := range tpl["Resources"].(map[string]any) {
			out[r.(map[string]any)["Type"].(string)]++
		}
		return out
	}
	attach := template(t, synth(t, ecsrebalancer.AppContext{ClusterName: "prod"})["EcsRebalancer-prod"])
	if diff := cmp.Diff(types(attach), types(template(t, stack))); diff != "" {
		t.Errorf("resource types (-attach +package):\n%s", diff)
	}
}

// A stack's own StackProps reach the stack: a description of the user's replaces the
// default one, which stays when none is given.
func TestStackPropsPassThrough(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bootstrap"), []byte("not a real binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(nil)
	mine := ecsrebalancer.NewAttachStack(app, "Mine", &ecsrebalancer.AttachStackProps{
		StackProps: awscdk.StackProps{Env: env, Description: jsii.String("ours, attached to prod")}, ClusterName: "prod",
		StackOptions: ecsrebalancer.StackOptions{BootstrapDir: dir}})
	plain := ecsrebalancer.NewAttachStack(app, "Plain", &ecsrebalancer.AttachStackProps{
		StackProps: awscdk.StackProps{Env: env}, ClusterName: "prod", StackOptions: ecsrebalancer.StackOptions{BootstrapDir: dir}})
	got := []any{template(t, mine)["Description"], template(t, plain)["Description"], *mine.Account()}
	want := []any{"ours, attached to prod", "ecs-rebalancer attached to ECS cluster prod", *env.Account}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
