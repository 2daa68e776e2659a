/// What a byte can start, looked up once per byte of the text: the prefilter.
enum Trigger: UInt8 {
    case none = 0
    case at, digit, numberOpen, upperA, underscore, dash, upperJ, bearer, separator
}

/// Per byte value, the trigger of an enabled detector (or `.none`): a byte no enabled detector needs costs one
/// table load.
struct TriggerTable: Sendable {
    let codes: [UInt8]

    init(_ enabled: BuiltInSet) {
        var codes = [UInt8](repeating: Trigger.none.rawValue, count: 256)
        func set(_ characters: String, _ trigger: Trigger) {
            for byte in characters.utf8 { codes[Int(byte)] = trigger.rawValue }
        }
        if enabled.containsAny(.email, .credential) { set("@", .at) }
        if enabled.containsAny(.phone, .card, .usSSN, .iban) { set("0123456789", .digit) }
        if enabled.contains(.phone) { set("+(", .numberOpen) }
        if enabled.contains(.awsAccessKey) { set("A", .upperA) }
        if enabled.containsAny(.githubToken, .stripeKey) { set("_", .underscore) }
        if enabled.containsAny(.gitlabToken, .slackToken, .openAIKey, .privateKey) { set("-", .dash) }
        if enabled.contains(.jwt) { set("J", .upperJ) }
        if enabled.contains(.credential) { set("Bb", .bearer) }
        if enabled.containsAny(.credential, .awsSecretKey) { set("=:", .separator) }
        self.codes = codes
    }
}

/// One scan's state: the text, the enabled detectors and the candidates found so far.
struct BuiltInScanner {
    let text: ScanText
    let enabled: BuiltInSet
    var candidates: [Candidate] = []
    /// The last search for a private key's end line: from where, and where it is (nil: nowhere after).
    var endMarkerSearch: (from: Int, at: Int?) = (Int.max, nil)
    /// The end of the last credential value found.
    var credentialValueEnd = 0

    init(text: ScanText, enabled: BuiltInSet) {
        self.text = text
        self.enabled = enabled
    }

    mutating func run(_ table: TriggerTable) {
        let bytes = text.bytes
        let count = text.count
        table.codes.withUnsafeBufferPointer { table in
            let codes = table.baseAddress!
            var index = 0
            while index < count {
                // Eight bytes without a trigger cost eight loads and one branch: most text is skipped here.
                while index + 8 <= count {
                    let any =
                        codes[Int(bytes[index])] | codes[Int(bytes[index + 1])] | codes[Int(bytes[index + 2])]
                        | codes[Int(bytes[index + 3])] | codes[Int(bytes[index + 4])] | codes[Int(bytes[index + 5])]
                        | codes[Int(bytes[index + 6])] | codes[Int(bytes[index + 7])]
                    if any != 0 { break }
                    index += 8
                }
                while index < count && codes[Int(bytes[index])] == 0 { index += 1 }
                guard index < count else { break }
                let code = codes[Int(bytes[index])]
                // The commonest trigger, a digit inside a word (`v2`, `sha256`, hex), is skipped here with its
                // word; only two capitals before it (an IBAN's country) need a look.
                if code == Trigger.digit.rawValue && index > 0 && Byte.isWord(bytes[index - 1])
                    && !Byte.isUpper(bytes[index - 1])
                {
                    index += 1
                    while index < count && Byte.isAlnum(bytes[index]) { index += 1 }
                    continue
                }
                index = max(index + 1, handle(code, at: index))
            }
        }
    }

    /// Runs the scanners a trigger byte can start; returns where the main loop continues (a scanner that has read
    /// a whole token skips it).
    @inline(never) private mutating func handle(_ code: UInt8, at index: Int) -> Int {
        switch Trigger(rawValue: code) ?? .none {
        case .none: return index + 1
        case .at: return scanEmail(at: index)
        case .digit: return scanDigits(at: index)
        case .numberOpen: return scanNumberOpening(at: index)
        case .upperA: return scanAWSAccessKey(at: index)
        case .underscore: return scanUnderscore(at: index)
        case .dash: return scanDash(at: index)
        case .upperJ: return scanJWT(at: index)
        case .bearer: return scanBearer(at: index)
        case .separator: return scanSeparator(at: index)
        }
    }

    mutating func found(_ detector: BuiltInDetector, _ range: Range<Int>) {
        candidates.append(Candidate(detector: detector.rawValue, range: range))
    }

    /// Whether a token may start at `index`: the byte before it does not continue an identifier.
    @inline(__always) func startsWord(_ index: Int) -> Bool { !Byte.isWord(text[index - 1]) }
    /// Whether a token may end before `index`.
    @inline(__always) func endsWord(_ index: Int) -> Bool { !Byte.isWord(text[index]) }
}
