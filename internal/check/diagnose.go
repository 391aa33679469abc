package check

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kindlab/kindlab/internal/lab"
)

// A diagnosis says why a failing check fails, from the state the cluster itself
// holds: the nearest miss (the pod whose labels come closest, the Service of a
// similar name), or what blocks the objects the check looks at (an image that is
// not offline, a container that crashed and its last log line, a failing probe,
// a quota, the rollout history). It reads the watch cache; the one thing the
// cache lacks, a crashed container's last log line, is asked once per crash.

// diagnose explains, in the learner's language, why check c fails; "" when the
// check's own message says all there is.
func (e *Evaluator) diagnose(ctx context.Context, c *lab.Check) string {
	switch {
	case c.Exists != nil:
		return e.missing(c.Exists.Kind, c.Exists.Name)
	case c.Match != nil:
		return e.missing(c.Match.Kind, c.Match.Name)
	case c.Pods != nil:
		return e.diagnosePods(ctx, c.Pods)
	case c.Deployment != nil:
		return e.diagnoseDeployment(ctx, c.Deployment)
	case c.ReplicaSet != nil:
		return e.diagnoseReplicaSet(ctx, c.ReplicaSet)
	case c.Service != nil:
		return e.diagnoseService(c.Service)
	case c.Endpoints != nil:
		return e.diagnoseBackends(ctx, c.Endpoints.Service)
	case c.HTTP != nil:
		if g := placeholderRE.FindStringSubmatch(c.HTTP.URL); g != nil {
			if g[1] == "pod" {
				return e.diagnosePod(ctx, g[2])
			}
			return e.diagnoseBackends(ctx, g[2])
		}
	case c.HostHTTP != nil:
		if s, _ := e.Store.Service(c.HostHTTP.Service); s != nil && c.HostHTTP.Via == "hostPort" && servicePort(s).NodePort != hostNodePort {
			if h := e.nodePortHolder(hostNodePort, s.Name); h != "" {
				return h
			}
		}
		return e.diagnoseBackends(ctx, c.HostHTTP.Service)
	case c.DNS != nil:
		name, _, _ := strings.Cut(c.DNS.Name, ".")
		return e.missing("Service", name)
	case c.Exec != nil:
		return e.diagnosePod(ctx, c.Exec.Pod)
	}
	return ""
}

// hostNodePort is the NodePort a kindlab cluster maps to 127.0.0.1.
const hostNodePort = 31000

func servicePort(s *corev1.Service) corev1.ServicePort {
	if len(s.Spec.Ports) == 0 {
		return corev1.ServicePort{}
	}
	return s.Spec.Ports[0]
}

// missing names, for an object that does not exist, what exists instead: an
// object of the same kind whose name differs by a typo, or one of another kind
// with this very name (a Pod made where a Deployment was asked for). "" when the
// object exists or nothing comes close.
func (e *Evaluator) missing(kind, name string) string {
	if o, err := e.Store.object(kind, name); err != nil || o != nil {
		return ""
	}
	if n := closestName(name, e.Store.names(kind)); n != "" {
		return e.msg().f("there is no %[1]s %[2]s, but there is a %[1]s %[3]s: a typo in the name?", "%[1]s %[2]s 은(는) 없지만 %[1]s %[3]s 이(가) 있습니다: 이름의 오타인가요?", kind, name, n)
	}
	for _, other := range []string{"Deployment", "ReplicaSet", "Pod", "Service"} {
		if other == kind {
			continue
		}
		if o, err := e.Store.object(other, name); err == nil && o != nil {
			return e.msg().f("%[2]s is a %[3]s, not a %[1]s: check the file's kind", "%[2]s 은(는) %[1]s 이(가) 아니라 %[3]s 입니다: 파일의 kind 를 확인하세요", kind, name, other)
		}
	}
	return ""
}

// closestName is the name among names nearest to want by edit distance, when
// it is near enough to be a typo of it (at most 2 edits, 3 for long names).
func closestName(want string, names []string) string {
	best, bestD := "", 3
	if len(want) >= 16 {
		bestD = 4
	}
	sort.Strings(names)
	for _, n := range names {
		if n == want {
			return ""
		}
		if d := editDistance(want, n, bestD); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, or limit when it is at
// least limit.
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d >= limit || -d >= limit {
		return limit
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= limit {
			return limit
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit)
}

func (e *Evaluator) diagnosePods(ctx context.Context, c *lab.PodsCheck) string {
	if c.Name != "" {
		if d := e.missing("Pod", c.Name); d != "" {
			return d
		}
		if p, _ := e.Store.Pod(c.Name); p != nil && c.Selector != "" {
			if sel, err := labels.Parse(c.Selector); err == nil && !sel.Matches(labels.Set(p.Labels)) {
				return e.podLabelMiss(p, sel)
			}
		}
		if !c.Ready {
			return ""
		}
		return e.diagnosePod(ctx, c.Name)
	}
	sel := labels.Everything()
	if c.Selector != "" {
		s, err := labels.Parse(c.Selector)
		if err != nil {
			return ""
		}
		sel = s
	}
	pods := e.Store.Pods(sel)
	if len(pods) == 0 {
		if want := equalities(sel); len(want) > 0 {
			return e.labelMiss(sel.String(), want)
		}
		return ""
	}
	if c.Ready {
		if t := e.podsTrouble(ctx, pods); t != "" {
			return t
		}
	}
	if c.Count != nil {
		return e.replicasMiss(pods, *c.Count)
	}
	return ""
}

// equalities are the key=value requirements of sel (what a nearest pod is
// measured against).
func equalities(sel labels.Selector) map[string]string {
	reqs, _ := sel.Requirements()
	out := map[string]string{}
	for _, r := range reqs {
		if (r.Operator() == selection.Equals || r.Operator() == selection.DoubleEquals || r.Operator() == selection.In) && r.Values().Len() == 1 {
			out[r.Key()] = r.Values().UnsortedList()[0]
		}
	}
	return out
}

// labelMiss names the pod whose labels come closest to want, and how they
// differ ("app=webserverx wanted, app=webserver found"); sel is how the learner
// sees the selector.
func (e *Evaluator) labelMiss(sel string, want map[string]string) string {
	var (
		closest *corev1.Pod
		best    = -1
	)
	for _, p := range e.Store.Pods(labels.Everything()) {
		// A pod is near when it has a key the selector names: a pod of another
		// kind of work (kindlab's helper pod, a debug pod) is not a near miss.
		n, keys := 0, 0
		for k, v := range want {
			if got, ok := p.Labels[k]; ok {
				keys++
				if got == v {
					n++
				}
			}
		}
		if keys == 0 {
			continue
		}
		if n > best || n == best && p.Name < closest.Name {
			closest, best = p, n
		}
	}
	if closest == nil {
		// Nothing was made yet, or nothing like it: the check's message says it.
		return ""
	}
	diffs := e.labelDiffs(want, closest.Labels)
	return e.msg().f("selector %s matches no pod — closest: pod %s (%s)", "셀렉터 %s 에 맞는 포드가 없습니다 — 가장 가까운 포드 %s (%s)",
		sel, closest.Name, strings.Join(diffs, ", "))
}

// labelDiffs says, key by key, how labels got differ from want.
func (e *Evaluator) labelDiffs(want, got map[string]string) []string {
	var diffs []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		switch v, ok := got[k]; {
		case !ok:
			diffs = append(diffs, e.msg().f("%s=%s wanted, no %s label", "%s=%s 이어야 하는데 %s 라벨이 없음", k, want[k], k))
		case v != want[k]:
			diffs = append(diffs, e.msg().f("%s=%s wanted, %s=%s found", "%s=%s 이어야 하는데 %s=%s", k, want[k], k, v))
		}
	}
	return diffs
}

// podLabelMiss says how the labels of pod p differ from what sel wants.
func (e *Evaluator) podLabelMiss(p *corev1.Pod, sel labels.Selector) string {
	diffs := e.labelDiffs(equalities(sel), p.Labels)
	if len(diffs) == 0 {
		return e.msg().f("pod %s does not match selector %s", "포드 %s 이(가) 셀렉터 %s 에 맞지 않습니다", p.Name, sel.String())
	}
	return e.msg().f("pod %s does not match selector %s (%s)", "포드 %s 이(가) 셀렉터 %s 에 맞지 않습니다 (%s)", p.Name, sel.String(), strings.Join(diffs, ", "))
}

// replicasMiss explains a count of pods that differs from want when the pods
// belong to one ReplicaSet: how many replicas it asks for (spec.replicas).
func (e *Evaluator) replicasMiss(pods []*corev1.Pod, want int) string {
	owner := ""
	for _, p := range pods {
		o := metav1.GetControllerOf(p)
		if o == nil || o.Kind != "ReplicaSet" || owner != "" && o.Name != owner {
			return ""
		}
		owner = o.Name
	}
	rs, err := e.Store.ReplicaSet(owner)
	if err != nil || rs == nil || int(replicas(rs.Spec.Replicas)) == want {
		return ""
	}
	return e.msg().f("ReplicaSet %s asks for %d replicas (spec.replicas); the check counts %d", "레플리카셋 %s 의 replicas 는 %d 입니다 (spec.replicas); 검사는 %d 개를 셉니다", rs.Name, replicas(rs.Spec.Replicas), want)
}

func (e *Evaluator) diagnosePod(ctx context.Context, name string) string {
	if d := e.missing("Pod", name); d != "" {
		return d
	}
	p, err := e.Store.Pod(name)
	if err != nil || p == nil {
		return ""
	}
	return e.podTrouble(ctx, p)
}

// podsTrouble is the trouble of the first of pods (by name) that has one.
func (e *Evaluator) podsTrouble(ctx context.Context, pods []*corev1.Pod) string {
	pods = slices.Clone(pods)
	slices.SortFunc(pods, func(a, b *corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	for _, p := range pods {
		if t := e.podTrouble(ctx, p); t != "" {
			return t
		}
	}
	return ""
}

// podTrouble says what keeps pod p from running Ready: an image that cannot be
// pulled, no node to run on, a crashed container (with its last log line), a
// container that cannot start, or a failing probe (the kubelet's last event).
// "" for a Ready pod or one on its way (being created).
func (e *Evaluator) podTrouble(ctx context.Context, p *corev1.Pod) string {
	if podReady(p) {
		return ""
	}
	if m, _ := e.pullProblem(p); m != "" {
		return m
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Message != "" {
			return e.msg().f("pod %s cannot be scheduled: %s", "포드 %s 을(를) 배치할 노드가 없습니다: %s", p.Name, short(c.Message))
		}
	}
	statuses := append(slices.Clone(p.Status.InitContainerStatuses), p.Status.ContainerStatuses...)
	for _, s := range statuses {
		if t := e.crashed(ctx, p, s); t != "" {
			return t
		}
	}
	for _, s := range statuses {
		if w := s.State.Waiting; w != nil && w.Reason != "" && w.Reason != "ContainerCreating" && w.Reason != "PodInitializing" {
			m := e.msg().f("container %s of pod %s cannot start: %s", "포드 %[2]s 의 컨테이너 %[1]s 이(가) 시작하지 못합니다: %[3]s", s.Name, p.Name, w.Reason)
			if w.Message != "" {
				m += ": " + short(w.Message)
			}
			return m
		}
	}
	if ev := lastWarning(e.Store.Events("Pod", p.Name), p.UID); ev != nil {
		return e.msg().f("pod %s is not Ready — %s: %s", "포드 %s 이(가) Ready 가 아닙니다 — %s: %s", p.Name, ev.Reason, short(ev.Message))
	}
	for _, s := range p.Status.ContainerStatuses {
		if s.State.Running != nil && !s.Ready {
			return e.msg().f("container %s of pod %s runs but is not Ready: its readiness probe has not passed yet", "포드 %[2]s 의 컨테이너 %[1]s 이(가) 실행 중이지만 Ready 가 아닙니다: readiness probe 가 아직 통과하지 않았습니다", s.Name, p.Name)
		}
	}
	return ""
}

// crashed describes container status s of pod p when it has ended in failure:
// it exited with an error and stays so, or it keeps ending and the kubelet backs
// off restarting it. Its last log line is the container's own word on why.
func (e *Evaluator) crashed(ctx context.Context, p *corev1.Pod, s corev1.ContainerStatus) string {
	var (
		t        *corev1.ContainerStateTerminated
		previous bool
	)
	switch {
	case s.State.Terminated != nil && s.State.Terminated.ExitCode != 0:
		t = s.State.Terminated
	case s.State.Waiting != nil && s.State.Waiting.Reason == "CrashLoopBackOff" && s.LastTerminationState.Terminated != nil:
		// Exit code 0 too: a container that keeps ending (a busybox with no command) loops as well.
		t, previous = s.LastTerminationState.Terminated, true
	default:
		return ""
	}
	m := e.msg().f("container %s of pod %s exited with code %d (%s)", "포드 %[2]s 의 컨테이너 %[1]s 이(가) 종료 코드 %[3]d (%[4]s) 로 끝났습니다", s.Name, p.Name, t.ExitCode, t.Reason)
	if s.RestartCount > 0 {
		m += e.msg().f(", restarted %d times", ", 재시작 %d 번", s.RestartCount)
	}
	if line := e.lastLogLine(ctx, p, s, t, previous); line != "" {
		m += e.msg().f("; its last log line: %s", "; 마지막 로그: %s", line)
	}
	return m
}

// lastWarning is the newest Warning event of the object with uid (events outlive
// a deleted object of the same name), or nil.
func lastWarning(evs []*corev1.Event, uid types.UID) *corev1.Event {
	var last *corev1.Event
	for _, ev := range evs {
		if ev.Type != corev1.EventTypeWarning || ev.InvolvedObject.UID != uid {
			continue
		}
		if last == nil || eventTime(ev).After(eventTime(last)) {
			last = ev
		}
	}
	return last
}

func eventTime(ev *corev1.Event) time.Time {
	for _, t := range []time.Time{ev.LastTimestamp.Time, ev.EventTime.Time, ev.FirstTimestamp.Time, ev.CreationTimestamp.Time} {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// logCache keeps the last log line of containers that ended: what an ended
// container wrote does not change, so it is asked of the API server once.
type logCache struct {
	mu    sync.Mutex
	lines map[string]string
}

// logCacheSize bounds the cache; a class of crash loops restarts it now and then.
const logCacheSize = 512

// lastLogLine is the last line container s of p wrote before it ended with t:
// the termination message when the container left one (terminationMessagePolicy
// FallbackToLogsOnError puts its log's tail there), else its log, once.
func (e *Evaluator) lastLogLine(ctx context.Context, p *corev1.Pod, s corev1.ContainerStatus, t *corev1.ContainerStateTerminated, previous bool) string {
	if line := lastLine(t.Message); line != "" {
		return line
	}
	key := fmt.Sprintf("%s/%s/%d/%s", p.UID, s.Name, s.RestartCount, t.FinishedAt.UTC().Format(time.RFC3339))
	e.logs.mu.Lock()
	line, ok := e.logs.lines[key]
	e.logs.mu.Unlock()
	if ok {
		return line
	}
	lctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	out, err := e.Cluster.Logs(lctx, p.Name, s.Name, previous)
	if err != nil {
		return ""
	}
	line = lastLine(out)
	e.logs.mu.Lock()
	if e.logs.lines == nil || len(e.logs.lines) >= logCacheSize {
		e.logs.lines = map[string]string{}
	}
	e.logs.lines[key] = line
	e.logs.mu.Unlock()
	return line
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n "), "\n")
	return short(lines[len(lines)-1])
}

func (e *Evaluator) diagnoseDeployment(ctx context.Context, c *lab.DeploymentCheck) string {
	d, err := e.Store.Deployment(c.Name)
	if err != nil {
		return ""
	}
	if d == nil {
		return e.missing("Deployment", c.Name)
	}
	if c.Revision != "" && d.Annotations[revisionAnnotation] != c.Revision || c.ChangeCause != "" && !strings.Contains(d.Annotations["kubernetes.io/change-cause"], c.ChangeCause) {
		return e.history(d)
	}
	if c.Container != "" && containerImage(d.Spec.Template, c.Container) != c.Image {
		return ""
	}
	return e.rollout(ctx, d)
}

// history lists what a Deployment's rollout history holds: each revision with
// its image and change-cause, and which one runs now.
func (e *Evaluator) history(d *appsv1.Deployment) string {
	type rev struct {
		n          int
		image, why string
	}
	var revs []rev
	for _, rs := range e.Store.ReplicaSets() {
		if o := metav1.GetControllerOf(rs); o == nil || o.Kind != "Deployment" || o.UID != d.UID {
			continue
		}
		n, _ := strconv.Atoi(rs.Annotations[revisionAnnotation])
		why := rs.Annotations["kubernetes.io/change-cause"]
		if why == "" {
			why = e.msg().f("no change-cause", "change-cause 없음")
		}
		revs = append(revs, rev{n, templateImages(rs.Spec.Template), why})
	}
	if len(revs) == 0 {
		return ""
	}
	slices.SortFunc(revs, func(a, b rev) int { return a.n - b.n })
	var parts []string
	for _, r := range revs {
		parts = append(parts, fmt.Sprintf("%d %s (%s)", r.n, r.image, short(r.why)))
	}
	return e.msg().f("rollout history: %s; now at revision %s", "롤아웃 기록: %s; 지금은 리비전 %s", strings.Join(parts, ", "), valueOrNone(d.Annotations[revisionAnnotation]))
}

// rollout says what keeps a Deployment from having its pods Ready: a failure to
// create pods (a quota), a rollout past its deadline, or its pods' trouble.
func (e *Evaluator) rollout(ctx context.Context, d *appsv1.Deployment) string {
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentReplicaFailure && c.Status == corev1.ConditionTrue {
			return e.msg().f("Deployment %s cannot create pods: %s", "디플로이먼트 %s 이(가) 포드를 만들지 못합니다: %s", d.Name, short(c.Message))
		}
	}
	var newest *appsv1.ReplicaSet
	for _, rs := range e.Store.ReplicaSets() {
		if o := metav1.GetControllerOf(rs); o == nil || o.Kind != "Deployment" || o.UID != d.UID {
			continue
		}
		if t := e.replicaSetFailure(rs); t != "" {
			return t
		}
		if newest == nil || revisionOf(rs) > revisionOf(newest) {
			newest = rs
		}
	}
	if newest != nil {
		if t := e.podsTrouble(ctx, e.ownedPods(newest)); t != "" {
			return t
		}
	}
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Status == corev1.ConditionFalse {
			return e.msg().f("Deployment %s does not progress: %s", "디플로이먼트 %s 이(가) 진행되지 않습니다: %s", d.Name, short(c.Message))
		}
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	return e.podsTrouble(ctx, e.selectedPods(sel, err))
}

func revisionOf(rs *appsv1.ReplicaSet) int {
	n, _ := strconv.Atoi(rs.Annotations[revisionAnnotation])
	return n
}

// replicaSetFailure is why rs cannot create its pods (a quota, a policy), from
// its condition or its newest FailedCreate event.
func (e *Evaluator) replicaSetFailure(rs *appsv1.ReplicaSet) string {
	for _, c := range rs.Status.Conditions {
		if c.Type == appsv1.ReplicaSetReplicaFailure && c.Status == corev1.ConditionTrue {
			return e.msg().f("ReplicaSet %s cannot create pods: %s", "레플리카셋 %s 이(가) 포드를 만들지 못합니다: %s", rs.Name, short(c.Message))
		}
	}
	if ev := lastWarning(e.Store.Events("ReplicaSet", rs.Name), rs.UID); ev != nil && ev.Reason == "FailedCreate" && replicas(rs.Spec.Replicas) > rs.Status.Replicas {
		return e.msg().f("ReplicaSet %s cannot create pods: %s", "레플리카셋 %s 이(가) 포드를 만들지 못합니다: %s", rs.Name, short(ev.Message))
	}
	return ""
}

func (e *Evaluator) diagnoseReplicaSet(ctx context.Context, c *lab.ReplicaSetCheck) string {
	if c.Name == "" {
		return ""
	}
	rs, err := e.Store.ReplicaSet(c.Name)
	if err != nil {
		return ""
	}
	if rs == nil {
		return e.missing("ReplicaSet", c.Name)
	}
	if c.Selector != "" {
		want, _ := labels.Parse(c.Selector)
		if got, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector); err == nil && got.String() != want.String() {
			return e.msg().f("a ReplicaSet's selector cannot change (kubectl apply says \"field is immutable\"): delete ReplicaSet %s, then apply the new file", "레플리카셋의 셀렉터는 바꿀 수 없습니다 (kubectl apply 가 \"field is immutable\" 이라고 합니다): 레플리카셋 %s 을(를) 지우고 새 파일을 apply 하세요", rs.Name)
		}
	}
	if t := e.replicaSetFailure(rs); t != "" {
		return t
	}
	return e.podsTrouble(ctx, e.ownedPods(rs))
}

func (e *Evaluator) diagnoseService(c *lab.ServiceCheck) string {
	s, err := e.Store.Service(c.Name)
	if err != nil {
		return ""
	}
	if s == nil || c.NodePort != 0 && servicePort(s).NodePort != c.NodePort {
		if c.NodePort != 0 {
			if h := e.nodePortHolder(c.NodePort, c.Name); h != "" {
				return h
			}
		}
		if s == nil {
			return e.missing("Service", c.Name)
		}
	}
	if c.LoadBalancerAddress && lbAddress(s) == "" && s.Spec.Type == corev1.ServiceTypeLoadBalancer {
		return e.loadBalancerState(s)
	}
	return e.serviceFieldMiss(c, s)
}

// serviceFieldMiss explains what a Service field that differs from the check
// changes: what the Service does with the value it has.
func (e *Evaluator) serviceFieldMiss(c *lab.ServiceCheck, s *corev1.Service) string {
	switch {
	case c.Type != "" && string(s.Spec.Type) != c.Type:
		switch s.Spec.Type {
		case corev1.ServiceTypeClusterIP:
			return e.msg().f("a ClusterIP Service is reached only from inside the cluster; set type: %s", "ClusterIP 서비스는 클러스터 안에서만 접근할 수 있습니다; type: %s 로 바꾸세요", c.Type)
		case corev1.ServiceTypeNodePort:
			return e.msg().f("a NodePort Service opens a port on every node but gets no EXTERNAL-IP; set type: %s", "NodePort 서비스는 모든 노드에 포트를 열지만 EXTERNAL-IP 는 받지 않습니다; type: %s 로 바꾸세요", c.Type)
		case corev1.ServiceTypeLoadBalancer:
			return e.msg().f("a LoadBalancer Service asks a load balancer for an address; set type: %s", "LoadBalancer 서비스는 로드 밸런서에 주소를 요청합니다; type: %s 로 바꾸세요", c.Type)
		case corev1.ServiceTypeExternalName:
			return e.msg().f("an ExternalName Service is only a DNS name (a CNAME); set type: %s", "ExternalName 서비스는 DNS 이름(CNAME)일 뿐입니다; type: %s 로 바꾸세요", c.Type)
		}
	case c.NodePort == hostNodePort && servicePort(s).NodePort != c.NodePort:
		return e.msg().f("nodePort %d is open on every node, but only nodePort %d is mapped to this machine's 127.0.0.1", "nodePort %d 은(는) 모든 노드에 열리지만, 이 컴퓨터의 127.0.0.1 에 연결된 것은 nodePort %d 뿐입니다", servicePort(s).NodePort, hostNodePort)
	case c.SessionAffinity != "" && string(s.Spec.SessionAffinity) != c.SessionAffinity:
		return e.msg().f("with sessionAffinity %s each request may reach another pod; ClientIP sends one client to one pod", "sessionAffinity %s 이면 요청마다 다른 포드로 갈 수 있습니다; ClientIP 는 한 클라이언트를 한 포드로 보냅니다", valueOrNone(string(s.Spec.SessionAffinity)))
	case c.ExternalTrafficPolicy != "" && string(s.Spec.ExternalTrafficPolicy) != c.ExternalTrafficPolicy:
		return e.msg().f("with externalTrafficPolicy %s every node forwards to any pod, and the pod sees a node's address instead of the client's", "externalTrafficPolicy %s 이면 모든 노드가 아무 포드로나 전달하고, 포드는 클라이언트 대신 노드의 주소를 봅니다", valueOrNone(string(s.Spec.ExternalTrafficPolicy)))
	case c.ExternalName != "" && s.Spec.ExternalName != c.ExternalName:
		return e.msg().f("the Service's DNS name is a CNAME for externalName %q: clients are sent there", "서비스의 DNS 이름은 externalName %q 의 CNAME 입니다: 클라이언트는 그곳으로 갑니다", s.Spec.ExternalName)
	}
	return ""
}

// nodePortHolder names the Service other than self that holds nodePort n: a
// nodePort belongs to one Service in the whole cluster, so the API server
// refuses a second one ("provided port is already allocated").
func (e *Evaluator) nodePortHolder(n int32, self string) string {
	for _, s := range e.Store.Services() {
		if s.Name == self {
			continue
		}
		for _, p := range s.Spec.Ports {
			if p.NodePort == n {
				return e.msg().f("nodePort %d is held by Service %s: one nodePort belongs to one Service; delete %s or pick another port", "nodePort %d 은(는) 서비스 %s 이(가) 쓰고 있습니다: nodePort 는 서비스 하나만 쓸 수 있습니다; %s 을(를) 지우거나 다른 포트를 고르세요", n, s.Name, s.Name)
			}
		}
	}
	return ""
}

// loadBalancerState says why a LoadBalancer Service has no address: the load
// balancer's own last complaint (MetalLB's "no available IPs"), or that none
// has answered.
func (e *Evaluator) loadBalancerState(s *corev1.Service) string {
	if ev := lastWarning(e.Store.Events("Service", s.Name), s.UID); ev != nil {
		return e.msg().f("the load balancer says %s: %s", "로드 밸런서: %s: %s", ev.Reason, short(ev.Message))
	}
	if s.Spec.LoadBalancerClass != nil {
		return e.msg().f("loadBalancerClass %s: only a load balancer of that class gives it an address", "loadBalancerClass %s: 그 클래스의 로드 밸런서만 주소를 줍니다", *s.Spec.LoadBalancerClass)
	}
	return e.msg().f("no load balancer has given it an address yet: on a kindlab cluster MetalLB does (`kindlab up` installs it); without one, EXTERNAL-IP stays <pending>", "아직 어떤 로드 밸런서도 주소를 주지 않았습니다: kindlab 클러스터에서는 MetalLB 가 줍니다 (`kindlab up` 이 설치); 로드 밸런서가 없으면 EXTERNAL-IP 는 <pending> 으로 남습니다")
}

// diagnoseBackends says why a Service does not reach Ready pods: no such
// Service, no selector, a selector that matches no pod (the nearest one), pods
// that are not Ready (why), or a targetPort no container declares.
func (e *Evaluator) diagnoseBackends(ctx context.Context, service string) string {
	s, err := e.Store.Service(service)
	if err != nil {
		return ""
	}
	if s == nil {
		return e.missing("Service", service)
	}
	if s.Spec.Type == corev1.ServiceTypeExternalName {
		return ""
	}
	if len(s.Spec.Selector) == 0 {
		return e.msg().f("Service %s has no selector: no pod becomes its endpoint", "서비스 %s 에 셀렉터가 없습니다: 어떤 포드도 엔드포인트가 되지 않습니다", service)
	}
	sel := labels.SelectorFromSet(s.Spec.Selector)
	pods := e.Store.Pods(sel)
	if len(pods) == 0 {
		return e.labelMiss(sel.String(), s.Spec.Selector)
	}
	if t := e.podsTrouble(ctx, pods); t != "" {
		return t
	}
	return e.portMiss(s, pods)
}

// portMiss names a targetPort of s that the pods' containers do not declare,
// when they declare ports at all (a port need not be declared to be served).
func (e *Evaluator) portMiss(s *corev1.Service, pods []*corev1.Pod) string {
	var declared []string
	byName, byNumber := map[string]bool{}, map[int32]bool{}
	for _, c := range pods[0].Spec.Containers {
		for _, p := range c.Ports {
			byNumber[p.ContainerPort] = true
			if p.Name != "" {
				byName[p.Name] = true
			}
			declared = append(declared, strconv.Itoa(int(p.ContainerPort)))
		}
	}
	if len(declared) == 0 {
		return ""
	}
	for _, p := range s.Spec.Ports {
		tp := p.TargetPort
		if tp.StrVal != "" && !byName[tp.StrVal] || tp.StrVal == "" && tp.IntVal != 0 && !byNumber[tp.IntVal] {
			return e.msg().f("targetPort %s of Service %s is not a port its pods declare (%s)", "서비스 %[2]s 의 targetPort %[1]s 은(는) 포드가 선언한 포트(%[3]s)가 아닙니다", tp.String(), s.Name, strings.Join(declared, ", "))
		}
	}
	return ""
}
