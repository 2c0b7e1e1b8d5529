#!/usr/bin/env bash
# Installs notariumd as a systemd service on this machine (run as root after appliance/run.sh
# or `swift build -c release` has built it): a system user `notarium`, the binaries in
# /usr/local/bin, the configuration in /etc/notarium (kept if present), the unit, enabled.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $(id -u) -eq 0 ]] || { echo "run as root" >&2; exit 2; }
[[ -x .build/release/notariumd ]] || { echo "build first: swift build -c release" >&2; exit 2; }
appliance/install-deps.sh
id notarium >/dev/null 2>&1 || useradd --system --home-dir /var/lib/notarium --shell /usr/sbin/nologin notarium
install -m 0755 .build/release/notariumd .build/release/notarium /usr/local/bin/
install -d -m 0750 -o root -g notarium /etc/notarium
[[ -e /etc/notarium/notarium.yaml ]] || install -m 0640 -o root -g notarium appliance/notarium.yaml /etc/notarium/notarium.yaml
install -d -m 0755 /usr/local/share/doc/notarium
install -m 0644 README.md /usr/local/share/doc/notarium/README.md
install -m 0644 appliance/notariumd.service /etc/systemd/system/notariumd.service
systemctl daemon-reload
systemctl enable --now notariumd
systemctl --no-pager status notariumd
