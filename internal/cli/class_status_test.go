package cli

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kindlab/kindlab/internal/grade"
	"github.com/kindlab/kindlab/internal/lab"
	"github.com/kindlab/kindlab/labs"
	"github.com/kindlab/kindlab/manifests"
)

// podLab is a learner's pod lab: every graded check passing but those in fail,
// with their diagnoses.
func podLab(t *testing.T, set *lab.Set, fail map[string]string) LabProgress {
	t.Helper()
	l, err := set.Get("pod")
	if err != nil {
		t.Fatal(err)
	}
	p := LabProgress{Lab: "pod"}
	for _, it := range grade.Plan(l) {
		if it.Skip != "" {
			continue
		}
		p.Graded++
		c := CheckProgress{Step: it.Step.ID, ID: it.Check.ID, Status: grade.Passed}
		if d, ok := fail[it.Check.ID]; ok {
			c.Status, c.Diagnosis = grade.Failed, d
		} else {
			p.Passed++
		}
		p.Checks = append(p.Checks, c)
	}
	p.Done = p.Passed == p.Graded
	return p
}

// The heatmap counts, per check, the learners who began the lab and fail it,
// with the diagnosis most share (their own pods' generated names aside); the
// gradebook has a point per graded check; idle learners are named.
func TestClassHeatmapGradebookAndIdle(t *testing.T) {
	t.Parallel()
	set, err := lab.Load(labs.FS, manifests.FS)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	recent, old := now.Add(-2*time.Minute), now.Add(-25*time.Minute)
	pull := "container my-nginx-pod cannot pull image nginx:1.99: it is not available offline"
	rows := []LearnerStatus{
		{Learner: "s-01", Cluster: "c1", LastChange: &recent, Labs: []LabProgress{podLab(t, set, nil)}},
		{Learner: "s-02", Cluster: "c2", LastChange: &old, Labs: []LabProgress{podLab(t, set, map[string]string{"pod-ready": pull, "nginx-answers": "pod my-nginx-pod is not Ready"})}},
		{Learner: "s-03", Cluster: "c3", Labs: []LabProgress{podLab(t, set, map[string]string{"pod-ready": pull})}},
		// Began nothing: every check fails without a diagnosis; not counted.
		{Learner: "s-04", Cluster: "c4", LastChange: &recent, Labs: []LabProgress{podLab(t, set, map[string]string{"pod-applied": "", "pod-ready": "", "nginx-answers": "", "pod-ip": "", "pod-node": "", "pod-hostname": ""})}},
		{Learner: "s-05", Cluster: "c5", Error: "cluster kindlab-05 does not answer"},
	}
	for i := range rows[3].Labs {
		rows[3].Labs[i].Passed = 0
		for j := range rows[3].Labs[i].Checks {
			rows[3].Labs[i].Checks[j].Status = grade.Failed
		}
	}
	sc := stuck(set, rows)
	if len(sc) < 2 || sc[0].ref != "pod/create-pod/pod-ready" || sc[0].failing != 2 || sc[0].began != 3 || sc[0].diagnosis != pull || sc[0].sharing != 2 {
		t.Fatalf("stuck: %+v", sc)
	}
	var text bytes.Buffer
	writeStuck(&text, set, rows)
	writeIdle(&text, rows, 10*time.Minute, now)
	for _, w := range []string{"pod/create-pod/pod-ready", "2/3", pull + " (2)",
		"Idle for 10m0s or more: s-02 (last change 25m0s ago), s-03 (no change yet)"} {
		if !strings.Contains(text.String(), w) {
			t.Errorf("status text lacks %q:\n%s", w, text.String())
		}
	}
	if strings.Contains(text.String(), "s-01") || strings.Contains(text.String(), "s-05 (") {
		t.Errorf("a busy learner or one whose cluster did not answer is named idle:\n%s", text.String())
	}

	var book bytes.Buffer
	if err := writeGradebook(&book, set, rows); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&book).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head := recs[0]
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	max := recs[1][col["max points"]]
	if len(recs) != 6 || head[0] != "learner" || max == "0" {
		t.Fatalf("gradebook:\n%s", book.String())
	}
	want := map[string][3]string{ // points, pod-ready, last change
		"s-01": {strconv.Itoa(podLab(t, set, nil).Graded), "1", recent.Format(time.RFC3339)},
		"s-03": {"", "0", ""},
		"s-05": {"0", "", ""},
	}
	for _, r := range recs[1:] {
		w, ok := want[r[0]]
		if !ok {
			continue
		}
		if w[0] != "" && r[col["points"]] != w[0] || r[col["pod/create-pod/pod-ready"]] != w[1] || r[col["last change"]] != w[2] {
			t.Errorf("%s: points %s, pod-ready %q, last change %q; want %v", r[0], r[col["points"]], r[col["pod/create-pod/pod-ready"]], r[col["last change"]], w)
		}
	}
}

func TestGeneratedNamesReadAlike(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"container nginx of pod my-nginx-deployment-5d59d67564-x8k2q exited": "container nginx of pod my-nginx-deployment-… exited",
		"ReplicaSet hostname-deployment-7c4b9d6f8 cannot create pods":        "ReplicaSet hostname-deployment-… cannot create pods",
		"pod my-nginx-pod is not Ready; Service hostname-svc-nodeport":       "pod my-nginx-pod is not Ready; Service hostname-svc-nodeport",
		"closest: pod replicaset-nginx-x8k2q":                                "closest: pod replicaset-nginx-x8k2q",
	} {
		if got := generalName(in); got != want {
			t.Errorf("generalName(%q) = %q, want %q", in, got, want)
		}
	}
}
