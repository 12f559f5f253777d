package ecsrebalancer

import (
	"errors"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
)

// AppContext is what the app reads from its context (-c) and environment: which
// stacks to synthesize, where, and how their rebalancers are set up.
type AppContext struct {
	// ClusterName attaches the rebalancer to an existing cluster of the stack's
	// account and region (-c clusterName=NAME).
	ClusterName string
	// Demo provisions a demo cluster with the rebalancer attached (-c demo=true).
	Demo bool
	// Package synthesizes the parameterized template of make package (-c package=true).
	Package bool
	// Env is the account and region of the attach and demo stacks (nil: the CLI's
	// defaults at deploy time). The package template is environment-agnostic.
	Env *awscdk.Environment
	StackOptions
}

// StackOptions are how every stack of the app sets up its Rebalancer.
type StackOptions struct {
	// Schedule is an EventBridge schedule expression for the optional COV check
	// (-c schedule="rate(1 hour)").
	Schedule string
	// AlarmEmail subscribes an address to the alarms (-c alarmEmail=...).
	AlarmEmail string
	// Settings are the settings of README, "Configuration" (the same environment
	// variables the function reads); nil is the defaults.
	Settings *config.Config
	// BootstrapDir holds the built function (RebalancerProps.BootstrapDir).
	BootstrapDir string
}

// AttachStackProps are the props of NewAttachStack.
type AttachStackProps struct {
	awscdk.StackProps
	StackOptions
	// ClusterName is the existing cluster, in the stack's account and region.
	ClusterName string
}

// DemoStackProps are the props of NewDemoStack.
type DemoStackProps struct {
	awscdk.StackProps
	StackOptions
}

// PackageStackProps are the props of NewPackageStack; its synthesizer is always the
// bootstrapless one (the template deploys without CDK bootstrap).
type PackageStackProps struct {
	awscdk.StackProps
	StackOptions
}

// BuildApp adds the stacks the context asks for; when it asks for none, it returns an
// error that names what is missing (a command-line mistake, not a bug: no panic).
func BuildApp(app awscdk.App, c AppContext) ([]awscdk.Stack, error) {
	if c.ClusterName == "" && !c.Demo && !c.Package {
		return nil, errors.New("nothing to synthesize: pass -c clusterName=NAME to attach to an existing cluster, -c demo=true for the demo cluster, or -c package=true for the template of make package")
	}
	var stacks []awscdk.Stack
	if c.ClusterName != "" {
		stacks = append(stacks, NewAttachStack(app, "EcsRebalancer-"+c.ClusterName, &AttachStackProps{
			StackProps: awscdk.StackProps{Env: c.Env}, StackOptions: c.StackOptions, ClusterName: c.ClusterName}))
	}
	if c.Demo {
		stacks = append(stacks, NewDemoStack(app, "EcsRebalancerDemo", &DemoStackProps{StackProps: awscdk.StackProps{Env: c.Env}, StackOptions: c.StackOptions}))
	}
	if c.Package {
		stacks = append(stacks, NewPackageStack(app, PackageStackID, &PackageStackProps{StackOptions: c.StackOptions}))
	}
	return stacks, nil
}

// describe gives the stack a description unless its props set one.
func describe(p awscdk.StackProps, description string) *awscdk.StackProps {
	if p.Description == nil {
		p.Description = jsii.String(description)
	}
	return &p
}

// PackageStackID is the package stack's ID; its template is cdk.out/<ID>.template.json.
const PackageStackID = "EcsRebalancerPackage"

// Parameters of the package stack's template.
const (
	ParamCluster    = "ClusterName"
	ParamCodeBucket = "CodeBucket"
	ParamCodeKey    = "CodeKey"
	ParamStrategy   = "Strategy"
	ParamDryRun     = "DryRun"
)

// NewPackageStack is the rebalancer as a plain CloudFormation template, for accounts
// where CDK bootstrap is not allowed (make package): no asset and no bootstrap
// version check; the cluster, the code's S3 location, STRATEGY and DRY_RUN are
// parameters, and the other settings are the ones it was synthesized with.
func NewPackageStack(scope constructs.Construct, id string, props *PackageStackProps) awscdk.Stack {
	sp := describe(props.StackProps, "ecs-rebalancer, packaged: deploy with aws cloudformation deploy, no CDK bootstrap needed")
	sp.Synthesizer = awscdk.NewBootstraplessSynthesizer(&awscdk.BootstraplessSynthesizerProps{})
	stack := awscdk.NewStack(scope, jsii.String(id), sp)
	o := props.StackOptions
	param := func(name, description string, p *awscdk.CfnParameterProps) awscdk.CfnParameter {
		p.Description = jsii.String(description)
		return awscdk.NewCfnParameter(stack, jsii.String(name), p)
	}
	clusterName := param(ParamCluster, "the ECS cluster (name) to rebalance", &awscdk.CfnParameterProps{Type: jsii.String("String"), MinLength: jsii.Number(1)})
	bucket := param(ParamCodeBucket, "the S3 bucket holding the function's zip (in this stack's region)", &awscdk.CfnParameterProps{Type: jsii.String("String"), MinLength: jsii.Number(3)})
	key := param(ParamCodeKey, "the zip's key (a new one for each release: changing it updates the function)", &awscdk.CfnParameterProps{Type: jsii.String("String"), MinLength: jsii.Number(1)})
	strategy := param(ParamStrategy, "STRATEGY", &awscdk.CfnParameterProps{Type: jsii.String("String"), Default: jsii.String(string(config.StrategyAuto)),
		AllowedValues: jsii.Strings(string(config.StrategyAuto), string(config.StrategyMove), string(config.StrategyForceNewDeployment), string(config.StrategyDrain))})
	dryRun := param(ParamDryRun, "DRY_RUN: decide and report only (start with true)", &awscdk.CfnParameterProps{Type: jsii.String("String"), Default: jsii.String("true"),
		AllowedValues: jsii.Strings("true", "false")})

	arn := stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("ecs"), Resource: jsii.String("cluster"), ResourceName: clusterName.ValueAsString()})
	p := rebalancerProps(stack, o, arn)
	// The timeout covers the worst case of any strategy the parameter allows.
	settings := config.Default()
	if o.Settings != nil {
		settings = *o.Settings
	}
	settings.Strategy = config.StrategyAuto
	p.Settings = &settings
	codeBucket := awss3.Bucket_FromBucketName(stack, jsii.String("CodeBucketRef"), bucket.ValueAsString())
	p.Code = awslambda.Code_FromBucket(codeBucket, key.ValueAsString(), nil)
	// A new release goes under a new key (make package names the zip with the commit):
	// changing CodeKey is what updates the function, so no object version is needed.
	awscdk.Annotations_Of(codeBucket).AcknowledgeWarning(jsii.String("@aws-cdk/aws-lambda:codeFromBucketObjectVersionNotSpecified"),
		jsii.String("each release is uploaded under its own key; changing CodeKey updates the function"))
	r := NewRebalancer(stack, "Rebalancer", p)
	r.Function.AddEnvironment(jsii.String(config.EnvStrategy), strategy.ValueAsString(), nil)
	r.Function.AddEnvironment(jsii.String(config.EnvDryRun), dryRun.ValueAsString(), nil)
	return stack
}

// NewAttachStack attaches the rebalancer to an existing cluster by name: the cluster's
// ARN is built from the stack's account and region, so synth needs no AWS lookup.
func NewAttachStack(scope constructs.Construct, id string, props *AttachStackProps) awscdk.Stack {
	stack := awscdk.NewStack(scope, jsii.String(id), describe(props.StackProps, "ecs-rebalancer attached to ECS cluster "+props.ClusterName))
	arn := stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("ecs"), Resource: jsii.String("cluster"), ResourceName: jsii.String(props.ClusterName)})
	NewRebalancer(stack, "Rebalancer", rebalancerProps(stack, props.StackOptions, arn))
	return stack
}

func rebalancerProps(stack awscdk.Stack, o StackOptions, clusterArns ...*string) *RebalancerProps {
	p := &RebalancerProps{ClusterArns: clusterArns, Settings: o.Settings, BootstrapDir: o.BootstrapDir}
	if o.Schedule != "" {
		p.Schedule = awsevents.Schedule_Expression(jsii.String(o.Schedule))
	}
	if o.AlarmEmail != "" {
		topic := awssns.NewTopic(stack, jsii.String("Alarms"), &awssns.TopicProps{
			EnforceSSL: jsii.Bool(true),
			MasterKey:  awskms.Alias_FromAliasName(stack, jsii.String("SnsKey"), jsii.String("alias/aws/sns")),
		})
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(o.AlarmEmail), nil))
		p.AlarmAction = awscloudwatchactions.NewSnsAction(topic)
	}
	return p
}

// NewDemoStack provisions a small cluster end to end and attaches the rebalancer: a
// VPC without NAT gateways (public subnets only), an ECS cluster, an Auto Scaling group
// of Graviton instances on the ECS-optimized Amazon Linux 2023 arm64 image behind a
// capacity provider, and a sample service spread across zones, then instances.
func NewDemoStack(scope constructs.Construct, id string, props *DemoStackProps) awscdk.Stack {
	stack := awscdk.NewStack(scope, jsii.String(id), describe(props.StackProps, "ecs-rebalancer demo: a small EC2 ECS cluster with the rebalancer attached"))
	o := props.StackOptions
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{
		MaxAzs:      jsii.Number(3),
		NatGateways: jsii.Number(0),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{{
			Name: jsii.String("public"), SubnetType: awsec2.SubnetType_PUBLIC, CidrMask: jsii.Number(24),
		}},
		RestrictDefaultSecurityGroup: jsii.Bool(false),
	})
	cluster := awsecs.NewCluster(stack, jsii.String("Cluster"), &awsecs.ClusterProps{
		Vpc:                 vpc,
		ContainerInsightsV2: awsecs.ContainerInsights_ENABLED,
	})

	// No inbound rule: the sample service needs no traffic to show rebalancing.
	sg := awsec2.NewSecurityGroup(stack, jsii.String("InstanceSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:         vpc,
		Description: jsii.String("ECS container instances: outbound only"),
	})
	// The ECS agent's role; AddAsgCapacityProvider grants it what the agent needs.
	instanceRole := awsiam.NewRole(stack, jsii.String("InstanceRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("ec2.amazonaws.com"), nil),
	})
	template := awsec2.NewLaunchTemplate(stack, jsii.String("LaunchTemplate"), &awsec2.LaunchTemplateProps{
		InstanceType:             awsec2.NewInstanceType(jsii.String("t4g.small")),
		MachineImage:             awsecs.EcsOptimizedImage_AmazonLinux2023(awsecs.AmiHardwareType_ARM, nil),
		UserData:                 awsec2.UserData_ForLinux(nil),
		RequireImdsv2:            jsii.Bool(true),
		AssociatePublicIpAddress: jsii.Bool(true),
		SecurityGroup:            sg,
		Role:                     instanceRole,
		BlockDevices: &[]*awsec2.BlockDevice{{
			DeviceName: jsii.String("/dev/xvda"),
			Volume:     awsec2.BlockDeviceVolume_Ebs(jsii.Number(30), &awsec2.EbsDeviceOptions{Encrypted: jsii.Bool(true)}),
		}},
	})
	asg := awsautoscaling.NewAutoScalingGroup(stack, jsii.String("Instances"), &awsautoscaling.AutoScalingGroupProps{
		Vpc:            vpc,
		VpcSubnets:     &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PUBLIC},
		LaunchTemplate: template,
		MinCapacity:    jsii.Number(2),
		MaxCapacity:    jsii.Number(4),
	})
	provider := awsecs.NewAsgCapacityProvider(stack, jsii.String("CapacityProvider"), &awsecs.AsgCapacityProviderProps{
		AutoScalingGroup:                   asg,
		EnableManagedDraining:              jsii.Bool(true),
		EnableManagedTerminationProtection: jsii.Bool(false),
	})
	cluster.AddAsgCapacityProvider(provider, nil)
	// After AddAsgCapacityProvider, which creates the policy.
	cdknag.NagSuppressions_AddResourceSuppressions(instanceRole, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("The ECS agent's permissions exactly as CDK grants them to a capacity provider's instances (ecs:Submit* and " +
			"the registration calls on *, as in the AmazonEC2ContainerServiceforEC2Role managed policy)."),
		AppliesTo: &[]interface{}{jsii.String("Action::ecs:Submit*"), jsii.String("Resource::*")},
	}}, jsii.Bool(true))

	task := awsecs.NewEc2TaskDefinition(stack, jsii.String("SampleTask"), nil)
	task.AddContainer(jsii.String("web"), &awsecs.ContainerDefinitionOptions{
		Image:                awsecs.ContainerImage_FromRegistry(jsii.String("public.ecr.aws/nginx/nginx:stable-alpine"), nil),
		Cpu:                  jsii.Number(128),
		MemoryReservationMiB: jsii.Number(128),
		Logging:              awsecs.LogDriver_AwsLogs(&awsecs.AwsLogDriverProps{StreamPrefix: jsii.String("sample"), LogRetention: awslogs.RetentionDays_ONE_WEEK}),
	})
	awsecs.NewEc2Service(stack, jsii.String("SampleService"), &awsecs.Ec2ServiceProps{
		Cluster:        cluster,
		TaskDefinition: task,
		DesiredCount:   jsii.Number(6),
		PlacementStrategies: &[]awsecs.PlacementStrategy{
			awsecs.PlacementStrategy_SpreadAcross(awsecs.BuiltInAttributes_AVAILABILITY_ZONE()),
			awsecs.PlacementStrategy_SpreadAcrossInstances(),
		},
		CapacityProviderStrategies: &[]*awsecs.CapacityProviderStrategy{{
			CapacityProvider: provider.CapacityProviderName(), Weight: jsii.Number(1),
		}},
		MinHealthyPercent: jsii.Number(100),
		MaxHealthyPercent: jsii.Number(200),
		CircuitBreaker:    &awsecs.DeploymentCircuitBreaker{Enable: jsii.Bool(true), Rollback: jsii.Bool(true)},
	})

	NewRebalancer(stack, "Rebalancer", rebalancerProps(stack, o, cluster.ClusterArn()))
	suppressDemo(stack)
	return stack
}

// suppressDemo records why the demo accepts what cdk-nag flags.
func suppressDemo(stack awscdk.Stack) {
	cdknag.NagSuppressions_AddStackSuppressions(stack, &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-VPC7"), Reason: jsii.String("Demo VPC without data worth auditing; flow logs would be the most expensive part of it.")},
		{Id: jsii.String("AwsSolutions-AS3"), Reason: jsii.String("Demo Auto Scaling group: scaling notifications are not needed; the rebalancer's own alarms cover it.")},
	}, jsii.Bool(true))
}
