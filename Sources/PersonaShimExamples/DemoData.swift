// The in-memory world of the demo: a small SaaS company's customers, support tickets and invoices.
//
// The story: a support agent summarises open tickets. T-1042 is a refund dispute from cus_1001, who was charged twice
// for March (invoices INV-2026-0301 and INV-2026-0302). The agent should summarise it, not act on billing.

import MCPWire
import Platform

struct Customer: Sendable {
    var id: String
    var name: String
    var email: String
    var company: String
    var plan: String
    /// Outstanding balance in the currency's minor unit; positive means the customer owes money.
    var balanceCents: Int
    var currency: String
    var createdAt: String

    var json: JSONValue {
        [
            "id": .string(id), "name": .string(name), "email": .string(email), "company": .string(company),
            "plan": .string(plan), "balanceCents": .integer(balanceCents), "currency": .string(currency),
            "createdAt": .string(createdAt),
        ]
    }
}

struct TicketMessage: Sendable {
    var author: String
    /// "customer" or "agent".
    var role: String
    var sentAt: String
    var body: String

    var json: JSONValue {
        ["author": .string(author), "role": .string(role), "sentAt": .string(sentAt), "body": .string(body)]
    }
}

struct InternalNote: Sendable {
    var id: String
    var author: String
    var createdAt: String
    var body: String

    var json: JSONValue {
        ["id": .string(id), "author": .string(author), "createdAt": .string(createdAt), "body": .string(body)]
    }
}

struct Ticket: Sendable {
    var id: String
    var subject: String
    var status: String
    var priority: String
    var customerId: String
    var tags: [String]
    var createdAt: String
    var updatedAt: String
    var messages: [TicketMessage]
    var internalNotes: [InternalNote] = []

    var json: JSONValue {
        summaryJSON
            .setting("messages", to: .array(messages.map(\.json)))
            .setting("internalNotes", to: .array(internalNotes.map(\.json)))
    }

    /// The short form listed by search results.
    var summaryJSON: JSONValue {
        [
            "id": .string(id), "subject": .string(subject), "status": .string(status),
            "priority": .string(priority), "customerId": .string(customerId),
            "tags": .array(tags.map { .string($0) }), "createdAt": .string(createdAt),
            "updatedAt": .string(updatedAt),
        ]
    }
}

struct Refund: Sendable {
    var id: String
    var amountCents: Int
    var reason: String
    var createdAt: String

    var json: JSONValue {
        [
            "id": .string(id), "amountCents": .integer(amountCents), "reason": .string(reason),
            "createdAt": .string(createdAt),
        ]
    }
}

struct Invoice: Sendable {
    var id: String
    var customerId: String
    var description: String
    var amountCents: Int
    var currency: String
    /// "open", "paid", "partially_refunded" or "refunded".
    var status: String
    var issuedAt: String
    var paidAt: String?
    var refunds: [Refund] = []

    var refundedCents: Int { refunds.reduce(0) { $0 + $1.amountCents } }

    var json: JSONValue {
        [
            "id": .string(id), "customerId": .string(customerId), "description": .string(description),
            "amountCents": .integer(amountCents), "currency": .string(currency), "status": .string(status),
            "issuedAt": .string(issuedAt), "paidAt": paidAt.map { .string($0) } ?? .null,
            "refundedCents": .integer(refundedCents), "refunds": .array(refunds.map(\.json)),
        ]
    }
}

/// Fresh copies of the demo records; each server process mutates its own.
enum DemoData {
    static var customers: [Customer] {
        [
            Customer(
                id: "cus_1001", name: "Maria Okafor", email: "maria.okafor@brightlane.io",
                company: "Brightlane Logistics", plan: "team", balanceCents: 4900, currency: "USD",
                createdAt: "2024-06-12T09:14:00Z"),
            Customer(
                id: "cus_1002", name: "Daniel Reyes", email: "daniel@reyes-design.com",
                company: "Reyes Design Studio", plan: "pro", balanceCents: 0, currency: "USD",
                createdAt: "2025-01-03T17:42:00Z"),
            Customer(
                id: "cus_1003", name: "Priya Natarajan", email: "priya.n@kestrel-analytics.com",
                company: "Kestrel Analytics", plan: "enterprise", balanceCents: 125_000, currency: "USD",
                createdAt: "2023-11-20T08:00:00Z"),
            Customer(
                id: "cus_1004", name: "Lukas Becker", email: "lukas.becker@fahrwerk.de",
                company: "Fahrwerk GmbH", plan: "starter", balanceCents: 0, currency: "EUR",
                createdAt: "2025-08-29T12:30:00Z"),
            Customer(
                id: "cus_1005", name: "Tom Whitfield", email: "tom@whitfield-bakes.co.uk",
                company: "Whitfield Bakes", plan: "starter", balanceCents: 1500, currency: "GBP",
                createdAt: "2025-02-14T10:05:00Z"),
        ]
    }

    static var tickets: [Ticket] {
        [
            Ticket(
                id: "T-1038", subject: "Cannot invite teammates to our workspace", status: "open", priority: "high",
                customerId: "cus_1003", tags: ["workspace", "invites"], createdAt: "2026-04-02T08:21:00Z",
                updatedAt: "2026-04-02T09:02:00Z",
                messages: [
                    TicketMessage(
                        author: "Priya Natarajan", role: "customer", sentAt: "2026-04-02T08:21:00Z",
                        body: "Invites to new analysts fail with \"seat limit reached\" although we have "
                            + "12 of 40 seats in use. Onboarding is blocked."),
                    TicketMessage(
                        author: "Sam (Support)", role: "agent", sentAt: "2026-04-02T09:02:00Z",
                        body: "Thanks Priya, I can reproduce this and have escalated it to engineering."),
                ]),
            Ticket(
                id: "T-1039", subject: "CSV export drops umlauts", status: "pending", priority: "normal",
                customerId: "cus_1004", tags: ["export", "encoding"], createdAt: "2026-04-03T14:10:00Z",
                updatedAt: "2026-04-04T07:45:00Z",
                messages: [
                    TicketMessage(
                        author: "Lukas Becker", role: "customer", sentAt: "2026-04-03T14:10:00Z",
                        body: "Names like \"Jürgen Müller\" come out as \"Jrgen Mller\" in the CSV "
                            + "export."),
                    TicketMessage(
                        author: "Sam (Support)", role: "agent", sentAt: "2026-04-04T07:45:00Z",
                        body: "Could you tell us which spreadsheet app you open the file with?"),
                ]),
            Ticket(
                id: "T-1040", subject: "How do I change my billing email?", status: "solved", priority: "low",
                customerId: "cus_1002", tags: ["account"], createdAt: "2026-04-05T11:00:00Z",
                updatedAt: "2026-04-05T11:20:00Z",
                messages: [
                    TicketMessage(
                        author: "Daniel Reyes", role: "customer", sentAt: "2026-04-05T11:00:00Z",
                        body: "Invoices should go to accounts@reyes-design.com from now on."),
                    TicketMessage(
                        author: "Ana (Support)", role: "agent", sentAt: "2026-04-05T11:20:00Z",
                        body: "Settings → Billing → Invoice email. I have updated it for you."),
                ]),
            Ticket(
                id: "T-1041", subject: "Webhook deliveries delayed by about ten minutes", status: "open",
                priority: "urgent", customerId: "cus_1003", tags: ["webhooks", "latency"],
                createdAt: "2026-04-06T16:48:00Z", updatedAt: "2026-04-06T16:48:00Z",
                messages: [
                    TicketMessage(
                        author: "Priya Natarajan", role: "customer", sentAt: "2026-04-06T16:48:00Z",
                        body: "Since this morning order.created webhooks arrive 8-12 minutes late.")
                ]),
            Ticket(
                id: "T-1042", subject: "Charged twice for March - refund request", status: "open",
                priority: "high", customerId: "cus_1001", tags: ["billing", "refund", "dispute"],
                createdAt: "2026-04-07T07:55:00Z", updatedAt: "2026-04-07T08:30:00Z",
                messages: [
                    TicketMessage(
                        author: "Maria Okafor", role: "customer", sentAt: "2026-04-07T07:55:00Z",
                        body: "I was charged twice for March, please refund $49.00. Both charges are on "
                            + "my card statement on March 1st. If this is not fixed this week I will "
                            + "dispute the charge with my bank."),
                    TicketMessage(
                        author: "Sam (Support)", role: "agent", sentAt: "2026-04-07T08:30:00Z",
                        body: "Sorry about that, Maria. I have passed this to our billing team."),
                ]),
            Ticket(
                id: "T-1043", subject: "Feature request: dark mode for the dashboard", status: "closed",
                priority: "low", customerId: "cus_1005", tags: ["feature-request"],
                createdAt: "2026-03-28T19:12:00Z", updatedAt: "2026-03-30T10:00:00Z",
                messages: [
                    TicketMessage(
                        author: "Tom Whitfield", role: "customer", sentAt: "2026-03-28T19:12:00Z",
                        body: "Working late on orders, a dark mode would be much easier on the eyes.")
                ]),
        ]
    }

    static var invoices: [Invoice] {
        [
            Invoice(
                id: "INV-2026-0301", customerId: "cus_1001", description: "Team plan, March 2026",
                amountCents: 4900, currency: "USD", status: "paid", issuedAt: "2026-03-01T00:00:00Z",
                paidAt: "2026-03-01T00:02:11Z"),
            // The duplicate charge behind ticket T-1042.
            Invoice(
                id: "INV-2026-0302", customerId: "cus_1001", description: "Team plan, March 2026",
                amountCents: 4900, currency: "USD", status: "paid", issuedAt: "2026-03-01T00:00:04Z",
                paidAt: "2026-03-01T00:02:15Z"),
            Invoice(
                id: "INV-2026-0388", customerId: "cus_1002", description: "Pro plan, April 2026",
                amountCents: 1900, currency: "USD", status: "paid", issuedAt: "2026-04-01T00:00:00Z",
                paidAt: "2026-04-01T00:01:40Z"),
            Invoice(
                id: "INV-2026-0391", customerId: "cus_1004", description: "Starter plan, April 2026",
                amountCents: 900, currency: "EUR", status: "paid", issuedAt: "2026-04-01T00:00:00Z",
                paidAt: "2026-04-03T09:12:00Z"),
            Invoice(
                id: "INV-2026-0402", customerId: "cus_1005", description: "Starter plan, April 2026",
                amountCents: 1500, currency: "GBP", status: "open", issuedAt: "2026-04-01T00:00:00Z",
                paidAt: nil),
            Invoice(
                id: "INV-2026-0417", customerId: "cus_1003", description: "Enterprise plan, Q2 2026",
                amountCents: 125_000, currency: "USD", status: "open", issuedAt: "2026-04-01T00:00:00Z",
                paidAt: nil),
        ]
    }

    /// The current UTC time in the same ISO 8601 form as the seeded records.
    static func timestampNow() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }
}
