// Command schema is the deployment's warehouse migration, invoked by a
// CloudFormation custom resource (shared/wire/schemafn).
package main

import (
	"github.com/pulse-analytics/pulse/shared/wire"
	"github.com/pulse-analytics/pulse/shared/wire/schemafn"
)

func main() { wire.Start("schema", schemafn.Build) }
