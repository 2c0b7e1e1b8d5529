"""Checks a bundle and a trust file made by notarium with tools Notarium did not write:
jsonschema (docs/schemas, draft 2020-12) and rfc8785 (an independent JCS implementation).
Usage: check_schemas.py BUNDLE TRUST SCHEMA_DIR. Prints one line per finding; exits 1 on any."""
import base64, copy, json, sys

import jsonschema
import rfc8785

bundle_path, trust_path, schemas = sys.argv[1:4]
problems = []


def schema(name):
    with open(f"{schemas}/{name}.schema.json") as handle:
        loaded = json.load(handle)
    jsonschema.Draft202012Validator.check_schema(loaded)
    return jsonschema.Draft202012Validator(loaded)


bundle_schema, evidence_schema, trust_schema = schema("bundle"), schema("evidence"), schema("trust")
raw = open(bundle_path, "rb").read()
bundle = json.loads(raw)
if rfc8785.dumps(bundle) != raw:
    problems.append("the bundle is not the RFC 8785 form of itself")
for error in bundle_schema.iter_errors(bundle):
    problems.append(f"bundle: {error.message}")
entry = json.loads(base64.b64decode(bundle["records"][0]["entry"]))
if rfc8785.dumps(entry) != base64.b64decode(bundle["records"][0]["entry"]):
    problems.append("the entry is not the RFC 8785 form of itself")
for error in evidence_schema.iter_errors(entry["body"]):
    problems.append(f"evidence body: {error.message}")
for error in trust_schema.iter_errors(json.load(open(trust_path))):
    problems.append(f"trust file: {error.message}")

# The schemas refuse what the Swift readers refuse.
no_sha256 = copy.deepcopy(entry["body"])
no_sha256["document"]["digests"] = [d for d in no_sha256["document"]["digests"] if d["algorithm"] != "sha-256"]
extra = copy.deepcopy(bundle)
extra["note"] = "unknown member"
bad_case = copy.deepcopy(entry["body"])
bad_case["case"] = "with space"
for name, validator, document in [("no sha-256", evidence_schema, no_sha256), ("bad case id", evidence_schema, bad_case), ("extra bundle member", bundle_schema, extra)]:
    if validator.is_valid(document):
        problems.append(f"the schema accepts a body with {name}")

for problem in problems:
    print(problem)
print("ok" if not problems else f"{len(problems)} problems")
sys.exit(1 if problems else 0)
