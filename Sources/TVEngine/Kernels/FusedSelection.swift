import CKernels
import Foundation
import TVStorage

/// MagnitudeSelector's thresholds (the exact k-th largest bits(|tau_i|) per model and rank, same
/// ties) from one read of the tensor: the first pass reads the operands into a `ResidentCopy`
/// while `tv_magnitude_coarse` counts 2,048 bins per model (top 11 bits; L1-resident counters);
/// the second pass, over the copy, collects the bits of just the values in each rank's bin (a few
/// percent of them); an exact selection over that list gives the threshold. The merge then reads
/// the copy too: one read from the page cache per tensor, as task arithmetic.
enum FusedSelection {
    static let bins = Int(TV_SELECT_BINS)
    static let perModel = Int(TV_SELECT_COPIES) * Int(TV_SELECT_BINS)

    /// nil when the kernels cannot run the tensor, or when the rank bins hold so many values
    /// (heavily tied magnitudes) that the caller's two histogram passes are cheaper in memory.
    static func thresholds(ranks: [[Int]], operands: TensorOperands, runner: ChunkRunner) -> [[UInt32]]? {
        let n = operands.elementCount, models = operands.models.count
        guard FusedSparse.available, n > 0, models > 0, ranks.count == models, let codes = OperandCodes(operands) else { return nil }
        let workers = runner.workers
        let hist = UnsafeMutablePointer<UInt32>.allocate(capacity: workers * models * perModel)
        let segments = min(runner.segmentCount(elements: n), (n + ChunkRunner.chunkElements - 1) / ChunkRunner.chunkElements)
        hist.initialize(repeating: 0, count: segments * models * perModel)
        defer { hist.deallocate() }

        // Pass 1: read (into the resident copy, kept for the later passes) and count.
        var filling: ResidentCopy?
        if !(operands.resident.copy?.filled ?? false) {
            filling = ResidentCopy.make(for: operands, buffer: runner.residentBuffer)
            operands.resident.copy = filling
        }
        let h = SendablePointer(hist)
        runner.forEachRawBlock(operands, filling: filling) { block in
            let counters: [UnsafeMutablePointer<UInt32>?] = (0..<models).map { h.pointer + (block.segment * models + $0) * perModel }
            block.models.withUnsafeBufferPointer { m in
                tv_magnitude_coarse(block.base, codes.base, m.baseAddress, codes.models, codes.isTaskVector, Int32(models), block.count, counters)
            }
        }
        filling?.markFilled()

        // Each rank's bin and its rank inside the bin, from the summed counts.
        let maxRanks = max(1, ranks.map(\.count).max() ?? 1)
        var result = ranks.map { $0.map { _ in MagnitudeSelector.keepAll } }
        var targets = [Int32](repeating: -1, count: models * maxRanks)
        var inBin = [Int](repeating: 0, count: models * maxRanks)  // 1-based rank from the top inside the bin
        var candidates = 0
        for m in 0..<models {
            var counts = [Int](repeating: 0, count: bins)
            for s in 0..<segments { sum(hist + (s * models + m) * perModel, into: &counts) }
            for (r, k) in ranks[m].enumerated() {
                if k <= 0 { result[m][r] = MagnitudeSelector.keepNothing; continue }
                if k >= n { continue }
                var above = 0, b = bins - 1
                while above + counts[b] < k { above += counts[b]; b -= 1 }
                targets[m * maxRanks + r] = Int32(b)
                inBin[m * maxRanks + r] = k - above
                candidates += counts[b]
            }
        }
        guard candidates > 0 else { return result }
        guard candidates <= n + (1 << 16) else { return nil }

        // Pass 2: each segment appends its values of a target bin at its own offset (its count).
        let slots = models * maxRanks
        let list = UnsafeMutablePointer<UInt32>.allocate(capacity: candidates + 8 * segments * slots)
        defer { list.deallocate() }
        let cursors = UnsafeMutablePointer<UnsafeMutablePointer<UInt32>?>.allocate(capacity: 2 * segments * slots)
        defer { cursors.deallocate() }
        cursors.initialize(repeating: nil, count: 2 * segments * slots)
        var start = [Int](repeating: 0, count: slots)
        var offset = 0
        for slot in 0..<slots where targets[slot] >= 0 {
            start[slot] = offset
            for s in 0..<segments {
                let c = segmentCount(hist, segment: s, model: slot / maxRanks, models: models, bin: Int(targets[slot]))
                cursors[s * slots + slot] = list + offset  // cursor
                cursors[(segments + s) * slots + slot] = list + offset + c  // end
                offset += c + 8  // the kernel's slack
            }
        }
        let cur = SendablePointer(cursors), bins = targets
        runner.forEachRawBlock(operands) { block in
            block.models.withUnsafeBufferPointer { m in
                tv_magnitude_collect(block.base, codes.base, m.baseAddress, codes.models, codes.isTaskVector, Int32(models), block.count,
                                     bins, Int32(maxRanks), cur.pointer + block.segment * slots, cur.pointer + (segments + block.segment) * slots)
            }
        }
        // Every segment must have found exactly the values it counted (the bytes did not change).
        for s in 0..<segments {
            for slot in 0..<slots where targets[slot] >= 0 && cursors[s * slots + slot] != cursors[(segments + s) * slots + slot] {
                return nil
            }
        }
        for slot in 0..<slots where targets[slot] >= 0 {
            // Close the slack between the segments' ranges, then select over the bin's values.
            var c = 0
            for s in 0..<segments {
                let k = segmentCount(hist, segment: s, model: slot / maxRanks, models: models, bin: Int(targets[slot]))
                let from = cursors[(segments + s) * slots + slot]! - k
                if from != list + start[slot] + c { memmove(list + start[slot] + c, from, k * 4) }  // ranges may overlap
                c += k
            }
            // The inBin-th largest of the bin's values is the k-th largest of the tensor.
            result[slot / maxRanks][slot % maxRanks] = tv_select_u32(list + start[slot], c, c - inBin[slot])
        }
        return result
    }

    /// Adds one model's interleaved counter copies into `counts`.
    private static func sum(_ h: UnsafeMutablePointer<UInt32>, into counts: inout [Int]) {
        for c in 0..<Int(TV_SELECT_COPIES) {
            let copy = h + c * bins
            for b in 0..<bins { counts[b] += Int(copy[b]) }
        }
    }

    private static func segmentCount(_ hist: UnsafeMutablePointer<UInt32>, segment s: Int, model m: Int, models: Int, bin: Int) -> Int {
        let h = hist + (s * models + m) * perModel
        return (0..<Int(TV_SELECT_COPIES)).reduce(0) { $0 + Int(h[$1 * bins + bin]) }
    }
}
