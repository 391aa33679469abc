package cluster

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// ServiceURL is a URL that reaches a Service from the host, checked with a request.
type ServiceURL struct {
	Service string `json:"service"`
	Type    string `json:"type"`
	URL     string `json:"url"`
	// Answers is true when a request to URL got an HTTP reply.
	Answers bool   `json:"answers"`
	Problem string `json:"problem,omitempty"`
}

// ServiceURLs lists NodePort and LoadBalancer Services of every namespace with the
// URLs that reach them from this machine, each tried with a real request.
func (m *Manager) ServiceURLs(ctx context.Context, name string, cs kubernetes.Interface) ([]ServiceURL, error) {
	svcs, err := cs.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	node, _ := m.NodeAddress(ctx, name)
	hostPort := m.HostPort(ctx, name)
	var out []ServiceURL
	for _, s := range svcs.Items {
		if s.Spec.Type != corev1.ServiceTypeNodePort && s.Spec.Type != corev1.ServiceTypeLoadBalancer {
			continue
		}
		id := s.Namespace + "/" + s.Name
		for _, p := range s.Spec.Ports {
			if p.Protocol != "" && p.Protocol != corev1.ProtocolTCP {
				continue
			}
			if p.NodePort != 0 && node != "" {
				out = append(out, ServiceURL{Service: id, Type: string(s.Spec.Type), URL: fmt.Sprintf("http://%s:%d/", node, p.NodePort)})
			}
			if p.NodePort == DefaultHostPort && hostPort != 0 {
				out = append(out, ServiceURL{Service: id, Type: string(s.Spec.Type), URL: fmt.Sprintf("http://127.0.0.1:%d/", hostPort)})
			}
			for _, in := range s.Status.LoadBalancer.Ingress {
				if in.IP != "" {
					out = append(out, ServiceURL{Service: id, Type: string(s.Spec.Type), URL: fmt.Sprintf("http://%s:%d/", in.IP, p.Port)})
				}
			}
		}
	}
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for i := range out {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, out[i].URL, nil)
		resp, err := client.Do(req)
		if err != nil {
			out[i].Problem = err.Error()
			continue
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		out[i].Answers = true
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Service < out[j].Service })
	return out, nil
}
