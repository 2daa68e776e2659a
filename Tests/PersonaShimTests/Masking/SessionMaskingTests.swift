import Foundation
import Testing

@testable import PersonaShim

/// Masking in the session core, on the paths the end-to-end fixture does not take: a server's own requests
/// (elicitation, sampling), a modern server's questions inside `input_required` (to both kinds of agent), a modern
/// agent's answers, prompts (messages masked, arguments checked), errors, monitor mode, and the absence of any of it
/// for a persona without masking.
@Suite struct SessionMaskingTests {
    typealias Eras = SessionCoreEraTests
    static let email = "jane.doe@example.com"
    static let key = "AKIAZ7Q3KX4M2LBN8WTR"

    static let persona = SessionCoreTests.twoServers.replacingOccurrences(
        of: #""timeouts""#,
        with: #""serverRequests": {"elicitation": true, "sampling": true}, "masking": {}, "timeouts""#)

    func legacy() throws -> CoreHarness {
        let harness = try CoreHarness(persona: Self.persona)
        _ = harness.initializeAgent(capabilities: #"{"elicitation":{},"sampling":{}}"#)
        try harness.bringUp(0, tools: ["echo"])
        try harness.bringUp(1, tools: ["read"])
        _ = harness.agentMessages()
        return harness
    }

    func maskedRecords(_ harness: CoreHarness) throws -> [[String: Any]] {
        try harness.auditRecords().filter { $0["event"] as? String == "response.masked" }
    }

    @Test func aServersElicitationAndSamplingReachTheAgentMasked() throws {
        let harness = try legacy()
        harness.server(
            0,
            #"{"jsonrpc":"2.0","id":5,"method":"elicitation/create","params":{"message":"Is \#(Self.email) yours?","requestedSchema":{"type":"object","properties":{}}}}"#
        )
        harness.server(
            0,
            #"{"jsonrpc":"2.0","id":6,"method":"sampling/createMessage","params":{"messages":[{"role":"user","content":{"type":"text","text":"Use key \#(Self.key)"}}],"systemPrompt":"mail \#(Self.email)","maxTokens":5}}"#
        )
        let relayed = harness.agentMessages()
        #expect(relayed.count == 2)
        let text = "\(relayed)"
        #expect(!text.contains("jane.doe") && !text.contains("AKIAZ7Q3"))
        let elicitation = (relayed[0]["params"] as? [String: Any])?["message"] as? String
        #expect(elicitation == #"[server "a" asks] Is [masked:email] yours?"#)
        let sampling = try #require(relayed[1]["params"] as? [String: Any])
        #expect(sampling["systemPrompt"] as? String == "mail [masked:email]")
        let records = try maskedRecords(harness)
        #expect(records.map { $0["method"] as? String } == ["elicitation/create", "sampling/createMessage"])
        #expect((records[1]["masked"] as? [String: Any])?["aws-access-key"] as? Int == 1)
        #expect(!"\(try harness.auditRecords())".contains("jane.doe"))
    }

    @Test func aModernServersQuestionsAreMaskedForEitherAgent() throws {
        let question =
            #"{"resultType":"input_required","inputRequests":{"who":{"method":"elicitation/create","params":{"message":"Is \#(Self.email) yours?","requestedSchema":{"type":"object"}}}},"requestState":"s-1"}"#
        // A legacy agent: the question becomes an elicitation request of the shim's.
        let legacy = try CoreHarness(persona: Self.persona)
        _ = legacy.initializeAgent(capabilities: #"{"elicitation":{}}"#)
        try legacy.bringUpModern(0, tools: ["echo"])
        try legacy.bringUp(1, tools: ["read"])
        _ = legacy.agentMessages()
        legacy.agent(#"{"jsonrpc":"2.0","id":"c1","method":"tools/call","params":{"name":"a__echo","arguments":{}}}"#)
        let id = try #require(legacy.serverMessages(0).first?["id"] as? Int)
        legacy.server(0, #"{"jsonrpc":"2.0","id":\#(id),"result":\#(question)}"#)
        let asked = try #require(legacy.agentMessages().first)
        #expect(
            (asked["params"] as? [String: Any])?["message"] as? String == #"[server "a" asks] Is [masked:email] yours?"#
        )
        // A modern agent: the input_required result itself.
        let modern = try CoreHarness(persona: Self.persona)
        modern.agent(Eras.request(1, "tools/list"))
        _ = modern.core.takeActions()
        try modern.bringUpModern(0, tools: ["echo"])
        try modern.bringUpModern(1, tools: ["read"])
        _ = modern.agentMessages()
        modern.agent(
            Eras.request(
                2, "tools/call", params: #""name":"a__echo","arguments":{}"#,
                meta: Eras.meta(capabilities: #"{"elicitation":{"form":{}}}"#)))
        let modernID = try #require(modern.serverMessages(0).first?["id"] as? Int)
        modern.server(0, #"{"jsonrpc":"2.0","id":\#(modernID),"result":\#(question)}"#)
        let result = try #require(modern.agentMessages().first?["result"] as? [String: Any])
        #expect(!"\(result)".contains("jane.doe"))
        #expect(result["resultType"] as? String == "input_required")
        // A complete answer to a modern agent: masked, and still marked complete.
        modern.agent(Eras.request(3, "tools/call", params: #""name":"a__echo","arguments":{}"#))
        let thirdID = try #require(modern.serverMessages(0).first?["id"] as? Int)
        modern.server(
            0,
            #"{"jsonrpc":"2.0","id":\#(thirdID),"result":{"resultType":"complete","content":[{"type":"text","text":"to \#(Self.email)"}]}}"#
        )
        let complete = try #require(modern.agentMessages().first?["result"] as? [String: Any])
        #expect(complete["resultType"] as? String == "complete")
        #expect("\(complete)".contains("to [masked:email]"))
    }

    @Test func errorsAreMaskedIncludingTheElicitationsAURLRequiredErrorNames() throws {
        let harness = try legacy()
        harness.agent(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a__echo","arguments":{}}}"#)
        let first = try #require(CoreHarness.id(of: harness.serverMessages(0), method: "tools/call"))
        harness.server(
            0,
            #"{"jsonrpc":"2.0","id":\#(first),"error":{"code":-32042,"message":"Sign in as \#(Self.email)","data":{"elicitations":[{"mode":"url","message":"Open for \#(Self.email)","url":"https://x.example/a","elicitationId":"e1"}]}}}"#
        )
        harness.agent(#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"a__echo","arguments":{}}}"#)
        let second = try #require(CoreHarness.id(of: harness.serverMessages(0), method: "tools/call"))
        harness.server(
            0,
            #"{"jsonrpc":"2.0","id":\#(second),"error":{"code":-32603,"message":"no card \#(Self.key)","data":{"who":"\#(Self.email)"}}}"#
        )
        let answers = harness.agentMessages()
        #expect(answers.count == 2, "\(answers)")
        #expect(!"\(answers)".contains("jane.doe") && !"\(answers)".contains("AKIAZ7Q3"))
        let required = try #require(answers[0]["error"] as? [String: Any])
        #expect(required["code"] as? Int == -32042 && required["message"] as? String == "Sign in as [masked:email]")
        let plain = try #require(answers[1]["error"] as? [String: Any])
        #expect(plain["code"] as? Int == -32603 && plain["message"] as? String == "no card [masked:aws-access-key]")
        #expect((plain["data"] as? [String: Any])?["who"] as? String == "[masked:email]")
    }

    @Test func promptMessagesAreMaskedAndPromptArgumentsCarryingSecretsRefused() throws {
        let harness = try CoreHarness(
            persona: Self.persona.replacingOccurrences(
                of: #""masking": {}"#, with: #""masking": {}, "prompts": {"allow": ["a__*"]}"#))
        _ = harness.initializeAgent()
        harness.core.serverStarted(0, pid: 1000, command: "/bin/fake-0")
        let initialize = try #require(harness.serverMessages(0).first)
        harness.server(
            0,
            #"{"jsonrpc":"2.0","id":\#(initialize["id"] as! Int),"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{},"prompts":{}},"serverInfo":{"name":"fake","version":"1"}}}"#
        )
        for message in harness.serverMessages(0) {
            guard let id = message["id"] as? Int else { continue }  // notifications/initialized
            let result =
                message["method"] as? String == "prompts/list"
                ? #"{"prompts":[{"name":"greet"}]}"# : #"{"tools":[{"name":"echo","inputSchema":{"type":"object"}}]}"#
            harness.server(0, #"{"jsonrpc":"2.0","id":\#(id),"result":\#(result)}"#)
        }
        try harness.bringUp(1, tools: ["read"])
        _ = harness.agentMessages()
        harness.agent(#"{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"a__greet","arguments":{}}}"#)
        let get = try #require(CoreHarness.id(of: harness.serverMessages(0), method: "prompts/get"))
        harness.server(
            0,
            #"{"jsonrpc":"2.0","id":\#(get),"result":{"messages":[{"role":"user","content":{"type":"text","text":"Write to \#(Self.email)"}}]}}"#
        )
        let answer = try #require(harness.agentMessages().first)
        #expect("\(answer)".contains("Write to [masked:email]") && !"\(answer)".contains("jane.doe"))
        harness.agent(
            #"{"jsonrpc":"2.0","id":2,"method":"prompts/get","params":{"name":"a__greet","arguments":{"k":"\#(Self.key)"}}}"#
        )
        #expect(harness.serverMessages(0).isEmpty, "a prompt request carrying a key never reaches the server")
        let refused = try #require(harness.agentMessages().first?["error"] as? [String: Any])
        #expect((refused["message"] as? String)?.contains("aws-access-key") == true)
    }

    @Test func monitorModeAuditsASecretAndLetsTheCallGo() throws {
        let harness = try CoreHarness(
            persona: Self.persona.replacingOccurrences(
                of: #""masking": {}"#, with: #""masking": {}, "mode": "monitor""#))
        _ = harness.initializeAgent()
        try harness.bringUp(0, tools: ["echo"])
        try harness.bringUp(1, tools: ["read"])
        _ = harness.agentMessages()
        harness.agent(
            #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a__echo","arguments":{"k":"\#(Self.key)"}}}"#
        )
        #expect(CoreHarness.id(of: harness.serverMessages(0), method: "tools/call") != nil, "monitor lets it through")
        let decision = try #require(
            try harness.auditRecords().first { $0["event"] as? String == "call.decision" })
        #expect(decision["decision"] as? String == "deny" && decision["rule"] as? String == "secrets.outbound")
        #expect(decision["enforced"] as? Bool == false)
        #expect((decision["reason"] as? String)?.contains("/k") == true)
    }

    @Test func withoutMaskingThereIsNoMaskingInTheSession() throws {
        let harness = try CoreHarness(persona: SessionCoreTests.twoServers)
        #expect(harness.core.masking == nil)
        let secretsOnly = try CoreHarness(
            persona: SessionCoreTests.twoServers.replacingOccurrences(
                of: #""timeouts""#, with: #""secrets": {"outbound": "deny"}, "timeouts""#))
        #expect(secretsOnly.core.masking?.policy.masksResponses == false)
    }
}
