/// What `persona-shim approvals`, `approve` and `deny` say to a shim's rendezvous socket: one JSON line each way
/// per connection.
///
/// - `{"request":"list"}` → `{"questions":[QUESTION...]}`
/// - `{"request":"challenge","id":ID}` → `{"code":"K7PX-2M9Q"}` once the asking process passed the approver checks
/// - `{"request":"approve","id":ID,"code":CODE}` → `{"answer":"approved"}`, from the process that got the code
/// - `{"request":"deny","id":ID}` → `{"answer":"denied"}`
///
/// Anything refused gets `{"refused":SENTENCE}`; a request that makes no sense gets `{"error":SENTENCE}`.
public enum ApprovalProtocol {
    public enum Request: Equatable, Sendable {
        case list
        case challenge(id: String)
        case approve(id: String, code: String)
        case deny(id: String)

        public init?(json: JSONValue) {
            guard case .object = json, let kind = json["request"]?.stringValue else { return nil }
            let id = json["id"]?.stringValue
            switch (kind, id, json["code"]?.stringValue) {
            case ("list", _, _): self = .list
            case ("challenge", let id?, _): self = .challenge(id: id)
            case ("approve", let id?, let code?): self = .approve(id: id, code: code)
            case ("deny", let id?, _): self = .deny(id: id)
            default: return nil
            }
        }

        /// Parses one request line; the failure is a sentence for the peer.
        static func parse(line: [UInt8]) -> Result<Request, Problem> {
            guard let json = try? JSONValue(parsing: line) else { return .failure(Problem("the request is not JSON")) }
            guard let request = Request(json: json) else {
                return .failure(
                    Problem("the request is not one of list, challenge, approve or deny with the fields they need"))
            }
            return .success(request)
        }

        public var json: JSONValue {
            switch self {
            case .list: ["request": "list"]
            case .challenge(let id): ["request": "challenge", "id": .string(id)]
            case .approve(let id, let code): ["request": "approve", "id": .string(id), "code": .string(code)]
            case .deny(let id): ["request": "deny", "id": .string(id)]
            }
        }
    }

    /// Why a request was not understood, as a sentence.
    struct Problem: Error, Equatable {
        var sentence: String
        init(_ sentence: String) { self.sentence = sentence }
    }

    static func error(_ sentence: String) -> JSONValue { ["error": .string(sentence)] }

    static func unknown(_ id: String) -> JSONValue {
        ["error": .string("this session has no pending question \(id) (it was answered, withdrawn or timed out)")]
    }

    /// Letters and digits a person cannot confuse (no 0/O, 1/I/L, 5/S, 8/B).
    static let codeAlphabet = Array("ACDEFGHJKMNPQRTUVWXY2345679")

    /// A one-time code to type back: 8 characters (about 38 bits) as `XXXX-XXXX`.
    static func newCode() -> String {
        var generator = SystemRandomNumberGenerator()
        let characters = (0..<8).map { _ in codeAlphabet.randomElement(using: &generator)! }
        return String(characters[0..<4]) + "-" + String(characters[4...])
    }

    /// Compares codes ignoring case, spaces and dashes, in time independent of where they differ.
    static func sameCode(_ shown: String, _ typed: String) -> Bool {
        func normal(_ text: String) -> [UInt8] {
            Array(text.uppercased().utf8.filter { $0 != UInt8(ascii: "-") && $0 != UInt8(ascii: " ") })
        }
        let (left, right) = (normal(shown), normal(typed))
        guard left.count == right.count, !left.isEmpty else { return false }
        return zip(left, right).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
