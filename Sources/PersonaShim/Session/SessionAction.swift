/// What the session core asks of the shell that drives it, beyond bytes to write (those wait in the core's
/// output buffers). The shell performs each and reports back with the matching `SessionCore` event.
enum SessionAction: Equatable {
    /// Start the server's process; answer with `serverStarted` or `serverFailedToStart`.
    case start(server: Int)
    /// The shim gave up on the server: SIGTERM its process group and close its pipes. Its exit is reported with
    /// `serverExited` as usual.
    case stop(server: Int)
    /// Kill whatever is left of the server's old process group, report its exit, then call `serverRestarting`
    /// and start it again.
    case restart(server: Int)
    /// Put a parked call's question to a person out of band (the approval command, `persona-shim approve`);
    /// answer with `approvalAnswered`.
    case askOutOfBand(ApprovalQuestion)
    /// The question was settled another way (or its call was cancelled): stop asking.
    case withdrawQuestion(id: String)
}
