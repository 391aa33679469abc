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

# Only this node's containerd may talk to kindlab's local registry (port 5000 on the
# kind network): a pod that could reach it could push over the images every node
# pulls. Pods' traffic is forwarded; containerd's is the node's own, and other
# nodes' arrives on eth0.
net=$(ip -o -4 route show dev eth0 scope link 2>/dev/null | awk '{ print $1; exit }')
if [ -n "$net" ]; then
  iptables -C FORWARD ! -i eth0 -d "$net" -p tcp --dport 5000 -j REJECT 2>/dev/null ||
    iptables -I FORWARD ! -i eth0 -d "$net" -p tcp --dport 5000 -j REJECT
fi
