package handlers_test

import (
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func itoa(n int) string { return strconv.Itoa(n) }

// awsConfigNone is an AWS config for clients that never call AWS.
func awsConfigNone() aws.Config { return aws.Config{Region: "us-east-1"} }
