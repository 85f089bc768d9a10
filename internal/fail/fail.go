// Package fail names the ways a mauledger command can fail and the exit code
// each one gets, so a script running mauledger can tell them apart.
package fail

import (
	"errors"
	"fmt"
)

// Exit codes. 1 is anything not classified below (a bug or an unexpected
// failure); the others name the problem.
const (
	CodeFailure = 1
	CodeUsage   = 2 // a bad flag, argument or month
	CodeInput   = 3 // a missing or unreadable input file, or rejected input lines
	CodeStore   = 4 // the database is locked, unreadable or from a newer mauledger
	CodeAuth    = 5 // Twilio credentials missing, rejected (401) or not allowed (403)

	// The exit codes of a close that did its job but has news a scheduler
	// should tell apart from a plain success.
	CodePreliminary   = 6 // close wrote a new version of a month that is still preliminary
	CodeRestatedFinal = 7 // close wrote a new version of a month that was already final
)

// Error carries the exit code a failure should end the program with.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Usage marks err as a usage error (exit 2).
func Usage(err error) error { return wrap(CodeUsage, err) }

// Usagef formats a usage error (exit 2).
func Usagef(format string, a ...any) error { return Usage(fmt.Errorf(format, a...)) }

// Input marks err as bad input (exit 3).
func Input(err error) error { return wrap(CodeInput, err) }

// Store marks err as a database problem (exit 4).
func Store(err error) error { return wrap(CodeStore, err) }

// Auth marks err as a credentials problem (exit 5).
func Auth(err error) error { return wrap(CodeAuth, err) }

func wrap(code int, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err // keep the first, most specific classification
	}
	return &Error{Code: code, Err: err}
}

// Status is an outcome that is not a failure but has its own exit code
// (CodePreliminary, CodeRestatedFinal). The command has already said what
// happened, so it carries no message of its own.
type Status struct{ Code int }

func (s *Status) Error() string { return fmt.Sprintf("exit status %d", s.Code) }

// Code is the exit code for err: 0 for nil, the code of the first *Error
// in its chain, else CodeFailure.
func Code(err error) int {
	if err == nil {
		return 0
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	var s *Status
	if errors.As(err, &s) {
		return s.Code
	}
	return CodeFailure
}
