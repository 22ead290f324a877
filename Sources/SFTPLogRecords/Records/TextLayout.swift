/// The SFTPPlus text layouts read by scanning bytes (`TextLayouts`): a closed
/// set, whose raw values are the `layout` strings records carry.
public enum TextLayout: String, Sendable {
    case idFirst = "id-first", tsFirst = "ts-first", short, syslog, syslog5424 = "syslog-5424"

    /// The raw value as a JSON string, for writers that append bytes.
    public var json: StaticString {
        switch self {
        case .idFirst: return "\"id-first\""
        case .tsFirst: return "\"ts-first\""
        case .short: return "\"short\""
        case .syslog: return "\"syslog\""
        case .syslog5424: return "\"syslog-5424\""
        }
    }
}
