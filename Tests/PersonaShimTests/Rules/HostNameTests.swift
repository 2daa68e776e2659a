import Testing

@testable import PersonaShim

@Suite struct HostNameTests {
    @Test(arguments: [
        ("https://Example.COM./path", "example.com"), ("https://good.com@evil.com/", "evil.com"),
        ("https://user:pass@good.com:443@evil.com", "evil.com"), ("http://0x7f.1", "127.0.0.1"),
        ("http://2130706433/", "127.0.0.1"), ("http://0177.0.0.1", "127.0.0.1"), ("127.1", "127.0.0.1"),
        ("http://[::ffff:127.0.0.1]:8080/", "127.0.0.1"), ("http://[::ffff:7f00:1]/", "127.0.0.1"),
        ("[2001:DB8:0:0:0:0:0:1]", "2001:db8::1"), ("//evil.com/x", "evil.com"), ("example.com:8080", "example.com"),
        ("https://bücher.example/", "xn--bcher-kva.example"), ("münchen.de", "xn--mnchen-3ya.de"),
        ("http://%65vil.com/", "evil.com"), ("ftp://host?x=@other", "host"), ("https://ex.com#@evil.com", "ex.com"),
        ("https://\u{212A}elvin.com", "kelvin.com"), ("例え。テスト", "xn--r8jz45g.xn--zckzah"),
        ("http://0x7F000001", "127.0.0.1"), ("http://127.0.0.1.", "127.0.0.1"), ("localhost:8080/x", "localhost"),
        ("HTTPS://[::1]:443/", "::1"), ("http://[0:0:0:0:0:0:0:1]", "::1"), ("http://[::ffff:127.0.0.1]", "127.0.0.1"),
    ])
    func normalises(_ input: String, _ expected: String) throws {
        #expect(try HostName(url: input).text == expected)
    }

    @Test(arguments: [
        "https://evil.com\\@good.com", "http://256.0.0.1", "http://1.2.3.4.5", "http://0x1g.1", "http://[::1%eth0]/",
        "http://", "http://a..b/", "http://e\u{0301}.com", "http://ｅｖｉｌ.com", "http://a b.com", "http://%zz.com",
        "http://evil%5c.com", "http://[1::2::3]/", "http://[::ffff:1.2.3]/", "http://exa\u{200B}mple.com",
        "https:/evil.com", "https:evil.com", "https:///evil.com", "mailto:someone@evil.com",
        "http://good.com%40evil.com",
        "http://ev\til.com",
    ])
    func refusesWhatItCannotReadSafely(_ input: String) {
        #expect(throws: HostName.Failure.self) { try HostName(url: input) }
    }

    @Test func punycodeMatchesRFC3492Samples() {
        #expect(Punycode.encode(Array("bücher".unicodeScalars)) == "bcher-kva")
        #expect(Punycode.encode(Array("ü".unicodeScalars)) == "tda")
        // RFC 3492 7.1 (B): Chinese (simplified).
        #expect(Punycode.encode(Array("他们为什么不说中文".unicodeScalars)) == "ihqwcrb4cv8a8dqg056pqjye")
        // RFC 3492 7.1 (L): mixed ASCII and Japanese.
        #expect(Punycode.encode(Array("3年B組金八先生".unicodeScalars)) == "3B-ww4c5e180e575a65lsy2b")
    }

    @Test func patterns() throws {
        let scope = HostScope(
            allow: [try .init("*.example.com"), try .init("api.partner.io"), try .init("127.0.0.1")],
            deny: [try .init("secret.example.com")])
        #expect(scope.violation(try HostName(url: "https://a.example.com")) == nil)
        #expect(scope.violation(try HostName(url: "https://A.B.EXAMPLE.COM.")) == nil)
        #expect(scope.violation(try HostName(url: "https://example.com")) != nil)
        #expect(scope.violation(try HostName(url: "https://evilexample.com")) != nil)
        #expect(scope.violation(try HostName(url: "https://secret.example.com")) != nil)
        #expect(scope.violation(try HostName(url: "https://api.partner.io.evil.com")) != nil)
        #expect(scope.violation(try HostName(url: "http://0x7f.1/")) == nil)
        let denyLocal = HostScope(allow: [], deny: [try .init("127.0.0.1"), try .init("*.internal")])
        #expect(denyLocal.violation(try HostName(url: "http://[::ffff:127.0.0.1]/")) != nil)
        #expect(denyLocal.violation(try HostName(url: "http://2130706433")) != nil)
        #expect(denyLocal.violation(try HostName(url: "http://db.INTERNAL.")) != nil)
        #expect(denyLocal.violation(try HostName(url: "http://example.org")) == nil)
    }
}
