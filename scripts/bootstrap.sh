#!/usr/bin/env bash
# Installs every missing build and test dependency of dpdk-lb on Debian 12 (run as root).
# Idempotent: asks dpkg first, and only runs apt-get (update + install) when something is missing.
set -euo pipefail

REQUIRED=(
  # build
  gcc libc6-dev pkg-config meson ninja-build
  libdpdk-dev dpdk dpdk-dev libnuma-dev libjansson-dev libssl-dev libpcap-dev
  librte-net-af-xdp23 librte-net-af-packet23 librte-net-pcap23
  librte-net-tap23   # the exception path's kernel interfaces (net_tap)
  # unit tests
  libcmocka-dev
  # dataplane and end-to-end tests, demo
  python3 python3-pytest python3-scapy nginx-light curl ethtool iproute2 procps psmisc
  # end-to-end tests of the forwarding methods: DNS over UDP real servers and queries
  dnsmasq-base bind9-dnsutils
  # end-to-end test of the exception path: a SYN flood at the appliance's own address
  hping3
  # end-to-end tests of the health checks (issue 10): real protocol servers and their clients
  postfix vsftpd dovecot-imapd dovecot-pop3d slapd ldap-utils mariadb-server mariadb-client
  kamailio sipsak jamnntpd openssl
  # the Debian package and its boot test (issue 14): build, lint, a Debian root booted by systemd
  debhelper fakeroot lintian debootstrap systemd-container man-db
  # metrics (issue 12): promtool and a real Prometheus server scraping the daemon, Chromium for
  # the status page's screenshot
  prometheus chromium python3-pil
  # capture (issue 12): pcapng files read back by tshark, streamed into tcpdump
  tshark tcpdump
  # end-to-end failover test (issue 11): nft cuts only the heartbeat between the pair
  nftables
)
OPTIONAL=(wrk)

installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = "installed" ]
}

missing=()
for p in "${REQUIRED[@]}"; do
  installed "$p" || missing+=("$p")
done
missing_opt=()
for p in "${OPTIONAL[@]}"; do
  installed "$p" || missing_opt+=("$p")
done

if [ ${#missing[@]} -eq 0 ] && [ ${#missing_opt[@]} -eq 0 ]; then
  echo "bootstrap: all dependencies present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "bootstrap: missing packages (${missing[*]} ${missing_opt[*]}) and not root" >&2
  [ ${#missing[@]} -eq 0 ] && exit 0
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# slapd and postfix ask questions when installed: no initial directory, no mail configuration
# (the tests run both from their own config files)
if command -v debconf-set-selections >/dev/null; then
  printf '%s\n' "slapd slapd/no_configuration boolean true" \
    "postfix postfix/main_mailer_type select No configuration" \
    "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
fi
echo "bootstrap: installing: ${missing[*]} ${missing_opt[*]}"
apt-get update -q
if [ ${#missing[@]} -gt 0 ]; then
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
for p in "${missing_opt[@]}"; do
  apt-get install -y -q --no-install-recommends "$p" || echo "bootstrap: optional package $p not installed"
done
echo "bootstrap: done"
