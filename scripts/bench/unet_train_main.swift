// Driver of scripts/bench/unet_train.sh, compiled into the TVTrainer module with the UNet sources.
// Usage: unet_train train|eval THREADS STEPS [BATCH=64]. Prints "<rate> <CPU ms per step>":
// steps/s for train (forward, MSE, backward, grad-norm clip, AdamW + EMA), images/s for eval
// (UNet2DModel.predict: the evaluation pass, which keeps nothing for backward).
// THREADS > 1 runs one model instance per thread on equal slices of the batch (shared
// parameters, gradients summed), each with single-threaded OpenBLAS, as the trainer does.
import COpenBLAS
import Foundation

let args = CommandLine.arguments
let mode = args[1], threads = Int(args[2])!, steps = Int(args[3])!, B = args.count > 4 ? Int(args[4])! : 64
openblas_set_num_threads(1)
// TVTOOL_UNET_DIRECT=0/1 forces the im2col or the direct 3×3 conv path (A/B runs of the kernels).
if let v = ProcessInfo.processInfo.environment["TVTOOL_UNET_DIRECT"] { Conv2d.directKernels = v == "1" }
let config = UNetConfig(sampleSize: 32, blockOutChannels: [32, 64], downBlockTypes: [.down, .attnDown],
                        upBlockTypes: [.attnUp, .up], layersPerBlock: 2, attentionHeadDim: nil, normNumGroups: 8)
let model = UNet2DModel(config: config, seed: 0)
let models = [model] + (1..<threads).map { _ in UNet2DModel(sharingParametersOf: model) }
let D = config.dataDimension
let slices = (0..<threads).map { i in (i * B / threads)..<((i + 1) * B / threads) }

var rng = TrainerRandom(seed: 1)
let dataset = rng.normals(512 * D)
var abar = [Double](), prod = 1.0
for k in 0..<1000 { prod *= 1 - (1e-4 + (0.02 - 1e-4) * Double(k) / 999); abar.append(prod) }
let sa = abar.map { Float($0.squareRoot()) }, sn = abar.map { Float((1 - $0).squareRoot()) }

let xt = FloatBuffer(count: B * D), eps = FloatBuffer(count: B * D), out = FloatBuffer(count: B * D), dOut = FloatBuffer(count: B * D)
let opt = AdamW(parameterCount: model.parameterCount, settings: AdamWSettings(learningRate: 1e-4))
let ema = FloatBuffer(count: model.parameterCount)
ema.assign(model.parameters)
var t = [Int](repeating: 0, count: B)

func makeBatch() {
    rng.fillNormal(eps.buffer)
    for b in 0..<B {
        let i = rng.int(in: 0..<512), ti = rng.int(in: 0..<1000)
        t[b] = ti
        for j in 0..<D { xt[b * D + j] = sa[ti] * dataset[i * D + j] + sn[ti] * eps[b * D + j] }
    }
}

func step(_ n: Int, train: Bool) {
    makeBatch()
    let ts = t
    DispatchQueue.concurrentPerform(iterations: threads) { k in
        let r = slices[k], m = models[k]
        guard train else {
            m.predict(x: xt.pointer + r.lowerBound * D, t: Array(ts[r]), out: out.pointer + r.lowerBound * D)
            return
        }
        m.forward(x: xt.pointer + r.lowerBound * D, t: Array(ts[r]), out: out.pointer + r.lowerBound * D)
        let scale = 2 / Float(B * D)
        for i in (r.lowerBound * D)..<(r.upperBound * D) { dOut[i] = scale * (out[i] - eps[i]) }
        m.backward(dOut: dOut.pointer + r.lowerBound * D)
    }
    guard train else { return }
    // Sum the instances' gradients into the first; the last addition happens inside the norm pass.
    if threads > 2 { for k in 1..<(threads - 1) { Tensor4.add(models[k].gradients.pointer, into: model.gradients.pointer, count: model.parameterCount) } }
    let norm = threads == 1 ? gradientNorm(model.gradients) : gradientNorm(model.gradients, adding: models[threads - 1].gradients)
    let decay = Float(min(0.9999, 1 - pow(Double(n), -0.75)))
    opt.update(params: model.parameters, grads: model.gradients, lr: 1e-4, gradientScale: min(1, 1 / max(norm, 1e-12)),
               ema: (ema, decay), threads: threads)
}

let train = mode == "train"
for n in 1...2 { step(n, train: train) }
var usage = rusage()
func cpuSeconds() -> Double {
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}
let t0 = Date(), c0 = cpuSeconds()
for n in 3..<(3 + steps) { step(n, train: train) }
let wall = Date().timeIntervalSince(t0), cpu = cpuSeconds() - c0
let rate = train ? Double(steps) / wall : Double(steps * B) / wall
print(String(format: "%.2f %.1f", rate, 1000 * cpu / Double(steps)))
