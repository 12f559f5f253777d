package sim

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
)

// Errors come back the way the SDK client returns them: a *smithy.OperationError
// around the service's API error, so callers classify them with errors.As on
// smithy.APIError exactly as they would against AWS.

func opError(action string, err error) error {
	return &smithy.OperationError{ServiceID: "ECS", OperationName: action, Err: err}
}

func invalidParameter(format string, args ...any) error {
	return &types.InvalidParameterException{Message: aws.String(fmt.Sprintf(format, args...))}
}

func clusterNotFound() error {
	return &types.ClusterNotFoundException{Message: aws.String("Cluster not found.")}
}

func serviceNotFound() error {
	return &types.ServiceNotFoundException{Message: aws.String("Service not found.")}
}

func serviceNotActive() error {
	return &types.ServiceNotActiveException{Message: aws.String("Service was not ACTIVE.")}
}

func targetNotFound(id string) error {
	return &types.TargetNotFoundException{Message: aws.String(fmt.Sprintf("Could not find %s.", id))}
}

func attributeLimit(id string) error {
	return &types.AttributeLimitExceededException{Message: aws.String(fmt.Sprintf("The attribute limit has been exceeded for %s.", id))}
}

// Throttling is the error ECS answers when the account's token bucket for an action is
// empty (ThrottlingException, "Rate exceeded"); the SDK's retryers treat it as a
// throttle. Inject it to see what a caller does once the SDK's retries are spent.
func Throttling() error {
	return &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded", Fault: smithy.FaultClient}
}

// ServerError is ECS's ServerException (a 5xx).
func ServerError() error {
	return &types.ServerException{Message: aws.String("Service Unavailable. Please try again later.")}
}
