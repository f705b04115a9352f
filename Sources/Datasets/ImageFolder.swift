/// A labelled image set stored as files, one folder per class (Keras's
/// `flow_from_directory`): `root/<class>/*.png|*.jpg|*.jpeg`. The classes are the subfolders
/// of `root` in sorted order (class i is the i-th name), the files of each class are taken in
/// sorted order, and names starting with "." or with other extensions are skipped (as are
/// folders inside class folders). Every image is decoded once at load (`ImageCodec`: RGB),
/// resized to `height × width` (`ImageResize.bilinear`) and kept as bytes in one buffer.
public enum ImageFolder {
    /// File extensions read, compared without case.
    public static let extensions: Set<String> = ["png", "jpg", "jpeg"]

    /// The sorted class folder names of `root`; no class folder is an `.emptyFolder` error.
    public static func classNames(in root: String) throws -> [String] {
        let names = try DataFile.list(root).filter { !$0.hasPrefix(".") && DataFile.isDirectory(DataFile.join(root, $0)) }
        guard !names.isEmpty else {
            throw DataError(.emptyFolder, file: root, "one subfolder per class expected (\(root)/<class>/*.png|jpg|jpeg), found none")
        }
        return names
    }

    /// The image files of one class folder, sorted; none is an `.emptyFolder` error.
    public static func imageFiles(in folder: String) throws -> [String] {
        let files = try DataFile.list(folder).filter { name in
            guard !name.hasPrefix("."), let dot = name.lastIndex(of: ".") else { return false }
            return extensions.contains(name[name.index(after: dot)...].lowercased()) && DataFile.isFile(DataFile.join(folder, name))
        }
        guard !files.isEmpty else {
            throw DataError(.emptyFolder, file: folder, "at least one .png, .jpg or .jpeg image expected, found none")
        }
        return files.map { DataFile.join(folder, $0) }
    }

    /// Reads the images under `root` at `height × width`: all of them, or with `limit` that many
    /// at evenly spaced places of the sorted list (k·n / limit), so every class keeps its share.
    /// With `classNames`, the class folders must be exactly those (a test split must have the
    /// training split's classes).
    public static func load(from root: String, height: Int, width: Int, limit: Int? = nil, classNames expected: [String]? = nil,
                            name: String? = nil) throws -> ImageDataset {
        guard DataFile.isDirectory(root) else { throw DataError(.unreadable, file: root, "no such folder") }
        let classes = try classNames(in: root)
        if let expected, classes != expected {
            throw DataError(.countMismatch, file: root, "class folders \(expected.joined(separator: ", ")) expected (those of the training split), found \(classes.joined(separator: ", "))")
        }
        var files = try classes.enumerated().flatMap { label, name in
            try imageFiles(in: DataFile.join(root, name)).map { (path: $0, label: Int32(label)) }
        }
        if let limit, limit < files.count { files = (0..<limit).map { files[$0 * files.count / limit] } }
        let size = height * width * 3
        var pixels = [UInt8](repeating: 0, count: files.count * size)
        try pixels.withUnsafeMutableBufferPointer { out in
            for (k, file) in files.enumerated() {
                try ImageCodec.decode(DataFile.readRaw(file.path), file: file.path) { rgb, h, w in
                    ImageResize.bilinear(rgb, height: h, width: w, channels: 3, into: out.baseAddress! + k * size, height: height, width: width)
                }
            }
        }
        let labels = files.map(\.label)
        return ImageDataset(name: name ?? root, height: height, width: width, channels: 3, classNames: classes,
                            pixels: pixels, labels: labels)
    }
}
