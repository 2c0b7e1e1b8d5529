import CanonicalJSON

/// The JSON forms of proofs that the CLI prints and notariumd serves (docs/ledger-format.md,
/// Proofs): sizes as integers, hashes as base64, proof hashes from the leaf level upward.
extension InclusionProof {
    public var json: JSONValue {
        [
            "index": .integer(Int64(index)), "size": .integer(Int64(size)),
            "leafHash": .string(Base64.encode(leafHash)), "rootHash": .string(Base64.encode(rootHash)),
            "proof": .array(hashes.map { .string(Base64.encode($0)) }),
        ]
    }
}

extension ConsistencyProof {
    public var json: JSONValue {
        [
            "from": .integer(Int64(from)), "to": .integer(Int64(to)),
            "fromRoot": .string(Base64.encode(fromRoot)), "toRoot": .string(Base64.encode(toRoot)),
            "proof": .array(hashes.map { .string(Base64.encode($0)) }),
        ]
    }
}
