import XCTest
@testable import TVTrainer

final class OpenBLASCoreTypeTests: XCTestCase {
    func testOverrideOnlyReplacesAFallbackOnAnAVX2CPUWhenTheUserSetNothing() {
        XCTAssertEqual(OpenBLASCoreType.override(environment: [:], detected: "Prescott", cpuHasAVX2FMA: true), "Haswell")
        XCTAssertEqual(OpenBLASCoreType.override(environment: [:], detected: "Sandybridge", cpuHasAVX2FMA: true), "Haswell")
        // OpenBLAS recognised the CPU: its choice stands.
        XCTAssertNil(OpenBLASCoreType.override(environment: [:], detected: "Zen", cpuHasAVX2FMA: true))
        XCTAssertNil(OpenBLASCoreType.override(environment: [:], detected: "SkylakeX", cpuHasAVX2FMA: true))
        // The user's setting stands, whatever it is.
        XCTAssertNil(OpenBLASCoreType.override(environment: ["OPENBLAS_CORETYPE": "Prescott"], detected: "Prescott", cpuHasAVX2FMA: true))
        // A CPU without AVX2/FMA must not be handed Haswell kernels (illegal instruction).
        XCTAssertNil(OpenBLASCoreType.override(environment: [:], detected: "Prescott", cpuHasAVX2FMA: false))
    }

    func testDetectedCoreIsReported() {
        XCTAssertFalse(OpenBLASCoreType.detected.isEmpty)
    }
}
