#!/usr/bin/env bash
# Installs the Debian packages Notarium needs, and only those that are missing.
#   appliance/install-deps.sh            what building and running need
#   appliance/install-deps.sh --test     also what the test suite's independent tools need
#   appliance/install-deps.sh --bench    also what notarium-bench drives (wrk, gcc for tsabase)
# Run as root or with sudo available. Swift itself is expected at /opt/swift or on PATH.
set -euo pipefail

packages=(librocksdb-dev libsodium-dev libssl-dev openssl pkg-config ca-certificates)
with_tests=false
if [[ "${1:-}" == "--bench" ]]; then
  # wrk: the HTTP load generator of the TSA benchmark; gcc: builds the tsabase baseline;
  # postfix: the local mail server (and its smtp-source) of the delivery benchmark.
  packages+=(wrk gcc postfix)
fi
if [[ "${1:-}" == "--test" ]]; then
  with_tests=true
  # curl: a real HTTP client for the live tests; python3 + PyNaCl: an independent reader of
  # the sealed-key format; systemd: systemd-analyze checks the unit; Go with golang.org/x/mod:
  # an independent verifier of ledger proofs and checkpoint notes (sumdb/tlog, sumdb/note).
  # postfix: a real mail server on loopback for the e-mail tests (its own private instance,
  # started by the tests; installed with "No configuration", so no system mail service runs).
  # chromium and chromium-driver: a real headless browser that opens the recipient portal;
  # fonts-wqy-microhei: a CJK font, so that its screenshots of a Chinese page can be read.
  packages+=(curl python3 systemd golang-go golang-golang-x-mod-dev postfix chromium chromium-driver fonts-wqy-microhei)
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

if (( ${#missing[@]} > 0 )); then
  echo "notarium: installing missing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  if [[ " ${missing[*]} " == *" postfix "* ]]; then
    echo 'postfix postfix/main_mailer_type select No configuration' | as_root debconf-set-selections
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# pip_need CHECK SPEC WHY: unless `python3 -c CHECK` succeeds, installs SPEC from PyPI (with
# --break-system-packages where Debian's Python refuses otherwise) and checks again.
pip_need() {
  local check=$1 spec=$2 why=$3
  python3 -c "$check" 2>/dev/null && return 0
  echo "notarium: installing $spec for $why"
  python3 -m pip install --quiet "$spec" 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages "$spec" 2>/dev/null || true
  python3 -c "$check" || { echo "notarium: $spec is not importable by $(command -v python3)" >&2; exit 1; }
}

if $with_tests; then
  # PyNaCl: an independent reader of the sealed-key format (Debian's python3-nacl if pip fails).
  if ! python3 -c 'import nacl.bindings' 2>/dev/null; then
    python3 -m pip install --quiet pynacl 2>/dev/null || python3 -m pip install --quiet --break-system-packages pynacl 2>/dev/null \
      || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-nacl >/dev/null || true
  fi
  pip_need 'import nacl.bindings' pynacl "the sealed-key interoperability test"
  # rfc8785 (Trail of Bits): an independent JCS implementation the canonical-JSON tests compare with.
  pip_need 'import rfc8785' rfc8785 "the canonical-JSON interoperability test"
  # pyca/cryptography 43+: an independent X.509 parser with RFC 5280 path validation
  # (cryptography.x509.verification) for the CA tests; Debian 12's python3-cryptography is older.
  pip_need 'import cryptography.x509.verification' 'cryptography>=43' "the CA interoperability tests"
  # jsonschema: checks that the bundles Notarium writes match the JSON Schemas in docs/schemas.
  pip_need 'import jsonschema' jsonschema "the bundle schema tests"
  # requests: the HTTP client an ODR platform's integration would use, for the API's end-to-end
  # test over mutual TLS.
  pip_need 'import requests' requests "the API end-to-end test"
  # schemathesis 4: runs the OpenAPI contract (docs/openapi.yaml) against a live notariumd.
  pip_need 'import schemathesis, schemathesis.cli, sys; sys.exit(0 if schemathesis.__version__.startswith("4.") else 1)' 'schemathesis>=4,<5' "the API contract test"
  # aiosmtpd: a real SMTP server on loopback (STARTTLS, AUTH) that the e-mail tests deliver to;
  # the test reads what arrived from its Maildir as the recipient would.
  pip_need 'import aiosmtpd.controller' aiosmtpd "the e-mail delivery tests"
  # selenium: drives Debian's headless chromium through the recipient portal (the page a
  # recipient sees on a phone), and takes its screenshots.
  pip_need 'import selenium.webdriver' selenium "the recipient portal's browser test"
  # rfc3161-client (Trail of Bits): an independent RFC 3161 client and verifier with a strict
  # DER parser, for the TSA interoperability tests.
  pip_need 'import rfc3161_client' rfc3161-client "the TSA interoperability tests"
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "notarium: swift is not on PATH (expected /opt/swift/usr/bin); install Swift 6.2 or later" >&2
  exit 1
fi
