package lab

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
)

// FileError is one problem in a lab file, with where it is.
type FileError struct {
	File string
	Line int
	Msg  string
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// Set is every lab of the chapter with its manifests.
type Set struct {
	Labs      []*Lab
	manifests fs.FS
}

// Get returns the lab with id.
func (s *Set) Get(id string) (*Lab, error) {
	for _, l := range s.Labs {
		if l.ID == id {
			return l, nil
		}
	}
	var ids []string
	for _, l := range s.Labs {
		ids = append(ids, l.ID)
	}
	return nil, fmt.Errorf("no lab %q; the labs are: %s", id, strings.Join(ids, ", "))
}

// Manifest returns a manifest file of a lab.
func (s *Set) Manifest(labID, file string) ([]byte, error) {
	return fs.ReadFile(s.manifests, path.Join(labID, file))
}

// Load reads every labs/<id>/lab.yaml of labsFS, checks each against its manifests
// in manifestsFS, and returns all problems of all files at once.
func Load(labsFS, manifestsFS fs.FS) (*Set, error) {
	files, err := fs.Glob(labsFS, "*/lab.yaml")
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, errors.New("no lab files (labs/<id>/lab.yaml)")
	}
	set := &Set{manifests: manifestsFS}
	var errs []error
	for _, f := range files {
		data, err := fs.ReadFile(labsFS, f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		l, err := Parse("labs/"+f, data)
		if err != nil {
			errs = append(errs, err)
			if l == nil {
				continue
			}
		}
		if dir := path.Dir(f); l.ID != dir {
			errs = append(errs, &FileError{File: l.Source, Msg: fmt.Sprintf("id %q must match its directory %q", l.ID, dir)})
		}
		for _, m := range l.Files {
			if _, err := fs.Stat(manifestsFS, path.Join(l.ID, m)); err != nil {
				errs = append(errs, &FileError{File: l.Source, Msg: fmt.Sprintf("file %q is not in manifests/%s/", m, l.ID)})
			}
		}
		set.Labs = append(set.Labs, l)
	}
	sort.SliceStable(set.Labs, func(i, j int) bool { return set.Labs[i].Order < set.Labs[j].Order })
	return set, errors.Join(errs...)
}

// Parse decodes one lab file strictly and validates it; the error lists every
// problem found, each with its line.
func Parse(file string, data []byte) (*Lab, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(file, err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	l := &Lab{Source: file}
	var errs []error
	if err := dec.Decode(l); err != nil {
		errs = append(errs, yamlError(file, err))
	}
	v := &validator{file: file, root: &root}
	v.lab(l)
	errs = append(errs, v.errs...)
	if len(errs) > 0 {
		return l, errors.Join(errs...)
	}
	return l, nil
}

var lineRE = regexp.MustCompile(`^line (\d+): (.*)$`)

// yamlError splits yaml.v3's errors (one per problem, "line N: ...") into FileErrors.
func yamlError(file string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		var errs []error
		for _, e := range te.Errors {
			errs = append(errs, lineError(file, e))
		}
		return errors.Join(errs...)
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	return lineError(file, msg)
}

func lineError(file, msg string) error {
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		var n int
		fmt.Sscan(m[1], &n)
		return &FileError{File: file, Line: n, Msg: m[2]}
	}
	return &FileError{File: file, Msg: msg}
}

// validator collects every semantic problem of a decoded lab.
type validator struct {
	file string
	root *yaml.Node
	errs []error
}

func (v *validator) add(p []any, format string, args ...any) {
	v.errs = append(v.errs, &FileError{File: v.file, Line: lineOf(v.root, p...), Msg: fmt.Sprintf(format, args...)})
}

// lineOf finds the line of the node at a path of map keys and list indexes, or the
// deepest node that exists on the way.
func lineOf(n *yaml.Node, p ...any) int {
	if n == nil {
		return 0
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, step := range p {
		var next *yaml.Node
		switch k := step.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == k {
						next = n.Content[i+1]
						line = n.Content[i].Line
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && k < len(n.Content) {
				next = n.Content[k]
				line = next.Line
			}
		}
		if next == nil {
			return line
		}
		n = next
	}
	return line
}

var idRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// Kinds a lab may name in cleanup, delete and object checks.
var objectKinds = map[string]bool{"Pod": true, "ReplicaSet": true, "Deployment": true, "Service": true}

// Truths an answer check may compare with.
var truths = map[string]bool{"podIP": true, "podHostname": true, "podNode": true, "serviceClusterIP": true, "serviceNodePort": true}

// ClusterFacts are the truths about the whole cluster rather than an object of
// the lab's namespace (check.Cluster's Fact reads them): the node running the
// API server, the nodes' container runtime, kubelet version and number, the
// network plugin, how many pods a kube-system DaemonSet runs (object: its
// name), and a resource's short names in `kubectl api-resources` (object: the
// resource, e.g. deployments).
var ClusterFacts = map[string]bool{"apiServerNode": true, "containerRuntime": true, "kubeletVersion": true, "nodeCount": true,
	"networkPlugin": true, "daemonSetPods": true, "shortName": true}

// factsWithObject are the ClusterFacts that need an object.
var factsWithObject = map[string]bool{"daemonSetPods": true, "shortName": true}

func (v *validator) text(p []any, t Text, what string) {
	if strings.TrimSpace(t.Ko) == "" || strings.TrimSpace(t.En) == "" {
		v.add(p, "%s needs both ko and en", what)
	}
}

func (v *validator) lab(l *Lab) {
	if l.APIVersion != APIVersion {
		v.add([]any{"apiVersion"}, "apiVersion is %q, want %q", l.APIVersion, APIVersion)
	}
	if l.Kind != KindLab {
		v.add([]any{"kind"}, "kind is %q, want %q", l.Kind, KindLab)
	}
	if !idRE.MatchString(l.ID) {
		v.add([]any{"id"}, "id %q must be lower-case letters, digits and dashes", l.ID)
	}
	v.text([]any{"title"}, l.Title, "title")
	v.text([]any{"goal"}, l.Goal, "goal")
	files := map[string]bool{}
	for i, f := range l.Files {
		if f != path.Base(f) || f == "." || f == ".." || strings.ContainsAny(f, `/\`) {
			v.add([]any{"files", i}, "file %q must be a plain file name in manifests/%s/ (no directories, no ..)", f, l.ID)
		}
		files[f] = true
	}
	for i, c := range l.Cleanup {
		v.ref([]any{"cleanup", i}, c)
	}
	if len(l.Steps) == 0 {
		v.add([]any{"steps"}, "a lab needs at least one step")
	}
	stepIDs := map[string]bool{}
	for i := range l.Steps {
		s := &l.Steps[i]
		p := []any{"steps", i}
		if !idRE.MatchString(s.ID) {
			v.add(append(p, "id"), "step id %q must be lower-case letters, digits and dashes", s.ID)
		}
		if stepIDs[s.ID] {
			v.add(append(p, "id"), "step id %q is used twice", s.ID)
		}
		stepIDs[s.ID] = true
		v.text(append(p, "title"), s.Title, "step title")
		v.text(append(p, "instructions"), s.Instructions, "step instructions")
		if len(s.Checks) == 0 {
			v.add(p, "step %q has no checks", s.ID)
		}
		if len(s.Hints) == 0 {
			v.add(p, "step %q has no hints", s.ID)
		}
		for j, h := range s.Hints {
			v.text(append(p, "hints", j), h, "hint")
		}
		checkIDs := map[string]*Check{}
		questions := 0
		for j := range s.Checks {
			c := &s.Checks[j]
			cp := append(append([]any{}, p...), "checks", j)
			// `kindlab answer LAB STEP VALUE` and the UI ask a step's one question.
			if c.Answer != nil {
				if questions++; questions == 2 {
					v.add(cp, "step %q asks a second question: a step asks one (make another step)", s.ID)
				}
			}
			if !idRE.MatchString(c.ID) {
				v.add(append(cp, "id"), "check id %q must be lower-case letters, digits and dashes", c.ID)
			}
			if checkIDs[c.ID] != nil {
				v.add(append(cp, "id"), "check id %q is used twice in step %q", c.ID, s.ID)
			}
			checkIDs[c.ID] = c
			v.text(append(cp, "title"), c.Title, "check title")
			v.check(cp, c)
		}
		if len(s.Solution.Commands) == 0 {
			v.add(append(p, "solution"), "step %q: the solution needs the commands a learner types", s.ID)
		}
		if len(s.Solution.Actions) == 0 {
			v.add(append(p, "solution"), "step %q: the solution needs actions kindlab can perform", s.ID)
		}
		for j, a := range s.Setup {
			v.action(append(append([]any{}, p...), "setup", j), a, files, checkIDs)
		}
		for j, a := range s.Solution.Actions {
			v.action(append(append([]any{}, p...), "solution", "actions", j), a, files, checkIDs)
		}
		nearIDs := map[string]bool{}
		for j, nm := range s.NearMisses {
			np := append(append([]any{}, p...), "nearMisses", j)
			if !idRE.MatchString(nm.ID) || nearIDs[nm.ID] {
				v.add(append(np, "id"), "near-miss id %q must be lower-case letters, digits and dashes, once in a step", nm.ID)
			}
			nearIDs[nm.ID] = true
			v.text(append(np, "what"), nm.What, "near-miss what")
			switch c := checkIDs[nm.Fails]; {
			case c == nil:
				v.add(append(np, "fails"), "near-miss %q: fails %q is no check of step %q", nm.ID, nm.Fails, s.ID)
			case c.Answer != nil:
				v.add(append(np, "fails"), "near-miss %q: fails %q is a question; a near-miss is caught by a check of the cluster", nm.ID, nm.Fails)
			}
			if strings.TrimSpace(nm.Diagnosis) == "" {
				v.add(append(np, "diagnosis"), "near-miss %q: say what the diagnosis must say", nm.ID)
			}
			if len(nm.Actions) == 0 {
				v.add(append(np, "actions"), "near-miss %q has no actions", nm.ID)
			}
			for k, a := range nm.Actions {
				v.nearMissAction(append(append([]any{}, np...), "actions", k), a, files, checkIDs)
			}
			for k, a := range nm.Undo {
				v.nearMissAction(append(append([]any{}, np...), "undo", k), a, files, checkIDs)
			}
		}
	}
}

// nearMissAction is an action of a near-miss: what a learner does to the
// cluster, so no answer or wait.
func (v *validator) nearMissAction(p []any, a Action, files map[string]bool, checks map[string]*Check) {
	if a.Answer != nil || len(a.Wait) > 0 {
		v.add(p, "a near-miss changes the cluster: answer and wait are not near-miss actions")
		return
	}
	v.action(p, a, files, checks)
}

// manifest checks a written-out manifest: YAML documents, each an object of a
// lab kind with a name.
func (v *validator) manifest(p []any, m string) {
	for _, doc := range strings.Split(m, "\n---") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var o struct {
			Kind     string `yaml:"kind"`
			Metadata struct {
				Name string `yaml:"name"`
			} `yaml:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
			v.add(p, "manifest: %v", err)
			continue
		}
		if !objectKinds[o.Kind] || o.Metadata.Name == "" {
			v.add(p, "manifest: each object needs a kind (Pod, ReplicaSet, Deployment, Service) and metadata.name")
		}
	}
}

func (v *validator) ref(p []any, r ObjectRef) {
	if !objectKinds[r.Kind] {
		v.add(p, "kind %q is not one of Pod, ReplicaSet, Deployment, Service", r.Kind)
	}
	if (r.Name == "") == (r.Selector == "" && r.CreatedBy == "") {
		v.add(p, "give exactly one of name and selector (or createdBy)")
	}
	if r.Selector != "" {
		v.selector(p, r.Selector)
	}
	if r.CreatedBy != "" {
		kind, name, _ := strings.Cut(r.CreatedBy, "/")
		if r.Kind != "Pod" || kind != "ReplicaSet" || len(validation.IsDNS1123Subdomain(name)) != 0 {
			v.add(p, "createdBy must be ReplicaSet/<name>, on kind Pod")
		}
	}
}

func (v *validator) selector(p []any, s string) {
	if _, err := labels.Parse(s); err != nil {
		v.add(p, "selector %q: %v", s, err)
	}
}

func (v *validator) action(p []any, a Action, files map[string]bool, checks map[string]*Check) {
	n := 0
	count := func(set bool) {
		if set {
			n++
		}
	}
	count(a.Apply != "")
	count(a.Manifest != "")
	count(a.Delete != nil)
	count(a.SetImage != nil)
	count(a.RolloutUndo != nil)
	count(a.Scale != nil)
	count(a.RemoveLabel != nil)
	count(a.Answer != nil)
	count(len(a.Wait) > 0)
	if n != 1 {
		v.add(p, "an action sets exactly one of apply, manifest, delete, setImage, rolloutUndo, scale, removeLabel, answer, wait (found %d)", n)
		return
	}
	switch {
	case a.Apply != "":
		if !files[a.Apply] {
			v.add(p, "apply %q: not in the lab's files", a.Apply)
		}
	case a.Manifest != "":
		v.manifest(p, a.Manifest)
	case a.Delete != nil:
		v.ref(p, *a.Delete)
	case a.SetImage != nil:
		if a.SetImage.Deployment == "" || a.SetImage.Container == "" || a.SetImage.Image == "" {
			v.add(p, "setImage needs deployment, container and image")
		}
	case a.RolloutUndo != nil:
		if a.RolloutUndo.Deployment == "" || a.RolloutUndo.ToRevision < 0 {
			v.add(p, "rolloutUndo needs deployment and a toRevision >= 0")
		}
	case a.Scale != nil:
		if a.Scale.Kind != "Deployment" && a.Scale.Kind != "ReplicaSet" || a.Scale.Name == "" || a.Scale.Replicas < 0 {
			v.add(p, "scale needs kind Deployment or ReplicaSet, a name and replicas >= 0")
		}
	case a.RemoveLabel != nil:
		r := a.RemoveLabel
		v.ref(p, ObjectRef{Kind: r.Kind, Name: r.Name, Selector: r.Selector})
		if r.Key == "" {
			v.add(p, "removeLabel needs key")
		}
	case a.Answer != nil:
		if c := checks[a.Answer.Check]; c == nil || c.Answer == nil {
			v.add(p, "answer %q: no answer check of that id in this step", a.Answer.Check)
		}
	case len(a.Wait) > 0:
		for _, id := range a.Wait {
			if checks[id] == nil {
				v.add(p, "wait %q: no check of that id in this step", id)
			}
		}
	}
}

func (v *validator) check(p []any, c *Check) {
	kind := c.KindName()
	if kind == "" {
		v.add(p, "check %q must set exactly one kind: exists, absent, match, pods, deployment, replicaSet, service, endpoints, http, hostHTTP, dns, exec, answer", c.ID)
		return
	}
	p = append(p, kind)
	need := func(ok bool, what string) {
		if !ok {
			v.add(p, "%s check %q: %s", kind, c.ID, what)
		}
	}
	switch {
	case c.Exists != nil:
		need(objectKinds[c.Exists.Kind] && c.Exists.Name != "", "needs kind (Pod, ReplicaSet, Deployment, Service) and name")
	case c.Absent != nil:
		need(objectKinds[c.Absent.Kind] && c.Absent.Name != "", "needs kind (Pod, ReplicaSet, Deployment, Service) and name")
	case c.Match != nil:
		need(objectKinds[c.Match.Kind] && c.Match.Name != "" && len(c.Match.Fields) > 0, "needs kind, name and fields")
	case c.Pods != nil:
		pc := c.Pods
		need(pc.Selector != "" || pc.Name != "" || pc.CreatedBy != "", "needs a selector, a name or createdBy")
		need(pc.Spread >= 0, "spread must be 0 or more")
		if pc.Selector != "" {
			v.selector(p, pc.Selector)
		}
		need(!(pc.Orphaned && pc.Owner != ""), "orphaned and owner exclude each other")
		need((pc.Count == nil || *pc.Count >= 0) && (pc.TotalCount == nil || *pc.TotalCount >= 0), "count and totalCount must be 0 or more")
		if pc.CreatedBy != "" {
			kind, name, _ := strings.Cut(pc.CreatedBy, "/")
			need(kind == "ReplicaSet" && len(validation.IsDNS1123Subdomain(name)) == 0, "createdBy must be ReplicaSet/<name>")
		}
		need(pc.TotalCount == nil || pc.CreatedBy != "", "totalCount counts the pods createdBy made: set createdBy (every pod of the namespace would count a debug pod and other labs' pods)")
	case c.Deployment != nil:
		need(c.Deployment.Name != "", "needs name")
		need((c.Deployment.Image == "") == (c.Deployment.Container == ""), "image and container go together")
	case c.ReplicaSet != nil:
		r := c.ReplicaSet
		need(r.Name != "" || (r.Deployment != "" && r.Image != ""), "needs name, or deployment and image")
		if r.Selector != "" {
			v.selector(p, r.Selector)
		}
	case c.Service != nil:
		need(c.Service.Name != "", "needs name")
		switch c.Service.Type {
		case "", "ClusterIP", "NodePort", "LoadBalancer", "ExternalName":
		default:
			need(false, "type must be ClusterIP, NodePort, LoadBalancer or ExternalName")
		}
	case c.Endpoints != nil:
		need(c.Endpoints.Service != "" && c.Endpoints.Count >= 0, "needs service and count")
	case c.HTTP != nil:
		need(inClusterURL(c.HTTP.URL), "url must be http://{pod:NAME}, http://{svc:NAME} or http://SERVICE[.NAMESPACE[.svc[.cluster.local]]], with an optional :port and path (a lab pack may not send kindlab's requests anywhere else)")
		need(c.HTTP.Contains != "" || c.HTTP.DistinctAtLeast > 0 || c.HTTP.SamePod, "needs contains, distinctAtLeast or samePod")
		need(c.HTTP.Requests >= 0 && c.HTTP.Requests <= 50, "requests must be 0..50")
	case c.HostHTTP != nil:
		need(c.HostHTTP.Service != "", "needs service")
		need(c.HostHTTP.Via == "nodePort" || c.HostHTTP.Via == "everyNode" || c.HostHTTP.Via == "hostPort" || c.HostHTTP.Via == "loadBalancer",
			"via must be nodePort, everyNode, hostPort or loadBalancer")
		need(!c.HostHTTP.OnlyWherePods || c.HostHTTP.Via == "everyNode", "onlyWherePods needs via: everyNode")
	case c.DNS != nil:
		need(c.DNS.Name != "" && (c.DNS.CNAME != "" || c.DNS.Address), "needs name and cname or address")
	case c.Exec != nil:
		need(c.Exec.Pod != "" && len(c.Exec.Command) > 0 && c.Exec.Contains != "", "needs pod, command and contains")
	case c.Answer != nil:
		need(truths[c.Answer.Truth] || ClusterFacts[c.Answer.Truth], "truth must be podIP, podHostname, podNode, serviceClusterIP, serviceNodePort, "+
			"apiServerNode, containerRuntime, kubeletVersion, nodeCount, networkPlugin, daemonSetPods or shortName")
		need(c.Answer.Object != "" || ClusterFacts[c.Answer.Truth] && !factsWithObject[c.Answer.Truth], "needs object")
		v.text(p, c.Answer.Question, "question")
	}
}

// inClusterURLRE is what an in-cluster HTTP check may request: a pod or Service of
// the lab (kindlab fills in the address) or a Service's DNS name, never an address
// outside the cluster (a cloud's metadata service, the machine's other ports).
var inClusterURLRE = regexp.MustCompile(`^http://(\{(pod|svc):[a-z0-9]([-a-z0-9.]*[a-z0-9])?\}|[a-z]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)?(\.svc(\.cluster\.local)?)?)(:[0-9]{1,5})?(/[-A-Za-z0-9._~/%?=&]*)?$`)

func inClusterURL(u string) bool { return inClusterURLRE.MatchString(u) }
