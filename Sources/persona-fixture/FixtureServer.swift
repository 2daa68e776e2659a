// The fixture's request loop.
//
// Hot path (echo, blob, raw, tools/list, ping): each line is scanned once with MCPWire's envelope scan, which locates
// the id and the params members the fixture reads without building values; answers are spliced from byte templates
// with the id as the client wrote it. Only initialize and error paths build JSONValue trees.

import Dispatch
import MCPWire
import PersonaShimExamples
import Platform

final class FixtureServer {
    let options: FixtureOptions
    private let catalog: FixtureCatalog
    let writer = StdioLineWriter()
    private let reader = StdioLineReader()
    private var initializeAnswered = false
    /// The method being answered, in `--era modern` (its results carry what that era asks of them).
    var modernMethod: String?
    /// The id of the `ask` call waiting for the client's answer.
    private var pendingAsk: [UInt8]?
    private lazy var hostile = FixtureHostile(writer: writer)
    /// The last blob result, reused while the size repeats (benchmarks ask for the same size over and over).
    private var blobCache: (size: Int, result: [UInt8])?
    /// Deliberately not JSON (the only bytes the fixture writes by hand): `--garbage` puts it before every answer, so
    /// tests see a server that mixes junk and blank lines into its output.
    private let garbage: [UInt8] = Array("this is not json {\n\n".utf8)
    /// Delayed `slow` answers still due; end of input waits for them so that every answerable request is answered.
    private let delayedResponses = DispatchGroup()
    private let recorder: FixtureRecorder?

    /// A text content block is `echoHead`, the text as a JSON string, then `echoTail`.
    private static let echoHead: [UInt8] = Array(#"{"content":[{"type":"text","text":"#.utf8)
    private static let echoTail: [UInt8] = Array(#"}]}"#.utf8)
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
        self.recorder = options.recordPath.map(FixtureRecorder.init(path:))
    }

    func run() -> Int32 {
        while let line = reader.nextLine() {
            recorder?.record(reader.bytes, line)
            handle(reader.bytes, line)
            // Hold responses back while more requests are already buffered; write them once input would block.
            if !reader.hasBufferedLine { writer.flush() }
        }
        writer.flush()
        delayedResponses.wait()
        return 0
    }

    // MARK: Dispatch

    private func handle(_ bytes: UnsafeRawBufferPointer, _ line: Range<Int>) {
        let envelope: MessageEnvelope
        do {
            envelope = try MessageEnvelope.scan(bytes, range: line)
        } catch {
            if options.stderrChatter { chatter(line, method: nil) }
            if options.neverInitialize || StdioIO.isBlank(bytes, line) { return }
            respond(Message.error(id: error.id.map { bytes[$0] }, code: error.code, message: error.message))
            return
        }
        if options.stderrChatter { chatter(line, method: envelope.method) }
        if options.neverInitialize { return }
        guard let idRange = envelope.id else { return }  // Notifications need no answer.
        let id = bytes[idRange]
        guard let method = envelope.method else {
            if hostile.takeAnswer(id: id, response: bytes[line]) { return }
            if let waiting = pendingAsk, id.elementsEqual(#""fixture-ask""#.utf8) {
                pendingAsk = nil
                answerAsk(id: waiting, response: bytes[line])
            }
            return
        }
        let request = Request(bytes: bytes, params: envelope.params, members: envelope.requestParams)
        if options.modern {
            modernMethod = method
            guard admitModern(id: id, method: method, request: request) else { return }
        }
        if options.resources, method.hasPrefix("resources/") {
            return serveResources(id: id, method: method, request: request)
        }
        if options.exitAfterInitialize && initializeAnswered {
            writer.flush()
            _exit(4)
        }
        switch method {
        case "tools/call":
            callTool(id: id, request: request)
        case "tools/list":
            if options.listDelayMilliseconds > 0 { usleep(UInt32(options.listDelayMilliseconds) * 1000) }
            listTools(id: id, request: request)
        case "ping":
            respondInParts(id: id, result: Self.pingResult)
        case "initialize":
            let requested = request.member("protocolVersion", of: request.params).flatMap(request.string)
            var result = ExampleProtocol.initializeResult(
                requestedVersion: requested, serverName: options.name, serverVersion: "1.0.0")
            if options.resources {
                result = result.setting("capabilities", to: ["tools": [:], "resources": ["subscribe": true]])
            }
            respond(Message.response(id: id, result: result))
            initializeAnswered = true
        default:
            respond(error(id: id, JSONRPCError.methodNotFound, "Method not found: \(method)"))
        }
    }

    private func listTools(id: Slice<UnsafeRawBufferPointer>, request: Request) {
        var page = 0
        if let cursor = request.members.cursor, !request.bytes[cursor].elementsEqual("null".utf8) {
            guard let text = request.string(cursor), let index = catalog.cursors[text] else {
                respond(error(id: id, JSONRPCError.invalidParams, "Invalid cursor"))
                return
            }
            page = index
        }
        respondInParts(id: id, result: catalog.pages[page])
    }

    private func callTool(id: Slice<UnsafeRawBufferPointer>, request: Request) {
        let arguments = request.members.arguments
        guard let name = request.members.name.flatMap(request.string) else {
            respond(error(id: id, JSONRPCError.invalidParams, "tools/call requires a string params.name"))
            return
        }
        guard let behaviour = catalog.behaviours[name] else {
            respond(error(id: id, JSONRPCError.invalidParams, "Unknown tool: \(name)"))
            return
        }
        switch behaviour {
        case .echo:
            respond(echoLine(id: id, request: request))
        case .blob:
            guard let size = request.count("bytes") else {
                respond(error(id: id, JSONRPCError.invalidParams, "blob needs an integer bytes >= 0"))
                return
            }
            sendBlob(id: id, size: size)
        case .raw:
            respondInParts(id: id, result: Self.rawResult)
        case .slow:
            guard let delay = request.count("ms") else {
                respond(error(id: id, JSONRPCError.invalidParams, "slow needs an integer ms >= 0"))
                return
            }
            let line = echoLine(id: id, request: request)
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
            respondInParts(id: id, result: Self.failResult)
        case .readFile:
            let path = request.member("path", of: arguments).flatMap(request.string)
            if let failure = FixturePolicyTools.missingFileResult(path: path) {
                respondInParts(id: id, result: failure)
            } else {
                respond(echoLine(id: id, request: request))
            }
        case .protocolError:
            respond(error(id: id, JSONRPCError.requestFailed, "fixture protocol error"))
        case .hang:
            break
        case .leak:
            leak(name, id: Array(id), request: request)
        case .misbehave:
            hostile.call(
                name, id: Array(id), arguments: arguments.flatMap { try? JSONValue.parse(request.bytes, range: $0) })
        case .notify:
            let count = request.count("count") ?? 0
            let progress = request.member("kind", of: arguments).flatMap(request.string) == "progress"
            for index in 0..<count {
                var note: [UInt8]
                if progress, let token = request.members.progressToken {
                    note = Array(#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"#.utf8)
                    note.append(contentsOf: request.bytes[token])
                    note.append(contentsOf: #","progress":\#(index + 1),"total":\#(count)}}"#.utf8)
                } else {
                    note = Array(
                        #"{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","logger":"fixture","data":"note \#(index + 1)"}}"#
                            .utf8)
                }
                note.append(0x0A)
                writer.send(note, holdBack: true)
            }
            respond(echoLine(id: id, request: request))
        case .badUTF8:
            let note = Array(
                #"{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":""#.utf8)
            writer.send(note + [0xFF] + Array(#""}}"#.utf8) + [0x0A], holdBack: true)
            writer.send(note + Array(#"after"}}"#.utf8) + [0x0A], holdBack: true)
            respond(echoLine(id: id, request: request))
        case .ask:
            let method = request.member("method", of: arguments).flatMap(request.string) ?? "roots/list"
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
    private func answerAsk(id: [UInt8], response: Slice<UnsafeRawBufferPointer>) {
        var line = Message.responseHead(id: id)
        line.append(contentsOf: Self.echoHead)
        JSONWriter.appendString(String(decoding: response, as: UTF8.self), to: &line)
        line.append(contentsOf: Self.echoTail)
        line.append(contentsOf: Message.responseTail)
        respond(line)
    }

    /// Two resources: `memo://shared`, the same URI on every fixture (to collide), and `memo://NAME`.
    private func serveResources(id: Slice<UnsafeRawBufferPointer>, method: String, request: Request) {
        let name = options.name
        switch method {
        case "resources/list":
            let result =
                #"{"resources":[{"uri":"memo://shared","name":"shared"},{"uri":"memo://\#(name)","name":"\#(name)"}]}"#
            respondInParts(id: id, result: Array(result.utf8))
        case "resources/templates/list":
            respondInParts(id: id, result: Array(#"{"resourceTemplates":[]}"#.utf8))
        case "resources/read":
            let uri = request.members.uri.flatMap(request.string) ?? ""
            if uri == FixtureMaskingTools.resourceURI {
                return respond(FixtureMaskingTools.resourceAnswer(id: Array(id)))
            }
            guard uri == "memo://shared" || uri == "memo://\(name)" else {
                return respond(error(id: id, JSONRPCError.resourceNotFound, "Resource not found"))
            }
            let result = #"{"contents":[{"uri":"\#(uri)","mimeType":"text/plain","text":"\#(name) says hello"}]}"#
            respondInParts(id: id, result: Array(result.utf8))
        case "resources/subscribe", "resources/unsubscribe":
            respondInParts(id: id, result: Self.pingResult)
        default:
            respond(error(id: id, JSONRPCError.methodNotFound, "Method not found: \(method)"))
        }
    }

    // MARK: Responses

    func respond(_ line: [UInt8]) {
        let line = options.modern ? markModern(line) : line
        if options.garbage {
            writer.send(garbage, line, holdBack: true)
        } else {
            writer.send(line, holdBack: true)
        }
    }

    func error(id: Slice<UnsafeRawBufferPointer>, _ code: Int, _ message: String) -> [UInt8] {
        Message.error(id: id, code: code, message: message)
    }

    /// Sends a serialised result in three parts, so that a large cached result (a 64 MiB blob, a tools/list page of
    /// thousands of tools) goes to write() as it is instead of being copied into one line first.
    private func respondInParts(id: Slice<UnsafeRawBufferPointer>, result: [UInt8]) {
        let result = options.modern ? markModern(result: result) : result
        let line = [Message.responseHead(id: id), result, Message.responseTail]
        writer.send(parts: options.garbage ? [garbage] + line : line, holdBack: true)
    }

    /// A text block holding the raw JSON text of the arguments (`{}` without any).
    private func echoLine(id: Slice<UnsafeRawBufferPointer>, request: Request) -> [UInt8] {
        let raw = request.members.arguments.map { request.bytes[$0] }
        var line = Message.responseHead(id: id)
        line.reserveCapacity(line.count + (raw?.count ?? 2) + 64)
        line.append(contentsOf: Self.echoHead)
        JSONWriter.appendString(raw.map { String(decoding: $0, as: UTF8.self) } ?? "{}", to: &line)
        line.append(contentsOf: Self.echoTail)
        line.append(contentsOf: Message.responseTail)
        return line
    }

    private func sendBlob(id: Slice<UnsafeRawBufferPointer>, size: Int) {
        let result: [UInt8]
        if let cached = blobCache, cached.size == size {
            result = cached.result
        } else {
            var bytes = Self.echoHead
            bytes.reserveCapacity(size + Self.echoHead.count + Self.echoTail.count + 2)
            bytes.append(UInt8(ascii: "\""))
            bytes.append(contentsOf: repeatElement(UInt8(ascii: "x"), count: size))
            if options.blobSecrets { FixtureMaskingTools.plantEveryKiB(&bytes, from: bytes.count - size) }
            bytes.append(UInt8(ascii: "\""))
            bytes.append(contentsOf: Self.echoTail)
            result = bytes
            blobCache = (size, bytes)
        }
        respondInParts(id: id, result: result)
    }

    private func chatter(_ line: Range<Int>, method: String?) {
        StdioIO.log("\(options.name): received \(method ?? "(no method)") (\(line.count) bytes)")
    }
}

/// What a request's envelope scan found, read on demand: the members of `params` MCP defines were located by the
/// scan; the fixture's own arguments are looked up when a behaviour needs them.
struct Request {
    let bytes: UnsafeRawBufferPointer
    let params: Range<Int>?
    let members: RequestParams

    /// The value of member `key` of the object at `object`.
    func member(_ key: String, of object: Range<Int>?) -> Range<Int>? {
        guard let object else { return nil }
        return MessageEnvelope.members(bytes, object: object, named: [key])[0]
    }

    /// The text of the string at `range`, escapes resolved; nil for other values.
    func string(_ range: Range<Int>) -> String? {
        guard bytes[range.lowerBound] == UInt8(ascii: "\"") else { return nil }
        var reader = JSONReader(bytes, range: range)
        return try? reader.parseString()
    }

    /// The argument `key` when it is an integer from 0 to Int32.max.
    func count(_ key: String) -> Int? {
        guard let value = member(key, of: members.arguments), let number = JSONReader.integer(bytes, value),
            number >= 0, number <= Int(Int32.max)
        else { return nil }
        return number
    }
}
