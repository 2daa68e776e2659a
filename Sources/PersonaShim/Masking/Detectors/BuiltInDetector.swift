/// The built-in detectors, in the fixed order that also breaks ties between overlapping matches of equal length.
enum BuiltInDetector: Int, CaseIterable, Sendable {
    case email, phone, card, iban, usSSN, awsAccessKey, awsSecretKey, githubToken, gitlabToken, slackToken
    case stripeKey, openAIKey, privateKey, jwt, credential

    var name: String {
        switch self {
        case .email: "email"
        case .phone: "phone"
        case .card: "card"
        case .iban: "iban"
        case .usSSN: "us-ssn"
        case .awsAccessKey: "aws-access-key"
        case .awsSecretKey: "aws-secret-key"
        case .githubToken: "github-token"
        case .gitlabToken: "gitlab-token"
        case .slackToken: "slack-token"
        case .stripeKey: "stripe-key"
        case .openAIKey: "openai-key"
        case .privateKey: "private-key"
        case .jwt: "jwt"
        case .credential: "credential"
        }
    }

    /// Whether a match is a secret (something that grants access) rather than personal data.
    var isSecret: Bool {
        switch self {
        case .email, .phone, .card, .iban, .usSSN: false
        case .awsAccessKey, .awsSecretKey, .githubToken, .gitlabToken, .slackToken, .stripeKey, .openAIKey,
            .privateKey, .jwt, .credential:
            true
        }
    }

    init?(name: String) {
        guard let found = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = found
    }
}

/// The enabled built-ins as a bit set: the scanners test membership on every candidate.
struct BuiltInSet: Sendable, Equatable {
    var bits: UInt32 = 0

    func contains(_ detector: BuiltInDetector) -> Bool { bits & (1 << detector.rawValue) != 0 }
    mutating func insert(_ detector: BuiltInDetector) { bits |= 1 << detector.rawValue }
    func containsAny(_ detectors: BuiltInDetector...) -> Bool { detectors.contains { contains($0) } }
}
