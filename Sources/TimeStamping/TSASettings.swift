import CertificateAuthority
import OpenSSLKit

/// The TSA's settings, from the appliance configuration (keys `tsa.*`; docs/tsa.md).
public struct TSASettings: Sendable, Equatable {
    /// The policy tokens carry when the request names none.
    public var policyOID: String = NotariumOID.defaultTimeStampPolicy
    /// Further policies a request may ask for (the default policy is always accepted).
    public var otherAcceptedPolicies: [String] = []
    /// TSTInfo's accuracy: genTime is within this of UTC as the appliance's clock keeps it.
    public var accuracyMilliseconds: Int = 1000
    /// How far the clock may step back before the TSA stops issuing. A smaller step is
    /// absorbed: tokens keep the last genTime until the clock catches up, so that genTime never
    /// goes backward.
    public var clockToleranceMilliseconds: Int = 1000
    /// Put into TSTInfo's `tsa` field when set (RFC 3161 §2.4.2: optional; if present it must
    /// match a subject name of the TSA certificate, so the default is that certificate's
    /// subject).
    public var includeName: Bool = true
    /// The TSA certificate's subject.
    public var subject: DistinguishedName = DistinguishedName(attributes: [.init(type: "O", value: "Notarium"), .init(type: "CN", value: "Notarium Time-Stamp Authority")])

    public init() {}

    public var acceptedPolicies: [String] { [policyOID] + otherAcceptedPolicies.filter { $0 != policyOID } }

    /// Names the setting that is wrong.
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public let setting: String
        public let reason: String
        public var description: String { "\(setting): \(reason)" }
    }

    public func validate() throws(Invalid) {
        for (setting, oid) in [("tsa.policy-oid", policyOID)] + otherAcceptedPolicies.map({ ("tsa.accepted-policies", $0) }) {
            guard Self.isOID(oid) else { throw Invalid(setting: setting, reason: "\(oid) is not a dotted object identifier") }
        }
        guard (0...60_000).contains(accuracyMilliseconds) else {
            throw Invalid(setting: "tsa.accuracy-ms", reason: "must be 0 (not stated) to 60000 milliseconds")
        }
        guard (0...3_600_000).contains(clockToleranceMilliseconds) else {
            throw Invalid(setting: "tsa.clock-tolerance-ms", reason: "must be 0 to 3600000 milliseconds")
        }
        // genTime may run ahead of the clock by up to the tolerance (a step back absorbed), so
        // a stated accuracy must cover it.
        guard accuracyMilliseconds == 0 || accuracyMilliseconds >= clockToleranceMilliseconds else {
            throw Invalid(setting: "tsa.accuracy-ms", reason: "must be at least tsa.clock-tolerance-ms (\(clockToleranceMilliseconds)), or 0 to state none")
        }
        guard subject.value(of: "CN") != nil else { throw Invalid(setting: "tsa.subject", reason: "needs a CN") }
    }

    /// "1.2.840…": at least two arcs, the first 0, 1 or 2.
    static func isOID(_ text: String) -> Bool {
        let arcs = text.split(separator: ".", omittingEmptySubsequences: false)
        guard arcs.count >= 2, let first = arcs.first, ["0", "1", "2"].contains(first) else { return false }
        return arcs.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) && ($0 == "0" || !$0.hasPrefix("0")) }
    }
}
