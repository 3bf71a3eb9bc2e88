// Where notebooks put their pictures: the folder given as `--output DIR`, else
// `.build/notebook-output/` under the current folder, always as an absolute path so a notebook
// can print where to look.

import Foundation

/// The folder notebooks write their pictures to: the one given as `--output DIR`, else
/// `.build/notebook-output/` under the current folder; created when missing, as an absolute
/// path.
public let outputFolder: URL = {
    let arguments = CommandLine.arguments
    let given = arguments.firstIndex(of: "--output").flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
    let current = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
    let folder = given.map { URL(fileURLWithPath: $0, isDirectory: true, relativeTo: current).standardizedFileURL }
        ?? current.appendingPathComponent(".build/notebook-output", isDirectory: true)
    do {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    } catch {
        fatalError("cannot create the output folder \(folder.path): \(error). Fix: pass --output with a folder you can write to")
    }
    return folder
}()

/// Where a notebook writes the picture `name` (in `outputFolder`).
public func outputURL(_ name: String) -> URL { outputFolder.appendingPathComponent(name) }

/// Writes `figure` as SVG to `name` in the output folder and returns its absolute path.
@discardableResult
public func writeSVG(_ figure: Figure, named name: String) throws -> String {
    let url = outputURL(name)
    try figure.svg().write(to: url, atomically: true, encoding: .utf8)
    return url.path
}
