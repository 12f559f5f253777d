module github.com/ecs-rebalancer/ecs-rebalancer

go 1.26

require (
	github.com/aws/aws-lambda-go v1.55.1
	github.com/google/go-cmp v0.7.0
)
