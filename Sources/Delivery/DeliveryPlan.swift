import CanonicalJSON
import Records

/// How the appliance is to serve one service: in which languages, by which channels in which
/// order, and what the notice says about who serves and where to open the documents. Kept
/// beside the outbox, not in the ledger: the ledger records what happened; the plan is how the
/// appliance meant to make it happen.
public struct DeliveryPlan: Sendable, Equatable {
    /// BCP 47 tags, the recipient's preferred first; the first with a template is used.
    public var languages: [String]
    /// The channels to push a notice on, in order: the first is tried first, the next when it
    /// fails for good (a bounce, a refused address). Email and SMS push; the portal is where
    /// the notice leads.
    public var channels: [ServiceChannel]
    /// The institution's name as the notice gives it.
    public var institution: String
    /// The recipient's personal link to the documents when the platform serves them; empty
    /// when the plan names `portal` (the appliance's portal link is sent instead).
    public var link: String
    /// Days after a channel's notice on which a reminder goes by the same channel, unless the
    /// recipient has identified or answered by then, or the window has closed.
    public var reminders: [Int]

    public init(languages: [String], channels: [ServiceChannel], institution: String, link: String, reminders: [Int] = []) {
        self.languages = languages
        self.channels = channels
        self.institution = institution
        self.link = link
        self.reminders = reminders
    }

    /// The plan as stored beside the outbox; `init(_:at:)` reads it back.
    var json: JSONValue {
        var members: [String: JSONValue] = [
            "languages": .array(languages.map { .string($0) }), "channels": .array(channels.map { .string($0.rawValue) }),
            "institution": .string(institution), "reminders": .array(reminders.map { .integer(Int64($0)) }),
        ]
        if !link.isEmpty { members["link"] = .string(link) }
        return .object(members)
    }

    /// `{"languages":[…],"channels":[…],"institution":…[,"link":…][,"reminders":[…]]}`: one
    /// reader for the API's `delivery` member (docs/api.md §3.2) and the stored plan.
    public init(_ value: JSONValue, at path: String) throws(RecordError) {
        let members = try Field.object(value, at: path, required: ["languages", "channels", "institution"], optional: ["link", "reminders"])
        languages = []
        for (index, item) in try Field.array(members["languages"], at: path + ".languages", minimum: 1, maximum: 10).enumerated() {
            languages.append(try Field.languageTag(item, at: path + ".languages[\(index)]"))
        }
        channels = []
        for (index, item) in try Field.array(members["channels"], at: path + ".channels", minimum: 1, maximum: ServiceChannel.allCases.count).enumerated() {
            channels.append(try Field.channel(item, at: path + ".channels[\(index)]"))
        }
        institution = try Field.string(members["institution"], at: path + ".institution", maximumLength: 200)
        link = ""
        if let value = members["link"] {
            link = try Field.string(value, at: path + ".link", maximumLength: 2000)
            guard link.hasPrefix("https://"), !link.contains(where: \.isWhitespace) else {
                throw RecordError(.schema, "\(path).link is not an https URL")
            }
        } else if !channels.contains(where: { $0.rawValue == ServiceChannel.portal.rawValue }) {
            throw RecordError(.schema, "\(path).link is required unless the plan serves through the portal (channels names portal)")
        }
        reminders = []
        if let value = members["reminders"] {
            for (index, item) in try Field.array(value, at: path + ".reminders", minimum: 0, maximum: 5).enumerated() {
                reminders.append(Int(try Field.integer(item, at: path + ".reminders[\(index)]", range: 1...60)))
            }
        }
    }

    init(json bytes: [UInt8]) throws(DeliveryError) {
        do {
            self = try DeliveryPlan(try CanonicalJSON.parse(bytes), at: "plan")
        } catch {
            throw DeliveryError(.storage, "a stored delivery plan is unreadable: \(error)")
        }
    }

    /// The channels a notice is pushed on (the portal and the post are not pushed from here).
    static let pushChannels: [ServiceChannel] = [.email, .sms]
}
