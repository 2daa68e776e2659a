// The pipelined phase: one thread writes requests, the calling thread reads answers, a window bounds the gap.

import Dispatch
import Foundation
import Synchronization

/// What the writer thread and the reading thread share.
private final class PipelineState: Sendable {
    let stop = Atomic<Bool>(false)
    let failure = Mutex<String?>(nil)
    let slots: DispatchSemaphore
    let finished = DispatchSemaphore(value: 0)

    init(window: Int) {
        slots = DispatchSemaphore(value: window)
    }
}

/// Keeps `window` tools/call requests in flight until `count` have been answered.
enum Pipeline {
    /// Returns the elapsed seconds from the first request written to the last answer read.
    static func run(peer: Peer, templates: [CallTemplate], count: Int, window: Int) throws(BenchFailure) -> Double {
        let state = PipelineState(window: window)
        let firstID = peer.nextID
        peer.nextID += count
        let fd = peer.input
        let started = monotonicNanoseconds()
        let writer = Thread {
            var line: [UInt8] = []
            line.reserveCapacity(256)
            for index in 0..<count {
                state.slots.wait()
                if state.stop.load(ordering: .relaxed) { break }
                templates[index % templates.count].write(id: firstID + index, into: &line)
                guard line.withUnsafeBytes({ writeAll(fd, $0) }) else {
                    state.failure.withLock { $0 = "writing request \(firstID + index) failed" }
                    break
                }
            }
            state.finished.signal()
        }
        writer.start()
        var answered = 0
        do throws(BenchFailure) {
            while answered < count {
                let line = try peer.readLine(waitingFor: "a pipelined tools/call")
                if case .result = try Wire.classify(line) {
                    answered += 1
                    state.slots.signal()
                }
            }
        } catch {
            state.stop.store(true, ordering: .relaxed)
            state.slots.signal()
            state.finished.wait()
            let writeFailure = state.failure.withLock { $0 }
            throw BenchFailure(error.description + (writeFailure.map { " (\($0))" } ?? ""))
        }
        let elapsed = Double(monotonicNanoseconds() - started) / 1e9
        state.finished.wait()
        return elapsed
    }
}
