package kube

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/streaming/pkg/httpstream"
)

// ExecResult is what a command run in a container printed.
type ExecResult struct {
	Stdout, Stderr string
}

// Exec runs cmd in a container of a pod, like `kubectl exec`, and returns its output.
// A non-zero exit is an error that includes stderr.
func Exec(ctx context.Context, cfg *rest.Config, cs kubernetes.Interface, namespace, pod, container string, cmd ...string) (ExecResult, error) {
	req := cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(namespace).Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Container: container, Command: cmd, Stdout: true, Stderr: true}, scheme.ParameterCodec)
	ws, err := remotecommand.NewWebSocketExecutor(cfg, "GET", req.URL().String())
	if err != nil {
		return ExecResult{}, err
	}
	spdy, err := remotecommand.NewSPDYExecutor(cfg, "POST", req.URL())
	if err != nil {
		return ExecResult{}, err
	}
	ex, err := remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	if err != nil {
		return ExecResult{}, err
	}
	var out, errOut bytes.Buffer
	err = ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: &out, Stderr: &errOut})
	res := ExecResult{Stdout: out.String(), Stderr: errOut.String()}
	if err != nil {
		return res, fmt.Errorf("exec %s in %s/%s: %w %s", strings.Join(cmd, " "), pod, container, err, strings.TrimSpace(res.Stderr))
	}
	return res, nil
}
