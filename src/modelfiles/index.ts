// Model files: safetensors headers and tensors (our own reader; the writer is a test helper), checkpoint inspection,
// weight-space similarity, and the one-round-trip remote header scan. No `vscode` here.
//
//   loadAndInspect(dir)           → report (never throws on bad files) + the Checkpoint for further reads
//   new LocalCheckpointCache().get(dir) → the same, re-read only when the directory changes
//   readCheckpoint(dir)           → Checkpoint (headers only); readSafetensorsHeader(file)
//   blockSimilarity(checkpoint)   → cosine of adjacent blocks, streamed
//   checkpointScan                → the RemoteScan for src/remote/remoteModelCache.ts
export { DTYPE_SIZES, MAX_HEADER_BYTES, parseSafetensors, SafetensorsError } from './safetensors';
export type { SafetensorsErrorCode, SafetensorsHeader, TensorInfo } from './safetensors';
export { assembleCheckpoint, checkpointDataBytes, INDEX_FILE, parseIndex, SINGLE_FILE } from './checkpoint';
export type { Checkpoint, CheckpointIndex, CheckpointTensor, ShardHeader } from './checkpoint';
export { createTensorStream, readCheckpoint, readSafetensorsHeader, ShardReader } from './files';
export { decodeToFloat32, encodeFromFloat32 } from './dtype';
export { inspect } from './inspect';
export { FileRefusedError, kindOf, notRegularFile, openRegularFile, readRegularFile, readRegularFileSync } from './regularFile';
export type { AttentionLayout, CheckpointDiagnostic, CheckpointReport, CheckpointSeverity, DtypeSummary, LayerReport } from './inspect';
export { loadAndInspect, LocalCheckpointCache } from './inspectDir';
export type { InspectedCheckpoint } from './inspectDir';
export { blockSimilarity, similaritySeries } from './similarity';
export type { BlockPairSimilarity, SimilarityOptions, SimilarityReport, TensorSimilarity } from './similarity';
export { checkpointFromScan, checkpointScan, inspectScan, parseScanOutput, scanCommand } from './remoteScan';
export type { RemoteCheckpoint, RemoteScanOutput } from './remoteScan';
