import CanonicalJSON
import Foundation

/// When service becomes legally effective in a case: recorded once, in the first event of each
/// service, so that the verifier decides with the rules that applied then and never with
/// today's (docs/records.md §2.4). The four branches follow the common shapes of procedural law:
///
/// - (a) arrival at an address or system the recipient confirmed for service is service
///   (`confirmedChannels`);
/// - (b) otherwise the recipient's reply or procedural act is service (ConsignmentAcceptance),
///   and a read report presumes it, rebuttably (`readReportPresumesService`);
/// - (c) a notice opens an acceptance window of N days; if it ends without acceptance or
///   rejection (AcceptanceRejectionExpiry), service is deemed made at its end;
/// - (d) a notice on a registration channel (a letter or SMS inviting an unregistered party to
///   register) opens a registration window of N days, deemed service at its end
///   (ServiceDeemedEffective), as small-claims procedures do.
///
/// Windows count whole days from the day after the trigger, in the case's time zone; a final
/// day that is a weekend day or holiday of the recorded calendar moves to the next working day.
public struct ServiceRules: Sendable, Equatable {
    /// The working days of the forum: which weekdays are rest days and which dates are holidays.
    public struct WorkingCalendar: Sendable, Equatable {
        /// The calendar's name (an identifier, e.g. `CN-national`).
        public let id: String
        /// Its version, so that a later correction of the holiday list is told apart.
        public let version: String
        /// ISO weekdays (1 = Monday … 7 = Sunday) that are not working days.
        public let weekend: [Int]
        /// Dates (YYYY-MM-DD), ascending, that are not working days.
        public let holidays: [String]

        /// The holidays as day numbers, for the roll-over loop (a string per day would make a
        /// long calendar slow to verify).
        let holidayNumbers: Set<Int64>

        public init(id: String, version: String, weekend: [Int], holidays: [String]) {
            self.id = id
            self.version = version
            self.weekend = weekend
            self.holidays = holidays
            holidayNumbers = Set(holidays.compactMap { CivilDay($0)?.number })
        }
    }

    /// An IANA time zone name (`Europe/Berlin`); days are counted on its local dates.
    public let timeZone: String
    public let calendar: WorkingCalendar
    public let confirmedChannels: [ServiceChannel]
    public let readReportPresumesService: Bool
    public let acceptanceWindowDays: Int?
    public let registrationWindowDays: Int?
    public let registrationChannels: [ServiceChannel]

    public static let maximumWindowDays = 365

    public init(timeZone: String, calendar: WorkingCalendar, confirmedChannels: [ServiceChannel], readReportPresumesService: Bool, acceptanceWindowDays: Int?, registrationWindowDays: Int?, registrationChannels: [ServiceChannel]) {
        self.timeZone = timeZone
        self.calendar = calendar
        self.confirmedChannels = confirmedChannels
        self.readReportPresumesService = readReportPresumesService
        self.acceptanceWindowDays = acceptanceWindowDays
        self.registrationWindowDays = registrationWindowDays
        self.registrationChannels = registrationChannels
    }

    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "timeZone": .string(timeZone),
            "calendar": .object([
                "id": .string(calendar.id),
                "version": .string(calendar.version),
                "weekend": .array(calendar.weekend.map { .integer(Int64($0)) }),
                "holidays": .array(calendar.holidays.map { .string($0) }),
            ]),
            "confirmedChannels": .array(confirmedChannels.map { .string($0.rawValue) }),
            "readReportPresumesService": .bool(readReportPresumesService),
        ]
        if let acceptanceWindowDays { members["acceptanceWindowDays"] = .integer(Int64(acceptanceWindowDays)) }
        if let registrationWindowDays {
            members["registrationWindowDays"] = .integer(Int64(registrationWindowDays))
            members["registrationChannels"] = .array(registrationChannels.map { .string($0.rawValue) })
        }
        return .object(members)
    }

    public init(json value: JSONValue?, at path: String) throws(RecordError) {
        let members = try Field.object(value, at: path, required: ["timeZone", "calendar", "confirmedChannels", "readReportPresumesService"], optional: ["acceptanceWindowDays", "registrationWindowDays", "registrationChannels"])
        timeZone = try Field.string(members["timeZone"], at: path + ".timeZone", maximumLength: 64)
        guard TimeZone(identifier: timeZone) != nil, timeZone.contains("/") || timeZone == "UTC" else {
            throw RecordError(.schema, "\(path).timeZone \"\(timeZone)\" is not an IANA time zone name (e.g. Europe/Berlin, Asia/Shanghai, UTC)")
        }
        let cal = try Field.object(members["calendar"], at: path + ".calendar", required: ["id", "version", "weekend", "holidays"])
        let weekend = try Field.array(cal["weekend"], at: path + ".calendar.weekend", maximum: 6).enumerated().map { (index, item) throws(RecordError) in
            Int(try Field.integer(item, at: "\(path).calendar.weekend[\(index)]", range: 1...7))
        }
        guard weekend == weekend.sorted(), Set(weekend).count == weekend.count else {
            throw RecordError(.schema, "\(path).calendar.weekend must list ISO weekdays (1 = Monday … 7 = Sunday) ascending, each once")
        }
        var holidays: [String] = []
        for (index, item) in try Field.array(cal["holidays"], at: path + ".calendar.holidays", maximum: 5000).enumerated() {
            let text = try Field.string(item, at: "\(path).calendar.holidays[\(index)]", maximumLength: 10)
            guard let day = CivilDay(text) else { throw RecordError(.schema, "\(path).calendar.holidays[\(index)] \"\(text)\" is not a date YYYY-MM-DD") }
            if let last = holidays.last, CivilDay(last)!.number >= day.number {
                throw RecordError(.schema, "\(path).calendar.holidays must be ascending without repeats (\(text) after \(last))")
            }
            holidays.append(text)
        }
        calendar = WorkingCalendar(
            id: try Field.identifier(cal["id"], at: path + ".calendar.id"),
            version: try Field.string(cal["version"], at: path + ".calendar.version", maximumLength: 64),
            weekend: weekend, holidays: holidays)
        confirmedChannels = try Self.channels(members["confirmedChannels"], at: path + ".confirmedChannels")
        guard case .bool(let presumes) = members["readReportPresumesService"] else {
            throw RecordError(.schema, "\(path).readReportPresumesService must be true or false")
        }
        readReportPresumesService = presumes
        let window = 1...Int64(Self.maximumWindowDays)
        acceptanceWindowDays = try members["acceptanceWindowDays"].map { value throws(RecordError) in Int(try Field.integer(value, at: path + ".acceptanceWindowDays", range: window)) }
        registrationWindowDays = try members["registrationWindowDays"].map { value throws(RecordError) in Int(try Field.integer(value, at: path + ".registrationWindowDays", range: window)) }
        if registrationWindowDays != nil {
            registrationChannels = try Self.channels(members["registrationChannels"], at: path + ".registrationChannels")
            guard !registrationChannels.isEmpty else { throw RecordError(.schema, "\(path).registrationChannels must name at least one channel when registrationWindowDays is set") }
        } else {
            guard members["registrationChannels"] == nil else { throw RecordError(.schema, "\(path).registrationChannels is only meaningful with registrationWindowDays") }
            registrationChannels = []
        }
        if let both = confirmedChannels.first(where: registrationChannels.contains) {
            throw RecordError(.schema, "\(path): \(both.rawValue) cannot be both a confirmed channel and a registration channel")
        }
    }

    static func channels(_ value: JSONValue?, at path: String) throws(RecordError) -> [ServiceChannel] {
        var channels: [ServiceChannel] = []
        for (index, item) in try Field.array(value, at: path, maximum: ServiceChannel.allCases.count).enumerated() {
            let channel = try Field.channel(item, at: "\(path)[\(index)]")
            guard !channels.contains(channel) else { throw RecordError(.schema, "\(path) names \(channel.rawValue) twice") }
            channels.append(channel)
        }
        let order = ServiceChannel.allCases
        guard channels == channels.sorted(by: { order.firstIndex(of: $0)! < order.firstIndex(of: $1)! }) else {
            throw RecordError(.schema, "\(path) must list channels in the order email, sms, portal, postal-hybrid")
        }
        return channels
    }

    // MARK: - Deadlines

    /// The end of a window: its final working day and the instant that day ends.
    public struct Deadline: Sendable, Equatable {
        /// The window's last day (YYYY-MM-DD, local), after rolling over rest days.
        public let finalDay: String
        /// The first instant after that day, local midnight, in UTC milliseconds.
        public let end: Int64
        /// Days the final day moved over (weekend days and holidays), in order.
        public let rolledOver: [String]
    }

    /// The deadline of a window of `days` days triggered at `trigger` (UTC milliseconds):
    /// day 1 is the local day after the trigger's; a final day that is not a working day
    /// moves to the next working day.
    public func deadline(trigger: Int64, days: Int) -> Deadline {
        let zone = TimeZone(identifier: timeZone) ?? TimeZone(secondsFromGMT: 0)!
        let triggerDay = CivilDay.local(of: trigger, in: zone)
        var final = CivilDay(number: triggerDay.number + Int64(days))
        var rolled: [String] = []
        while calendar.weekend.contains(final.isoWeekday) || calendar.holidayNumbers.contains(final.number) {
            rolled.append(final.text)
            final = CivilDay(number: final.number + 1)
        }
        return Deadline(finalDay: final.text, end: CivilDay(number: final.number + 1).startMilliseconds(in: zone), rolledOver: rolled)
    }
}

/// A date of the proleptic Gregorian calendar, as a day number from 1970-01-01, so that
/// counting days never meets a daylight-saving hour (H. Hinnant's civil-date algorithms).
struct CivilDay {
    let number: Int64

    init(number: Int64) { self.number = number }

    init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.utf8.count == 10, parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let year = Int64(parts[0]), let month = Int64(parts[1]), let day = Int64(parts[2]),
              (1...12).contains(month), (1...31).contains(day) else { return nil }
        let candidate = CivilDay(year: year, month: month, day: day)
        guard candidate.text == text else { return nil }
        self = candidate
    }

    init(year: Int64, month: Int64, day: Int64) {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        number = era * 146097 + doe - 719468
    }

    var components: (year: Int64, month: Int64, day: Int64) {
        let z = number + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    var text: String {
        let (year, month, day) = components
        func pad(_ value: Int64, _ width: Int) -> String { String(repeating: "0", count: max(0, width - String(value).count)) + String(value) }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    /// 1 = Monday … 7 = Sunday (1970-01-01 was a Thursday).
    var isoWeekday: Int { Int(((number % 7) + 7 + 3) % 7) + 1 }

    static func local(of milliseconds: Int64, in zone: TimeZone) -> CivilDay {
        let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
        let seconds = milliseconds / 1000 + Int64(zone.secondsFromGMT(for: date))
        return CivilDay(number: (seconds >= 0 ? seconds : seconds - 86399) / 86400)
    }

    /// Local midnight at the start of this day, in UTC milliseconds. Where a daylight-saving
    /// change skips midnight, the day starts at the first local instant that exists.
    func startMilliseconds(in zone: TimeZone) -> Int64 {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let (year, month, day) = components
        let date = calendar.startOfDay(for: calendar.date(from: DateComponents(year: Int(year), month: Int(month), day: Int(day), hour: 12))!)
        return Int64((date.timeIntervalSince1970 * 1000).rounded())
    }
}
