import Foundation
import Testing

@testable import PersonaShim

/// A server's own requests that cannot be used: their ids are from the server's numbering, so they settle nothing
/// the shim asked, even when the numbers match one of its pending requests.
@Suite struct ServerRequestFaultTests {
    func pendingCall() throws -> (CoreHarness, Int) {
        let harness = try SessionCoreHostileTests().ready()
        harness.agent(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a__echo","arguments":{}}}"#)
        let id = try #require(CoreHarness.id(of: harness.serverMessages(0), method: "tools/call"))
        return (harness, id)
    }

    @Test(arguments: [
        #"{"id":ID,"method":"ping"}"#,
        #"{"jsonrpc":"1.0","id":ID,"method":"roots/list"}"#,
        #"{"jsonrpc":"2.0","id":ID,"method":"sampling/createMessage","params":{"messages":[unterminated"#,
    ])
    func aMalformedRequestWithTheIdOfAPendingCallLeavesThatCallPending(_ line: String) throws {
        let (harness, id) = try pendingCall()
        harness.server(0, line.replacingOccurrences(of: "ID", with: String(id)))
        #expect(harness.agentMessages().isEmpty)
        #expect(harness.serverMessages(0).map(\.errorCode) == [JSONRPCError.invalidRequest])
        harness.server(0, #"{"jsonrpc":"2.0","id":\#(id),"result":{"content":[]}}"#)
        #expect(harness.agentMessages().first?["id"] as? Int == 1)
    }

    @Test func anOversizedRequestNeitherSettlesACallNorRestartsTheServer() throws {
        let (harness, id) = try pendingCall()
        let prefix = Array(#"{"jsonrpc":"2.0","id":\#(id),"method":"sampling/createMessage","params":{"x":"xxx"#.utf8)
        harness.core.serverLineTooLong(0, bytes: 300_000_000, prefix: prefix)
        #expect(harness.agentMessages().isEmpty)
        #expect(harness.core.takeActions().isEmpty)
        #expect(harness.serverMessages(0).map(\.errorCode) == [JSONRPCError.invalidRequest])
    }
}
