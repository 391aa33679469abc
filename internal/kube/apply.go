package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// FieldManager names kindlab in the managed fields of what it applies.
const FieldManager = "kindlab"

// Objects decodes a multi-document YAML (or JSON) manifest; empty documents are
// skipped.
func Objects(manifest []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(manifest), 4096)
	var objs []*unstructured.Unstructured
	for i := 1; ; i++ {
		var obj map[string]any
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if len(obj) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: obj}
		if u.GetKind() == "" || u.GetAPIVersion() == "" {
			return nil, fmt.Errorf("document %d: no kind or apiVersion", i)
		}
		objs = append(objs, u)
	}
}

// Applier server-side applies manifests, as `kubectl apply --server-side
// --force-conflicts` does, without kubectl: cluster set-up runs while the API
// server is still busy starting, where starting kubectl and its discovery cost
// seconds each time.
type Applier struct {
	dyn    dynamic.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
}

// NewApplier returns an Applier for the cluster cfg points at.
func NewApplier(cfg *rest.Config) (*Applier, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Applier{dyn: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))}, nil
}

// Apply applies every object of manifest in order. An object that cannot be
// applied yet (its namespace or custom resource definition is a moment old, the
// API server is busy, a webhook does not answer yet) is retried until timeout; an
// object the API server rejects as invalid or forbidden fails at once.
func (a *Applier) Apply(ctx context.Context, manifest []byte, timeout time.Duration) error {
	objs, err := Objects(manifest)
	if err != nil {
		return err
	}
	return a.ApplyObjects(ctx, objs, timeout)
}

// ApplyObjects applies objects in order, as Apply does.
func (a *Applier) ApplyObjects(ctx context.Context, objs []*unstructured.Unstructured, timeout time.Duration) error {
	for _, u := range objs {
		if err := a.applyOne(ctx, u, timeout); err != nil {
			return fmt.Errorf("apply %s %s: %w", u.GetKind(), qualified(u), err)
		}
	}
	return nil
}

func qualified(u *unstructured.Unstructured) string {
	if u.GetNamespace() != "" {
		return u.GetNamespace() + "/" + u.GetName()
	}
	return u.GetName()
}

func (a *Applier) applyOne(ctx context.Context, u *unstructured.Unstructured, timeout time.Duration) error {
	data, err := json.Marshal(u.Object)
	if err != nil {
		return err
	}
	force := true
	var last error
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		gvk := u.GroupVersionKind()
		mapping, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if meta.IsNoMatchError(err) {
			// A definition applied a moment ago: discover again.
			a.mapper.Reset()
			last = err
			return false, nil
		}
		if err != nil {
			last = err
			return false, nil
		}
		var ri dynamic.ResourceInterface = a.dyn.Resource(mapping.Resource)
		if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
			ns := u.GetNamespace()
			if ns == "" {
				ns = metav1.NamespaceDefault
			}
			ri = a.dyn.Resource(mapping.Resource).Namespace(ns)
		}
		_, err = ri.Patch(ctx, u.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: FieldManager, Force: &force})
		if err == nil {
			return true, nil
		}
		last = err
		if apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) || apierrors.IsForbidden(err) {
			return false, err
		}
		return false, nil
	})
	if err != nil && last != nil && !errors.Is(err, last) && ctx.Err() == nil {
		return fmt.Errorf("%w (last error: %v)", err, last)
	}
	return err
}
