/// The persona's `approval` object: how a call that a rule says to `ask` about is put to a person.
enum ApprovalDecoder {
    static let topLevelKeys = ["approval"]
    static let keys = ["channel", "timeoutSeconds", "command", "terminal"]
    /// A person may take a while, but a parked call must end within a day.
    static let longestTimeout = 86_400

    static func decode(_ decoder: inout PersonaDecoder, _ top: JSONObject, base: String) -> ApprovalSettings {
        var settings = ApprovalSettings()
        let pointer = "/approval"
        guard let object = decoder.object(top["approval"], at: pointer, what: "\"approval\"") else { return settings }
        decoder.rejectUnknownKeys(object, at: pointer, allowed: keys, context: "\"approval\"")
        if let text = decoder.string(object, "channel", at: pointer) {
            if let channel = ApprovalSettings.Channel(rawValue: text) {
                settings.channel = channel
            } else {
                decoder.error(
                    at: pointer + "/channel",
                    "\"channel\" must be \"auto\", \"client\" or \"out-of-band\", not \"\(text)\"")
            }
        }
        if let value = object["timeoutSeconds"] {
            if let number = value.doubleValue, number == number.rounded(), number >= 1,
                number <= Double(longestTimeout)
            {
                settings.timeoutSeconds = Int(number)
            } else {
                decoder.error(
                    at: pointer + "/timeoutSeconds",
                    "\"timeoutSeconds\" must be a whole number of seconds from 1 to \(longestTimeout), not \(value)")
            }
        }
        if let command = decoder.stringArray(object, "command", at: pointer) {
            if let program = command.first, !program.isEmpty {
                settings.command =
                    [program.contains("/") ? PersonaLoader.resolvePath(program, base: base) : program]
                    + command.dropFirst()
            } else {
                decoder.error(
                    at: pointer + "/command",
                    "\"command\" must name a program first (an array such as [\"notify-approver\", \"--chat\"])")
            }
        }
        settings.terminal = decoder.bool(object, "terminal", at: pointer) ?? settings.terminal
        return settings
    }
}
