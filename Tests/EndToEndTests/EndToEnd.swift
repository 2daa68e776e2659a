import Testing

/// Every end-to-end test runs the real binary with real child processes; they run one at a time so that
/// timing-sensitive checks (timeouts, shutdown) are not skewed by each other on a 2-core machine.
@Suite(.serialized) enum EndToEnd {}
