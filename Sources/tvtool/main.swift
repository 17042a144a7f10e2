import ArgumentParser
import Foundation
import TVStorage
import TVTrainer
#if canImport(Glibc)
import Glibc
#endif

/// Entry point with tvtool's exit-code contract: 0 success, 1 usage error, 2 bad input.
/// Parse errors are ArgumentParser's (printed with usage); errors thrown while running print as
/// one line.
func runTVTool() -> Never {
    var command: ParsableCommand
    let arguments: [String]
    do {
        arguments = try ArgumentPrepass.normalize(Array(CommandLine.arguments.dropFirst()))
    } catch {
        Console.error("tvtool: error: " + Console.oneLine((error as? ValidationError)?.message ?? String(describing: error)))
        exit(1)
    }
    do {
        command = try TVTool.parseAsRoot(arguments)
    } catch {
        let code = TVTool.exitCode(for: error)
        if code == .success { TVTool.exit(withError: error) }
        Console.error(TVTool.fullMessage(for: error))
        exit(1)
    }
    // Every command gets the same interrupt handling (temporary files removed, child process
    // groups killed, cancellation flags set, exit 128+signal); no command has to remember it.
    TerminationSignals.install()
    do {
        try command.run()
        exit(0)
    } catch let code as ExitCode {
        exit(code.rawValue)
    } catch let error as ValidationError {
        Console.error("tvtool: error: " + Console.oneLine(error.message))
        exit(1)
    } catch let error as UsageClassifiedError where error.isUsageMistake {
        Console.error("tvtool: error: " + Console.oneLine(String(describing: error)))
        exit(1)
    } catch let error as CleanExit {
        TVTool.exit(withError: error)
    } catch where TVTool.exitCode(for: error) == .success {
        // `tvtool CMD --help` / `tvtool help CMD`: ArgumentParser throws a help request (success).
        TVTool.exit(withError: error)
    } catch {
        Console.error("tvtool: error: " + Console.oneLine(String(describing: error)))
        exit(2)
    }
}

/// OpenBLAS reads OPENBLAS_CORETYPE only when it loads: when its CPU detection fell back to
/// pre-AVX2 kernels on a CPU with AVX2 and FMA, run this same binary once more with the override
/// (the variable is then set, so this happens at most once). If exec fails, carry on as is.
func selectBLASKernels() {
    guard let core = OpenBLASCoreType.override(environment: ProcessInfo.processInfo.environment) else { return }
    setenv(OpenBLASCoreType.variable, core, 1)
    execv("/proc/self/exe", CommandLine.unsafeArgv)
}

selectBLASKernels()
runTVTool()
