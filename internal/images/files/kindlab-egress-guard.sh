#!/bin/sh
# Keep Service traffic that kube-proxy has not translated inside this node: reject
# anything still addressed to the Service CIDR in FORWARD and OUTPUT, so a pod that
# calls a Service before kube-proxy is ready never sends packets out of the machine.
cidr=$(sed -n 's/^ *serviceSubnet: *//p' /kind/kubeadm.conf 2>/dev/null | head -n 1 | tr -d '"')
[ -n "$cidr" ] || cidr=10.96.0.0/12
for c in $(echo "$cidr" | tr ',' ' '); do
  case "$c" in *:*) ipt=ip6tables ;; *) ipt=iptables ;; esac
  for chain in FORWARD OUTPUT; do
    $ipt -C "$chain" -d "$c" -j REJECT 2>/dev/null || $ipt -I "$chain" -d "$c" -j REJECT
  done
done
