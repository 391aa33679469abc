package cluster

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// MetalLB's controller makes its webhook's certificates itself on first start, but
// two of its refreshes race there ("the object has been modified", then "missing
// ca.crt"): the webhook and the metrics port then never start, and the liveness
// probe restarts the controller some 40 s later. kindlab hands it a complete
// certificate secret before it starts, so it finds "no cert refresh needed".
const (
	metallbWebhookSecret  = "metallb-webhook-cert"
	metallbWebhookService = "metallb-webhook-service"
	// metallbCAName is the name MetalLB's certificate rotator checks its CA
	// against: a CA without it is replaced on first start, which brings the race back.
	metallbCAName = "cert"
)

// metallbWebhookCert returns the data of the webhook's certificate secret: a CA
// and a server certificate for the webhook Service's names, valid for ten years.
func metallbWebhookCert(now time.Time) (map[string][]byte, error) {
	caKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	ca := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: metallbCAName, Organization: []string{"metallb"}},
		DNSNames:              []string{metallbCAName},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	svc := metallbWebhookService + "." + metallbNamespace
	srv := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: svc + ".svc"},
		DNSNames:     []string{svc, svc + ".svc", svc + ".svc.cluster.local"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srv, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	pemOf := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	return map[string][]byte{
		"ca.crt":  pemOf("CERTIFICATE", caDER),
		"ca.key":  pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(caKey)),
		"tls.crt": pemOf("CERTIFICATE", srvDER),
		"tls.key": pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key)),
	}, nil
}

// createMetalLBWebhookCert puts the certificate secret in place (and its
// namespace, which MetalLB's manifest then labels) before the controller starts.
func createMetalLBWebhookCert(ctx context.Context, cs kubernetes.Interface, data map[string][]byte) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: metallbNamespace}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: metallbWebhookSecret, Namespace: metallbNamespace}, Data: data}
	_, err := cs.CoreV1().Secrets(metallbNamespace).Create(ctx, sec, metav1.CreateOptions{FieldManager: "kindlab"})
	return err
}
