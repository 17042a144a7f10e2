/// In-place byte swapping of big-endian data into little-endian order.
enum HDF5ByteSwap {
    static func swap(_ buffer: UnsafeMutableRawBufferPointer, unit: Int) {
        guard let base = buffer.baseAddress else { return }
        let n = buffer.count / unit
        switch unit {
        case 2:
            let p = base.assumingMemoryBound(to: UInt16.self)
            for i in 0..<n { p[i] = p[i].byteSwapped }
        case 4:
            let p = base.assumingMemoryBound(to: UInt32.self)
            for i in 0..<n { p[i] = p[i].byteSwapped }
        case 8:
            let p = base.assumingMemoryBound(to: UInt64.self)
            for i in 0..<n { p[i] = p[i].byteSwapped }
        default:
            for i in 0..<n {
                for j in 0..<(unit / 2) { buffer.swapAt(i * unit + j, i * unit + unit - 1 - j) }
            }
        }
    }
}
