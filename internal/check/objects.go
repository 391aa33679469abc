package check

import (
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kindlab/kindlab/internal/lab"
)

const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

func (e *Evaluator) exists(c *lab.ObjectCheck) (Status, string, []string) {
	o, err := e.Store.object(c.Kind, c.Name)
	if err != nil {
		return Error, err.Error(), nil
	}
	if o == nil {
		return Fail, e.msg().f("%s %s does not exist yet", "%s %s 이(가) 아직 없습니다", c.Kind, c.Name), nil
	}
	meta := o.(metav1.Object)
	if meta.GetDeletionTimestamp() != nil {
		return Fail, e.msg().f("%s %s is being deleted", "%s %s 이(가) 삭제되는 중입니다", c.Kind, c.Name), nil
	}
	if c.Applied && meta.GetAnnotations()[lastApplied] == "" {
		return Fail, e.msg().f("%s %s exists but was not created with kubectl apply (no last-applied-configuration annotation)",
			"%s %s 이(가) 있지만 kubectl apply 로 만들어지지 않았습니다 (last-applied-configuration 어노테이션 없음)", c.Kind, c.Name), nil
	}
	return Pass, e.msg().f("%s %s exists", "%s %s 이(가) 있습니다", c.Kind, c.Name), nil
}

func (e *Evaluator) absent(c *lab.ObjectCheck) (Status, string, []string) {
	o, err := e.Store.object(c.Kind, c.Name)
	if err != nil {
		return Error, err.Error(), nil
	}
	if o != nil {
		if o.(metav1.Object).GetDeletionTimestamp() != nil {
			return Fail, e.msg().f("%s %s is still terminating", "%s %s 이(가) 아직 종료 중입니다", c.Kind, c.Name), nil
		}
		return Fail, e.msg().f("%s %s still exists; want it deleted", "%s %s 이(가) 아직 있습니다; 삭제되어야 합니다", c.Kind, c.Name), nil
	}
	return Pass, e.msg().f("%s %s is gone", "%s %s 이(가) 삭제되었습니다", c.Kind, c.Name), nil
}

func (e *Evaluator) match(c *lab.MatchCheck) (Status, string, []string) {
	o, err := e.Store.object(c.Kind, c.Name)
	if err != nil {
		return Error, err.Error(), nil
	}
	if o == nil {
		return Fail, e.msg().f("%s %s does not exist yet", "%s %s 이(가) 아직 없습니다", c.Kind, c.Name), nil
	}
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		return Error, err.Error(), nil
	}
	if diff := subset(c.Fields, u, ""); diff != "" {
		return Fail, e.msg().f("%s %s: %s", "%s %s: %s", c.Kind, c.Name, diff), nil
	}
	return Pass, e.msg().f("%s %s has the expected fields", "%s %s 의 필드가 기대한 값과 같습니다", c.Kind, c.Name), nil
}

// subset reports the first place where want is not contained in got ("" if it is).
func subset(want any, got any, path string) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: want an object, found %v", orRoot(path), got)
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if d := subset(w[k], g[k], path+"."+k); d != "" {
				return d
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) < len(w) {
			return fmt.Sprintf("%s: want a list of at least %d, found %v", orRoot(path), len(w), got)
		}
		for i := range w {
			if d := subset(w[i], g[i], fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
		return ""
	default:
		if fmt.Sprint(want) != fmt.Sprint(got) {
			return fmt.Sprintf("%s is %v, want %v", orRoot(path), valueOrNone(got), want)
		}
		return ""
	}
}

func orRoot(p string) string {
	if p == "" {
		return "."
	}
	return strings.TrimPrefix(p, ".")
}

func valueOrNone(v any) any {
	if v == nil {
		return "<none>"
	}
	return v
}
func limit(xs []string) []string {
	if len(xs) > 5 {
		return append(xs[:5:5], fmt.Sprintf("... and %d more", len(xs)-5))
	}
	return xs
}
