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

if $with_tests; then
  if ! python3 -c 'import nacl.bindings' 2>/dev/null; then
    echo "notarium: installing PyNaCl for the sealed-key interoperability test"
    python3 -m pip install --quiet pynacl 2>/dev/null \
      || python3 -m pip install --quiet --break-system-packages pynacl 2>/dev/null \
      || { as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-nacl >/dev/null; }
    python3 -c 'import nacl.bindings' || { echo "notarium: PyNaCl is not importable by $(command -v python3)" >&2; exit 1; }
  fi
  # rfc8785 (Trail of Bits): an independent JCS implementation the canonical-JSON tests compare with.
  if ! python3 -c 'import rfc8785' 2>/dev/null; then
    echo "notarium: installing rfc8785 for the canonical-JSON interoperability test"
    python3 -m pip install --quiet rfc8785 2>/dev/null \
      || python3 -m pip install --quiet --break-system-packages rfc8785
    python3 -c 'import rfc8785' || { echo "notarium: rfc8785 is not importable by $(command -v python3)" >&2; exit 1; }
  fi
  # pyca/cryptography 43+: an independent X.509 parser with RFC 5280 path validation
  # (cryptography.x509.verification) for the CA tests; Debian 12's python3-cryptography is older.
  if ! python3 -c 'import cryptography.x509.verification' 2>/dev/null; then
    echo "notarium: installing pyca/cryptography for the CA interoperability tests"
    python3 -m pip install --quiet 'cryptography>=43' 2>/dev/null \
      || python3 -m pip install --quiet --break-system-packages 'cryptography>=43'
    python3 -c 'import cryptography.x509.verification' || { echo "notarium: cryptography 43+ is not importable by $(command -v python3)" >&2; exit 1; }
  fi
  # jsonschema: checks that the bundles Notarium writes match the JSON Schemas in docs/schemas.
  if ! python3 -c 'import jsonschema' 2>/dev/null; then
    echo "notarium: installing jsonschema for the bundle schema tests"
    python3 -m pip install --quiet jsonschema 2>/dev/null \
      || python3 -m pip install --quiet --break-system-packages jsonschema
    python3 -c 'import jsonschema' || { echo "notarium: jsonschema is not importable by $(command -v python3)" >&2; exit 1; }
  fi
  # requests: the HTTP client an ODR platform's integration would use, for the API's end-to-end
  # test over mutual TLS.
  if ! python3 -c 'import requests' 2>/dev/null; then
    echo "notarium: installing requests for the API end-to-end test"
    python3 -m pip install --quiet requests 2>/dev/null \
      || python3 -m pip install --quiet --break-system-packages requests
    python3 -c 'import requests' || { echo "notarium: requests is not importable by $(command -v python3)" >&2; exit 1; }
  fi
  # schemathesis 4: runs the OpenAPI contract (docs/openapi.yaml) against a live notariumd.
  if ! python3 -c 'import schemathesis, sys; sys.exit(0 if schemathesis.__version__.startswith("4.") else 1)' 2>/dev/null; then
    echo "notarium: installing schemathesis for the API contract test"
    python3 -m pip install --quiet 'schemathesis>=4,<5' 2>/dev/null \
      || python3 -m pip install --quiet --break-system-packages 'schemathesis>=4,<5'
    python3 -c 'import schemathesis.cli' || { echo "notarium: schemathesis is not importable by $(command -v python3)" >&2; exit 1; }
  fi
  # aiosmtpd: a real SMTP server on loopback (STARTTLS, AUTH) that the e-mail tests deliver to;
  # the test reads what arrived from its Maildir as the recipient would.
  if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
    echo "notarium: installing aiosmtpd for the e-mail delivery tests"
    python3 -m pip install --quiet aiosmtpd 2>/dev/null \
      || python3 -m pip install --quiet --break-system-packages aiosmtpd
    python3 -c 'import aiosmtpd.controller' || { echo "notarium: aiosmtpd is not importable by $(command -v python3)" >&2; exit 1; }
  fi
  # selenium: drives Debian's headless chromium through the recipient portal (the page a
  # recipient sees on a phone), and takes its screenshots.
  if ! python3 -c 'import selenium.webdriver' 2>/dev/null; then
    echo "notarium: installing selenium for the recipient portal's browser test"
    python3 -m pip install --quiet selenium 2>/dev/null \
      || python3 -m pip install --quiet --break-system-packages selenium
    python3 -c 'import selenium.webdriver' || { echo "notarium: selenium is not importable by $(command -v python3)" >&2; exit 1; }
  fi
  # rfc3161-client (Trail of Bits): an independent RFC 3161 client and verifier with a strict
  # DER parser, for the TSA interoperability tests.
  if ! python3 -c 'import rfc3161_client' 2>/dev/null; then
    echo "notarium: installing rfc3161-client for the TSA interoperability tests"
    python3 -m pip install --quiet rfc3161-client 2>/dev/null \
      || python3 -m pip install --quiet --break-system-packages rfc3161-client
    python3 -c 'import rfc3161_client' || { echo "notarium: rfc3161-client is not importable by $(command -v python3)" >&2; exit 1; }
  fi
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "notarium: swift is not on PATH (expected /opt/swift/usr/bin); install Swift 6.2 or later" >&2
  exit 1
fi
