// Command topics creates Pulse's Kafka topics, invoked by a CloudFormation
// custom resource (shared/wire/topicsfn).
package main

import (
	"github.com/pulse-analytics/pulse/shared/wire"
	"github.com/pulse-analytics/pulse/shared/wire/topicsfn"
)

func main() { wire.Start("topics", topicsfn.Build) }
