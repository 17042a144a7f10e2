import Dispatch
import TVEngine
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SIGINT/SIGTERM during a streaming command: the first signal cancels the pass (the writer is
/// aborted, its temporary file removed, the command exits with an error); a second one kills the
/// process as usual.
enum InterruptHandling {
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []
    static let cancellation = Cancellation()

    static func install() -> Cancellation {
        guard sources.isEmpty else { return cancellation }
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                cancellation.cancel()
                signal(sig, SIG_DFL)
            }
            source.resume()
            sources.append(source)
        }
        return cancellation
    }
}
