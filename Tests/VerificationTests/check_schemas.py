"""Checks a bundle and a trust file made by notarium with tools Notarium did not write:
jsonschema (docs/schemas, draft 2020-12) and rfc8785 (an independent JCS implementation).
Every record's entry body is checked against the schema of its entry type (evidence, service,
award), and mutated bodies of the bundle's kind must be refused, as the Swift readers refuse them.
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


bundle_schema, trust_schema = schema("bundle"), schema("trust")
# The body schema of each entry type a bundle may hold (docs/records.md §1–§3).
body_schemas = {kind: schema(kind) for kind in ("evidence", "service", "award")}

raw = open(bundle_path, "rb").read()
bundle = json.loads(raw)
if rfc8785.dumps(bundle) != raw:
    problems.append("the bundle is not the RFC 8785 form of itself")
for error in bundle_schema.iter_errors(bundle):
    problems.append(f"bundle: {error.message}")
for error in trust_schema.iter_errors(json.load(open(trust_path))):
    problems.append(f"trust file: {error.message}")

bodies = []  # (entry type, body) of every record, in bundle order
for index, record in enumerate(bundle["records"]):
    entry_bytes = base64.b64decode(record["entry"])
    entry = json.loads(entry_bytes)
    if rfc8785.dumps(entry) != entry_bytes:
        problems.append(f"records[{index}]: the entry is not the RFC 8785 form of itself")
    validator = body_schemas.get(entry["type"])
    if validator is None:
        problems.append(f"records[{index}] is a {entry['type']} entry; no body schema covers it")
        continue
    for error in validator.iter_errors(entry["body"]):
        where = "/".join(str(part) for part in error.absolute_path)
        problems.append(f"records[{index}] {entry['type']} body{' at ' + where if where else ''}: {error.message}")
    bodies.append((entry["type"], entry["body"]))


# The schemas refuse what the Swift readers refuse. Each refusal is paired, where it can be, with
# the same body repaired, so that a refusal for some other reason does not pass for the one named.
def expect(name, validator, document, valid):
    if validator.is_valid(document) != valid:
        problems.append(f"the schema {'refuses' if valid else 'accepts'} {name}")


def mutated(body, change):
    copied = copy.deepcopy(body)
    change(copied)
    return copied


extra = copy.deepcopy(bundle)
extra["note"] = "unknown member"
expect("a bundle with an extra member", bundle_schema, extra, False)

kind = bundle["kind"]
first = bodies[0][1] if bodies else None
if kind == "evidence" and first is not None:
    evidence = body_schemas["evidence"]

    def drop_sha256(body):
        body["document"]["digests"] = [d for d in body["document"]["digests"] if d["algorithm"] != "sha-256"]

    expect("an evidence body with no sha-256", evidence, mutated(first, drop_sha256), False)
    expect("an evidence body with a bad case id", evidence, mutated(first, lambda body: body.update(case="with space")), False)

elif kind == "service" and first is not None:
    service = body_schemas["service"]
    etsi = "http://uri.etsi.org/19522/Event/"

    # The opening as a rejection: a reason is required, and only then is it a valid body.
    rejection = mutated(first, lambda body: (body.update(event=etsi + "SubmissionRejection"), body.pop("reason", None)))
    expect("a SubmissionRejection without a reason", service, rejection, False)
    expect("a SubmissionRejection with a reason", service, mutated(rejection, lambda body: body.update(reason="submission-invalid")), True)

    # A later event reduced to the members every later event has: a valid ContentConsignment,
    # so that each mutation of it is refused for the one thing changed.
    later = next((body for _, body in bodies[1:]), None)
    base = None
    if later is not None:
        def plain(body):
            body["event"] = etsi + "ContentConsignment"
            for member in ("notice", "identification", "effective", "reason"):
                body.pop(member, None)

        base = mutated(later, plain)
        expect("a plain ContentConsignment", service, base, True)
        failure = mutated(base, lambda body: body.update(event=etsi + "ContentConsignmentFailure"))
        expect("a ContentConsignmentFailure without a reason", service, failure, False)
        expect("a ContentConsignmentFailure with a reason", service, mutated(failure, lambda body: body.update(reason="mailbox-full")), True)
        expect("a ContentConsignmentFailure with an unregistered reason", service, mutated(failure, lambda body: body.update(reason="felt-like-it")), False)
        expect("a ContentConsignment with a reason", service, mutated(base, lambda body: body.update(reason="mailbox-full")), False)
        expect("a later event without previous", service, mutated(base, lambda body: body.pop("previous")), False)
        expect("a later event with rules", service, mutated(base, lambda body: body.update(rules=first["rules"])), False)
    unknown = base if base is not None else first
    expect("a service body with an unknown event URI", service,
           mutated(unknown, lambda body: body.update(event=etsi + "ContentTeleportation")), False)
    expect("a service body with an ETSI event under Notarium's namespace", service,
           mutated(unknown, lambda body: body.update(event="urn:notarium:event:ContentConsignment")), False)

elif kind == "award" and first is not None:
    award = body_schemas["award"]

    def role(name):
        def change(body):
            body["signatures"][0]["role"] = name
        return change

    expect("an award signature with the role secretary", award, mutated(first, role("secretary")), False)
    expect("an award signature with the role institution-seal", award, mutated(first, role("institution-seal")), True)

    def no_authentic(body):
        for version in body["versions"]:
            version["authentic"] = False

    expect("an award without an authentic version", award, mutated(first, no_authentic), False)

for problem in problems:
    print(problem)
print("ok" if not problems else f"{len(problems)} problems")
sys.exit(1 if problems else 0)
