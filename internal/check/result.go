// Package check evaluates the typed checks of a lab against a cluster: object
// checks read an informer cache, so a verdict follows a kubectl change within a
// moment; HTTP, DNS and exec checks run inside the cluster from a helper pod.
// Every result says, in the learner's language, what was expected and what was found.
package check

import "fmt"

// Status of a check.
type Status int

const (
	Pending Status = iota
	Pass
	Fail
	// Error means the check could not be evaluated (API unreachable, bad lab).
	Error
)

func (s Status) String() string {
	return [...]string{"pending", "pass", "fail", "error"}[s]
}

// MarshalText makes Status read as a word in JSON.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads the word MarshalText writes (a report read back).
func (s *Status) UnmarshalText(b []byte) error {
	for _, v := range []Status{Pending, Pass, Fail, Error} {
		if v.String() == string(b) {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("unknown check status %q", b)
}

// Result is the verdict of one check.
type Result struct {
	Check   string `json:"check"`
	Kind    string `json:"kind"`
	Title   string `json:"title"`
	Status  Status `json:"status"`
	Message string `json:"message"`
	// Diagnosis says why a failing check fails, from the cluster's own state: the
	// nearest miss, or what blocks the objects it looks at ("" when the message
	// says all there is).
	Diagnosis string   `json:"diagnosis,omitempty"`
	Evidence  []string `json:"evidence,omitempty"`
}

// msg picks the message in the learner's language.
type msg struct {
	lang string
}

func (m msg) f(en, ko string, args ...any) string {
	if m.lang == "ko" {
		return fmt.Sprintf(ko, args...)
	}
	return fmt.Sprintf(en, args...)
}
