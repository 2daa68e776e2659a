import Platform

/// The one way a server process is taken down, for shutdown and restarts alike (and, later, a server removed on
/// reload): its stdin is closed and it gets `grace` to leave; then its whole process group gets SIGTERM and
/// `grace` again; then SIGKILL. The plan is a value that says what to do when; the shell sends the signals and
/// tells it whether anything of the group is left. It never blocks.
struct Teardown: Equatable {
    enum Step: Equatable {
        /// Its stdin is closed; it may leave by itself.
        case inputClosed
        case terminated
        case killed
        case done
    }

    enum Order: Equatable {
        case signal(Int32)
        case wait
        case done
    }

    private(set) var step: Step = .inputClosed
    private(set) var deadline: UInt64
    let grace: UInt64

    /// Starts with the input closed; `skipGrace` sends SIGTERM at once (a process that already failed).
    init(now: UInt64, grace: UInt64, skipGrace: Bool = false) {
        self.grace = grace
        self.deadline = skipGrace ? now : now + grace
    }

    /// What to do now, given whether any process of the group remains.
    mutating func advance(now: UInt64, groupRemains: Bool) -> Order {
        guard groupRemains else {
            step = .done
            return .done
        }
        guard now >= deadline else { return .wait }
        switch step {
        case .inputClosed:
            step = .terminated
            deadline = now + grace
            return .signal(SIGTERM)
        case .terminated:
            step = .killed
            // SIGKILL cannot be ignored; what is left is only waiting to be reaped.
            deadline = now + 1_000_000_000
            return .signal(SIGKILL)
        case .killed, .done:
            // Past this a process is unkillable (stuck in the kernel) or not ours to reap: stop trying.
            step = .done
            return .done
        }
    }

    var isDone: Bool { step == .done }
}
