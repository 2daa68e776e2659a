// JSON-RPC lines as the client writes and reads them.

import MCPWire
import PersonaShim
import Platform

/// A tools/call request with everything but the id prebuilt, so that each call costs one small copy.
struct CallTemplate: Sendable {
    private let tail: [UInt8]

    /// `arguments` is the raw JSON text of the arguments object.
    init(tool: String, arguments: String, meta: String? = nil) {
        var tail = Array(#","method":"tools/call","params":{"name":"#.utf8)
        JSONWriter.appendString(tool, to: &tail)
        tail += Array(#","arguments":"#.utf8) + Array(arguments.utf8)
        if let meta { tail += Array(#","_meta":"#.utf8) + Array(meta.utf8) }
        tail += Array("}}\n".utf8)
        self.tail = tail
    }

    /// Replaces `buffer` with the request line for `id`.
    func write(id: Int, into buffer: inout [UInt8]) {
        buffer.removeAll(keepingCapacity: true)
        buffer += Wire.requestHead
        Wire.appendDecimal(id, to: &buffer)
        buffer += tail
    }
}

/// How the client writes requests and recognises answers.
enum Wire {
    static let requestHead = Array(#"{"jsonrpc":"2.0","id":"#.utf8)
    private static let resultMarker = Array(#","result":"#.utf8)

    /// What a line from the server turned out to be.
    enum Reply: Equatable {
        /// A result for the request with this id.
        case result(Int)
        /// A notification (or a request to the client), which the measured exchanges ignore.
        case other
    }

    /// A request line for a method with raw JSON `params`.
    static func request(id: Int, method: String, params: String? = nil) -> [UInt8] {
        var line = requestHead
        appendDecimal(id, to: &line)
        line += Array(#","method":"#.utf8)
        JSONWriter.appendString(method, to: &line)
        if let params { line += Array(#","params":"#.utf8) + Array(params.utf8) }
        line += Array("}\n".utf8)
        return line
    }

    static func notification(method: String) -> [UInt8] {
        Array(#"{"jsonrpc":"2.0","method":""#.utf8) + Array(method.utf8) + Array("\"}\n".utf8)
    }

    /// Appends a non-negative integer in decimal.
    static func appendDecimal(_ value: Int, to buffer: inout [UInt8]) {
        var divisor = 1
        while divisor <= value / 10 { divisor *= 10 }
        var rest = value
        repeat {
            buffer.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        } while divisor > 0
    }

    /// Classifies a line: the usual layout `{"jsonrpc":"2.0","id":N,"result":` is recognised by comparing bytes;
    /// anything else is parsed. Throws for error answers and lines that are not JSON-RPC.
    static func classify(_ line: UnsafeRawBufferPointer) throws(BenchFailure) -> Reply {
        if let id = fastResultID(line) { return .result(id) }
        let message: JSONValue
        do {
            message = try JSONValue.parse(line)
        } catch {
            throw BenchFailure("a line that is not JSON: \(preview(line))")
        }
        if let error = message["error"] {
            let text = error["message"]?.stringValue ?? JSONWriter.string(error)
            throw BenchFailure(
                "an error answer to request \(message["id"].map { JSONWriter.string($0) } ?? "?"): \(text)")
        }
        if message["result"] != nil, let id = message["id"]?.intValue { return .result(id) }
        if message["method"] != nil { return .other }
        throw BenchFailure("a line that is not a JSON-RPC message: \(preview(line))")
    }

    private static func fastResultID(_ line: UnsafeRawBufferPointer) -> Int? {
        let head = requestHead.count
        guard line.count > head + resultMarker.count + 1,
            requestHead.withUnsafeBytes({ memcmp(line.baseAddress!, $0.baseAddress!, head) == 0 })
        else { return nil }
        var index = head
        var id = 0
        let digitsEnd = min(line.count, head + 18)
        while index < digitsEnd, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(line[index]) {
            id = id * 10 + Int(line[index] - UInt8(ascii: "0"))
            index += 1
        }
        guard index > head, line.count - index > resultMarker.count,
            resultMarker.withUnsafeBytes({ memcmp(line.baseAddress! + index, $0.baseAddress!, $0.count) == 0 })
        else { return nil }
        return id
    }

    /// Checks the first answer of a kind completely: a result that is not a tool error, with content.
    static func validateToolResult(_ line: UnsafeRawBufferPointer, what: String) throws(BenchFailure) {
        let message: JSONValue
        do {
            message = try JSONValue.parse(line)
        } catch {
            throw BenchFailure("\(what): the answer is not JSON: \(preview(line))")
        }
        guard let result = message["result"] else {
            throw BenchFailure("\(what): the answer has no result: \(preview(line))")
        }
        if result["isError"]?.boolValue == true || result["content"]?.arrayValue?.isEmpty != false {
            throw BenchFailure("\(what): the tool did not succeed: \(preview(line))")
        }
    }

    /// The start of a line, for messages.
    static func preview(_ line: UnsafeRawBufferPointer) -> String {
        let text = String(decoding: line.prefix(240), as: UTF8.self)
        return line.count > 240 ? text + "… (\(line.count) bytes)" : text
    }
}
