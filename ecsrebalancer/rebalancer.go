// Package ecsrebalancer is the CDK side of ecs-rebalancer: a construct any Go CDK app can
// import (NewRebalancer), and the stacks of this project's app (cmd/app).
package ecsrebalancer

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/rebalance"
)

// DefaultBootstrapDir is where `make build` puts the Lambda binary.
const DefaultBootstrapDir = "build/rebalancer"

// RebalancerProps configure a Rebalancer.
type RebalancerProps struct {
	// ClusterArns are the clusters the function acts on (at least one). The rule
	// matches their events, IAM is scoped to them, and a schedule checks them.
	ClusterArns []*string
	// Settings are the settings of README, "Configuration"; nil means config.Default().
	// Settings.Clusters is ignored: ClusterArns decide. They are validated at synth
	// exactly as the function validates them at cold start.
	Settings *config.Config
	// Schedule optionally runs the COV check on every cluster without a join
	// (e.g. awsevents.Schedule_Rate(awscdk.Duration_Hours(jsii.Number(1)))).
	Schedule awsevents.Schedule
	// AlarmAction, when set, is notified by both alarms (function errors, DLQ depth).
	AlarmAction awscloudwatch.IAlarmAction
	// BootstrapDir holds the built `bootstrap` (default build/rebalancer), used as a
	// CDK asset unless Code is set.
	BootstrapDir string
	// Code, when set, is where the function's code comes from instead (the package
	// stack's S3 object, which needs no CDK bootstrap).
	Code awslambda.Code
	// LogRetention of the function's log group (default one month).
	LogRetention awslogs.RetentionDays
}

// Rebalancer is the deployed rebalancer: the function, its rule(s), the dead-letter
// queue and the alarms.
type Rebalancer struct {
	constructs.Construct
	Function        awslambda.Function
	Rule            awsevents.Rule
	ScheduleRule    awsevents.Rule // nil without a schedule
	DeadLetterQueue awssqs.Queue
	ErrorsAlarm     awscloudwatch.Alarm
	DLQAlarm        awscloudwatch.Alarm
	Dashboard       awscloudwatch.Dashboard
}

// Stack outputs, with fixed logical IDs so a runbook (make pause, make resume) can
// look them up: one Rebalancer per stack.
const (
	OutputFunction  = "RebalancerFunctionName"
	OutputJoinRule  = "RebalancerJoinRuleName"
	OutputSchedule  = "RebalancerScheduleRuleName"
	OutputQueue     = "RebalancerDeadLetterQueueUrl"
	OutputDashboard = "RebalancerDashboardName"
)

// Validate checks props and returns every problem, the settings' included (the same
// validation the function runs at cold start).
func (p *RebalancerProps) Validate() error {
	if p == nil {
		return errors.New("invalid rebalancer settings:\n  props are nil: ClusterArns needs at least one cluster")
	}
	var problems []string
	if len(p.ClusterArns) == 0 {
		problems = append(problems, "ClusterArns: at least one cluster is required")
	}
	for k, arn := range p.ClusterArns {
		if arn == nil || *arn == "" {
			problems = append(problems, fmt.Sprintf("ClusterArns[%d]: empty", k))
		}
	}
	if err := p.settings().Validate(); err != nil {
		problems = append(problems, strings.Split(err.Error(), "\n")...)
	}
	if len(problems) > 0 {
		return fmt.Errorf("invalid rebalancer settings:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}

func (p *RebalancerProps) settings() config.Config {
	if p.Settings == nil {
		return config.Default()
	}
	return *p.Settings
}

// NewRebalancer adds the rebalancer to scope. Invalid props panic with every problem
// listed, which fails `cdk synth`.
func NewRebalancer(scope constructs.Construct, id string, props *RebalancerProps) *Rebalancer {
	if err := props.Validate(); err != nil {
		panic(err.Error())
	}
	cfg := props.settings()
	c := constructs.NewConstruct(scope, jsii.String(id))
	r := &Rebalancer{Construct: c}

	r.DeadLetterQueue = awssqs.NewQueue(c, jsii.String("DeadLetterQueue"), &awssqs.QueueProps{
		EnforceSSL:      jsii.Bool(true),
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})

	retention := props.LogRetention
	if retention == "" {
		retention = awslogs.RetentionDays_ONE_MONTH
	}
	logGroup := awslogs.NewLogGroup(c, jsii.String("Logs"), &awslogs.LogGroupProps{
		Retention:     retention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	role := awsiam.NewRole(c, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("ecs-rebalancer: read its clusters, redeploy and drain their instances, write its logs"),
	})
	for _, st := range statements(props.ClusterArns, *logGroup.LogGroupArn()) {
		role.AddToPolicy(st)
	}

	code := props.Code
	if code == nil {
		dir := props.BootstrapDir
		if dir == "" {
			dir = DefaultBootstrapDir
		}
		code = awslambda.Code_FromAsset(jsii.String(dir), nil)
	}
	maxEventAge := awscdk.Duration_Seconds(jsii.Number(max(60, cfg.JoinWindow.Seconds())))
	r.Function = awslambda.NewFunction(c, jsii.String("Function"), &awslambda.FunctionProps{
		Description:                  jsii.String("ecs-rebalancer: rebalances ECS tasks when a container instance joins"),
		Runtime:                      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:                 awslambda.Architecture_ARM_64(),
		Handler:                      jsii.String("bootstrap"),
		Code:                         code,
		MemorySize:                   jsii.Number(128),
		Timeout:                      awscdk.Duration_Seconds(jsii.Number(cfg.FunctionTimeout().Seconds())),
		ReservedConcurrentExecutions: jsii.Number(1),
		LoggingFormat:                awslambda.LoggingFormat_JSON,
		LogGroup:                     logGroup,
		Role:                         role,
		Environment:                  environment(cfg, props.ClusterArns),
		// An event older than the join window can no longer be a join.
		MaxEventAge:     maxEventAge,
		RetryAttempts:   jsii.Number(2),
		DeadLetterQueue: r.DeadLetterQueue,
	})

	// The pattern (docs/decisions.md, "What it does with an event"): everything but a new, empty,
	// connected ACTIVE instance is filtered out before it costs an invocation.
	// runningTasksCount is optional in the event schema (AWS's own sample lacks it),
	// hence 0 or absent.
	r.Rule = awsevents.NewRule(c, jsii.String("JoinRule"), &awsevents.RuleProps{
		Description:  jsii.String("ecs-rebalancer: a container instance joined (ACTIVE, connected, no tasks)"),
		EventPattern: JoinPattern(props.ClusterArns),
	})
	target := awseventstargets.NewLambdaFunction(r.Function, &awseventstargets.LambdaFunctionProps{
		DeadLetterQueue: r.DeadLetterQueue,
		MaxEventAge:     maxEventAge,
		RetryAttempts:   jsii.Number(4),
	})
	r.Rule.AddTarget(target)
	if props.Schedule != nil {
		r.ScheduleRule = awsevents.NewRule(c, jsii.String("ScheduleRule"), &awsevents.RuleProps{
			Description: jsii.String("ecs-rebalancer: scheduled COV check of its clusters"),
			Schedule:    props.Schedule,
		})
		r.ScheduleRule.AddTarget(target)
	}

	fiveMinutes := awscdk.Duration_Minutes(jsii.Number(5))
	r.ErrorsAlarm = alarmOnAny(c, "ErrorsAlarm", "ecs-rebalancer failed an invocation: read its decision record in the function's logs",
		r.Function.MetricErrors(&awscloudwatch.MetricOptions{Period: fiveMinutes, Statistic: jsii.String("Sum")}))
	r.DLQAlarm = alarmOnAny(c, "DeadLetterAlarm", "ecs-rebalancer events reached the dead-letter queue: they were never handled",
		r.DeadLetterQueue.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: fiveMinutes, Statistic: jsii.String("Maximum")}))
	if props.AlarmAction != nil {
		r.ErrorsAlarm.AddAlarmAction(props.AlarmAction)
		r.DLQAlarm.AddAlarmAction(props.AlarmAction)
	}

	r.Dashboard = dashboard(c, r, logGroup)
	output := func(id string, value *string, what string) {
		awscdk.NewCfnOutput(c, jsii.String(id), &awscdk.CfnOutputProps{Value: value, Description: jsii.String(what)}).OverrideLogicalId(jsii.String(id))
	}
	output(OutputFunction, r.Function.FunctionName(), "the rebalancer's function")
	output(OutputJoinRule, r.Rule.RuleName(), "the rule that delivers joins: disable it to pause the rebalancer (make pause)")
	if r.ScheduleRule != nil {
		output(OutputSchedule, r.ScheduleRule.RuleName(), "the schedule's rule")
	}
	output(OutputQueue, r.DeadLetterQueue.QueueUrl(), "events the function never handled")
	output(OutputDashboard, r.Dashboard.DashboardName(), "decisions, restarts, COV, drains, errors")

	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("ecs:ListServices supports no resource-level permission, and the container-instance, service and task actions are on * " +
			"with the ecs:cluster condition (it also covers legacy ARNs without the cluster name); logs:* actions are on the function's own log group's streams."),
		AppliesTo: &[]interface{}{jsii.String("Resource::*"), &cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<.*Logs[0-9A-F]*\.Arn>:\*$/`)}},
	}, {
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("the move strategy tags the clusters' own services and protects their own tasks, which it finds at run time: " +
			"the resources are the service and task ARNs under each configured cluster (service/CLUSTER/*, task/CLUSTER/*)."),
		AppliesTo: &[]interface{}{&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::.*:(service|task)\/.*\/\*$/`)}},
	}}, jsii.Bool(true))
	return r
}

// dashboard shows what the rebalancer did, from the metrics its decision records carry
// (embedded metric format, namespace ECSRebalancer, one series per cluster) and the
// function's own: decisions, tasks restarted, COV, instances drained, errors and the
// dead-letter queue's depth, and the last decisions from the log group.
func dashboard(scope constructs.Construct, r *Rebalancer, logs awslogs.ILogGroup) awscloudwatch.Dashboard {
	five := awscdk.Duration_Minutes(jsii.Number(5))
	perCluster := func(label, metric, stat string) awscloudwatch.IMetric {
		return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Label:      jsii.String(label),
			Expression: jsii.String(fmt.Sprintf(`SEARCH('{%s,Cluster} MetricName="%s"', '%s', 300)`, rebalance.MetricsNamespace, metric, stat)),
			Period:     five,
		})
	}
	graph := func(title string, metrics ...awscloudwatch.IMetric) awscloudwatch.IWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String(title), Left: &metrics, Width: jsii.Number(8)})
	}
	d := awscloudwatch.NewDashboard(scope, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{})
	d.AddWidgets(
		graph("Decisions", perCluster("decisions", "Decisions", "Sum")),
		graph("Tasks restarted (predicted)", perCluster("restarts", "TasksRestarted", "Sum")),
		graph("COV before acting (%)", perCluster("COV", "COV", "Average")),
	)
	d.AddWidgets(
		graph("Instances drained", perCluster("drained", "InstancesDrained", "Sum")),
		graph("Function errors", r.Function.MetricErrors(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")})),
		graph("Dead-letter queue", r.DeadLetterQueue.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Maximum")})),
	)
	d.AddWidgets(awscloudwatch.NewLogQueryWidget(&awscloudwatch.LogQueryWidgetProps{
		Title:         jsii.String("Last decisions"),
		LogGroupNames: &[]*string{logs.LogGroupName()},
		QueryLines: &[]*string{
			jsii.String("fields @timestamp, cluster, decision, reason, covBefore, covPredicted"),
			jsii.String(`filter message = "decision"`),
			jsii.String("sort @timestamp desc"),
			jsii.String("limit 20"),
		},
		Width: jsii.Number(24),
	}))
	return d
}

// alarmOnAny alarms as soon as the metric reaches 1 in one period; no data is fine.
func alarmOnAny(scope constructs.Construct, id, description string, metric awscloudwatch.IMetric) awscloudwatch.Alarm {
	return awscloudwatch.NewAlarm(scope, jsii.String(id), &awscloudwatch.AlarmProps{
		AlarmDescription:   jsii.String(description),
		Metric:             metric,
		Threshold:          jsii.Number(1),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
}

// JoinPattern is the rule's event pattern (docs/decisions.md, "What it does with an event").
func JoinPattern(clusterArns []*string) *awsevents.EventPattern {
	arns := make([]interface{}, len(clusterArns))
	for k, a := range clusterArns {
		arns[k] = a
	}
	return &awsevents.EventPattern{
		Source:     jsii.Strings("aws.ecs"),
		DetailType: jsii.Strings("ECS Container Instance State Change"),
		Detail: &map[string]interface{}{
			"clusterArn":     arns,
			"status":         []interface{}{"ACTIVE"},
			"agentConnected": []interface{}{true},
			"$or": []interface{}{
				map[string]interface{}{"runningTasksCount": []interface{}{0}},
				map[string]interface{}{"runningTasksCount": []interface{}{map[string]interface{}{"exists": false}}},
			},
		},
	}
}

// statements are the function's permissions (README "Required IAM actions"; README,
// "Required IAM actions"): exactly the calls the code makes, each scoped to the
// clusters.
func statements(clusterArns []*string, logGroupArn string) []awsiam.PolicyStatement {
	onClusters := &map[string]interface{}{"ArnEquals": map[string]interface{}{"ecs:cluster": clusterArns}}
	return []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ListInstances"),
			Actions:   jsii.Strings("ecs:ListContainerInstances"),
			Resources: &clusterArns,
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("ListServices"),
			Actions:    jsii.Strings("ecs:ListServices"),
			Resources:  jsii.Strings("*"),
			Conditions: onClusters,
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("ReadAndRebalance"),
			Actions: jsii.Strings(
				"ecs:DescribeContainerInstances", "ecs:DescribeServices", "ecs:ListTasks", "ecs:DescribeTasks",
				"ecs:UpdateService", "ecs:UpdateContainerInstancesState", "ecs:PutAttributes", "ecs:DeleteAttributes"),
			Resources:  jsii.Strings("*"),
			Conditions: onClusters,
		}),
		// The move strategy's calls. Tagging and task protection are scoped by resource
		// ARN (the cluster, its services, its tasks) rather than by the ecs:cluster
		// condition key.
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("MoveMarkers"),
			Actions:   jsii.Strings("ecs:TagResource", "ecs:UntagResource", "ecs:ListTagsForResource"),
			Resources: within(clusterArns, "", "service"),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("MoveProtection"),
			Actions:   jsii.Strings("ecs:UpdateTaskProtection", "ecs:GetTaskProtection"),
			Resources: within(clusterArns, "task"),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("Logs"),
			Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
			Resources: jsii.Strings(logGroupArn + ":*"),
		}),
	}
}

// within returns, per cluster ARN, the ARN patterns of the named resource types in it
// ("service": arn:...:service/CLUSTER/*); "" is the cluster ARN itself. The cluster ARN
// may be a token: the patterns are built with Fn::Split and Fn::Select, which the CDK
// folds away when it is not.
func within(clusterArns []*string, kinds ...string) *[]*string {
	var out []*string
	for _, arn := range clusterArns {
		for _, kind := range kinds {
			if kind == "" {
				out = append(out, arn)
				continue
			}
			parts := awscdk.Fn_Split(jsii.String(":cluster/"), arn, nil)
			out = append(out, awscdk.Fn_Join(jsii.String(""), &[]*string{
				awscdk.Fn_Select(jsii.Number(0), parts), jsii.String(":" + kind + "/"), awscdk.Fn_Select(jsii.Number(1), parts), jsii.String("/*"),
			}))
		}
	}
	return &out
}

// environment is the function's configuration, every variable of README,
// "Configuration" explicit; the clusters are tokens until deploy.
func environment(cfg config.Config, clusterArns []*string) *map[string]*string {
	env := map[string]*string{}
	for k, v := range cfg.Environ() {
		env[k] = jsii.String(v)
	}
	arns := slices.Clone(clusterArns)
	env[config.EnvClusters] = awscdk.Fn_Join(jsii.String(","), &arns)
	return &env
}
