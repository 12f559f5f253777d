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
// the SDK's retries, a server-side fault, a timeout, or no answer at all. Client
// errors (InvalidParameterException, AccessDeniedException, ...) are not, nor is an
// answer the SDK could not read or a request it could not build: retrying an event
// that hit one only repeats it.
func Retryable(err error) bool {
	if err == nil || deterministic(err) {
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

// Unanswered reports whether a call that failed with err may still have taken effect:
// its answer was lost (Retryable) or came back in a shape the SDK could not read. A
// mutating call that failed this way is undone the safe way, as if it had worked.
func Unanswered(err error) bool {
	var de *smithy.DeserializationError
	return Retryable(err) || errors.As(err, &de)
}

// deterministic reports failures that every attempt repeats: a malformed answer, a
// request the SDK could not serialize, or parameters it refused before sending.
func deterministic(err error) bool {
	var de *smithy.DeserializationError
	var se *smithy.SerializationError
	var pe smithy.InvalidParamsError
	return errors.As(err, &de) || errors.As(err, &se) || errors.As(err, &pe)
}
