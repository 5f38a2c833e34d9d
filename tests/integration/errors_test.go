package integration

import "errors"

// asAny reports whether err matches any of the targets (pointers to error types).
func asAny(err error, targets ...any) bool {
	for _, t := range targets {
		if errors.As(err, t) {
			return true
		}
	}
	return false
}
