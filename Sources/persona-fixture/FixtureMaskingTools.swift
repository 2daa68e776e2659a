// `--masking-tools`: tools whose answers carry planted personal data and secrets, for the masking tests.

import MCPWire
import PersonaShimExamples

/// Tools that leak: a planted card number, AWS access key and e-mail address in every place an answer can carry
/// them (text, `structuredContent` under an `outputSchema`, an embedded resource, a log notification, a progress
/// message, an error's message and data), plus `send`, which echoes its arguments (the exfiltration target), and a
/// resource (`memo://leak`) whose text carries them too. `leak_all` also writes them to its stderr.
enum FixtureMaskingTools {
    static let card = "4111 1111 1111 1111"
    static let cardDashed = "4111-1111-1111-1111"
    static let awsKey = "AKIAZ7Q3KX4M2LBN8WTR"
    static let email = "jane.doe@example.com"
    /// A value the tests exempt by pointer (`/structuredContent/agentEmail`).
    static let agentEmail = "support@example.com"
    static let resourceURI = "memo://leak"

    static var tools: [(JSONValue, FixtureBehaviour)] {
        let any: JSONValue = ["type": "object", "additionalProperties": true]
        return [
            (
                [
                    "name": "leak_all",
                    "description": "Returns a ticket with a customer's e-mail, card and an API key.",
                    "inputSchema": any,
                    "outputSchema": [
                        "type": "object",
                        "properties": [
                            "ticket": ["type": "string", "pattern": "^T-[0-9]+$"],
                            "customer": [
                                "type": "object",
                                "properties": [
                                    "email": ["type": "string"], "card": ["type": "string", "maxLength": 64],
                                ],
                                "required": ["email", "card"],
                            ],
                            "note": ["type": "string"],
                            "agentEmail": ["type": "string", "format": "email"],
                        ],
                        "required": ["ticket", "customer", "note"],
                    ],
                ], .leak
            ),
            (
                [
                    "name": "leak_strict", "description": "Returns a contact whose schema demands an e-mail address.",
                    "inputSchema": any,
                    "outputSchema": [
                        "type": "object", "properties": ["contact": ["type": "string", "format": "email"]],
                        "required": ["contact"],
                    ],
                ], .leak
            ),
            (
                [
                    "name": "leak_error", "description": "Fails with the planted values in its error.",
                    "inputSchema": any,
                ], .leak
            ),
            (
                ["name": "send", "description": "Sends its arguments somewhere (echoes them).", "inputSchema": any],
                .echo
            ),
        ]
    }

    /// The text every leak carries: the e-mail also written with `\u0040` for `@` in the JSON, so only a reader
    /// that decodes escapes sees it.
    static let leakText = "Ticket T-1042 from \(email) paid with \(card); deploy key \(awsKey)."

    /// Writes ` jane.doe@example.com ` over the blob text (from `start`) once in every 1024 bytes.
    static func plantEveryKiB(_ bytes: inout [UInt8], from start: Int) {
        let planted = Array(" \(email) ".utf8)
        var position = start + 512
        while position + planted.count <= bytes.count {
            bytes.replaceSubrange(position..<(position + planted.count), with: planted)
            position += 1024
        }
    }

    static func resourceAnswer(id: [UInt8]) -> [UInt8] {
        var result = Array(#"{"contents":[{"uri":"memo://leak","mimeType":"text/plain","text":"#.utf8)
        JSONWriter.appendString("Card \(cardDashed), key \(awsKey), mail \(email).", to: &result)
        result += Array("}]}".utf8)
        return Message.responseHead(id: id) + result + Message.responseTail
    }
}

extension FixtureServer {
    func leak(_ name: String, id: [UInt8], request: Request) {
        switch name {
        case "leak_all":
            // A server's own log on stderr leaks too; the shim forwards it to its stderr.
            StdioIO.log("looked up \(FixtureMaskingTools.email) with key \(FixtureMaskingTools.awsKey)")
            var log = Array(
                #"{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","logger":"crm","data":{"customer":"#
                    .utf8)
            JSONWriter.appendString(FixtureMaskingTools.email, to: &log)
            log += Array(#","text":"#.utf8)
            JSONWriter.appendString(FixtureMaskingTools.leakText, to: &log)
            log += Array("}}}\n".utf8)
            writer.send(log, holdBack: true)
            if let token = request.members.progressToken {
                var progress = Array(
                    #"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"#.utf8)
                progress += Array(request.bytes[token])
                progress += Array(#","progress":1,"total":2,"message":"#.utf8)
                JSONWriter.appendString("checking key \(FixtureMaskingTools.awsKey)", to: &progress)
                progress += Array("}}\n".utf8)
                writer.send(progress, holdBack: true)
            }
            let structured: JSONValue = [
                "ticket": "T-1042",
                "customer": ["email": .string(FixtureMaskingTools.email), "card": .string(FixtureMaskingTools.card)],
                "note": .string("rotate \(FixtureMaskingTools.awsKey)"),
                "agentEmail": .string(FixtureMaskingTools.agentEmail),
            ]
            var result = Array(#"{"content":[{"type":"text","text":"#.utf8)
            JSONWriter.appendString(
                FixtureMaskingTools.leakText + " Agent: \(FixtureMaskingTools.agentEmail).", to: &result)
            // The same address again, its "@" written as a JSON escape.
            result += Array(#"},{"type":"text","text":"escaped jane.doe\u0040example.com"},"#.utf8)
            result += Array(#"{"type":"text","text":"#.utf8)
            result += JSONWriter.encode(.string(JSONWriter.string(structured)))
            result += Array(
                #"},{"type":"resource","resource":{"uri":"memo://leak","mimeType":"text/plain","text":"#.utf8)
            JSONWriter.appendString("Card \(FixtureMaskingTools.cardDashed) on file.", to: &result)
            result += Array(#"}}],"structuredContent":"#.utf8)
            result += JSONWriter.encode(structured)
            result += Array(#","isError":false}"#.utf8)
            respond(Message.responseHead(id: id) + result + Message.responseTail)
        case "leak_strict":
            respond(
                Message.response(
                    id: id,
                    result: [
                        "content": [
                            ["type": "text", "text": .string("{\"contact\":\"\(FixtureMaskingTools.email)\"}")]
                        ],
                        "structuredContent": ["contact": .string(FixtureMaskingTools.email)],
                    ]))
        default:
            respond(
                Message.error(
                    id: id, code: JSONRPCError.internalError,
                    message: "lookup failed for \(FixtureMaskingTools.email)",
                    data: ["card": .string(FixtureMaskingTools.card), "key": .string(FixtureMaskingTools.awsKey)]))
        }
    }
}
