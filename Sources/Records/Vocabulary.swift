/// Event identifiers. Service events use the ETSI EN 319 522-2 vocabulary as URIs
/// (`http://uri.etsi.org/19522/Event/<Name>`), so a court that knows that standard reads them
/// without Notarium's documentation; events that ETSI does not define live under Notarium's own
/// URN namespace `urn:notarium:event:` (docs/records.md §2).
public enum EventURI {
    public static let etsiPrefix = "http://uri.etsi.org/19522/Event/"
    public static let notariumPrefix = "urn:notarium:event:"

    public static let evidenceDeposit = notariumPrefix + "EvidenceDeposit"
    public static let awardIssued = notariumPrefix + "AwardIssued"
    public static let serviceDeemedEffective = notariumPrefix + "ServiceDeemedEffective"
}
