package ecsclient

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// The one place that reads AWS error codes.

// Retryable reports whether a later attempt could succeed: throttling that outlasted
// the SDK's retries, a server-side fault, or a timeout. Client errors
// (InvalidParameterException, AccessDeniedException, ...) are not: retrying an event
// that hit one only repeats it.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	if retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorFault() == smithy.FaultServer || ae.ErrorCode() == "ServerException"
	}
	// An SDK operation that got no answer at all (connection reset, DNS, timeout).
	var oe *smithy.OperationError
	return errors.As(err, &oe) && !errors.Is(err, context.Canceled)
}
