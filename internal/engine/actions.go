package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/yaml"

	"github.com/kindlab/kindlab/internal/kube"
	"github.com/kindlab/kindlab/internal/lab"
)

// resources maps the kinds a lab may touch to their API resources.
var resources = map[string]schema.GroupVersionResource{
	"Pod":        {Version: "v1", Resource: "pods"},
	"Service":    {Version: "v1", Resource: "services"},
	"ReplicaSet": {Group: "apps", Version: "v1", Resource: "replicasets"},
	"Deployment": {Group: "apps", Version: "v1", Resource: "deployments"},
}

const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// Run performs one action of step st of l. An answer action records the true value
// in answers (the caller's own map); a wait action reads them.
func (s *Session) Run(ctx context.Context, l *lab.Lab, st *lab.Step, a lab.Action, answers map[string]string) error {
	switch {
	case a.Apply != "":
		return s.apply(ctx, l, a.Apply)
	case a.Manifest != "":
		return s.applyData(ctx, "a written-out manifest", []byte(a.Manifest))
	case a.Delete != nil:
		return s.delete(ctx, *a.Delete, nil)
	case a.SetImage != nil:
		return s.setImage(ctx, a.SetImage)
	case a.RolloutUndo != nil:
		return s.rolloutUndo(ctx, a.RolloutUndo)
	case a.Scale != nil:
		return s.scale(ctx, a.Scale)
	case a.RemoveLabel != nil:
		return s.removeLabel(ctx, a.RemoveLabel)
	case a.Answer != nil:
		for _, c := range st.Checks {
			if c.ID == a.Answer.Check && c.Answer != nil {
				truth, err := s.eval.Truth(ctx, c.Answer)
				if err != nil {
					return err
				}
				if answers == nil {
					return fmt.Errorf("answer %q: nowhere to record it", c.ID)
				}
				answers[c.ID] = truth
				return nil
			}
		}
		return fmt.Errorf("no answer check %q", a.Answer.Check)
	case len(a.Wait) > 0:
		_, err := s.WaitPass(ctx, st, answers, 3*time.Minute, a.Wait...)
		return err
	}
	return fmt.Errorf("empty action")
}

// apply creates or updates the objects of a manifest the way `kubectl apply` does
// for these labs: it records last-applied-configuration, creates what is missing
// and merge-patches what exists (so an immutable field fails as it does for kubectl).
func (s *Session) apply(ctx context.Context, l *lab.Lab, file string) error {
	data, err := s.Labs.Manifest(l.ID, file)
	if err != nil {
		return err
	}
	return s.applyData(ctx, file, data)
}

// applyData applies the manifest data (named file in errors) as apply does.
func (s *Session) applyData(ctx context.Context, file string, data []byte) error {
	for _, doc := range strings.Split(string(data), "\n---") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		if obj == nil {
			continue
		}
		u := &unstructured.Unstructured{Object: obj}
		gvr, ok := resources[u.GetKind()]
		if !ok {
			return fmt.Errorf("%s: kind %q is not one a lab may apply", file, u.GetKind())
		}
		cfg, err := json.Marshal(u.Object)
		if err != nil {
			return err
		}
		ann := u.GetAnnotations()
		if ann == nil {
			ann = map[string]string{}
		}
		ann[lastApplied] = string(cfg) + "\n"
		u.SetAnnotations(ann)
		u.SetNamespace(s.target.Namespace)
		ri := s.dyn.Resource(gvr).Namespace(s.target.Namespace)
		_, err = ri.Create(ctx, u, metav1.CreateOptions{FieldManager: "kubectl-client-side-apply"})
		if apierrors.IsAlreadyExists(err) {
			err = s.applyPatch(ctx, ri, u)
		}
		if err != nil {
			return fmt.Errorf("apply %s (%s %s): %w", file, u.GetKind(), u.GetName(), err)
		}
	}
	return nil
}

// typed are the Go types of the kinds a lab applies: a strategic merge patch
// reads from them how each list merges (containers by name, ports by port).
var typed = map[string]any{"Pod": &corev1.Pod{}, "Service": &corev1.Service{}, "ReplicaSet": &appsv1.ReplicaSet{}, "Deployment": &appsv1.Deployment{}}

// applyPatch updates an existing object to the manifest u the way `kubectl
// apply` does: a three-way strategic merge of the configuration applied last
// (its annotation), the new one and the live object. Only what the manifest
// changed is sent, so applying a pod's file again is a no-op rather than a
// replaced container list the API server refuses; a field the new manifest
// dropped is removed.
func (s *Session) applyPatch(ctx context.Context, ri dynamic.ResourceInterface, u *unstructured.Unstructured) error {
	live, err := ri.Get(ctx, u.GetName(), metav1.GetOptions{})
	if err != nil {
		return err
	}
	current, err := json.Marshal(live.Object)
	if err != nil {
		return err
	}
	modified, err := json.Marshal(u.Object)
	if err != nil {
		return err
	}
	meta, err := strategicpatch.NewPatchMetaFromStruct(typed[u.GetKind()])
	if err != nil {
		return err
	}
	original := []byte(live.GetAnnotations()[lastApplied])
	patch, err := strategicpatch.CreateThreeWayMergePatch(original, modified, current, meta, true)
	if err != nil {
		return err
	}
	_, err = ri.Patch(ctx, u.GetName(), types.StrategicMergePatchType, patch, metav1.PatchOptions{FieldManager: "kubectl-client-side-apply"})
	return err
}

// delete removes the objects ref names and waits until they are gone. grace, if
// set, overrides the pods' termination grace period (reset uses 0).
func (s *Session) delete(ctx context.Context, ref lab.ObjectRef, grace *int64) error {
	gvr, ok := resources[ref.Kind]
	if !ok {
		return fmt.Errorf("kind %q is not one a lab may delete", ref.Kind)
	}
	ri := s.dyn.Resource(gvr).Namespace(s.target.Namespace)
	// Foreground: a controller disappears only after its pods, so nothing it owned
	// is left to replace or to count.
	policy := metav1.DeletePropagationForeground
	opts := metav1.DeleteOptions{GracePeriodSeconds: grace, PropagationPolicy: &policy}
	var names []string
	if ref.Name != "" {
		names = []string{ref.Name}
	} else {
		list, err := ri.List(ctx, metav1.ListOptions{LabelSelector: ref.Selector})
		if err != nil {
			return err
		}
		_, madeBy, _ := strings.Cut(ref.CreatedBy, "/")
		for _, it := range list.Items {
			// kindlab's own helper pod may share the namespace: a lab never removes it.
			if it.GetLabels()[kube.ManagedByLabel] == kube.ManagedBy || madeBy != "" && it.GetGenerateName() != madeBy+"-" {
				continue
			}
			names = append(names, it.GetName())
		}
	}
	for _, n := range names {
		if err := ri.Delete(ctx, n, opts); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete %s %s: %w", ref.Kind, n, err)
		}
	}
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		for _, n := range names {
			if _, err := ri.Get(ctx, n, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				return false, nil
			}
		}
		return true, nil
	})
}

// setImage does what `kubectl set image` does; a Deployment the controller
// wrote meanwhile (a conflict) is read again and changed again, as kubectl does.
func (s *Session) setImage(ctx context.Context, a *lab.SetImage) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error { return s.setImageOnce(ctx, a) })
}

func (s *Session) setImageOnce(ctx context.Context, a *lab.SetImage) error {
	d, err := s.cs.AppsV1().Deployments(s.target.Namespace).Get(ctx, a.Deployment, metav1.GetOptions{})
	if err != nil {
		return err
	}
	found := false
	for i := range d.Spec.Template.Spec.Containers {
		if d.Spec.Template.Spec.Containers[i].Name == a.Container {
			d.Spec.Template.Spec.Containers[i].Image = a.Image
			found = true
		}
	}
	if !found {
		return fmt.Errorf("deployment %s has no container %q", a.Deployment, a.Container)
	}
	if a.Record {
		if d.Annotations == nil {
			d.Annotations = map[string]string{}
		}
		d.Annotations["kubernetes.io/change-cause"] = fmt.Sprintf("kubectl set image deployment %s %s=%s --record=true", a.Deployment, a.Container, a.Image)
	}
	_, err = s.cs.AppsV1().Deployments(s.target.Namespace).Update(ctx, d, metav1.UpdateOptions{})
	return err
}

// rolloutUndo does what `kubectl rollout undo --to-revision=N` does: it copies the
// pod template of the ReplicaSet of revision N back into the Deployment.
func (s *Session) rolloutUndo(ctx context.Context, a *lab.RolloutUndo) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error { return s.rolloutUndoOnce(ctx, a) })
}

func (s *Session) rolloutUndoOnce(ctx context.Context, a *lab.RolloutUndo) error {
	d, err := s.cs.AppsV1().Deployments(s.target.Namespace).Get(ctx, a.Deployment, metav1.GetOptions{})
	if err != nil {
		return err
	}
	rss, err := s.cs.AppsV1().ReplicaSets(s.target.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	var owned []appsv1.ReplicaSet
	for _, rs := range rss.Items {
		if o := metav1.GetControllerOf(&rs); o != nil && o.UID == d.UID {
			owned = append(owned, rs)
		}
	}
	want := fmt.Sprint(a.ToRevision)
	if a.ToRevision == 0 {
		// The previous revision: the highest below the current one.
		sort.Slice(owned, func(i, j int) bool { return rev(owned[i]) > rev(owned[j]) })
		if len(owned) < 2 {
			return fmt.Errorf("deployment %s has no previous revision", a.Deployment)
		}
		want = owned[1].Annotations["deployment.kubernetes.io/revision"]
	}
	for _, rs := range owned {
		if rs.Annotations["deployment.kubernetes.io/revision"] == want {
			tmpl := rs.Spec.Template.DeepCopy()
			delete(tmpl.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
			d.Spec.Template = *tmpl
			if cause, ok := rs.Annotations["kubernetes.io/change-cause"]; ok {
				d.Annotations["kubernetes.io/change-cause"] = cause
			} else {
				delete(d.Annotations, "kubernetes.io/change-cause")
			}
			_, err = s.cs.AppsV1().Deployments(s.target.Namespace).Update(ctx, d, metav1.UpdateOptions{})
			return err
		}
	}
	return fmt.Errorf("deployment %s has no revision %s", a.Deployment, want)
}

func rev(rs appsv1.ReplicaSet) int {
	var n int
	fmt.Sscan(rs.Annotations["deployment.kubernetes.io/revision"], &n)
	return n
}

func (s *Session) scale(ctx context.Context, a *lab.Scale) error {
	patch := []byte(fmt.Sprintf(`{"spec":{"replicas":%d}}`, a.Replicas))
	gvr := resources[a.Kind]
	_, err := s.dyn.Resource(gvr).Namespace(s.target.Namespace).Patch(ctx, a.Name, types.MergePatchType, patch, metav1.PatchOptions{})
	return err
}

// removeLabel removes a label from the first matching Ready object, by name order,
// as a learner does with kubectl edit.
func (s *Session) removeLabel(ctx context.Context, a *lab.RemoveLabel) error {
	gvr := resources[a.Kind]
	ri := s.dyn.Resource(gvr).Namespace(s.target.Namespace)
	name := a.Name
	if name == "" {
		list, err := ri.List(ctx, metav1.ListOptions{LabelSelector: a.Selector})
		if err != nil {
			return err
		}
		var names []string
		for _, it := range list.Items {
			if it.GetDeletionTimestamp() == nil {
				names = append(names, it.GetName())
			}
		}
		if len(names) == 0 {
			return fmt.Errorf("no %s matches %s", a.Kind, a.Selector)
		}
		sort.Strings(names)
		name = names[0]
	}
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"labels": map[string]any{a.Key: nil}}})
	_, err := ri.Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	return err
}
