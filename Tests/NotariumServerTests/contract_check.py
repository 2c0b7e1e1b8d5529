#!/usr/bin/env python3
"""The server against its contract: schemathesis runs docs/openapi.yaml against a live notariumd.

Run by APITests. Arguments: API_URL DATA_DIR WORK_DIR OPENAPI_FILE. The operator (credentials
from first start) registers a clerk and an auditor; schemathesis then runs every operation of
the contract once with each role's client certificate, so that each operation is reached both
by a role that may call it and by one that may not. It must find no 5xx, no response that
breaks the schema (status, content type, headers, body) and no request that violates the
schema yet is accepted.

schemathesis.toml beside this script holds the departures from schemathesis's defaults, each
with its reason (no positive_data_acceptance; 408 and 413 count as rejections; OCSP and the TSA
answer malformed DER with their protocols' own errors). The seed is fixed, so that CI is
repeatable; run with another seed (SCHEMATHESIS_SEED) to explore.
"""
import os
import subprocess
import sys

import requests

api, data, work, contract = sys.argv[1:5]
operator_dir = os.path.join(data, "clients", "operator")
ca = os.path.join(operator_dir, "ca.pem")
operator = (os.path.join(operator_dir, "client.crt"), os.path.join(operator_dir, "client.key"))
here = os.path.dirname(os.path.abspath(__file__))


def fail(message):
    print("FAILED:", message, file=sys.stderr)
    sys.exit(1)


def register(name, role):
    key, csr = os.path.join(work, name + ".key"), os.path.join(work, name + ".csr")
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                    "-subj", "/CN=" + name, "-out", csr], check=True, capture_output=True)
    response = requests.post(api + "/v1/clients", cert=operator, verify=ca, timeout=60,
                             json={"name": name, "role": role, "csr": open(csr).read()})
    if response.status_code != 201:
        fail(f"register {name}: {response.status_code} {response.text}")
    certificate = os.path.join(work, name + ".crt")
    open(certificate, "w").write(response.json()["certificate"])
    return certificate, key


identities = {"operator": operator, "clerk": register("contract-clerk", "clerk"), "auditor": register("contract-auditor", "auditor")}
environment = dict(os.environ, SCHEMATHESIS_HOOKS="schemathesis_hooks", PYTHONPATH=here + os.pathsep + os.environ.get("PYTHONPATH", ""))
failed = []
for role, (certificate, key) in identities.items():
    command = [sys.executable, "-c", "import sys; from schemathesis.cli import schemathesis; sys.argv[0] = 'schemathesis'; sys.exit(schemathesis())",
               "--config-file", os.path.join(here, "schemathesis.toml"), "run", contract, "--url", api, "--tls-verify", ca, "--request-cert", certificate, "--request-cert-key", key,
               "--phases", "examples,coverage,fuzzing", "--max-examples", os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "15"),
               "--seed", os.environ.get("SCHEMATHESIS_SEED", "20261123"), "--workers", "1", "--request-timeout", "30",
               "--suppress-health-check", "all", "--no-color"]
    result = subprocess.run(command, env=environment, cwd=work, capture_output=True, text=True)
    with open(os.path.join(work, f"schemathesis-{role}.txt"), "w") as log:
        log.write(result.stdout + result.stderr)
    print(f"--- schemathesis as {role}: exit {result.returncode}")
    # The failures (each with a curl line to reproduce it), then the summary.
    failures = result.stdout.find("= FAILURES =")
    print(result.stdout[failures:failures + 12000] if failures >= 0 else result.stdout[-3000:])
    if result.returncode != 0:
        print(result.stderr[-3000:], file=sys.stderr)
        failed.append(role)
    # The server is still serving after everything schemathesis sent.
    if requests.get(api + "/healthz", verify=ca, timeout=10).status_code != 200:
        fail(f"the server stopped serving after the run as {role}")
if failed:
    fail("schemathesis found failures as " + ", ".join(failed))
print("contract check: no failures")
