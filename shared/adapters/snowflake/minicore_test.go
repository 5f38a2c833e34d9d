//go:build !minicore_disabled

package snowflake

import "testing"

// TestBuiltWithoutMinicore fails when the package is built without
// -tags minicore_disabled: gosnowflake would then embed a native library
// and dlopen it at start-up, which Lambda's static arm64 binaries cannot
// do (PINS.md). `make test` passes the tag.
func TestBuiltWithoutMinicore(t *testing.T) {
	t.Fatal("build and test Pulse with -tags minicore_disabled (make test does): without it gosnowflake embeds and dlopens its native minicore library")
}
