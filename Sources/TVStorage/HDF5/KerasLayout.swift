/// Readable tensor names for Keras weight files, on top of the generic path names.
///
/// - Keras 3 `.weights.h5`: variables are stored positionally at `layers/<layer>/vars/<i>`
///   (nested models repeat `layers/<name>`, the optimizer uses `optimizer/vars/<i>`). The file
///   has no variable names, so the tensor is named by its layer path and index with the `layers`
///   and `vars` containers dropped: `layers/dense/vars/0` → `dense.0`,
///   `layers/functional/layers/conv2d/vars/1` → `functional.conv2d.1`, `optimizer/vars/3` →
///   `optimizer.3`. The model's own `vars/<i>` keeps its name (`vars.0`). Keras 2.13 files use
///   `_layer_checkpoint_dependencies` in place of `layers` and are named the same way.
/// - Keras 2 `.h5` (legacy): the root (or `/model_weights` in a full-model save) lists
///   `layer_names`; each layer group lists `weight_names` like `dense/kernel:0`, stored as
///   datasets at `<layer>/<weight name>`. The tensor is `<layer>.<weight name>` with the `:N`
///   suffix dropped and the leading layer name not repeated: `dense.kernel`, `dense.bias`;
///   nested models keep their inner path (`sequential.dense_1.kernel`). Datasets not listed
///   (optimizer weights) keep their generic path names.
enum KerasLayout: String, Sendable {
    case keras3 = "Keras 3 weights"
    case keras2 = "Keras 2 weights"

    /// The layout of a file and the names it gives to dataset paths (others keep generic names).
    static func detect(_ structure: HDF5FileStructure, tensorPaths: [String]) -> (KerasLayout, [String: String])? {
        // A layout counts only if it names something: a tvtool-converted file carries Keras
        // attributes (`layer_names` as metadata text) without the Keras structure.
        if let names = keras2Names(structure, tensorPaths: Set(tensorPaths)), !names.isEmpty { return (.keras2, names) }
        if let names = keras3Names(structure, tensorPaths: tensorPaths), !names.isEmpty { return (.keras3, names) }
        return nil
    }

    /// Told in the reader's notes so a user knows where the names came from.
    var namingNote: String {
        switch self {
        case .keras3: return "Keras 3 weights file: layers/<layer>/vars/<i> listed as <layer>.<i> (the file stores no variable names)"
        case .keras2: return "Keras 2 weights file: <layer>/<weight>:N listed as <layer>.<weight>"
        }
    }

    // MARK: Keras 3

    private static let layerContainers: Set<Substring> = ["layers", "_layer_checkpoint_dependencies"]

    static func keras3Names(_ structure: HDF5FileStructure, tensorPaths: [String]) -> [String: String]? {
        let groups = Set(structure.groups)
        guard groups.contains("layers") || groups.contains("_layer_checkpoint_dependencies"), !tensorPaths.isEmpty else { return nil }
        var names: [String: String] = [:]
        for path in tensorPaths {
            let parts = path.split(separator: "/")
            // Every variable sits at .../vars/<index>; anything else means this is not Keras 3.
            guard parts.count >= 2, parts[parts.count - 2] == "vars", HDF5Naming.isNumeric(parts[parts.count - 1]) else { return nil }
            var kept: [Substring] = []
            for (i, part) in parts.enumerated() {
                if i == parts.count - 2 { continue }  // "vars"
                if layerContainers.contains(part) && i < parts.count - 3 { continue }  // "layers" before a layer name
                kept.append(part)
            }
            names[path] = kept.count >= 2 ? kept.joined(separator: ".") : HDF5Naming.dottedName(path)
        }
        return names
    }

    // MARK: Keras 2

    static func keras2Names(_ structure: HDF5FileStructure, tensorPaths: Set<String>) -> [String: String]? {
        let base: String
        if stringList("layer_names", in: structure.attributes[""] ?? []) != nil {
            base = ""
        } else if stringList("layer_names", in: structure.attributes["model_weights"] ?? []) != nil {
            base = "model_weights"
        } else {
            return nil
        }
        let layers = stringList("layer_names", in: structure.attributes[base] ?? []) ?? []
        var names: [String: String] = [:]
        for layer in layers {
            let groupPath = join(base, layer)
            for weight in stringList("weight_names", in: structure.attributes[groupPath] ?? []) ?? [] {
                let datasetPath = join(groupPath, weight)
                guard tensorPaths.contains(datasetPath) else { continue }
                names[datasetPath] = keras2Name(layer: layer, weight: weight)
            }
        }
        return names
    }

    /// `dense` + `dense/kernel:0` → `dense.kernel`; `model` + `dense/bias:0` → `model.dense.bias`.
    static func keras2Name(layer: String, weight: String) -> String {
        var w = Substring(weight)
        if let colon = w.lastIndex(of: ":"), HDF5Naming.isNumeric(w[w.index(after: colon)...]) {
            w = w[..<colon]
        }
        var parts = w.split(separator: "/")
        if parts.count > 1 && parts[0] == layer { parts.removeFirst() }
        return ([Substring(layer)] + parts).joined(separator: ".")
    }

    /// A string-list attribute, also when Keras split a long one into `name0`, `name1`, … (it does
    /// so past the 64 KiB object-header limit).
    static func stringList(_ name: String, in attributes: [HDF5Attribute]) -> [String]? {
        if let a = attributes.first(where: { $0.name == name }) { return a.strings }
        var chunks: [String] = []
        var i = 0
        while let a = attributes.first(where: { $0.name == "\(name)\(i)" }), let s = a.strings {
            chunks += s
            i += 1
        }
        return i > 0 ? chunks : nil
    }

    private static func join(_ base: String, _ name: String) -> String { base.isEmpty ? name : base + "/" + name }
}
