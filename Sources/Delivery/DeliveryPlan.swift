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

    var json: JSONValue {
        .object([
            "languages": .array(languages.map { .string($0) }), "channels": .array(channels.map { .string($0.rawValue) }),
            "institution": .string(institution), "link": .string(link), "reminders": .array(reminders.map { .integer(Int64($0)) }),
        ])
    }

    init(json bytes: [UInt8]) throws(DeliveryError) {
        guard let value = try? CanonicalJSON.parse(bytes), case .object(let members) = value,
              case .array(let languages)? = members["languages"], case .array(let channels)? = members["channels"],
              case .string(let institution)? = members["institution"], case .string(let link)? = members["link"]
        else { throw DeliveryError(.storage, "a delivery plan is unreadable") }
        self.languages = languages.compactMap { if case .string(let tag) = $0 { tag } else { nil } }
        self.channels = channels.compactMap { if case .string(let name) = $0 { ServiceChannel(rawValue: name) } else { nil } }
        self.institution = institution
        self.link = link
        if case .array(let days)? = members["reminders"] {
            reminders = days.compactMap { if case .integer(let day) = $0 { Int(day) } else { nil } }
        } else {
            reminders = []
        }
    }

    /// The channels a notice is pushed on (the portal and the post are not pushed from here).
    static let pushChannels: [ServiceChannel] = [.email, .sms]
}
