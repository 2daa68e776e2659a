/// Protects the `requestState` of a multi round-trip request while it is in the agent's hands.
///
/// A server's `input_required` result carries a `requestState` the agent must hand back on its retry. The agent
/// never sees the server's own state: it gets a token that names it, `ps1.<payload>.<mac>` (hex), where the payload
/// binds the session, the server, the request (method, name as the agent sees them, and a digest of its arguments), a
/// deadline and a nonce, and
/// the MAC is HMAC-SHA256 under a key made for this session alone. The server's state waits in the shim under the
/// nonce and is handed out once. A retry whose token was forged or altered, was already used, is past its deadline,
/// or is taken to another server or another request is refused.
struct RequestStateSeal {
    struct Binding: Equatable {
        var server: String
        var method: String
        var name: String
        /// The hex SHA-256 of the request's canonical arguments, so a state cannot be spent on other arguments of
        /// the same tool (empty where a request has none, as for `resources/read`, whose URI is its name).
        var arguments: String = ""
    }

    enum Refusal: Error, Equatable, CustomStringConvertible {
        case forged, replayed, expired, otherServer, otherRequest

        var description: String {
            switch self {
            case .forged: "it is not a request state persona-shim issued in this session (forged or altered)"
            case .replayed: "it was already used; a request state is good for one retry"
            case .expired: "it expired; retry the request from the start"
            case .otherServer: "it was issued for another server"
            case .otherRequest: "it was issued for another request"
            }
        }
    }

    /// What a token stands for: a server's own state, or a question the shim holds for the agent (a ticket the
    /// shim numbered itself, which no server's state can pass for).
    enum Held: Equatable {
        case serverState(String)
        case ticket(Int)
    }

    private struct Issued {
        var binding: Binding
        var deadline: UInt64
        var held: Held
    }

    private let key: [UInt8]
    private let session: String
    private var nextNonce = 1
    private var issued: [Int: Issued] = [:]
    /// How long an agent has to answer the server's questions (a person may be asked).
    static let lifetime: UInt64 = 600_000_000_000
    /// At most this many states wait at once; the oldest give way.
    static let limit = 1024

    init(session: String, key: [UInt8]? = nil) {
        self.session = session
        if let key {
            self.key = key
        } else {
            var generator = SystemRandomNumberGenerator()
            self.key = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        }
    }

    /// The token the agent gets in place of `serverState`.
    mutating func seal(_ serverState: String, binding: Binding, now: UInt64) -> String {
        seal(.serverState(serverState), binding: binding, now: now)
    }

    /// The token the agent gets for what the shim holds (`held`), good until `now + lifetime`.
    mutating func seal(_ held: Held, binding: Binding, now: UInt64, lifetime: UInt64 = Self.lifetime) -> String {
        let nonce = nextNonce
        nextNonce += 1
        let deadline = now + lifetime
        issued[nonce] = Issued(binding: binding, deadline: deadline, held: held)
        if issued.count > Self.limit, let oldest = issued.keys.min() { issued[oldest] = nil }
        let payload = Self.hex(Array(Self.payload(session, binding, deadline, nonce).utf8))
        return "ps1.\(payload).\(Self.hex(HMAC.sha256(key: key, message: Array("ps1.\(payload)".utf8))))"
    }

    /// The server's state for a retry to `binding`, used up; or why the token is refused (a ticket is another
    /// request's: see `openHeld`).
    mutating func open(_ token: String, binding: Binding, now: UInt64) -> Result<String, Refusal> {
        switch openHeld(token, binding: binding, now: now) {
        case .success(.serverState(let state)): .success(state)
        case .success(.ticket): .failure(.otherRequest)
        case .failure(let refusal): .failure(refusal)
        }
    }

    /// What the token stands for, for a retry to `binding`, used up; or why the token is refused.
    mutating func openHeld(_ token: String, binding: Binding, now: UInt64) -> Result<Held, Refusal> {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "ps1", let mac = Self.unhex(parts[2]),
            let payloadBytes = Self.unhex(parts[1])
        else { return .failure(.forged) }
        let expected = HMAC.sha256(key: key, message: Array("ps1.\(parts[1])".utf8))
        // Compared in full whatever differs, so timing tells nothing.
        guard mac.count == expected.count, zip(mac, expected).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0 else {
            return .failure(.forged)
        }
        let fields = String(decoding: payloadBytes, as: UTF8.self).split(
            separator: "\n", omittingEmptySubsequences: false)
        guard fields.count == 7, fields[0] == session, let deadline = UInt64(fields[5]), let nonce = Int(fields[6])
        else {
            return .failure(.forged)
        }
        guard let entry = issued[nonce], entry.deadline == deadline else { return .failure(.replayed) }
        guard now < deadline else {
            issued[nonce] = nil
            return .failure(.expired)
        }
        guard entry.binding.server == binding.server else { return .failure(.otherServer) }
        guard entry.binding == binding else { return .failure(.otherRequest) }
        issued[nonce] = nil
        return .success(entry.held)
    }

    /// Fields separated by newlines; names are JSON strings, so a newline in one is escaped before it gets here.
    private static func payload(_ session: String, _ binding: Binding, _ deadline: UInt64, _ nonce: Int) -> String {
        [session, binding.server, binding.method, binding.name, binding.arguments, String(deadline), String(nonce)].map
        {
            $0.replacingNewlines()
        }.joined(separator: "\n")
    }

    private static let digits = Array("0123456789abcdef".utf8)

    static func hex(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func unhex(_ text: Substring) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = value(utf8[index]), let low = value(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }
}

extension String {
    fileprivate func replacingNewlines() -> String {
        String(unicodeScalars.map { $0 == "\n" ? " " : Character($0) })
    }
}
