#!/bin/sh
# The RUN steps of kind's base image, redone on a Debian rootfs, plus the fixes a
# machine without CAP_SYS_RESOURCE and with cgroup v1 needs. Runs in a chroot.
set -eu
chmod 755 /kind /kind/bin
find /lib/systemd/system/sysinit.target.wants/ -name systemd-tmpfiles-setup.service -delete
rm -f /lib/systemd/system/multi-user.target.wants/* /etc/systemd/system/*.wants/* \
  /lib/systemd/system/local-fs.target.wants/* /lib/systemd/system/sockets.target.wants/*udev* \
  /lib/systemd/system/sockets.target.wants/*initctl* /lib/systemd/system/basic.target.wants/*
grep -q '^ReadKMsg=no' /etc/systemd/journald.conf || echo "ReadKMsg=no" >> /etc/systemd/journald.conf
[ -e /sbin/init ] || ln -s /usr/lib/systemd/systemd /sbin/init
systemctl enable kubelet.service containerd.service undo-mount-hacks.service kindlab-egress-guard.service
systemctl mask systemd-binfmt.service
mkdir -p /etc/kubernetes/manifests /opt/cni/bin
# kind's containerd unit runs /usr/local/bin/containerd; Debian's lives in /usr/bin.
ln -sf /usr/bin/containerd /usr/local/bin/containerd
ctr oci spec \
  | jq '.hooks.createContainer[.hooks.createContainer|length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' \
  | jq 'del(.process.rlimits)' > /etc/containerd/cri-base.json
# Lowering oom_score_adj needs CAP_SYS_RESOURCE; without it nested runc dies with
# "can't get final child's PID from pipe: EOF". Harmless where the capability exists.
sed -i 's/restrict_oom_score_adj = false/restrict_oom_score_adj = true/' /etc/containerd/config.toml
# kubelet >= 1.35 refuses cgroup v1 unless told otherwise; harmless on cgroup v2.
grep -q fail-cgroupv1 /etc/default/kubelet || sed -i 's|^KUBELET_EXTRA_ARGS=\(.*\)$|KUBELET_EXTRA_ARGS=\1 --fail-cgroupv1=false|' /etc/default/kubelet
# kind's entrypoint asks DNS for host.docker.internal and waits up to 5 s for an
# answer. Where containers' DNS cannot leave the machine (an offline classroom, a CI
# runner behind an egress guard) nothing ever answers, and every node's boot waits
# those 5 s before systemd, and so the kubelet, starts. Docker Desktop answers that
# name at once and elsewhere it is unknown (the entrypoint then uses the default
# gateway, as it does after a timeout): 1 s is plenty. Left alone if kind changed it.
sed -i "s/timeout 5 getent ahostsv4 'host.docker.internal'/timeout 1 getent ahostsv4 'host.docker.internal'/" /usr/local/bin/entrypoint
