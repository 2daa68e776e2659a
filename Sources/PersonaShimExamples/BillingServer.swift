// The "billing" example server: invoices, balance adjustments and refunds, which really change its in-memory state.
//
// It is the server a support persona must not be able to reach: its write tools are what a policy should withhold.

import MCPWire

/// Keeps the many schema literals below readable.
private typealias Schema = ExampleSchema

/// Mutable state and tool implementations of the billing server.
final class BillingServer {
    private var customers = DemoData.customers
    private var invoices = DemoData.invoices
    private var nextAdjustmentNumber = 1
    private var nextRefundNumber = 1

    static let tools: [ExampleTool] = [
        ExampleTool(
            name: "get_invoice", title: "Get an invoice",
            description: "Returns an invoice with its amount, payment status and any refunds issued against it.",
            inputSchema: Schema.object(
                [
                    "invoiceId": Schema.string(
                        "The invoice id, e.g. \"INV-2026-0301\".",
                        extra: ["pattern": "^INV-[0-9]{4}-[0-9]{4}$"])
                ], required: ["invoiceId"]),
            outputSchema: invoiceSchema,
            hints: .readOnly),
        ExampleTool(
            name: "adjust_balance", title: "Adjust a customer's balance",
            description: "Adds a signed amount to a customer's outstanding balance (negative amounts credit the "
                + "customer). Takes effect immediately and is recorded in the ledger with the given reason.",
            inputSchema: Schema.object(
                [
                    "customerId": Schema.string(
                        "The customer id, e.g. \"cus_1001\".", extra: ["pattern": "^cus_[0-9]+$"]),
                    "amountCents": Schema.integer(
                        "Signed amount in the customer's currency's minor unit; non-zero.",
                        extra: ["minimum": -10_000_000, "maximum": 10_000_000]),
                    "reason": Schema.string(
                        "Why the balance is being adjusted; shown to finance.",
                        extra: ["minLength": 3, "maxLength": 500]),
                ], required: ["customerId", "amountCents", "reason"]),
            outputSchema: Schema.object(
                [
                    "adjustmentId": Schema.string("Ledger id of the adjustment."),
                    "customerId": Schema.string("The customer whose balance changed."),
                    "amountCents": Schema.integer("The signed amount applied."),
                    "previousBalanceCents": Schema.integer("Balance before the adjustment."),
                    "newBalanceCents": Schema.integer("Balance after the adjustment."),
                    "currency": Schema.string("ISO 4217 currency code."),
                    "reason": Schema.string("The recorded reason."),
                ],
                required: [
                    "adjustmentId", "customerId", "amountCents", "previousBalanceCents", "newBalanceCents",
                    "currency", "reason",
                ]),
            hints: .destructive),
        ExampleTool(
            name: "refund", title: "Refund an invoice",
            description: "Refunds part or all of a paid invoice to the customer's original payment method. Money "
                + "leaves the company's account immediately; refunds cannot be undone.",
            inputSchema: Schema.object(
                [
                    "invoiceId": Schema.string(
                        "The invoice to refund, e.g. \"INV-2026-0302\".",
                        extra: ["pattern": "^INV-[0-9]{4}-[0-9]{4}$"]),
                    "amountCents": Schema.integer(
                        "Amount to refund in the invoice currency's minor unit.",
                        extra: ["minimum": 1]),
                    "reason": Schema.string(
                        "Why the refund is issued; shown to finance and the customer.",
                        extra: ["minLength": 3, "maxLength": 500]),
                ], required: ["invoiceId", "amountCents", "reason"]),
            outputSchema: Schema.object(
                [
                    "refund": refundSchema,
                    "invoice": invoiceSchema,
                ], required: ["refund", "invoice"]),
            hints: .destructive),
    ]

    func call(_ tool: String, _ arguments: JSONValue) throws(ExampleProtocolError) -> ExampleToolResult {
        let amount = arguments["amountCents"]?.wholeNumber ?? 0
        let reason = arguments["reason"]?.stringValue ?? ""
        switch tool {
        case "get_invoice":
            let id = arguments["invoiceId"]?.stringValue ?? ""
            guard let invoice = invoices.first(where: { $0.id == id }) else { return .failure(noInvoice(id)) }
            return .record(invoice.json)
        case "adjust_balance":
            return adjustBalance(customerId: arguments["customerId"]?.stringValue ?? "", amount: amount, reason: reason)
        case "refund":
            return refund(invoiceId: arguments["invoiceId"]?.stringValue ?? "", amount: amount, reason: reason)
        default:
            throw ExampleProtocolError(code: JSONRPCError.invalidParams, message: "Unknown tool: \(tool)")
        }
    }

    private func noInvoice(_ id: String) -> String { "No invoice with id \(id) exists." }

    private func adjustBalance(customerId: String, amount: Int, reason: String) -> ExampleToolResult {
        guard let index = customers.firstIndex(where: { $0.id == customerId }) else {
            return .failure("No customer with id \(customerId) exists.")
        }
        guard amount != 0 else { return .failure("amountCents must not be zero; nothing was changed.") }
        let previous = customers[index].balanceCents
        customers[index].balanceCents += amount
        let adjustmentId = "adj_\(nextAdjustmentNumber)"
        nextAdjustmentNumber += 1
        let record: JSONValue = [
            "adjustmentId": .string(adjustmentId), "customerId": .string(customerId), "amountCents": .integer(amount),
            "previousBalanceCents": .integer(previous), "newBalanceCents": .integer(customers[index].balanceCents),
            "currency": .string(customers[index].currency), "reason": .string(reason),
        ]
        let summary =
            "Balance of \(customerId) adjusted by \(amount) cents; "
            + "new balance \(customers[index].balanceCents) cents."
        return .record(record, summary: summary)
    }

    private func refund(invoiceId: String, amount: Int, reason: String) -> ExampleToolResult {
        guard let index = invoices.firstIndex(where: { $0.id == invoiceId }) else {
            return .failure(noInvoice(invoiceId))
        }
        let invoice = invoices[index]
        guard invoice.paidAt != nil else {
            return .failure("Invoice \(invoiceId) has not been paid, so there is nothing to refund.")
        }
        let refundable = invoice.amountCents - invoice.refundedCents
        guard amount <= refundable else {
            return .failure("Invoice \(invoiceId) has only \(refundable) cents left to refund; nothing was refunded.")
        }
        let refund = Refund(
            id: "re_\(nextRefundNumber)", amountCents: amount, reason: reason,
            createdAt: DemoData.timestampNow())
        nextRefundNumber += 1
        invoices[index].refunds.append(refund)
        let fullyRefunded = invoices[index].refundedCents == invoice.amountCents
        invoices[index].status = fullyRefunded ? "refunded" : "partially_refunded"
        let summary =
            "Refunded \(amount) cents of invoice \(invoiceId) to \(invoice.customerId); "
            + "invoice status is now \(invoices[index].status)."
        return .record(["refund": refund.json, "invoice": invoices[index].json], summary: summary)
    }

    // MARK: Output schemas

    private static let refundSchema = Schema.object(
        [
            "id": Schema.string("Refund id."),
            "amountCents": Schema.integer("Refunded amount in the invoice currency's minor unit."),
            "reason": Schema.string("The recorded reason."),
            "createdAt": Schema.string("When the refund was issued (ISO 8601, UTC)."),
        ], required: ["id", "amountCents", "reason", "createdAt"])

    private static let invoiceSchema = Schema.object(
        [
            "id": Schema.string("Invoice id."),
            "customerId": Schema.string("The billed customer."),
            "description": Schema.string("What the invoice is for."),
            "amountCents": Schema.integer("Invoice total in the currency's minor unit."),
            "currency": Schema.string("ISO 4217 currency code."),
            "status": Schema.enumeration("Payment status.", ["open", "paid", "partially_refunded", "refunded"]),
            "issuedAt": Schema.string("When the invoice was issued (ISO 8601, UTC)."),
            "paidAt": [
                "type": ["string", "null"], "description": "When it was paid (ISO 8601, UTC), or null if unpaid.",
            ],
            "refundedCents": Schema.integer("Total refunded so far."),
            "refunds": Schema.array("Refunds issued against the invoice, oldest first.", items: refundSchema),
        ],
        required: [
            "id", "customerId", "description", "amountCents", "currency", "status", "issuedAt", "paidAt",
            "refundedCents", "refunds",
        ])
}
