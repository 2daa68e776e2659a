import Foundation
import PersonaShim
import Testing

extension EndToEnd {
    /// Data classes through the binary: a tool or resource of a class the persona does not declare, or without a
    /// label, is refused before it runs and never reaches the server; the refusal names the class.
    @Suite struct DataClasses {
        @Test func aToolOfAnUndeclaredClassNeverReachesTheServer() throws {
            let recording = Recording()
            let shim = try ShimProcess(
                servers: [("fx", recording.server(["--resources", "--name", "fx"]))], allow: ["fx__*"],
                extra: [
                    ("resources", ["allow": ["memo://*"]]),
                    (
                        "dataClasses",
                        try json(
                            #"""
                            {"allow": ["files"],
                             "tools": {"fx__read_file": ["files"], "fx__refund": ["finance"]},
                             "resources": {"memo://shared": ["files"]}}
                            """#)
                    ),
                ])
            try shim.initialize()
            let file = shim.scratch.write("note.txt", "hello\n")
            #expect(resultText(shim.call("fx__read_file", ["path": .string(file)], id: 1)) != nil)

            let refund = try #require(refusal(shim.call("fx__refund", ["amount": 5, "currency": "EUR"], id: 2)))
            #expect(refund.contains(#"fx__refund handles data of class "finance""#), "\(refund)")
            #expect(refund.hasSuffix("(rule dataClasses). This action is outside the job this agent was deployed for."))
            let unlabelled = try #require(refusal(shim.call("fx__post_url", ["url": "https://example.com/"], id: 3)))
            #expect(unlabelled.contains("has no data class label"), "\(unlabelled)")

            let shared = shim.client.request("resources/read", params: ["uri": "memo://shared"], id: 4).response
            #expect(shared?["result"]?["contents"]?[0]?["text"] == "fx says hello", "\(String(describing: shared))")
            let own = shim.client.request("resources/read", params: ["uri": "memo://fx"], id: 5).response
            #expect(own?["error"]?["message"]?.stringValue?.contains("has no data class label") == true)

            // Only the allowed call and the allowed read reached the fixture.
            #expect(recording.calls().count == 1)
            let reads = recording.lines().filter { (try? JSONValue(parsing: $0))?["method"] == "resources/read" }
            #expect(reads.count == 1)
            let denials = shim.decisions().filter { $0["decision"]?.stringValue == "deny" }
            #expect(
                denials.map { $0["rule"]?.stringValue } == [
                    "dataClasses", "dataClasses.unlabelled", "dataClasses.unlabelled",
                ])
            let records = shim.auditRecords().filter { $0["resource"]?.stringValue == "memo://fx" }
            #expect(records.first?["rule"]?.stringValue == "dataClasses.unlabelled")
        }
    }
}
