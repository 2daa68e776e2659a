// The texts the masking scan section measures: realistic output without secrets, and the same with one planted
// value every kilobyte.

/// Deterministic text, so every run (and the Python reference) scans the same bytes.
enum MaskingTexts {
    /// One planted value per built-in detector, each in the context it needs (credentials after their keyword),
    /// with the detector that must find it.
    static let planted: [(detector: String, text: String)] = [
        ("email", "contact jane.doe+billing@example.com today"),
        ("phone", "call +44 20 7946 0958 now"),
        ("card", "card 4111 1111 1111 1111 charged"),
        ("iban", "refund to GB82 WEST 1234 5698 7654 32 please"),
        ("us-ssn", "ssn 078-05-1120 on file"),
        ("aws-access-key", "key AKIAYGX6NWV7TDL5IR6T used"),
        ("aws-secret-key", "aws_secret_access_key=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\n"),
        ("github-token", "token ghp_gNSWPH8prVqsUeQCtDR3zzX6hqo35uwZqxZO set"),
        ("gitlab-token", "token glpat-HTMyf8GmXmeyNdaKTGoe set"),
        ("slack-token", "slack xoxb-230348423395-4508928357636-IJX6uF68NcpP7BEXvfqZgimd ok"),
        ("stripe-key", "stripe sk_live_S7jnqFCiI5ydYgqTxIBAiCof ok"),
        ("openai-key", "openai sk-proj-I8PjUhmi2ogviaNfrWta57_cLkIFKaEaTopYW5LSQdGrKNB4di4RX2G1zdW8FXpC ok"),
        (
            "private-key",
            "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n"
        ),
        (
            "jwt",
            "jwt eyJhbGciOiAiUlMyNTYiLCAidHlwIjogIkpXVCJ9.eyJzdWIiOiAiNDIiLCAiZXhwIjogMTc2NzIyNTYwMH0."
                + "lDCnr88OXiUpRIv69mTf5ObhWzFnTvJ2gwi2R9y3t1M ok"
        ),
        ("credential", "db password=Zq9xL2vB7m42 set"),
    ]

    /// Output of the kind a tool returns — prose, log lines, JSON, code, config — with numbers, dates, versions,
    /// ids, UUIDs and addresses-in-code, and no value any detector matches.
    static func clean(bytes: Int) -> [UInt8] {
        var generator = Generator()
        var text: [UInt8] = []
        text.reserveCapacity(bytes + 256)
        while text.count < bytes { generator.appendLine(to: &text) }
        return Array(text.prefix(bytes))
    }

    /// `clean` with one planted value (in rotation over every detector) starting every `every` bytes; returns the
    /// text and how many values of each detector it holds.
    static func withSecrets(bytes: Int, every: Int = 1024) -> (text: [UInt8], planted: [String: Int]) {
        var generator = Generator()
        var text: [UInt8] = []
        text.reserveCapacity(bytes + 1024)
        var counts: [String: Int] = [:]
        var next = 0
        var turn = 0
        while text.count < bytes - 256 {
            if text.count >= next {
                let value = planted[turn % planted.count]
                text += Array(value.text.utf8)
                text.append(UInt8(ascii: "\n"))
                counts[value.detector, default: 0] += 1
                turn += 1
                next += every
            }
            generator.appendLine(to: &text)
        }
        while text.count < bytes { text.append(UInt8(ascii: " ")) }
        return (text, counts)
    }

    /// A small linear congruential generator picking lines and words.
    struct Generator {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15

        mutating func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }

        static let words = [
            "the", "customer", "reported", "that", "order", "shipment", "was", "delayed", "because", "of", "a",
            "warehouse", "issue", "and", "support", "escalated", "ticket", "to", "billing", "team", "who", "checked",
            "invoice", "status", "refund", "pending", "approval", "today", "tomorrow", "with", "manager", "reviewed",
            "request", "update", "resolved", "closed", "notes", "account", "settings", "password", "reset", "link",
            "bearer", "secret", "token", "key", "Müller", "café", "naïve", "—", "über",
        ]

        mutating func appendLine(to text: inout [UInt8]) {
            var line = ""
            switch next(8) {
            case 0, 1, 2:
                for index in 0..<(8 + next(12)) {
                    line += (index == 0 ? "" : " ") + Self.words[next(Self.words.count)]
                }
                line +=
                    ". Order \(10_000 + next(90_000)) of 2024-0\(1 + next(9))-1\(next(10)), total \(next(999)).\(next(90) + 10) EUR."
            case 3:
                line =
                    "2024-01-15T10:\(10 + next(50)):\(10 + next(50)).\(100 + next(900))Z INFO  request "
                    + "id=\(uuid()) duration_ms=\(next(5000)) status=200 path=/api/v\(1 + next(3))/orders/\(next(1_000_000))"
            case 4:
                line =
                    "{\"id\":\(next(1_000_000_000)),\"status\":\"ok\",\"updated\":\"2024-01-15 10:30:\(10 + next(50))\","
                    + "\"version\":\"1.\(next(30)).\(next(10))\",\"ip\":\"10.\(next(255)).\(next(255)).\(next(255))\","
                    + "\"tags\":[\"a\",\"b\"],\"ratio\":0.\(next(1_000_000)),\"ts\":17\(next(100_000_000))000}"
            case 5:
                line =
                    "    @Test @MainActor func case\(next(1000))() async throws { let value = try compute(x: \(next(100)), "
                    + "y: \"user@host\") ; #expect(value == \(next(10_000))) } // see ORD-2024-\(100_000 + next(899_999))"
            case 6:
                line =
                    "timeout=\(next(120))s retries: \(next(9)) max_tokens=\(next(8192)) image=app@sha256:\(hex(64)) "
                    + "build=\(next(10)).\(next(10)).\(next(100)) PWD=/home/app token_type=bearer"
            default:
                line =
                    "Ticket #\(next(100_000)) — called back at 10:\(10 + next(50)), customer id CUS-\(next(100_000_000)), "
                    + "version v\(next(10)).\(next(10)).\(next(10)), phone on file ends in \(1000 + next(9000))."
            }
            text += Array(line.utf8)
            text.append(UInt8(ascii: "\n"))
        }

        mutating func hex(_ count: Int) -> String {
            let digits = Array("0123456789abcdef")
            return String((0..<count).map { _ in digits[next(16)] })
        }

        mutating func uuid() -> String { "\(hex(8))-\(hex(4))-\(hex(4))-\(hex(4))-\(hex(12))" }
    }
}
