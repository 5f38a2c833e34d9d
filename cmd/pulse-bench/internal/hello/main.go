// Command hello is the baseline of pulse-bench coldstart: the smallest Go
// Lambda function (aws-lambda-go's lambda.Start of a handler returning a
// constant), built and run under the Runtime Interface Emulator like each
// of functions/*, so each function's init is read against it.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context) (string, error) { return "hello", nil })
}
