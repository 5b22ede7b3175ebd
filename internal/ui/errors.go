package ui

import (
	"errors"
	"strings"
)

// UsageError marks bad command-line usage: exit code 2.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef builds a UsageError.
func Usagef(format string, a ...any) error {
	return &UsageError{Err: errorf(format, a...)}
}

// HintError is an error with hints printed after it.
type HintError struct {
	Err   error
	Hints []string
}

func (e *HintError) Error() string { return e.Err.Error() }
func (e *HintError) Unwrap() error { return e.Err }

// WithHint attaches hints to err.
func WithHint(err error, hints ...string) error {
	return &HintError{Err: err, Hints: hints}
}

// ExitError carries an exit code that is not a failure of ai-sandbox
// itself, such as docker's own code passed through. No message is printed.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return "exit status" }

// HintsOf collects the hints attached anywhere in err's chain.
func HintsOf(err error) []string {
	var out []string
	for err != nil {
		var h *HintError
		if !errors.As(err, &h) {
			break
		}
		out = append(out, h.Hints...)
		err = h.Err
	}
	return out
}

// FirstLine is s up to its first newline: the line of a tool's output
// that goes into a message.
func FirstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
