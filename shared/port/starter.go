package port

import "context"

// Starter starts a workflow execution by name. Starting a name that was
// already started starts nothing new (Step Functions' own rule for
// StartExecution with the same name). Implementations: shared/adapters/sfn
// on AWS, localstack/stack in process.
type Starter interface {
	Start(ctx context.Context, name string, input []byte) (started bool, err error)
}
