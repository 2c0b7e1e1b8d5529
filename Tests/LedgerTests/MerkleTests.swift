import Foundation
import Ledger
import NotariumTestKit
import Sodium
import Testing

@Suite("Ledger: RFC 9162 Merkle tree")
struct MerkleTests {
    /// The RFC 6962 / CT reference leaves: "", 00, 10, 2021, 3031, 40414243, 5051525354555657,
    /// 606162636465666768696a6b6c6d6e6f.
    static let referenceLeaves: [[UInt8]] = [
        [], [0x00], [0x10], [0x20, 0x21], [0x30, 0x31], [0x40, 0x41, 0x42, 0x43],
        [0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57], Array(0x60...0x6f),
    ]

    @Test("roots of the RFC 6962 reference tree match the published values")
    func referenceRoots() {
        let hashes = Self.referenceLeaves.map(Merkle.leafHash)
        #expect(hex(Merkle.root(ofLeafHashes: Array(hashes.prefix(8)))) == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
        #expect(hex(Merkle.root(ofLeafHashes: [])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hex(Merkle.root(ofLeafHashes: Array(hashes.prefix(1)))).hasPrefix("6e340b9c"))
        #expect(hex(Merkle.root(ofLeafHashes: Array(hashes.prefix(2)))).hasPrefix("fac54203"))
        #expect(hex(Merkle.root(ofLeafHashes: Array(hashes.prefix(3)))).hasPrefix("aeb6bcfe"))
        #expect(hex(Merkle.root(ofLeafHashes: Array(hashes.prefix(7)))).hasPrefix("ddb89be4"))
    }

    @Test("transparency-dev inclusion and consistency vectors: every verdict agrees", .enabled(if: externalVectors != nil))
    func transparencyDevVectors() throws {
        let base = externalVectors! + "/merkle/transparency-dev-merkle/testdata"
        var checked = 0
        for kind in ["inclusion", "consistency"] {
            let enumerator = try #require(FileManager.default.enumerator(atPath: base + "/" + kind))
            for case let file as String in enumerator where file.hasSuffix(".json") {
                let vector = try readJSONFile(base + "/" + kind + "/" + file)
                let wantErr = vector["wantErr"] as? Bool ?? false
                let proof = try ((vector["proof"] as? [String]) ?? []).map(unb64)
                var failure: Merkle.ProofFailure?
                if kind == "inclusion" {
                    let index = try #require(vector["leafIdx"] as? NSNumber)
                    let size = try #require(vector["treeSize"] as? NSNumber)
                    let leaf = try unb64(vector["leafHash"] as? String ?? "")
                    let root = try unb64(vector["root"] as? String ?? "")
                    // Indices such as 2^64 − 1 are read as unsigned, as the API takes them.
                    failure = caught(Merkle.ProofFailure.self) {
                        try Merkle.verifyInclusion(index: index.uint64Value, size: size.uint64Value, leafHash: leaf, proof: proof, root: root)
                    }
                } else {
                    let size1 = try #require(vector["size1"] as? NSNumber).int64Value
                    let size2 = try #require(vector["size2"] as? NSNumber).int64Value
                    let root1 = try unb64(vector["root1"] as? String ?? "")
                    let root2 = try unb64(vector["root2"] as? String ?? "")
                    // Negative sizes cannot be asked of a UInt64 API: they are errors.
                    if size1 < 0 || size2 < 0 {
                        #expect(wantErr, "\(file)")
                        checked += 1
                        continue
                    }
                    failure = caught(Merkle.ProofFailure.self) {
                        try Merkle.verifyConsistency(fromSize: UInt64(size1), toSize: UInt64(size2), fromRoot: root1, toRoot: root2, proof: proof)
                    }
                }
                // One deliberate difference: transparency-dev accepts equal sizes with equal roots
                // that are not 32 bytes ("don't care"); we refuse any hash that is not a SHA-256.
                let odd = ["root", "root1", "root2", "leafHash"].contains { key in (vector[key] as? String).map { (try? unb64($0))?.count != 32 } ?? false }
                if odd {
                    #expect(failure != nil, "\(kind)/\(file): a hash that is not 32 bytes was accepted")
                } else {
                    #expect((failure != nil) == wantErr, "\(kind)/\(file): wantErr \(wantErr), got \(failure.map { "\($0)" } ?? "ok")")
                }
                checked += 1
            }
        }
        #expect(checked > 150)
    }

    @Test("real Rekor inclusion proofs verify (production v1 and staging v2)", .enabled(if: externalVectors != nil))
    func rekorInclusion() throws {
        for name in ["rekor-public-good-inclusion.json", "rekor-v2-staging-inclusion.json"] {
            let vector = try readJSONFile(externalVectors! + "/merkle/" + name)
            let leaf = try unb64(try #require(vector["leaf_b64"] as? String))
            let hexes = try #require(vector["proof_hex"] as? [String])
            let proof = hexes.map(bytes(hex:))
            let root = bytes(hex: try #require(vector["root_hash_hex"] as? String))
            #expect(hex(Merkle.leafHash(leaf)) == vector["leaf_hash_hex"] as? String)
            let index = UInt64(try #require(vector["leaf_index"] as? Int))
            let size = UInt64(try #require(vector["tree_size"] as? Int))
            try Merkle.verifyInclusion(index: index, size: size, leafHash: Merkle.leafHash(leaf), proof: proof, root: root)
            #expect(caught(Merkle.ProofFailure.self) { try Merkle.verifyInclusion(index: index + 1, size: size, leafHash: Merkle.leafHash(leaf), proof: proof, root: root) } != nil)
        }
    }

    @Test("stored-node proofs equal the RFC's recursive definitions for every index and size up to 70")
    func proofsMatchReference() async throws {
        let fixture = try TestLedger()
        defer { fixture.close() }
        let receipts = try await fixture.appendMany(70)
        let leaves = receipts.map(\.leafHash)
        for size in 1...70 {
            let root = try fixture.ledger.rootHash(size: UInt64(size))
            #expect(root == ReferenceMerkle.mth(leaves.prefix(size)[...]), "root of \(size)")
            for index in 0..<size {
                let proof = try fixture.ledger.inclusionProof(index: UInt64(index), size: UInt64(size))
                #expect(proof.hashes == ReferenceMerkle.path(index, leaves.prefix(size)[...]), "path \(index) in \(size)")
                try Merkle.verifyInclusion(index: UInt64(index), size: UInt64(size), leafHash: leaves[index], proof: proof.hashes, root: root)
            }
            for from in 1...size {
                let proof = try fixture.ledger.consistencyProof(from: UInt64(from), to: UInt64(size))
                let expected = from == size ? [] : ReferenceMerkle.subproof(from, leaves.prefix(size)[...], true)
                #expect(proof.hashes == expected, "consistency \(from)→\(size)")
                try Merkle.verifyConsistency(fromSize: UInt64(from), toSize: UInt64(size), fromRoot: proof.fromRoot, toRoot: root, proof: proof.hashes)
            }
        }
    }

    @Test("tree node keys are post-order positions, as Go's tlog.StoredHashIndex numbers them")
    func nodeKeys() {
        // Go's sumdb/tlog: StoredHashIndex(0, 0..4) = 0, 1, 3, 4, 7; (1, 0) = 2; (1, 1) = 5; (2, 0) = 6.
        let expected: [(Int, UInt64, UInt64)] = [(0, 0, 0), (0, 1, 1), (1, 0, 2), (0, 2, 3), (0, 3, 4), (1, 1, 5), (2, 0, 6), (0, 4, 7), (3, 0, 14)]
        for (level, index, position) in expected {
            #expect(LedgerStorage.storedIndex(level: level, index: index) == position, "(\(level), \(index))")
        }
        // Appends complete nodes in increasing key order.
        var range = CompactRange()
        var last: [UInt8] = []
        for leaf in 0..<300 {
            range.append(Merkle.leafHash([UInt8(leaf & 0xFF)])) { level, index, _ in
                let key = LedgerStorage.nodeKey(level: level, index: index)
                #expect(key.lexicographicallyPrecedes(last) == false && key != last)
                last = key
            }
        }
    }

    @Test("a proof with any hash changed, or for the wrong index or size, does not verify")
    func mutatedProofsFail() async throws {
        let fixture = try TestLedger()
        defer { fixture.close() }
        try await fixture.appendMany(21)
        let proof = try fixture.ledger.inclusionProof(index: 6, size: 21)
        for position in proof.hashes.indices {
            var hashes = proof.hashes
            hashes[position][0] ^= 1
            #expect(caught(Merkle.ProofFailure.self) { try Merkle.verifyInclusion(index: 6, size: 21, leafHash: proof.leafHash, proof: hashes, root: proof.rootHash) } == .rootMismatch)
        }
        #expect(caught(Merkle.ProofFailure.self) { try Merkle.verifyInclusion(index: 7, size: 21, leafHash: proof.leafHash, proof: proof.hashes, root: proof.rootHash) } != nil)
        // Sizes whose path has another shape. (A size with the same shape, such as 20, still
        // "verifies" against the root of 21: the size is bound by the signed checkpoint, which
        // carries size and root together.)
        for size: UInt64 in [16, 40] {
            #expect(caught(Merkle.ProofFailure.self) { try Merkle.verifyInclusion(index: 6, size: size, leafHash: proof.leafHash, proof: proof.hashes, root: proof.rootHash) } != nil)
        }
        #expect(caught(Merkle.ProofFailure.self) { try Merkle.verifyInclusion(index: 6, size: 21, leafHash: proof.leafHash, proof: proof.hashes.dropLast(), root: proof.rootHash) } != nil)
        let consistency = try fixture.ledger.consistencyProof(from: 5, to: 21)
        for position in consistency.hashes.indices {
            var hashes = consistency.hashes
            hashes[position][31] ^= 0x80
            #expect(caught(Merkle.ProofFailure.self) { try Merkle.verifyConsistency(fromSize: 5, toSize: 21, fromRoot: consistency.fromRoot, toRoot: consistency.toRoot, proof: hashes) } != nil)
        }
    }
}

func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

func bytes(hex: String) -> [UInt8] {
    var result: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        result.append(UInt8(hex[index..<next], radix: 16)!)
        index = next
    }
    return result
}
