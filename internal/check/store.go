package check

import (
	"context"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// Store is what object checks read: a cache of one namespace kept current by
// watches. Getters return nil (and no error) for an object that does not exist.
type Store struct {
	factory informers.SharedInformerFactory
	ns      string
	pods    cache.SharedIndexInformer
	rs      cache.SharedIndexInformer
	deploy  cache.SharedIndexInformer
	svc     cache.SharedIndexInformer
	slices  cache.SharedIndexInformer
	events  cache.SharedIndexInformer
	stop    context.CancelFunc
}

// NewStore watches namespace ns. Call Start before reading.
func NewStore(cs kubernetes.Interface, ns string) *Store {
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(ns))
	return &Store{
		factory: f, ns: ns,
		pods:   f.Core().V1().Pods().Informer(),
		rs:     f.Apps().V1().ReplicaSets().Informer(),
		deploy: f.Apps().V1().Deployments().Informer(),
		svc:    f.Core().V1().Services().Informer(),
		slices: f.Discovery().V1().EndpointSlices().Informer(),
		events: f.Core().V1().Events().Informer(),
	}
}

// Start begins watching and waits until the cache is filled.
func (s *Store) Start(ctx context.Context) error {
	run, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stop = stop
	s.factory.Start(run.Done())
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for typ, ok := range s.factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("cannot watch %v in namespace %s: is the cluster up? (kindlab cluster status)", typ, s.ns)
		}
	}
	return nil
}

// Shutdown stops the watches and waits until they have stopped.
func (s *Store) Shutdown() {
	if s.stop != nil {
		s.stop()
	}
	s.factory.Shutdown()
}

// OnChange calls fn after any change of a watched object until the returned
// function is called.
func (s *Store) OnChange(fn func()) (remove func()) {
	h := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { fn() },
		UpdateFunc: func(any, any) { fn() },
		DeleteFunc: func(any) { fn() },
	}
	type reg struct {
		inf cache.SharedIndexInformer
		r   cache.ResourceEventHandlerRegistration
	}
	var regs []reg
	for _, inf := range []cache.SharedIndexInformer{s.pods, s.rs, s.deploy, s.svc, s.slices} {
		if r, err := inf.AddEventHandler(h); err == nil {
			regs = append(regs, reg{inf, r})
		}
	}
	return func() {
		for _, r := range regs {
			_ = r.inf.RemoveEventHandler(r.r)
		}
	}
}

// Namespace is the watched namespace.
func (s *Store) Namespace() string { return s.ns }

func get[T any](inf cache.SharedIndexInformer, ns, name string) (*T, error) {
	obj, ok, err := inf.GetIndexer().GetByKey(ns + "/" + name)
	if err != nil || !ok {
		return nil, err
	}
	return obj.(*T), nil
}

func list[T any](inf cache.SharedIndexInformer) []*T {
	var out []*T
	for _, o := range inf.GetIndexer().List() {
		out = append(out, o.(*T))
	}
	return out
}

func (s *Store) Pod(name string) (*corev1.Pod, error) { return get[corev1.Pod](s.pods, s.ns, name) }
func (s *Store) ReplicaSet(name string) (*appsv1.ReplicaSet, error) {
	return get[appsv1.ReplicaSet](s.rs, s.ns, name)
}
func (s *Store) Deployment(name string) (*appsv1.Deployment, error) {
	return get[appsv1.Deployment](s.deploy, s.ns, name)
}
func (s *Store) Service(name string) (*corev1.Service, error) {
	return get[corev1.Service](s.svc, s.ns, name)
}

// Pods returns the pods matching sel that are not being deleted.
func (s *Store) Pods(sel labels.Selector) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range list[corev1.Pod](s.pods) {
		if p.DeletionTimestamp == nil && sel.Matches(labels.Set(p.Labels)) {
			out = append(out, p)
		}
	}
	return out
}

// ReplicaSets returns every ReplicaSet.
func (s *Store) ReplicaSets() []*appsv1.ReplicaSet { return list[appsv1.ReplicaSet](s.rs) }

// Services returns every Service.
func (s *Store) Services() []*corev1.Service { return list[corev1.Service](s.svc) }

// LastChange is when a person last changed an object of the namespace: the
// newest time in the managed fields of a kubectl command (or of kindlab's
// solutions) on its pods, ReplicaSets, Deployments and Services; zero when
// there is none. Controllers' and the kubelet's writes do not count; a delete
// leaves nothing to see.
func (s *Store) LastChange() time.Time {
	var last time.Time
	for _, inf := range []cache.SharedIndexInformer{s.pods, s.rs, s.deploy, s.svc} {
		for _, o := range inf.GetIndexer().List() {
			m, ok := o.(metav1.Object)
			if !ok {
				continue
			}
			for _, f := range m.GetManagedFields() {
				if byPerson(f.Manager) && f.Time != nil && f.Time.After(last) {
					last = f.Time.Time
				}
			}
		}
	}
	return last
}

// byPerson tells the field managers of a person's commands: kubectl's
// ("kubectl-client-side-apply", "kubectl-create", "kubectl-edit", ...) and
// kindlab's, which applies solutions.
func byPerson(manager string) bool {
	return strings.HasPrefix(manager, "kubectl") || manager == "kindlab"
}

// names lists the names of every object of a lab kind (Pod, ReplicaSet,
// Deployment, Service), in no order.
func (s *Store) names(kind string) []string {
	var inf cache.SharedIndexInformer
	switch kind {
	case "Pod":
		inf = s.pods
	case "ReplicaSet":
		inf = s.rs
	case "Deployment":
		inf = s.deploy
	case "Service":
		inf = s.svc
	default:
		return nil
	}
	var out []string
	for _, o := range inf.GetIndexer().List() {
		if m, ok := o.(metav1.Object); ok {
			out = append(out, m.GetName())
		}
	}
	return out
}

// EndpointSlices returns the slices of a Service.
func (s *Store) EndpointSlices(service string) []*discoveryv1.EndpointSlice {
	var out []*discoveryv1.EndpointSlice
	for _, es := range list[discoveryv1.EndpointSlice](s.slices) {
		if es.Labels[discoveryv1.LabelServiceName] == service {
			out = append(out, es)
		}
	}
	return out
}

// Events returns recent events about an object, newest last.
func (s *Store) Events(kind, name string) []*corev1.Event {
	var out []*corev1.Event
	for _, e := range list[corev1.Event](s.events) {
		if e.InvolvedObject.Kind == kind && e.InvolvedObject.Name == name {
			out = append(out, e)
		}
	}
	return out
}

// object returns one object of a lab kind, or nil.
func (s *Store) object(kind, name string) (any, error) {
	var (
		o   any
		err error
	)
	switch kind {
	case "Pod":
		var p *corev1.Pod
		p, err = s.Pod(name)
		if p != nil {
			o = p
		}
	case "ReplicaSet":
		var r *appsv1.ReplicaSet
		r, err = s.ReplicaSet(name)
		if r != nil {
			o = r
		}
	case "Deployment":
		var d *appsv1.Deployment
		d, err = s.Deployment(name)
		if d != nil {
			o = d
		}
	case "Service":
		var v *corev1.Service
		v, err = s.Service(name)
		if v != nil {
			o = v
		}
	default:
		return nil, fmt.Errorf("unknown kind %q", kind)
	}
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return o, err
}
