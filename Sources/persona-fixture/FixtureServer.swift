// The fixture's request loop.
//
// Hot path (echo, blob, raw, tools/list, ping): requests are located with RawJSONScanner and answered from byte
// templates; nothing is parsed into values and the id is spliced in as raw bytes. Only initialize and error paths
// build ExampleJSON trees.

import Dispatch
import PersonaShimExamples

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The methods the fixture answers; everything else gets -32601.
private enum ServedMethod: CaseIterable {
    case toolsCall, toolsList, ping, initialize

    var name: StaticString {
        switch self {
        case .toolsCall: return "tools/call"
        case .toolsList: return "tools/list"
        case .ping: return "ping"
        case .initialize: return "initialize"
        }
    }
}

final class FixtureServer {
    private let options: FixtureOptions
    private let catalog: FixtureCatalog
    private let writer = StdioLineWriter()
    private let reader = StdioLineReader()
    private var initializeAnswered = false
    /// The id of the `ask` call waiting for the client's answer.
    private var pendingAsk: [UInt8]?
    /// The last blob result, reused while the size repeats (benchmarks ask for the same size over and over).
    private var blobCache: (size: Int, result: [UInt8])?
    private let garbage: [UInt8] = Array("this is not json {\n\n".utf8)
    /// Delayed `slow` answers still due; end of input waits for them so that every answerable request is answered.
    private let delayedResponses = DispatchGroup()

    private static let echoHead: [UInt8] = Array(#"{"content":[{"type":"text","text":""#.utf8)
    private static let echoTail: [UInt8] = Array(#""}]}"#.utf8)
    private static let emptyArguments: [UInt8] = Array("{}".utf8)
    private static let pingResult: [UInt8] = Array("{}".utf8)
    /// Byte-for-byte what the raw tool must produce; tests compare the forwarded bytes against it.
    static let rawResult: [UInt8] = Array(
        #"""
        {"content":[{"type":"text","text":"raw"}],"structuredContent":{"z":1.0,"a":1e400,\#
        "big":12345678901234567890,"neg":-0.0,"esc":"\u00e9\ud83d\ude00","m":{"y":[1.50,2E+3],"x":null}},\#
        "isError":false}
        """#.utf8)
    private static let failResult: [UInt8] = Array(
        #"{"content":[{"type":"text","text":"fixture failure as requested"}],"isError":true}"#.utf8)

    init(options: FixtureOptions) {
        self.options = options
        self.catalog = FixtureCatalog(options: options)
    }

    func run() -> Int32 {
        while reader.nextLine({ handle($0) }) != nil {
            // Hold responses back while more requests are already buffered; write them once input would block.
            if !reader.hasBufferedLine { writer.flush() }
        }
        writer.flush()
        delayedResponses.wait()
        return 0
    }

    // MARK: Dispatch

    private func handle(_ line: UnsafeBufferPointer<UInt8>) {
        let scanner = RawJSONScanner(line)
        var id: Range<Int>?
        var method: Range<Int>?
        var params: Range<Int>?
        var isResponse = false
        let wellShaped =
            scanner.topLevelValue().map { top in
                scanner.forEachMember(in: top) { key, value in
                    if scanner.contents(key, equal: "id") {
                        id = value
                    } else if scanner.contents(key, equal: "method") {
                        method = value
                    } else if scanner.contents(key, equal: "params") {
                        params = value
                    } else if scanner.contents(key, equal: "result") || scanner.contents(key, equal: "error") {
                        isResponse = true
                    }
                }
            } ?? false
        if options.stderrChatter { chatter(line, scanner: scanner, method: method) }
        if options.neverInitialize { return }
        guard wellShaped else {
            if scanner.skipWhitespace(from: 0) == line.count { return }
            respond(RawResponseFraming.errorLine(id: RawResponseFraming.nullID, code: -32700, message: "Parse error"))
            return
        }
        guard let id else { return }  // Notifications need no answer.
        let rawID = UnsafeBufferPointer(rebasing: line[id])
        if isResponse, let waiting = pendingAsk, scanner.string(id) == "fixture-ask" {
            pendingAsk = nil
            answerAsk(id: waiting, response: line)
            return
        }
        if let method, options.resources, let name = scanner.string(method), name.hasPrefix("resources/") {
            return serveResources(id: rawID, method: name, params: params, scanner: scanner)
        }
        guard let method, scanner.isString(method) else {
            if !isResponse {
                respond(RawResponseFraming.errorLine(id: rawID, code: -32600, message: "Invalid Request"))
            }
            return
        }
        if options.exitAfterInitialize && initializeAnswered {
            writer.flush()
            _exit(4)
        }
        switch Self.classify(method: method, scanner: scanner) {
        case .toolsCall:
            callTool(id: rawID, params: params, scanner: scanner)
        case .toolsList:
            if options.listDelayMilliseconds > 0 { usleep(UInt32(options.listDelayMilliseconds) * 1000) }
            listTools(id: rawID, params: params, scanner: scanner)
        case .ping:
            respond(RawResponseFraming.resultLine(id: rawID, result: Self.pingResult))
        case .initialize:
            let requested = params.flatMap { scanner.member("protocolVersion", in: $0) }.flatMap(scanner.string)
            var result = ExampleProtocol.initializeResult(
                requestedVersion: requested, serverName: options.name, serverVersion: "1.0.0")
            if options.resources {
                result = result.setting("capabilities", to: ["tools": [:], "resources": ["subscribe": true]])
            }
            respond(RawResponseFraming.resultLine(id: rawID, result: result.compactBytes))
            initializeAnswered = true
        case nil:
            let text = scanner.string(method) ?? "?"
            respond(RawResponseFraming.errorLine(id: rawID, code: -32601, message: "Method not found: \(text)"))
        }
    }

    /// The method name if it is one the fixture serves, else nil; compares raw bytes unless the name has escapes
    /// (some encoders write "tools\/call").
    private static func classify(method: Range<Int>, scanner: RawJSONScanner) -> ServedMethod? {
        let name = (method.lowerBound + 1)..<(method.upperBound - 1)
        if let match = ServedMethod.allCases.first(where: { scanner.contents(name, equal: $0.name) }) { return match }
        guard UnsafeBufferPointer(rebasing: scanner.bytes[name]).contains(UInt8(ascii: "\\")),
            let decoded = scanner.string(method)
        else { return nil }
        return ServedMethod.allCases.first { $0.name.description == decoded }
    }

    private func listTools(id: UnsafeBufferPointer<UInt8>, params: Range<Int>?, scanner: RawJSONScanner) {
        var page = 0
        if let params, let cursor = scanner.member("cursor", in: params), !scanner.contents(cursor, equal: "null") {
            guard let text = scanner.string(cursor), let index = catalog.cursors[text] else {
                respond(RawResponseFraming.errorLine(id: id, code: -32602, message: "Invalid cursor"))
                return
            }
            page = index
        }
        respondInParts(id: id, result: catalog.pages[page])
    }

    private func callTool(id: UnsafeBufferPointer<UInt8>, params: Range<Int>?, scanner: RawJSONScanner) {
        var nameRange: Range<Int>?
        var arguments: Range<Int>?
        if let params {
            _ = scanner.forEachMember(in: params) { key, value in
                if scanner.contents(key, equal: "name") {
                    nameRange = value
                } else if scanner.contents(key, equal: "arguments") {
                    arguments = value
                }
            }
        }
        guard let nameRange, let name = scanner.string(nameRange) else {
            let message = "tools/call requires a string params.name"
            respond(RawResponseFraming.errorLine(id: id, code: -32602, message: message))
            return
        }
        guard let behaviour = catalog.behaviours[name] else {
            respond(RawResponseFraming.errorLine(id: id, code: -32602, message: "Unknown tool: \(name)"))
            return
        }
        switch behaviour {
        case .echo:
            respond(echoLine(id: id, arguments: arguments, scanner: scanner))
        case .blob:
            guard let size = integerArgument("bytes", in: arguments, scanner: scanner) else {
                respond(RawResponseFraming.errorLine(id: id, code: -32602, message: "blob needs an integer bytes >= 0"))
                return
            }
            sendBlob(id: id, size: size)
        case .raw:
            respond(RawResponseFraming.resultLine(id: id, result: Self.rawResult))
        case .slow:
            guard let delay = integerArgument("ms", in: arguments, scanner: scanner) else {
                respond(RawResponseFraming.errorLine(id: id, code: -32602, message: "slow needs an integer ms >= 0"))
                return
            }
            let line = echoLine(id: id, arguments: arguments, scanner: scanner)
            let parts = options.garbage ? [garbage, line] : [line]
            delayedResponses.enter()
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(delay)) { [writer, delayedResponses] in
                writer.send(parts: parts, holdBack: false)
                delayedResponses.leave()
            }
        case .crash:
            writer.flush()
            _exit(5)
        case .fail:
            respond(RawResponseFraming.resultLine(id: id, result: Self.failResult))
        case .protocolError:
            respond(RawResponseFraming.errorLine(id: id, code: -32000, message: "fixture protocol error"))
        case .hang:
            break
        case .notify:
            let count = integerArgument("count", in: arguments, scanner: scanner) ?? 0
            let progress = arguments.flatMap { scanner.member("kind", in: $0) }.flatMap(scanner.string) == "progress"
            let token = params.flatMap { scanner.member("_meta", in: $0) }.flatMap {
                scanner.member("progressToken", in: $0)
            }
            for index in 0..<count {
                var note: [UInt8]
                if progress, let token {
                    note = Array(#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"#.utf8)
                    note.append(contentsOf: scanner.bytes[token])
                    note.append(contentsOf: #","progress":\#(index + 1),"total":\#(count)}}"#.utf8)
                } else {
                    note = Array(
                        #"{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","logger":"fixture","data":"note \#(index + 1)"}}"#
                            .utf8)
                }
                note.append(0x0A)
                writer.send(note, holdBack: true)
            }
            respond(echoLine(id: id, arguments: arguments, scanner: scanner))
        case .badUTF8:
            let note = Array(
                #"{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":""#.utf8)
            writer.send(note + [0xFF] + Array(#""}}"#.utf8) + [0x0A], holdBack: true)
            writer.send(note + Array(#"after"}}"#.utf8) + [0x0A], holdBack: true)
            respond(echoLine(id: id, arguments: arguments, scanner: scanner))
        case .ask:
            let method = arguments.flatMap { scanner.member("method", in: $0) }.flatMap(scanner.string) ?? "roots/list"
            // `_meta.fixture` names the asking server, so a test playing the client can tell the requests apart.
            let meta = #""_meta":{"fixture":"\#(options.name)"}"#
            let params: String
            switch method {
            case "sampling/createMessage":
                params =
                    #"{\#(meta),"messages":[{"role":"user","content":{"type":"text","text":"hello"}}],"maxTokens":10}"#
            case "elicitation/create":
                params =
                    #"{\#(meta),"mode":"form","message":"Your name?","requestedSchema":{"type":"object","properties":{"name":{"type":"string"}}}}"#
            default:
                params = "{\(meta)}"
            }
            pendingAsk = Array(id)
            writer.send(
                Array(#"{"jsonrpc":"2.0","id":"fixture-ask","method":"\#(method)","params":\#(params)}"#.utf8) + [0x0A],
                holdBack: false)
        }
    }

    // MARK: Speaking first

    /// Answers the `ask` call that was waiting with the client's raw response as text.
    private func answerAsk(id: [UInt8], response: UnsafeBufferPointer<UInt8>) {
        var line = RawResponseFraming.resultPrefix
        line.append(contentsOf: id)
        line.append(contentsOf: RawResponseFraming.resultInfix)
        line.append(contentsOf: Self.echoHead)
        RawJSONEscaping.appendEscaped(response, to: &line)
        line.append(contentsOf: Self.echoTail)
        line.append(contentsOf: RawResponseFraming.lineEnd)
        respond(line)
    }

    /// Two resources: `memo://shared`, the same URI on every fixture (to collide), and `memo://NAME`.
    private func serveResources(
        id: UnsafeBufferPointer<UInt8>, method: String, params: Range<Int>?, scanner: RawJSONScanner
    ) {
        let name = options.name
        switch method {
        case "resources/list":
            let result =
                #"{"resources":[{"uri":"memo://shared","name":"shared"},{"uri":"memo://\#(name)","name":"\#(name)"}]}"#
            respond(RawResponseFraming.resultLine(id: id, result: Array(result.utf8)))
        case "resources/templates/list":
            respond(RawResponseFraming.resultLine(id: id, result: Array(#"{"resourceTemplates":[]}"#.utf8)))
        case "resources/read":
            let uri = params.flatMap { scanner.member("uri", in: $0) }.flatMap(scanner.string) ?? ""
            guard uri == "memo://shared" || uri == "memo://\(name)" else {
                return respond(RawResponseFraming.errorLine(id: id, code: -32002, message: "Resource not found"))
            }
            let result = #"{"contents":[{"uri":"\#(uri)","mimeType":"text/plain","text":"\#(name) says hello"}]}"#
            respond(RawResponseFraming.resultLine(id: id, result: Array(result.utf8)))
        case "resources/subscribe", "resources/unsubscribe":
            respond(RawResponseFraming.resultLine(id: id, result: Self.pingResult))
        default:
            respond(RawResponseFraming.errorLine(id: id, code: -32601, message: "Method not found: \(method)"))
        }
    }

    // MARK: Responses

    private func respond(_ line: [UInt8]) {
        if options.garbage {
            writer.send(garbage, line, holdBack: true)
        } else {
            writer.send(line, holdBack: true)
        }
    }

    /// Sends a result in three parts, so that a large cached result (a 64 MiB blob, a tools/list page of thousands of
    /// tools) goes to write() as it is instead of being copied into one line first.
    private func respondInParts(id: UnsafeBufferPointer<UInt8>, result: [UInt8]) {
        var head = RawResponseFraming.resultPrefix
        head.append(contentsOf: id)
        head.append(contentsOf: RawResponseFraming.resultInfix)
        let line = [head, result, RawResponseFraming.lineEnd]
        writer.send(parts: options.garbage ? [garbage] + line : line, holdBack: true)
    }

    private func echoLine(id: UnsafeBufferPointer<UInt8>, arguments: Range<Int>?, scanner: RawJSONScanner) -> [UInt8] {
        let raw = arguments.map { UnsafeBufferPointer(rebasing: scanner.bytes[$0]) }
        var line: [UInt8] = []
        line.reserveCapacity(id.count + (raw?.count ?? 2) + 96)
        line.append(contentsOf: RawResponseFraming.resultPrefix)
        line.append(contentsOf: id)
        line.append(contentsOf: RawResponseFraming.resultInfix)
        line.append(contentsOf: Self.echoHead)
        if let raw {
            RawJSONEscaping.appendEscaped(raw, to: &line)
        } else {
            line.append(contentsOf: Self.emptyArguments)
        }
        line.append(contentsOf: Self.echoTail)
        line.append(contentsOf: RawResponseFraming.lineEnd)
        return line
    }

    private func sendBlob(id: UnsafeBufferPointer<UInt8>, size: Int) {
        let result: [UInt8]
        if let cached = blobCache, cached.size == size {
            result = cached.result
        } else {
            var bytes = Self.echoHead
            bytes.reserveCapacity(size + Self.echoHead.count + Self.echoTail.count)
            bytes.append(contentsOf: repeatElement(UInt8(ascii: "x"), count: size))
            bytes.append(contentsOf: Self.echoTail)
            result = bytes
            blobCache = (size, bytes)
        }
        respondInParts(id: id, result: result)
    }

    private func integerArgument(_ key: StaticString, in arguments: Range<Int>?, scanner: RawJSONScanner) -> Int? {
        guard let arguments, let value = scanner.member(key, in: arguments),
            let number = scanner.integer(value), number >= 0, number <= Int64(Int32.max)
        else { return nil }
        return Int(number)
    }

    private func chatter(_ line: UnsafeBufferPointer<UInt8>, scanner: RawJSONScanner, method: Range<Int>?) {
        let methodName = method.flatMap(scanner.string) ?? "(no method)"
        StdioIO.log("\(options.name): received \(methodName) (\(line.count) bytes)")
    }
}
