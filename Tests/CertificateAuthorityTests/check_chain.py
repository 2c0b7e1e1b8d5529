"""Independent check of Notarium's CA output with pyca/cryptography (its Rust X.509 parser and
path validation). Usage: check_chain.py ROOT.pem ISSUING.pem CRL.der (PROFILE LEAF.pem)...
Prints a JSON report; exits non-zero when anything fails to load or a TLS chain is refused."""
import datetime
import json
import sys

from cryptography import x509
from cryptography.x509 import DNSName
from cryptography.x509.verification import PolicyBuilder, Store

root = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
issuing = x509.load_pem_x509_certificate(open(sys.argv[2], "rb").read())
crl = x509.load_der_x509_crl(open(sys.argv[3], "rb").read())
report = {
    "crlSignatureValid": crl.is_signature_valid(issuing.public_key()),
    "revokedSerials": [format(r.serial_number, "X") for r in crl],
}
store = Store([root])
now = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=1)
ok = True
args = sys.argv[4:]
for profile, path in zip(args[0::2], args[1::2]):
    leaf = x509.load_pem_x509_certificate(open(path, "rb").read())
    leaf.extensions  # parses every extension
    try:
        if profile == "tls-server":
            names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(DNSName)
            verifier = PolicyBuilder().store(store).time(now).build_server_verifier(DNSName(names[0]))
            verifier.verify(leaf, [issuing])
            report[profile] = "path-valid"
        elif profile == "tls-client":
            verifier = PolicyBuilder().store(store).time(now).build_client_verifier()
            verifier.verify(leaf, [issuing])
            report[profile] = "path-valid"
        else:
            report[profile] = "loaded"
    except Exception as error:  # report, do not hide
        report[profile] = "refused: %s" % error
        ok = False
print(json.dumps(report))
sys.exit(0 if ok else 1)
