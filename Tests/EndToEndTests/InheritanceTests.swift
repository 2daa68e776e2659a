import Foundation
import PersonaShim
import Testing

extension EndToEnd {
    @Suite struct Inheritance {
        @Test func checkEffectivePrintsTheMergedPersona() throws {
            let scratch = Scratch()
            _ = scratch.write(
                "base.json",
                """
                {
                  "persona": "org-base",
                  "purpose": "The floor.",
                  "owner": "security@example.com",
                  "mode": "enforce",
                  "servers": {"crm": {"command": "persona-shim", "args": ["example-server", "crm"]}},
                  "tools": {"allow": ["crm__*"], "deny": ["*__delete_*"]},
                  "timeouts": {"callSeconds": 60},
                  "limits": [{"id": "org-budget", "calls": 500}]
                }
                """)
            let path = scratch.write(
                "reader.json",
                """
                {
                  "extends": "base.json",
                  "persona": "support-reader",
                  "purpose": "Reads tickets.",
                  "owner": "support@example.com",
                  "reviewBy": "2099-01-01",
                  "tools": {"allow": ["crm__get_*", "crm__search_tickets"], "deny": ["crm__get_secret"]},
                  "timeouts": {"callSeconds": 600},
                  "limits": [{"id": "reader-rate", "calls": 10, "per": "1m"}]
                }
                """)
            let result = try runShim(["check", "--effective", path])
            #expect(result.status == .exited(0), "\(result.stderr)")
            #expect(
                result.stdout == """
                    {
                      "persona": "support-reader",
                      "purpose": "Reads tickets.",
                      "owner": "support@example.com",
                      "mode": "enforce",
                      "servers": {
                        "crm": {
                          "command": "persona-shim",
                          "args": [
                            "example-server",
                            "crm"
                          ]
                        }
                      },
                      "tools": {
                        "allow": [
                          "crm__get_*",
                          "crm__search_tickets"
                        ],
                        "deny": [
                          "*__delete_*",
                          "crm__get_secret"
                        ]
                      },
                      "timeouts": {
                        "callSeconds": 60
                      },
                      "limits": [
                        {
                          "id": "org-budget",
                          "calls": 500
                        },
                        {
                          "id": "reader-rate",
                          "calls": 10,
                          "per": "1m"
                        }
                      ],
                      "reviewBy": "2099-01-01"
                    }

                    """)
            #expect(result.stderr.contains("persona digest sha256:"))
            #expect(result.stderr.contains("read from \(path), \(scratch.path)/base.json"))
            // The printed persona is a persona file: it checks on its own, with no "extends".
            let flat = scratch.write("flat.json", result.stdout)
            #expect(try runShim(["check", flat]).status == .exited(0))
        }

        @Test func checkShowsTheChainOfAMissingBase() throws {
            let scratch = Scratch()
            let path = scratch.write(
                "reader.json", #"{"extends": "gone.json", "persona": "p", "purpose": "x", "owner": "o", "tools": {}}"#)
            let result = try runShim(["check", path])
            #expect(result.status == .exited(1))
            #expect(
                result.stderr.contains(
                    "\(path):1:13: error: cannot open the base persona \"gone.json\" (\(scratch.path)/gone.json): no such file; chain: \(path) → \(scratch.path)/gone.json"
                ))
        }
    }
}
