import COpenBLAS
import CKernels

/// Which OpenBLAS kernel set tvtool should ask for, when the library's own choice is a fallback.
///
/// Debian 12's OpenBLAS 0.3.21 picks its kernels from the CPU's model number when it loads. On a
/// CPU it does not know — virtual machines that report a generic "Intel(R) Xeon(R) Processor" do
/// this — it falls back to Prescott's SSE3 kernels, which run the trainer's GEMMs at about half
/// speed although the CPU has AVX2 and FMA. OpenBLAS reads OPENBLAS_CORETYPE only while loading,
/// so the CLI re-executes itself once with the override (see main.swift). Haswell, not SkylakeX:
/// this OpenBLAS's AVX-512 kernels have computed wrong results on some of these CPUs.
public enum OpenBLASCoreType {
    /// The environment variable OpenBLAS reads at load time.
    public static let variable = "OPENBLAS_CORETYPE"

    /// Kernel sets OpenBLAS falls back to that use neither AVX2 nor FMA.
    static let preAVX2Cores: Set<String> = [
        "prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "sandybridge", "katmai",
        "coppermine", "northwood", "banias", "opteron", "opteron_sse3", "barcelona", "bobcat",
        "bulldozer", "piledriver", "steamroller", "unknown",
    ]

    /// The kernel set OpenBLAS chose when it loaded.
    public static var detected: String { String(cString: openblas_get_corename()) }

    /// "Haswell" when the user set no override, OpenBLAS fell back to pre-AVX2 kernels and the CPU
    /// has AVX2 and FMA; nil otherwise (the user's or OpenBLAS's choice stands).
    public static func override(environment: [String: String], detected: String = detected,
                                cpuHasAVX2FMA: Bool = tv_cpu_has_avx2_fma() != 0) -> String? {
        guard environment[variable] == nil, cpuHasAVX2FMA,
              preAVX2Cores.contains(detected.lowercased()) else { return nil }
        return "Haswell"
    }
}
