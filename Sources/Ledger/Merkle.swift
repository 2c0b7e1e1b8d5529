import Sodium

/// RFC 9162 §2.1 Merkle tree hashing, proofs and their verification.
///
/// Hashes are 32-byte SHA-256 values held as `[UInt8]`. Proofs list hashes from the leaf's
/// level upward, exactly as RFC 9162 §2.1.3.1 and §2.1.4.1 define them (and as Go's
/// `golang.org/x/mod/sumdb/tlog` and transparency-dev's verifiers read them).
public enum Merkle {
    public static let hashByteCount = 32

    /// The root of the empty tree: SHA-256 of no bytes.
    public static let emptyRoot: [UInt8] = SHA256.hash([])

    /// `SHA-256(0x00 ‖ data)`.
    public static func leafHash(_ data: [UInt8]) -> [UInt8] {
        SHA256.hash([0x00], data)
    }

    /// `SHA-256(0x01 ‖ left ‖ right)`.
    public static func nodeHash(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        SHA256.hash([0x01], left, right)
    }

    /// The largest power of two strictly less than `n` (n ≥ 2).
    static func splitPoint(_ n: UInt64) -> UInt64 {
        precondition(n >= 2)
        return UInt64(1) << (63 - (n - 1).leadingZeroBitCount)
    }

    // MARK: - Proof construction over stored perfect subtrees

    /// Builds roots and proofs from the hashes of perfect subtrees: node (level, index) covers
    /// leaves [index·2^level, (index+1)·2^level). Any range the RFC's recursion asks for splits
    /// into O(log n) such nodes, so each root or proof costs O(log n) reads.
    struct ProofBuilder<Failure: Error> {
        let node: (_ level: Int, _ index: UInt64) throws(Failure) -> [UInt8]

        init(_ node: @escaping (_ level: Int, _ index: UInt64) throws(Failure) -> [UInt8]) {
            self.node = node
        }

        /// MTH(D[start:end]) for a range the RFC recursion produces (start aligned to the split).
        func subtreeHash(_ start: UInt64, _ end: UInt64) throws(Failure) -> [UInt8] {
            let count = end - start
            if count == 0 { return Merkle.emptyRoot }
            if count & (count - 1) == 0 && start % count == 0 {
                let level = count.trailingZeroBitCount
                return try node(level, start >> UInt64(level))
            }
            let k = Merkle.splitPoint(count)
            return Merkle.nodeHash(try subtreeHash(start, start + k), try subtreeHash(start + k, end))
        }

        /// RFC 9162 §2.1.3.1 PATH(m, D[start:end]).
        func inclusionPath(_ index: UInt64, _ start: UInt64, _ end: UInt64) throws(Failure) -> [[UInt8]] {
            let count = end - start
            if count <= 1 { return [] }
            let k = Merkle.splitPoint(count)
            if index < start + k {
                return try inclusionPath(index, start, start + k) + [try subtreeHash(start + k, end)]
            }
            return try inclusionPath(index, start + k, end) + [try subtreeHash(start, start + k)]
        }

        /// RFC 9162 §2.1.4.1 SUBPROOF(m, D[start:end], b), m counted from `start`.
        func consistencySubproof(_ m: UInt64, _ start: UInt64, _ end: UInt64, _ complete: Bool) throws(Failure) -> [[UInt8]] {
            let count = end - start
            if m == count { return complete ? [] : [try subtreeHash(start, end)] }
            let k = Merkle.splitPoint(count)
            if m <= k {
                return try consistencySubproof(m, start, start + k, complete) + [try subtreeHash(start + k, end)]
            }
            return try consistencySubproof(m - k, start + k, end, false) + [try subtreeHash(start, start + k)]
        }
    }

    // MARK: - Verification (RFC 9162 §2.1.3.2 and §2.1.4.2)

    /// Why a proof does not verify.
    public enum ProofFailure: Error, Equatable, CustomStringConvertible {
        case indexOutOfRange
        case wrongHashLength
        case wrongProofLength
        case rootMismatch
        case sizeZero
        case sizesOutOfOrder

        public var description: String {
            switch self {
            case .indexOutOfRange: "the leaf index is not below the tree size"
            case .wrongHashLength: "a hash is not 32 bytes"
            case .wrongProofLength: "the proof has the wrong number of hashes for these sizes"
            case .rootMismatch: "the proof does not lead to the expected root"
            case .sizeZero: "a consistency proof from the empty tree is not defined"
            case .sizesOutOfOrder: "the first size is larger than the second"
            }
        }
    }

    /// Checks that `leafHash` is leaf `index` of the tree of `size` leaves whose root is `root`.
    public static func verifyInclusion(index: UInt64, size: UInt64, leafHash: [UInt8], proof: [[UInt8]], root: [UInt8]) throws(ProofFailure) {
        guard index < size else { throw .indexOutOfRange }
        guard leafHash.count == hashByteCount, root.count == hashByteCount, proof.allSatisfy({ $0.count == hashByteCount }) else {
            throw .wrongHashLength
        }
        var fn = index
        var sn = size - 1
        var r = leafHash
        for p in proof {
            guard sn != 0 else { throw .wrongProofLength }
            if fn & 1 == 1 || fn == sn {
                r = nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else { throw .wrongProofLength }
        guard r == root else { throw .rootMismatch }
    }

    /// Checks that the tree of `toSize` leaves with root `toRoot` extends the tree of `fromSize`
    /// leaves with root `fromRoot`.
    public static func verifyConsistency(fromSize: UInt64, toSize: UInt64, fromRoot: [UInt8], toRoot: [UInt8], proof: [[UInt8]]) throws(ProofFailure) {
        guard fromRoot.count == hashByteCount, toRoot.count == hashByteCount, proof.allSatisfy({ $0.count == hashByteCount }) else {
            throw .wrongHashLength
        }
        guard fromSize <= toSize else { throw .sizesOutOfOrder }
        guard fromSize > 0 else { throw .sizeZero }
        if fromSize == toSize {
            guard proof.isEmpty else { throw .wrongProofLength }
            guard fromRoot == toRoot else { throw .rootMismatch }
            return
        }
        guard !proof.isEmpty else { throw .wrongProofLength }
        var path = proof
        if fromSize & (fromSize - 1) == 0 { path.insert(fromRoot, at: 0) }
        var fn = fromSize - 1
        var sn = toSize - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = path[0]
        var sr = path[0]
        for c in path.dropFirst() {
            guard sn != 0 else { throw .wrongProofLength }
            if fn & 1 == 1 || fn == sn {
                fr = nodeHash(c, fr)
                sr = nodeHash(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                sr = nodeHash(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else { throw .wrongProofLength }
        guard fr == fromRoot, sr == toRoot else { throw .rootMismatch }
    }

    /// The root of a whole list of leaf hashes (for tests and small in-memory trees).
    public static func root(ofLeafHashes leaves: [[UInt8]]) -> [UInt8] {
        var frontier = CompactRange()
        for leaf in leaves { frontier.append(leaf) { _, _, _ in } }
        return frontier.root
    }
}

/// The right edge of a growing tree: for each set bit `level` of `size`, the hash of the perfect
/// subtree of 2^level leaves that ends the tree there. Appending a leaf completes O(1) nodes
/// (amortized) and needs no reads; the root folds these O(log n) hashes.
public struct CompactRange: Sendable, Equatable {
    public private(set) var size: UInt64 = 0
    /// `hashes[level]` is the pending left node at that level, when bit `level` of size is set.
    public private(set) var hashes: [[UInt8]?] = Array(repeating: nil, count: 64)

    public init() {}

    /// Rebuilds the range of a stored tree of `size` leaves from its perfect nodes.
    public init<E: Error>(size: UInt64, node: (_ level: Int, _ index: UInt64) throws(E) -> [UInt8]) throws(E) {
        self.size = size
        for level in 0..<64 where size >> UInt64(level) & 1 == 1 {
            hashes[level] = try node(level, (size >> UInt64(level)) - 1)
        }
    }

    /// Adds a leaf; `completed` receives every node (level, index, hash) that becomes a perfect
    /// subtree, the leaf itself (level 0) first.
    public mutating func append(_ leafHash: [UInt8], completed: (_ level: Int, _ index: UInt64, _ hash: [UInt8]) -> Void) {
        var hash = leafHash
        var level = 0
        var index = size
        completed(0, index, hash)
        while index & 1 == 1 {
            hash = Merkle.nodeHash(hashes[level]!, hash)
            hashes[level] = nil
            level += 1
            index >>= 1
            completed(level, index, hash)
        }
        hashes[level] = hash
        size += 1
    }

    /// MTH of the whole range.
    public var root: [UInt8] {
        var result: [UInt8]?
        for level in 0..<64 {
            guard let hash = hashes[level] else { continue }
            result = result.map { Merkle.nodeHash(hash, $0) } ?? hash
        }
        return result ?? Merkle.emptyRoot
    }
}
