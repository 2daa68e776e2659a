import Foundation
import PersonaShim
import Testing

/// A fixture offering the policy tools (`--policy-tools`) that records every line it receives, so that a test can
/// prove what reached the server, not just what the shim answered.
final class Recording {
    let scratch = Scratch()
    var path: String { scratch.path + "/received.jsonl" }

    /// The server entry for a persona.
    func server(_ options: [String] = []) -> JSONValue {
        fixture(["--policy-tools", "--record", path] + options)
    }

    /// Every line the fixture received, as it received it.
    func lines() -> [String] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    /// The `tools/call` requests the fixture received, raw.
    func calls() -> [String] {
        lines().filter { (try? JSONValue(parsing: $0))?["method"] == "tools/call" }
    }
}

/// A `tools/call` line written the way a test wants the bytes to be (the arguments exactly as given).
func rawCall(id: String, _ name: String, _ arguments: String) -> String {
    #"{"jsonrpc":"2.0","id":"\#(id)","method":"tools/call","params":{"name":"\#(name)","arguments":\#(arguments)}}"#
}

/// Checks that `received` is `sent` with only the id and the tool's name rewritten, byte for byte.
func expectForwardedUnchanged(
    sent: String, received: String, exposedName: String, tool: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    guard let id = (try? JSONValue(parsing: received))?["id"]?.intValue,
        let agentID = (try? JSONValue(parsing: sent))?["id"]?.stringValue
    else {
        Issue.record("cannot read the ids of \(received) and \(sent)", sourceLocation: sourceLocation)
        return
    }
    let expected = sent.replacingOccurrences(of: #""id":"\#(agentID)""#, with: #""id":\#(id)"#)
        .replacingOccurrences(of: #""name":"\#(exposedName)""#, with: #""name":"\#(tool)""#)
    #expect(received == expected, sourceLocation: sourceLocation)
}

extension ShimProcess {
    /// Sends a raw line and returns the response whose id is `id`.
    func callRaw(_ line: String, id: String, timeout: Double = 20) -> JSONValue? {
        do { try client.send(line) } catch { return nil }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard let message = client.readMessage(timeout: deadline.timeIntervalSinceNow) else { return nil }
            if message["id"]?.stringValue == id && message["method"] == nil { return message }
        }
        return nil
    }

    /// The decision records so far (one per call judged), in order.
    func decisions() -> [JSONValue] {
        auditRecords().filter { $0["event"] == "call.decision" }
    }
}

/// The sentence of a tool result marked `isError: true`, or nil for anything else.
func refusal(_ response: JSONValue?) -> String? {
    guard let result = response?["result"], result["isError"] == true else { return nil }
    return result["content"]?[0]?["text"]?.stringValue
}

/// The text of a successful tool result (the fixture's echo tools answer with their raw arguments).
func resultText(_ response: JSONValue?) -> String? {
    guard let result = response?["result"], result["isError"] != true else { return nil }
    return result["content"]?[0]?["text"]?.stringValue
}

/// A persona value written as JSON text, so that rules read as they would in a persona file.
func json(_ text: String) throws -> JSONValue {
    try JSONValue(parsing: text)
}
