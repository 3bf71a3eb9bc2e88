// The umbrella module: `import Fluxion` brings in everything users need. It only re-exports.
@_exported import FluxionCore
@_exported import FluxionAutograd
