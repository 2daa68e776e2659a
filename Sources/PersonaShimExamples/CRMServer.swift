// The "crm" example server: support tickets and customer records, read-mostly.

import MCPWire

/// Keeps the many schema literals below readable.
private typealias Schema = ExampleSchema

/// Mutable state and tool implementations of the crm server.
final class CRMServer {
    private var customers = DemoData.customers
    private var tickets = DemoData.tickets
    private var nextNoteNumber = 1

    static let tools: [ExampleTool] = [
        ExampleTool(
            name: "search_tickets", title: "Search support tickets",
            description: "Searches support tickets by free text over ticket id, subject, tags, message bodies and "
                + "the customer's name or email. Returns ticket summaries, most recently updated first. Use "
                + "get_ticket to read the full conversation.",
            inputSchema: Schema.object(
                [
                    "query": Schema.string(
                        "Words to look for, case-insensitive; an empty string matches every ticket."),
                    "status": Schema.enumeration(
                        "Only return tickets in this status.",
                        ["open", "pending", "solved", "closed"]),
                    "limit": Schema.integer(
                        "Maximum number of tickets to return (default 10).",
                        extra: ["minimum": 1, "maximum": 50]),
                ], required: ["query"]),
            outputSchema: Schema.object(
                [
                    "tickets": Schema.array(
                        "Matching tickets, most recently updated first.", items: ticketSummarySchema),
                    "totalMatches": Schema.integer("How many tickets matched before the limit was applied."),
                ], required: ["tickets", "totalMatches"]),
            hints: .readOnly),
        ExampleTool(
            name: "get_ticket", title: "Get a support ticket",
            description: "Returns one support ticket with its full message history and internal notes.",
            inputSchema: Schema.object(
                [
                    "ticketId": Schema.string("The ticket id, e.g. \"T-1042\".", extra: ["pattern": "^T-[0-9]+$"])
                ], required: ["ticketId"]),
            outputSchema: ticketSchema,
            hints: .readOnly),
        ExampleTool(
            name: "get_customer", title: "Get a customer",
            description: "Returns a customer's profile: name, email, company, plan and outstanding balance.",
            inputSchema: Schema.object(
                [
                    "customerId": Schema.string(
                        "The customer id, e.g. \"cus_1001\".", extra: ["pattern": "^cus_[0-9]+$"])
                ], required: ["customerId"]),
            outputSchema: customerSchema,
            hints: .readOnly),
        ExampleTool(
            name: "add_internal_note", title: "Add an internal note to a ticket",
            description: "Appends a note to a ticket that only support staff can see; the customer is not notified. "
                + "Use it to record findings or hand-offs.",
            inputSchema: Schema.object(
                [
                    "ticketId": Schema.string("The ticket id, e.g. \"T-1042\".", extra: ["pattern": "^T-[0-9]+$"]),
                    "note": Schema.string(
                        "The note text (plain text, up to 2000 characters).",
                        extra: ["minLength": 1, "maxLength": 2000]),
                ], required: ["ticketId", "note"]),
            outputSchema: Schema.object(
                [
                    "ticketId": Schema.string("The ticket the note was added to."),
                    "note": noteSchema,
                    "noteCount": Schema.integer("Number of internal notes on the ticket now."),
                ], required: ["ticketId", "note", "noteCount"]),
            hints: .additive),
    ]

    func call(_ tool: String, _ arguments: JSONValue) throws(ExampleProtocolError) -> ExampleToolResult {
        switch tool {
        case "search_tickets":
            return searchTickets(
                query: arguments["query"]?.stringValue ?? "", status: arguments["status"]?.stringValue,
                limit: arguments["limit"]?.wholeNumber ?? 10)
        case "get_ticket":
            let id = arguments["ticketId"]?.stringValue ?? ""
            guard let ticket = tickets.first(where: { $0.id == id }) else { return .failure(noTicket(id)) }
            return .record(ticket.json)
        case "get_customer":
            let id = arguments["customerId"]?.stringValue ?? ""
            guard let customer = customers.first(where: { $0.id == id }) else {
                return .failure("No customer with id \(id) exists.")
            }
            return .record(customer.json)
        case "add_internal_note":
            return addNote(
                ticketId: arguments["ticketId"]?.stringValue ?? "", body: arguments["note"]?.stringValue ?? "")
        default:
            throw ExampleProtocolError(code: JSONRPCError.invalidParams, message: "Unknown tool: \(tool)")
        }
    }

    private func noTicket(_ id: String) -> String { "No ticket with id \(id) exists." }

    private func searchTickets(query: String, status: String?, limit: Int) -> ExampleToolResult {
        let words = query.lowercased().split(whereSeparator: \.isWhitespace)
        let matches = tickets.filter { ticket in
            if let status, ticket.status != status { return false }
            let customer = customers.first { $0.id == ticket.customerId }
            let haystack =
                ([ticket.id, ticket.subject, customer?.name ?? "", customer?.email ?? ""] + ticket.tags
                + ticket.messages.map(\.body)).joined(separator: "\n").lowercased()
            return words.allSatisfy { haystack.contains($0) }
        }.sorted { $0.updatedAt > $1.updatedAt }
        return .record([
            "tickets": .array(matches.prefix(limit).map(\.summaryJSON)),
            "totalMatches": .integer(matches.count),
        ])
    }

    private func addNote(ticketId: String, body: String) -> ExampleToolResult {
        guard let index = tickets.firstIndex(where: { $0.id == ticketId }) else { return .failure(noTicket(ticketId)) }
        let now = DemoData.timestampNow()
        let note = InternalNote(id: "note_\(nextNoteNumber)", author: "AI assistant", createdAt: now, body: body)
        nextNoteNumber += 1
        tickets[index].internalNotes.append(note)
        tickets[index].updatedAt = now
        return .record([
            "ticketId": .string(ticketId), "note": note.json,
            "noteCount": .integer(tickets[index].internalNotes.count),
        ])
    }

    // MARK: Output schemas

    private static let ticketSummaryProperties: KeyValuePairs<String, JSONValue> = [
        "id": Schema.string("Ticket id."),
        "subject": Schema.string("One-line subject."),
        "status": Schema.enumeration("Ticket status.", ["open", "pending", "solved", "closed"]),
        "priority": Schema.enumeration("Ticket priority.", ["low", "normal", "high", "urgent"]),
        "customerId": Schema.string("Id of the customer who opened the ticket."),
        "tags": Schema.array("Labels for routing and reporting.", items: ["type": "string"]),
        "createdAt": Schema.string("When the ticket was opened (ISO 8601, UTC)."),
        "updatedAt": Schema.string("When the ticket last changed (ISO 8601, UTC)."),
    ]

    private static var ticketSummarySchema: JSONValue {
        Schema.object(ticketSummaryProperties, required: ticketSummaryProperties.map(\.key))
    }

    private static let noteSchema = Schema.object(
        [
            "id": Schema.string("Note id."),
            "author": Schema.string("Who wrote the note."),
            "createdAt": Schema.string("When the note was written (ISO 8601, UTC)."),
            "body": Schema.string("The note text."),
        ], required: ["id", "author", "createdAt", "body"])

    private static var ticketSchema: JSONValue {
        let message = Schema.object(
            [
                "author": Schema.string("Display name of the sender."),
                "role": Schema.enumeration("Who sent the message.", ["customer", "agent"]),
                "sentAt": Schema.string("When the message was sent (ISO 8601, UTC)."),
                "body": Schema.string("Message text."),
            ], required: ["author", "role", "sentAt", "body"])
        guard case .object(var properties) = ticketSummarySchema["properties"] else { return [:] }
        properties["messages"] = Schema.array("The conversation, oldest first.", items: message)
        properties["internalNotes"] = Schema.array("Staff-only notes, oldest first.", items: noteSchema)
        return Schema.object(properties.members.map { ($0.key, $0.value) }, required: properties.keys)
    }

    private static let customerSchema = Schema.object(
        [
            "id": Schema.string("Customer id."),
            "name": Schema.string("Contact name."),
            "email": Schema.string("Contact email address."),
            "company": Schema.string("Company name."),
            "plan": Schema.enumeration("Subscription plan.", ["starter", "pro", "team", "enterprise"]),
            "balanceCents": Schema.integer(
                "Outstanding balance in the currency's minor unit; positive means owed to us."),
            "currency": Schema.string("ISO 4217 currency code."),
            "createdAt": Schema.string("When the account was created (ISO 8601, UTC)."),
        ], required: ["id", "name", "email", "company", "plan", "balanceCents", "currency", "createdAt"])
}
