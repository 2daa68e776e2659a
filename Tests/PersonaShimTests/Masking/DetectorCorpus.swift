/// Realistic text with planted values, each written `⟦detector:value⟧`; everything else is text that must not
/// match, including near-misses for every detector.
enum DetectorCorpus {
    static let supportThread = """
        From: Jürgen Müller <⟦email:juergen.mueller@example.de⟧>
        To: ⟦email:help.desk@acme-support.co.uk⟧ — ticket #48213, order ORD-2024-000123
        Date: 2024-01-15 10:30:45 +0100

        Hi team, my card ⟦card:4111 1111 1111 1111⟧ was charged twice (order 0012345678, amount 1,234.56 EUR).
        The second card ⟦card:5555-5555-5555-4444⟧ is fine. My old Amex ⟦card:378282246310005⟧ expired 03/27.
        I mistyped it once as 4111 1111 1111 1112 and once as 1234 5678 9012 3456, neither went through.
        Please refund to ⟦iban:GB82 WEST 1234 5698 7654 32⟧ (not GB82 WEST 1234 5698 7654 33, that was a typo) or
        to my German account ⟦iban:DE89370400440532013000⟧. DE89370400440532013001 is wrong, I know.
        Call me on ⟦phone:+44 20 7946 0958⟧ or ⟦phone:(415) 555-2671⟧, office ⟦phone:020 7946 0958⟧, mobile
        ⟦phone:+4915112345678⟧, Paris ⟦phone:06 12 34 56 78⟧. Not 2024-01-15 10:30, not 01-15-2024 10:30.
        My SSN for the tax form: ⟦us-ssn:123-45-6789⟧ (the form rejected 666-12-3456, 000-12-3456 and 912-34-5678,
        also 123-00-4567 and 123-45-0000). Version 10.0.19041.1234, build 1.2.3, IP 192.168.1.10, 3.14159265358979.
        I reset my password: it still fails. The bearer of bad news was bearer authentication, sorry.
        Thanks, Jürgen (@jmueller on the forum, x@y in the old system, root@localhost on my box)
        """

    static let logExcerpt = """
        2024-01-15T10:30:00.123Z INFO  request id=123e4567-e89b-12d3-a456-426614174000 user=⟦email:ops+alerts@corp.example.com⟧
        2024-01-15T10:30:00.456Z DEBUG Authorization: Bearer ⟦credential:9f8e7d6c5b4a39281706f5e4d3c2b1a0⟧
        2024-01-15T10:30:00.789Z DEBUG Authorization: Bearer ⟦jwt:eyJhbGciOiAiUlMyNTYiLCAidHlwIjogIkpXVCJ9.eyJzdWIiOiAiNDIiLCAiZXhwIjogMTc2NzIyNTYwMH0.lDCnr88OXiUpRIv69mTf5ObhWzFnTvJ2gwi2R9y3t1M⟧
        2024-01-15T10:30:01.001Z WARN  kid-only token eyJ0eXAiOiAiSldUIiwgImtpZCI6ICJrMSJ9.eyJzdWIiOiAiNDIiLCAiZXhwIjogMTc2NzIyNTYwMH0.FLBvpGFhAsBYGoDDbzNeJECQrDgJxa1J-5Eg_t6AHzN rejected
        2024-01-15T10:30:01.002Z INFO  connect postgres://app:⟦credential:s3cr3t-Pa55⟧@db.internal:5432/app?password=⟦credential:s3cr3t-Pa55⟧&sslmode=require
        2024-01-15T10:30:01.003Z INFO  epoch_ms=1700000000000 duration_ms=1234 retries=3 pid=48213 port=8080
        2024-01-15T10:30:01.004Z ERROR upstream refused key ⟦aws-access-key:AKIAYGX6NWV7TDL5IR6T⟧ (also tried AKIAYGX6NWV7TDL5IR6 and xAKIAYGX6NWV7TDL5IR6T)
        2024-01-15T10:30:01.005Z INFO  session key ⟦aws-access-key:ASIADJDBT7XSXLIBNEIO⟧ expires 2024-01-15T11:30:01Z
        2024-01-15T10:30:01.006Z INFO  token_type=bearer expires_in=3600 scope="read write" max_tokens=4096
        2024-01-15T10:30:01.007Z DEBUG slack notify with ⟦slack-token:xoxb-230348423395-4508928357636-IJX6uF68NcpP7BEXvfqZgimd⟧ ok
        """

    static let codeSnippet = """
        import Testing
        @testable import PersonaShim

        @Suite struct BillingTests {
            @Test @MainActor func charges() async throws {
                let client = StripeClient(key: "⟦stripe-key:sk_live_S7jnqFCiI5ydYgqTxIBAiCof⟧")
                let restricted = "⟦stripe-key:rk_test_jZUljbQ6oP3Q0w7MQ0JTcKAD⟧"  // sk_live_short is not a key
                let github = "⟦github-token:ghp_gNSWPH8prVqsUeQCtDR3zzX6hqo35uwZqxZO⟧", oauth = "⟦github-token:gho_OHjkJQQrkaPehMvbfrn2yzL7C5Mg3PR4hLLO⟧"
                let fineGrained = "⟦github-token: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⟧"
                let tooShort = "ghp_gNSWPH8prVqsUeQCtDR3zzX6hqo35uwZqxZ"  // 35 characters
                let gitlab = "⟦gitlab-token:glpat-HTMyf8GmXmeyNdaKTGoe⟧"
                let openai = "⟦openai-key:sk-proj-I8PjUhmi2ogviaNfrWta57_cLkIFKaEaTopYW5LSQdGrKNB4di4RX2G1zdW8FXpC⟧"
                let legacy = "⟦openai-key: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⟧"
                let password = try readPassword()
                if password == expected && count >= 3 { print("scikit-learn sk-learn ok, user@host, a@b") }
                let retina = UIImage(named: "icon@2x.png"), pkg = "lodash@4.17.21"
                let adminPassword = "⟦credential:Tr0ub4dor&3⟧"
                // git@github.com:persona/shim.git and ssh://git@github.com/persona/shim.git
            }
        }

        @app.route("/users/<id>")
        def user(id): return {"email": "⟦email:first.last@example.org⟧", "since": "2024-01-15"}
        """

    static let configFile = """
        # app.env — deployed 2024-01-15
        DATABASE_URL=postgres://db.internal:5432/app
        DB_PASSWORD=⟦credential:Zq9!xL2#vB7m⟧
        DB_PASSWORD_FILE=/run/secrets/db
        API_KEY=${API_KEY}
        SECRET=⟦credential:e5f1c2d9a7b3⟧
        PWD=/home/app
        aws_access_key_id = ⟦aws-access-key:AKIAYGX6NWV7TDL5IR6T⟧
        aws_secret_access_key = ⟦aws-secret-key:NZ8SwSFTQ3obfNIvMzzoCXK4oXo4jEhAWykqU9pk⟧
        spring.datasource.password=⟦credential:hunter2hunter2⟧
        feature.secret_sauce.enabled=true
        support_phone=⟦phone:+1-800-555-0199⟧
        version=1.24.3
        timeout: 30s
        tls_key: |
          ⟦private-key:-----BEGIN RSA PRIVATE KEY-----
          MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi+Z3b1bS2UiJ8H2RJfGP1HpA0z
          p/Zd9P2OLPibRiFuy4G4/XXaZEjKlA916QUW8HXJUxcqLp/+hD8cgr0wzwXfALqf
          -----END RSA PRIVATE KEY-----⟧
        tls_cert: |
          -----BEGIN CERTIFICATE-----
          MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJ
          -----END CERTIFICATE-----
        """

    static let jsonBlob = """
        {"customer":{"id":"cus_0012345678","name":"Ada Lovelace","email":"⟦email:ada@analytical.engine.io⟧",
        "phone":"⟦phone:+1 415 555 2671⟧","iban":"⟦iban:FR1420041010050500013M02606⟧","card":{"number":"⟦card:6011111111111117⟧",
        "last4":"1117","exp":"12/29"},"ssn":"⟦us-ssn:078-05-1120⟧","created":"2024-01-15T10:30:00Z","uuid":"9b2d7f1e-3c4a-4e5b-8f6a-1b2c3d4e5f60"},
        "credentials":{"client_secret":"⟦credential:cs_9d8f7a6b5c4e3d2f⟧","password":null,"apiKey":"⟦credential:k-8842-ab19-ff03⟧",
        "SecretAccessKey":"⟦aws-secret-key:p/Zd9P2OLPibRiFuy4G4/XXaZEjKlA916QUW8HXJ⟧","is_secret":false},
        "payment_ids":[4111111111111,⟦card:30569309025904⟧,"⟦card:3530111333300000⟧"],"nl":"⟦iban:NL91ABNA0417164300⟧","amount":"1234.5678",
        "webhook":"https://example.com/hooks?token=abc","id_token":"none","private_key":"-----BEGIN PUBLIC KEY-----"}
        """

    static let all = [supportThread, logExcerpt, codeSnippet, configFile, jsonBlob]
}
