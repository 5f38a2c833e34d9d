package main

import (
	"os"
	"strings"
	"syscall"

	"github.com/pulse-analytics/pulse/localstack/stack"
)

// EnvCrashAt names where a command kills its own process (SIGKILL): a
// workflow step ("Clean", "Model", "Load", ...: right after it ran) or a
// point inside one ("load:staged", "load:committed"). It exists for the
// tests of failure and recovery (tests/scenario), which must see what a
// real kill leaves behind; it is not for users.
const EnvCrashAt = "PULSE_CRASH_AT"

// withCrashHook arms o with PULSE_CRASH_AT, when it is set.
func withCrashHook(o stack.Options) stack.Options {
	at := os.Getenv(EnvCrashAt)
	if at == "" {
		return o
	}
	kill := func(where string) error {
		if where == at {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
		return nil
	}
	if strings.Contains(at, ":") {
		o.Failpoint = kill
	} else {
		o.FailpointAfter = kill
	}
	return o
}
