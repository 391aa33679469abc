// Package lab is the lab model: labs are data (labs/<id>/lab.yaml with manifests
// under manifests/<id>/), decoded strictly, validated with every error reported at
// once with its file and line. Checks name a kind from a closed set; a lab file can
// never run a program on the learner's machine.
package lab

import "strings"

// APIVersion and Kind of a lab file.
const (
	APIVersion = "kindlab.dev/v1alpha1"
	KindLab    = "Lab"
)

// Text is a message in Korean and English.
type Text struct {
	Ko string `yaml:"ko"`
	En string `yaml:"en"`
}

// In returns the text in lang ("ko" or "en"), falling back to the other.
func (t Text) In(lang string) string {
	if lang == "ko" && t.Ko != "" || t.En == "" {
		return t.Ko
	}
	return t.En
}

// Namespaced fills {namespace} in a lab's text or check with the namespace the
// lab runs in (default when ns is empty), so a lab works in any namespace.
func Namespaced(s, ns string) string {
	if ns == "" {
		ns = "default"
	}
	return strings.ReplaceAll(s, "{namespace}", ns)
}

// Lab is one lab of the chapter.
type Lab struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	ID         string `yaml:"id"`
	// Order sorts labs in the chapter.
	Order int  `yaml:"order"`
	Title Text `yaml:"title"`
	Goal  Text `yaml:"goal"`
	// Files are manifests under manifests/<id>/ that `kindlab start` writes into the
	// learner's working directory, so the book's commands work as printed.
	Files []string `yaml:"files"`
	// Cleanup lists what `kindlab reset` removes, besides what setup created.
	Cleanup []ObjectRef `yaml:"cleanup"`
	Steps   []Step      `yaml:"steps"`

	// Source is the file the lab was read from (not in YAML).
	Source string `yaml:"-"`
}

// Step is one thing the learner does, checked live.
type Step struct {
	ID           string `yaml:"id"`
	Title        Text   `yaml:"title"`
	Instructions Text   `yaml:"instructions"`
	// Teardown marks a step that removes what the lab made (kubectl delete at the
	// end of a lab). `kindlab grade` grades the state before it and `solve --all`
	// stops before it: a finished lab's work stays observable.
	Teardown bool `yaml:"teardown,omitempty"`
	// Setup runs when the step is entered (kindlab start, reset, the e2e proof).
	Setup  []Action `yaml:"setup"`
	Checks []Check  `yaml:"checks"`
	// Hints get more specific: the n-th failure shows the n-th hint.
	Hints    []Text   `yaml:"hints"`
	Solution Solution `yaml:"solution"`
	// NearMisses are almost-right attempts at the step that its checks must
	// catch: `kindlab labs selftest` makes each from the step's start state and
	// expects its check to fail with a diagnosis.
	NearMisses []NearMiss `yaml:"nearMisses,omitempty"`
}

// NearMiss is a learner's almost-right attempt at a step (a label with a typo,
// replicas off by one, the wrong Service type, no --record).
type NearMiss struct {
	ID string `yaml:"id"`
	// What the learner did, in words.
	What Text `yaml:"what"`
	// Actions make the attempt from the step's start state.
	Actions []Action `yaml:"actions"`
	// Fails is the id of the step's check that must fail.
	Fails string `yaml:"fails"`
	// Diagnosis is what the failing check's diagnosis must say (in English).
	Diagnosis string `yaml:"diagnosis"`
	// Undo removes what the attempt left that the solution would not replace.
	Undo []Action `yaml:"undo,omitempty"`
}

// Solution is the reference solution: the commands shown to the learner and the
// actions kindlab performs for `kindlab solve`.
type Solution struct {
	Commands []string `yaml:"commands"`
	Actions  []Action `yaml:"actions"`
}

// ObjectRef names objects of a kind in the lab's namespace, by name, by selector,
// or (pods) by the ReplicaSet that made them, optionally narrowed by a selector.
type ObjectRef struct {
	Kind     string `yaml:"kind"`
	Name     string `yaml:"name,omitempty"`
	Selector string `yaml:"selector,omitempty"`
	// CreatedBy is ReplicaSet/NAME: the pods that ReplicaSet made (their generated
	// name), even once it has let them go, and no other pod of the namespace.
	CreatedBy string `yaml:"createdBy,omitempty"`
}

// Action is one change to the cluster; exactly one field is set.
type Action struct {
	// Apply a manifest file of the lab (server-side, as kubectl apply would).
	Apply string `yaml:"apply,omitempty"`
	// Manifest is a manifest written out, applied as Apply applies a file: a
	// near-miss's own version of a lab file.
	Manifest string `yaml:"manifest,omitempty"`
	// Delete objects and wait until they are gone.
	Delete *ObjectRef `yaml:"delete,omitempty"`
	// SetImage is `kubectl set image deployment NAME CONTAINER=IMAGE --record`.
	SetImage *SetImage `yaml:"setImage,omitempty"`
	// RolloutUndo is `kubectl rollout undo deployment NAME --to-revision=N`.
	RolloutUndo *RolloutUndo `yaml:"rolloutUndo,omitempty"`
	// Scale is `kubectl scale KIND NAME --replicas=N`.
	Scale *Scale `yaml:"scale,omitempty"`
	// RemoveLabel removes a label from one object (the book does it with kubectl edit).
	RemoveLabel *RemoveLabel `yaml:"removeLabel,omitempty"`
	// Answer records the true value for an answer check, as a learner would type it.
	Answer *AnswerAction `yaml:"answer,omitempty"`
	// Wait waits until the named checks of this step pass (for ordering actions).
	Wait []string `yaml:"wait,omitempty"`
}

// SetImage changes a container image of a Deployment.
type SetImage struct {
	Deployment string `yaml:"deployment"`
	Container  string `yaml:"container"`
	Image      string `yaml:"image"`
	// Record sets the change-cause annotation, as --record does.
	Record bool `yaml:"record"`
}

// RolloutUndo rolls a Deployment back.
type RolloutUndo struct {
	Deployment string `yaml:"deployment"`
	ToRevision int64  `yaml:"toRevision"`
}

// Scale sets replicas of a Deployment or ReplicaSet.
type Scale struct {
	Kind     string `yaml:"kind"`
	Name     string `yaml:"name"`
	Replicas int32  `yaml:"replicas"`
}

// RemoveLabel removes Key from the first object that matches Selector (or Name).
type RemoveLabel struct {
	Kind     string `yaml:"kind"`
	Name     string `yaml:"name,omitempty"`
	Selector string `yaml:"selector,omitempty"`
	Key      string `yaml:"key"`
}

// AnswerAction answers the answer check Check with the cluster's truth.
type AnswerAction struct {
	Check string `yaml:"check"`
}
