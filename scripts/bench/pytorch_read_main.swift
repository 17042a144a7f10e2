// Reads every tensor of a PyTorch .bin and of a .safetensors holding the same tensors, touching
// every byte (a checksum over 64-bit words), and prints throughput and the ratio. Built by
// scripts/bench/pytorch_read.sh together with the library's TVStorage sources (-O).
import Foundation

let args = CommandLine.arguments
guard args.count == 4, let rounds = Int(args[3]) else {
    print("usage: pytorch_read <model.bin> <model.safetensors> <rounds>")
    exit(1)
}

/// Opens the checkpoint and sums every 8-byte word of every tensor (the file is in the page cache).
func readAll(_ path: String, verify: Bool) throws -> (bytes: Int, sum: UInt64) {
    let reader: any CheckpointReader = path.hasSuffix(".bin")
        ? try PyTorchReader(path: path, verifyStorageChecksums: verify) : try Checkpoints.open(path)
    var sum: UInt64 = 0, bytes = 0
    for info in reader.tensors {
        let t = try reader.tensor(named: info.name)
        let words = t.byteCount / 8
        let p = t.storage.base
        var s: UInt64 = 0
        for i in 0 ..< words { s &+= p.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self) }
        sum &+= s
        bytes += t.byteCount
    }
    return (bytes, sum)
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
}

let variants: [(String, String, Bool)] = [
    ("safetensors", args[2], false),
    ("pytorch (CRC on first read)", args[1], true),
    ("pytorch (no CRC)", args[1], false),
]
var times = [[Double]](repeating: [], count: variants.count)
var totals = [(Int, UInt64)](repeating: (0, 0), count: variants.count)
for (i, v) in variants.enumerated() { totals[i] = try readAll(v.1, verify: v.2) }  // warm the page cache
guard totals[0] == totals[1], totals[1] == totals[2] else {
    print("MISMATCH: the files do not hold the same bytes \(totals)")
    exit(1)
}
for _ in 0 ..< rounds {  // alternate A/B/C so load on the machine hits all alike
    for (i, v) in variants.enumerated() { times[i].append(try seconds { _ = try readAll(v.1, verify: v.2) }) }
}
let gb = Double(totals[0].0) / 1e9
var medians: [Double] = []
for (i, v) in variants.enumerated() {
    let sorted = times[i].sorted()
    let median = sorted[sorted.count / 2]
    medians.append(median)
    print(v.0.padding(toLength: 28, withPad: " ", startingAt: 0) + String(format: " %.3f GB  median %.3f s  %.2f GB/s  (best %.3f s)", gb, median, gb / median, sorted[0]))
}
print(String(format: "ratio pytorch/safetensors time: %.2f with CRC, %.2f without", medians[1] / medians[0], medians[2] / medians[0]))
