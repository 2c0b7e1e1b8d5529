import Foundation
@testable import OpenSSLKit
import Testing

@Suite("GeneralizedTime with milliseconds, as DER wants it")
struct GeneralizedTimeTests {
    /// X.690 §11.7: UTC with "Z", no trailing zeros in the fraction, no fraction when zero.
    @Test("fractions lose trailing zeros and vanish at zero; fields are zero-padded")
    func formats() throws {
        let base: Int64 = 1_795_000_000_000  // 2026-11-18T11:06:40Z
        let cases: [(Int64, String)] = [
            (base, "20261118110640Z"),
            (base + 500, "20261118110640.5Z"),
            (base + 50, "20261118110640.05Z"),
            (base + 5, "20261118110640.005Z"),
            (base + 123, "20261118110640.123Z"),
            (base + 120, "20261118110640.12Z"),
            (0, "19700101000000Z"),
            (946_684_799_999, "19991231235959.999Z"),
        ]
        for (milliseconds, expected) in cases {
            #expect(TimeStampSigner.generalizedTime(milliseconds: milliseconds) == expected)
        }
    }
}
